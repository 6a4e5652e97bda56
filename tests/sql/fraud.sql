-- pgTAP: the fraud engine of techmart 0.2 (docs/fraud.md): rules fire on crafted sequences and
-- stay silent on normal ones, explain matches the stored reasons, config applies at the next
-- statement, bad config is refused, alerts, risk_score, rebuild_state equals row-by-row
-- scoring, the state is written once per statement, errors. Ids 910001+; rolled back.
BEGIN;
SELECT plan(45);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES
  ('suspicious_threshold', 70), ('reason_min_contribution', 0.5), ('bias', -4),
  ('risk_floor', 50), ('risk_half_life_days', 30), ('hour_half_life_days', 90);
DELETE FROM techmart.amount_prior;
DELETE FROM techmart.hour_prior;
UPDATE techmart.rule_config SET enabled = true;
UPDATE techmart.rule_config SET params = params || '{"use_priors": 0}' WHERE rule = 'amount_zscore';
DELETE FROM techmart.risk_list;
INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'KP'), ('payment_method', 'crypto');

INSERT INTO customers (id, email, name, country, home_lat, home_lon, registration_date)
SELECT i, 'fraud-test-' || i || '@example.com', 'Fraud test ' || i, 'DE', 52.52, 13.40, '2020-01-01'
  FROM generate_series(910001, 910020) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (910001, 'FRAUD-TEST-1', 'Fraud test product', 40, 1000000),
                                                   (910002, 'FRAUD-TEST-2', 'Fraud test cheap', 2, 1000000);

-- a normal history for customers 910001..910012: 20 purchases, one a day at 14:xx UTC in Berlin
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT c, 910001, 1, 38 + (d % 5), 'credit_card', 'DE', 52.52, 13.40, '2026-01-01 14:00Z'::timestamptz + d * interval '1 day' + (c % 30) * interval '1 minute'
  FROM generate_series(910001, 910012) c, generate_series(1, 20) d ORDER BY d, c;
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 910001 AND 910012 AND fraud_reasons <> '[]'), 0::bigint,
          'a normal history raises no reason at all');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id BETWEEN 910001 AND 910012 AND is_suspicious), 0::bigint,
          'no transaction of a normal history is suspicious');

CREATE FUNCTION pg_temp.last_reasons(c bigint) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(r ->> 'rule' ORDER BY r ->> 'rule') FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
   WHERE t.id = (SELECT max(id) FROM transactions WHERE customer_id = c) $$;
CREATE FUNCTION pg_temp.fired(c bigint, rule text) RETURNS boolean LANGUAGE sql AS $$
  SELECT coalesce(rule = ANY (pg_temp.last_reasons(c)), false) $$;

-- one crafted anomaly per customer, each one day after the history
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 910001, 910001, 1, 40, 'credit_card', 'DE', 52.52, 13.40, '2026-01-22 14:00Z'::timestamptz + g * interval '30 seconds'
  FROM generate_series(1, 8) g;
SELECT ok(pg_temp.fired(910001, 'velocity_10m'), 'velocity_10m fires on 8 purchases in 4 minutes');
SELECT ok((SELECT is_suspicious FROM transactions WHERE customer_id = 910001 ORDER BY id DESC LIMIT 1), 'the burst is suspicious');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 910002, 910002, 1, 1.5, 'credit_card', 'DE', 52.52, 13.40, '2026-01-22 14:00Z'::timestamptz + g * interval '20 seconds'
  FROM generate_series(1, 6) g;
