-- pgTAP: analytics.rollup_apply's new buckets (extension/pg/rollup_deltas.cpp): the buckets of a
-- (dim, hour) without any row are written in batches of 512 (heap_multi_insert, then their index
-- entries in order), and one look at the primary key per dim answers for the run of hours up to
-- the next hour that has rows (no look per (dim, hour)); new orders of analytics.order_registry
-- likewise in batches (rollup_registry_add). Statements whose hours interleave hours
-- with rows and hours without, and more than 512 new buckets per statement, must give the same
-- rows as the SQL upsert (forced by an extra CHECK constraint, which the C function does not
-- know) and the GROUP BY recomputation (rollup_check). Rows with ids 96xxxx in August 2019.
BEGIN;
SELECT plan(11);
SET LOCAL techmart.scoring = off;  -- the two loads' suspicious flags would differ

INSERT INTO categories (id, name) VALUES (960001, 'batch cat A'), (960002, 'batch cat B');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 960000 + i, 'BATCH-' || i, 'batch p' || i, 960001 + i % 2, 1 + i, 1000000 FROM generate_series(1, 60) i;
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'batch' || i || '@example.com', 'Batch ' || i, 'GB' FROM generate_series(1, 300) i;

-- one statement of p_n lines from p_from, one line every p_step; every status, refunds, NULL countries and orders,
-- orders of up to three lines
CREATE FUNCTION pg_temp.batch(p_first bigint, p_n integer, p_from timestamptz, p_step interval, p_orders text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, kind,
                            payment_method, platform, order_number, country)
  SELECT p_first + i, 960001 + (i * 7) % 300, 960001 + (i * 13) % 60, 1 + i % 5, (i % 97) + 0.125 * (i % 3),
         p_from + i * p_step,
         CASE WHEN i % 11 = 0 THEN 'refunded'
              ELSE (ARRAY['completed', 'completed', 'completed', 'refunded', 'blocked', 'failed', 'pending'])[1 + i % 7] END,
         CASE WHEN i % 11 = 0 THEN 'refund' ELSE 'sale' END,
         (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3], (ARRAY['web', 'ios_app', 'android_app'])[1 + i % 3],
         CASE WHEN i % 5 = 0 THEN NULL ELSE p_orders || (i / 3) END, (ARRAY['GB', 'DE', NULL, 'FR', 'US', 'PL'])[1 + i % 6]
    FROM generate_series(0, p_n - 1) i;
END $$;
CREATE FUNCTION pg_temp.rows(p_from timestamptz) RETURNS TABLE (r text) LANGUAGE sql AS $$
  SELECT concat_ws('|', dim, hour - p_from, key, slot, revenue, orders, units, transactions, completed, refunded,
                   refunded_amount, blocked, failed, pending, suspicious, encode(customers_hll, 'hex'))
    FROM analytics.sales_hourly WHERE hour >= p_from AND hour < p_from + interval '3 days'
$$;
-- 1. rows in hours 10, 12 and 20 only (three statements of 70 lines within one hour each);
-- 2. 3,000 lines from 08:00, one every 29 s (hours 08-32: new hours before, between and after the
--    hours with rows, > 512 new buckets), continuing orders of statement 1;
-- 3. 2,000 lines from 07:30 every 41 s over the same hours again (every (dim, hour) but hour 7 has
--    rows now: probes and updates, new buckets among them in hours with rows).
CREATE FUNCTION pg_temp.load(p_id bigint, p_day timestamptz, p_orders text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.batch(p_id, 70, p_day + interval '10 hours', interval '50 seconds', p_orders || 'A');
  PERFORM pg_temp.batch(p_id + 100, 70, p_day + interval '12 hours', interval '50 seconds', p_orders || 'B');
  PERFORM pg_temp.batch(p_id + 200, 70, p_day + interval '20 hours', interval '50 seconds', p_orders || 'C');
  PERFORM pg_temp.batch(p_id + 1000, 3000, p_day + interval '8 hours', interval '29 seconds', p_orders || 'A');
  PERFORM pg_temp.batch(p_id + 5000, 2000, p_day + interval '7 hours 30 minutes', interval '41 seconds', p_orders || 'D');
END $$;

SELECT lives_ok($$SELECT pg_temp.load(960000, '2019-08-01', 'BATCH-')$$, 'five bulk statements, C apply');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-08-01', '2019-08-04')$$, 'C apply: rollups exact');
SELECT set_eq($$SELECT order_number, count(*) FROM transactions
                 WHERE order_number LIKE 'BATCH-%' AND order_number NOT LIKE 'BATCH-SQL-%' GROUP BY 1$$,
              $$SELECT order_number, lines FROM analytics.order_registry
                 WHERE order_number LIKE 'BATCH-%' AND order_number NOT LIKE 'BATCH-SQL-%'$$,
              'order registry (rollup_registry_add, new orders in batches of 512): lines per order');
SELECT cmp_ok((SELECT count(*) FROM pg_temp.rows('2019-08-01') r WHERE r LIKE 'minute|%'), '>', 512::bigint,
              'C apply: more new buckets than one batch (minute rows alone)');
SELECT ok((SELECT bool_and(xmin <> xid(pg_current_xact_id())) FROM analytics.sales_hourly
            WHERE hour >= '2019-08-01' AND hour < '2019-08-04'),
          'C apply: every bucket written in the C apply''s subtransaction (none by the SQL upsert''s redo)');

ALTER TABLE analytics.sales_hourly ADD CONSTRAINT sales_hourly_test_only CHECK (orders > -1000000000);
SELECT is(analytics.rollup_apply(analytics.rollup_slot(), '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                                 '{}', '{}', '{}', '{}', '{}'), -1::bigint,
          'rollup_apply declines a table with another CHECK constraint');
SELECT lives_ok($$SELECT pg_temp.load(968000, '2019-08-05', 'BATCH-SQL-')$$, 'the same statements four days later, SQL upsert');
ALTER TABLE analytics.sales_hourly DROP CONSTRAINT sales_hourly_test_only;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-08-05', '2019-08-08')$$, 'SQL upsert: rollups exact');

SELECT is((SELECT count(*) FROM pg_temp.rows('2019-08-01')), (SELECT count(*) FROM pg_temp.rows('2019-08-05')),
          'same number of rows');
SELECT is_empty($$SELECT * FROM pg_temp.rows('2019-08-01') EXCEPT SELECT * FROM pg_temp.rows('2019-08-05')$$,
                'every row of the C apply is a row of the SQL upsert (metrics as text, sketch bytes)');
SELECT is_empty($$SELECT * FROM pg_temp.rows('2019-08-05') EXCEPT SELECT * FROM pg_temp.rows('2019-08-01')$$,
                'and the other way round');

SELECT * FROM finish();
ROLLBACK;
