-- pgTAP: two deletes of lines of the same bucket (here a minute row and its hour), in sessions
-- with different slots, neither of which had a slot row in the bucket yet. Session a deletes
-- line A and keeps its transaction open: its trigger created a's slot row and wrote into it the
-- sketch recomputed from its snapshot, which still holds line B. Session b deletes line B and
-- waits in its trigger for the slot rows a locked; a commits. b's recomputation must also clear
-- a's slot row (committed after b's lock statement took its snapshot): else the customer of
-- line B stays in a's register and the bucket counts one customer too many (seen once in the
-- rollups-concurrency suite: a minute row with 21 customers where transactions gave 20).
-- Uses dblink (committed rows: removed at the end).
BEGIN;
SELECT plan(4);

CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.conninfo() RETURNS text LANGUAGE sql AS $$
  SELECT format('host=%s port=%s dbname=%s user=%s',
                split_part(current_setting('unix_socket_directories'), ',', 1),
                current_setting('port'), current_database(), current_user)
$$;

-- three sessions (s0 writes the lines, a and b delete) in three different slots
CREATE FUNCTION pg_temp.connect_slots() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  names text[] := ARRAY['s0', 'a', 'b'];
  used smallint[] := '{}';
  sl smallint;
BEGIN
  FOR i IN 1..3 LOOP
    FOR attempt IN 1..200 LOOP
      PERFORM dblink_connect(names[i], pg_temp.conninfo());
      SELECT x INTO sl FROM dblink(names[i], 'SELECT analytics.rollup_slot()') AS r(x smallint);
      EXIT WHEN sl <> ALL (used);
      PERFORM dblink_disconnect(names[i]);
    END LOOP;
    used := used || sl;
  END LOOP;
  RETURN array_to_string(used, ',');
END $$;
SELECT pg_temp.connect_slots() AS slots \gset

SELECT dblink_exec('s0', $$
  BEGIN;
  DELETE FROM transactions WHERE customer_id BETWEEN 960201 AND 960203;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 960201 AND 960203;
  DELETE FROM customers WHERE id BETWEEN 960201 AND 960203;
  DELETE FROM products WHERE id = 960201;
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (960201, 'HLL-RACE-960201', 'hll race product', 1, 1000000);
  INSERT INTO customers (id, email, name, country)
  SELECT 960200 + i, 'hll-race' || i || '@example.com', 'HLL race ' || i, 'GB' FROM generate_series(1, 3) i;
  COMMIT;
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform)
  SELECT 960200 + i, 960201, 1, 5, '2020-07-01 10:05:00Z'::timestamptz + i * interval '1 second', 'completed', 'paypal', 'web'
    FROM generate_series(1, 3) i;
$$) AS setup \gset

SELECT is((SELECT round(techmart.hll_cardinality(techmart.hll_union_agg(customers_hll)))::int FROM analytics.sales_hourly
            WHERE dim = 'minute' AND hour = '2020-07-01 10:00Z' AND key = '05'),
          3, 'three customers in the minute row before the deletes');

SELECT dblink_exec('a', 'BEGIN') AS a_begin \gset
SELECT dblink_exec('a', 'DELETE FROM transactions WHERE customer_id = 960201') AS a_delete \gset
SELECT dblink_send_query('b', 'DELETE FROM transactions WHERE customer_id = 960202') AS b_sent \gset
-- b waits for a's locks (in its trigger)
CREATE FUNCTION pg_temp.wait_blocked() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..400 LOOP
    IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                AND query = 'DELETE FROM transactions WHERE customer_id = 960202') THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
    PERFORM pg_stat_clear_snapshot();  -- pg_stat_activity is read once per transaction otherwise
  END LOOP;
  RETURN false;
END $$;
SELECT ok(pg_temp.wait_blocked(), 'session b waits for the slot rows session a locked');
SELECT dblink_exec('a', 'COMMIT') AS a_commit \gset
SELECT status AS b_done FROM dblink_get_result('b') AS r(status text) \gset
SELECT count(*) AS b_drained FROM dblink_get_result('b') AS r(status text) \gset

SELECT is((SELECT round(techmart.hll_cardinality(techmart.hll_union_agg(customers_hll)))::int FROM analytics.sales_hourly
            WHERE dim = 'minute' AND hour = '2020-07-01 10:00Z' AND key = '05'),
          1, 'one customer left in the minute row after the two concurrent deletes');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-07-01 10:00Z', '2020-07-01 11:00Z')$$,
                'rollup_check: the hour is exact after the two concurrent deletes');

SELECT dblink_exec('s0', $$
  DELETE FROM transactions WHERE customer_id BETWEEN 960201 AND 960203;
  DELETE FROM techmart.customer_state WHERE customer_id BETWEEN 960201 AND 960203;
  DELETE FROM customers WHERE id BETWEEN 960201 AND 960203;
  DELETE FROM products WHERE id = 960201;
$$) AS cleanup \gset
SELECT count(dblink_disconnect(c)) AS disconnected FROM unnest(ARRAY['s0', 'a', 'b']) c \gset

SELECT * FROM finish();
ROLLBACK;
