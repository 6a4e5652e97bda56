-- pgTAP: INSERT ... ON CONFLICT into a scored table is refused (0A000) while scoring is on. The engine's
-- BEFORE ROW trigger runs before the conflict check: before this guard, a row that ON CONFLICT DO
-- NOTHING skipped still counted in its customer's state (n + 1), overwrote the existing transaction's
-- shadow score and raised an alert for it. Also on a partitioned transactions (the partitioned suite).
BEGIN;
SELECT plan(12);

INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (985001, 'ONCONFLICT-1', 'on conflict', 10, 100);
INSERT INTO customers (id, email, name, country) VALUES (985001, 'onconflict@example.com', 'On conflict', 'DE');
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
VALUES (985000001, 985001, 985001, 1, 10, 'paypal', '2021-06-01 10:00Z');
CREATE TEMP TABLE before_state AS SELECT n, recent_t FROM techmart.customer_state WHERE customer_id = 985001;
SELECT is((SELECT n FROM before_state), 1::bigint, 'the customer''s state counts its one transaction');

-- the conflict target of DO UPDATE: the primary key's columns (id, or (id, transaction_time) once partitioned)
SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) AS pk_cols
  FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(att, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.att
 WHERE i.indrelid = 'transactions'::regclass AND i.indisprimary \gset

SELECT throws_ok($$INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                   VALUES (985000001, 985001, 985001, 1, 10, 'paypal', '2021-06-01 10:00Z') ON CONFLICT DO NOTHING$$,
                 '0A000', 'INSERT ... ON CONFLICT into "transactions" is not supported while techmart scores it',
                 'ON CONFLICT DO NOTHING on a conflicting row: 0A000');
SELECT throws_ok($$INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                   VALUES (985000002, 985001, 985001, 1, 10, 'paypal', '2021-06-01 11:00Z') ON CONFLICT DO NOTHING$$,
                 '0A000', NULL, 'ON CONFLICT DO NOTHING on a new row: 0A000 too (refused before any row is read)');
SELECT throws_ok(format($$INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                   VALUES (985000001, 985001, 985001, 1, 10, 'paypal', '2021-06-01 10:00Z')
                   ON CONFLICT (%s) DO UPDATE SET label = 'legitimate'$$, :'pk_cols'),
                 '0A000', NULL, 'ON CONFLICT DO UPDATE: 0A000');
SELECT throws_ok($$WITH x AS (INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                   VALUES (985000001, 985001, 985001, 1, 10, 'paypal', '2021-06-01 10:00Z') ON CONFLICT DO NOTHING RETURNING id)
                   SELECT count(*) FROM x$$,
                 '0A000', NULL, 'the same inside a WITH: 0A000');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 985001), 1::bigint,
          'the customer''s state still counts one transaction');
SELECT is((SELECT count(*)::int FROM alerts WHERE customer_id = 985001 AND transaction_id = 985000001), 0,
          'and no alert was raised for the existing transaction');

SELECT lives_ok($$EXPLAIN INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method)
                  VALUES (985000001, 985001, 985001, 1, 10, 'paypal') ON CONFLICT DO NOTHING$$,
                'EXPLAIN (without ANALYZE) of such an INSERT still works');
SELECT lives_ok($$INSERT INTO categories (id, name) VALUES (985001, 'on conflict cat') ON CONFLICT DO NOTHING$$,
                'ON CONFLICT into a table the engine does not score works');
SELECT lives_ok($$INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                  VALUES (985000003, 985001, 985001, 1, 10, 'paypal', '2021-06-01 12:00Z')$$,
                'a plain INSERT into transactions works');

-- scoring off: the trigger only validates, nothing to count: ON CONFLICT is allowed and skips the row
SET LOCAL techmart.scoring = off;
SELECT lives_ok($$INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                  VALUES (985000001, 985001, 985001, 1, 10, 'paypal', '2021-06-01 10:00Z') ON CONFLICT DO NOTHING$$,
                'with techmart.scoring = off, ON CONFLICT DO NOTHING works');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 985001), 2::bigint,
          'and the state counts the two transactions inserted (the first and the plain one)');

SELECT * FROM finish();
ROLLBACK;
