-- pgTAP: GET /fraud/geo's countries from the hourly rollup analytics.geo_hourly (migrations/deploy/fraud_geo_rollup.sql).
-- api.fraud_geo's countries equal, byte for byte, the old definition computed from the lines (every line of the window
-- grouped by country) over aligned, ragged, empty, one-hour, two-partial-hour windows and windows across a DST change
-- and in a half-hour time zone, after single and multi-row INSERT, COPY, UPDATE of score / location / country / time /
-- status / suspicious, DELETE, retention (lines removed without their rollups), the bulk import, rollup_rebuild and
-- TRUNCATE; analytics.rollup_check() covers geo_hourly; a window of whole hours reads no line of transactions (the
-- old definition read all of them). Customers and products 94xxxx, lines in March 2018 (before the seed).
BEGIN;
SELECT plan(31);
SET client_min_messages = warning;

SELECT is((SELECT count(*)::int FROM pg_trigger t
            WHERE t.tgrelid = 'public.transactions'::regclass
              AND (t.tgfoid = 'analytics.geo_hourly_statement()'::regprocedure
                   AND t.tgname IN ('transactions_geo_ins', 'transactions_geo_upd', 'transactions_geo_del')
                   OR t.tgfoid = 'analytics.geo_hourly_trigger()'::regprocedure AND t.tgname = 'transactions_geo_trunc')),
          4, 'the INSERT, UPDATE, DELETE (C) and TRUNCATE statement triggers on transactions');
SELECT is_empty($$SELECT * FROM analytics.rollup_check() WHERE metric LIKE 'geo%'$$,
                'the seeded database: geo_hourly exact (rollup_check, metrics geo_*)');

SET LOCAL techmart.scoring = 'off';
SET LOCAL techmart.track_stock = 'off';
INSERT INTO categories (id, name) VALUES (940001, 'geo cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 940000 + i, 'GEO-' || i, 'geo product ' || i, 940001, 5, 100000 FROM generate_series(1, 4) i;
INSERT INTO customers (id, email, name, country)
SELECT 940000 + i, 'geo' || i || '@example.com', 'Geo ' || i, 'DE' FROM generate_series(1, 9) i;

-- the old definition, verbatim (migrations/deploy/api_rest.sql): every line of the window grouped by country
CREATE FUNCTION pg_temp.old(p_from timestamptz, p_to timestamptz) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'country', c.country, 'transactions', c.n, 'suspicious', c.susp,
           'suspicious_rate', round(c.susp::numeric / c.n, 4), 'average_score', c.avg_score,
           'revenue', c.revenue, 'latitude', c.lat, 'longitude', c.lon) ORDER BY c.susp DESC, c.n DESC, c.country), '[]')
    FROM (SELECT coalesce(t.country, '') AS country, count(*) AS n, count(*) FILTER (WHERE t.is_suspicious) AS susp,
                 round(avg(t.fraud_score), 2) AS avg_score,
                 coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0) AS revenue,
                 round(avg(t.latitude)::numeric, 4) AS lat, round(avg(t.longitude)::numeric, 4) AS lon
            FROM transactions t
           WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
           GROUP BY 1) c
$$;
-- the new definition from the lines: the mean location round(sum((coordinate * 1e9)::bigint) / (n * 1e9), 4)
CREATE FUNCTION pg_temp.ref(p_from timestamptz, p_to timestamptz) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'country', c.country, 'transactions', c.n, 'suspicious', c.susp,
           'suspicious_rate', round(c.susp::numeric / c.n, 4), 'average_score', c.avg_score,
           'revenue', c.revenue, 'latitude', c.lat, 'longitude', c.lon) ORDER BY c.susp DESC, c.n DESC, c.country), '[]')
    FROM (SELECT coalesce(t.country, '') AS country, count(*) AS n, count(*) FILTER (WHERE t.is_suspicious) AS susp,
                 round(avg(t.fraud_score), 2) AS avg_score,
                 coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0) AS revenue,
                 round(sum((t.latitude * 1e9::float8)::bigint) / (count(t.latitude) * 1e9), 4) AS lat,
                 round(sum((t.longitude * 1e9::float8)::bigint) / (count(t.longitude) * 1e9), 4) AS lon
            FROM transactions t
           WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
           GROUP BY 1) c
