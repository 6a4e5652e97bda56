import { memo, useEffect, useRef, useState } from 'react';
import { api, downloadCsv } from '../lib/api';
import { fmtAbout, fmtInt, fmtMoney, fmtScore, fmtTime, transactionQuery } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Pager, SortHeader } from './SortTable';
import { Widget } from './Widget';

type Tx = { id: number; transaction_time: string; customer_id: number; product_id: number; amount: number; status: string; country: string | null; fraud_score: number; is_suspicious: boolean };

const cols: { key: keyof Tx; label: string; numeric?: boolean }[] = [
  { key: 'id', label: 'ID', numeric: true },
  { key: 'transaction_time', label: 'Time (UTC)' },
  { key: 'customer_id', label: 'Customer', numeric: true },
  { key: 'amount', label: 'Amount', numeric: true },
  { key: 'status', label: 'Status' },
  { key: 'country', label: 'Country' },
  { key: 'fraud_score', label: 'Score', numeric: true },
];

export const Transactions = memo(function Transactions() {
  const { filters, asOf, refIso, tick, openTransaction, announce } = useDash();
  const [sort, setSort] = useState<{ key: keyof Tx; dir: 'asc' | 'desc' }>({ key: 'transaction_time', dir: 'desc' });
  const [page, setPage] = useState(1);
  const [size, setSize] = useState(10);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  // live: no upper bound (new rows show up); as of: up to that time
  const q = transactionQuery(filters, asOf ? refIso : null);
  const qKey = JSON.stringify(q);
  const lastQ = useRef(qKey);
  useEffect(() => {
    if (lastQ.current !== qKey) {
      lastQ.current = qKey;
      setPage(1);
    }
  }, [qKey]);
  const sortParam = `${sort.dir === 'desc' ? '-' : ''}${sort.key}`;
  const key = `${JSON.stringify(q)}|${sortParam}|${page}|${size}|${tick}`;
  const { data, error, loading, reload } = useApi(key, () => api<{ items: Tx[]; total: number; total_exact?: boolean }>('/transactions', { query: { ...q, sort: sortParam, limit: size, offset: (page - 1) * size } }));
  const items = data?.items ?? [];
  const total = data?.total ?? 0;
  // beyond what the database counts cheaply the total is the planner's estimate (total_exact false)
  const exact = data?.total_exact ?? true;
  const pages = Math.ceil(total / size);
  async function exportCsv() {
    setExporting(true);
    setExportError(null);
    try {
      await downloadCsv('/transactions/export', { ...q, sort: sortParam }, 'transactions.csv');
      announce(exact ? `Exported ${total} transactions.` : 'Exported the matching transactions.');
    } catch (e) {
      setExportError((e as Error).message);
    } finally {
      setExporting(false);
    }
  }
  return (
    <Widget
      id="transactions"
      title="Transactions"
      className="full"
      loading={loading}
      error={error}
      empty={!data || items.length === 0}
      emptyText="No transaction matches the filters."
      onRetry={reload}
      actions={
        <>
          <span className="muted small" data-testid="tx-total" data-value={total} data-exact={exact}>
            {exact ? fmtInt(total) : fmtAbout(total)} matching
          </span>
          <button type="button" onClick={exportCsv} disabled={exporting || total === 0}>
            {exporting ? 'Exporting…' : 'Export CSV'}
          </button>
        </>
      }
    >
      {exportError && (
        <p className="form-error" role="alert">
          Export failed: {exportError}
        </p>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Transactions table">
        <table className="tx-table">
          <caption className="sr-only">Transactions matching the filters, {sort.key} {sort.dir === 'asc' ? 'ascending' : 'descending'}</caption>
          <thead>
            <tr>
              {cols.map((c) => (
                <SortHeader
                  key={c.key}
                  label={c.label}
                  numeric={c.numeric}
                  active={sort.key === c.key}
                  dir={sort.dir}
                  onSort={() => {
                    setSort((s) => ({ key: c.key, dir: s.key === c.key ? (s.dir === 'asc' ? 'desc' : 'asc') : c.numeric || c.key === 'transaction_time' ? 'desc' : 'asc' }));
                    setPage(1);
                  }}
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.id} className={t.is_suspicious ? 'suspicious' : undefined} data-tx-id={t.id}>
                <td className="num">
                  <button type="button" className="linklike" onClick={() => openTransaction(t.id)} aria-label={`Transaction ${t.id}: details`}>
                    {t.id}
                  </button>
                </td>
                <td>{fmtTime(t.transaction_time)}</td>
                <td className="num">{t.customer_id}</td>
                <td className="num" data-col="amount">{fmtMoney(t.amount)}</td>
                <td data-col="status">{t.status}</td>
                <td data-col="country">{t.country ?? '–'}</td>
                <td className="num" data-col="fraud_score">
                  {t.is_suspicious && <span className="flag">Suspicious </span>}
                  {fmtScore(t.fraud_score)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="table-foot">
        <label className="inline">
          Rows per page{' '}
          <select
            value={size}
            onChange={(e) => {
              setSize(Number(e.target.value));
              setPage(1);
            }}
          >
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <Pager page={page} pages={pages} total={total} exact={exact} onPage={setPage} label="Transactions" />
      </div>
    </Widget>
  );
});
