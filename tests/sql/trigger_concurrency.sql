-- pgTAP: concurrent inserts for one customer serialise on the customer's state row and never
-- lose an update, including the race to create the state row. Uses dblink to drive 4 other
-- sessions at once; their rows are committed, so the test removes them at the end. Then what
-- the state row's lock does like SELECT ... FOR UPDATE (the engine locks it without the
-- executor, extension/pg/native_touch.cpp): a REPEATABLE READ writer whose snapshot predates a
-- committed change of the state gets 40001, a role without the table privileges 42501, and a
-- role with them scores.
BEGIN;
SELECT plan(10);

CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.conninfo() RETURNS text LANGUAGE sql AS $$
  SELECT format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)
$$;

SELECT dblink_exec(pg_temp.conninfo(), $$
  BEGIN;
  DELETE FROM transactions WHERE customer_id = 900201;
  DELETE FROM techmart.customer_state WHERE customer_id = 900201;
  DELETE FROM customers WHERE id = 900201;
  DELETE FROM products WHERE id = 900201;
  INSERT INTO customers (id, email, name, country) VALUES (900201, 'concurrency-test@example.com', 'Concurrency test', 'DE');
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (900201, 'CONCURRENCY-TEST-900201', 'Concurrency test product', 1, 1000000);
  COMMIT;
$$) AS setup \gset

-- 4 sessions x 40 inserts, started together against a customer without state yet
SELECT count(dblink_connect('w' || i, pg_temp.conninfo())) AS connected FROM generate_series(1, 4) i \gset
SELECT count(dblink_send_query('w' || i, format($$
  DO $do$
  BEGIN
    FOR j IN 1..40 LOOP
      INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
      VALUES (900201, 900201, 1, %s + j, 'paypal');
    END LOOP;
  END
  $do$;
$$, i * 13))) AS sent FROM generate_series(1, 4) i \gset
SELECT status AS w1 FROM dblink_get_result('w1') AS r(status text) \gset
SELECT status AS w2 FROM dblink_get_result('w2') AS r(status text) \gset
SELECT status AS w3 FROM dblink_get_result('w3') AS r(status text) \gset
SELECT status AS w4 FROM dblink_get_result('w4') AS r(status text) \gset
SELECT count(dblink_disconnect('w' || i)) AS disconnected FROM generate_series(1, 4) i \gset

SELECT is((SELECT count(*) FROM transactions WHERE customer_id = 900201), 160::bigint,
          'all 160 concurrent inserts were stored');
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900201), 160::bigint,
          'the state counts every concurrent insert (no lost update)');
SELECT ok((SELECT abs(s.mean - r.m) < 1e-9 AND abs(s.m2 / (s.n - 1) - r.v) < 1e-9
             FROM techmart.customer_state s,
                  (SELECT avg(ln(1 + amount::float8)) AS m, var_samp(ln(1 + amount::float8)) AS v
                     FROM transactions WHERE customer_id = 900201) r
            WHERE s.customer_id = 900201),
          'after concurrent inserts the state mean and variance equal the recomputation');
SELECT is((SELECT count(*) FROM techmart.customer_state WHERE customer_id = 900201), 1::bigint,
          'the race to create the state row left exactly one row');

-- REPEATABLE READ: the snapshot is taken, another session then changes the state row
SELECT dblink_connect('rr', pg_temp.conninfo()) AS rr_connected \gset
SELECT dblink_exec('rr', 'BEGIN ISOLATION LEVEL REPEATABLE READ') AS rr_begin \gset
SELECT n AS rr_n FROM dblink('rr', 'SELECT n FROM techmart.customer_state WHERE customer_id = 900201')
  AS r(n bigint) \gset
SELECT dblink_exec(pg_temp.conninfo(), $$
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
  VALUES (900201, 900201, 1, 7, 'paypal')
$$) AS other_insert \gset
SELECT throws_ok($$SELECT dblink_exec('rr', 'INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method) VALUES (900201, 900201, 1, 8, ''paypal'')')$$,
                 '40001', NULL,
                 'REPEATABLE READ: an insert whose snapshot predates a committed change of the state fails with 40001');
