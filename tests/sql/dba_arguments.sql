-- pgTAP: what a DBA or analyst gets from psql for a NULL, unknown, reversed or out-of-range
-- argument of the techmart functions (extension 0.6, sql/upgrades/0.5--0.6; C checks in
-- extension/pg/hour_functions.cpp and fraud_functions.cpp). Before 0.6: explain(NULL) was P0002
-- "transaction <NULL>", entity_risk('nokind', ...) returned no row, local_hour took lon 200 as -160
-- and NaN as no location, refresh_priors(NULL) said 'relation "t" does not exist', rebuild_state(NULL)
-- crashed the backend, rescore_customers with -infinity/infinity rescored nothing and counted a
-- repeated customer twice, CALL rescore(to, from) reported nothing done. Rolled back.
BEGIN;
SELECT plan(37);

SELECT ok((SELECT string_to_array(extversion, '.')::int[] >= '{0,6}' FROM pg_extension WHERE extname = 'techmart'),
          'techmart 0.6 or later');

-- explain
SELECT throws_ok($$SELECT * FROM techmart.explain(NULL)$$, '22004', 'explain: the transaction id must not be NULL',
                 'explain(NULL): 22004, not "transaction <NULL> does not exist"');
SELECT throws_ok($$SELECT * FROM techmart.explain(-1)$$, 'P0002', 'transaction -1 does not exist',
                 'explain of an unknown id: P0002');
SELECT is((SELECT rule FROM techmart.explain((SELECT min(id) FROM transactions)) ORDER BY rule = '= score' DESC LIMIT 1),
          '= score', 'explain of an existing transaction ends with "= score"');
CREATE TEMP TABLE susp AS SELECT id, fraud_score FROM transactions WHERE is_suspicious ORDER BY id LIMIT 1;
CREATE TEMP TABLE thr0 AS SELECT value FROM techmart.settings WHERE name = 'suspicious_threshold';
UPDATE techmart.settings SET value = 99.99 WHERE name = 'suspicious_threshold';
SELECT is((SELECT detail FROM techmart.explain((SELECT id FROM susp)) WHERE rule = '= score'),
          'suspicious when scored; below the current threshold (rescore to update)',
          'explain after raising the threshold: the stored verdict is said to be the one at scoring time');
UPDATE techmart.settings SET value = (SELECT value FROM thr0) WHERE name = 'suspicious_threshold';
SELECT is((SELECT detail FROM techmart.explain((SELECT id FROM susp)) WHERE rule = '= score'),
          CASE WHEN (SELECT fraud_score FROM susp) >= (SELECT value FROM thr0) THEN 'suspicious: score >= threshold'
               ELSE 'suspicious when scored; below the current threshold (rescore to update)' END,
          'and as before when they agree');

-- entity_risk
SELECT throws_ok($$SELECT * FROM techmart.entity_risk('nokind', 'x')$$, '22023',
                 'entity_risk: unknown entity kind "nokind"', 'entity_risk of an unknown kind: 22023');
CREATE FUNCTION pg_temp.err_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END $$;
SELECT is(pg_temp.err_detail($$SELECT * FROM techmart.entity_risk('ip_address', '10.0.0.1')$$),
          (SELECT 'Valid kinds: ' || string_agg(kind, ', ' ORDER BY kind) || '.' FROM techmart.entity_kind),
          'the error names the valid kinds');
SELECT throws_ok($$SELECT * FROM techmart.entity_risk(NULL, 'x')$$, '22004', NULL, 'entity_risk: NULL kind is 22004');
SELECT throws_ok($$SELECT * FROM techmart.entity_risk('device', NULL)$$, '22004', NULL, 'entity_risk: NULL entity is 22004');
SELECT throws_ok($$SELECT * FROM techmart.entity_risk('device', 'x', NULL)$$, '22004', NULL, 'entity_risk: NULL time is 22004');
SELECT throws_ok($$SELECT * FROM techmart.entity_risk('device', 'x', 'infinity')$$, '22023', NULL,
                 'entity_risk: an infinite time is 22023');
SELECT is((SELECT count(*) FROM techmart.entity_risk('device', 'no-such-device', '2026-11-15')), 1::bigint,
          'a valid kind still answers one row');

-- local_hour
SELECT throws_ok($$SELECT techmart.local_hour('2026-11-01 12:00Z', 200)$$, '22023', NULL, 'local_hour: longitude 200 is 22023');
SELECT throws_ok($$SELECT techmart.local_hour('2026-11-01 12:00Z', -180.5)$$, '22023', NULL, 'local_hour: longitude -180.5 is 22023');
SELECT throws_ok($$SELECT techmart.local_hour('2026-11-01 12:00Z', 'NaN')$$, '22023', NULL, 'local_hour: NaN longitude is 22023');
SELECT throws_ok($$SELECT techmart.local_hour('2026-11-01 12:00Z', 'Infinity')$$, '22023', NULL, 'local_hour: infinite longitude is 22023');
SELECT throws_ok($$SELECT techmart.local_hour('infinity', 0)$$, '22008', NULL, 'local_hour: infinite time is 22008');
SELECT is(ARRAY[techmart.local_hour('2026-11-01 12:00Z', 180), techmart.local_hour('2026-11-01 12:00Z', -180),
                techmart.local_hour('2026-11-01 12:00Z', NULL), techmart.local_hour(NULL, 10)],
          ARRAY[0, 0, 12, NULL], 'local_hour: +-180 are valid (12 + 12 = 0), NULL longitude = UTC hour, NULL time = NULL');

