-- pgTAP: statistics aggregates and functions (docs/statistics.md). Needs no application table.
BEGIN;
SELECT plan(41);

CREATE TEMP TABLE st_u AS SELECT g::float8 AS x FROM generate_series(1, 10000) g;
CREATE TEMP TABLE st_ln AS SELECT exp(g / 2000.0)::float8 AS x, g % 24 AS grp FROM generate_series(1, 20000) g;

-- ------------------------------------------------------------------ percentile
SELECT ok((SELECT bool_and(ok) FROM (
                 SELECT abs(techmart.percentile(x, q::float8) - percentile_cont(q) WITHIN GROUP (ORDER BY x))
                        <= 0.01 * abs(percentile_cont(q) WITHIN GROUP (ORDER BY x)) AS ok
                   FROM st_u, unnest(ARRAY[0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) q GROUP BY q) s),
          'percentile(x, q) within 1% of percentile_cont on 1..10000 at 8 quantiles');
SELECT ok((SELECT bool_and(abs(p - pc) <= 0.01 * abs(pc)) FROM (
             SELECT unnest(techmart.percentile(x, ARRAY[0.5, 0.95, 0.99])) p,
                    unnest(percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY x)) pc FROM st_ln) s),
          'array form within 1% of percentile_cont on exponential data');
SELECT is((SELECT cardinality(techmart.percentile(x, ARRAY[0.1, 0.2, 0.3])) FROM st_u), 3, 'array form: one value per quantile');
SELECT is((SELECT techmart.percentile(x, ARRAY[0, 0.5, 1]) FROM (VALUES (1::float8), (NULL), (3), (NULL), (5)) v(x)),
          (SELECT techmart.percentile(x, ARRAY[0, 0.5, 1]) FROM (VALUES (1::float8), (3), (5)) v(x)),
          'NULLs are ignored');
SELECT is((SELECT techmart.percentile(x, ARRAY[0, 1]) FROM (VALUES (1::float8), (NULL), (3), (NULL), (5)) v(x)),
          ARRAY[1, 5]::float8[], 'q = 0 and q = 1 are the exact minimum and maximum');
SELECT is((SELECT techmart.percentile(x, 0.5) FROM st_u WHERE false), NULL, 'empty input gives NULL');
SELECT is((SELECT techmart.percentile(x, ARRAY[0.5]) FROM st_u WHERE false), NULL, 'empty input gives NULL (array form)');
SELECT ok((SELECT abs(techmart.percentile(x, 0.25) - percentile_cont(0.25) WITHIN GROUP (ORDER BY x))
                  <= 0.01 * abs(percentile_cont(0.25) WITHIN GROUP (ORDER BY x))
             FROM (SELECT -g::float8 AS x FROM generate_series(1, 1000) g UNION ALL SELECT 0 FROM generate_series(1, 10)) s),
          'negative values and zeros');
SELECT throws_ok('SELECT techmart.percentile(x, 1.5) FROM (VALUES (1::float8)) v(x)', '22023', NULL, 'q outside [0, 1] is 22023');
SELECT throws_ok($$SELECT techmart.percentile(x, 0.5) FROM (VALUES ('NaN'::float8)) v(x)$$, '22023', NULL, 'NaN input is 22023');

-- forced parallel plan over >= 100k rows
CREATE TABLE st_big AS SELECT (random() * 1000)::float8 AS x, g::bigint AS id FROM generate_series(1, 200000) g;
ANALYZE st_big;
CREATE TEMP TABLE st_serial AS
  SELECT techmart.percentile(x, ARRAY[0.5, 0.95, 0.99]) p, techmart.hll_cardinality(techmart.hll_add_agg(id)) h,
         (techmart.moments(x)).variance v, techmart.qsketch_agg(x) s FROM st_big;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
CREATE TEMP TABLE st_plan (line text);
DO $$
DECLARE r record;
BEGIN
  FOR r IN EXPLAIN SELECT techmart.percentile(x, ARRAY[0.5, 0.95, 0.99]), techmart.hll_add_agg(id), techmart.moments(x),
                          techmart.qsketch_agg(x) FROM st_big LOOP
    INSERT INTO st_plan VALUES (r."QUERY PLAN");
  END LOOP;
END $$;
SELECT ok(EXISTS (SELECT 1 FROM st_plan WHERE line LIKE '%Partial Aggregate%'), 'the plan is parallel (Partial Aggregate)');
SELECT is((SELECT techmart.percentile(x, ARRAY[0.5, 0.95, 0.99]) FROM st_big), (SELECT p FROM st_serial),
          'parallel percentile = serial percentile');
