// The live stream (SSE /api/v1/stream?access_token=): connection state, automatic reconnection
// with back-off, resuming from the last event id (?last_event_id=) so nothing is missed.
export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';
export type TxEvent = { id: number; amount: number; fraud_score: number; is_suspicious: boolean; customer_id: number; time: string };
export type StreamHandlers = {
  onState?: (s: StreamState, attempt: number) => void;
  onTransaction?: (t: TxEvent) => void;
  onBulk?: (b: { count: number; min_id: number; max_id: number; suspicious: number }) => void;
  onAlert?: (a: Record<string, unknown>) => void;
  onMetrics?: (m: Record<string, unknown>) => void;
};

export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
}

export class LiveStream {
  private es: EventSource | null = null;
  private lastId: string | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  constructor(private token: string, private h: StreamHandlers) {}

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
    this.h.onState?.('closed', 0);
  }

  private connect() {
    if (this.stopped) return;
    this.h.onState?.(this.attempt === 0 ? 'connecting' : 'reconnecting', this.attempt);
    const q = new URLSearchParams({ access_token: this.token });
    if (this.lastId) q.set('last_event_id', this.lastId);
    const es = new EventSource(`/api/v1/stream?${q}`);
    this.es = es;
    const track = (e: MessageEvent) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
    };
    es.onopen = () => {
      this.attempt = 0;
      this.h.onState?.('open', 0);
    };
    es.addEventListener('transaction', (e) => {
      track(e as MessageEvent);
      try {
        this.h.onTransaction?.(JSON.parse((e as MessageEvent).data));
      } catch {
        /* ignore a malformed event */
      }
    });
    es.addEventListener('transactions_bulk', (e) => {
      track(e as MessageEvent);
      try {
        this.h.onBulk?.(JSON.parse((e as MessageEvent).data));
      } catch {
        /* ignore */
      }
    });
    es.addEventListener('alert', (e) => {
      track(e as MessageEvent);
      try {
        this.h.onAlert?.(JSON.parse((e as MessageEvent).data));
      } catch {
        /* ignore */
      }
    });
    es.addEventListener('metrics', (e) => {
      try {
        this.h.onMetrics?.(JSON.parse((e as MessageEvent).data));
      } catch {
        /* ignore */
      }
    });
    es.onerror = () => {
      // The browser retries by itself while readyState is CONNECTING; we take over (with our own
      // back-off and the last event id) so that a closed stream (HTTP error, server restart) comes back too.
      es.close();
      if (this.es !== es || this.stopped) return;
      this.es = null;
      this.attempt++;
      this.h.onState?.('reconnecting', this.attempt);
      this.timer = setTimeout(() => this.connect(), backoffMs(this.attempt));
    };
  }
}
