-- Verify techmart:analytics_args_customers
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rfm(timestamptz, interval)'::regprocedure
   AND prosrc LIKE '%window must be positive%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.customer_lifetime_value(timestamptz, integer, integer)'::regprocedure
   AND prosrc LIKE '%horizon months must be >= 0%';
