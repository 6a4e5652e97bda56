import { memo, useRef, useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { fmtInt, fmtTime } from '../lib/format';
import { useApi } from '../lib/hooks';
import {
  backtestQuery, backtestRows, better, defaultBacktestForm, describeConfig, fmtMetric, formForShadow, shadowRows, validateBacktest,
  type BacktestForm, type BacktestResponse, type ShadowComparison, type ShadowResponse,
} from '../lib/rules';
import { useDash } from '../context';
import { Widget } from './Widget';

/**
 * Rules & backtests (analyst and admin; App does not render it for viewers): the shadow
 * configurations against the live one (GET /fraud/shadow) and a backtest form (GET /fraud/backtest).
 */
export const RulesPanel = memo(function RulesPanel() {
  const { refIso, announce } = useDash();
  const shadow = useApi('shadow', () => api<ShadowResponse>('/fraud/shadow'));
  const configs = shadow.data?.configs ?? [];
  const items = shadow.data?.items ?? [];
  const byName = new Map(items.map((i) => [i.name, i]));

  const [form, setForm] = useState<BacktestForm>(() => defaultBacktestForm(refIso));
  const [errors, setErrors] = useState<Partial<Record<keyof BacktestForm, string>>>({});
  const [run, setRun] = useState<{ seq: number; query: Record<string, string> } | null>(null);
  const result = useApi(run ? `bt|${run.seq}` : null, () => api<BacktestResponse>('/fraud/backtest', { query: run!.query }));
  const resultRef = useRef<HTMLDivElement>(null);

  function start(f: BacktestForm) {
    const errs = validateBacktest(f);
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setRun((r) => ({ seq: (r?.seq ?? 0) + 1, query: backtestQuery(f) }));
    announce(`Backtest of ${f.candidate || 'the live configuration'} started.`);
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    start(form);
  }
  function backtestShadow(c: ShadowComparison) {
    const f = formForShadow(c, refIso, form.top_k);
    setForm(f);
    start(f);
    resultRef.current?.focus();
  }
  const set = (k: keyof BacktestForm) => (e: { target: { value: string } }) => setForm((d) => ({ ...d, [k]: e.target.value }));
  const aria = (k: keyof BacktestForm) => ({
    id: `bt-${k}`,
    'aria-invalid': errors[k] ? true : undefined,
    'aria-describedby': errors[k] ? `bt-${k}-err` : undefined,
  });
  const field = (k: keyof BacktestForm, label: string, input: React.ReactNode) => (
    <div className={`field${errors[k] ? ' invalid' : ''}`}>
      <label htmlFor={`bt-${k}`}>{label}</label>
      {input}
      {errors[k] && (
        <span className="field-error" id={`bt-${k}-err`}>
          {errors[k]}
        </span>
      )}
    </div>
  );
  const candidateConfig = form.candidate ? configs.find((c) => c.name === form.candidate)?.config : {};
  const rows = result.data ? backtestRows(result.data.items) : [];
  const resultState = !run ? 'idle' : result.error ? 'error' : result.loading ? 'loading' : rows.length ? 'ready' : 'empty';

  return (
    <Widget
      id="rules"
      title="Rules & backtests"
      className="full"
      loading={shadow.loading}
      error={shadow.error}
      empty={!shadow.data}
      onRetry={shadow.reload}
      actions={
        <button type="button" onClick={shadow.reload} disabled={shadow.loading}>
          Refresh
        </button>
      }
    >
      <div className="rules">
        <section aria-labelledby="shadow-title" className="rules-shadow" data-testid="shadow">
          <h3 id="shadow-title">Shadow configurations vs live</h3>
          <p className="muted small">
            Scored next to the live configuration on every new transaction, never alerting; precision and recall against the analysts' current verdicts.
          </p>
          {configs.length === 0 ? (
            <p className="state state-empty" role="status">
              No shadow configurations. An administrator adds them to <code>techmart.shadow_config</code> (docs/entity-risk.md).
            </p>
          ) : (
            <ul className="shadow-list">
              {configs.map((cfg) => {
                const c = byName.get(cfg.name);
                return (
                  <li key={cfg.name} className="shadow-card" data-shadow={cfg.name}>
                    <h4>
                      {cfg.name} <span className={`badge ${cfg.active ? 'badge-on' : ''}`}>{cfg.active ? 'active' : 'inactive'}</span>
                    </h4>
                    {cfg.note && <p className="small">{cfg.note}</p>}
                    <ul className="config-lines small" aria-label={`Configuration of ${cfg.name}`}>
                      {describeConfig(cfg.config).map((l) => (
                        <li key={l}>{l}</li>
                      ))}
                    </ul>
                    {!c ? (
                      <p className="muted small" role="status">
                        Not scored yet: it scores transactions inserted while it is active.
                      </p>
                    ) : (
                      <>
                        <table className="compact">
                          <caption>
                            {cfg.name} vs live on {fmtInt(c.scored)} transactions ({fmtInt(c.labelled)} labelled, {fmtInt(c.frauds)} frauds), {fmtTime(c.first_scored)} to {fmtTime(c.last_scored)}
                          </caption>
                          <thead>
                            <tr>
                              <th scope="col">Metric</th>
                              <th scope="col" className="num">Live</th>
                              <th scope="col" className="num">Shadow</th>
                            </tr>
                          </thead>
                          <tbody>
                            {shadowRows(c).map((r) => (
                              <tr key={r.key} data-metric={r.key}>
                                <th scope="row">{r.label}</th>
                                <td className="num" data-col="live" data-value={r.live ?? ''}>
                                  {fmtMetric(r.kind, r.live)}
                                </td>
                                <td className="num" data-col="shadow" data-value={r.shadow ?? ''}>
                                  {fmtMetric(r.kind, r.shadow)}
                                </td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                        <p className="small muted">Mean score difference (shadow − live): {c.mean_score_difference === null ? '–' : Number(c.mean_score_difference).toFixed(2)}</p>
                        <button type="button" onClick={() => backtestShadow(c)} aria-describedby="auc-hint">
                          Backtest {cfg.name} over its scored days
                        </button>
                      </>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
          <p id="auc-hint" className="muted small">
            ROC AUC, average precision and the top-k figures come from a backtest (a replay with only the verdicts known at each moment).
          </p>
        </section>

        <section aria-labelledby="backtest-title" className="rules-backtest">
          <h3 id="backtest-title">Backtest</h3>
          <form className="filters" aria-label="Backtest" onSubmit={submit} noValidate>
            {field('from', 'From', <input type="date" {...aria('from')} value={form.from} onChange={set('from')} required />)}
            {field('to', 'To (inclusive)', <input type="date" {...aria('to')} value={form.to} onChange={set('to')} required />)}
            {field(
              'candidate',
              'Candidate configuration',
              <select {...aria('candidate')} value={form.candidate} onChange={set('candidate')}>
                <option value="">live (replayed)</option>
                {configs.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                  </option>
                ))}
              </select>,
            )}
            {field('top_k', 'Top-k per day', <input type="number" inputMode="numeric" min={1} max={1000} {...aria('top_k')} value={form.top_k} onChange={set('top_k')} />)}
            <div className="field actions">
              <button type="submit" className="primary" disabled={result.loading}>
                Run backtest
              </button>
            </div>
          </form>
          <div className="small" aria-label="Candidate configuration">
            <ul className="config-lines">
              {describeConfig(candidateConfig).map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          </div>
          <div ref={resultRef} tabIndex={-1} className="bt-result" data-testid="backtest" data-state={resultState} aria-live="polite" aria-busy={result.loading}>
            {resultState === 'idle' && <p className="muted small">Choose a period and a candidate, then run the backtest. Stored scores are not changed.</p>}
            {resultState === 'loading' && (
              <p className="state state-loading" role="status">
                <span className="spinner" aria-hidden="true" /> Replaying the period…
              </p>
            )}
            {resultState === 'error' && (
              <div className="state state-error" role="alert">
                <p>
                  Backtest failed: {result.error!.message}
                  {(result.error as { errors?: { field: string; message: string }[] }).errors?.map((e) => ` ${e.field} ${e.message}.`)}
                </p>
                <button type="button" onClick={result.reload}>
                  Retry
                </button>
              </div>
            )}
            {resultState === 'empty' && <p className="state state-empty">No transactions in this period.</p>}
            {resultState === 'ready' && result.data && (
              <div className="table-wrap">
                <table className="compact" data-candidate={result.data.candidate}>
                  <caption>
                    {result.data.candidate === 'live' ? 'Live configuration replayed' : `Candidate ${result.data.candidate}`} vs live, {result.data.from.slice(0, 10)} to{' '}
                    {result.data.to.slice(0, 10)} (exclusive), top {result.data.top_k} per day
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Metric</th>
                      <th scope="col" className="num">Live</th>
                      <th scope="col" className="num">Candidate</th>
                      <th scope="col" className="num">Stored</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => {
                      const b = better(r);
                      return (
                        <tr key={r.metric} data-metric={r.metric}>
                          <th scope="row">{r.label}</th>
                          <td className="num" data-col="live" data-value={r.live ?? ''}>
                            {fmtMetric(r.kind, r.live)}
                          </td>
                          <td className={`num${b === 'candidate' ? ' good' : b === 'live' ? ' bad' : ''}`} data-col="candidate" data-value={r.candidate ?? ''}>
                            {fmtMetric(r.kind, r.candidate)}
                            {b === 'candidate' && <span className="sr-only"> (better than live)</span>}
                            {b === 'live' && <span className="sr-only"> (worse than live)</span>}
                          </td>
                          <td className="num" data-col="stored" data-value={r.stored ?? ''}>
                            {fmtMetric(r.kind, r.stored)}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        </section>
      </div>
    </Widget>
  );
});
