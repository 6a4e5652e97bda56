-- pgTAP: the rollup insert trigger's small statements (change rollup_single_row). A bucket row's customer
-- sketch of more than ~2 KB is stored out of line (TOAST); before the change every upsert of the bucket
-- wrote a new TOAST value and deleted the old one, also when the statement's customers were already in the
-- sketch and its bytes did not change. analytics.rollup_hll_union returns the stored TOAST pointer in that
-- case, so a single-row INSERT of a customer already counted in its seven buckets writes no TOAST row;
-- a new customer's sketches are written as before. Statements of up to 64 lines without an order number
-- run the bucket upsert alone (template apply_lone), the others the registry upsert and the full upsert:
-- the rollups stay equal to the GROUP BY recomputation through inserts of both kinds, updates and
-- deletes of lines whose buckets share a kept TOAST value. Rows with ids 97xxxx in May 2019.
BEGIN;
SELECT plan(14);
SET LOCAL techmart.scoring = off;

INSERT INTO categories (id, name) VALUES (970001, 'single row cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
VALUES (970001, 'SINGLE-1', 'single row product 1', 970001, 5, 100000),
       (970002, 'SINGLE-2', 'single row product 2', 970001, 5, 100000);
INSERT INTO customers (id, email, name, country)
SELECT 970000 + i, 'single' || i || '@example.com', 'Single ' || i, 'GB' FROM generate_series(1, 1200) i;

-- 1,000 customers' lines in one minute of one hour (one bulk statement): every bucket's sketch ~3 KB
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, country)
SELECT 970000 + i, 970001, 1, 5, '2019-05-02 10:07:00Z'::timestamptz + i * interval '10 ms', 'completed', 'paypal',
       'web', 'GB'
  FROM generate_series(1, 1000) i;

CREATE FUNCTION pg_temp.toast_writes() RETURNS bigint LANGUAGE sql AS $$
  SELECT n_tup_ins + n_tup_del FROM pg_stat_xact_all_tables
   WHERE relid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'analytics.sales_hourly'::regclass)
$$;
CREATE FUNCTION pg_temp.single(customer bigint, product bigint, order_number text DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                            platform, country, order_number)
  VALUES (customer, product, 2, 5, '2019-05-02 10:07:30Z', 'completed', 'paypal', 'web', 'GB', order_number)
$$;
CREATE TEMP TABLE w (step text PRIMARY KEY, n bigint);

SELECT ok((SELECT bool_and(pg_column_size(customers_hll) > 2500) AND count(*) = 7
             FROM analytics.sales_hourly WHERE hour = '2019-05-02 10:00Z' AND slot = analytics.rollup_slot()),
          'the seven buckets of the hour hold sketches of more than 2,500 bytes (stored out of line)');

-- a customer already in the sketches: no TOAST row written or deleted
INSERT INTO w VALUES ('before', pg_temp.toast_writes());
SELECT pg_temp.single(970005, 970001);
SELECT is(pg_temp.toast_writes() - (SELECT n FROM w WHERE step = 'before'), 0::bigint,
          'a single-row INSERT of a customer already in its buckets'' sketches writes no TOAST row');
SELECT is((SELECT transactions FROM analytics.sales_hourly
            WHERE dim = 'all' AND hour = '2019-05-02 10:00Z' AND key = '' AND slot = analytics.rollup_slot()),
          1001::bigint, 'its bucket counts it');
SELECT is((SELECT count(*)::int FROM analytics.rollup_check('2019-05-02', '2019-05-03')), 0,
          'rollup_check: no difference after it');

-- a new customer: the sketches change and are written as before
INSERT INTO w VALUES ('new', pg_temp.toast_writes());
SELECT pg_temp.single(971100, 970001);
SELECT ok(pg_temp.toast_writes() > (SELECT n FROM w WHERE step = 'new'),
          'a new customer''s INSERT writes the changed sketches');
SELECT is((SELECT count(*)::int FROM analytics.rollup_check('2019-05-02', '2019-05-03')), 0,
          'rollup_check: no difference after it');

-- a known customer with another product: the product bucket is new (small sketch), the others kept
SELECT pg_temp.single(970007, 970002);
-- lines with order numbers: the registry upsert and the full upsert, the other lines of the order read
SELECT pg_temp.single(970008, 970001, 'SINGLE-O1');
SELECT pg_temp.single(971101, 970002, 'SINGLE-O1');
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, order_number)
VALUES (970009, 970001, 1, 5, '2019-05-02 10:08:00Z', 'completed', 'paypal', NULL),
       (971102, 970002, 1, 5, '2019-05-02 10:09:00Z', 'pending', 'credit_card', NULL),
       (970010, 970001, 1, 5, '2019-05-02 10:09:00Z', 'completed', 'paypal', NULL);
SELECT is((SELECT lines FROM analytics.order_registry WHERE order_number = 'SINGLE-O1'), 2::bigint,
          'the order registry counts the order''s two lines');
SELECT is((SELECT orders FROM analytics.sales_hourly_v WHERE dim = 'all' AND hour = '2019-05-02 10:00Z'),
          1006::bigint, 'orders: 1,000 + 3 single lines + the order + 2 completed lines without order number');
SELECT is((SELECT count(*)::int FROM analytics.rollup_check('2019-05-02', '2019-05-03')), 0,
          'rollup_check: no difference after inserts with and without order numbers');

-- updates and deletes of lines whose bucket rows share a kept TOAST value with their older versions
UPDATE transactions SET status = 'refunded' WHERE customer_id = 970005 AND product_id = 970001;
UPDATE transactions SET customer_id = 971103 WHERE customer_id = 970006;
DELETE FROM transactions WHERE customer_id IN (970007, 970008);
SELECT is((SELECT count(*)::int FROM analytics.rollup_check('2019-05-02', '2019-05-03')), 0,
          'rollup_check: no difference after updates and deletes');
SELECT is((SELECT analytics.active_customers_exact('2019-05-02 10:00Z', '2019-05-02 11:00Z')), 1001::bigint,
          'exact active customers of the hour: 1,000 + 971100..971103 - 970006, 970007, 970008 (no line left)');

-- the function: techmart.hll_union's bytes, NULLs as it
SELECT is((SELECT count(*)::int FROM analytics.sales_hourly s, (VALUES (970001), (971150), (NULL)) v(c)
            WHERE s.hour = '2019-05-02 10:00Z'
              AND analytics.rollup_hll_union(s.customers_hll, techmart.hll_add(NULL, v.c))
                  IS DISTINCT FROM techmart.hll_union(s.customers_hll, techmart.hll_add(NULL, v.c))), 0,
          'rollup_hll_union gives techmart.hll_union''s bytes (a customer in the sketch, a new one, an empty sketch)');
SELECT ok(analytics.rollup_hll_union(NULL, NULL) IS NULL
          AND analytics.rollup_hll_union(techmart.hll_add(NULL, 1), NULL) = techmart.hll_union(techmart.hll_add(NULL, 1), NULL)
          AND analytics.rollup_hll_union(NULL, techmart.hll_add(NULL, 2)) = techmart.hll_union(NULL, techmart.hll_add(NULL, 2)),
          'rollup_hll_union: NULL sides as techmart.hll_union');
SELECT ok(NOT has_function_privilege('public', 'analytics.rollup_hll_union(bytea, bytea)', 'EXECUTE'),
          'rollup_hll_union is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
