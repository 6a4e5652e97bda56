-- pgTAP: the order registry of the rollup insert trigger written by C (migrations/deploy/rollup_registry_c.sql,
-- analytics.rollup_registry_add in extension/pg/rollup_deltas.cpp) against the SQL upsert of template 'registry'
-- it replaces for statements of more than 64 lines: the same bulk statements run once with each path (the SQL
-- path forced by a CHECK constraint on analytics.order_registry, which the C function does not know); the
-- registry must equal the lines per order of transactions after each, and the rollups the GROUP BY
-- recomputation. Rows with ids 96xxxx in April 2019 (far from the seed).
BEGIN;
SELECT plan(16);
SET LOCAL techmart.scoring = off;

INSERT INTO categories (id, name) VALUES (960001, 'registry cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity) VALUES
  (960001, 'REG-1', 'registry p1', 960001, 10, 1000000), (960002, 'REG-2', 'registry p2', NULL, 2.5, 1000000);
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'registry' || i || '@example.com', 'Registry ' || i, 'GB' FROM generate_series(1, 20) i;

CREATE FUNCTION pg_temp.batch(p_first bigint, p_n integer, p_from timestamptz, p_orders text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN  -- one statement of p_n lines: orders of 1-4 lines (some continued by the next statement), NULL orders
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status,
                            payment_method, platform, order_number, country)
  SELECT p_first + i, 960001 + i % 20, 960001 + i % 2, 1 + i % 3, 1 + i % 7,
         p_from + (i * 37 % 200) * interval '53 seconds',
         (ARRAY['completed', 'completed', 'refunded', 'pending'])[1 + i % 4], 'paypal', 'web',
         CASE WHEN i % 6 = 0 THEN NULL ELSE p_orders || (i / 4) END, 'GB'
    FROM generate_series(0, p_n - 1) i;
END $$;
-- the registry rows of a prefix against the lines per order of transactions
CREATE FUNCTION pg_temp.registry(p_prefix text) RETURNS TABLE (suffix text, lines bigint) LANGUAGE sql AS $$
  SELECT substr(order_number, length(p_prefix) + 1), lines FROM analytics.order_registry
   WHERE order_number LIKE p_prefix || '%'
$$;
CREATE FUNCTION pg_temp.counted(p_prefix text) RETURNS TABLE (suffix text, lines bigint) LANGUAGE sql AS $$
  SELECT substr(order_number, length(p_prefix) + 1), count(*) FROM transactions
   WHERE order_number LIKE p_prefix || '%' GROUP BY order_number
$$;
-- three statements: new orders; orders continued (the registry rows updated) and new ones; a statement
-- whose orders all continue earlier ones
CREATE FUNCTION pg_temp.load(p_id bigint, p_day timestamptz, p_orders text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.batch(p_id, 300, p_day + interval '10 hours', p_orders);
  PERFORM pg_temp.batch(p_id + 1000, 400, p_day + interval '11 hours', p_orders);
  PERFORM pg_temp.batch(p_id + 2000, 100, p_day + interval '12 hours', p_orders);
END $$;

SELECT is(analytics.rollup_registry_add('{}'), '{}'::text[],
          'rollup_registry_add applies to analytics.order_registry as deployed (no lines: no order)');
SELECT is(analytics.rollup_registry_add(NULL), '{}'::text[], 'a NULL array: no order');
SELECT is(has_function_privilege('techmart_api', 'analytics.rollup_registry_add(text[])', 'EXECUTE'),
          false, 'rollup_registry_add is not executable by the API role');
SELECT is(analytics.rollup_registry_add(ARRAY['REG-D-b', 'REG-D-a', NULL, 'REG-D-b', 'REG-D-a', 'REG-D-b']), '{}'::text[],
          'direct call: two new orders (none had lines before), the NULL ignored');
SELECT is(analytics.rollup_registry_add(ARRAY['REG-D-c', 'REG-D-b', 'REG-D-a', 'REG-D-c']), ARRAY['REG-D-a', 'REG-D-b'],
          'again: the orders that had lines before, in byte order');
SELECT set_eq($$SELECT * FROM pg_temp.registry('REG-D-')$$, $$VALUES ('a', 3::bigint), ('b', 4), ('c', 2)$$,
              'direct calls: the lines per order added up');
DELETE FROM analytics.order_registry WHERE order_number LIKE 'REG-D-%';

SELECT lives_ok($$SELECT pg_temp.load(960000, '2019-04-01', 'REG-C-')$$, 'three bulk statements, registry by C');
SELECT set_eq($$SELECT * FROM pg_temp.registry('REG-C-')$$, $$SELECT * FROM pg_temp.counted('REG-C-')$$,
              'registry by C = lines per order of transactions');
SELECT cmp_ok((SELECT count(*) FROM pg_temp.registry('REG-C-') WHERE lines > 1), '>', 10::bigint,
              'orders of several lines, some continued across statements');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-04-01', '2019-04-02')$$, 'registry by C: rollups exact');

ALTER TABLE analytics.order_registry ADD CONSTRAINT order_registry_test_only CHECK (lines > -1000000000);
SELECT is(analytics.rollup_registry_add('{}'), NULL::text[], 'rollup_registry_add declines a table with a CHECK constraint (NULL)');
SELECT lives_ok($$SELECT pg_temp.load(965000, '2019-04-05', 'REG-S-')$$, 'the same statements four days later, SQL upsert');
ALTER TABLE analytics.order_registry DROP CONSTRAINT order_registry_test_only;
SELECT set_eq($$SELECT * FROM pg_temp.registry('REG-S-')$$, $$SELECT * FROM pg_temp.registry('REG-C-')$$,
              'SQL upsert: the same registry rows as C');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-04-05', '2019-04-06')$$, 'SQL upsert: rollups exact');
SELECT set_eq($$SELECT dim, hour - timestamptz '2019-04-01', key, revenue, orders, units, transactions
                  FROM analytics.sales_hourly_v WHERE hour >= '2019-04-01' AND hour < '2019-04-02'$$,
              $$SELECT dim, hour - timestamptz '2019-04-05', key, revenue, orders, units, transactions
                  FROM analytics.sales_hourly_v WHERE hour >= '2019-04-05' AND hour < '2019-04-06'$$,
              'the same rollups through both paths');

-- the registry's lock order: byte order in the template too (COLLATE "C"), whatever the database's collation
SELECT ok((SELECT sql LIKE '%ORDER BY l.order_number COLLATE "C"%' FROM analytics.rollup_sql WHERE step = 'registry'),
          'template registry sorts in byte order, as rollup_registry_add');

SELECT * FROM finish();
ROLLBACK;
