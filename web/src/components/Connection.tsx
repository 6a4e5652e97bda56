import type { StreamState } from '../lib/stream';

const text: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting',
  closed: 'Not live',
};

export function Connection({ state, attempt, asOf }: { state: StreamState; attempt: number; asOf: boolean }) {
  return (
    <div className={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      <span className="dot" aria-hidden="true" />
      <span>
        {text[state]}
        {state === 'reconnecting' && attempt > 0 ? ` (attempt ${attempt})` : ''}
        {asOf && state === 'open' ? ' (paused: as-of view)' : ''}
      </span>
    </div>
  );
}
