-- pgTAP: the customers.total_spent triggers lock the statement's customers in id order, whatever the
-- order of the statement's lines and of the customers' rows in the table (two writers then never wait
-- for each other in a cycle). Session a holds customer X (FOR NO KEY UPDATE: it does not block the
-- foreign-key checks, only the UPDATE of total_spent); session b inserts one line for each of the
-- customers X-k .. X+k, in descending id order (customers created in descending order too, so a
-- sequential scan would meet them high to low), with scoring off; b's trigger waits for X. Then
-- session c probes with NOWAIT: the customers below X are locked by b, those above X are not yet.
-- Once a lets go, b completes and every total_spent is exact. Both paths of the C trigger: 21
-- customers (one UPDATE ... FROM unnest) and 5 (one UPDATE each).
-- Uses dblink (committed rows: removed at the end).
BEGIN;
SELECT plan(10);

CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.conninfo() RETURNS text LANGUAGE sql AS $$
  SELECT format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)
$$;
SELECT dblink_connect(c, pg_temp.conninfo()) FROM unnest(ARRAY['s0', 'a', 'b', 'c']) c;

CREATE FUNCTION pg_temp.cleanup() RETURNS text LANGUAGE sql AS $$
  SELECT dblink_exec('s0', $c$
    BEGIN;
    SET LOCAL techmart.scoring = off;
    DELETE FROM transactions WHERE customer_id BETWEEN 930801 AND 930840;
    DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 930801 AND 930840;
    DELETE FROM customers WHERE id BETWEEN 930801 AND 930840;
    DELETE FROM products WHERE id = 930801;
    COMMIT;
  $c$)
$$;
SELECT pg_temp.cleanup() AS cleanup_before \gset
SELECT dblink_exec('s0', $s$
  BEGIN;
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (930801, 'SPENT-LOCK-930801', 'spent lock order', 1, 1000000);
  INSERT INTO customers (id, email, name, country)
  SELECT 930800 + i, 'spent-lock' || i || '@example.com', 'Spent lock ' || i, 'GB' FROM generate_series(40, 1, -1) i;
  COMMIT;
$s$) AS setup \gset

-- b's statement waits on a lock (its trigger reached customer X)
-- (b's pid read before: b is busy while its statement runs)
CREATE TEMP TABLE b_session AS SELECT p FROM dblink('b', 'SELECT pg_backend_pid()') AS r(p int);
CREATE FUNCTION pg_temp.b_waits() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  b_pid int := (SELECT p FROM b_session);
BEGIN
  FOR i IN 1..400 LOOP
    IF EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = b_pid AND a.wait_event_type = 'Lock') THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.025);
  END LOOP;
  RETURN false;
END $$;

-- can session c lock customer `id` at once?
CREATE FUNCTION pg_temp.free(id bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM * FROM dblink('c', format('SELECT 1 FROM customers WHERE id = %s FOR NO KEY UPDATE NOWAIT', id)) AS r(x int);
  RETURN true;
EXCEPTION WHEN lock_not_available THEN
  RETURN false;
END $$;

CREATE FUNCTION pg_temp.exact() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM customers c
   WHERE c.id BETWEEN 930801 AND 930840
     AND c.total_spent <> coalesce((SELECT sum(CASE WHEN t.kind = 'refund' THEN -t.amount
                                                     WHEN t.status = 'completed' THEN t.amount END)
                                      FROM transactions t WHERE t.customer_id = c.id), 0)
$$;

-- run(x, k): a holds x; b inserts one line for each of x-k .. x+k, descending
CREATE FUNCTION pg_temp.run(x bigint, k int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM dblink_exec('a', 'BEGIN');
  PERFORM * FROM dblink('a', format('SELECT 1 FROM customers WHERE id = %s FOR NO KEY UPDATE', x)) AS r(x int);
  PERFORM dblink_exec('b', 'SET techmart.scoring = off');
  PERFORM dblink_send_query('b', format($q$
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status)
    SELECT i, 930801, 1, 2.5, 'paypal', '2020-05-01 10:00Z'::timestamptz + (i - %1$s) * interval '1 second', 'completed'
      FROM generate_series(%1$s + %2$s, %1$s - %2$s, -1) i$q$, x, k));
  RETURN 'started';
END $$;

-- 21 customers in one statement (930811 .. 930831), X = 930821
SELECT pg_temp.run(930821, 10) AS run1 \gset
SELECT ok(pg_temp.b_waits(), '21 customers: b''s statement waits for the customer a holds');
SELECT ok(NOT pg_temp.free(930820) AND NOT pg_temp.free(930811),
          'b holds the customers below it (updated in id order up to X)');
SELECT ok(pg_temp.free(930822) AND pg_temp.free(930831), 'and none above it yet');
SELECT dblink_exec('a', 'ROLLBACK') AS a_done \gset
SELECT count(*) AS b_result FROM dblink_get_result('b') AS r(x text) \gset
SELECT count(*) AS b_end FROM dblink_get_result('b') AS r(x text) \gset
SELECT is(pg_temp.exact(), 0::bigint, 'after a let go, b completed and every total_spent is exact');
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id BETWEEN 930811 AND 930831), 21, 'b wrote its 21 lines');

-- 5 customers (one UPDATE each), X = 930803
SELECT pg_temp.run(930803, 2) AS run2 \gset
SELECT ok(pg_temp.b_waits(), '5 customers: b''s statement waits for the customer a holds');
SELECT ok(NOT pg_temp.free(930801) AND NOT pg_temp.free(930802), 'b holds the customers below it');
SELECT ok(pg_temp.free(930804) AND pg_temp.free(930805), 'and none above it yet');
SELECT dblink_exec('a', 'ROLLBACK') AS a_done \gset
SELECT count(*) AS b_result FROM dblink_get_result('b') AS r(x text) \gset
SELECT count(*) AS b_end FROM dblink_get_result('b') AS r(x text) \gset
SELECT is(pg_temp.exact(), 0::bigint, 'after a let go, b completed and every total_spent is exact');
SELECT is((SELECT count(*)::int FROM transactions WHERE customer_id BETWEEN 930801 AND 930805), 5, 'b wrote its 5 lines');

SELECT pg_temp.cleanup() AS cleanup_after \gset
SELECT dblink_disconnect(c) FROM unnest(ARRAY['s0', 'a', 'b', 'c']) c;
SELECT * FROM finish();
ROLLBACK;
