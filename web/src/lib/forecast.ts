import { toNum } from './format';

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

