-- pgTAP: analytics.sales_series and analytics.revenue_growth refuse an infinite bound and an unknown
-- period with 22023 (migrations/deploy/analytics_series_args.sql) instead of running away: before,
-- generate_series from '-infinity' never ended and the sort's temporary files filled the disk. The
-- statement timeout and temp_file_limit below only keep a regression from doing that again (it then
-- fails with 57014 / 53400 instead of 22023). NULL bounds still give no rows, a finite range its rows.
BEGIN;
SELECT plan(12);
SET LOCAL statement_timeout = '20s';
SET LOCAL temp_file_limit = '20MB';
SET LOCAL analytics.business_timezone = 'UTC';

SELECT throws_ok($$SELECT count(*) FROM analytics.sales_series('day', '-infinity', '2026-12-01Z')$$, '22023', NULL,
                 'sales_series day from -infinity: 22023');
SELECT throws_ok($$SELECT count(*) FROM analytics.sales_series('hour', '2026-12-01Z', 'infinity')$$, '22023', NULL,
                 'sales_series hour to infinity: 22023');
SELECT throws_ok($$SELECT count(*) FROM analytics.sales_series('month', '-infinity', 'infinity')$$, '22023', NULL,
                 'sales_series month over (-infinity, infinity): 22023');
SELECT throws_ok($$SELECT count(*) FROM analytics.revenue_growth('week', '-infinity', '2026-12-01Z')$$, '22023', NULL,
                 'revenue_growth from -infinity: 22023');
SELECT throws_ok($$SELECT count(*) FROM analytics.sales_series('fortnight', '2026-11-01Z', '2026-12-01Z')$$, '22023',
                 'period must be hour, day, week, month or year, got fortnight',
                 'an unknown period: 22023 naming the allowed ones');
-- called with parameters (not inlined with constants): the guard is a one-time filter
PREPARE series(text, timestamptz, timestamptz) AS SELECT count(*) FROM analytics.sales_series($1, $2, $3);
SELECT throws_ok($$EXECUTE series('day', '-infinity', '2026-12-01Z')$$, '22023', NULL, 'prepared: -infinity 22023');
SELECT throws_ok($$EXECUTE series('fortnight', '2026-11-01Z', '2026-12-01Z')$$, '22023', NULL, 'prepared: unknown period 22023');
SELECT is((SELECT count(*) FROM analytics.sales_series('day', NULL, '2026-12-01Z')), 0::bigint, 'a NULL bound: no rows');
SELECT is((SELECT count(*) FROM analytics.sales_series(NULL, '2026-11-01Z', '2026-12-01Z')), 0::bigint, 'a NULL period: no rows');
SELECT is((SELECT count(*) FROM analytics.sales_series('day', '2026-11-01Z', '2026-11-08Z')), 7::bigint,
          'a finite week: seven days');
SELECT is((SELECT count(*) FROM analytics.sales_series('hour', '2026-11-01Z', '2026-11-02Z')), 24::bigint,
          'a finite day: 24 hours');
SELECT is((SELECT count(*) FROM analytics.sales_series('day', '2026-11-08Z', '2026-11-01Z')), 0::bigint,
          'a reversed finite range: no rows, no error');

SELECT * FROM finish();
ROLLBACK;