SELECT is((SELECT techmart.qsketch_agg(x) FROM st_big), (SELECT s FROM st_serial), 'parallel sketch = serial sketch (bytes)');
SELECT is((SELECT techmart.hll_cardinality(techmart.hll_add_agg(id)) FROM st_big), (SELECT h FROM st_serial),
          'parallel hll = serial hll');
SELECT ok((SELECT abs((techmart.moments(x)).variance - v) <= 1e-9 * v FROM st_big, st_serial GROUP BY v),
          'parallel moments = serial moments (to rounding)');
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;

-- ------------------------------------------------------------------ stored sketches
CREATE TEMP TABLE st_hourly AS SELECT grp, techmart.qsketch_agg(x) s FROM st_ln GROUP BY grp;
SELECT is((SELECT techmart.qsketch_merge_agg(s) FROM st_hourly), (SELECT techmart.qsketch_agg(x) FROM st_ln),
          'per-group sketches merged later = one pass over all rows');
SELECT is((SELECT techmart.qsketch_quantiles(techmart.qsketch_merge_agg(s), ARRAY[0.5, 0.99]) FROM st_hourly),
          (SELECT techmart.percentile(x, ARRAY[0.5, 0.99]) FROM st_ln), 'quantiles of the merged sketch = percentile()');
SELECT is((SELECT techmart.qsketch_quantile(techmart.qsketch_agg(x), 0.95) FROM st_u), (SELECT techmart.percentile(x, 0.95) FROM st_u),
          'qsketch_quantile = percentile');
SELECT ok((SELECT abs(techmart.qsketch_cdf(techmart.qsketch_agg(x), 2500) - 0.25) < 0.01 FROM st_u), 'qsketch_cdf(2500) ~ 0.25');
SELECT is((SELECT techmart.qsketch_count(techmart.qsketch_agg(x)) FROM st_ln), 20000::bigint, 'qsketch_count is exact');
SELECT throws_ok($$SELECT techmart.qsketch_quantile('\x01000000000000000000'::bytea, 0.5)$$, '22023', NULL,
                 'crafted (truncated) sketch bytes are 22023');
SELECT throws_ok($$SELECT techmart.qsketch_quantile('\x0100' || substr(techmart.qsketch_agg(1), 3) || '\x00'::bytea, 0.5)$$,
                 '22023', NULL, 'trailing garbage is 22023');
SELECT throws_ok($$SELECT techmart.qsketch_merge_agg(s) FROM (VALUES ('\x07'::bytea)) v(s)$$, '22023', NULL,
                 'merging garbage is 22023');

-- ------------------------------------------------------------------ HyperLogLog
SELECT ok((SELECT abs(techmart.hll_cardinality(techmart.hll_add_agg(id % 50000)) - count(DISTINCT id % 50000))
                  <= 0.02 * count(DISTINCT id % 50000) FROM st_big), 'hll within 2% of count(distinct)');
SELECT ok((SELECT abs(techmart.hll_cardinality(techmart.hll_union(a, b)) - 30000) <= 600
             FROM (SELECT techmart.hll_add_agg(g) a FROM generate_series(1, 20000) g) x,
                  (SELECT techmart.hll_add_agg(g) b FROM generate_series(10001, 30000) g) y), 'hll_union counts the union');
SELECT is((SELECT techmart.hll_union_agg(s) FROM (SELECT techmart.hll_add_agg(id) s FROM st_big GROUP BY id % 7) p),
          (SELECT techmart.hll_add_agg(id) FROM st_big), 'hll_union_agg of parts = one pass');
SELECT is(techmart.hll_cardinality(techmart.hll_empty()), 0::float8, 'empty hll counts 0');
SELECT is(techmart.hll_cardinality(techmart.hll_add(techmart.hll_add(NULL, 42), 42)), techmart.hll_cardinality(techmart.hll_add(techmart.hll_empty(), 42)),
          'hll_add: NULL sketch is empty, duplicates count once');
SELECT throws_ok($$SELECT techmart.hll_cardinality('\x010e0109'::bytea)$$, '22023', NULL, 'crafted hll bytes are 22023');

