import { memo, useId, useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { fmtInt } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Widget } from './Widget';

type ShadowRow = {
  name: string;
  scored: number;
  live_suspicious: number;
  shadow_suspicious: number;
  both_suspicious: number;
  labelled: number;
  frauds: number;
  live_precision: number | null;
  shadow_precision: number | null;
  live_recall: number | null;
  shadow_recall: number | null;
  mean_score_difference: number | null;
};
type Shadow = { configs: { name: string; active: boolean; note: string | null }[]; items: ShadowRow[] };
type BacktestItem = { metric: string; live: number | null; candidate: number | null; stored: number | null };
type Backtest = { from: string; to: string; top_k: number; candidate: string; items: BacktestItem[] };

const DAY = 86_400_000;

const COUNTS = new Set(['transactions', 'labelled', 'frauds', 'suspicious', 'scored']);

/** A metric value: counts (by name) as integers, rates and areas with three decimals; undefined
 * ones (a precision with nothing flagged) as a dash. */
export function fmtMetric(v: number | null | undefined, metric = ''): string {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '–';
  return COUNTS.has(metric) ? fmtInt(Number(v)) : Number(v).toFixed(3);
}

const metricLabel = (m: string) => m.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()).replace('Roc auc', 'ROC AUC');

/** Analysts' view of the fraud engine's candidates: shadow configurations scored alongside the
 * live one on every insert, and backtests replaying a past period (verdicts known at each moment). */
export const Backtests = memo(function Backtests() {
  const { refIso, tick } = useDash();
  const shadow = useApi(`shadow|${tick}`, () => api<Shadow>('/fraud/shadow'));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const end = Math.ceil(Date.parse(refIso) / DAY) * DAY;
  const [from, setFrom] = useState(() => day(end - 7 * DAY));
  const [to, setTo] = useState(() => day(end));
  const [candidate, setCandidate] = useState('');
  const [topK, setTopK] = useState('10');
  const [result, setResult] = useState<Backtest | null>(null);
  const [running, setRunning] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const ids = { from: useId(), to: useId(), cand: useId(), k: useId() };

  async function run(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const k = Number(topK);
    if (!from || !to || from >= to) return setFormError('Choose a period whose start is before its end.');
    if (!Number.isInteger(k) || k < 1 || k > 1000) return setFormError('Top-k must be a whole number from 1 to 1000.');
    setRunning(true);
    try {
      setResult(await api<Backtest>('/fraud/backtest', { query: { from, to, shadow: candidate || undefined, top_k: String(k) } }));
    } catch (err) {
      setResult(null);
      setFormError(`The backtest failed: ${(err as Error).message}`);
    } finally {
      setRunning(false);
    }
  }

  const rows = shadow.data?.items ?? [];
  return (
    <Widget id="backtests" title="Rules: shadows and backtests" className="wide" loading={shadow.loading} error={shadow.error} empty={!shadow.data} onRetry={shadow.reload}>
      <h3 className="sub">Shadow configurations against the live one</h3>
      {rows.length === 0 ? (
        <p className="muted" data-testid="shadow-empty">
          No shadow configuration has scored a transaction yet (techmart.shadow_config; docs/entity-risk.md).
        </p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Shadow comparison">
          <table data-testid="shadow-table">
            <caption className="sr-only">Each shadow configuration against the live configuration on the transactions both scored</caption>
            <thead>
              <tr>
                <th scope="col">Shadow</th>
                <th scope="col" className="num">Scored</th>
                <th scope="col" className="num">Suspicious live / shadow</th>
                <th scope="col" className="num">Precision live / shadow</th>
                <th scope="col" className="num">Recall live / shadow</th>
                <th scope="col" className="num">Mean score diff.</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-shadow={r.name}>
                  <th scope="row">{r.name}</th>
                  <td className="num">{fmtInt(r.scored)}</td>
                  <td className="num">
                    {fmtInt(r.live_suspicious)} / {fmtInt(r.shadow_suspicious)}
                  </td>
                  <td className="num">
                    {fmtMetric(r.live_precision)} / {fmtMetric(r.shadow_precision)}
                  </td>
                  <td className="num">
                    {fmtMetric(r.live_recall)} / {fmtMetric(r.shadow_recall)}
                  </td>
                  <td className="num">{fmtMetric(r.mean_score_difference)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3 className="sub">Backtest a configuration on a past period</h3>
      <form className="backtest-form" onSubmit={run} aria-describedby={formError ? `${ids.from}-err` : undefined}>
        <label htmlFor={ids.from}>Backtest from</label>
        <input id={ids.from} type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
        <label htmlFor={ids.to}>Backtest to</label>
        <input id={ids.to} type="date" value={to} onChange={(e) => setTo(e.target.value)} required />
        <label htmlFor={ids.cand}>Candidate</label>
        <select id={ids.cand} value={candidate} onChange={(e) => setCandidate(e.target.value)}>
          <option value="">live configuration</option>
          {(shadow.data?.configs ?? []).map((c) => (
            <option key={c.name} value={c.name}>
              shadow {c.name}
            </option>
          ))}
        </select>
        <label htmlFor={ids.k}>Top-k per day</label>
        <input id={ids.k} type="number" min={1} max={1000} step={1} value={topK} onChange={(e) => setTopK(e.target.value)} />
        <button type="submit" disabled={running} aria-busy={running}>
          {running ? 'Running…' : 'Run backtest'}
        </button>
      </form>
      {formError && (
        <p id={`${ids.from}-err`} className="bad" role="alert">
          {formError}
        </p>
      )}
      {running && (
        <p role="status" className="muted">
          Replaying the period in time order…
        </p>
      )}
      {result && !running && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Backtest result">
          <table data-testid="backtest-table">
            <caption>
              {result.candidate === 'live' ? 'Live configuration' : `Shadow ${result.candidate}`} replayed {result.from.slice(0, 10)} – {result.to.slice(0, 10)} (verdicts known at each moment; top-{result.top_k} per day)
            </caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" className="num">Live</th>
                <th scope="col" className="num">Candidate</th>
                <th scope="col" className="num">Stored scores</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((m) => (
                <tr key={m.metric} data-metric-name={m.metric}>
                  <th scope="row">{metricLabel(m.metric)}</th>
                  <td className="num">{fmtMetric(m.live, m.metric)}</td>
                  <td className="num">{fmtMetric(m.candidate, m.metric)}</td>
                  <td className="num">{fmtMetric(m.stored, m.metric)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Widget>
  );
});
