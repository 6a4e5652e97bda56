-- Verify techmart:hourly_sales_label
-- the C functions at their label entry points; the items of Europe/Berlin's autumn change labelled as
-- analytics.sales_series labels the same hours
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_items(timestamptz, timestamptz, text, text, text)'::regprocedure
   AND prosrc = 'techmart_hourly_sales_items_label' AND provolatile = 's' AND proisstrict;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.hourly_sales_json(timestamptz, timestamptz, text, text, text, text)'::regprocedure
   AND prosrc = 'techmart_hourly_sales_json_label' AND provolatile = 's' AND NOT proisstrict;
SELECT 1/(string_agg(i->>'label', ',' ORDER BY o) = '2026-10-25T01:00+02:00,2026-10-25T02:00+02:00,2026-10-25T02:00+01:00')::int
  FROM jsonb_array_elements(analytics.hourly_sales_items('2026-10-24 23:00Z', '2026-10-25 02:00Z', 'all', '', 'Europe/Berlin'))
       WITH ORDINALITY x(i, o);
SELECT 1/(analytics.hourly_sales_json('2026-10-24 23:00Z', '2026-10-25 02:00Z', 'all', NULL, '', 'Asia/Kolkata')
          ->> 'timezone' = 'Asia/Kolkata')::int;
