import { fmtAxis, fmtMoney, toNum } from './format';

/** A forecast point of GET /analytics/forecast/revenue, labelled for the sales chart's x axis. */
// label: hour, hourText of the API's label (the shop's local time); day, the business day (YYYY-MM-DD)
export type Forecast = { t: string; label: string; point: number; lower: number; upper: number }[];

// An hourly label of the API (analytics.sales_series('hour') and the items of /analytics/hourly-sales and
// /analytics/forecast/revenue): the hour's local wall-clock time in the shop's (business) time zone with
// its UTC offset, ISO 8601 to the minute — 2026-10-25T02:00+01:00; seconds only for a local mean time
// offset (1900-01-01T00:19:32+00:19:32). The dashboard shows it as it is, never converted to the
// browser's time zone, so that an hour reads as in psql and the BI views.
const LABEL = /^([+-]?\d{4,}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?([+-]\d\d:\d\d(?::\d\d)?)$/;

/** The shop's local time of an hourly API label for tables and tooltips: "2026-10-25 02:00 +01:00". */
export function hourText(label: string): string {
  const m = LABEL.exec(label);
  return m ? `${m[1]} ${m[2]}${m[3] ?? ''} ${m[4]}` : label;
}

/** The axis tick of an hour: the local "HH:MM" of hourText's text or of an API label (else as it is). */
export function hourTick(text: string): string {
  const m = LABEL.exec(text) ?? /^\S+ (\d\d:\d\d)(?::\d\d)? \S+$/.exec(text);
  return m ? (m.length > 2 ? m[2] : m[1]) : text;
}

/**
 * The forecast of GET /analytics/forecast/revenue: {forecast: [{t, label, revenue, lower, upper}], level}.
 * Each point is labelled by the API in the shop's time zone (hour: local time with the offset; day: the
 * business day — its t is the local midnight, whose UTC date may be the day before).
 */
export function parseForecast(j: unknown, mode: 'hour' | 'day'): { items: Forecast; level: number } {
  const body = (j ?? {}) as { forecast?: Record<string, unknown>[]; level?: unknown };
  const items = (body.forecast ?? [])
    .map((it) => {
      const t = String(it.t ?? '');
      const label = String(it.label ?? '');
      return {
        t,
        label: mode === 'hour' ? hourText(label) : label,
        point: toNum(it.revenue) ?? NaN,
        lower: toNum(it.lower) ?? NaN,
        upper: toNum(it.upper) ?? NaN,
      };
    })
    .filter((f) => f.t && f.label && Number.isFinite(f.point) && Number.isFinite(f.lower) && Number.isFinite(f.upper));
  return { items, level: toNum(body.level) ?? 0.95 };
}


// label: hour, hourText of the API's label (the shop's local time, shown in the tooltip and the table; the
// axis shows its HH:MM); day, the business day
export type SalesPoint = { t: string; label: string; revenue: number };
/** What the sales chart draws: the loaded series, tagged with the granularity they were loaded for. */
// from/to: the range the current series was loaded for (shown on the widget, so that a test or a
// reader compares with the same range even when the reference time has moved on since)
// timezone: the shop's time zone the labels are in (the API's answer)
export type SalesData = { mode: 'hour' | 'day'; from?: string; to?: string; timezone?: string; cur: SalesPoint[]; old: SalesPoint[]; forecast: Forecast; level: number; forecastNote: string };

/**
 * The ECharts option of the sales chart. Everything (series types, legend, axis) follows `d.mode`,
 * the granularity the data was loaded for, never the toggle's current state: while the other
 * granularity loads, the previous data is still drawn as what it is.
 */
// the forecast band's fill, also its legend symbol's colour (it took the palette's green otherwise)
const BAND_COLOR = 'rgba(29,78,216,0.18)';

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
    // hours: the category is the shop's local time with its offset (the tooltip's title: a repeated
    // hour is told apart), the tick its HH:MM
    xAxis: { type: 'category', data: labels, boundaryGap: !hour, axisLabel: hour ? { formatter: (v: string) => hourTick(v) } : {} },
    yAxis: { type: 'value', axisLabel: { formatter: fmtAxis } },
    series: [
      { name: curName, type: hour ? 'line' : 'bar', data: d.cur.map((p) => p.revenue), itemStyle: { color: '#1d4ed8' }, showSymbol: false },
      { name: oldName, type: 'line', data: d.old.slice(0, n).map((p) => p.revenue), lineStyle: { type: 'dashed', color: '#9a3412' }, itemStyle: { color: '#9a3412' }, showSymbol: false },
      ...(d.forecast.length
        ? [
            // the band is (upper - lower) stacked on the lower edge; stackStrategy 'all' stacks it
            // on a negative lower edge too (the default 'samesign' would draw it from 0 then)
            { name: 'Forecast lower', type: 'line', stack: 'band', stackStrategy: 'all', data: pad(d.forecast.map((f) => f.lower)), lineStyle: { opacity: 0 }, showSymbol: false, tooltip: { show: false } },
            { name: bandName, type: 'line', stack: 'band', stackStrategy: 'all', data: pad(d.forecast.map((f) => f.upper - f.lower)), lineStyle: { opacity: 0 }, areaStyle: { color: BAND_COLOR }, itemStyle: { color: BAND_COLOR }, showSymbol: false },
            { name: 'Forecast', type: 'line', data: pad(d.forecast.map((f) => f.point)), lineStyle: { type: 'dotted', color: '#1d4ed8' }, itemStyle: { color: '#1d4ed8' }, showSymbol: false },
          ]
        : []),
    ],
  };
}
