-- Verify techmart:analytics_series_args
-- the guard exists and the series calls it; a finite range still answers
SELECT 1/(analytics.series_args_valid('day', '2026-01-01Z', '2026-01-02Z'))::int;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.sales_series(text, timestamptz, timestamptz, text, text)'::regprocedure
   AND prosrc LIKE '%analytics.series_args_valid(p_period, p_from, p_to)%';
SELECT 1/(count(*) BETWEEN 1 AND 2)::int FROM analytics.sales_series('day', '2026-01-01Z', '2026-01-02Z');
