import { memo } from 'react';
import { fmtMoney, fmtScore, fmtTime } from '../lib/format';
import type { TxEvent } from '../lib/stream';
import { useDash } from '../context';
import { Widget } from './Widget';

export type FeedRow = TxEvent;

const Row = memo(function Row({ t, onOpen }: { t: FeedRow; onOpen: (id: number) => void }) {
  return (
    <li className={`feed-row${t.is_suspicious ? ' suspicious' : ''}`} data-tx-id={t.id} data-suspicious={t.is_suspicious ? 'true' : 'false'}>
      <button type="button" className="linklike" onClick={() => onOpen(t.id)} aria-label={`Transaction ${t.id}, ${fmtMoney(t.amount)}, score ${fmtScore(t.fraud_score)}${t.is_suspicious ? ', suspicious' : ''}: details`}>
        #{t.id}
      </button>
      <span className="feed-time">{fmtTime(t.time, false).replace(' UTC', '')}</span>
      <span className="feed-cust">customer {t.customer_id}</span>
      <span className="num feed-amount">{fmtMoney(t.amount)}</span>
      <span className={`score${t.is_suspicious ? ' bad' : ''}`}>
        {t.is_suspicious && <span className="flag">Suspicious </span>}
        {fmtScore(t.fraud_score)}
      </span>
    </li>
  );
});

export const LiveFeed = memo(function LiveFeed({ rows, loading, error, onRetry, paused, onPause }: { rows: FeedRow[]; loading: boolean; error: Error | null; onRetry: () => void; paused: boolean; onPause: (p: boolean) => void }) {
  const { openTransaction } = useDash();
  return (
    <Widget
      id="feed"
      title="Live transactions"
      loading={loading}
      error={error}
      empty={rows.length === 0}
      emptyText="No transactions yet."
      onRetry={onRetry}
      actions={
        <button type="button" aria-pressed={paused} onClick={() => onPause(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      }
    >
      <ol className="feed" aria-label="Most recent transactions, newest first" aria-live="off">
        {rows.map((t) => (
          <Row key={t.id} t={t} onOpen={openTransaction} />
        ))}
      </ol>
    </Widget>
  );
});
