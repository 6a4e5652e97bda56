-- Verify techmart:hourly_sales_c
-- the C function and api.hourly_sales calling it; an empty range and one hour without rows
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_items(timestamptz, timestamptz, text, text, text)'::regprocedure
   AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND provolatile = 's' AND proisstrict;
-- (since change hourly_sales_json api.hourly_sales returns analytics.hourly_sales_json, the same items)
SELECT 1/count(*) FROM pg_proc WHERE oid = 'api.hourly_sales(timestamptz, timestamptz, text, text)'::regprocedure
   AND (prosrc LIKE '%analytics.hourly_sales_items(%' OR prosrc LIKE '%analytics.hourly_sales_json(%')
   AND prosrc NOT LIKE '%jsonb_agg(i %';
SELECT 1/(analytics.hourly_sales_items('2000-01-01 00:00Z', '2000-01-01 00:00Z', 'all', '', 'UTC') = '[]')::int;
-- (since change hourly_sales_label each item also has its label)
SELECT 1/(jsonb_array_length(analytics.hourly_sales_items('1900-01-01 00:00Z', '1900-01-01 01:00Z', 'all', '', 'UTC')) = 1
          AND (analytics.hourly_sales_items('1900-01-01 00:00Z', '1900-01-01 01:00Z', 'all', '', 'UTC') -> 0) - 'label'
          = jsonb_build_object('hour', timestamptz '1900-01-01 00:00Z', 'revenue', 0, 'orders', 0, 'units', 0,
                               'transactions', 0, 'suspicious', 0, 'refunded_amount', 0))::int;
