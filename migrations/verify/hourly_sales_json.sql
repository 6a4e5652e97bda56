-- Verify techmart:hourly_sales_json
-- the C function and api.hourly_sales returning it; an empty range and one hour without rows
-- (since change hourly_sales_label the answer also has its timezone)
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text)'::regprocedure
   AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AND provolatile = 's' AND NOT proisstrict;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'api.hourly_sales(timestamptz, timestamptz, text, text)'::regprocedure
   AND prosrc LIKE '%analytics.hourly_sales_json(%' AND prosrc NOT LIKE '%jsonb_build_object(''from''%';
SELECT 1/(analytics.hourly_sales_json('2000-01-01 00:00Z', '2000-01-01 00:00Z', 'all', NULL, '', 'UTC') - 'timezone'
          = jsonb_build_object('from', timestamptz '2000-01-01 00:00Z', 'to', timestamptz '2000-01-01 00:00Z', 'dimension', 'all',
                               'key', NULL, 'items', '[]'::jsonb, 'count', 0))::int;
SELECT 1/(analytics.hourly_sales_json('1900-01-01 00:00Z', '1900-01-01 01:00Z', 'all', 'x', '', 'UTC') - 'timezone'
          = jsonb_build_object('from', timestamptz '1900-01-01 00:00Z', 'to', timestamptz '1900-01-01 01:00Z', 'dimension', 'all',
                               'key', 'x', 'items', analytics.hourly_sales_items('1900-01-01 00:00Z', '1900-01-01 01:00Z', 'all', '', 'UTC'),
                               'count', 1))::int;
