-- pgTAP: fraud alerts of multi-row statements (issue 3, bug found in bench/rollups): a multi-row
-- INSERT ... SELECT producing suspicious rows must insert one alert per suspicious row, each
-- referencing an existing transaction, in the same transaction — with the statement trigger
-- (alerts written after the rows exist, also when the state cache is written back
-- mid-statement) and without it (write-through: alerts checked against their rows at commit,
-- forced here with SET CONSTRAINTS ... IMMEDIATE). A rolled-back insert leaves no alert.
-- Ids 920001+; rolled back.
BEGIN;
SELECT plan(14);

DELETE FROM techmart.settings;
INSERT INTO techmart.settings (name, value) VALUES ('suspicious_threshold', 70), ('reason_min_contribution', 0.5), ('bias', -4);
UPDATE techmart.rule_config SET enabled = true;
DELETE FROM techmart.risk_list;
INSERT INTO techmart.risk_list (kind, value) VALUES ('country', 'KP'), ('payment_method', 'crypto');
INSERT INTO customers (id, email, name, country, registration_date)
SELECT i, 'fraud-alerts-' || i || '@example.com', 'Fraud alerts ' || i, 'DE', '2020-01-01'
  FROM generate_series(920001, 920060) i;
INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (920001, 'FRAUD-ALERTS-1', 'Fraud alerts product', 40, 1000000);

CREATE FUNCTION pg_temp.suspicious(lo bigint, hi bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM transactions WHERE customer_id BETWEEN lo AND hi AND is_suspicious $$;
CREATE FUNCTION pg_temp.alerts_ok(lo bigint, hi bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM alerts a JOIN transactions t ON t.id = a.transaction_id
   WHERE t.customer_id BETWEEN lo AND hi AND a.type = 'fraud' AND a.customer_id = t.customer_id AND t.is_suspicious $$;

-- 1. with the statement trigger, 40 customers, state cache of 16: written back mid-statement
SET LOCAL techmart.state_cache_entries = 16;
SELECT lives_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
                  SELECT c, 920001, 1, 4000, 'crypto', 'KP', '2026-02-01 12:00Z'::timestamptz + (c - 920001) * interval '1 second'
                    FROM generate_series(920001, 920040) c$$,
                'multi-row INSERT ... SELECT of suspicious rows for 40 customers (cache written back mid-statement)');
SELECT ok(pg_temp.suspicious(920001, 920040) = 40, 'every row is suspicious (crypto, high-risk country, 100x the list price)');
SELECT is(pg_temp.alerts_ok(920001, 920040), 40::bigint, 'one alert per suspicious row, visible in the same transaction');
SELECT lives_ok('SET CONSTRAINTS alerts_transaction_id_fkey IMMEDIATE', 'every alert references an existing transaction');
SET CONSTRAINTS alerts_transaction_id_fkey DEFERRED;
RESET techmart.state_cache_entries;

-- 2. several rows per customer in one statement
SELECT lives_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
                  SELECT 920041 + g % 3, 920001, 1, 4000, 'crypto', 'KP', '2026-02-01 13:00Z'::timestamptz + g * interval '10 seconds'
                    FROM generate_series(1, 12) g$$,
                'multi-row INSERT ... SELECT: 12 suspicious rows of 3 customers');
SELECT is(pg_temp.alerts_ok(920041, 920043), pg_temp.suspicious(920041, 920043), 'one alert per suspicious row');

-- 3. without the statement trigger (write-through: state and alert written from the row trigger)
ALTER TABLE transactions DISABLE TRIGGER transactions_score_flush;
SELECT lives_ok($$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
                  SELECT c, 920001, 1, 4000, 'crypto', 'KP', '2026-02-01 14:00Z'::timestamptz + (c - 920044) * interval '1 second'
                    FROM generate_series(920044, 920053) c$$,
                'write-through: multi-row INSERT ... SELECT of suspicious rows (was 23503 on alerts_transaction_id_fkey)');
SELECT is(pg_temp.alerts_ok(920044, 920053), 10::bigint, 'write-through: one alert per suspicious row');
SELECT lives_ok('SET CONSTRAINTS alerts_transaction_id_fkey IMMEDIATE', 'write-through: every alert references an existing transaction');
SET CONSTRAINTS alerts_transaction_id_fkey DEFERRED;
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 920044), 1::bigint, 'write-through: state written');
ALTER TABLE transactions ENABLE TRIGGER transactions_score_flush;

-- 4. a rolled-back insert raises no alert
SAVEPOINT before_insert;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country, transaction_time)
SELECT c, 920001, 1, 4000, 'crypto', 'KP', '2026-02-01 15:00Z' FROM generate_series(920054, 920060) c;
SELECT is(pg_temp.alerts_ok(920054, 920060), 7::bigint, 'the alerts exist inside the transaction');
ROLLBACK TO SAVEPOINT before_insert;
SELECT is((SELECT count(*) FROM alerts WHERE customer_id BETWEEN 920054 AND 920060), 0::bigint,
          'a rolled-back insert leaves no alert');

-- 5. an alert whose transaction does not exist is still refused (at the check)
SELECT lives_ok($$INSERT INTO alerts (type, severity, message, transaction_id) VALUES ('fraud', 'low', 'orphan', -1)$$,
                'deferred: an orphan alert is accepted until the check');
SELECT throws_ok('SET CONSTRAINTS alerts_transaction_id_fkey IMMEDIATE', '23503', NULL,
                 'an alert of a transaction that does not exist is refused (23503)');

SELECT * FROM finish();
ROLLBACK;
