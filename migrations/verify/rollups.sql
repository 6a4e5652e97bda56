-- Verify techmart:rollups
SELECT dim, hour, key, slot, revenue, orders, units, transactions, completed, refunded, refunded_amount,
       blocked, failed, pending, suspicious, customers_hll
  FROM analytics.sales_hourly WHERE false;
SELECT order_number, lines FROM analytics.order_registry WHERE false;
SELECT 'analytics.rollup_check(timestamptz,timestamptz)'::regprocedure,
       'analytics.rollup_rebuild(timestamptz,timestamptz)'::regprocedure,
       'analytics.rollup_insert_trigger()'::regprocedure;
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transactions_rollup_ins' AND tgrelid = 'transactions'::regclass;
