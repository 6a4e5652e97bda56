// The "Rules & backtests" panel's logic: GET /fraud/shadow (shadow configurations and their
// comparison with the live one) and GET /fraud/backtest (a candidate configuration replayed over
// a period next to the live one), see docs/entity-risk.md.
import { dateToIso, DAY, fmtInt, toNum } from './format';

export type ShadowConfig = { name: string; active: boolean; config: unknown; note: string | null; created_at: string };
export type ShadowComparison = {
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
  first_scored: string | null;
  last_scored: string | null;
};
export type ShadowResponse = { configs: ShadowConfig[]; items: ShadowComparison[] };
export type BacktestItem = { metric: string; live: number | null; candidate: number | null; stored: number | null };
export type BacktestResponse = { from: string; to: string; top_k: number; candidate: string; config: unknown; items: BacktestItem[] };

/** F1 from precision and recall (null when either is unknown; 0 when both are 0). */
export function f1(p: number | null | undefined, r: number | null | undefined): number | null {
  if (p === null || p === undefined || r === null || r === undefined || !Number.isFinite(p) || !Number.isFinite(r)) return null;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

/** A ratio as 0.000 (three decimals), "–" when unknown. */
export function fmtRatio(v: unknown): string {
  const n = toNum(v);
  return n === null ? '–' : n.toFixed(3);
}

export type MetricKind = 'count' | 'ratio';
export type MetricRow = { metric: string; label: string; kind: MetricKind; live: number | null; candidate: number | null; stored: number | null };

const METRICS: Record<string, { label: string; kind: MetricKind }> = {
  transactions: { label: 'Transactions replayed', kind: 'count' },
  labelled: { label: 'Labelled', kind: 'count' },
  frauds: { label: 'Confirmed frauds', kind: 'count' },
  suspicious: { label: 'Flagged suspicious', kind: 'count' },
  precision: { label: 'Precision', kind: 'ratio' },
  recall: { label: 'Recall', kind: 'ratio' },
  f1: { label: 'F1', kind: 'ratio' },
  roc_auc: { label: 'ROC AUC', kind: 'ratio' },
  average_precision: { label: 'Average precision', kind: 'ratio' },
  top_k_share: { label: 'Frauds caught in the top-k per day', kind: 'ratio' },
  top_k_precision: { label: 'Precision of the top-k per day', kind: 'ratio' },
};
const ORDER = Object.keys(METRICS);

/** The backtest's items in a fixed reading order (unknown metrics from a newer API at the end, as ratios). */
export function backtestRows(items: BacktestItem[]): MetricRow[] {
  const rows = items.map((it) => {
    const m = METRICS[it.metric] ?? { label: it.metric.replace(/_/g, ' '), kind: 'ratio' as MetricKind };
    return { metric: it.metric, label: m.label, kind: m.kind, live: toNum(it.live), candidate: toNum(it.candidate), stored: toNum(it.stored) };
  });
  const pos = (m: string) => {
    const i = ORDER.indexOf(m);
    return i < 0 ? ORDER.length : i;
  };
  return rows.sort((a, b) => pos(a.metric) - pos(b.metric));
}

export function fmtMetric(kind: MetricKind, v: number | null): string {
  return kind === 'count' ? (v === null ? '–' : fmtInt(v)) : fmtRatio(v);
}

/** Which of live and candidate does better on a row ('candidate', 'live', 'same' or null for counts / unknowns). */
export function better(row: MetricRow): 'candidate' | 'live' | 'same' | null {
  if (row.kind !== 'ratio' || row.live === null || row.candidate === null) return null;
  const d = row.candidate - row.live;
  if (Math.abs(d) < 5e-4) return 'same';
  return d > 0 ? 'candidate' : 'live';
}

/** The shadow view's figures as rows of live vs shadow (F1 derived from precision and recall). */
export function shadowRows(c: ShadowComparison): { label: string; kind: MetricKind; live: number | null; shadow: number | null; key: string }[] {
  const n = (v: unknown) => toNum(v);
  return [
    { key: 'suspicious', label: 'Flagged suspicious', kind: 'count', live: n(c.live_suspicious), shadow: n(c.shadow_suspicious) },
    { key: 'precision', label: 'Precision', kind: 'ratio', live: n(c.live_precision), shadow: n(c.shadow_precision) },
    { key: 'recall', label: 'Recall', kind: 'ratio', live: n(c.live_recall), shadow: n(c.shadow_recall) },
    { key: 'f1', label: 'F1', kind: 'ratio', live: f1(n(c.live_precision), n(c.live_recall)), shadow: f1(n(c.shadow_precision), n(c.shadow_recall)) },
  ];
}

/**
 * A configuration override (the jsonb of shadow_config / backtest) as readable lines:
 * rules enabled/disabled with their weights and thresholds, entity kinds, settings.
 */
export function describeConfig(config: unknown): string[] {
  const c = (config ?? {}) as Record<string, Record<string, Record<string, unknown> | unknown> | undefined>;
  const out: string[] = [];
  const part = (o: Record<string, unknown>, keys: [string, string][]) =>
    keys
      .filter(([k]) => o[k] !== undefined && o[k] !== null)
      .map(([k, label]) => (typeof o[k] === 'boolean' ? (o[k] ? 'enabled' : 'disabled') : `${label} ${typeof o[k] === 'object' ? JSON.stringify(o[k]) : String(o[k])}`).replace(/^ /, ''));
  const ruleKeys: [string, string][] = [['enabled', ''], ['weight', 'weight'], ['threshold', 'threshold'], ['params', 'params']];
  for (const [name, v] of Object.entries((c.rules ?? {}) as Record<string, unknown>)) {
    const bits = part((v ?? {}) as Record<string, unknown>, ruleKeys);
    out.push(`Rule ${name.replace(/_/g, ' ')}: ${bits.length ? bits.join(', ') : 'as live'}`);
  }
  const entityKeys: [string, string][] = [
    ['enabled', ''], ['window_days', 'window (days)'], ['prior_strength', 'prior strength'], ['min_labelled', 'min. labelled'], ['weight', 'weight'], ['threshold', 'threshold'],
  ];
  for (const [kind, v] of Object.entries((c.entity ?? {}) as Record<string, unknown>)) {
    const bits = part((v ?? {}) as Record<string, unknown>, entityKeys);
    out.push(`Entity ${kind}: ${bits.length ? bits.join(', ') : 'as live'}`);
  }
  const s = (c.settings ?? {}) as Record<string, unknown>;
  const sbits = part(s, [['bias', 'bias'], ['suspicious_threshold', 'suspicious threshold']]);
  if (sbits.length) out.push(`Settings: ${sbits.join(', ')}`);
  return out.length ? out : ['Same as the live configuration'];
}

export type BacktestForm = { from: string; to: string; candidate: string; top_k: string };

/** The form's default: the 30 days up to the reference day, the live configuration, top 10. */
export function defaultBacktestForm(refIso: string): BacktestForm {
  const to = new Date(Math.floor(Date.parse(refIso) / DAY) * DAY);
  return { from: new Date(to.getTime() - 29 * DAY).toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), candidate: '', top_k: '10' };
}

