-- pgTAP: api.hourly_sales with the C functions analytics.hourly_sales_items and analytics.hourly_sales_json
-- (migrations/deploy/hourly_sales_c.sql, hourly_sales_json.sql) gives the very jsonb of its previous construction, jsonb_agg(i ORDER BY i.hour) of the rows of
-- analytics.sales_series (pg_temp.hourly_sales_old below: the body of change overview_rollups): the same
-- value, the same text (keys, numbers with their scale, hours in the session TimeZone) and the same
-- size, for ranges across DST changes in several business time zones and session time zones
-- (Pacific/Apia skipped 2011-12-30; one item per UTC hour since change hourly_sales_utc, tests/sql/hourly_sales_utc.sql;
-- each item with the series' label and the answer with its timezone since change hourly_sales_label), empty and one-hour ranges,
-- partial hours, every dimension, numerics with many decimals, NaN and +/-Infinity sums, and the same
-- errors (bigint overflow of a sum included). Rollup rows written directly in 2011/2021 (rolled back).
BEGIN;
SELECT plan(27);

CREATE FUNCTION pg_temp.hourly_sales_old(p_from timestamptz, p_to timestamptz, p_dimension text DEFAULT 'all', p_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_items jsonb;
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of all, product, category, country, platform, payment_method"}]';
  ELSIF p_dimension <> 'all' AND p_key IS NULL THEN
    errs := errs || '[{"field":"key","message":"is required for a dimension other than all"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid hourly sales query');
  SELECT coalesce(jsonb_agg(i ORDER BY i.hour), '[]')
    INTO v_items
    FROM (SELECT s.period_start AS hour, s.label, s.revenue, s.orders, s.units, s.transactions, s.suspicious, s.refunded_amount
            FROM analytics.sales_series('hour', p_from, p_to, p_dimension,
                                        CASE WHEN p_dimension = 'all' THEN '' ELSE p_key END) s) i;
  -- since change hourly_sales_label: each item with the series' label, the answer with its timezone
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'dimension', p_dimension, 'key', p_key,
                            'timezone', analytics.business_timezone(), 'items', v_items, 'count', jsonb_array_length(v_items));
END $$;

-- the result or the error of a statement, as text
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; msg text; det text; hint text;
BEGIN
  EXECUTE q INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN format('ERROR %s: %s | %s | %s', st, msg, det, hint);
END $$;

-- rollup rows: every hour of three periods around DST changes, two slots of the shop total and one
-- row of each dimension; numerics with many decimals, a NaN and an Infinity among the countries
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, refunded_amount, suspicious)
SELECT d.dim, h, d.key, d.slot,
       CASE d.key WHEN 'NA' THEN 'NaN'::numeric WHEN 'IN' THEN 'Infinity'::numeric WHEN 'MI' THEN '-Infinity'::numeric
                  ELSE round((e % 997) * 1.123456789012345678901234 / 7 - d.slot * 100, 2 + (e % 23)::int) END,
       e % 13 + d.slot, e % 29, e % 31 + 1,
       CASE WHEN e % 5 = 0 THEN 0 ELSE round((e % 389) / 3.0, (e % 17)::int) END,
       e % 3
  FROM (SELECT h, (extract(epoch FROM h) / 3600)::bigint AS e
          FROM generate_series(timestamptz '2011-12-27 00:00Z', '2012-01-02 00:00Z', interval '1 hour') h
        UNION ALL
        SELECT h, (extract(epoch FROM h) / 3600)::bigint FROM generate_series(timestamptz '2021-03-10 00:00Z', '2021-03-30 00:00Z', interval '1 hour') h
        UNION ALL
        SELECT h, (extract(epoch FROM h) / 3600)::bigint FROM generate_series(timestamptz '2021-10-29 00:00Z', '2021-11-09 00:00Z', interval '1 hour') h) x,
       (VALUES ('all', '', 0::smallint), ('all', '', 1::smallint), ('product', '7', 0::smallint), ('category', '3', 0::smallint),
               ('country', 'DE', 0::smallint), ('country', 'NA', 0::smallint), ('country', 'IN', 0::smallint),
               ('country', 'MI', 0::smallint), ('platform', 'web', 0::smallint), ('payment_method', 'card', 0::smallint)) d(dim, key, slot)
