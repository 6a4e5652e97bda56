-- pgTAP: concurrent inserts for one customer serialise on the customer's state row and never
-- lose an update, including the race to create the state row. Uses dblink to drive 4 other
-- sessions at once; their rows are committed, so the test removes them at the end.
BEGIN;
SELECT plan(4);

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
  INSERT INTO products (id, sku, name, price) VALUES (900201, 'CONCURRENCY-TEST-900201', 'Concurrency test product', 1);
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