$$;
-- the windows (text: some are read in the session's time zone, set per check)
CREATE TEMP TABLE windows (f text, t text);
INSERT INTO windows VALUES
  ('2018-03-09 00:00Z', '2018-03-14 00:00Z'),            -- aligned, every line
  ('2018-03-10 00:00Z', '2018-03-11 00:00Z'),            -- aligned, one day
  ('2018-03-09 10:17:33Z', '2018-03-12 19:42:01.5Z'),    -- ragged at both ends
  ('2018-03-10 05:10Z', '2018-03-10 05:50Z'),            -- within one hour
  ('2018-03-10 05:10Z', '2018-03-10 06:20Z'),            -- two partial hours, no whole one
  ('2018-03-10 05:00Z', '2018-03-10 06:00Z'),            -- one whole hour
  ('2018-03-20 00:00Z', '2018-03-21 00:00Z'),            -- empty
  ('2018-03-13 23:59Z', '2018-03-14 00:01Z'),            -- around the end of the lines
  ('2017-06-01 00:00Z', '2018-03-11 12:34Z'),            -- from before any line
  ('2018-03-10 22:30', '2018-03-11 05:15'),              -- local: across the DST change in America/New_York
  ('2018-03-11 01:00', '2018-03-11 03:30'),              -- local: the missing hour
  ('2018-03-10 10:00+05:30', '2018-03-12 08:45+05:30');  -- half-hour offset
CREATE FUNCTION pg_temp.bad(p_ref text) RETURNS TABLE (f text, t text, tz text) LANGUAGE plpgsql AS $$
DECLARE
  z text;
  w record;
  a jsonb;
  b jsonb;
BEGIN
  FOREACH z IN ARRAY ARRAY['UTC', 'America/New_York', 'Asia/Kolkata'] LOOP
    PERFORM set_config('TimeZone', z, true);
    FOR w IN SELECT * FROM windows LOOP
      a := api.fraud_geo(w.f::timestamptz, w.t::timestamptz, 0)->'countries';
      b := CASE p_ref WHEN 'old' THEN pg_temp.old(w.f::timestamptz, w.t::timestamptz)
                      ELSE pg_temp.ref(w.f::timestamptz, w.t::timestamptz) END;
      IF a::text IS DISTINCT FROM b::text THEN
        f := w.f; t := w.t; tz := z;
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
  PERFORM set_config('TimeZone', 'UTC', true);
END $$;
SET LOCAL TimeZone = 'UTC';

-- single-row INSERTs (the trigger's statement of variables), one a statement
DO $$
BEGIN
  FOR i IN 1..40 LOOP
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status,
                              country, latitude, longitude, fraud_score, is_suspicious)
    VALUES (940001 + i % 9, 940001 + i % 4, 1 + i % 3, 3.333 + i, 'paypal',
            '2018-03-09 00:00Z'::timestamptz + i * interval '2 hours 17 minutes 13.25 seconds',
            (ARRAY['completed', 'completed', 'pending', 'refunded', 'failed'])[1 + i % 5],
            (ARRAY['DE', 'FR', NULL, 'US'])[1 + i % 4],
            CASE WHEN i % 6 <> 0 THEN 48.856613 + i * 0.1234567 END, CASE WHEN i % 6 <> 0 THEN 2.352222 - i * 0.7654321 END,
            CASE WHEN i % 7 <> 0 THEN (i * 37) % 100 + 0.25 END, i % 3 = 0);
  END LOOP;
END $$;
SELECT is((SELECT sum(transactions) FROM analytics.geo_hourly WHERE hour >= '2018-03-01Z' AND hour < '2018-04-01Z'),
          40::numeric, 'single-row INSERTs: their lines in geo_hourly');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'single-row INSERTs: rollup_check empty');

-- a multi-row INSERT (300 lines over five days: every country, scores and locations with many decimals, NULLs)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status,
                          country, latitude, longitude, fraud_score, is_suspicious, order_number)
