import { fmtMoney, toNum } from './format';

/** A forecast point of GET /analytics/forecast/revenue, labelled for the sales chart's x axis. */
export type Forecast = { t: string; label: string; point: number; lower: number; upper: number }[];

export function hourLabel(iso: string) {
  return iso.slice(11, 16);
}

/** The forecast of GET /analytics/forecast/revenue: {forecast: [{t, revenue, lower, upper}], level}. */
export function parseForecast(j: unknown, mode: 'hour' | 'day'): { items: Forecast; level: number } {
  const body = (j ?? {}) as { forecast?: Record<string, unknown>[]; level?: unknown };
  const items = (body.forecast ?? [])
    .map((it) => {
      const t = String(it.t ?? '');
      return {
        t,
        label: mode === 'hour' ? hourLabel(t) : t.slice(0, 10),
        point: toNum(it.revenue) ?? NaN,
        lower: toNum(it.lower) ?? NaN,
        upper: toNum(it.upper) ?? NaN,
      };
    })
    .filter((f) => f.t && Number.isFinite(f.point) && Number.isFinite(f.lower) && Number.isFinite(f.upper));
  return { items, level: toNum(body.level) ?? 0.95 };
}


export type SalesPoint = { t: string; label: string; revenue: number };
/** What the sales chart draws: the loaded series, tagged with the granularity they were loaded for. */
// from/to: the range the current series was loaded for (shown on the widget, so that a test or a
// reader compares with the same range even when the reference time has moved on since)
export type SalesData = { mode: 'hour' | 'day'; from?: string; to?: string; cur: SalesPoint[]; old: SalesPoint[]; forecast: Forecast; level: number; forecastNote: string };

/**
 * The ECharts option of the sales chart. Everything (series types, legend, axis) follows `d.mode`,
 * the granularity the data was loaded for, never the toggle's current state: while the other
 * granularity loads, the previous data is still drawn as what it is.
 */
export function salesChartOption(d: SalesData) {
  const hour = d.mode === 'hour';
  const labels = [...d.cur.map((p) => p.label), ...d.forecast.map((f) => f.label)];
  const n = d.cur.length;
  const pad = (xs: number[]): (number | null)[] => [...Array<null>(n).fill(null), ...xs];
  const curName = hour ? 'Last 24 h' : 'This period';
  const oldName = hour ? 'Previous 24 h' : 'Previous period';
  const bandName = `Forecast band (${Math.round(d.level * 100)} %)`;
  return {
    aria: { enabled: true },
    animation: false,
    grid: { left: 56, right: 16, top: 36, bottom: 28 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => fmtMoney(v as number) },
    // the band's invisible lower edge has no legend entry
    legend: { top: 0, type: 'scroll', data: [curName, oldName, ...(d.forecast.length ? [bandName, 'Forecast'] : [])] },
    xAxis: { type: 'category', data: labels, boundaryGap: !hour },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : String(v)) } },
    series: [
      { name: curName, type: hour ? 'line' : 'bar', data: d.cur.map((p) => p.revenue), itemStyle: { color: '#1d4ed8' }, showSymbol: false },
      { name: oldName, type: 'line', data: d.old.slice(0, n).map((p) => p.revenue), lineStyle: { type: 'dashed', color: '#9a3412' }, itemStyle: { color: '#9a3412' }, showSymbol: false },
      ...(d.forecast.length
        ? [
            // the band is (upper - lower) stacked on the lower edge; stackStrategy 'all' stacks it
            // on a negative lower edge too (the default 'samesign' would draw it from 0 then)
            { name: 'Forecast lower', type: 'line', stack: 'band', stackStrategy: 'all', data: pad(d.forecast.map((f) => f.lower)), lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
            { name: bandName, type: 'line', stack: 'band', stackStrategy: 'all', data: pad(d.forecast.map((f) => f.upper - f.lower)), lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(29,78,216,0.18)' }, showSymbol: false },
            { name: 'Forecast', type: 'line', data: pad(d.forecast.map((f) => f.point)), lineStyle: { type: 'dotted', color: '#1d4ed8' }, showSymbol: false },
          ]
        : []),
    ],
  };
}
