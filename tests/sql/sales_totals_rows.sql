-- pgTAP: analytics.sales_totals is estimated at its one row (change sales_totals_rows). With the default 1,000 rows
-- of a set-returning function, analytics.compare_periods (two of them joined with eight metrics) was estimated at
-- 8,000,000 rows and a cost of 3.3 million: JIT compilation (jit_above_cost 100,000) on every call, ~55 ms for a
-- 1-7 ms answer.
BEGIN;
SELECT plan(3);

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS json LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN j -> 0 -> 'Plan';
END $$;

SELECT cmp_ok((pg_temp.plan_of($$SELECT * FROM analytics.compare_periods(now() - interval '7 days', now(),
                                  now() - interval '14 days', now() - interval '7 days')$$) ->> 'Total Cost')::float8,
              '<', current_setting('jit_above_cost')::float8,
              'compare_periods is estimated below jit_above_cost (no JIT compilation)');
SELECT is((pg_temp.plan_of($$SELECT * FROM analytics.compare_periods(now() - interval '7 days', now(),
                             now() - interval '14 days', now() - interval '7 days')$$) ->> 'Plan Rows')::int,
          8, 'compare_periods is estimated at its 8 rows');

-- the same answer as the totals and active customers computed apart
SELECT is((SELECT jsonb_object_agg(c.metric, c.current_value)
             FROM analytics.compare_periods(now() - interval '7 days', now(), now() - interval '14 days',
                                            now() - interval '7 days') c),
          (SELECT jsonb_build_object('revenue', a.revenue, 'orders', a.orders, 'units', a.units,
                                     'transactions', a.transactions,
                                     'avg_order_value', round(a.revenue / nullif(a.orders, 0), 2),
                                     'active_customers', analytics.active_customers(now() - interval '7 days', now()),
                                     'suspicious_rate', round(a.suspicious::numeric / nullif(a.transactions, 0), 4),
                                     'refunded_amount', a.refunded_amount)
             FROM analytics.sales_totals(now() - interval '7 days', now()) a),
          'compare_periods: the current values are the totals of the range');

SELECT * FROM finish();
ROLLBACK;
