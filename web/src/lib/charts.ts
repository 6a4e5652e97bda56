// Apache ECharts, tree-shaken: only the charts and components the dashboard draws.
import * as echarts from 'echarts/core';
import { LineChart, BarChart } from 'echarts/charts';
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  AriaComponent,
  DatasetComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, DatasetComponent, CanvasRenderer]);

export { echarts };

/**
 * Resize `chart` when its element changes size, but only while the element is in the page with a
 * real size: ECharts' map (its View coordinate system) throws "Cannot read properties of null
 * (reading '0')" from inside the ResizeObserver callback on a zero-width or zero-height container
 * (a non-invertible transform), an uncaught page error. It is resized when the size is back.
 */
export function observeResize(el: HTMLElement, chart: { resize(): void; isDisposed(): boolean }): ResizeObserver {
  const ro = new ResizeObserver(() => {
    if (!chart.isDisposed() && el.isConnected && el.clientWidth > 0 && el.clientHeight > 0) chart.resize();
  });
  ro.observe(el);
  return ro;
}
