import { memo } from 'react';
import { api } from '../lib/api';
import { fmtDec1, fmtInt } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { SortTable } from './SortTable';
import { Widget } from './Widget';

type Row = { product_id: number; sku: string; name: string; category: string; stock: number; low_stock_threshold: number; daily_velocity: number; days_of_cover: number | null; below_threshold: boolean };

export const LowStock = memo(function LowStock() {
  const { refIso, tick, asOf } = useDash();
  const { data, error, loading, reload } = useApi(`${asOf ?? ''}|${tick}`, () =>
    api<{ items: Row[] }>('/analytics/low-stock', { query: { as_of: asOf ?? undefined, limit: 100 } }),
  );
  void refIso;
  const rows = data?.items ?? [];
  return (
    <Widget id="low-stock" title="Low stock" loading={loading} error={error} empty={!data || rows.length === 0} emptyText="No product is running low." onRetry={reload}>
      <SortTable<Row>
        caption="Low stock"
        rows={rows}
        rowKey={(r) => r.product_id}
        pageSize={8}
        initialSort={{ key: 'days_of_cover', dir: 'asc' }}
        columns={[
          { key: 'name', label: 'Product', render: (r) => <span title={r.sku}>{r.name}</span> },
          { key: 'stock', label: 'Stock', numeric: true, render: (r) => fmtInt(r.stock) },
          { key: 'daily_velocity', label: 'Sold / day', numeric: true, render: (r) => fmtDec1(r.daily_velocity) },
          {
            key: 'days_of_cover',
            label: 'Days of cover',
            numeric: true,
            render: (r) => <span className={r.days_of_cover !== null && r.days_of_cover < 3 ? 'bad' : undefined}>{r.days_of_cover === null ? 'no sales' : fmtDec1(r.days_of_cover)}</span>,
          },
        ]}
      />
    </Widget>
  );
});
