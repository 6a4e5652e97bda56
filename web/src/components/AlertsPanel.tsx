import { memo, useEffect, useState } from 'react';
import { api, atLeast } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Pager } from './SortTable';
import { Widget } from './Widget';

type Alert = { id: number; type: string; severity: string; status: string; message: string; created_at: string; transaction_id: number | null; customer_id: number | null };

const PAGE = 8;

export const AlertsPanel = memo(function AlertsPanel({ alertTick }: { alertTick: number }) {
  const { role, openTransaction, announce, asOf } = useDash();
  const [status, setStatus] = useState<'open' | 'acknowledged' | 'resolved' | ''>('open');
  const [page, setPage] = useState(1);
  const [busy, setBusy] = useState<number | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // as of a past time: the alerts raised before it (with their status now)
  const { data, error, loading, reload } = useApi(`${status}|${page}|${alertTick}|${asOf ?? ''}`, () =>
    api<{ items: Alert[]; total: number }>('/alerts', { query: { status: status || undefined, to: asOf ?? undefined, limit: PAGE, offset: (page - 1) * PAGE, sort: '-created_at' } }),
  );
  useEffect(() => setPage(1), [asOf]);
  const canAct = atLeast(role, 'analyst');
  async function act(a: Alert, to: 'acknowledged' | 'resolved') {
    setBusy(a.id);
    setActionError(null);
    try {
      await api(`/alerts/${a.id}`, { method: 'PATCH', body: JSON.stringify({ status: to }) });
      announce(`Alert ${a.id} ${to}.`);
      reload();
    } catch (e) {
      setActionError(`Alert ${a.id}: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  }
  const items = data?.items ?? [];
  const pages = Math.ceil((data?.total ?? 0) / PAGE);
  return (
    <Widget
      id="alerts"
      title="Fraud alerts"
      loading={loading}
      error={error}
      empty={!data || items.length === 0}
      emptyText={status === 'open' ? 'No open alerts.' : 'No alerts.'}
      onRetry={reload}
      actions={
        <label className="inline">
          Show{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setPage(1);
            }}
          >
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
            <option value="">all</option>
          </select>
        </label>
      }
    >
      {asOf && <p className="muted small" data-testid="alerts-asof">Raised before {fmtTime(asOf)}, with their status now.</p>}
      {!canAct && <p className="muted small">Read-only: acknowledging and resolving alerts needs the analyst role.</p>}
      {actionError && (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      )}
      <ul className="alerts">
        {items.map((a) => (
          <li key={a.id} className={`alert sev-${a.severity}`} data-alert-id={a.id} data-status={a.status}>
            <div className="alert-head">
              <span className={`badge sev-${a.severity}`}>{a.severity}</span>
              <span className="badge">{a.status}</span>
              <span className="muted small">{fmtTime(a.created_at)}</span>
            </div>
            <p className="alert-msg">{a.message}</p>
            <div className="alert-actions">
              {a.transaction_id && (
                <button type="button" className="linklike" onClick={() => openTransaction(a.transaction_id!)}>
                  Transaction {a.transaction_id}
                </button>
              )}
              {canAct && a.status === 'open' && (
                <button type="button" disabled={busy === a.id} onClick={() => act(a, 'acknowledged')} aria-label={`Acknowledge alert ${a.id}`}>
                  Acknowledge
                </button>
              )}
              {canAct && a.status !== 'resolved' && (
                <button type="button" disabled={busy === a.id} onClick={() => act(a, 'resolved')} aria-label={`Resolve alert ${a.id}`}>
                  Resolve
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {pages > 1 && <Pager page={page} pages={pages} total={data?.total ?? 0} onPage={setPage} label="Alerts" />}
    </Widget>
  );
});
