-- Verify techmart:product_sales_daily
SELECT day, product_id, revenue, orders, units, pending_units, refund_units, transactions, suspicious FROM analytics.product_daily WHERE false;
SELECT hour, product_id, pending_units, refund_units FROM analytics.product_units_hourly WHERE false;
SELECT 1/(count(*) = 4)::int FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname LIKE 'transactions_sales_daily_%';
SELECT 'analytics.product_sales(timestamptz, timestamptz)'::regprocedure, 'analytics.product_units_since(timestamptz)'::regprocedure;
