-- pgTAP: the extension itself and the SQL-callable functions of techmart_core, including their
-- error path (C++ exception -> SQLSTATE).
BEGIN;
SELECT plan(46);

-- ------------------------------------------------------------------- the extension
SELECT has_extension('techmart');
SELECT is(techmart.version(), (SELECT extversion FROM pg_extension WHERE extname = 'techmart'),
          'version() of the library = the installed extension version');
SET LOCAL client_min_messages = warning;  -- the "already installed" NOTICE
SELECT lives_ok('ALTER EXTENSION techmart UPDATE', 'ALTER EXTENSION techmart UPDATE is a no-op that succeeds');
RESET client_min_messages;
SELECT is((SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
             FROM pg_extension, unnest(extconfig) c WHERE extname = 'techmart'),
          ARRAY['techmart.amount_prior', 'techmart.customer_state', 'techmart.entity_counted', 'techmart.entity_counts',
                'techmart.hour_prior', 'techmart.risk_list', 'techmart.rule_config', 'techmart.settings',
                'techmart.shadow_config', 'techmart.shadow_scores'],
          'configuration, state, shadows and entity counters are dumped by pg_dump (pg_extension_config_dump, 0.7)');
SELECT has_table('techmart', 'rule_config', 'techmart.rule_config exists');
SELECT has_table('techmart', 'customer_state', 'techmart.customer_state exists');
SELECT col_is_pk('techmart', 'customer_state', 'customer_id', 'customer_state is keyed by customer_id');
SELECT ok(EXISTS (SELECT 1 FROM techmart.rule_config WHERE rule = 'amount_zscore'), 'the amount_zscore rule is configured');
SELECT ok(EXISTS (SELECT 1 FROM techmart.settings WHERE name = 'suspicious_threshold'), 'the suspicious threshold is configured');

-- honest declarations: pure functions are IMMUTABLE (version() STABLE), STRICT and PARALLEL SAFE
SELECT is((SELECT array_agg(proname || ':' || provolatile::text || proisstrict::text || proparallel::text ORDER BY proname)
             FROM pg_proc WHERE pronamespace = 'techmart'::regnamespace AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
              AND proname IN ('calibrated_score', 'fit_logistic', 'log_amount', 'rule_config_is_valid',
                              'shrunk_zscore', 'version', 'zscore')),
          ARRAY['calibrated_score:itrues', 'fit_logistic:itrues', 'log_amount:itrues', 'rule_config_is_valid:itrues',
                'shrunk_zscore:itrues', 'version:strues', 'zscore:itrues'],
          'volatility / strictness / parallel safety of the pure functions');
SELECT is((SELECT provolatile::text || proparallel::text FROM pg_proc WHERE oid = 'techmart.score_transaction()'::regprocedure),
          'vu', 'the trigger function is VOLATILE and PARALLEL UNSAFE (it writes state)');

-- --------------------------------------------------------------------------- zscore
SELECT is(techmart.zscore(13, 10, 2), 1.5::float8, 'zscore(13, 10, 2) = 1.5');
SELECT is(techmart.zscore(4, 10, 3), -2::float8, 'zscore(4, 10, 3) = -2');
SELECT is(techmart.zscore(NULL, 10, 3), NULL, 'zscore is STRICT');
SELECT throws_ok('SELECT techmart.zscore(1, 0, 0)', '22023', NULL, 'sd = 0: 22023');
SELECT throws_ok('SELECT techmart.zscore(1, 0, -1)', '22023', NULL, 'sd < 0: 22023');
SELECT throws_ok($$SELECT techmart.zscore('NaN', 0, 1)$$, '22023', 'x must be finite, got NaN', 'NaN x: 22023 with a message');
SELECT throws_ok($$SELECT techmart.zscore(1, 'Infinity', 1)$$, '22023', NULL, 'infinite mean: 22023');
SELECT throws_ok($$SELECT techmart.zscore(1, 0, 'NaN')$$, '22023', NULL, 'NaN sd: 22023');

-- ----------------------------------------------------------------------- log_amount
SELECT is(techmart.log_amount(0), 0::float8, 'log_amount(0) = 0');
SELECT ok(abs(techmart.log_amount(exp(2.5) - 1) - 2.5) < 1e-12, 'log_amount is log1p');
SELECT throws_ok('SELECT techmart.log_amount(-1)', '2201E', NULL, 'negative amount: 2201E');
SELECT throws_ok($$SELECT techmart.log_amount('Infinity')$$, '22023', NULL, 'infinite amount: 22023');

-- -------------------------------------------------------------------- shrunk_zscore
SELECT is(techmart.shrunk_zscore(5, 0, 0, 0, 3, 0.5, 5), techmart.zscore(5, 3, 0.5),
          'with no history the shrunk z-score is the z-score against the prior');
