-- pgTAP: the native touch remembers where the rows it read lay (customer, state row, product and
-- the version tokens: extension/pg/native_touch.cpp, "location hints") and reads them there in the
-- next statements of the same backend. A hint is only used while the version it points to is
-- still the one the statement's snapshot sees: rows changed and committed by another session
-- in between, and a state version written by a rolled-back subtransaction, are read anew. The
-- other session's rows are committed, so the test removes them at the end.
BEGIN;
SELECT plan(9);

CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.conninfo() RETURNS text LANGUAGE sql AS $$
  SELECT format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)
$$;
CREATE FUNCTION pg_temp.rules(bigint) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(r ->> 'rule' ORDER BY r ->> 'rule'), '{}')
    FROM transactions t, jsonb_array_elements(t.fraud_reasons) r WHERE t.id = $1
$$;

SELECT dblink_exec(pg_temp.conninfo(), $$
  BEGIN;
  DELETE FROM transactions WHERE customer_id = 900301;
  DELETE FROM techmart.customer_state WHERE customer_id = 900301;
  DELETE FROM customers WHERE id = 900301;
  DELETE FROM products WHERE id = 900301;
  INSERT INTO customers (id, email, name, country) VALUES (900301, 'hints-test@example.com', 'Hints test', 'DE');
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (900301, 'HINTS-TEST-900301', 'Hints test product', 10, 1000000);
  COMMIT;
$$) AS setup \gset

-- session a scores its rows in separate statements (autocommit): from the second on it reads the
-- customer, its state row, the product and the tokens at their hints
SELECT dblink_connect('a', pg_temp.conninfo()) AS a_connected \gset
CREATE FUNCTION pg_temp.buy() RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM dblink('a', $q$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country)
                               VALUES (900301, 900301, 1, 10, 'paypal', 'DE') RETURNING id$q$) AS r(id bigint)
$$;
CREATE FUNCTION pg_temp.n_in_a() RETURNS bigint LANGUAGE sql AS $$
  SELECT n FROM dblink('a', 'SELECT n FROM techmart.customer_state WHERE customer_id = 900301') AS r(n bigint)
$$;
SELECT pg_temp.buy() AS t1 \gset
SELECT pg_temp.buy() AS t2 \gset
SELECT pg_temp.buy() AS t3 \gset
SELECT ok(NOT (pg_temp.rules(:t3) && ARRAY['foreign_country', 'amount_vs_list']),
          'a home purchase at list price: neither foreign_country nor amount_vs_list');

-- another session changes the customer's country and the product's price, and scores a row of
-- the same customer (a new version of the state row), committed
SELECT dblink_exec(pg_temp.conninfo(), $$
  BEGIN;
  UPDATE customers SET country = 'FR' WHERE id = 900301;
  UPDATE products SET price = 100 WHERE id = 900301;
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, country)
  VALUES (900301, 900301, 1, 100, 'paypal', 'FR');
  COMMIT;
$$) AS other_session \gset
SELECT pg_temp.buy() AS t4 \gset
SELECT ok(pg_temp.rules(:t4) @> ARRAY['foreign_country'],
          'the customer''s country committed by another session is read (foreign_country)');
SELECT ok(pg_temp.rules(:t4) @> ARRAY['amount_vs_list'],
          'the product''s price committed by another session is read (amount_vs_list)');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900301), 5::bigint,
          'the state counts the other session''s row too (its version, not the hinted one)');

-- a state version written by a rolled-back subtransaction is not read again
SELECT dblink_exec('a', 'BEGIN') AS a_begin \gset
SELECT dblink_exec('a', 'SAVEPOINT s') AS a_savepoint \gset
SELECT pg_temp.buy() AS t5 \gset
SELECT is(pg_temp.n_in_a(), 6::bigint, 'inside the subtransaction the state counts its row');
SELECT dblink_exec('a', 'ROLLBACK TO SAVEPOINT s') AS a_rollback_to \gset
SELECT pg_temp.buy() AS t6 \gset
SELECT is(pg_temp.n_in_a(), 6::bigint, 'after its rollback the next row counts from the state before it');
SELECT dblink_exec('a', 'COMMIT') AS a_commit \gset

-- a configuration changed by another session (the version token read at its hint) applies to
-- the next statement
SELECT dblink_exec(pg_temp.conninfo(), $$UPDATE techmart.rule_config SET enabled = false WHERE rule = 'foreign_country'$$) AS off \gset
SELECT pg_temp.buy() AS t7 \gset
SELECT dblink_exec(pg_temp.conninfo(), $$UPDATE techmart.rule_config SET enabled = true WHERE rule = 'foreign_country'$$) AS on_again \gset
SELECT ok(NOT (pg_temp.rules(:t7) @> ARRAY['foreign_country']),
          'a rule disabled by another session is off in the next statement');
SELECT pg_temp.buy() AS t8 \gset
SELECT ok(pg_temp.rules(:t8) @> ARRAY['foreign_country'], 'and on again once it is enabled');
SELECT dblink_disconnect('a') AS a_disconnected \gset

SELECT ok((SELECT abs(s.mean - r.m) < 1e-9 AND s.n = r.n
             FROM techmart.customer_state s,
                  (SELECT count(*) AS n, avg(ln(1 + amount::float8)) AS m
                     FROM transactions WHERE customer_id = 900301) r
            WHERE s.customer_id = 900301),
          'the state equals the recomputation from the customer''s transactions');

SELECT dblink_exec(pg_temp.conninfo(), $$
  BEGIN;
  DELETE FROM transactions WHERE customer_id = 900301;
  DELETE FROM techmart.customer_state WHERE customer_id = 900301;
  DELETE FROM customers WHERE id = 900301;
  DELETE FROM products WHERE id = 900301;
  COMMIT;
$$) AS cleanup \gset

SELECT * FROM finish();
ROLLBACK;