-- hll_union_agg keeps the registers of sketches stored out of line per backend, keyed by their TOAST
-- pointer: the result must always be the union of the bytes stored now (|| '' makes an in-memory copy,
-- merged from its bytes)
CREATE TEMP TABLE st_hll (h int PRIMARY KEY, s bytea);
ALTER TABLE st_hll ALTER s SET STORAGE EXTERNAL;
INSERT INTO st_hll SELECT h, techmart.hll_add_agg((h * 1000003 + g) % 50000) FROM generate_series(1, 6) h, generate_series(1, 7000) g GROUP BY h;
INSERT INTO st_hll VALUES (7, techmart.hll_add(NULL, 1)), (8, NULL);  -- inline and NULL beside them
CREATE FUNCTION pg_temp.st_hll_same() RETURNS boolean LANGUAGE sql AS $$
  SELECT (SELECT techmart.hll_union_agg(s) FROM st_hll) = (SELECT techmart.hll_union_agg(s || '') FROM st_hll)
$$;
SELECT ok((SELECT count(*) = 6 FROM st_hll WHERE pg_column_size(s) > 10000) AND pg_temp.st_hll_same() AND pg_temp.st_hll_same(),
          'hll_union_agg of sketches stored out of line (twice: the second from the cache) = the union of their bytes');
UPDATE st_hll SET s = techmart.hll_union(s, (SELECT techmart.hll_add_agg(g) FROM generate_series(100000, 130000) g)) WHERE h = 3;
SELECT ok(pg_temp.st_hll_same() AND pg_temp.st_hll_same(), 'an updated sketch is read anew (a new TOAST value)');
SAVEPOINT st_hll_sp;
UPDATE st_hll SET s = (SELECT techmart.hll_add_agg(g) FROM generate_series(200000, 260000) g) WHERE h IN (1, 2);
SELECT ok(pg_temp.st_hll_same(), 'sketches written by the current transaction');
ROLLBACK TO SAVEPOINT st_hll_sp;
SELECT ok(pg_temp.st_hll_same() AND (SELECT techmart.hll_cardinality(techmart.hll_union_agg(s)) < 100000 FROM st_hll),
          'after a rollback the stored sketches count again');
INSERT INTO st_hll VALUES (9, '\x010f01'::bytea || decode(repeat('00', 32768), 'hex'));
SELECT throws_ok($$SELECT techmart.hll_union_agg(s) FROM st_hll$$, '22023', NULL,
                 'a stored sketch of another precision is 22023 (merged from the cache or not)');
UPDATE st_hll SET s = decode(repeat('07', 20000), 'hex') WHERE h = 9;
SELECT throws_ok($$SELECT techmart.hll_union_agg(s) FROM st_hll$$, '22023', NULL, 'stored garbage out of line is 22023');

-- ------------------------------------------------------------------ moments, ewma, robust z
SELECT ok((SELECT (m).count = count(x) AND abs((m).mean - avg(x)) < 1e-9 * abs(avg(x))
                  AND abs((m).variance - var_samp(x)) < 1e-9 * var_samp(x) AND abs((m).stddev - stddev_samp(x)) < 1e-9 * stddev_samp(x)
             FROM (SELECT techmart.moments(x) m FROM st_ln) a, st_ln GROUP BY m), 'moments = count/avg/var_samp/stddev_samp');
SELECT is((SELECT array_agg(e ORDER BY t) FROM (SELECT t, techmart.ewma(v, 0.5) OVER (ORDER BY t) e
             FROM (VALUES (1, 10::float8), (2, 20), (3, NULL), (4, 0)) d(t, v)) s),
          ARRAY[10, 15, 15, 7.5]::float8[], 'ewma as a window function');
SELECT is(techmart.robust_zscore(12, 10, 2), 0.6745::float8, 'robust_zscore');

-- ------------------------------------------------------------------ forecast, anomalies
SELECT ok((SELECT count(*) = 14 AND bool_and(lower <= point AND point <= upper) AND min(step) = 1 AND max(step) = 14
             FROM techmart.forecast(ARRAY(SELECT 1000 + 5 * g + 100 * sin(2 * pi() * g / 7) + 20 * random()
                                             FROM generate_series(1, 84) g), 14)),
          'forecast returns horizon rows with lower <= point <= upper');
SELECT throws_ok('SELECT * FROM techmart.forecast(ARRAY[1, 2, 3, 4, 5]::float8[], 3)', '22023', NULL,
                 'fewer than two seasons is 22023');
SELECT is((SELECT array_agg(idx) FROM techmart.detect_anomalies(
             ARRAY(SELECT 100 + 30 * sin(2 * pi() * g / 24) + CASE WHEN g = 200 THEN 300 ELSE 0 END + (g % 5)
                     FROM generate_series(1, 24 * 14) g), 24, 0.999) WHERE is_anomaly), ARRAY[200],
          'detect_anomalies flags exactly the planted spike');

SELECT * FROM finish();
ROLLBACK;
