-- pgTAP: hourly sales series across DST changes and in zones whose offset is not a whole hour
-- (migrations/deploy/hourly_sales_utc.sql). analytics.sales_series('hour', ...) and the C items of
-- api.hourly_sales (analytics.hourly_sales_items / hourly_sales_json) give one row per UTC hour from
-- the one containing p_from to before p_to: the count of hours, period_start strictly increasing
-- one hour apart (no phantom row when clocks go forward, no merged row when they go back, no row
-- shifted by :30 or :45), each row the sum of the rollup rows of its hour, the totals those of the
-- range, the label the local wall-clock time with its UTC offset; the C items the very jsonb of the
-- SQL construction. The local days of the changes of Europe/Berlin, America/New_York,
-- Europe/London, Australia/Lord_Howe (30-minute DST), Pacific/Apia (2011-12-30 skipped), a day of
-- Asia/Kolkata (+05:30) and Asia/Kathmandu (+05:45), and short ranges across each change with their
-- labels. api.forecast_revenue('hour') across a change: consecutive UTC hours after the history.
-- Rollup rows written directly (rolled back).
BEGIN;
SELECT plan(17);

-- the series and the api answer with a business time zone (set for the transaction, as a DBA does)
CREATE FUNCTION pg_temp.series(p_tz text, p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (n bigint, period_start timestamptz, label text, revenue numeric, orders bigint, units bigint,
               transactions bigint, refunded_amount numeric, suspicious bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN QUERY SELECT row_number() OVER (), s.period_start, s.label, s.revenue, s.orders, s.units, s.transactions,
                      s.refunded_amount, s.suspicious
                 FROM analytics.sales_series('hour', p_from, p_to, p_dim, p_key) s;
END $$;
CREATE FUNCTION pg_temp.hourly(p_tz text, p_from timestamptz, p_to timestamptz, p_dim text, p_key text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN api.hourly_sales(p_from, p_to, p_dim, p_key);
END $$;
CREATE FUNCTION pg_temp.forecast(p_tz text, p_granularity text, p_horizon int, p_as_of timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  RETURN api.forecast_revenue(p_granularity, p_horizon, NULL, NULL, p_as_of);
END $$;
-- the construction the C answer must equal (change overview_rollups' body of api.hourly_sales, with the
-- label and timezone of change hourly_sales_label)
CREATE FUNCTION pg_temp.hourly_sql(p_tz text, p_from timestamptz, p_to timestamptz, p_dim text, p_key text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE v_items jsonb;
BEGIN
  PERFORM set_config('analytics.business_timezone', p_tz, true);
  SELECT coalesce(jsonb_agg(i ORDER BY i.hour), '[]') INTO v_items
    FROM (SELECT s.period_start AS hour, s.label, s.revenue, s.orders, s.units, s.transactions, s.suspicious, s.refunded_amount
            FROM analytics.sales_series('hour', p_from, p_to, p_dim, CASE WHEN p_dim = 'all' THEN '' ELSE p_key END) s) i;
  -- since change hourly_sales_label: each item with the series' label, the answer with its timezone
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'dimension', p_dim, 'key', p_key, 'timezone', p_tz,
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;

-- the cases: the local days of the changes (a range given in local time) and short ranges across each
-- change (partial hours at the ends included), with the number of UTC hours expected
CREATE TEMP TABLE cases (name text, tz text, f timestamptz, t timestamptz, hours int);
INSERT INTO cases VALUES
  ('Berlin spring day',        'Europe/Berlin',       '2027-03-28 00:00+01',    '2027-03-29 00:00+02',    23),
  ('Berlin autumn day',        'Europe/Berlin',       '2026-10-25 00:00+02',    '2026-10-26 00:00+01',    25),
  ('New York spring day',      'America/New_York',    '2026-03-08 00:00-05',    '2026-03-09 00:00-04',    23),
  ('New York autumn day',      'America/New_York',    '2026-11-01 00:00-04',    '2026-11-02 00:00-05',    25),
  ('London spring day',        'Europe/London',       '2026-03-29 00:00+00',    '2026-03-30 00:00+01',    23),
  ('London autumn day',        'Europe/London',       '2026-10-25 00:00+01',    '2026-10-26 00:00+00',    25),
  ('Lord Howe autumn day',     'Australia/Lord_Howe', '2026-04-05 00:00+11',    '2026-04-06 00:00+10:30', 25),  -- 24.5 h, from 13:00Z
  ('Lord Howe spring day',     'Australia/Lord_Howe', '2026-10-04 00:00+10:30', '2026-10-05 00:00+11',    24),  -- 23.5 h, from 13:00Z
  ('Kolkata day',              'Asia/Kolkata',        '2026-12-07 00:00+05:30', '2026-12-08 00:00+05:30', 25),  -- 18:00Z..18:00Z
  ('Kathmandu day',            'Asia/Kathmandu',      '2026-12-07 00:00+05:45', '2026-12-08 00:00+05:45', 25),
  ('Apia 2011-12-29 and 31',   'Pacific/Apia',        '2011-12-29 00:00-10',    '2011-12-31 00:00+14',    24),
  ('Berlin forward',           'Europe/Berlin',       '2027-03-27 23:00Z',      '2027-03-28 03:00Z',      4),
  ('Berlin back',              'Europe/Berlin',       '2026-10-24 23:00Z',      '2026-10-25 03:00Z',      4),
  ('New York forward',         'America/New_York',    '2026-03-08 05:00Z',      '2026-03-08 09:00Z',      4),
  ('New York back',            'America/New_York',    '2026-11-01 04:00Z',      '2026-11-01 08:00Z',      4),
  ('London forward',           'Europe/London',       '2026-03-29 00:00Z',      '2026-03-29 03:00Z',      3),
  ('London back',              'Europe/London',       '2026-10-25 00:00Z',      '2026-10-25 03:00Z',      3),
  ('Lord Howe back',           'Australia/Lord_Howe', '2026-04-04 13:00Z',      '2026-04-04 17:00Z',      4),
  ('Lord Howe forward',        'Australia/Lord_Howe', '2026-10-03 14:00Z',      '2026-10-03 17:00Z',      3),
  ('Kolkata partial ends',     'Asia/Kolkata',        '2026-12-07 03:10Z',      '2026-12-07 05:50Z',      3),
  ('Kathmandu',                'Asia/Kathmandu',      '2026-12-07 03:00Z',      '2026-12-07 05:00Z',      2),
  ('Apia skipped day',         'Pacific/Apia',        '2011-12-30 08:00Z',      '2011-12-30 12:00Z',      4);

-- rollup rows: every hour of the cases, two slots of the shop total and a country, numerics with
-- decimals (rows already there, from the seed, are kept: the expected sums are read from the table)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, refunded_amount, suspicious)
SELECT d.dim, h, d.key, d.slot, round((e % 997) * 1.123456789 / 7 + d.slot, 2 + (e % 5)::int), e % 13 + d.slot, e % 29,
       e % 31 + 1, CASE WHEN e % 5 = 0 THEN 0 ELSE round((e % 389) / 3.0, 3) END, e % 3
  FROM (SELECT DISTINCT h, (extract(epoch FROM h) / 3600)::bigint AS e
          FROM cases c, generate_series(analytics.hour_floor(c.f) - interval '2 hours', c.t + interval '2 hours', interval '1 hour') h) x,
       (VALUES ('all', '', 0::smallint), ('all', '', 1::smallint), ('country', 'DE', 0::smallint)) d(dim, key, slot)
ON CONFLICT DO NOTHING;
-- the shop's sales of every hour of the 14 days before the forecast's as_of (its default history of
-- 336 hours; the seed may or may not cover them: it ends today)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, transactions)
SELECT 'all', h, '', 0, 50 + (extract(hour FROM h) * 7) % 40, 1, 1
  FROM generate_series(timestamptz '2026-11-01 03:00Z' - interval '337 hours', '2026-11-01 03:00Z', interval '1 hour') h
ON CONFLICT DO NOTHING;

-- 1-3: the count of rows, the instants (strictly increasing, one hour apart from the UTC hour
-- containing p_from), and the rows against the rollup rows of their hour (each row, and the totals)
SELECT is_empty($$
  SELECT c.name, c.hours, count(s.n) FROM cases c LEFT JOIN LATERAL pg_temp.series(c.tz, c.f, c.t) s ON true
   GROUP BY c.name, c.hours, c.f, c.t
  HAVING count(s.n) <> c.hours OR count(s.n) <> ceil(extract(epoch FROM c.t - analytics.hour_floor(c.f)) / 3600)
$$, 'one row per UTC hour of the range: 23 on a spring day, 25 on an autumn day, 24.5 / 23.5 h days of Lord Howe, the short ranges');
SELECT is_empty($$
  SELECT c.name, s.n, s.period_start FROM cases c, pg_temp.series(c.tz, c.f, c.t) s
   WHERE s.period_start <> analytics.hour_floor(c.f) + (s.n - 1) * interval '1 hour'
  UNION ALL
  SELECT c.name, NULL, NULL FROM cases c, pg_temp.series(c.tz, c.f, c.t) s
   GROUP BY c.name HAVING count(DISTINCT s.period_start) <> count(*)
$$, 'period_start: strictly increasing, distinct, one hour apart from hour_floor(from), in every zone');
SELECT is_empty($$
  SELECT c.name, s.period_start FROM cases c, (VALUES ('all', ''), ('country', 'DE')) d(dim, key),
         pg_temp.series(c.tz, c.f, c.t, d.dim, d.key) s,
         LATERAL (SELECT sum(h.revenue) AS revenue, sum(h.orders) AS orders, sum(h.units) AS units,
                         sum(h.transactions) AS transactions, sum(h.refunded_amount) AS refunded_amount, sum(h.suspicious) AS suspicious
                    FROM analytics.sales_hourly h WHERE h.dim = d.dim AND h.key = d.key AND h.hour = s.period_start) r
   WHERE (s.revenue, s.orders, s.units, s.transactions, s.refunded_amount, s.suspicious)
         IS DISTINCT FROM (r.revenue, r.orders, r.units, r.transactions, r.refunded_amount, r.suspicious)
$$, 'each row is the sum of the rollup rows of its own UTC hour (nothing merged, nothing shifted)');
SELECT is_empty($$
  SELECT c.name FROM cases c,
         LATERAL (SELECT sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.transactions) AS transactions
                    FROM pg_temp.series(c.tz, c.f, c.t) s) s,
         LATERAL (SELECT sum(h.revenue) AS revenue, sum(h.orders) AS orders, sum(h.transactions) AS transactions
                    FROM analytics.sales_hourly h
                   WHERE h.dim = 'all' AND h.key = '' AND h.hour >= analytics.hour_floor(c.f) AND h.hour < c.t) r
   WHERE (s.revenue, s.orders, s.transactions) IS DISTINCT FROM (r.revenue, r.orders, r.transactions) OR r.revenue IS NULL
$$, 'the totals of each range are those of the rollup rows of its hours');

-- 5: the labels: the local wall-clock time with the UTC offset, in every row
SELECT is_empty($$
  SELECT c.name, s.label FROM cases c, pg_temp.series(c.tz, c.f, c.t) s,
         LATERAL (SELECT (s.period_start AT TIME ZONE c.tz) - (s.period_start AT TIME ZONE 'UTC') AS off) o
   WHERE s.label <> to_char(s.period_start AT TIME ZONE c.tz, 'YYYY-MM-DD"T"HH24:MI')
                    || CASE WHEN o.off < interval '0' THEN '-' || to_char(-o.off, 'HH24:MI') ELSE '+' || to_char(o.off, 'HH24:MI') END
      OR s.label::timestamptz <> s.period_start
      OR s.label !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d\d:\d\d$'
$$, 'labels: local time and UTC offset (YYYY-MM-DDTHH:MM+HH:MM), which read back as the row''s instant');
SELECT is_empty($$SELECT c.name, count(*) FROM cases c, pg_temp.series(c.tz, c.f, c.t) s GROUP BY c.name
                   HAVING count(DISTINCT s.label) <> count(*)$$, 'labels distinct within every range (a repeated hour has two offsets)');

-- 7-15: the labels of the short ranges across each change
SELECT is(array_agg(s.label ORDER BY s.n), x.want, x.name)
  FROM (VALUES
    ('Berlin forward', ARRAY['2027-03-28T00:00+01:00', '2027-03-28T01:00+01:00', '2027-03-28T03:00+02:00', '2027-03-28T04:00+02:00']),
    ('Berlin back', ARRAY['2026-10-25T01:00+02:00', '2026-10-25T02:00+02:00', '2026-10-25T02:00+01:00', '2026-10-25T03:00+01:00']),
    ('New York forward', ARRAY['2026-03-08T00:00-05:00', '2026-03-08T01:00-05:00', '2026-03-08T03:00-04:00', '2026-03-08T04:00-04:00']),
    ('New York back', ARRAY['2026-11-01T00:00-04:00', '2026-11-01T01:00-04:00', '2026-11-01T01:00-05:00', '2026-11-01T02:00-05:00']),
    ('London back', ARRAY['2026-10-25T01:00+01:00', '2026-10-25T01:00+00:00', '2026-10-25T02:00+00:00']),
    ('Lord Howe back', ARRAY['2026-04-05T00:00+11:00', '2026-04-05T01:00+11:00', '2026-04-05T01:30+10:30', '2026-04-05T02:30+10:30']),
    ('Lord Howe forward', ARRAY['2026-10-04T00:30+10:30', '2026-10-04T01:30+10:30', '2026-10-04T03:00+11:00']),
    ('Kolkata partial ends', ARRAY['2026-12-07T08:30+05:30', '2026-12-07T09:30+05:30', '2026-12-07T10:30+05:30']),
    ('Apia skipped day', ARRAY['2011-12-29T22:00-10:00', '2011-12-29T23:00-10:00', '2011-12-31T00:00+14:00', '2011-12-31T01:00+14:00'])
  ) x(name, want)
  JOIN cases c USING (name), pg_temp.series(c.tz, c.f, c.t) s
 GROUP BY x.name, x.want ORDER BY x.name;

-- 16: the C answer is the jsonb of the SQL construction, value, text and size, for every case and
-- two keys; its hours are the series' instants
SELECT is_empty($$
  SELECT c.name, d.dim FROM cases c, (VALUES ('all', NULL), ('country', 'DE')) d(dim, key),
         LATERAL (SELECT pg_temp.hourly(c.tz, c.f, c.t, d.dim, d.key) AS n, pg_temp.hourly_sql(c.tz, c.f, c.t, d.dim, d.key) AS o) x
   WHERE n IS DISTINCT FROM o OR n::text IS DISTINCT FROM o::text OR pg_column_size(n) IS DISTINCT FROM pg_column_size(o)
      OR (n->>'count')::int <> c.hours
      OR analytics.hourly_sales_items(c.f, c.t, d.dim, coalesce(d.key, ''), c.tz)::text IS DISTINCT FROM (o->'items')::text
$$, 'api.hourly_sales (C) = the SQL construction over analytics.sales_series, and its count the hours, in every case');

-- 17: the hourly forecast across New York's autumn change: the history's hours end at the UTC hour
-- containing as_of, the forecast's are the next UTC hours (no hour skipped where the local hour repeats)
SELECT is((SELECT string_agg(to_char(((p->>'t')::timestamptz - timestamptz '2026-11-01 03:00Z'), 'HH24'), ',' ORDER BY o)
             FROM jsonb_array_elements(pg_temp.forecast('America/New_York', 'hour', 6, '2026-11-01 03:40Z') -> 'forecast') WITH ORDINALITY f(p, o))
          || '|' || (SELECT (h->>'t')::timestamptz = '2026-11-01 02:00Z' FROM jsonb_array_elements(
                       pg_temp.forecast('America/New_York', 'hour', 6, '2026-11-01 03:40Z') -> 'history') WITH ORDINALITY x(h, o)
                     ORDER BY o DESC LIMIT 1),
          '00,01,02,03,04,05|true', 'hourly forecast across the autumn change: six consecutive UTC hours after the history');

SELECT * FROM finish();
ROLLBACK;
