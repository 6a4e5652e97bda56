-- Verify techmart:import_rebuilds_cheaper on pg
SELECT 'analytics.product_daily_from_hourly(timestamptz, timestamptz)'::regprocedure;
SELECT 1 / (position('analytics.product_daily_from_hourly(v_from' IN pg_get_functiondef('import.online_retail'::regproc)) > 0)::int;
SELECT 1 / (position('IN (SELECT unnest(p_customers))' IN pg_get_functiondef('analytics.customer_months_recompute'::regproc)) > 0)::int;
SELECT 1 / (position('IN (SELECT unnest(p_customers))' IN pg_get_functiondef('analytics.customer_order_spans_recompute'::regproc)) > 0)::int;