SELECT ok(abs(techmart.shrunk_zscore(x, n, m, m2, 3, 0.5, 4)
              - (x - (n * m + 4 * 3) / (n + 4)) / sqrt((m2 + 4 * 0.25) / (n + 4))) < 1e-12,
          'shrunk_zscore = (x - (n*mean + k*prior_mean)/(n+k)) / sqrt((m2 + k*prior_sd^2)/(n+k))')
  FROM (SELECT 9.0::float8 AS x, count(*) AS n, avg(v) AS m, var_pop(v) * count(*) AS m2
          FROM unnest(ARRAY[4.0, 5.5, 6.0, 5.0, 4.5]::float8[]) v) s;
SELECT ok(abs(techmart.shrunk_zscore(10, 1000000, 10, 1000000, 0, 1, 5)) < 1e-3,
          'a long history dominates the prior');
SELECT throws_ok('SELECT techmart.shrunk_zscore(1, 0, 0, 0, 0, 0, 5)', '22023', NULL, 'prior_sd 0: 22023');
SELECT throws_ok('SELECT techmart.shrunk_zscore(1, 0, 0, 0, 0, 1, 0)', '22023', NULL, 'prior_weight 0: 22023');
SELECT throws_ok('SELECT techmart.shrunk_zscore(1, -1, 0, 0, 0, 1, 5)', '22023', NULL, 'negative n: 22023');
SELECT throws_ok('SELECT techmart.shrunk_zscore(1, 3, 0, -2, 0, 1, 5)', '22023', NULL, 'negative m2: 22023');
SELECT throws_ok($$SELECT techmart.shrunk_zscore('NaN', 3, 0, 2, 0, 1, 5)$$, '22023', NULL, 'NaN x: 22023');

-- ----------------------------------------------------------------- calibrated_score
SELECT is(techmart.calibrated_score(3, 3, 1.5), 50::float8, 'at the threshold the score is 50');
SELECT ok(abs(techmart.calibrated_score(6, 3, 1.5) - 100 / (1 + exp(-4.5))) < 1e-12,
          'calibrated_score = 100 * logistic(weight * (observed - threshold))');
SELECT is((SELECT count(*) FROM generate_series(-50, 50) z
            WHERE techmart.calibrated_score(z, 3, 1.5) NOT BETWEEN 0 AND 100), 0::bigint,
          'calibrated_score stays within 0..100');
SELECT is(techmart.calibrated_score(1e6, 3, 1.5), 100::float8, 'calibrated_score saturates at 100 without overflow');
SELECT throws_ok('SELECT techmart.calibrated_score(1, 3, -1)', '22023', NULL, 'negative weight: 22023');
SELECT throws_ok($$SELECT techmart.calibrated_score('NaN', 3, 1)$$, '22023', NULL, 'NaN observation: 22023');

-- ------------------------------------------------------------- rule_config_is_valid
SELECT ok(techmart.rule_config_is_valid('amount_zscore', 1.5, 3, '{"prior_mean": 4, "prior_sd": 1, "prior_weight": 5}'),
          'a sound amount_zscore configuration is valid');
SELECT ok(NOT techmart.rule_config_is_valid('amount_zscore', 1.5, 3, '{"prior_sd": 0}'), 'prior_sd 0 is invalid');
SELECT ok(NOT techmart.rule_config_is_valid('amount_zscore', 'NaN', 3, '{}'), 'a NaN weight is invalid');
SELECT ok(NOT techmart.rule_config_is_valid('amount_zscore', 1, 3, '{"prior_sd": true}'), 'a boolean parameter is invalid');
SELECT ok(techmart.rule_config_is_valid('some_future_rule', 1, 0, '{"window_minutes": 10}'),
          'a rule unknown to this version is accepted if its numbers are sound');
SELECT ok(NOT techmart.rule_config_is_valid('some_future_rule', 1, 0, '"x"'), 'params must be an object');

-- ---------------------------------------------- the exception path leaves the session usable
SELECT throws_ok('SELECT techmart.zscore(x, 0, 0) FROM generate_series(1, 1000) x', '22023', NULL,
                 'an error raised on a later row of a scan is clean too');
SELECT is((SELECT sum(techmart.zscore(x, 0, 1)) FROM generate_series(1, 1000) x), 500500::float8,
          'after the errors the functions keep working in the same transaction');
SELECT is((SELECT count(*) FROM techmart.rule_config WHERE NOT techmart.rule_config_is_valid(rule, weight, threshold, params)),
          0::bigint, 'every configured rule passes its own validity check');

SELECT * FROM finish();
ROLLBACK;
