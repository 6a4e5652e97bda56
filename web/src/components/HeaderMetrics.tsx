import { memo, useEffect } from 'react';
import { fmtChange, fmtInt, fmtMoney, fmtRate, type Metric } from '../lib/format';

export type Overview = Record<string, unknown> & {
  as_of?: string;
  revenue?: Metric;
  orders?: Metric;
  average_order_value?: Metric;
  active_customers?: Metric;
  suspicious_rate?: Metric;
  open_alerts?: Metric;
  new_alerts?: Metric;
};

const cards: { key: string; label: string; fmt: (v: unknown) => string; goodWhenUp: boolean }[] = [
  { key: 'revenue', label: 'Revenue today', fmt: (v) => fmtMoney(v, 2), goodWhenUp: true },
  { key: 'orders', label: 'Orders', fmt: fmtInt, goodWhenUp: true },
  { key: 'average_order_value', label: 'Average order value', fmt: (v) => fmtMoney(v, 2), goodWhenUp: true },
  { key: 'active_customers', label: 'Active customers', fmt: fmtInt, goodWhenUp: true },
  { key: 'suspicious_rate', label: 'Suspicious rate', fmt: (v) => fmtRate(v), goodWhenUp: false },
  { key: 'open_alerts', label: 'Open alerts', fmt: fmtInt, goodWhenUp: false },
];

let marked = false;

export const HeaderMetrics = memo(function HeaderMetrics({ data, loading, error, onRetry }: { data: Overview | null; loading: boolean; error: Error | null; onRetry: () => void }) {
  useEffect(() => {
    if (data && !marked) {
      marked = true;
      performance.mark('techmart:data-shown');
    }
  }, [data]);
  return (
    <section className="metrics" aria-labelledby="metrics-title" data-widget="metrics" data-state={error ? 'error' : data ? 'ready' : 'loading'} aria-busy={loading}>
      <h2 id="metrics-title" className="sr-only">
        Key figures, today against yesterday at the same time
      </h2>
      {error && !data && (
        <div className="state state-error" role="alert">
          Could not load the key figures: {error.message}{' '}
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        </div>
      )}
      <ul className="metric-list">
        {cards.map((c) => {
          const m = data?.[c.key] as Metric | undefined;
          const ch = c.key === 'open_alerts' ? fmtChange(data?.new_alerts) : fmtChange(m);
          const good = ch.direction === 'flat' || ch.direction === 'none' ? 'neutral' : (ch.direction === 'up') === c.goodWhenUp ? 'good' : 'bad';
          return (
            <li key={c.key} className="metric" data-metric={c.key} data-value={m?.value ?? ''}>
              <span className="metric-label">{c.label}</span>
              <span className="metric-value">{data ? c.fmt(m?.value) : loading ? '…' : '–'}</span>
              <span className={`metric-change ${good}`}>
                {data ? (
                  <>
                    <span aria-hidden="true">{ch.direction === 'up' ? '▲ ' : ch.direction === 'down' ? '▼ ' : ''}</span>
                    {c.key === 'open_alerts' ? (
                      // the open alerts' change is the count of new ones, today's against yesterday's
                      <>
                        {fmtInt(data.new_alerts?.value)} new today<span className="muted">, {fmtInt(data.new_alerts?.previous)} yesterday</span>
                      </>
                    ) : (
                      <>
                        {ch.text}
                        <span className="muted"> vs yesterday</span>
                      </>
                    )}
                  </>
                ) : (
                  ' '
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
});
