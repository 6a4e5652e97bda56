import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../lib/api';
import { echarts } from '../lib/charts';
import { DAY, filterRange, fmtMoney, toNum } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Widget } from './Widget';

type HourItem = { hour: string; revenue: number; orders: number; transactions: number };
type DayItem = { label: string; period_start: string; revenue: number; orders: number; transactions: number };
type Point = { t: string; label: string; revenue: number };
type Forecast = { label: string; point: number; lower: number; upper: number }[];

const HOUR = 3_600_000;

function hourLabel(iso: string) {
  return iso.slice(11, 16);
}

/** Forecast items from the API (if it offers forecasting): tolerant of the field names. */
function parseForecast(j: unknown): Forecast {
  const items = (j as { items?: unknown[]; forecast?: unknown[] })?.items ?? (j as { forecast?: unknown[] })?.forecast ?? [];
  return (items as Record<string, unknown>[])
    .map((it) => ({
      label: String(it.label ?? it.period_start ?? it.time ?? it.hour ?? it.step ?? '').slice(0, 10),
      point: toNum(it.point ?? it.revenue ?? it.value) ?? NaN,
      lower: toNum(it.lower) ?? NaN,
      upper: toNum(it.upper) ?? NaN,
    }))
    .filter((f) => Number.isFinite(f.point));
}

