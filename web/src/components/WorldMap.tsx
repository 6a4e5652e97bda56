import { memo, useEffect, useRef, useState } from 'react';
import { api } from '../lib/api';
import { filterRange, fmtInt, fmtMoney, fmtRate } from '../lib/format';
import { useApi } from '../lib/hooks';
import { observeResize } from '../lib/charts';
import { useDash } from '../context';
import { SortTable } from './SortTable';
import { Widget } from './Widget';

type Country = { country: string; revenue: number; transactions: number; suspicious: number; suspicious_rate: number; average_score: number };

export const WorldMap = memo(function WorldMap() {
  const { refIso, filters, tick } = useDash();
  const [view, setView] = useState<'sales' | 'fraud'>('sales');
  const range = filterRange(filters, refIso, 30);
  const { data, error, loading, reload } = useApi(`${range.from}|${range.to}|${tick}`, () =>
    api<{ countries: Country[] }>('/fraud/geo', { query: { ...range, limit: 0 } }),
  );
  const rows = data?.countries ?? [];
  const el = useRef<HTMLDivElement>(null);
  const [mapError, setMapError] = useState<string | null>(null);
  useEffect(() => {
    if (!el.current || rows.length === 0) return;
    let cancelled = false;
    let ro: ResizeObserver | null = null;
    import('../lib/map')
      .then(async (m) => {
        await m.registerWorld();
        if (cancelled || !el.current) return;
        const c = m.echarts.getInstanceByDom(el.current) ?? m.echarts.init(el.current);
        const values = rows.map((r) => ({ name: r.country, value: view === 'sales' ? Number(r.revenue) : Number(r.suspicious) }));
        const max = Math.max(1, ...values.map((v) => v.value));
        c.setOption(
          {
            aria: { enabled: true },
            animation: false,
            tooltip: {
              trigger: 'item',
              formatter: (p: { name: string; value: number }) =>
                Number.isFinite(p.value) ? `${p.name}: ${view === 'sales' ? fmtMoney(p.value) : `${fmtInt(p.value)} suspicious`}` : `${p.name}: no sales`,
            },
            visualMap: { min: 0, max, left: 8, bottom: 8, calculable: false, itemHeight: 80, text: ['high', 'low'], inRange: { color: view === 'sales' ? ['#dbeafe', '#1e3a8a'] : ['#fee2e2', '#991b1b'] } },
            series: [{ name: view === 'sales' ? 'Revenue' : 'Suspicious transactions', type: 'map', map: 'world', roam: false, emphasis: { label: { show: false } }, itemStyle: { areaColor: '#f1f5f9', borderColor: '#94a3b8', borderWidth: 0.4 }, data: values }],
          },
          true,
        );
        ro = observeResize(el.current, c);
        setMapError(null);
      })
      .catch((e) => setMapError(String(e?.message ?? e)));
    return () => {
      cancelled = true;
      ro?.disconnect();
    };
  }, [rows, view]);
  return (
    <Widget
      id="world-map"
      title="Sales and fraud by country"
      className="wide"
      loading={loading}
      error={error}
      empty={!data || rows.length === 0}
      emptyText="No transactions in this period."
      onRetry={reload}
      actions={
        <div className="seg" role="group" aria-label="Map shows">
          <button type="button" aria-pressed={view === 'sales'} onClick={() => setView('sales')}>
            Sales
          </button>
          <button type="button" aria-pressed={view === 'fraud'} onClick={() => setView('fraud')}>
            Fraud
          </button>
        </div>
      }
    >
      <div ref={el} className="chart map" role="img" aria-label={`World map of ${view === 'sales' ? 'revenue' : 'suspicious transactions'} by country; the same figures are in the table below`} />
      {mapError && <p className="state-error">Map could not be drawn: {mapError}</p>}
      <details>
        <summary>Countries as a table</summary>
        <SortTable<Country>
          caption="Sales and fraud by country"
          rows={rows}
          rowKey={(r) => r.country}
          pageSize={10}
          initialSort={{ key: 'revenue', dir: 'desc' }}
          columns={[
            { key: 'country', label: 'Country', render: (r) => r.country || 'unknown' },
            { key: 'revenue', label: 'Revenue', numeric: true, render: (r) => fmtMoney(r.revenue) },
            { key: 'transactions', label: 'Transactions', numeric: true, render: (r) => fmtInt(r.transactions) },
            { key: 'suspicious', label: 'Suspicious', numeric: true, render: (r) => fmtInt(r.suspicious) },
            { key: 'suspicious_rate', label: 'Rate', numeric: true, render: (r) => fmtRate(r.suspicious_rate) },
          ]}
        />
      </details>
    </Widget>
  );
});
