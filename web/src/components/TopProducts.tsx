import { memo, useState } from 'react';
import { api } from '../lib/api';
import { filterRange, fmtInt, fmtMoney } from '../lib/format';
import { useApi } from '../lib/hooks';
import { useDash } from '../context';
import { SortTable } from './SortTable';
import { Widget } from './Widget';

type Row = { rank: number; product_id: number; sku: string; name: string; category: string; units: number; orders: number; revenue: number };

export const TopProducts = memo(function TopProducts() {
  const { refIso, filters, tick } = useDash();
  const [by, setBy] = useState<'revenue' | 'units' | 'orders'>('revenue');
  const range = filterRange(filters, refIso, 30);
  const { data, error, loading, reload } = useApi(`${by}|${range.from}|${range.to}|${tick}`, () =>
    api<{ items: Row[] }>('/analytics/top-products', { query: { ...range, by, limit: 20 } }),
  );
  const rows = data?.items ?? [];
  return (
    <Widget
      id="top-products"
      title="Top products"
      loading={loading}
      error={error}
      empty={!data || rows.length === 0}
      emptyText="No sales in this period."
      onRetry={reload}
      actions={
        <label className="inline">
          Rank by{' '}
          <select value={by} onChange={(e) => setBy(e.target.value as typeof by)}>
            <option value="revenue">revenue</option>
            <option value="units">units</option>
            <option value="orders">orders</option>
          </select>
        </label>
      }
    >
      <SortTable<Row>
        caption="Top products"
        rows={rows}
        rowKey={(r) => r.product_id}
        pageSize={10}
        columns={[
          { key: 'rank', label: '#', numeric: true },
          { key: 'name', label: 'Product', render: (r) => <span title={r.sku}>{r.name}</span> },
          { key: 'category', label: 'Category' },
          { key: 'units', label: 'Units', numeric: true, render: (r) => fmtInt(r.units) },
          { key: 'revenue', label: 'Revenue', numeric: true, render: (r) => fmtMoney(r.revenue) },
        ]}
      />
    </Widget>
  );
});
