-- pgTAP: the scoring latency histogram (extension/pg/metrics.cpp, sqitch change
-- observability_latency, docs/operations.md "Scoring latency"). Runs with and without
-- shared_preload_libraries = 'techmart' (./techmart test runs it in both kinds of cluster) and
-- checks the scope that applies. Every count is compared with the rows this file inserts.
BEGIN;
SELECT plan(30);

SELECT has_view('techmart_ops', 'scoring_latency', 'view techmart_ops.scoring_latency');
SELECT has_function('techmart', 'scoring_latency', ARRAY['boolean'], 'function techmart.scoring_latency(boolean)');
SELECT has_function('techmart', 'scoring_latency_reset', ARRAY['boolean'], 'function techmart.scoring_latency_reset(boolean)');

CREATE TEMP TABLE mode AS
  SELECT 'techmart' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) AS preloaded;
SELECT is((SELECT preloaded FROM techmart.scoring_latency_summary()), (SELECT preloaded FROM mode),
          'summary.preloaded follows shared_preload_libraries');
SELECT is((SELECT DISTINCT scope FROM techmart_ops.scoring_latency),
          (SELECT CASE WHEN preloaded THEN 'cluster' ELSE 'backend' END FROM mode),
          'the view is cluster-wide when preloaded, this backend''s otherwise (and says so)');
SELECT is((SELECT DISTINCT scope FROM techmart.scoring_latency(true)), 'backend', 'backend_only gives scope backend');

-- bucket layout
SELECT is((SELECT count(*)::int FROM techmart_ops.scoring_latency), 20, '19 finite buckets and +Inf');
SELECT is((SELECT le_us FROM techmart_ops.scoring_latency ORDER BY le_us DESC LIMIT 1), 'Infinity'::float8, 'the last bound is Infinity');
SELECT is_empty($$SELECT 1 FROM (SELECT le_us, lag(le_us) OVER (ORDER BY le_us) AS p FROM techmart_ops.scoring_latency) x
                  WHERE p IS NOT NULL AND NOT le_us > p$$, 'bounds strictly increase');

-- a known configuration and our own customers/product (rolled back)
INSERT INTO customers (id, email, name, country)
SELECT i, 'latency-test-' || i || '@example.com', 'Latency test ' || i, 'DE' FROM generate_series(910001, 910020) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (910001, 'LATENCY-TEST-910001', 'Latency test product', 10, 1000000);

-- the backend's histogram, reset: counts exactly our rows
SELECT ok(techmart.scoring_latency_reset(true) <= clock_timestamp(), 'reset(backend_only) answers its time');
SELECT is((SELECT observations FROM techmart.scoring_latency_summary(true)), 0::bigint, 'after the reset the backend histogram is empty');
SELECT is((SELECT sum(count)::bigint FROM techmart.scoring_latency(true)), 0::bigint, 'and every bucket is 0');
CREATE TEMP TABLE cluster_before AS SELECT observations AS n, sum_seconds AS s FROM techmart.scoring_latency_summary();
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;

-- 40 rows in one statement (statement write-back), 3 single-row statements
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
SELECT 910001 + i % 20, 910001, 1 + i % 3, 5 + i, 'credit_card' FROM generate_series(1, 40) i;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (910001, 910001, 1, 9.5, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (910002, 910001, 2, 9.5, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (910003, 910001, 1, 3, 'credit_card');
-- not scored: scoring off, and a row the trigger refuses
SET LOCAL techmart.scoring = off;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
SELECT 910004, 910001, 1, 5, 'credit_card' FROM generate_series(1, 7);
RESET techmart.scoring;
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price) VALUES (910005, 910001, 0, 5)$$,
                 '23514', NULL, 'a refused row (quantity 0) raises its error');
CREATE TEMP TABLE t1 AS SELECT clock_timestamp() AS t;

SELECT is((SELECT observations FROM techmart.scoring_latency_summary(true)), 43::bigint,
          'the backend histogram counts every scored row (40 + 3), not unscored or refused ones');
