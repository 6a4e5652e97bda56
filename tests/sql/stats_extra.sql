-- pgTAP: techmart.cdf(x, v) and techmart.median_mad(x) (fragment 20-statistics-extra; the rest of
-- the statistics functions is tested in statistics.sql). Needs no application table.
BEGIN;
SELECT plan(33);

-- ------------------------------------------------------------------ declarations
SELECT is((SELECT array_agg(p.proname || ':' || p.provolatile::text || p.proisstrict::text || p.proparallel::text ORDER BY p.proname, p.oid)
             FROM pg_proc p WHERE p.pronamespace = 'techmart'::regnamespace
              AND p.proname IN ('cdf_trans', 'cdf_combine', 'cdf_serialize', 'cdf_deserialize', 'cdf_final',
                                'median_mad_trans', 'median_mad_combine', 'median_mad_serialize',
                                'median_mad_deserialize', 'median_mad_final')),
          ARRAY['cdf_combine:ifalses', 'cdf_deserialize:itrues', 'cdf_final:ifalses', 'cdf_serialize:itrues',
                'cdf_trans:ifalses', 'median_mad_combine:ifalses', 'median_mad_deserialize:itrues',
                'median_mad_final:ifalses', 'median_mad_serialize:itrues', 'median_mad_trans:ifalses'],
          'support functions: IMMUTABLE, PARALLEL SAFE; (de)serialize STRICT, the others handle NULL themselves');
SELECT is((SELECT array_agg(a.aggfnoid::regproc::text || ':' || a.aggfinalmodify::text || ':' || (a.aggcombinefn <> 0)::text
                            || ':' || (a.aggdeserialfn <> 0)::text || ':' || p.proparallel::text ORDER BY 1)
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
            WHERE a.aggfnoid::regproc::text IN ('techmart.cdf', 'techmart.median_mad')),
          ARRAY['techmart.cdf:r:true:true:s', 'techmart.median_mad:r:true:true:s'],
          'aggregates: FINALFUNC_MODIFY READ_ONLY, combine + deserialize, PARALLEL SAFE');

-- ------------------------------------------------------------------ cdf: values
CREATE TEMP TABLE sx_u AS SELECT g, g::float8 AS x, (g % 5) AS grp FROM generate_series(1, 20000) g;
SELECT ok(abs(techmart.cdf(x, 5000) - 0.25) <= 0.005, 'cdf at the first quartile of 1..20000 is 0.25 (+-0.5%)')
  FROM sx_u;
SELECT is(techmart.cdf(x, 0), 0::float8, 'cdf below the minimum is exactly 0') FROM sx_u;
SELECT is(techmart.cdf(x, 20000), 1::float8, 'cdf at the maximum is exactly 1') FROM sx_u;
SELECT ok(bool_and(abs(c - exact) <= 0.01), 'cdf per group (GROUP BY) within 0.01 of the exact fraction')
  FROM (SELECT grp, techmart.cdf(x, 7777) c, avg((x <= 7777)::int) exact FROM sx_u GROUP BY grp) q;
SELECT ok(abs(techmart.cdf(x, -1) - (SELECT avg((v <= -1)::int) FROM (SELECT (g - 10000) / 100.0 v FROM sx_u) z)) <= 0.01,
          'cdf with negative values and zeros')
  FROM (SELECT ((g - 10000) / 100.0)::float8 x FROM sx_u) y;
SELECT is(techmart.cdf(x, 2), 0.5::float8, 'NULL values are ignored')
  FROM (VALUES (1::float8), (NULL), (3), (NULL)) v(x);
SELECT is(techmart.cdf(x, 1), NULL::float8, 'no rows: NULL') FROM sx_u WHERE false;
SELECT is(techmart.cdf(NULL::float8, 1), NULL::float8, 'only NULL values: NULL');
SELECT throws_ok($$SELECT techmart.cdf(x, 1) FROM (VALUES ('NaN'::float8)) v(x)$$, '22023', NULL,
                 'a NaN value: 22023');
SELECT throws_ok($$SELECT techmart.cdf(x, 'NaN') FROM (VALUES (1::float8)) v(x)$$, '22023', NULL,
                 'v = NaN: 22023');
SELECT throws_ok($$SELECT techmart.cdf(x, NULL) FROM (VALUES (1::float8)) v(x)$$, '22004', NULL,
                 'v NULL: 22004');

-- ------------------------------------------------------------- median_mad: values
SELECT is((techmart.median_mad(x)).median, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM sx_u),
          'median = percentile_cont(0.5)') FROM sx_u;
SELECT is((SELECT (techmart.median_mad(x)).mad FROM sx_u),
          (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x - 10000.5)) FROM sx_u),
          'mad = percentile_cont(0.5) of |x - median|');
SELECT is((SELECT row(m.median, m.mad)::text FROM (SELECT (techmart.median_mad(x)).* FROM (VALUES (1::float8), (2), (NULL), (3), (4), (100)) v(x)) m),
          '(3,1)', 'NULLs ignored; an outlier moves neither median nor MAD');
SELECT is((SELECT techmart.median_mad(x) FROM sx_u WHERE false), NULL, 'no rows: NULL');
SELECT throws_ok($$SELECT techmart.median_mad(x) FROM (VALUES ('Infinity'::float8)) v(x)$$, '22023', NULL,
                 'Infinity: 22023');
SELECT is((SELECT round(techmart.robust_zscore(100, m.median, m.mad)::numeric, 4)
             FROM (SELECT (techmart.median_mad(x)).* FROM (VALUES (1::float8), (2), (3), (4), (100)) v(x)) m),
          65.4265, 'robust_zscore(100) from median_mad of 1,2,3,4,100 = 0.6745 * 97 / 1');