SELECT 940001 + i % 9, 940001 + i % 4, 1 + i % 5, round(1.5 + (i * 7919 % 1000) / 7.0, 3), 'credit_card',
       '2018-03-09 00:00Z'::timestamptz + (i * 1439) * interval '1 second' * 1.001,
       (ARRAY['completed', 'completed', 'completed', 'pending', 'refunded', 'blocked'])[1 + i % 6],
       (ARRAY['DE', 'FR', NULL, 'US', 'JP', 'BR'])[1 + i % 6],
       CASE WHEN i % 5 <> 0 THEN -33.8688197 + (i * 104729 % 10000) / 150.0 END,
       CASE WHEN i % 5 <> 0 THEN 151.2092955 - (i * 7919 % 10000) / 31.0 END,
       CASE WHEN i % 11 <> 0 THEN (i * 7919) % 10000 / 100.0 END, i % 4 = 0,
       CASE WHEN i % 3 = 0 THEN 'GEO-O' || i / 6 END
  FROM generate_series(1, 300) i;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'multi-row INSERT: rollup_check empty');
SELECT is_empty($$SELECT * FROM pg_temp.bad('old')$$,
                'after the inserts: the countries equal the old definition from the lines (every window, three time zones)');
SELECT is_empty($$SELECT * FROM pg_temp.bad('ref')$$,
                'after the inserts: the countries equal the new definition from the lines');

COPY transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, country, latitude, longitude, fraud_score, is_suspicious) FROM STDIN;
940002	940001	2	3	paypal	2018-03-10 05:20:00+00	completed	FR	43.296482	5.36978	77.70	t
940003	940002	1	3	paypal	2018-03-10 05:40:00+00	completed	\N	\N	\N	\N	f
940004	940003	4	3	paypal	2018-03-11 07:30:00+00	pending	JP	35.689487	139.691711	12.00	f
\.
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'COPY: rollup_check empty');

-- updates of each figure the map reads
UPDATE transactions SET fraud_score = fraud_score + 1.5 WHERE customer_id = 940002 AND fraud_score < 90;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'UPDATE of fraud_score: exact');
UPDATE transactions SET fraud_score = NULL WHERE customer_id = 940003 AND product_id = 940002;
UPDATE transactions SET fraud_score = 50 WHERE customer_id = 940004 AND fraud_score IS NULL;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'UPDATE of fraud_score to and from NULL: exact');
UPDATE transactions SET latitude = latitude - 1.000001, longitude = longitude + 0.3333333 WHERE customer_id = 940005 AND latitude IS NOT NULL;
UPDATE transactions SET latitude = NULL, longitude = NULL WHERE customer_id = 940006 AND product_id = 940003;
UPDATE transactions SET latitude = 51.507351, longitude = -0.127758 WHERE customer_id = 940007 AND latitude IS NULL;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'UPDATE of the location (moved, removed, added): exact');
UPDATE transactions SET country = 'GB' WHERE customer_id = 940008 AND product_id IN (940001, 940002);
UPDATE transactions SET country = NULL WHERE customer_id = 940009 AND country = 'US';
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-04-01')$$, 'UPDATE of the country (to another, to none): exact');
UPDATE transactions SET transaction_time = transaction_time + interval '3 hours 31 minutes' WHERE customer_id = 940001;
UPDATE transactions SET transaction_time = transaction_time + interval '40 days' WHERE customer_id = 940002 AND product_id = 940004;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'UPDATE of transaction_time (across hours, out of the windows): exact');
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'refunded' WHEN 'pending' THEN 'completed' ELSE 'completed' END
 WHERE customer_id = 940003;
UPDATE transactions SET is_suspicious = NOT is_suspicious, amount = amount + 1 WHERE customer_id = 940004;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'UPDATE of status, is_suspicious, amount: exact');
UPDATE transactions SET label = 'fraud', labelled_at = now() WHERE customer_id = 940005;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'UPDATE of a label (nothing to write): exact');
SELECT is_empty($$SELECT * FROM pg_temp.bad('ref')$$, 'after the updates: the countries equal the definition from the lines');
SELECT is_empty($$SELECT * FROM pg_temp.bad('old')$$, 'after the updates: and the old definition');

