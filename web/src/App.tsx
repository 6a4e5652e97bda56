import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, atLeast, decodeToken, setToken, setUnauthorizedHandler, type Role } from './lib/api';
import { emptyFilters, type Filters } from './lib/format';
import { useApi } from './lib/hooks';
import { LiveStream, type StreamState, type TxEvent } from './lib/stream';
import { Ctx, type Category, type DashCtx } from './context';
import { Login } from './components/Login';
import { HeaderMetrics, type Overview } from './components/HeaderMetrics';
import { SalesChart } from './components/SalesChart';
import { TopProducts } from './components/TopProducts';
import { LiveFeed, type FeedRow } from './components/LiveFeed';
import { AlertsPanel } from './components/AlertsPanel';
import { WorldMap } from './components/WorldMap';
import { LowStock } from './components/LowStock';
import { Segments } from './components/Segments';
import { Transactions } from './components/Transactions';
import { TxModal } from './components/TxModal';
import { FilterBar } from './components/FilterBar';
import { AsOf } from './components/AsOf';
import { Connection } from './components/Connection';
import { RulesPanel } from './components/RulesPanel';

const TOKEN_KEY = 'techmart.token';
const FEED_MAX = 50;
const REFRESH_MS = 10_000; // widgets refresh at most this often while live data arrives
const FEED_BATCH_MS = 200; // stream events are added to the feed in batches (a few renders a second at any rate)