SELECT throws_ok($$SELECT techmart.label(NULL, 'fraud')$$, '22004', 'label: the transaction id must not be NULL',
                 'label(NULL, ...): 22004, not "transaction <NULL> does not exist"');

-- fit_weights (needs one verdict of each kind to get past its label check)
SELECT techmart.label((SELECT min(id) FROM transactions WHERE is_suspicious), 'fraud');
SELECT techmart.label((SELECT min(id) FROM transactions WHERE NOT is_suspicious), 'legitimate');
SELECT throws_ok($$SELECT * FROM techmart.fit_weights(NULL)$$, '22004', 'fit_weights: l2 and apply must not be NULL',
                 'fit_weights(NULL): 22004 (it showed NULL weights)');
SELECT throws_ok($$SELECT * FROM techmart.fit_weights(NULL, true)$$, '22004', NULL,
                 'fit_weights(NULL, apply => true): 22004 (it failed on rule_config''s NOT NULL)');
SELECT throws_ok($$SELECT * FROM techmart.fit_weights(1, NULL)$$, '22004', NULL, 'fit_weights(apply => NULL): 22004');
SELECT is((SELECT count(*) FROM techmart.fit_weights(1) WHERE item LIKE 'weight:%'),
          (SELECT count(*) FROM techmart.rule_config WHERE enabled), 'fit_weights(1) still fits every enabled rule');
SELECT is((SELECT array_agg(proparallel::text ORDER BY proname) FROM pg_proc
            WHERE pronamespace = 'techmart'::regnamespace AND proname IN ('entity_risk', 'explain')),
          ARRAY['s', 's'], 'explain and entity_risk are PARALLEL SAFE (they only read)');

SELECT throws_ok($$SELECT techmart.fit_logistic('{}', 1, '{}', 1, true)$$, '22023',
                 'fit_logistic: needs n_features >= 1 and at least one label (got 1 and 0 labels)',
                 'fit_logistic without labels says so (it said 1 value per label was wanted, 0 labels and 0 values given)');
SELECT throws_ok($$SELECT techmart.fit_logistic('{1,2}', 0, '{t,f}', 1, true)$$, '22023',
                 'fit_logistic: needs n_features >= 1 and at least one label (got 0 and 2 labels)', 'n_features 0 likewise');

-- refresh_priors, rebuild_state
SELECT throws_ok($$SELECT * FROM techmart.refresh_priors(NULL)$$, '22004', 'refresh_priors: the source table must not be NULL',
                 'refresh_priors(NULL): 22004 naming the argument');
SELECT throws_ok($$SELECT * FROM techmart.refresh_priors('public.transactions', NULL)$$, '22004',
                 'refresh_priors: the products table must not be NULL', 'refresh_priors(..., NULL): 22004');
SELECT throws_ok($$SELECT techmart.rebuild_state(NULL)$$, '22004', 'rebuild_state: the source table is required',
                 'rebuild_state(NULL): 22004 (it crashed the backend)');

-- rescore_customers / rescore
CREATE TEMP TABLE c1 AS
SELECT customer_id AS id, count(*) AS n FROM transactions GROUP BY 1 ORDER BY 1 LIMIT 1;
SELECT is((SELECT rescored FROM techmart.rescore_customers(ARRAY[(SELECT id FROM c1)], '-infinity', 'infinity')),
          (SELECT n FROM c1), 'rescore_customers over [-infinity, infinity) rescores every row of the customer');
SELECT is((SELECT rescored FROM techmart.rescore_customers(ARRAY[(SELECT id FROM c1)], '-infinity', '3000-01-01')),
          (SELECT n FROM c1), 'from -infinity');
SELECT is((SELECT rescored FROM techmart.rescore_customers(ARRAY[(SELECT id FROM c1)], '1900-01-01', 'infinity')),
          (SELECT n FROM c1), 'to infinity');
SELECT is((SELECT rescored FROM techmart.rescore_customers(ARRAY[(SELECT id FROM c1), NULL, (SELECT id FROM c1)], '-infinity', 'infinity')),
          (SELECT n FROM c1), 'a customer given twice (and a NULL) is rescored and counted once');
SELECT throws_ok($$SELECT * FROM techmart.rescore_customers('{1}', '2026-12-01', '2026-11-01')$$, '22023', NULL,
                 'rescore_customers with from_time after to_time: 22023');
SELECT throws_ok($$CALL techmart.rescore('2026-12-01', '2026-11-01')$$, '22023', NULL,
                 'CALL rescore with from_time after to_time: 22023, not "0 rows in 0 batches"');
SELECT throws_ok($$CALL techmart.rescore('2026-12-01', '2026-12-01')$$, '22023', NULL, 'an empty period too');

SELECT * FROM finish();
ROLLBACK;