DELETE FROM transactions WHERE customer_id = 940006 AND transaction_time < '2018-03-11 13:00Z';
DELETE FROM transactions WHERE customer_id BETWEEN 940001 AND 940009 AND country = 'JP';
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'DELETE: exact');
SELECT is_empty($$SELECT * FROM pg_temp.bad('ref')$$, 'after the deletes: the countries equal the definition from the lines');

-- a window of whole hours reads the rollup, not the lines (before this change: every line of the window)
SELECT (SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_xact_user_tables
         WHERE relid = 'public.transactions'::regclass) AS reads_before \gset
CREATE TEMP TABLE reads AS SELECT api.fraud_geo('2018-03-09 00:00Z', '2018-03-14 00:00Z', 0) AS j;
SELECT cmp_ok((SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_xact_user_tables
                WHERE relid = 'public.transactions'::regclass) - :reads_before, '<', 10::numeric,
              'a window of whole hours holding ~340 lines: fewer than 10 lines of transactions read (the oldest line, those before its next hour)');
SELECT is((SELECT sum((c->>'transactions')::int)::int FROM reads, jsonb_array_elements(j->'countries') c),
          (SELECT count(*)::int FROM transactions WHERE transaction_time >= '2018-03-09Z' AND transaction_time < '2018-03-14Z'),
          '... and counts them all');

-- retention: lines removed without their rollups (as a dropped partition; replica: no trigger fires), ending inside
-- an hour: the rollup's hours before the oldest kept line are not read
SET LOCAL session_replication_role = replica;
DELETE FROM transactions WHERE transaction_time < '2018-03-10 05:30Z';
SET LOCAL session_replication_role = origin;
SELECT isnt_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-03-11')$$,
                  'retention: the rollups of the removed lines are kept (rollup_check shows them)');
SELECT is_empty($$SELECT * FROM pg_temp.bad('ref')$$,
                'retention: the countries are those of the kept lines (windows from before the oldest kept line)');
SELECT analytics.rollup_rebuild('2018-03-01', '2018-05-01') IS NOT NULL AS rebuilt \gset
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'rollup_rebuild: geo_hourly exact again');

-- a wrong figure is reported and rollup_rebuild repairs it
UPDATE analytics.geo_hourly SET score_sum = score_sum + 1 WHERE hour = '2018-03-12 10:00Z' AND slot = 0 AND country = 'DE';
SELECT is((SELECT array_agg(metric) FROM analytics.rollup_check('2018-03-01', '2018-05-01')), '{geo_score_sum}',
          'rollup_check reports a wrong score sum');
SELECT analytics.rollup_rebuild('2018-03-12 10:30Z', '2018-03-12 10:45Z') IS NOT NULL AS rebuilt \gset
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'rollup_rebuild of its hour repairs it');

-- the bulk import (session_replication_role = replica: no trigger fires): rollup_rebuild rebuilds geo_hourly too
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw
SELECT '9942' || lpad(g::text, 2, '0'), 'GEO-' || (1 + g % 3)::text, 'geo product', (1 + g % 4)::text,
       format('2018-03-%s 1%s:%s:00', lpad((20 + g % 5)::text, 2, '0'), g % 10, lpad(g::text, 2, '0')), '2.5', '99941.0',
       (ARRAY['France', 'Germany', 'Japan'])[1 + g % 3]
  FROM generate_series(1, 59) g ORDER BY g;
SELECT ok(position($$'transactions_geo_ins'$$ IN pg_get_functiondef('import.online_retail'::regproc)) > 0
          AND (SELECT count(*) FROM import.online_retail('geo.csv')) > 0,
          'the import''s bulk path accepts transactions_geo_ins; the import runs (its notice: "bulk path")');
SELECT is((SELECT count(*) FROM transactions WHERE transaction_time >= '2018-03-20Z' AND transaction_time < '2018-03-25Z'), 59::bigint,
          'the import wrote its lines');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2018-03-01', '2018-05-01')$$, 'after the bulk import: exact');
SELECT is_empty($$SELECT * FROM pg_temp.bad('ref')$$, 'after the import: the countries equal the definition from the lines');

TRUNCATE transactions CASCADE;
SELECT is((SELECT count(*) FROM analytics.geo_hourly), 0::bigint, 'TRUNCATE empties geo_hourly');

SELECT * FROM finish();
ROLLBACK;