SELECT ok(pg_temp.fired(910002, 'card_testing'), 'card_testing fires on 6 amounts of 1.50 within 2 minutes');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910003, 910001, 1, 3000, 'credit_card', 'DE', 52.52, 13.40, '2026-01-22 14:05Z');
SELECT ok(pg_temp.fired(910003, 'amount_zscore'), 'amount_zscore fires on 3000 after amounts near 40');
SELECT ok(pg_temp.fired(910003, 'amount_robust'), 'amount_robust fires too');
SELECT ok(pg_temp.fired(910003, 'amount_vs_list'), 'amount_vs_list fires on a unit price 75x the list price');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910004, 910001, 1, 40, 'credit_card', 'US', 40.71, -74.00, '2026-01-21 15:00Z');
SELECT ok(pg_temp.fired(910004, 'impossible_travel'), 'impossible_travel: Berlin to New York in about an hour');
SELECT ok(pg_temp.fired(910004, 'foreign_country'), 'foreign_country: US for a customer at home in DE');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (910005, 910001, 1, 40, 'credit_card', 'KP', '2026-01-22 14:05Z');
SELECT ok(pg_temp.fired(910005, 'high_risk_country'), 'high_risk_country fires for a listed country');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (910006, 910001, 1, 40, 'crypto', 'DE', '2026-01-22 14:05Z');
SELECT ok(pg_temp.fired(910006, 'high_risk_method'), 'high_risk_method fires for crypto');
SELECT ok(pg_temp.fired(910006, 'new_payment_method'), 'new_payment_method fires for a method never used before');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (910007, 910001, 1, 40, 'credit_card', 'DE', '2026-01-22 03:10Z');
SELECT ok(pg_temp.fired(910007, 'rare_hour_customer'), 'rare_hour_customer fires at 03h for a 14h customer');
UPDATE customers SET registration_date = '2026-01-20' WHERE id = 910008;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (910008, 910001, 1, 2000, 'credit_card', 'DE', '2026-01-22 14:05Z');
SELECT ok(pg_temp.fired(910008, 'young_account'), 'young_account fires for 2000 two days after registering');
-- the shop's hour profile: refresh_priors() then a purchase at an hour the shop never sees
SELECT ok((SELECT count(*) > 0 FROM techmart.refresh_priors()), 'refresh_priors() computes priors');
SELECT is((SELECT round(sum(share)::numeric, 9) FROM techmart.hour_prior), 1::numeric, 'the shop''s hour shares sum to 1');
DELETE FROM techmart.hour_prior;  -- a shop that never sells at 04h UTC
INSERT INTO techmart.hour_prior (hour, share) SELECT h, CASE WHEN h = 4 THEN 0 ELSE 1.0 / 23 END FROM generate_series(0, 23) h;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
VALUES (910009, 910001, 1, 40, 'credit_card', 'DE', '2026-01-22 04:05Z');
SELECT ok(pg_temp.fired(910009, 'rare_hour_shop'), 'rare_hour_shop fires at an hour with no shop traffic');
-- and the same normal purchase once more is silent
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910010, 910001, 1, 40, 'credit_card', 'DE', 52.52, 13.40, '2026-01-22 14:05Z');
SELECT is(pg_temp.last_reasons(910010), NULL, 'a normal purchase after a normal history: no rule fires');

-- ------------------------------------------------- time patterns in local solar time
SELECT is(techmart.local_hour('2026-01-22 18:10Z', 139.7), 3, 'local_hour: 18:10 UTC is 03h at Tokyo''s longitude (+9)');
SELECT is(techmart.local_hour('2026-01-22 18:10Z', -74.0), 13, 'local_hour: 13h at New York''s longitude (-5)');
SELECT is(techmart.local_hour('2026-01-22 18:10Z', NULL), 18, 'local_hour without a longitude: the UTC hour');
SELECT throws_ok($$SELECT techmart.local_hour('infinity', 0)$$, '22008', NULL, 'local_hour of an infinite time: 22008');
-- hour_prior counts local hours, as an independent computation of them does
SELECT ok((SELECT count(*) > 0 FROM techmart.refresh_priors()), 'refresh_priors() again');
SELECT is((SELECT array_agg(round(share::numeric, 9) ORDER BY hour) FROM techmart.hour_prior),
          (SELECT array_agg(round(share, 9) ORDER BY h) FROM (
           SELECT h, coalesce(c, 0)::numeric / sum(coalesce(c, 0)) OVER () AS share
             FROM generate_series(0, 23) h
             LEFT JOIN (SELECT ((extract(hour FROM transaction_time AT TIME ZONE 'UTC')::int
                                 + CASE WHEN latitude IS NULL OR longitude IS NULL THEN 0
                                        ELSE floor(longitude / 15 + 0.5)::int END) % 24 + 24) % 24 AS hr,
                               count(*) AS c
                          FROM transactions GROUP BY 1) x ON x.hr = h) sh),
          'hour_prior holds the shop''s shares of local solar hours');
