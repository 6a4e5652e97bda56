-- Verify techmart:hourly_sales_utc
-- the C functions at their UTC entry points (or, since change hourly_sales_label, the labelled UTC ones); Europe/Berlin's autumn change: three UTC hours, three rows
-- with distinct instants and the labels with their offsets; the items agree with the series
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_items(timestamptz, timestamptz, text, text, text)'::regprocedure
   AND prosrc IN ('techmart_hourly_sales_items_utc', 'techmart_hourly_sales_items_label') AND provolatile = 's' AND proisstrict;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text)'::regprocedure
   AND prosrc IN ('techmart_hourly_sales_json_utc', 'techmart_hourly_sales_json_label') AND provolatile = 's' AND NOT proisstrict;
SELECT 1/(analytics.local_time_label('2026-10-25 00:00Z', 'Europe/Berlin') = '2026-10-25T02:00+02:00'
          AND analytics.local_time_label('2026-10-25 01:00Z', 'Europe/Berlin') = '2026-10-25T02:00+01:00'
          AND analytics.local_time_label('2026-12-07 04:00Z', 'Asia/Kolkata') = '2026-12-07T09:30+05:30')::int;
SELECT 1/(jsonb_array_length(analytics.hourly_sales_items('2026-10-24 23:00Z', '2026-10-25 02:00Z', 'all', '', 'Europe/Berlin')) = 3)::int;
SELECT 1/(count(DISTINCT period_start) = 3)::int FROM analytics.sales_series('hour', '2026-10-24 23:00Z', '2026-10-25 02:00Z');
