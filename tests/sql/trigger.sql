-- pgTAP: the scoring trigger techmart.score_transaction() on public.transactions
-- (docs/architecture.md, "The scoring trigger"). Self-contained: it creates its own customers
-- and product (ids 900001+) and pins the configuration, all inside the rolled-back transaction.
BEGIN;
SELECT plan(69);

-- a known configuration, whatever a DBA did to this database
UPDATE techmart.rule_config SET enabled = (rule = 'amount_zscore');
UPDATE techmart.rule_config
   SET weight = 1.5, threshold = 3, params = '{"prior_mean": 4.0, "prior_sd": 1.2, "prior_weight": 5, "use_priors": 0}'
 WHERE rule = 'amount_zscore';
DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 1), ('bias', -4);
DELETE FROM techmart.amount_prior;  -- no shop priors (data/load.sql computes them after a warm-up)
DELETE FROM techmart.hour_prior;

INSERT INTO customers (id, email, name, country)
SELECT i, 'trigger-test-' || i || '@example.com', 'Trigger test ' || i, 'DE'
  FROM generate_series(900001, 900010) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (900001, 'TRIGGER-TEST-900001', 'Trigger test product', 10, 1000000);

-- ------------------------------------------------------------------ a single insert
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900001, 900001, 3, 2.555, 'paypal');
SELECT ok((SELECT fraud_score BETWEEN 0 AND 100 FROM transactions WHERE customer_id = 900001),
          'a single insert gets a fraud_score in 0..100');
SELECT is((SELECT amount::numeric FROM transactions WHERE customer_id = 900001), 7.665::numeric,
          'amount is filled as quantity * unit_price, exactly');
SELECT is((SELECT jsonb_typeof(fraud_reasons) FROM transactions WHERE customer_id = 900001), 'array',
          'fraud_reasons is a jsonb array');
SELECT is((SELECT (n, last_amount) FROM techmart.customer_state WHERE customer_id = 900001),
          (1::bigint, 7.665::numeric), 'the first insert creates the customer state with n = 1');

INSERT INTO transactions (customer_id, product_id, quantity, unit_price, amount, payment_method)
VALUES (900010, 900001, 2, 10, 25, 'paypal');
SELECT is((SELECT amount::numeric FROM transactions WHERE customer_id = 900010), 25.000::numeric,
          'an explicit amount is kept');

-- ------------------------------------------------------- normal history, then a spike
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
SELECT 900002, 900001, 1, 40 + (g % 5) * 3, 'credit_card' FROM generate_series(1, 30) g ORDER BY g;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900002, 900001, 1, 46, 'credit_card');
SELECT ok((SELECT fraud_score < 10 FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          'a usual amount after a usual history scores low');
SELECT is((SELECT fraud_reasons FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          '[]'::jsonb, 'a usual amount has no reason');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id = 900002 AND is_suspicious), 0::bigint,
          'no transaction of a normal sequence is suspicious');

INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900002, 900001, 2, 2500, 'credit_card');
SELECT ok((SELECT fraud_score >= 90 FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          'a spike after a normal history scores high');
SELECT ok((SELECT is_suspicious FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          'the spike is suspicious');
SELECT is((SELECT fraud_reasons -> 0 ->> 'rule' FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          'amount_zscore', 'the amount rule is the first reason of the spike');
SELECT ok((SELECT (r ->> 'observed')::float8 > (r ->> 'threshold')::float8 AND (r ->> 'threshold')::float8 = 3
                  AND (r ->> 'contribution')::float8 >= 1
             FROM (SELECT fraud_reasons -> 0 AS r FROM transactions WHERE customer_id = 900002
                    ORDER BY id DESC LIMIT 1) s),
          'the reason shows observed z above its threshold 3 and a positive contribution');
SELECT is((SELECT array_agg(k ORDER BY k) FROM transactions t, jsonb_object_keys(t.fraud_reasons -> 0) k
            WHERE t.id = (SELECT max(id) FROM transactions WHERE customer_id = 900002)),
          ARRAY['contribution', 'detail', 'observed', 'rule', 'threshold', 'weight'],
          'a reason has exactly the keys rule, observed, threshold, weight, contribution, detail');
SELECT ok((SELECT jsonb_typeof(fraud_reasons -> 0 -> 'detail') = 'string' AND fraud_reasons -> 0 ->> 'detail' LIKE '%5000.00%'
             FROM transactions WHERE customer_id = 900002 ORDER BY id DESC LIMIT 1),
          'the detail names the amount');

-- ------------------------------------------------------ state equals recomputation
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900002),
          (SELECT count(*) FROM transactions WHERE customer_id = 900002), 'state n = number of rows');
SELECT ok((SELECT abs(s.mean - r.m) < 1e-12
             FROM techmart.customer_state s,
                  (SELECT avg(ln(1 + amount::float8)) AS m FROM transactions WHERE customer_id = 900002) r
            WHERE s.customer_id = 900002),
          'state mean = avg(ln(1 + amount))');
SELECT ok((SELECT abs(s.m2 / (s.n - 1) - r.v) < 1e-12
             FROM techmart.customer_state s,
                  (SELECT var_samp(ln(1 + amount::float8)) AS v FROM transactions WHERE customer_id = 900002) r
            WHERE s.customer_id = 900002),
          'state m2 / (n - 1) = var_samp(ln(1 + amount))');
SELECT is((SELECT last_amount FROM techmart.customer_state WHERE customer_id = 900002), 5000.000::numeric,
          'state last_amount is the latest amount');
SELECT ok((SELECT last_transaction_time = (SELECT transaction_time FROM transactions WHERE customer_id = 900002
                                            ORDER BY id DESC LIMIT 1)
             FROM techmart.customer_state WHERE customer_id = 900002),
          'state last_transaction_time is the latest transaction_time');

-- ----------------------------- multi-row INSERT, single INSERTs and COPY score identically
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES
  (900003, 900001, 1, 42, 'paypal'), (900003, 900001, 1, 45, 'paypal'), (900003, 900001, 1, 39, 'paypal'),
  (900003, 900001, 1, 51, 'paypal'), (900003, 900001, 2, 22, 'paypal'), (900003, 900001, 1, 40, 'paypal'),
  (900003, 900001, 1, 47, 'paypal'), (900003, 900001, 1, 900, 'paypal'), (900003, 900001, 1, 46, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 42, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 45, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 39, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 51, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 2, 22, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 40, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 47, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 900, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900004, 900001, 1, 46, 'paypal');
COPY transactions (customer_id, product_id, quantity, unit_price, payment_method) FROM stdin WITH (FORMAT csv);
900005,900001,1,42,paypal
900005,900001,1,45,paypal
900005,900001,1,39,paypal
900005,900001,1,51,paypal
900005,900001,2,22,paypal
900005,900001,1,40,paypal
900005,900001,1,47,paypal
900005,900001,1,900,paypal
900005,900001,1,46,paypal
\.
SELECT is((SELECT array_agg((amount, fraud_score, is_suspicious, fraud_reasons)::text ORDER BY id) FROM transactions WHERE customer_id = 900003),
          (SELECT array_agg((amount, fraud_score, is_suspicious, fraud_reasons)::text ORDER BY id) FROM transactions WHERE customer_id = 900004),
          'a multi-row INSERT scores exactly like single-row INSERTs');
SELECT is((SELECT array_agg((amount, fraud_score, is_suspicious, fraud_reasons)::text ORDER BY id) FROM transactions WHERE customer_id = 900005),
          (SELECT array_agg((amount, fraud_score, is_suspicious, fraud_reasons)::text ORDER BY id) FROM transactions WHERE customer_id = 900004),
          'COPY scores exactly like single-row INSERTs');
SELECT is((SELECT count(DISTINCT (n, mean, m2, last_amount)) FROM techmart.customer_state
            WHERE customer_id IN (900003, 900004, 900005)), 1::bigint,
          'the three ways leave identical customer state');
SELECT ok((SELECT bool_or(fraud_score > 3) AND bool_or(fraud_score < 2) FROM transactions WHERE customer_id = 900004),
          'the sequence compared has both low and high scores (the comparison is not vacuous)');

-- a score recomputed in plain SQL from the earlier rows (the state *before* the row): shrunk
-- mean/variance of ln(1 + amount) with the prior (4.0, 1.2^2, k = 5), z, 100*logistic(-4 + 1.5*max(0, z-3))
SELECT is((SELECT fraud_score FROM transactions WHERE customer_id = 900004 AND amount = 900),
          (SELECT round((100 / (1 + exp(-(-4 + 1.5 * greatest(0, (ln(901) - pm) / sqrt(pv) - 3)))))::numeric, 2)
             FROM (SELECT (n * m + 5 * 4.0) / (n + 5) AS pm, (m2 + 5 * 1.44) / (n + 5) AS pv
                     FROM (SELECT count(*) AS n, avg(ln(1 + amount::float8)) AS m,
                                  var_pop(ln(1 + amount::float8)) * count(*) AS m2
                             FROM transactions
                            WHERE customer_id = 900004
                              AND id < (SELECT id FROM transactions WHERE customer_id = 900004 AND amount = 900)) h) p),
          'a score equals the closed form over the customer''s state before the row');

-- ------------------------------------------------- configuration changes apply at once
UPDATE techmart.rule_config
   SET weight = 2, threshold = 0, params = '{"prior_mean": 3, "prior_sd": 0.5, "prior_weight": 2}'
 WHERE rule = 'amount_zscore';
UPDATE techmart.settings SET value = 50 WHERE name = 'suspicious_threshold';
UPDATE techmart.settings SET value = 0 WHERE name = 'bias';  -- one rule above threshold, bias 0: 100*logistic(w*(z-t))
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900006, 900001, 1, 20, 'paypal');
SELECT is((SELECT fraud_score FROM transactions WHERE customer_id = 900006),
          round((100 / (1 + exp(-2 * ((ln(21) - 3) / 0.5 - 0))))::numeric, 2),
          'an UPDATE of weight, threshold and prior takes effect on the next insert');
