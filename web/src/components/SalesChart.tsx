import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../lib/api';
import { echarts, observeResize } from '../lib/charts';
import { DAY, filterRange, fmtMoney, toNum } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Widget } from './Widget';
import { type Forecast, type SalesData, type SalesPoint, hourText, parseForecast, salesChartOption } from '../lib/forecast';

// label: the hour's local time in the shop's (business) time zone with its UTC offset (2026-10-25T02:00+01:00)
type HourItem = { hour: string; label: string; revenue: number; orders: number; transactions: number };
type DayItem = { label: string; period_start: string; revenue: number; orders: number; transactions: number };


const HOUR = 3_600_000;


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
  const { data, error, loading, reload } = useApi<SalesData>(key, async () => {
    // the forecast continues after the last complete bucket of the chart (as_of = its end)
    const forecastQuery = mode === 'hour' ? { granularity: 'hour', horizon: 12, as_of: range.to } : { granularity: 'day', horizon: 7, as_of: range.to };
    const loadForecast = async (): Promise<{ forecast: Forecast; level: number; forecastNote: string }> => {
      if ((dim as { dimension?: string }).dimension) return { forecast: [], level: 0.95, forecastNote: 'The forecast is for the whole shop: clear the category/country filter to see it.' };
      try {
        const f = parseForecast(await api('/analytics/forecast/revenue', { query: forecastQuery }), mode);
        return { forecast: f.items, level: f.level, forecastNote: f.items.length ? '' : 'No forecast for this range.' };
      } catch (e) {
        const status = (e as { status?: number }).status;
        return { forecast: [], level: 0.95, forecastNote: status === 422 ? 'Not enough sales history before this period for a forecast (two weeks of days, two days of hours).' : `Forecast unavailable: ${(e as Error).message}` };
      }
    };
    if (mode === 'hour') {
      const [cur, old, fc] = await Promise.all([
        api<{ items: HourItem[]; timezone?: string }>('/analytics/hourly-sales', { query: { ...range, ...dim } }),
        api<{ items: HourItem[] }>('/analytics/hourly-sales', { query: { ...prev, ...dim } }),
        loadForecast(),
      ]);
      // hours as the API labels them in the shop's time zone (not the browser's, not UTC)
      const m = (xs: HourItem[]): SalesPoint[] => xs.map((x) => ({ t: x.hour, label: hourText(x.label), revenue: toNum(x.revenue) ?? 0 }));
      return { mode: 'hour' as const, from: range.from, to: range.to, timezone: cur.timezone, cur: m(cur.items), old: m(old.items), ...fc };
    }
    const [cur, old, fc] = await Promise.all([
      api<{ items: DayItem[]; timezone?: string }>('/analytics/revenue', { query: { period: 'day', ...range } }),
      api<{ items: DayItem[] }>('/analytics/revenue', { query: { period: 'day', ...prev } }),
      loadForecast(),
    ]);
    const m = (xs: DayItem[]): SalesPoint[] => xs.map((x) => ({ t: x.period_start, label: x.label, revenue: toNum(x.revenue) ?? 0 }));
    return { mode: 'day' as const, from: range.from, to: range.to, timezone: cur.timezone, cur: m(cur.items), old: m(old.items), ...fc };
  });

  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const resizer = useRef<ResizeObserver | null>(null);
  useEffect(() => {
    const div = el.current;
    if (!div || !data) return;
    // Widget unmounts the chart's <div> in its error state and mounts a new one afterwards: an
    // instance bound to the old, detached <div> is disposed and a new one made on the current <div>
    // (the ResizeObserver follows it; at mount there is no <div> yet, the first data makes it)
    let c = chart.current;
    if (c && (c.isDisposed() || c.getDom() !== div)) {
      resizer.current?.disconnect();
      if (!c.isDisposed()) c.dispose();
      c = null;
    }
    if (!c) {
      const inst = echarts.init(div, undefined, { renderer: 'canvas' });
      c = inst;
      resizer.current = observeResize(div, inst);
    }
    chart.current = c;
    // drawn as the granularity the data was loaded for (data.mode), not the toggle's new state
    c.setOption(salesChartOption(data), true);
  }, [data]);
  useEffect(
    () => () => {
      resizer.current?.disconnect();
      resizer.current = null;
      chart.current?.dispose();
      chart.current = null;
    },
    [],
  );

  // while the other granularity loads, the summary and the table describe the data shown
  const shown = data?.mode ?? mode;
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
            <strong data-testid="sales-total" data-value={total.toFixed(2)} data-mode={data.mode} data-from={data.from} data-to={data.to}>
              {fmtMoney(total)}
            </strong>{' '}
            {shown === 'hour' ? 'in the last 24 hours' : 'in the selected period'}
            {pct !== null && (
              <span className={pct >= 0 ? 'good' : 'bad'}>
                {' '}
                ({pct >= 0 ? '+' : '−'}
                {Math.abs(pct).toFixed(1)} % vs previous {fmtMoney(prevTotal)})
              </span>
            )}
            {shown === 'hour' && (dim as { dimension?: string }).dimension && <span className="muted"> · filtered by {(dim as { dimension?: string }).dimension}</span>}
            {asOf && <span className="muted"> · as of {asOf.slice(0, 16).replace('T', ' ')} UTC</span>}
          </p>
          <div ref={el} className="chart" role="img" aria-label={`Revenue ${shown === 'hour' ? 'per hour' : 'per day'}, current against previous period`} />
          {data.forecastNote && <p className="muted small" data-testid="forecast-note">{data.forecastNote}</p>}
          {data.forecast.length > 0 && (
            <p className="sr-only" data-testid="forecast-summary">
              Forecast for the next {data.forecast.length} {shown === 'hour' ? 'hours' : 'days'}: {fmtMoney(data.forecast.reduce((s2, f) => s2 + f.point, 0))} in total, {Math.round(data.level * 100)} % interval per {shown === 'hour' ? 'hour' : 'day'} shown in the table.
            </p>
          )}
          <details>
            <summary>Show the data as a table</summary>
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Sales data">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{shown === 'hour' ? 'Hour' : 'Day'}{data.timezone ? ` (${data.timezone})` : ''}</th>
                    <th scope="col" className="num">Revenue</th>
                    <th scope="col" className="num">Previous</th>
                  </tr>
                </thead>
                <tbody>
                  {data.cur.map((p, i) => (
                    <tr key={p.t} data-testid="sales-row" data-t={p.t} data-label={p.label}>
                      <td>{p.label}</td>
                      <td className="num">{fmtMoney(p.revenue)}</td>
                      <td className="num">{fmtMoney(data.old[i]?.revenue)}</td>
                    </tr>
                  ))}
                  {data.forecast.map((f) => (
                    <tr key={`f-${f.t}`} className="forecast-row" data-testid="forecast-row" data-t={f.t} data-label={f.label} data-point={f.point} data-lower={f.lower} data-upper={f.upper}>
                      <td>
                        {f.label} <span className="muted">(forecast)</span>
                      </td>
                      <td className="num">
                        {fmtMoney(f.point)} <span className="muted small">({fmtMoney(f.lower)} – {fmtMoney(f.upper)})</span>
                      </td>
                      <td className="num">—</td>
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
