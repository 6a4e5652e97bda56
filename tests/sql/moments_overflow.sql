-- pgTAP: techmart.moments() never returns NaN or Infinity for finite inputs (extension/pg/
-- stat_aggregates.cpp, techmart_moments_final). When a power sum of the deviations overflows float8
-- the aggregate raises 22003 naming the moment, as var_samp does for the variance; before, the
-- variance of {1e200, -1e200} or the kurtosis of {1e100, -1e100, 3} came back as NaN. In range: the
-- same figures as var_samp / stddev_samp, also in a forced parallel plan.
BEGIN;
SELECT plan(7);

SELECT throws_ok($$SELECT techmart.moments(x) FROM (VALUES (1e200::float8), (-1e200)) v(x)$$, '22003',
                 'moments: variance is out of range for type double precision (overflow)',
                 'variance overflow: 22003 (before: NaN)');
SELECT throws_ok($$SELECT var_samp(x) FROM (VALUES (1e200::float8), (-1e200)) v(x)$$, '22003', NULL,
                 '(as var_samp)');
SELECT throws_ok($$SELECT techmart.moments(x) FROM (VALUES (1e160::float8), (-1e160), (5)) v(x)$$, '22003', NULL,
                 'variance overflow with three values: 22003 (before: NaN)');
SELECT throws_ok($$SELECT techmart.moments(x) FROM (VALUES (1e100::float8), (-1e100), (3)) v(x)$$, '22003',
                 'moments: kurtosis is out of range for type double precision (overflow)',
                 'kurtosis overflow: 22003 (before: NaN)');
SELECT is((SELECT ((m).variance, (m).stddev) FROM (SELECT techmart.moments(x) m FROM (VALUES (1e50::float8), (-1e50), (3)) v(x)) s),
          (SELECT (var_samp(x), stddev_samp(x)) FROM (VALUES (1e50::float8), (-1e50), (3)) v(x)),
          'large values in range: variance and stddev as var_samp / stddev_samp');

CREATE TEMP TABLE mo AS SELECT (i % 7) * 1e150::float8 * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) AS x
  FROM generate_series(1, 20000) i;
ANALYZE mo;
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2; SET LOCAL parallel_leader_participation = off;
SELECT throws_ok($$SELECT techmart.moments(x) FROM mo$$, '22003', NULL, 'overflow in a parallel plan: 22003');
SELECT is((SELECT (techmart.moments(x / 1e150)).variance FROM mo)::numeric(20,6),
          (SELECT var_samp(x / 1e150) FROM mo)::numeric(20,6), 'the scaled values: the variance, parallel');

SELECT * FROM finish();
ROLLBACK;