SELECT ok((SELECT is_suspicious FROM transactions WHERE customer_id = 900006),
          'suspicious_threshold 50: a score of about 54 is suspicious');
UPDATE techmart.settings SET value = 99 WHERE name = 'suspicious_threshold';
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900008, 900001, 1, 20, 'paypal');
SELECT is((SELECT (fraud_score, is_suspicious) FROM transactions WHERE customer_id = 900008),
          (SELECT (fraud_score, false) FROM transactions WHERE customer_id = 900006),
          'suspicious_threshold 99: the same score is not suspicious');
INSERT INTO techmart.rule_config (rule, enabled, weight, threshold, params)
VALUES ('amount_zscore', true, 2.5, 0, '{"prior_mean": 3, "prior_sd": 0.5, "prior_weight": 2}');
SELECT is((SELECT (count(*), min(weight)) FROM techmart.rule_config WHERE rule = 'amount_zscore'), (1::bigint, 2.5::float8),
          'INSERT of an existing rule replaces it (what a pg_dump restore does)');
SELECT isnt((SELECT updated_at FROM techmart.rule_config WHERE rule = 'amount_zscore'), NULL::timestamptz,
            'rule_config.updated_at is maintained');

UPDATE techmart.rule_config SET enabled = false WHERE rule = 'amount_zscore';
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900009, 900001, 1, 99999, 'paypal');
SELECT is((SELECT (fraud_score, fraud_reasons, is_suspicious) FROM transactions WHERE customer_id = 900009),
          (50.00::numeric, '[]'::jsonb, false), 'with the rule disabled the score is 100*logistic(bias) with no reason');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900009), 1::bigint,
          'the state is still kept while the rule is disabled');
UPDATE techmart.rule_config SET enabled = true WHERE rule = 'amount_zscore';

-- -------------------------------------------------------------- bad configuration refused
SELECT throws_ok($$UPDATE techmart.rule_config SET weight = -1 WHERE rule = 'amount_zscore'$$, '23514', NULL,
                 'a negative weight is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET weight = 'NaN' WHERE rule = 'amount_zscore'$$, '23514', NULL,
                 'a NaN weight is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET weight = 'Infinity' WHERE rule = 'amount_zscore'$$, '23514', NULL,
                 'an infinite weight is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET threshold = '-Infinity' WHERE rule = 'amount_zscore'$$, '23514', NULL,
                 'an infinite threshold is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET threshold = 'NaN' WHERE rule = 'amount_zscore'$$, '23514', NULL,
                 'a NaN threshold is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"prior_mean": 4, "prior_sd": 0, "prior_weight": 5}' WHERE rule = 'amount_zscore'$$,
                 '23514', NULL, 'prior_sd 0 is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"prior_mean": 4, "prior_sd": 1, "prior_weight": -5}' WHERE rule = 'amount_zscore'$$,
                 '23514', NULL, 'a negative prior_weight is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"prior_sd": "wide"}' WHERE rule = 'amount_zscore'$$,
                 '23514', NULL, 'a non-numeric parameter is refused');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '[1, 2]' WHERE rule = 'amount_zscore'$$,
                 '23514', NULL, 'params that are not an object are refused');