SELECT is((SELECT sum(count)::bigint FROM techmart.scoring_latency(true)), 43::bigint, 'its buckets sum to 43');
SELECT is((SELECT cumulative FROM techmart.scoring_latency(true) WHERE le_us = 'Infinity'), 43::bigint, 'the +Inf cumulative is 43');
SELECT is_empty($$SELECT 1 FROM (SELECT cumulative, count, lag(cumulative, 1, 0::bigint) OVER (ORDER BY le_us) AS p
                                  FROM techmart.scoring_latency(true)) x WHERE cumulative <> p + count OR cumulative < p$$,
                'cumulative is the running sum of count: monotone');
SELECT ok((SELECT sum_seconds > 0 AND sum_seconds <= extract(epoch FROM (SELECT t FROM t1) - (SELECT t FROM t0))
             FROM techmart.scoring_latency_summary(true)),
          'the summed scoring time is positive and within the wall time of the inserts');
SELECT ok((SELECT sum_seconds / observations FROM techmart.scoring_latency_summary(true))
            <= (SELECT min(le_us) FILTER (WHERE cumulative = 43) / 1e6 FROM techmart.scoring_latency(true)),
          'the mean is at most the smallest bound holding every row');

-- the cluster's histogram (when preloaded) moved by the same 43 rows; otherwise it is ours
SELECT is((SELECT observations FROM techmart.scoring_latency_summary()) - (SELECT n FROM cluster_before), 43::bigint,
          'the default scope counted the same 43 rows');
SELECT ok((SELECT sum_seconds FROM techmart.scoring_latency_summary()) >= (SELECT s FROM cluster_before),
          'the default scope''s sum grew');

-- Prometheus: one histogram family, buckets ascending, _count = +Inf bucket = view
CREATE TEMP TABLE prom AS SELECT l FROM regexp_split_to_table(techmart_ops.prometheus(), E'\n') l;
SELECT is((SELECT count(*)::int FROM prom WHERE l = '# TYPE techmart_scoring_latency_seconds histogram'), 1,
          'prometheus(): TYPE techmart_scoring_latency_seconds histogram, once');
SELECT is((SELECT array_agg(substring(l FROM 'le="([^"]+)"') ORDER BY ord) FROM (SELECT l, row_number() OVER () AS ord FROM prom) p
            WHERE l LIKE 'techmart\_scoring\_latency\_seconds\_bucket%'),
          ARRAY['0.000001','0.000002','0.000005','0.00001','0.00002','0.00005','0.0001','0.0002','0.0005','0.001',
                '0.002','0.005','0.01','0.02','0.05','0.1','0.2','0.5','1','+Inf'],
          'bucket lines in le order, in seconds, +Inf last');
SELECT is((SELECT split_part(l, ' ', 2)::bigint FROM prom WHERE l LIKE 'techmart\_scoring\_latency\_seconds\_count %'),
          (SELECT split_part(l, ' ', 2)::bigint FROM prom WHERE l LIKE 'techmart\_scoring\_latency\_seconds\_bucket{le="+Inf"}%'),
          '_count equals the +Inf bucket');
SELECT ok((SELECT split_part(l, ' ', 2)::bigint FROM prom WHERE l LIKE 'techmart\_scoring\_latency\_seconds\_count %') >= 43,
          '_count holds the rows of this test');
SELECT is((SELECT split_part(l, ' ', 2) FROM prom WHERE l LIKE 'techmart\_scoring\_latency\_cluster\_wide %'),
          (SELECT CASE WHEN preloaded THEN '1' ELSE '0' END FROM mode), 'techmart_scoring_latency_cluster_wide says the scope');

-- reset of the default scope
SELECT ok(techmart.scoring_latency_reset() IS NOT NULL, 'reset()');
SELECT is((SELECT observations FROM techmart.scoring_latency_summary()), 0::bigint, 'after reset() the default scope is empty');
SELECT ok((SELECT since FROM techmart.scoring_latency_summary()) >= (SELECT t FROM t1), 'since is the reset time');

-- privileges: reset is not for PUBLIC; BI reads the view
SELECT ok(NOT has_function_privilege('public', 'techmart.scoring_latency_reset(boolean)', 'EXECUTE')
          AND has_table_privilege('techmart_bi', 'techmart_ops.scoring_latency', 'SELECT')
          AND NOT has_table_privilege('public', 'techmart_ops.scoring_latency', 'SELECT'),
          'reset: not PUBLIC; techmart_bi reads techmart_ops.scoring_latency, PUBLIC does not');

SELECT * FROM finish();
ROLLBACK;