ON CONFLICT DO NOTHING;

-- the ranges: across the changes (whole and partial hours), one hour, a partial hour, empty, no rows
CREATE TEMP TABLE cases (f timestamptz, t timestamptz);
INSERT INTO cases VALUES
  ('2011-12-28 13:00Z', '2012-01-01 02:00Z'), ('2011-12-29 09:37Z', '2011-12-31 11:12Z'),
  ('2021-03-12 00:00Z', '2021-03-16 00:00Z'), ('2021-03-27 10:15Z', '2021-03-29 03:45Z'),
  ('2021-10-30 00:00Z', '2021-11-01 00:00Z'), ('2021-11-06 22:30Z', '2021-11-08 01:00Z'),
  ('2021-03-11 00:00Z', '2021-03-28 00:00Z'),
  ('2021-03-13 05:00Z', '2021-03-13 06:00Z'), ('2021-03-13 05:10Z', '2021-03-13 05:50Z'),
  ('2021-03-13 05:00Z', '2021-03-13 05:00Z'), ('2019-02-01 00:00Z', '2019-02-02 00:00Z');
CREATE TEMP TABLE dims (dim text, key text);
INSERT INTO dims VALUES ('all', NULL), ('all', 'ignored'), ('product', '7'), ('category', '3'), ('country', 'DE'),
  ('country', 'NA'), ('country', 'IN'), ('country', 'MI'), ('country', 'XX'), ('platform', 'web'), ('payment_method', 'card');

-- the cases whose new result differs from the old one in value, text or size
-- (api.hourly_sales = analytics.hourly_sales_json; analytics.hourly_sales_items = its items)
CREATE FUNCTION pg_temp.differences() RETURNS TABLE (f timestamptz, t timestamptz, dim text, key text, new text, old text)
LANGUAGE sql AS $$
  SELECT c.f, c.t, d.dim, d.key, n::text, o::text
    FROM cases c, dims d,
         LATERAL (SELECT api.hourly_sales(c.f, c.t, d.dim, d.key) AS n, pg_temp.hourly_sales_old(c.f, c.t, d.dim, d.key) AS o,
                         analytics.hourly_sales_items(c.f, c.t, d.dim, CASE WHEN d.dim = 'all' THEN '' ELSE d.key END,
                                                      analytics.business_timezone()) AS ni) x
   WHERE n IS DISTINCT FROM o OR n::text IS DISTINCT FROM o::text OR pg_column_size(n) IS DISTINCT FROM pg_column_size(o)
      OR ni::text IS DISTINCT FROM (o->'items')::text OR pg_column_size(ni) IS DISTINCT FROM pg_column_size(o->'items')
$$;

SET LOCAL analytics.business_timezone = 'UTC';
SET LOCAL TimeZone = 'UTC';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business UTC, session UTC: the same jsonb as jsonb_agg');
SET LOCAL analytics.business_timezone = 'Europe/Berlin';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business Europe/Berlin, session UTC: the same jsonb');
SET LOCAL TimeZone = 'America/Sao_Paulo';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business Europe/Berlin, session America/Sao_Paulo: the same jsonb');
SET LOCAL analytics.business_timezone = 'America/New_York';
SET LOCAL TimeZone = 'Europe/Berlin';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business America/New_York, session Europe/Berlin: the same jsonb');
SET LOCAL analytics.business_timezone = 'Asia/Kolkata';
SET LOCAL TimeZone = 'Asia/Kathmandu';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business Asia/Kolkata (+05:30), session Asia/Kathmandu (+05:45): the same jsonb');
SET LOCAL analytics.business_timezone = 'Australia/Lord_Howe';
SET LOCAL TimeZone = 'Australia/Lord_Howe';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business and session Australia/Lord_Howe (DST of 30 minutes): the same jsonb');
SET LOCAL analytics.business_timezone = 'Pacific/Apia';
SET LOCAL TimeZone = 'Pacific/Apia';
SELECT is_empty($$SELECT * FROM pg_temp.differences()$$, 'business and session Pacific/Apia (2011-12-30 skipped): the same jsonb');
-- the Apia range (a local day that did not exist): since change hourly_sales_utc one item per UTC hour,
-- distinct and in order (before, local hours: equal and decreasing hours)
SELECT is((SELECT count(*) || ' items, ' || count(DISTINCT i->>'hour') || ' hours, '
                  || bool_and((i->>'hour')::timestamptz = timestamptz '2011-12-28 13:00Z' + (o - 1) * interval '1 hour')
             FROM jsonb_array_elements(api.hourly_sales('2011-12-28 13:00Z', '2012-01-01 02:00Z')->'items') WITH ORDINALITY x(i, o)),
          '85 items, 85 hours, true', 'Apia: one item per UTC hour, in order, across the skipped local day');