SELECT dblink_exec('rr', 'ROLLBACK') AS rr_rollback \gset
SELECT dblink_disconnect('rr') AS rr_disconnected \gset
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900201), 161::bigint,
          'the state counts the committed insert only');

-- REPEATABLE READ, several statements in one transaction: each sees the state the previous wrote
SELECT dblink_connect('rr2', pg_temp.conninfo()) AS rr2_connected \gset
SELECT dblink_exec('rr2', 'BEGIN ISOLATION LEVEL REPEATABLE READ') AS rr2_begin \gset
SELECT dblink_exec('rr2', $$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                            VALUES (900201, 900201, 1, 5, 'paypal')$$) AS rr2_1 \gset
SELECT dblink_exec('rr2', $$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                            SELECT 900201, 900201, 1, 5 + g, 'paypal' FROM generate_series(1, 3) g$$) AS rr2_2 \gset
SELECT dblink_exec('rr2', $$INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method)
                            VALUES (900201, 900201, 1, 9, 'paypal')$$) AS rr2_3 \gset
SELECT is((SELECT n FROM dblink('rr2', 'SELECT n FROM techmart.customer_state WHERE customer_id = 900201') AS r(n bigint)),
          166::bigint, 'REPEATABLE READ: three statements of one transaction add their 5 rows to the state');
SELECT dblink_exec('rr2', 'ROLLBACK') AS rr2_rollback \gset
SELECT dblink_disconnect('rr2') AS rr2_disconnected \gset

-- privileges: the engine reads and locks customer_state only as the SPI query would be allowed to
-- (a customer of this transaction only: the cleanup below runs in another session)
INSERT INTO customers (id, email, name, country) VALUES (900202, 'priv-test@example.com', 'Privilege test', 'DE');
CREATE TABLE public.tm_priv_test (LIKE transactions INCLUDING ALL);
CREATE TRIGGER s BEFORE INSERT ON public.tm_priv_test FOR EACH ROW EXECUTE FUNCTION techmart.score_transaction();
CREATE TRIGGER f AFTER INSERT ON public.tm_priv_test FOR EACH STATEMENT EXECUTE FUNCTION techmart.score_transaction_flush();
CREATE ROLE tm_priv_test_role;
GRANT INSERT ON public.tm_priv_test TO tm_priv_test_role;
SET LOCAL ROLE tm_priv_test_role;
SELECT throws_ok($$INSERT INTO public.tm_priv_test (customer_id, product_id, quantity, unit_price, payment_method)
                   VALUES (900202, 900201, 1, 9, 'paypal')$$, '42501', NULL,
                 'a role without privileges on the engine''s tables cannot score (42501)');
RESET ROLE;
GRANT SELECT, UPDATE, INSERT ON techmart.customer_state TO tm_priv_test_role;
GRANT SELECT ON customers, products TO tm_priv_test_role;
SET LOCAL ROLE tm_priv_test_role;
-- at noon UTC: at night the shop's rare hour lifts the score above risk_floor, and a changed
-- customers.risk_score would need UPDATE on customers too (the test failed at night UTC)
SELECT lives_ok($$INSERT INTO public.tm_priv_test (customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                  VALUES (900202, 900201, 1, 9, 'paypal', date_trunc('day', now()) + interval '12 hours')$$,
                'with SELECT/UPDATE on customer_state and SELECT on customers and products it scores');
RESET ROLE;
SELECT is((SELECT n FROM techmart.customer_state WHERE customer_id = 900202), 1::bigint,
          'and its row is counted in the state');

SELECT dblink_exec(pg_temp.conninfo(), $$
  BEGIN;
  DELETE FROM transactions WHERE customer_id = 900201;
  DELETE FROM techmart.customer_state WHERE customer_id = 900201;
  DELETE FROM customers WHERE id = 900201;
  DELETE FROM products WHERE id = 900201;
  COMMIT;
$$) AS cleanup \gset

SELECT * FROM finish();
ROLLBACK;