export const SalesChart = memo(function SalesChart() {
  const { refIso, filters, tick, asOf } = useDash();
  const [mode, setMode] = useState<'hour' | 'day'>('hour');
  const range = useMemo(() => {
    if (mode === 'hour') {
      // the 24 whole hours up to the reference time, against the 24 before
      const to = new Date(Math.ceil(Date.parse(refIso) / HOUR) * HOUR).toISOString();
      return { from: new Date(Date.parse(to) - DAY).toISOString(), to };
    }
    return filterRange(filters, new Date(Math.ceil(Date.parse(refIso) / DAY) * DAY).toISOString(), 14);
  }, [mode, refIso, filters]);
  const len = Date.parse(range.to) - Date.parse(range.from);
  const prev = { from: new Date(Date.parse(range.from) - len).toISOString(), to: range.from };
  const dim = filters.category_id ? { dimension: 'category', key: filters.category_id } : filters.country ? { dimension: 'country', key: filters.country.toUpperCase() } : {};
  const key = `${mode}|${range.from}|${range.to}|${JSON.stringify(dim)}|${tick}`;
  const { data, error, loading, reload } = useApi(key, async () => {
    if (mode === 'hour') {
      const [cur, old] = await Promise.all([
        api<{ items: HourItem[] }>('/analytics/hourly-sales', { query: { ...range, ...dim } }),
        api<{ items: HourItem[] }>('/analytics/hourly-sales', { query: { ...prev, ...dim } }),
      ]);
      const m = (xs: HourItem[]): Point[] => xs.map((x) => ({ t: x.hour, label: hourLabel(x.hour), revenue: toNum(x.revenue) ?? 0 }));
      return { cur: m(cur.items), old: m(old.items), forecast: [] as Forecast, forecastNote: 'Forecast band: daily view.' };
    }
    const [cur, old] = await Promise.all([
      api<{ items: DayItem[] }>('/analytics/revenue', { query: { period: 'day', ...range } }),
      api<{ items: DayItem[] }>('/analytics/revenue', { query: { period: 'day', ...prev } }),
    ]);
    const m = (xs: DayItem[]): Point[] => xs.map((x) => ({ t: x.period_start, label: x.label, revenue: toNum(x.revenue) ?? 0 }));
    let forecast: Forecast = [];
    let forecastNote = '';
    try {
      forecast = parseForecast(await api('/analytics/forecast', { query: { period: 'day', from: range.from, to: range.to, horizon: 7 } }));
      if (!forecast.length) forecastNote = 'No forecast for this range.';
    } catch (e) {
      forecastNote = (e as { status?: number }).status === 404 ? 'Forecast band not available: the API has no forecast route yet.' : `Forecast unavailable: ${(e as Error).message}`;
    }
    return { cur: m(cur.items), old: m(old.items), forecast, forecastNote };
  });

  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current || !data) return;
    if (!chart.current) chart.current = echarts.init(el.current, undefined, { renderer: 'canvas' });
    const labels = [...data.cur.map((p) => p.label), ...data.forecast.map((f) => f.label)];
    const n = data.cur.length;
    const pad = (xs: (number | null)[], before: number) => [...Array(before).fill(null), ...xs];
    chart.current.setOption(
      {
        aria: { enabled: true },
        animation: false,
        grid: { left: 56, right: 16, top: 36, bottom: 28 },
        tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtMoney(v) },
        legend: { top: 0, type: 'scroll' },
        xAxis: { type: 'category', data: labels, boundaryGap: mode === 'day' },
        yAxis: { type: 'value', axisLabel: { formatter: (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : String(v)) } },
        series: [
          { name: mode === 'hour' ? 'Last 24 h' : 'This period', type: mode === 'hour' ? 'line' : 'bar', data: data.cur.map((p) => p.revenue), itemStyle: { color: '#1d4ed8' }, showSymbol: false },
          { name: mode === 'hour' ? 'Previous 24 h' : 'Previous period', type: 'line', data: data.old.slice(0, n).map((p) => p.revenue), lineStyle: { type: 'dashed', color: '#9a3412' }, itemStyle: { color: '#9a3412' }, showSymbol: false },
          ...(data.forecast.length
            ? [
                { name: 'Forecast lower', type: 'line', stack: 'band', data: pad(data.forecast.map((f) => f.lower), n), lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
                { name: 'Forecast band (95 %)', type: 'line', stack: 'band', data: pad(data.forecast.map((f) => f.upper - f.lower), n), lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(29,78,216,0.18)' }, showSymbol: false },
                { name: 'Forecast', type: 'line', data: pad(data.forecast.map((f) => f.point), n), lineStyle: { type: 'dotted', color: '#1d4ed8' }, showSymbol: false },
              ]
            : []),
        ],
      },
      true,
    );
  }, [data, mode]);
  useEffect(() => {
    const ro = new ResizeObserver(() => chart.current?.resize());
    if (el.current) ro.observe(el.current);
    return () => {
      ro.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  const total = data?.cur.reduce((s, p) => s + p.revenue, 0) ?? 0;
  const prevTotal = data?.old.reduce((s, p) => s + p.revenue, 0) ?? 0;
  const pct = prevTotal > 0 ? ((total - prevTotal) / prevTotal) * 100 : null;
  return (
    <Widget
      id="sales"
      title="Sales performance"
      className="wide"
      loading={loading}
      error={error}
      empty={!data}
      onRetry={reload}
      actions={
        <div className="seg" role="group" aria-label="Granularity">
          <button type="button" aria-pressed={mode === 'hour'} onClick={() => setMode('hour')}>
            Hourly
          </button>
          <button type="button" aria-pressed={mode === 'day'} onClick={() => setMode('day')}>
            Daily
          </button>
        </div>
      }
    >
      {data && (
        <>
          <p className="summary">
            <strong data-testid="sales-total" data-value={total.toFixed(2)}>
              {fmtMoney(total)}
            </strong>{' '}
            {mode === 'hour' ? 'in the last 24 hours' : 'in the selected period'}
            {pct !== null && (
              <span className={pct >= 0 ? 'good' : 'bad'}>
                {' '}
                ({pct >= 0 ? '+' : '−'}
                {Math.abs(pct).toFixed(1)} % vs previous {fmtMoney(prevTotal)})
              </span>
            )}
            {mode === 'hour' && (dim as { dimension?: string }).dimension && <span className="muted"> · filtered by {(dim as { dimension?: string }).dimension}</span>}
            {asOf && <span className="muted"> · as of {asOf.slice(0, 16).replace('T', ' ')} UTC</span>}
          </p>
          <div ref={el} className="chart" role="img" aria-label={`Revenue ${mode === 'hour' ? 'per hour' : 'per day'}, current against previous period`} />
          {data.forecastNote && mode === 'day' && <p className="muted small">{data.forecastNote}</p>}
          <details>
            <summary>Show the data as a table</summary>
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Sales data">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{mode === 'hour' ? 'Hour (UTC)' : 'Day'}</th>
                    <th scope="col" className="num">Revenue</th>
                    <th scope="col" className="num">Previous</th>
                  </tr>
                </thead>
                <tbody>
                  {data.cur.map((p, i) => (
                    <tr key={p.t}>
                      <td>{mode === 'hour' ? p.t.slice(0, 16).replace('T', ' ') : p.label}</td>
                      <td className="num">{fmtMoney(p.revenue)}</td>
                      <td className="num">{fmtMoney(data.old[i]?.revenue)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </Widget>
  );
});