SELECT throws_ok($$UPDATE techmart.settings SET value = 101 WHERE name = 'suspicious_threshold'$$, '23514', NULL,
                 'a suspicious_threshold above 100 is refused');
SELECT throws_ok($$INSERT INTO techmart.settings (name, value) VALUES ('no_such_setting', 1)$$, '23514', NULL,
                 'an unknown setting is refused');
SELECT throws_ok($$UPDATE techmart.customer_state SET mean = 'NaN' WHERE customer_id = 900001$$, '23514', NULL,
                 'customer_state refuses a NaN mean');

-- ------------------------------------- invalid rows: exact SQLSTATE, nothing written
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (NULL, 900001, 1, 10, 'paypal')$$, '23502', NULL, 'NULL customer_id: 23502');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, NULL, 10, 'paypal')$$, '23502', NULL, 'NULL quantity: 23502');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, 1, NULL, 'paypal')$$, '23502', NULL, 'NULL unit_price: 23502');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, 0, 10, 'paypal')$$, '23514', NULL, 'quantity 0: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, -2, 10, 'paypal')$$, '23514', NULL, 'negative quantity: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, 1, 'NaN', 'paypal')$$, '23514', NULL, 'NaN unit_price: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, 1, -0.001, 'paypal')$$, '23514', NULL, 'negative unit_price: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, amount, payment_method)
                   VALUES (900007, 900001, 1, 10, -5, 'paypal')$$, '23514', NULL, 'negative amount: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, amount, payment_method)
                   VALUES (900007, 900001, 1, 10, 'NaN', 'paypal')$$, '23514', NULL, 'NaN amount: 23514');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900999, 900001, 1, 10, 'paypal')$$, '23503', 'customer 900999 does not exist',
                 'unknown customer: 23503 naming the id');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900007, 900001, 1, 10, 'paypal'), (900999, 900001, 1, 10, 'paypal')$$, '23503', NULL,
                 'a multi-row INSERT with one unknown customer fails as a whole');
SELECT is((SELECT count(*) FROM techmart.customer_state WHERE customer_id IN (900007, 900999)), 0::bigint,
          'failed inserts create no state row');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id IN (900007, 900999)), 0::bigint,
          'failed inserts store no transaction');

-- ------------------------------------------------------------------ the memory-bounded cache
-- 6000 customers x 3 rows in one statement with techmart.state_cache_memory at its minimum
-- (1 MB holds a few thousand compact states): the cache is written back and emptied
-- mid-statement, each customer is touched again when it comes back, and no row is lost
INSERT INTO customers (id, email, name, country)
SELECT i, 'trigger-cache-' || i || '@example.com', 'Trigger cache ' || i, 'DE'
  FROM generate_series(930001, 936000) i;
SELECT n_tup_upd AS state_updates FROM pg_stat_xact_user_tables
 WHERE relid = 'techmart.customer_state'::regclass \gset
SET LOCAL techmart.state_cache_memory = '1MB';
SELECT lives_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                  SELECT 930001 + g % 6000, 900001, 1, 5 + g % 97, 'paypal',
                         '2026-03-01 00:00Z'::timestamptz + g * interval '1 second'
                    FROM generate_series(0, 17999) g$$,
                'one statement of 18,000 rows over 6000 customers with a 1 MB state cache');
RESET techmart.state_cache_memory;
SELECT cmp_ok((SELECT n_tup_upd FROM pg_stat_xact_user_tables
                WHERE relid = 'techmart.customer_state'::regclass) - :state_updates, '>', 6000::bigint,
              'the cache was written back mid-statement (more state writes than customers)');
SELECT is((SELECT count(*) FROM techmart.customer_state WHERE customer_id BETWEEN 930001 AND 936000 AND n = 3),
          6000::bigint, 'every customer''s state counts its 3 rows');
SELECT is((SELECT count(*)
             FROM techmart.customer_state s
             JOIN (SELECT customer_id, avg(ln(1 + amount::float8)) AS m, max(transaction_time) AS last
                     FROM transactions WHERE customer_id BETWEEN 930001 AND 936000 GROUP BY 1) r
               ON r.customer_id = s.customer_id
            WHERE abs(s.mean - r.m) < 1e-9 AND s.last_transaction_time = r.last
              AND cardinality(s.recent_t) = 3),
          6000::bigint, 'and its mean, latest time and recent transactions equal the recomputation');

