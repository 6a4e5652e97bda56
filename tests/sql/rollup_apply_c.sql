-- pgTAP: the rollup insert trigger's C apply (migrations/deploy/rollup_apply_c.sql,
-- analytics.rollup_apply in extension/pg/rollup_deltas.cpp) against the SQL upsert it replaces for
-- statements of more than 64 lines: the same bulk statements run once with each path (the SQL
-- path forced by an extra CHECK constraint, which the C function does not know), and every
-- analytics.sales_hourly row of their hours — metrics as text, numeric scales included, and the
-- sketch bytes — must be equal; both must equal the GROUP BY recomputation (rollup_check).
-- Rows with ids 97xxxx in May 2019 (far from the seed).
BEGIN;
SELECT plan(22);
-- the fraud engine off: the two loads' suspicious flags would differ (the second one sees the first's history)
SET LOCAL techmart.scoring = off;

INSERT INTO categories (id, name) VALUES (970001, 'apply cat A'), (970002, 'apply cat B');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity) VALUES
  (970001, 'APPLY-1', 'apply p1', 970001, 10, 1000000), (970002, 'APPLY-2', 'apply p2', 970002, 5.5, 1000000),
  (970003, 'APPLY-3', 'apply p3', NULL, 0.001, 1000000), (970004, 'APPLY-4', 'apply p4', 970001, 3.25, 1000000);
INSERT INTO customers (id, email, name, country)
SELECT 970000 + i, 'apply' || i || '@example.com', 'Apply ' || i, 'GB' FROM generate_series(1, 40) i;

CREATE FUNCTION pg_temp.batch(p_first bigint, p_n integer, p_from timestamptz, p_orders text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN  -- one statement of p_n lines over a few hours: orders of 1-3 lines, every status, refunds, NULL countries and orders
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, kind,
                            payment_method, platform, order_number, country)
  SELECT p_first + i, 970001 + (i * 7) % 40, 970001 + i % 4, 1 + i % 5, (i % 97) + 0.125 * (i % 3),
         p_from + (i * 53 % 300) * interval '47 seconds',
         CASE WHEN i % 11 = 0 THEN 'refunded'
              ELSE (ARRAY['completed', 'completed', 'completed', 'refunded', 'blocked', 'failed', 'pending'])[1 + i % 7] END,
         CASE WHEN i % 11 = 0 THEN 'refund' ELSE 'sale' END,
         (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3], (ARRAY['web', 'ios_app', 'android_app'])[1 + i % 3],
         CASE WHEN i % 5 = 0 THEN NULL ELSE p_orders || (i / 3) END, (ARRAY['GB', 'DE', NULL, 'FR'])[1 + i % 4]
    FROM generate_series(0, p_n - 1) i;
END $$;
CREATE FUNCTION pg_temp.rows(p_from timestamptz) RETURNS TABLE (r text) LANGUAGE sql AS $$
  SELECT concat_ws('|', dim, hour - p_from, key, slot, revenue, orders, units, transactions, completed, refunded,
                   refunded_amount, blocked, failed, pending, suspicious, encode(customers_hll, 'hex'))
    FROM analytics.sales_hourly WHERE hour >= p_from AND hour < p_from + interval '2 days'
