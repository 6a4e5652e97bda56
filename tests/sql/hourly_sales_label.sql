-- pgTAP: every hourly item the API returns is labelled as analytics.sales_series('hour', ...) labels
-- the same hour (migrations/deploy/hourly_sales_label.sql): the local wall-clock time in the business
-- time zone with the UTC offset. The C items of api.hourly_sales (analytics.hourly_sales_items /
-- hourly_sales_json, extension/pg/hourly_items.cpp) against the series' label column, joined by hour,
-- across the DST changes of Europe/Berlin, America/New_York and Australia/Lord_Howe, in :30 and :45
-- zones, Pacific/Apia's skipped day, a local mean time offset with seconds (Europe/Amsterdam 1900),
-- years outside 1..9999, a zone abbreviation and any session TimeZone; the answer's timezone;
-- /dashboard/summary's hourly items; the points of api.forecast_revenue (hour and day). Rollup rows
-- written directly (rolled back).
BEGIN;
SELECT plan(14);

CREATE FUNCTION pg_temp.series(p_tz text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (n bigint, period_start timestamptz, label text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN QUERY SELECT row_number() OVER (ORDER BY s.period_start), s.period_start, s.label
                 FROM analytics.sales_series('hour', p_from, p_to) s;
END $$;
CREATE FUNCTION pg_temp.api_items(p_tz text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (n bigint, hour timestamptz, label text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN QUERY SELECT x.o, (x.i->>'hour')::timestamptz, x.i->>'label'
                 FROM jsonb_array_elements(api.hourly_sales(p_from, p_to)->'items') WITH ORDINALITY x(i, o);
END $$;
CREATE FUNCTION pg_temp.forecast(p_tz text, p_granularity text, p_horizon int, p_as_of timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN api.forecast_revenue(p_granularity, p_horizon, NULL, NULL, p_as_of);
END $$;

CREATE TEMP TABLE cases (name text, tz text, f timestamptz, t timestamptz);
INSERT INTO cases VALUES
  ('Berlin spring day',    'Europe/Berlin',       '2027-03-28 00:00+01',    '2027-03-29 00:00+02'),
  ('Berlin autumn day',    'Europe/Berlin',       '2026-10-25 00:00+02',    '2026-10-26 00:00+01'),
  ('New York autumn day',  'America/New_York',    '2026-11-01 00:00-04',    '2026-11-02 00:00-05'),
  ('New York spring day',  'America/New_York',    '2026-03-08 00:00-05',    '2026-03-09 00:00-04'),
  ('Lord Howe autumn day', 'Australia/Lord_Howe', '2026-04-05 00:00+11',    '2026-04-06 00:00+10:30'),
  ('Kolkata day',          'Asia/Kolkata',        '2026-12-07 00:00+05:30', '2026-12-08 00:00+05:30'),
  ('Kathmandu partial',    'Asia/Kathmandu',      '2026-12-07 03:10Z',      '2026-12-07 09:50Z'),
  ('Apia skipped day',     'Pacific/Apia',        '2011-12-29 12:00Z',      '2011-12-30 14:00Z'),
  ('Amsterdam 1900 (LMT)', 'Europe/Amsterdam',    '1899-12-31 22:00Z',      '1900-01-01 02:00Z'),
  ('UTC',                  'UTC',                 '2026-12-07 00:00Z',      '2026-12-07 05:00Z');
-- some rollup rows in the cases' hours (the labels do not depend on them; the figures still follow)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, refunded_amount, suspicious)
SELECT 'all', h, '', 0, 10 + extract(hour FROM h), 1, 1, 1, 0, 0
  FROM cases c, generate_series(analytics.hour_floor(c.f), c.t, interval '2 hours') h
ON CONFLICT DO NOTHING;

-- 1: the label of every item of api.hourly_sales is the series' label of the same hour, in every case
-- and with session TimeZones other than UTC (the label depends on the business zone only)
SET LOCAL TimeZone = 'UTC';
SELECT is_empty($$
  SELECT c.name, x.* FROM cases c,
         LATERAL (SELECT a.hour, a.label AS api_label, s.label AS series_label
                    FROM pg_temp.api_items(c.tz, c.f, c.t) a
                    FULL JOIN pg_temp.series(c.tz, c.f, c.t) s ON s.n = a.n AND s.period_start = a.hour) x
   WHERE x.api_label IS DISTINCT FROM x.series_label
  UNION ALL
  SELECT c.name, NULL, NULL, NULL FROM cases c WHERE NOT EXISTS (SELECT FROM pg_temp.api_items(c.tz, c.f, c.t))
$$, 'api.hourly_sales: each item''s label is analytics.sales_series(''hour'')''s label of the same hour (session UTC)');
SET LOCAL TimeZone = 'America/Los_Angeles';
SELECT is_empty($$
  SELECT c.name, x.* FROM cases c,
         LATERAL (SELECT a.hour, a.label AS api_label, s.label AS series_label
                    FROM pg_temp.api_items(c.tz, c.f, c.t) a
                    FULL JOIN pg_temp.series(c.tz, c.f, c.t) s ON s.n = a.n AND s.period_start = a.hour) x
   WHERE x.api_label IS DISTINCT FROM x.series_label
  UNION ALL
  SELECT c.name, NULL, NULL, NULL FROM cases c WHERE NOT EXISTS (SELECT FROM pg_temp.api_items(c.tz, c.f, c.t))
$$, 'the same with the session in America/Los_Angeles');
SET LOCAL TimeZone = 'Asia/Kathmandu';
SELECT is_empty($$
  SELECT c.name, x.* FROM cases c,
         LATERAL (SELECT a.hour, a.label AS api_label, s.label AS series_label
                    FROM pg_temp.api_items(c.tz, c.f, c.t) a
                    FULL JOIN pg_temp.series(c.tz, c.f, c.t) s ON s.n = a.n AND s.period_start = a.hour) x
   WHERE x.api_label IS DISTINCT FROM x.series_label
  UNION ALL
  SELECT c.name, NULL, NULL, NULL FROM cases c WHERE NOT EXISTS (SELECT FROM pg_temp.api_items(c.tz, c.f, c.t))
$$, 'the same with the session in Asia/Kathmandu (+05:45)');
SET LOCAL TimeZone = 'UTC';

-- 4-7: the labels themselves across the changes and in a :30 zone (literal, not recomputed)
SELECT is((SELECT string_agg(label, ',' ORDER BY n) FROM pg_temp.api_items('Europe/Berlin', '2026-10-24 23:00Z', '2026-10-25 03:00Z')),
          '2026-10-25T01:00+02:00,2026-10-25T02:00+02:00,2026-10-25T02:00+01:00,2026-10-25T03:00+01:00',
          'Berlin autumn change: the repeated 02:00 twice, with its two offsets');
SELECT is((SELECT string_agg(label, ',' ORDER BY n) FROM pg_temp.api_items('Europe/Berlin', '2027-03-27 23:00Z', '2027-03-28 03:00Z')),
          '2027-03-28T00:00+01:00,2027-03-28T01:00+01:00,2027-03-28T03:00+02:00,2027-03-28T04:00+02:00',
          'Berlin spring change: no 02:00');
SELECT is((SELECT string_agg(label, ',' ORDER BY n) FROM pg_temp.api_items('Asia/Kolkata', '2026-12-07 03:10Z', '2026-12-07 05:50Z')),
          '2026-12-07T08:30+05:30,2026-12-07T09:30+05:30,2026-12-07T10:30+05:30',
          'Kolkata (+05:30): each UTC hour at half past the local hour');
SELECT is((SELECT string_agg(label, ',' ORDER BY n) FROM pg_temp.api_items('Europe/Amsterdam', '1899-12-31 23:00Z', '1900-01-01 01:00Z')),
          '1899-12-31T23:19:32+00:19:32,1900-01-01T00:19:32+00:19:32',
          'a local mean time offset with seconds: the seconds in the time and the offset, as local_time_label writes them');

-- 8: the C items alone, any p_tz analytics.local_time_label accepts (fixed and dynamic abbreviations
-- looked up before the zone database as AT TIME ZONE does, zone names in any case, POSIX specifications, a year beyond
-- 9999 and one BC written by to_char), against analytics.local_time_label of each hour
SELECT is_empty($$
  SELECT z.tz, x.f, i->>'hour', i->>'label'
    FROM (VALUES ('EST'), ('MSK'), ('CEST'), ('Europe/Berlin'), ('europe/berlin'), ('Asia/Kathmandu'), ('UTC'), ('UTC+3'), ('<+0530>-5:30')) z(tz),
         (VALUES (timestamptz '2026-11-01 03:00Z', timestamptz '2026-11-01 09:00Z'),
                 (timestamptz '10000-01-01 00:00Z', timestamptz '10000-01-01 03:00Z'),
                 (timestamptz '0100-06-01 00:00Z BC', timestamptz '0100-06-01 03:00Z BC')) x(f, t),
         jsonb_array_elements(analytics.hourly_sales_items(x.f, x.t, 'all', '', z.tz)) i
   WHERE i->>'label' IS DISTINCT FROM analytics.local_time_label((i->>'hour')::timestamptz, z.tz)
  UNION ALL
  SELECT z.tz, NULL, NULL, NULL FROM (VALUES ('EST'), ('UTC')) z(tz)
   WHERE jsonb_array_length(analytics.hourly_sales_items('2026-11-01 03:00Z', '2026-11-01 09:00Z', 'all', '', z.tz)) <> 6
$$, 'analytics.hourly_sales_items: label = analytics.local_time_label(hour, p_tz) for an abbreviation, years 10000 and 100 BC');
SELECT throws_ok($$SELECT analytics.hourly_sales_items('2026-11-01 03:00Z', '2026-11-01 09:00Z', 'all', '', 'Mars/Olympus_Mons')$$,
                 '22023', NULL, 'an unknown zone: the error of AT TIME ZONE');

-- 10: the answer gives its zone
SELECT set_config('analytics.business_timezone', 'Asia/Kolkata', true) IS NOT NULL AS set_kolkata \gset
SELECT is(api.hourly_sales('2026-12-07 03:00Z', '2026-12-07 04:00Z')->>'timezone', 'Asia/Kolkata',
          'api.hourly_sales: timezone is the business time zone');

-- 11: /dashboard/summary's 24 hourly items are labelled as the series labels them
SELECT set_config('analytics.business_timezone', 'America/New_York', true) IS NOT NULL AS set_ny \gset
SELECT is_empty($$
  SELECT i->>'hour', i->>'label', s.label
    FROM jsonb_array_elements(api.dashboard_summary('2026-11-01 07:40Z')->'hourly_sales') i
    LEFT JOIN analytics.sales_series('hour', '2026-10-31 08:00Z', '2026-11-01 08:00Z') s ON s.period_start = (i->>'hour')::timestamptz
   WHERE s.label IS NULL OR i->>'label' IS DISTINCT FROM s.label
  UNION ALL
  SELECT 'count', NULL, NULL WHERE jsonb_array_length(api.dashboard_summary('2026-11-01 07:40Z')->'hourly_sales') <> 24
$$, '/dashboard/summary: its 24 hourly items across New York''s autumn change labelled as sales_series labels them');

-- 12-14: the forecast's points: hours labelled by local_time_label (the history's as the series' rows),
-- days by the business day, across the change (14 days of hourly history written before as_of)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, transactions)
SELECT 'all', h, '', 0, 50 + (extract(hour FROM h) * 7) % 40, 1, 1
  FROM generate_series(timestamptz '2026-11-01 03:00Z' - interval '337 hours', '2026-11-01 03:00Z', interval '1 hour') h
ON CONFLICT DO NOTHING;
SELECT is_empty($$
  SELECT p->>'t', p->>'label' FROM jsonb_array_elements(pg_temp.forecast('America/New_York', 'hour', 8, '2026-11-01 03:40Z') -> 'history') p
    LEFT JOIN analytics.sales_series('hour', '2026-10-18 03:00Z', '2026-11-01 03:00Z') s ON s.period_start = (p->>'t')::timestamptz
   WHERE s.label IS NULL OR p->>'label' IS DISTINCT FROM s.label
$$, 'hourly forecast: each history point''s label is the series'' label of its hour');
SELECT is((SELECT string_agg(p->>'label', ',' ORDER BY o)
             FROM jsonb_array_elements(pg_temp.forecast('America/New_York', 'hour', 4, '2026-11-01 04:40Z') -> 'forecast') WITH ORDINALITY f(p, o)),
          '2026-11-01T00:00-04:00,2026-11-01T01:00-04:00,2026-11-01T01:00-05:00,2026-11-01T02:00-05:00',
          'hourly forecast across New York''s autumn change: the repeated 01:00 with both offsets');
SELECT is_empty($$
  SELECT p->>'t', p->>'label' FROM jsonb_array_elements(pg_temp.forecast('Asia/Kolkata', 'day', 3, '2026-11-01 03:40Z') -> 'forecast') p
   WHERE p->>'label' IS DISTINCT FROM ((p->>'t')::timestamptz AT TIME ZONE 'Asia/Kolkata')::date::text
      OR (p->>'t')::timestamptz AT TIME ZONE 'Asia/Kolkata' <> ((p->>'t')::timestamptz AT TIME ZONE 'Asia/Kolkata')::date
  UNION ALL
  SELECT p->>'t', p->>'label' FROM jsonb_array_elements(pg_temp.forecast('Asia/Kolkata', 'day', 3, '2026-11-01 03:40Z') -> 'history') p
    LEFT JOIN analytics.sales_series('day', '2026-08-01 00:00+05:30', '2026-11-01 00:00+05:30') s ON s.period_start = (p->>'t')::timestamptz
   WHERE s.label IS NULL OR p->>'label' IS DISTINCT FROM s.label
$$, 'daily forecast (Kolkata): points labelled with the business day (their t is a local midnight, the UTC date the day before)');

SELECT * FROM finish();
ROLLBACK;