SELECT is((SELECT array_agg(m ORDER BY g) FROM (
             SELECT g, (techmart.median_mad(x) OVER (ORDER BY g ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)).median m
               FROM (VALUES (1, 5::float8), (2, 1), (3, 9), (4, 7), (5, 3)) v(g, x)) w),
          ARRAY[5, 3, 5, 7, 7]::float8[], 'usable as a window function (rolling median of 3)');

-- ------------------------------------------------------------ forecast_series
CREATE TEMP TABLE sx_daily AS
  SELECT timestamptz '2026-01-05 00:00+00' + (d || ' days')::interval AS ts,
         100 + (ARRAY[0, 2, 4, 6, 20, 40, 30])[1 + d % 7]::float8 AS y
    FROM generate_series(0, 55) d;
SELECT is((SELECT array_agg(ts ORDER BY step) FROM techmart.forecast_series(
             (SELECT array_agg(ts) FROM sx_daily), (SELECT array_agg(y) FROM sx_daily), 3)),
          ARRAY[timestamptz '2026-03-02 00:00+00', '2026-03-03 00:00+00', '2026-03-04 00:00+00'],
          'forecast_series: the next days after the last timestamp');
SELECT is((SELECT array_agg(round(f.point::numeric, 6) ORDER BY f.step)
             FROM (SELECT array_agg(ts ORDER BY md5(ts::text)) t, array_agg(y ORDER BY md5(ts::text)) v FROM sx_daily) a,
                  techmart.forecast_series(a.t, a.v, 7) f),
          (SELECT array_agg(round(point::numeric, 6) ORDER BY step)
             FROM techmart.forecast((SELECT array_agg(y ORDER BY ts) FROM sx_daily), 7)),
          'pairs in any order give techmart.forecast of the time-ordered values');
SELECT ok((SELECT bool_and(abs(point - (100 + (ARRAY[0, 2, 4, 6, 20, 40, 30])[1 + (56 + step - 1) % 7])) < 0.5)
             FROM techmart.forecast_series((SELECT array_agg(ts) FROM sx_daily), (SELECT array_agg(y) FROM sx_daily), 14)),
          'a pure weekly pattern is continued');
-- hourly buckets with a missing hour: error without fill, filled with 0 otherwise
CREATE TEMP TABLE sx_hourly AS
  SELECT timestamptz '2026-01-05 00:00+00' + (h || ' hours')::interval AS ts, (10 + h % 24)::float8 AS y
    FROM generate_series(0, 24 * 4 - 1) h WHERE h <> 30;
SELECT throws_ok($$SELECT * FROM techmart.forecast_series((SELECT array_agg(ts) FROM sx_hourly), (SELECT array_agg(y) FROM sx_hourly), 24, 24)$$,
                 '22023', 'ts has gaps: pass fill => value for the missing points', 'a gap without fill: 22023');
SELECT is((SELECT count(*)::int FROM techmart.forecast_series((SELECT array_agg(ts) FROM sx_hourly), (SELECT array_agg(y) FROM sx_hourly),
                                                               24, 24, fill => 0)),
          24, 'with fill the hourly series forecasts the next 24 hours');
SELECT throws_ok($$SELECT * FROM techmart.forecast_series(ARRAY[now(), now()], ARRAY[1, 2]::float8[], 3)$$,
                 '22023', NULL, 'duplicate timestamps: 22023');
SELECT is((SELECT count(*)::int FROM techmart.forecast_series(NULL, ARRAY[1]::float8[], 3)), 0,
          'a NULL argument: no rows');

-- ------------------------------------------------------- forced parallel plan
CREATE TEMP TABLE sx_big AS SELECT g, (g % 9973)::float8 * 1.5 - 2000 AS x FROM generate_series(1, 200000) g;
ANALYZE sx_big;
CREATE TEMP TABLE sx_serial AS SELECT techmart.cdf(x, 1234.5) c, techmart.median_mad(x) m FROM sx_big;
-- temp tables are not visible to parallel workers: copy into a regular table for the parallel run
CREATE TABLE public.sx_par AS SELECT * FROM sx_big;
ANALYZE public.sx_par;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT set_config(name, 'on', true) IS NOT NULL AS forced FROM pg_settings WHERE name IN ('debug_parallel_query', 'force_parallel_mode') \gset
CREATE TEMP TABLE sx_plan (line text);
DO $$
DECLARE r record;
BEGIN
  FOR r IN EXPLAIN SELECT techmart.cdf(x, 1234.5), techmart.median_mad(x) FROM public.sx_par LOOP
    INSERT INTO sx_plan VALUES (r."QUERY PLAN");
  END LOOP;
END $$;
SELECT ok(EXISTS (SELECT 1 FROM sx_plan WHERE line LIKE '%Partial Aggregate%'), 'the plan is parallel (Partial Aggregate)');
SELECT ok(EXISTS (SELECT 1 FROM sx_plan WHERE line LIKE '%Finalize Aggregate%'), 'and combines the partial states (Finalize Aggregate)');
SELECT is((SELECT techmart.cdf(x, 1234.5) FROM public.sx_par), (SELECT c FROM sx_serial), 'parallel cdf = serial cdf');
SELECT is((SELECT techmart.median_mad(x)::text FROM public.sx_par), (SELECT m::text FROM sx_serial),
          'parallel median_mad = serial median_mad');
SELECT is((SELECT (m).median FROM sx_serial), (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM sx_big),
          'and both equal percentile_cont');
SELECT is((SELECT techmart.cdf(x, 1234.5) FROM public.sx_par WHERE g % 3 = 0 GROUP BY g % 2 ORDER BY 1 LIMIT 1) IS NOT NULL,
          true, 'parallel GROUP BY works');

SELECT * FROM finish();
ROLLBACK;