$$;
-- three statements: new buckets; the same hours again (existing buckets updated, orders continued
-- from the first statement); a statement touching a single-line order of the second again. The C
-- path loads them on 2019-05-01, the SQL path the same lines four days later.
CREATE FUNCTION pg_temp.load(p_id bigint, p_day timestamptz, p_orders text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.batch(p_id, 400, p_day + interval '10 hours', p_orders || 'A');
  PERFORM pg_temp.batch(p_id + 1000, 500, p_day + interval '10 hours 30 minutes', p_orders || 'A');
  PERFORM pg_temp.batch(p_id + 2000, 90, p_day + interval '9 hours 50 minutes', p_orders || 'B');
END $$;

SELECT is(analytics.rollup_apply(analytics.rollup_slot(), '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                                 '{}', '{}', '{}', '{}', '{}'), 0::bigint,
          'rollup_apply applies to analytics.sales_hourly as deployed (no lines: 0 buckets)');
SELECT is(has_function_privilege('techmart_api', 'analytics.rollup_apply(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[])', 'EXECUTE'),
          false, 'rollup_apply is not executable by the API role');

SELECT lives_ok($$SELECT pg_temp.load(970000, '2019-05-01', 'APPLY-')$$, 'three bulk statements, C apply');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-05-01', '2019-05-03')$$, 'C apply: rollups exact');
SELECT cmp_ok((SELECT count(*) FROM pg_temp.rows('2019-05-01')), '>', 100::bigint, 'C apply: buckets written');

ALTER TABLE analytics.sales_hourly ADD CONSTRAINT sales_hourly_test_only CHECK (orders > -1000000000);
SELECT is(analytics.rollup_apply(analytics.rollup_slot(), '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                                 '{}', '{}', '{}', '{}', '{}'), -1::bigint,
          'rollup_apply declines a table with another CHECK constraint');
SELECT lives_ok($$SELECT pg_temp.load(975000, '2019-05-05', 'APPLY-SQL-')$$, 'the same statements four days later, SQL upsert');
ALTER TABLE analytics.sales_hourly DROP CONSTRAINT sales_hourly_test_only;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-05-05', '2019-05-07')$$, 'SQL upsert: rollups exact');

SELECT is((SELECT count(*) FROM pg_temp.rows('2019-05-01')), (SELECT count(*) FROM pg_temp.rows('2019-05-05')),
          'same number of rows');
SELECT is_empty($$SELECT * FROM pg_temp.rows('2019-05-01') EXCEPT SELECT * FROM pg_temp.rows('2019-05-05')$$,
                'every row of the C apply is a row of the SQL upsert (metrics as text, sketch bytes)');
SELECT is_empty($$SELECT * FROM pg_temp.rows('2019-05-05') EXCEPT SELECT * FROM pg_temp.rows('2019-05-01')$$,
                'and the other way round');

-- a bulk statement into buckets another transaction's slot holds too (rows of other slots untouched)
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions)
VALUES ('all', '2019-05-01 10:00Z', '', (analytics.rollup_slot() + 1) % 8, 0, 0, 0, 0);
DO $$ BEGIN PERFORM pg_temp.batch(979000, 100, '2019-05-01 10:00Z', 'APPLY-C'); END $$;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-05-01', '2019-05-03')$$,
                'a bucket with a row in another slot: exact');

-- many bulk statements in one transaction: the C apply's subtransactions keep their XIDs in the
-- backend's cache of 64 until the transaction ends; from 32 on the SQL upsert runs (no
-- subtransaction), so the cache never overflows. 40 statements of 70 lines, one day each.
DO $$ BEGIN
  FOR k IN 0..39 LOOP
    PERFORM pg_temp.batch(980000 + k * 100, 70, timestamptz '2019-06-01 10:00Z' + k * interval '1 day', 'APPLY-M' || k || '-');
  END LOOP;
END $$;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-06-01', '2019-07-12')$$,
                'forty bulk statements in one transaction: exact');
SELECT cmp_ok((SELECT count(DISTINCT xmin::text) FROM analytics.sales_hourly
                WHERE hour >= '2019-06-01' AND hour < '2019-07-12' AND xmin <> xid(pg_current_xact_id())),
              '<=', 32::bigint, 'at most 32 subtransaction XIDs written by the C apply in one transaction');
SELECT ok((SELECT bool_and(xmin = xid(pg_current_xact_id())) FROM analytics.sales_hourly
            WHERE hour >= timestamptz '2019-06-01 00:00Z' + interval '39 days' AND hour < '2019-07-12'),
          'the last statement applied by the SQL upsert in the transaction itself');

-- analytics.rollup_rebuild() inserting through analytics.rollup_insert (change rollup_rebuild_insert_c) vs the
-- SQL INSERT it runs otherwise (forced by the extra CHECK): the rebuilt rows of the days above, every byte equal
SELECT is(analytics.rollup_insert(0::smallint, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'), 0::bigint,
          'rollup_insert applies to analytics.sales_hourly as deployed (no lines: 0 buckets)');
SELECT is(has_function_privilege('techmart_api', 'analytics.rollup_insert(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[])', 'EXECUTE'),
          false, 'rollup_insert is not executable by the API role');
SELECT cmp_ok(analytics.rollup_rebuild('2019-05-01', '2019-05-03'), '>', 100::bigint, 'rollup_rebuild through rollup_insert');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-05-01', '2019-05-03')$$, 'rollup_rebuild through rollup_insert: exact');
CREATE TEMP TABLE rebuilt_c AS SELECT * FROM pg_temp.rows('2019-05-01');
ALTER TABLE analytics.sales_hourly ADD CONSTRAINT sales_hourly_test_only CHECK (orders > -1000000000);
SELECT is(analytics.rollup_insert(0::smallint, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'), -1::bigint,
          'rollup_insert declines a table with another CHECK constraint');
SELECT analytics.rollup_rebuild('2019-05-01', '2019-05-03');
ALTER TABLE analytics.sales_hourly DROP CONSTRAINT sales_hourly_test_only;
SELECT set_eq($$SELECT * FROM pg_temp.rows('2019-05-01')$$, $$SELECT * FROM rebuilt_c$$,
              'rollup_rebuild: the rows of rollup_insert = the rows of the SQL INSERT (metrics as text, sketch bytes)');
SELECT throws_ok($$SELECT analytics.rollup_insert(0::smallint, ARRAY[1], ARRAY[1::bigint], ARRAY['X1'],
                                                  ARRAY[timestamptz '2019-05-01 10:05Z'], ARRAY['completed'], ARRAY[1.5],
                                                  ARRAY[1], ARRAY[false], ARRAY['sale'], ARRAY['970001'], ARRAY['970001'],
                                                  ARRAY['GB'], ARRAY['web'], ARRAY['paypal'], ARRAY[970001::bigint])$$,
                 '23505', NULL, 'rollup_insert into a bucket that has a row: unique_violation, nothing merged');

SELECT * FROM finish();
ROLLBACK;