function loadToken(): string | null {
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (!t) return null;
  const c = decodeToken(t);
  if (!c || (c.exp && c.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return t;
}

export function App() {
  const [token, setTok] = useState<string | null>(() => {
    const t = loadToken();
    setToken(t);
    return t;
  });
  const [notice, setNotice] = useState<string | null>(null);
  const login = useCallback((t: string) => {
    sessionStorage.setItem(TOKEN_KEY, t);
    setToken(t);
    setNotice(null);
    setTok(t);
  }, []);
  const logout = useCallback((why?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setNotice(why ?? null);
    setTok(null);
  }, []);
  useEffect(() => {
    // 401: the token expired, or its session was ended (signed out elsewhere, the account's role,
    // password or status changed: the API refuses it from the next request on)
    setUnauthorizedHandler(() => logout('Your session has expired or was ended; please sign in again.'));
    return () => setUnauthorizedHandler(null);
  }, [logout]);
  const claims = token ? decodeToken(token) : null;
  // Sign out when the token expires: the API ends the live stream then and refuses the token, and a
  // quiet dashboard (no request failing with 401) would otherwise sit there, reconnecting in vain.
  const exp = claims?.exp;
  useEffect(() => {
    if (!exp) return;
    const wait = exp * 1000 - Date.now();
    if (wait > 2 ** 31 - 1) return; // beyond what setTimeout can wait
    const t = setTimeout(() => logout('Your session has expired; please sign in again.'), Math.max(0, wait));
    return () => clearTimeout(t);
  }, [exp, logout]);
  if (!token || !claims) return <Login onLogin={login} notice={notice} />;
  const signOut = () => {
    // end the session on the server too (POST /auth/logout: every token of the account stops
    // working), then here; the request is sent with the token before it is forgotten
    void api('/auth/logout', { method: 'POST', keepalive: true }).catch(() => {});
    logout('Signed out.');
  };
  return <Dashboard key={token} token={token} role={claims.role} email={claims.email ?? ''} onLogout={signOut} />;
}

function Dashboard({ token, role, email, onLogout }: { token: string; role: Role; email: string; onLogout: () => void }) {
  const [asOf, setAsOf] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>(emptyFilters);
  const [tick, setTick] = useState(0);
  const [now, setNow] = useState(() => new Date().toISOString());
  const [alertTick, setAlertTick] = useState(0);
  const [modal, setModal] = useState<number | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [toasts, setToasts] = useState<{ id: number; text: string }[]>([]);
  const [stream, setStream] = useState<{ state: StreamState; attempt: number }>({ state: 'connecting', attempt: 0 });
  const [metrics, setMetrics] = useState<Overview | null>(null);
  const [feed, setFeed] = useState<FeedRow[]>([]);
  const [paused, setPaused] = useState(false);
  const refIso = asOf ?? now;
  const live = asOf === null;

  const announce = useCallback((m: string) => setAnnouncement(`${m}\u200b${Date.now() % 2 ? '' : ' '}`), []);

  // categories for the filter
  const cats = useApi('cats', () => api<{ items: Category[] }>('/categories', { query: { limit: 200, sort: 'name' } }));

  // header metrics: fetched, then replaced by the stream's `metrics` events while live
  const overview = useApi(`ov|${asOf ?? 'live'}`, () => api<Overview>('/dashboard/overview', { query: { as_of: asOf ?? undefined } }));
  useEffect(() => setMetrics(null), [asOf]);
  const shownMetrics = live && metrics ? metrics : overview.data;

  // the feed: recent rows, then stream events (batched per animation frame)
  const feedInit = useApi(`feed|${asOf ?? 'live'}`, () =>
    asOf
      ? api<{ items: Record<string, unknown>[] }>('/transactions', { query: { to: asOf, limit: 25, sort: '-transaction_time' } })
      : api<{ items: Record<string, unknown>[] }>('/transactions/recent', { query: { limit: 25 } }),
  );
  useEffect(() => {
    if (!feedInit.data) return;
    setFeed(
      feedInit.data.items.map((t) => ({
        id: Number(t.id),
        amount: Number(t.amount),
        fraud_score: Number(t.fraud_score),
        is_suspicious: Boolean(t.is_suspicious),
        customer_id: Number(t.customer_id),
        time: String(t.transaction_time),
      })),
    );
  }, [feedInit.data]);

  const pending = useRef<TxEvent[]>([]);
  const frame = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const liveRef = useRef(live);
  liveRef.current = live;
  const lastRefresh = useRef(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const scheduleRefresh = useCallback(() => {
    if (!liveRef.current || refreshTimer.current) return;
    const wait = Math.max(0, lastRefresh.current + REFRESH_MS - Date.now());
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      lastRefresh.current = Date.now();
      setNow(new Date().toISOString());
      setTick((t) => t + 1);
    }, wait);
  }, []);
  const flush = useCallback(() => {
    frame.current = null;
    if (pausedRef.current || !liveRef.current) {
      pending.current = [];
      return;
    }
    const batch = pending.current.reverse();
    pending.current = [];
    setFeed((f) => {
      const seen = new Set(f.map((r) => r.id));
      const add = batch.filter((t) => !seen.has(t.id));
      return add.length ? [...add, ...f].slice(0, FEED_MAX) : f;
    });
  }, []);

  // After the stream was lost and is back (API restart, network drop), catch up at once: what
  // happened meanwhile may not be replayed (a client that had received no event yet has no event id
  // to resume from, and the API starts its cursor afresh), and widgets that failed while it was down
  // would otherwise keep their error until the next transaction arrives.
  const streamLost = useRef(false);
  const catchUp = useCallback(() => {
    if (refreshTimer.current) {
      clearTimeout(refreshTimer.current);
      refreshTimer.current = null;
    }
    lastRefresh.current = Date.now();
    setMetrics(null);
    feedInit.reload();
    overview.reload();
    setNow(new Date().toISOString());
    setTick((t) => t + 1);
    setAlertTick((n) => n + 1);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const s = new LiveStream(token, {
      onState: (state, attempt) => {
        setStream({ state, attempt });
        // the API ends the stream of a token whose session ended: a 401 here signs out at once
        // instead of reconnecting in vain
        if (state === 'reconnecting') void api('/users/me').catch(() => {});
        if (state === 'reconnecting') streamLost.current = true;
        else if (state === 'open' && streamLost.current) {
          streamLost.current = false;
          catchUp();
        }
      },
      onTransaction: (t) => {
        pending.current.push(t);
        if (frame.current === null) frame.current = setTimeout(flush, FEED_BATCH_MS);
        scheduleRefresh();
      },
      onBulk: () => {
        feedInit.reload();
        scheduleRefresh();
      },
      onAlert: (a) => {
        setAlertTick((n) => n + 1);
        const text = `New ${String(a.severity ?? '')} alert: ${String(a.message ?? a.type ?? '')}`;
        setToasts((ts) => [...ts.slice(-2), { id: Number(a.id ?? Date.now()), text }]);
      },
      onMetrics: (m) => {
        if (liveRef.current) setMetrics(m as Overview);
      },
    });
    s.start();
    return () => {
      s.stop();
      if (frame.current !== null) clearTimeout(frame.current);
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  useEffect(() => {
    if (toasts.length === 0) return;
    const t = setTimeout(() => setToasts((ts) => ts.slice(1)), 12_000);
    return () => clearTimeout(t);
  }, [toasts]);

  const ctx: DashCtx = useMemo(
    () => ({ role, email, asOf, refIso, tick, filters, categories: cats.data?.items ?? [], openTransaction: setModal, announce }),
    [role, email, asOf, refIso, tick, filters, cats.data, announce],
  );

  return (
    <Ctx.Provider value={ctx}>
      <div className="app" inert={modal !== null}>
        <a className="skip" href="#main">
          Skip to the dashboard
        </a>
        <header className="topbar">
          <div className="brand">
            <span className="logo" aria-hidden="true">
              ◆
            </span>{' '}
            TechMart Analytics
          </div>
          <AsOf
            value={asOf}
            onChange={(v) => {
              setAsOf(v);
              if (!v) setNow(new Date().toISOString());
            }}
          />
          <Connection state={stream.state} attempt={stream.attempt} asOf={!live} />
          <div className="user">
            <span className="muted small">
              {email || 'signed in'} · <span data-testid="role">{role}</span>
            </span>
            <button type="button" onClick={onLogout}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <h1 className="sr-only">TechMart sales and fraud dashboard</h1>
          <HeaderMetrics data={shownMetrics} loading={overview.loading} error={overview.error} onRetry={overview.reload} />
          <FilterBar value={filters} onChange={setFilters} categories={ctx.categories} />
          <div className="grid">
            <SalesChart />
            <LiveFeed
              rows={feed}
              loading={feedInit.loading}
              error={feedInit.error}
              onRetry={feedInit.reload}
              paused={paused}
              onPause={(p) => {
                setPaused(p);
                // the events that came while paused were dropped: on resume, the latest rows again
                if (!p) feedInit.reload();
              }}
            />
            <AlertsPanel alertTick={alertTick} />
            <TopProducts />
            <LowStock />
            <WorldMap />
            <Segments />
            <Transactions />
            {atLeast(role, 'analyst') && <RulesPanel />}
          </div>
        </main>
        <footer className="foot muted small">Figures in EUR; times in UTC, except the sales chart's hours and days (the shop's time zone, as in its table). Data: TechMart API.</footer>
      </div>
      <div className="toasts" role="alert" aria-live="assertive">
        {toasts.map((t) => (
          <div key={t.id} className="toast" data-testid="alert-toast">
            {t.text}
            <button type="button" aria-label="Dismiss" onClick={() => setToasts((ts) => ts.filter((x) => x.id !== t.id))}>
              ✕
            </button>
          </div>
        ))}
      </div>
      <div className="sr-only" aria-live="polite">
        {announcement}
      </div>
      {modal !== null && <TxModal id={modal} onClose={() => setModal(null)} onOpen={setModal} />}
    </Ctx.Provider>
  );
}