DELETE FROM techmart.hour_prior;
-- a customer in Tokyo who buys at 14h local (05h UTC); 03h local (18h UTC, a normal hour in Berlin) is rare
INSERT INTO customers (id, email, name, country, home_lat, home_lon, registration_date)
VALUES (910031, 'fraud-test-910031@example.com', 'Fraud test Tokyo', 'JP', 35.68, 139.69, '2020-01-01');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
SELECT 910031, 910001, 1, 38 + (d % 5), 'credit_card', 'JP', 35.68, 139.69, '2026-01-01 05:00Z'::timestamptz + d * interval '1 day'
  FROM generate_series(1, 20) d;
SELECT is(pg_temp.last_reasons(910031), NULL, 'Tokyo history at 14h local: no reason');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910031, 910001, 1, 40, 'credit_card', 'JP', 35.68, 139.69, '2026-01-22 18:10Z');
SELECT ok(pg_temp.fired(910031, 'rare_hour_customer'), 'rare_hour_customer fires at 03h local (18h UTC) for a 14h-local customer');
SELECT matches((SELECT r ->> 'detail' FROM transactions t, jsonb_array_elements(t.fraud_reasons) r
                 WHERE t.id = (SELECT max(id) FROM transactions WHERE customer_id = 910031) AND r ->> 'rule' = 'rare_hour_customer'),
               '^local hour 03 ', 'the reason names the local hour');
-- one hour off the habit is not surprising (spread over neighbouring hours)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910031, 910001, 1, 40, 'credit_card', 'JP', 35.68, 139.69, '2026-01-24 06:10Z');
SELECT ok(NOT pg_temp.fired(910031, 'rare_hour_customer'), 'an hour later than usual (15h local) does not fire');

-- ------------------------------------------------------------------- explain
SELECT is((SELECT array_agg((rule, observed, threshold, weight, contribution, detail)::text)
             FROM techmart.explain((SELECT max(id) FROM transactions WHERE customer_id = 910004)) WHERE rule <> '= score'),
          (SELECT array_agg((r ->> 'rule', (r ->> 'observed')::float8, (r ->> 'threshold')::float8, (r ->> 'weight')::float8,
                             (r ->> 'contribution')::float8, r ->> 'detail')::text ORDER BY o)
             FROM transactions t, jsonb_array_elements(t.fraud_reasons) WITH ORDINALITY AS x(r, o)
            WHERE t.id = (SELECT max(id) FROM transactions WHERE customer_id = 910004)),
          'explain() lists exactly the stored reasons, in order');
SELECT is((SELECT observed FROM techmart.explain((SELECT max(id) FROM transactions WHERE customer_id = 910004)) WHERE rule = '= score'),
          (SELECT fraud_score::float8 FROM transactions WHERE id = (SELECT max(id) FROM transactions WHERE customer_id = 910004)),
          'explain() ends with the stored score');
SELECT throws_ok('SELECT * FROM techmart.explain(-1)', 'P0002', NULL, 'explain of an unknown transaction: P0002');

-- ------------------------------------------------------------------ alerts and risk
SELECT ok((SELECT count(*) = (SELECT count(*) FROM transactions WHERE customer_id BETWEEN 910001 AND 910020 AND is_suspicious)
             FROM alerts WHERE customer_id BETWEEN 910001 AND 910020 AND type = 'fraud'),
          'one fraud alert per suspicious transaction');
