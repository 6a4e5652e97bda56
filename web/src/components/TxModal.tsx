import { useEffect, useRef, useState } from 'react';
import { api, atLeast } from '../lib/api';
import { fmtMoney, fmtScore, fmtTime, reasonBreakdown } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';

type Tx = Record<string, unknown> & {
  id: number;
  amount: number;
  quantity: number;
  unit_price: number;
  status: string;
  label: string;
  fraud_score: number;
  is_suspicious: boolean;
  fraud_reasons: unknown;
  customer_id: number;
  product_id: number;
  transaction_time: string;
  country: string | null;
  platform: string | null;
  payment_method: string | null;
  order_number: string | null;
};
type Customer = { id: number; name: string; country: string; city: string; risk_score: number; stats?: { transactions: number; amount: number; suspicious: number } };

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The transaction detail dialog: focus moves in, Tab stays inside, Escape closes, focus returns. */
export function TxModal({ id, onClose, onOpen }: { id: number; onClose: () => void; onOpen: (id: number) => void }) {
  const { role, announce } = useDash();
  const dialog = useRef<HTMLDivElement>(null);
  const [nonce, setNonce] = useState(0);
  const tx = useApi(`${id}|${nonce}`, () => api<Tx>(`/transactions/${id}`));
  const cid = tx.data?.customer_id;
  const cust = useApi(cid ? `c${cid}` : null, () => api<Customer>(`/customers/${cid}`));
  const hist = useApi(cid ? `h${cid}|${nonce}` : null, () => api<{ items: Tx[]; total: number }>('/transactions', { query: { customer_id: cid, limit: 10, sort: '-transaction_time' } }));
  const [labelError, setLabelError] = useState<string | null>(null);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.querySelector<HTMLElement>('.modal-close')?.focus();
    return () => {
      if (previous && document.contains(previous)) previous.focus();
    };
  }, []);
  function onKeyDown(e: React.KeyboardEvent) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !dialog.current) return;
    const f = Array.from(dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((x) => x.offsetParent !== null || x === document.activeElement);
    if (f.length === 0) return;
    const first = f[0];
    const last = f[f.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.current.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }
  async function setLabel(label: 'fraud' | 'legitimate') {
    setLabelError(null);
    try {
      await api(`/transactions/${id}`, { method: 'PATCH', body: JSON.stringify({ label }) });
      announce(`Transaction ${id} labelled ${label}.`);
      setNonce((n) => n + 1);
    } catch (e) {
      setLabelError((e as Error).message);
    }
  }
  const t = tx.data;
  const reasons = t ? reasonBreakdown(t.fraud_reasons) : [];
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={dialog} className="modal" role="dialog" aria-modal="true" aria-labelledby="tx-modal-title" onKeyDown={onKeyDown} data-testid="tx-modal">
        <div className="modal-head">
          <h2 id="tx-modal-title">Transaction {id}</h2>
          <button type="button" className="modal-close" onClick={onClose} aria-label="Close transaction details">
            ✕
          </button>
        </div>
        {tx.error && (
          <p className="state state-error" role="alert">
            Could not load transaction {id}: {tx.error.message}
          </p>
        )}
        {!t && !tx.error && (
          <p className="state state-loading" role="status">
            Loading…
          </p>
        )}
        {t && (
          <div className="modal-body">
            <dl className="facts">
              <dt>Time</dt>
              <dd>{fmtTime(t.transaction_time)}</dd>
              <dt>Amount</dt>
              <dd>
                {fmtMoney(t.amount)} <span className="muted">({t.quantity} × {fmtMoney(t.unit_price)})</span>
              </dd>
              <dt>Status</dt>
              <dd>{t.status}</dd>
              <dt>Label</dt>
              <dd data-testid="tx-label">{t.label}</dd>
              <dt>Product</dt>
              <dd>{t.product_id}</dd>
              <dt>Order</dt>
              <dd>{t.order_number ?? '–'}</dd>
              <dt>Country · platform · payment</dt>
              <dd>
                {t.country ?? '–'} · {t.platform ?? '–'} · {t.payment_method ?? '–'}
              </dd>
            </dl>
            <section aria-labelledby="tx-score-title" className="score-box">
              <h3 id="tx-score-title">
                Fraud score <span className={t.is_suspicious ? 'bad' : 'good'} data-testid="tx-score">{fmtScore(t.fraud_score)}</span> / 100
                {t.is_suspicious && <span className="badge sev-critical"> suspicious</span>}
              </h3>
              {reasons.length === 0 ? (
                <p className="muted">No rule contributed to this score.</p>
              ) : (
                <ol className="reasons" aria-label="Why this score: rules, largest contribution first">
                  {reasons.map((r) => (
                    <li key={r.rule} data-rule={r.rule}>
                      <div className="reason-head">
                        <strong>{r.label}</strong>
                        <span className="num">+{Number(r.contribution ?? 0).toFixed(2)} points</span>
                      </div>
                      <div className="bar" aria-hidden="true">
                        <span style={{ width: `${Math.round(r.share * 100)}%` }} />
                      </div>
                      {r.detail && <p className="small">{r.detail}</p>}
                      <p className="small muted">
                        observed {String(r.observed ?? '–')}, threshold {String(r.threshold ?? '–')}, weight {String(r.weight ?? '–')} · {Math.round(r.share * 100)} % of the score
                      </p>
                    </li>
                  ))}
                </ol>
              )}
            </section>
            {atLeast(role, 'analyst') && (
              <div className="label-actions" role="group" aria-label="Label this transaction">
                <button type="button" onClick={() => setLabel('fraud')}>
                  Mark as fraud
                </button>
                <button type="button" onClick={() => setLabel('legitimate')}>
                  Mark as legitimate
                </button>
                {labelError && (
                  <span className="form-error" role="alert">
                    {labelError}
                  </span>
                )}
              </div>
            )}
            <section aria-labelledby="tx-cust-title">
              <h3 id="tx-cust-title">
                Customer {t.customer_id}
                {cust.data && (
                  <span className="muted">
                    {' '}
                    · {cust.data.name}, {cust.data.city} ({cust.data.country}) · risk {fmtScore(cust.data.risk_score)}
                  </span>
                )}
              </h3>
              {hist.error && <p className="state-error">Could not load the history: {hist.error.message}</p>}
              {hist.data && (
                <div className="table-wrap" tabIndex={0} role="region" aria-label="Customer's recent transactions">
                  <table>
                    <caption className="sr-only">Recent transactions of customer {t.customer_id} ({hist.data.total} in all)</caption>
                    <thead>
                      <tr>
                        <th scope="col">ID</th>
                        <th scope="col">Time (UTC)</th>
                        <th scope="col" className="num">Amount</th>
                        <th scope="col">Country</th>
                        <th scope="col" className="num">Score</th>
                      </tr>
                    </thead>
                    <tbody>
                      {hist.data.items.map((h) => (
                        <tr key={h.id} className={h.is_suspicious ? 'suspicious' : undefined} aria-current={h.id === id ? 'true' : undefined}>
                          <td>
                            {h.id === id ? (
                              <strong>{h.id}</strong>
                            ) : (
                              <button type="button" className="linklike" onClick={() => onOpen(h.id)}>
                                {h.id}
                              </button>
                            )}
                          </td>
                          <td>{fmtTime(h.transaction_time)}</td>
                          <td className="num">{fmtMoney(h.amount)}</td>
                          <td>{h.country ?? '–'}</td>
                          <td className="num">{fmtScore(h.fraud_score)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </div>
        )}
      </div>
    </div>
  );
}
