-- Verify techmart:analytics_args
SELECT 1/(analytics.arg_valid(true, 'x') AND analytics.arg_valid(NULL, 'x'))::int;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.breakdown(text, timestamptz, timestamptz, integer)'::regprocedure
   AND prosrc LIKE '%analytics.arg_valid(p_dim IN%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.low_stock(timestamptz, integer, numeric, integer)'::regprocedure
   AND prosrc LIKE '%analytics.arg_valid(p_velocity_days >= 1%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.sales_totals(timestamptz, timestamptz, text, text)'::regprocedure
   AND prosrc LIKE '%dimension must be all%' AND proconfig @> ARRAY['plan_cache_mode=force_generic_plan'];
