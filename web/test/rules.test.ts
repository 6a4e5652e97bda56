import { describe, expect, it } from 'vitest';
import {
  backtestQuery, backtestRows, better, defaultBacktestForm, describeConfig, f1, fmtMetric, fmtRatio, formForShadow, shadowRows, validateBacktest,
  type ShadowComparison,
} from '../src/lib/rules';

const cmp: ShadowComparison = {
  name: 'strict', scored: 50, live_suspicious: 10, shadow_suspicious: 6, both_suspicious: 5, labelled: 20, frauds: 4,
  live_precision: 0.5, shadow_precision: 0.75, live_recall: 0.5, shadow_recall: null, mean_score_difference: -3.5,
  first_scored: '2026-11-01T10:00:00Z', last_scored: '2026-11-20T23:59:00Z',
};

describe('rules & backtests', () => {
  it('derives F1 from precision and recall', () => {
    expect(f1(0.5, 0.5)).toBe(0.5);
    expect(f1(0.75, 0.6)).toBeCloseTo(2 / 3, 10);
    expect(f1(0, 0)).toBe(0);
    expect(f1(null, 0.5)).toBeNull();
    expect(fmtRatio(2 / 3)).toBe('0.667');
    expect(fmtRatio(null)).toBe('–');
    expect(fmtRatio(Number.NaN)).toBe('–');
    expect(fmtMetric('count', 1409)).toBe('1,409');
    expect(fmtMetric('ratio', 1)).toBe('1.000');
    expect(fmtMetric('count', null)).toBe('–');
  });
  it('shows the shadow comparison as live vs shadow rows', () => {
    const rows = shadowRows(cmp);
    expect(rows.map((r) => [r.key, r.live, r.shadow])).toEqual([
      ['suspicious', 10, 6],
      ['precision', 0.5, 0.75],
      ['recall', 0.5, null],
      ['f1', 0.5, null],
    ]);
  });
  it('orders the backtest metrics and compares candidate with live', () => {
    const rows = backtestRows([
      { metric: 'roc_auc', live: 0.9, candidate: 0.93, stored: 0.9 },
      { metric: 'transactions', live: 100, candidate: 100, stored: 100 },
      { metric: 'precision', live: 0.5, candidate: 0.4, stored: 0.5 },
      { metric: 'new_figure', live: 1, candidate: 1, stored: null },
    ]);
    expect(rows.map((r) => r.metric)).toEqual(['transactions', 'precision', 'roc_auc', 'new_figure']);
    expect(rows.map(better)).toEqual([null, 'live', 'candidate', 'same']);
    expect(rows[3].label).toBe('new figure');
  });
  it('describes a configuration override', () => {
    expect(describeConfig({})).toEqual(['Same as the live configuration']);
    expect(
      describeConfig({
        rules: { amount_outlier: { weight: 1.5, threshold: 3 }, odd_hours: { enabled: false } },
        entity: { device: { window_days: 14, weight: 2 } },
        settings: { suspicious_threshold: 55 },
      }),
    ).toEqual([
      'Rule amount outlier: weight 1.5, threshold 3',
      'Rule odd hours: disabled',
      'Entity device: window (days) 14, weight 2',
      'Settings: suspicious threshold 55',
    ]);
  });
  it('validates the backtest form and builds its query', () => {
    const f = defaultBacktestForm('2026-11-23T15:30:00Z');
    expect(f).toEqual({ from: '2026-10-25', to: '2026-11-23', candidate: '', top_k: '10' });
    expect(validateBacktest(f)).toEqual({});
    expect(backtestQuery(f)).toEqual({ from: '2026-10-25T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z', top_k: '10' });
    expect(backtestQuery({ ...f, candidate: 'strict', top_k: '5' })).toMatchObject({ shadow: 'strict', top_k: '5' });
    expect(validateBacktest({ ...f, from: '2026-11-24' }).to).toMatch(/before the start/);
    expect(validateBacktest({ ...f, from: '' }).from).toBeTruthy();
    expect(validateBacktest({ ...f, from: '2025-01-01' }).to).toMatch(/366/);
    expect(validateBacktest({ ...f, top_k: '0' }).top_k).toBeTruthy();
    expect(validateBacktest({ ...f, top_k: '2.5' }).top_k).toBeTruthy();
    // the same day as start and end is one whole day
    expect(validateBacktest({ ...f, from: '2026-11-23' })).toEqual({});
  });
  it('backtests a shadow over the days it was scored', () => {
    expect(formForShadow(cmp, '2026-11-23T00:00:00Z', '20')).toEqual({ from: '2026-11-01', to: '2026-11-20', candidate: 'strict', top_k: '20' });
    expect(formForShadow({ ...cmp, first_scored: null, last_scored: null }, '2026-11-23T00:00:00Z').from).toBe('2026-10-25');
  });
});
