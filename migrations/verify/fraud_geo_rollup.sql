-- Verify techmart:fraud_geo_rollup
SELECT hour, country, slot, transactions, suspicious, completed, revenue, scored, score_sum, located, latitude_e9,
       longitude_e9
  FROM analytics.geo_hourly WHERE false;
SELECT 1/(count(*) = 4)::int FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname LIKE 'transactions_geo_%';
SELECT 'analytics.geo_hourly_check(timestamptz, timestamptz)'::regprocedure, 'analytics.geo_hourly_statement()'::regprocedure,
       'analytics.rollup_check_sales(timestamptz, timestamptz)'::regprocedure;
SELECT 1/(position('geo_hourly_rebuild' IN pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure)) > 0)::int;