/** Field errors of the form (empty when valid). The period is inclusive of both days. */
export function validateBacktest(f: BacktestForm): Partial<Record<keyof BacktestForm, string>> {
  const e: Partial<Record<keyof BacktestForm, string>> = {};
  const from = dateToIso(f.from);
  const to = dateToIso(f.to, 1);
  if (!from) e.from = 'Enter a start date.';
  if (!to) e.to = 'Enter an end date.';
  if (from && to && Date.parse(from) >= Date.parse(to)) e.to = 'The end must not be before the start.';
  if (from && to && Date.parse(to) - Date.parse(from) > 366 * DAY) e.to = 'At most 366 days.';
  const k = Number(f.top_k);
  if (!/^\d+$/.test(f.top_k.trim()) || k < 1 || k > 1000) e.top_k = 'A whole number from 1 to 1000.';
  return e;
}

/** The query of GET /fraud/backtest for a valid form ([from, to) in UTC; no shadow = the live configuration). */
export function backtestQuery(f: BacktestForm): Record<string, string> {
  const q: Record<string, string> = { from: dateToIso(f.from)!, to: dateToIso(f.to, 1)!, top_k: String(Number(f.top_k)) };
  if (f.candidate) q.shadow = f.candidate;
  return q;
}

/** The form that backtests a shadow over the days it has been scored (to compare its AUC, AP and top-k). */
export function formForShadow(c: ShadowComparison, refIso: string, topK = '10'): BacktestForm {
  const d = defaultBacktestForm(refIso);
  return {
    from: c.first_scored ? c.first_scored.slice(0, 10) : d.from,
    to: c.last_scored ? new Date(Date.parse(c.last_scored)).toISOString().slice(0, 10) : d.to,
    candidate: c.name,
    top_k: topK,
  };
}
