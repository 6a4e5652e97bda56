import { memo, useEffect, useRef } from 'react';
import { api } from '../lib/api';
import { echarts, observeResize } from '../lib/charts';
import { fmtDec1, fmtInt, fmtMoney } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { SortTable } from './SortTable';
import { Widget } from './Widget';

type Row = { segment: string; customers: number; revenue: number; avg_monetary: number; avg_frequency: number; avg_recency_days: number; customer_share_pct: number; revenue_share_pct: number };

export const segmentLabel = (s: string) => s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()).replace('Cant', 'Can’t');

export const Segments = memo(function Segments() {
  const { tick, asOf } = useDash();
  const { data, error, loading, reload } = useApi(`${asOf ?? ''}|${tick}`, () => api<{ items: Row[] }>('/customers/segments', { query: { as_of: asOf ?? undefined } }));
  const rows = data?.items ?? [];
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || rows.length === 0) return;
    const c = echarts.getInstanceByDom(el.current) ?? echarts.init(el.current);
    c.setOption(
      {
        aria: { enabled: true },
        animation: false,
        grid: { left: 110, right: 16, top: 8, bottom: 24 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value' },
        yAxis: { type: 'category', inverse: true, data: rows.map((r) => segmentLabel(r.segment)) },
        series: [{ name: 'Customers', type: 'bar', data: rows.map((r) => r.customers), itemStyle: { color: '#0f766e' } }],
      },
      true,
    );
    const ro = observeResize(el.current, c);
    return () => ro.disconnect();
  }, [rows]);
  useEffect(() => () => { if (el.current) echarts.getInstanceByDom(el.current)?.dispose(); }, []);
  return (
    <Widget id="segments" title="Customer segments (RFM)" loading={loading} error={error} empty={!data || rows.length === 0} emptyText="No customers with purchases yet." onRetry={reload}>
      <div ref={el} className="chart small-chart" role="img" aria-label="Customers per segment" />
      <SortTable<Row>
        caption="Customer segments"
        rows={rows}
        rowKey={(r) => r.segment}
        pageSize={10}
        columns={[
          { key: 'segment', label: 'Segment', render: (r) => segmentLabel(r.segment) },
          { key: 'customers', label: 'Customers', numeric: true, render: (r) => fmtInt(r.customers) },
          { key: 'revenue', label: 'Revenue', numeric: true, render: (r) => fmtMoney(r.revenue, 0) },
          { key: 'avg_recency_days', label: 'Days since last', numeric: true, render: (r) => fmtDec1(r.avg_recency_days) },
        ]}
      />
    </Widget>
  );
});
