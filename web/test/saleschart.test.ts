import { describe, expect, it } from 'vitest';
import * as echarts from 'echarts';
import { salesChartOption, type SalesData } from '../src/lib/forecast';

const hourData: SalesData = {
  mode: 'hour',
  cur: [0, 1, 2].map((h) => ({ t: `2026-12-06T0${h}:00:00Z`, label: `0${h}:00`, revenue: 100 + h })),
  old: [0, 1, 2].map((h) => ({ t: `2026-12-05T0${h}:00:00Z`, label: `0${h}:00`, revenue: 90 + h })),
  // a lower edge below zero (wide intervals on small shops)
  forecast: [3, 4].map((h) => ({ t: `2026-12-06T0${h}:00:00Z`, label: `0${h}:00`, point: 50, lower: -20, upper: 120 })),
  level: 0.95,
  forecastNote: '',
};

describe('sales chart option', () => {
  it('follows the granularity the data was loaded for', () => {
    const o = salesChartOption(hourData);
    expect(o.series[0].type).toBe('line');
    expect(o.xAxis.boundaryGap).toBe(false);
    expect(o.legend.data).toEqual(['Last 24 h', 'Previous 24 h', 'Forecast band (95 %)', 'Forecast']);
    const d = salesChartOption({ ...hourData, mode: 'day' });
    expect(d.series[0].type).toBe('bar');
    expect(d.xAxis.boundaryGap).toBe(true);
    expect(salesChartOption({ ...hourData, forecast: [] }).series).toHaveLength(2);
  });

  it('draws hourly ticks in the shop\'s local time of the labels (not UTC, not the browser\'s zone), the full label in the tooltip', () => {
    // Asia/Kolkata: the UTC hours 04:00..06:00 are 09:30..11:30 local
    const kolkata: SalesData = {
      ...hourData,
      cur: ['09:30', '10:30', '11:30'].map((hm, i) => ({ t: `2026-12-07T0${4 + i}:00:00Z`, label: `2026-12-07 ${hm} +05:30`, revenue: 100 + i })),
      old: [4, 5, 6].map((h) => ({ t: `2026-12-06T0${h}:00:00Z`, label: '', revenue: 90 + h })),
      forecast: [],
    };
    const o = salesChartOption(kolkata);
    expect(o.xAxis.data).toEqual(['2026-12-07 09:30 +05:30', '2026-12-07 10:30 +05:30', '2026-12-07 11:30 +05:30']);
    const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 300 });
    c.setOption(o as echarts.EChartsCoreOption, true);
    const svg = c.renderToSVGString();
    for (const tick of ['09:30', '10:30', '11:30']) expect(svg).toContain(`>${tick}<`);
    expect(svg).not.toContain('>04:00<');
    c.dispose();
  });

  it('labels the money axis with distinct ticks, and the band\'s legend symbol has the band\'s colour', () => {
    const o = salesChartOption(hourData);
    const f = o.yAxis.axisLabel.formatter as (v: number) => string;
    // ECharts' ticks at 500 steps: before, 1500 and 2000 were both "2k", 2500 and 3000 both "3k"
    const ticks = [0, 500, 1000, 1500, 2000, 2500, 3000].map(f);
    expect(ticks).toEqual(['0', '500', '1k', '1.5k', '2k', '2.5k', '3k']);
    expect([1250, 2_500_000, -1500, 12.5].map(f)).toEqual(['1.25k', '2.5M', '-1.5k', '12.5']);
    const band = o.series.find((s) => s.name === 'Forecast band (95 %)') as { areaStyle: { color: string }; itemStyle?: { color: string } };
    expect(band.itemStyle?.color).toBe(band.areaStyle.color);
    // and the forecast line's symbol the line's colour (it took the palette's next colour)
    const line = o.series.find((s) => s.name === 'Forecast') as { lineStyle: { color: string }; itemStyle?: { color: string } };
    expect(line.itemStyle?.color).toBe(line.lineStyle.color);
  });

  it('stacks the band on its lower edge, also below zero, after null padding (ECharts, server-side)', () => {
    const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 300 });
    c.setOption(salesChartOption(hourData) as echarts.EChartsCoreOption, true);
    // ECharts' model is internal API (typed private): the stacked values are what is drawn
    type Store = { get(dim: string, i: number): number; getCalculationInfo(k: string): string };
    const model = (c as unknown as { getModel(): { getSeriesByName(n: string): { getData(): Store }[] } }).getModel();
    const band = model.getSeriesByName('Forecast band (95 %)')[0].getData();
    const top = band.getCalculationInfo('stackResultDimension');
    const over = band.getCalculationInfo('stackedOverDimension');
    // null padding for the 3 current points, then lower + (upper - lower) = upper, on top of lower
    expect([0, 1, 2].map((i) => band.get(top, i))).toEqual([NaN, NaN, NaN]);
    expect([3, 4].map((i) => band.get(top, i))).toEqual([120, 120]);
    expect([3, 4].map((i) => band.get(over, i))).toEqual([-20, -20]);
    c.dispose();
  });
});