-- ------------------------------------------------------------------ the write-back without SPI
-- The state row locked by the touch is written with heap_update() (native_touch.cpp,
-- write_state): one HOT update per customer and statement, updated_at = now(). Anything the
-- native write does not handle -- a DBA's trigger, index or extra CHECK on customer_state --
-- keeps the SPI UPDATE, which honours it.
INSERT INTO customers (id, email, name, country) VALUES (900011, 'trigger-test-900011@example.com', 'Trigger test 900011', 'DE');
SELECT n_tup_upd AS u0, n_tup_hot_upd AS h0 FROM pg_stat_xact_user_tables
 WHERE relid = 'techmart.customer_state'::regclass \gset
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900011, 900001, 1, 12, 'paypal');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900011, 900001, 1, 13, 'paypal');
SELECT is((SELECT array[n_tup_upd - :u0, n_tup_hot_upd - :h0] FROM pg_stat_xact_user_tables
            WHERE relid = 'techmart.customer_state'::regclass), array[2, 2]::bigint[],
          'two single-row statements: two HOT updates of the state row');
SELECT is((SELECT (n, updated_at) FROM techmart.customer_state WHERE customer_id = 900011),
          (2::bigint, now()), 'the state counts both rows, updated_at = now()');

CREATE TEMP TABLE state_trigger_calls (customer_id bigint);
CREATE FUNCTION pg_temp.count_state_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO state_trigger_calls VALUES (NEW.customer_id); RETURN NEW; END $$;
CREATE TRIGGER dba_audit AFTER UPDATE ON techmart.customer_state
  FOR EACH ROW EXECUTE FUNCTION pg_temp.count_state_update();
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900011, 900001, 1, 14, 'paypal');
SELECT is((SELECT array_agg(customer_id) FROM state_trigger_calls), array[900011]::bigint[],
          'a DBA''s UPDATE trigger on customer_state fires for the write-back (SPI UPDATE)');
DROP TRIGGER dba_audit ON techmart.customer_state;

CREATE INDEX customer_state_n_test ON techmart.customer_state (n);
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900011, 900001, 1, 15, 'paypal');
SET LOCAL enable_seqscan = off;
SELECT is((SELECT customer_id FROM techmart.customer_state WHERE n = 4 AND customer_id = 900011),
          900011::bigint, 'with a DBA''s index on customer_state the write-back maintains it');
RESET enable_seqscan;
DROP INDEX techmart.customer_state_n_test;

ALTER TABLE techmart.customer_state ADD CONSTRAINT dba_n_limit CHECK (n < 5) NOT VALID;
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900011, 900001, 1, 16, 'paypal')$$, '23514', NULL,
                 'a DBA''s extra CHECK on customer_state is enforced on the write-back (23514)');
ALTER TABLE techmart.customer_state DROP CONSTRAINT dba_n_limit;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
VALUES (900011, 900001, 1, 17, 'paypal');
SELECT is((SELECT array[n_tup_upd - :u0, n_tup_hot_upd - :h0] FROM pg_stat_xact_user_tables
            WHERE relid = 'techmart.customer_state'::regclass), array[5, 4]::bigint[],
          'back to the engine''s own table: the next write is HOT again (the indexed one was not)');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900011), 5::bigint,
          'and the state counts the 5 rows of its customer');

-- rows read again in a later statement are their current versions (nothing of a customer is kept
-- from one statement to the next)
UPDATE techmart.rule_config SET enabled = true, weight = 2 WHERE rule = 'foreign_country';
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country)
VALUES (900011, 900001, 1, 18, 'paypal', 'FR');
SELECT ok((SELECT fraud_reasons @> '[{"rule": "foreign_country"}]' FROM transactions
            WHERE customer_id = 900011 AND unit_price = 18),
          'a purchase from FR by a customer at home in DE: foreign_country');
UPDATE customers SET country = 'FR' WHERE id = 900011;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country)
VALUES (900011, 900001, 1, 19, 'paypal', 'FR');
SELECT ok((SELECT NOT fraud_reasons @> '[{"rule": "foreign_country"}]' FROM transactions
            WHERE customer_id = 900011 AND unit_price = 19),
          'after the customer moved to FR, the next statement reads the new home country');

SELECT * FROM finish();
ROLLBACK;