SELECT ok((SELECT bool_and(a.severity = CASE WHEN t.fraud_score >= 95 THEN 'critical' WHEN t.fraud_score >= 85 THEN 'high'
                                             WHEN t.fraud_score >= 75 THEN 'medium' ELSE 'low' END
                           AND a.metadata -> 'reasons' = t.fraud_reasons
                           -- the same text too: fraud_reasons' numbers (built without text) have
                           -- the scale jsonb_in gives the alert's JSON text
                           AND (a.metadata -> 'reasons')::text = t.fraud_reasons::text)
             FROM alerts a JOIN transactions t ON t.id = a.transaction_id WHERE t.customer_id BETWEEN 910001 AND 910020),
          'alert severity follows the score band and its metadata carries the reasons');
SELECT ok((SELECT risk_score > 0 FROM customers WHERE id = 910001), 'a customer with a suspicious burst has a risk_score');
SELECT is((SELECT risk_score FROM customers WHERE id = 910010), 0.00::numeric(5,2), 'a normal customer keeps risk_score 0');

-- ------------------------------------------------- config applies at the next statement
UPDATE techmart.rule_config SET threshold = 100 WHERE rule = 'velocity_10m';
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, latitude, longitude, transaction_time)
VALUES (910001, 910001, 1, 40, 'credit_card', 'DE', 52.52, 13.40, '2026-01-22 14:04:30Z');
SELECT ok(NOT pg_temp.fired(910001, 'velocity_10m'), 'raising a threshold silences the rule at the next insert');
SELECT throws_ok($$UPDATE techmart.rule_config SET params = '{"max_kmh": 0}' WHERE rule = 'impossible_travel'$$, '23514', NULL,
                 'max_kmh 0 is refused');
SELECT throws_ok($$INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'germany')$$, '23514', NULL,
                 'a risk-list country must be an ISO code');
SELECT throws_ok($$UPDATE techmart.settings SET value = 100 WHERE name = 'risk_floor'$$, '23514', NULL,
                 'risk_floor 100 is refused');

-- ------------------------------------------------------- errors: nothing half-written
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (910011, 999999999, 1, 10, 'paypal')$$, '23503', 'product 999999999 does not exist',
                 'unknown product: 23503 naming the id');
SELECT throws_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (910011, 910001, 1, 'Infinity', 'paypal')$$, '22003', NULL, 'infinite unit_price: 22003 (the numeric(14,3) column refuses it)');
SELECT is((SELECT count(*) FROM transactions WHERE customer_id = 910011), 20::bigint, 'failed inserts stored nothing (the 20 rows of history only)');

-- --------------------------------------------- rebuild_state equals row-by-row scoring
CREATE TEMP TABLE before_rebuild AS
  SELECT s.*, c.risk_score FROM techmart.customer_state s JOIN customers c ON c.id = s.customer_id
   WHERE s.customer_id BETWEEN 910001 AND 910020;
SELECT ok(techmart.rebuild_state() > 0, 'rebuild_state() runs');
SELECT is((SELECT count(*) FROM (
             SELECT customer_id, n, mean, m2, amount_hist, recent_t, recent_a, hour_profile, profile_time, last_transaction_time,
                    last_amount, last_lat, last_lon, last_country, methods, risk, risk_time, risk_score FROM before_rebuild
             EXCEPT
             SELECT s.customer_id, n, mean, m2, amount_hist, recent_t, recent_a, hour_profile, profile_time, last_transaction_time,
                    last_amount, last_lat, last_lon, last_country, methods, risk, risk_time, c.risk_score
               FROM techmart.customer_state s JOIN customers c ON c.id = s.customer_id
              WHERE s.customer_id BETWEEN 910001 AND 910020) d), 0::bigint,
          'rebuild_state() leaves exactly the state scoring row by row left');

SELECT * FROM finish();
ROLLBACK;