SET LOCAL TimeZone = 'UTC';

-- what the cases cover (business time zone America/New_York; UTC hours since change hourly_sales_utc)
SET LOCAL analytics.business_timezone = 'America/New_York';
SELECT is((SELECT count(*) || ' items, ' || count(DISTINCT i->>'hour') || ' hours'
             FROM jsonb_array_elements(api.hourly_sales('2021-03-13 05:00Z', '2021-03-15 04:00Z')->'items') i),
          '47 items, 47 hours', 'New York: the 47 UTC hours across the spring change, no phantom 02:00 (change hourly_sales_utc)');
SELECT is((api.hourly_sales('2021-11-06 04:00Z', '2021-11-08 05:00Z')->>'count')::int, 49,
          'New York: the 49 UTC hours across the autumn change, the repeated local hour twice (change hourly_sales_utc)');
SELECT is(api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 05:00Z')->'items', '[]'::jsonb, 'empty range: []');
SELECT is((api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 05:00Z')->>'count')::int, 0, 'empty range: count 0');
SELECT is(api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 06:00Z', 'country', 'DE')->'items',
          (SELECT jsonb_build_array(jsonb_build_object('hour', timestamptz '2021-03-13 05:00Z',
                                                       'label', analytics.local_time_label('2021-03-13 05:00Z', 'America/New_York'),
                                                       'revenue', revenue, 'orders', orders,
                                                       'units', units, 'transactions', transactions, 'suspicious', suspicious,
                                                       'refunded_amount', refunded_amount))
             FROM analytics.sales_hourly WHERE dim = 'country' AND key = 'DE' AND hour = '2021-03-13 05:00Z'),
          'one hour: the row''s figures, numerics with their scale');
SELECT is(api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 06:00Z', 'country', 'NA')->'items'->0->>'revenue', 'NaN',
          'a NaN sum is the string NaN, as to_jsonb writes it');

-- the errors: the same SQLSTATE, message, detail and hint
SELECT is(pg_temp.outcome(format('SELECT api.hourly_sales(%L, %L, %L, %L)', f, t, d, k)),
          pg_temp.outcome(format('SELECT pg_temp.hourly_sales_old(%L, %L, %L, %L)', f, t, d, k)),
          format('the same error for (%s, %s, %s, %s)', f, t, d, k))
  FROM (VALUES ('2021-03-29', '2021-03-28', 'all', NULL), ('2021-03-28', '2021-03-29', 'product', NULL),
               ('2021-03-28', '2021-03-29', 'region', 'x')) v(f, t, d, k)
 WHERE pg_temp.outcome(format('SELECT api.hourly_sales(%L, %L, %L, %L)', f, t, d, k)) LIKE 'ERROR 22023:%';

-- sums out of the range of bigint: the same error (the cast of the numeric sum)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, orders) VALUES
  ('country', '2021-03-13 05:00Z', 'BG', 0, 9223372036854775000), ('country', '2021-03-13 05:00Z', 'BG', 1, 9223372036854775000);
SELECT is(pg_temp.outcome($$SELECT api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 07:00Z', 'country', 'BG')$$),
          pg_temp.outcome($$SELECT pg_temp.hourly_sales_old('2021-03-13 05:00Z', '2021-03-13 07:00Z', 'country', 'BG')$$),
          'a sum out of the range of bigint: the same error');
SELECT matches(pg_temp.outcome($$SELECT api.hourly_sales('2021-03-13 05:00Z', '2021-03-13 07:00Z', 'country', 'BG')$$),
               '^ERROR 22003: bigint out of range', 'which is 22003 bigint out of range');

-- the C function alone: STRICT, and in a parallel worker (a forced parallel plan; it reads the rollups by SPI)
SELECT is(analytics.hourly_sales_items('2021-03-13 05:00Z', NULL, 'all', '', 'UTC'), NULL, 'STRICT: NULL in, NULL out');
SELECT is(analytics.hourly_sales_json('2021-03-13 05:00Z', '2021-03-13 06:00Z', 'all', '', NULL, 'UTC'), NULL,
          'hourly_sales_json: NULL lookup key, NULL');
SELECT is(analytics.hourly_sales_json('2021-03-13 05:00Z', '2021-03-13 06:00Z', 'country', NULL, 'DE', 'UTC')->'key', 'null'::jsonb,
          'hourly_sales_json: a NULL key is JSON null');
SELECT throws_ok($$SELECT analytics.hourly_sales_json('2021-03-13 05:00Z', 'infinity', 'all', NULL, '', 'UTC')$$, '22023',
                 'analytics.hourly_sales_json: from and to must be finite', 'hourly_sales_json: an infinite bound refused');
SELECT throws_ok($$SELECT analytics.hourly_sales_items('-infinity', '2021-03-13 05:00Z', 'all', '', 'UTC')$$, '22023',
                 'analytics.hourly_sales_items: from and to must be finite', 'an infinite bound refused (the series would not end)');
SET LOCAL analytics.business_timezone = 'Europe/Berlin';
SET LOCAL TimeZone = 'America/New_York';
CREATE TEMP TABLE serial_items AS
SELECT c.f, c.t, d.dim, d.key, analytics.hourly_sales_items(c.f, c.t, d.dim, coalesce(d.key, ''), 'Europe/Berlin') AS items
  FROM cases c, dims d WHERE d.dim <> 'all' OR d.key IS NULL;
CREATE TABLE public.hsc_cases AS SELECT f, t, dim, key FROM serial_items;
ANALYZE public.hsc_cases;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SELECT set_config(name, 'on', true) IS NOT NULL AS forced FROM pg_settings WHERE name IN ('debug_parallel_query', 'force_parallel_mode') \gset
CREATE TEMP TABLE hsc_plan (line text);
DO $$
DECLARE r record;
BEGIN
  FOR r IN EXPLAIN SELECT analytics.hourly_sales_items(f, t, dim, coalesce(key, ''), 'Europe/Berlin') FROM public.hsc_cases LOOP
    INSERT INTO hsc_plan VALUES (r."QUERY PLAN");
  END LOOP;
END $$;
SELECT ok(EXISTS (SELECT 1 FROM hsc_plan WHERE line LIKE '%Gather%'), 'the plan is parallel (Gather)');
CREATE TEMP TABLE parallel_items AS
SELECT f, t, dim, key, analytics.hourly_sales_items(f, t, dim, coalesce(key, ''), 'Europe/Berlin') AS items FROM public.hsc_cases;
SELECT is_empty($$SELECT * FROM serial_items s JOIN parallel_items p USING (f, t, dim)
                   WHERE s.key IS NOT DISTINCT FROM p.key AND s.items::text IS DISTINCT FROM p.items::text$$,
                'in a parallel worker: the same items');
SELECT is((SELECT count(*) FROM parallel_items), (SELECT count(*) FROM serial_items), 'every case computed in parallel too');

SELECT * FROM finish();
ROLLBACK;
