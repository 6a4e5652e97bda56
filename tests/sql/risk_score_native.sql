-- pgTAP: the scoring trigger writes customers.risk_score without the executor (native::write_risks,
-- extension/pg/native_touch.cpp) only where that is what the executor's UPDATE would do:
-- * the score is written, every index of customers (customers_risk_idx among them: a changed
--   risk_score is never a HOT update) has the new version's entry (amcheck with heapallindexed,
--   and an index-only lookup by the new score), and the state check finds nothing different;
-- * a user trigger on customers still fires (the SPI UPDATE is kept for such a table);
-- * a DBA's extra CHECK constraint on risk_score is still enforced (23514), and a changed
--   customers_risk_score_check too: the statement fails and nothing is half-written;
-- * a score equal to the stored one writes no new row version (as the SPI UPDATE's IS DISTINCT FROM).
-- Customers and product 9712xx; lines in 2031, far from the seed.
BEGIN;
SELECT plan(12);
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;

INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (971201, 'RISK-NATIVE-1', 'risk native', 10, 1000000);
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 971200 + i, 'risknative' || i || '@example.com', 'Risk native ' || i, 'FR', '2031-01-01' FROM generate_series(1, 4) i;

-- a burst that every rule finds suspicious, for customer C at minute M of 2031-03-01
CREATE FUNCTION pg_temp.burst(c bigint, m int, n int, st text DEFAULT 'completed') RETURNS void LANGUAGE sql AS $$
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, status, payment_method, country, latitude,
                            longitude, transaction_time)
  SELECT c, 971201, 5, 4000 + g, st, 'crypto', (ARRAY['NG','US','RU','BR'])[1 + g % 4], (ARRAY[6.5, 40.7, 55.7, -23.5])[1 + g % 4],
         (ARRAY[3.4, -74.0, 37.6, -46.6])[1 + g % 4], timestamptz '2031-03-01 12:00+00' + m * interval '1 minute' + g * interval '5 seconds'
    FROM generate_series(1, n) g
$$;

-- 1. written natively: the score, the indexes, the state
SELECT pg_temp.burst(971201, 0, 1);
SELECT ok((SELECT risk_score FROM customers WHERE id = 971201) > 0, 'a suspicious line raises the customer''s risk_score');
SELECT pg_temp.burst(971201, 1, 1);
SELECT pg_temp.burst(971201, 2, 1);
SELECT is((SELECT count(*)::int FROM pg_index i, LATERAL (SELECT bt_index_check(i.indexrelid, true)) c
            WHERE i.indrelid = 'customers'::regclass),
          (SELECT count(*)::int FROM pg_index WHERE indrelid = 'customers'::regclass),
          'every index of customers holds every row version (bt_index_check with heapallindexed)');
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT is((SELECT array_agg(id) FROM customers WHERE risk_score = (SELECT risk_score FROM customers WHERE id = 971201)
             AND id BETWEEN 971201 AND 971204),
          ARRAY[971201::bigint], 'customers_risk_idx finds the customer by its new score');
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT is_empty($$SELECT * FROM techmart.customer_state_check(ARRAY[971201]::bigint[])$$,
                'the state and risk_score equal the recomputation');

-- 2. a user trigger on customers fires for the score's update (the line's total_spent update fires it too)
CREATE TABLE pg_temp.risk_updates (id bigint, old_score numeric, new_score numeric);
CREATE FUNCTION pg_temp.note_risk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pg_temp.risk_updates VALUES (NEW.id, OLD.risk_score, NEW.risk_score);
  RETURN NEW;
END $$;
CREATE TRIGGER risk_native_note AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION pg_temp.note_risk();
SELECT pg_temp.burst(971202, 0, 1);
SELECT is((SELECT count(*)::int FROM pg_temp.risk_updates WHERE id = 971202 AND old_score = 0 AND new_score > 0), 1,
          'a user trigger on customers sees the score''s update');
SELECT is((SELECT new_score FROM pg_temp.risk_updates WHERE id = 971202 AND old_score IS DISTINCT FROM new_score),
          (SELECT risk_score FROM customers WHERE id = 971202),
          'with the score the row holds');
DROP TRIGGER risk_native_note ON customers;

-- 3. a DBA's CHECK on risk_score, and a changed customers_risk_score_check, are enforced (pending lines: the
--    total_spent update of a completed line would check the row again by itself)
ALTER TABLE customers ADD CONSTRAINT risk_native_cap CHECK (risk_score <= 1) NOT VALID;
SELECT throws_ok($$SELECT pg_temp.burst(971203, 0, 3, 'pending')$$, '23514', NULL, 'an extra CHECK on risk_score is enforced (23514)');
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id = 971203), 0, 'and the statement left no line');
ALTER TABLE customers DROP CONSTRAINT risk_native_cap;
ALTER TABLE customers DROP CONSTRAINT customers_risk_score_check;
ALTER TABLE customers ADD CONSTRAINT customers_risk_score_check CHECK (risk_score >= 0 AND risk_score <= 1) NOT VALID;
SELECT throws_ok($$SELECT pg_temp.burst(971203, 0, 3, 'pending')$$, '23514', NULL,
                 'a customers_risk_score_check with other bounds is enforced (23514)');
ALTER TABLE customers DROP CONSTRAINT customers_risk_score_check;
ALTER TABLE customers ADD CONSTRAINT customers_risk_score_check CHECK (risk_score >= 0 AND risk_score <= 100);
SELECT pg_temp.burst(971203, 0, 3, 'pending');
SELECT ok((SELECT risk_score FROM customers WHERE id = 971203) > 1, 'with the migrations'' constraint back, the score is written');

-- 4. an unchanged score writes no new version: a customer at the ceiling stays at 100.00
SELECT pg_temp.burst(971204, 0, 40);
SELECT is((SELECT risk_score FROM customers WHERE id = 971204), 100.00, 'forty suspicious lines: risk_score 100.00');
CREATE TEMP TABLE before_ctid AS SELECT ctid AS c FROM customers WHERE id = 971204;
-- (a pending line: total_spent, kept by its own trigger, does not move either)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, status, payment_method, country, transaction_time)
VALUES (971204, 971201, 5, 4100, 'pending', 'crypto', 'NG', '2031-03-01 12:10+00');
SELECT is((SELECT ctid FROM customers WHERE id = 971204), (SELECT c FROM before_ctid),
          'one more: the score is still 100.00 and the customers row was not rewritten');

SELECT * FROM finish();
ROLLBACK;
