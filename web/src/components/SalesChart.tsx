import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../lib/api';
import { echarts } from '../lib/charts';
import { DAY, filterRange, fmtMoney, toNum } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { Widget } from './Widget';
import { type Forecast, hourLabel, parseForecast } from '../lib/forecast';

type HourItem = { hour: string; revenue: number; orders: number; transactions: number };
type DayItem = { label: string; period_start: string; revenue: number; orders: number; transactions: number };
type Point = { t: string; label: string; revenue: number };

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
  const { data, error, loading, reload } = useApi(key, async () => {
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
        api<{ items: HourItem[] }>('/analytics/hourly-sales', { query: { ...range, ...dim } }),
        api<{ items: HourItem[] }>('/analytics/hourly-sales', { query: { ...prev, ...dim } }),
        loadForecast(),
      ]);
      const m = (xs: HourItem[]): Point[] => xs.map((x) => ({ t: x.hour, label: hourLabel(x.hour), revenue: toNum(x.revenue) ?? 0 }));
      return { cur: m(cur.items), old: m(old.items), ...fc };
    }
    const [cur, old, fc] = await Promise.all([
      api<{ items: DayItem[] }>('/analytics/revenue', { query: { period: 'day', ...range } }),
      api<{ items: DayItem[] }>('/analytics/revenue', { query: { period: 'day', ...prev } }),
      loadForecast(),
    ]);
    const m = (xs: DayItem[]): Point[] => xs.map((x) => ({ t: x.period_start, label: x.label, revenue: toNum(x.revenue) ?? 0 }));
    return { cur: m(cur.items), old: m(old.items), ...fc };
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
        // the band's invisible lower edge has no legend entry
        legend: {
          top: 0,
          type: 'scroll',
          data: [mode === 'hour' ? 'Last 24 h' : 'This period', mode === 'hour' ? 'Previous 24 h' : 'Previous period', ...(data.forecast.length ? [`Forecast band (${Math.round(data.level * 100)} %)`, 'Forecast'] : [])],
        },
        xAxis: { type: 'category', data: labels, boundaryGap: mode === 'day' },
        yAxis: { type: 'value', axisLabel: { formatter: (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : String(v)) } },
        series: [
          { name: mode === 'hour' ? 'Last 24 h' : 'This period', type: mode === 'hour' ? 'line' : 'bar', data: data.cur.map((p) => p.revenue), itemStyle: { color: '#1d4ed8' }, showSymbol: false },
          { name: mode === 'hour' ? 'Previous 24 h' : 'Previous period', type: 'line', data: data.old.slice(0, n).map((p) => p.revenue), lineStyle: { type: 'dashed', color: '#9a3412' }, itemStyle: { color: '#9a3412' }, showSymbol: false },
          ...(data.forecast.length
            ? [
                { name: 'Forecast lower', type: 'line', stack: 'band', data: pad(data.forecast.map((f) => f.lower), n), lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
                { name: `Forecast band (${Math.round(data.level * 100)} %)`, type: 'line', stack: 'band', data: pad(data.forecast.map((f) => f.upper - f.lower), n), lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(29,78,216,0.18)' }, showSymbol: false },
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
          {data.forecastNote && <p className="muted small" data-testid="forecast-note">{data.forecastNote}</p>}
          {data.forecast.length > 0 && (
            <p className="sr-only" data-testid="forecast-summary">
              Forecast for the next {data.forecast.length} {mode === 'hour' ? 'hours' : 'days'}: {fmtMoney(data.forecast.reduce((s2, f) => s2 + f.point, 0))} in total, {Math.round(data.level * 100)} % interval per {mode === 'hour' ? 'hour' : 'day'} shown in the table.
            </p>
          )}
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
                  {data.forecast.map((f) => (
                    <tr key={`f-${f.t}`} className="forecast-row" data-testid="forecast-row" data-t={f.t} data-point={f.point} data-lower={f.lower} data-upper={f.upper}>
                      <td>
                        {mode === 'hour' ? f.t.slice(0, 16).replace('T', ' ') : f.label} <span className="muted">(forecast)</span>
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
