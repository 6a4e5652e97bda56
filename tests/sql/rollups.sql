-- pgTAP: live hourly rollups (migrations/deploy/rollups.sql)
-- Known rows with ids 95xxxx in hours of March 2020 (far from the seed); every figure is
-- checked against an independent GROUP BY over transactions and, for the key cases, against
-- hand-computed numbers.
BEGIN;
SELECT plan(47);

SELECT has_table('analytics', 'sales_hourly', 'rollup table');
SELECT has_table('analytics', 'order_registry', 'order registry');
SELECT has_trigger('transactions', t) FROM unnest(ARRAY['transactions_rollup_ins', 'transactions_rollup_upd',
                                                         'transactions_rollup_del', 'transactions_rollup_trunc']) t;
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'transactions'::regclass AND tgname LIKE 'transactions_rollup_%'
             AND tgtype & 1 = 0),  -- TRIGGER_TYPE_ROW bit unset: statement level
          4, 'the rollup triggers are statement-level');
SELECT ok((SELECT bool_and(tgnewtable IS NOT NULL OR tgoldtable IS NOT NULL) FROM pg_trigger
            WHERE tgrelid = 'transactions'::regclass AND tgname IN ('transactions_rollup_ins', 'transactions_rollup_upd',
                                                                    'transactions_rollup_del')),
          'the rollup triggers use transition tables');
SELECT is_empty($$SELECT * FROM analytics.rollup_check()$$, 'seed data: rollups equal the GROUP BY recomputation');

-- independent recomputation of one bucket, written here and not shared with the migration
CREATE FUNCTION pg_temp.expect(p_dim text, p_hour timestamptz, p_key text)
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, suspicious bigint)
LANGUAGE sql AS $$
  SELECT coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0),
         count(DISTINCT coalesce(t.order_number, 'line ' || t.id)) FILTER (WHERE t.status = 'completed'),
         coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)::bigint,
         count(*), count(*) FILTER (WHERE t.is_suspicious)
    FROM transactions t JOIN products p ON p.id = t.product_id
   WHERE t.transaction_time >= p_hour AND t.transaction_time < p_hour + interval '1 hour'
     AND CASE p_dim WHEN 'all' THEN true WHEN 'product' THEN t.product_id::text = p_key
                    WHEN 'category' THEN coalesce(p.category_id::text, '') = p_key
                    WHEN 'country' THEN coalesce(t.country, '') = p_key
                    WHEN 'platform' THEN t.platform = p_key ELSE t.payment_method = p_key END
$$;
CREATE FUNCTION pg_temp.got(p_dim text, p_hour timestamptz, p_key text)
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, suspicious bigint)
LANGUAGE sql AS $$
  SELECT coalesce(sum(s.revenue), 0), coalesce(sum(s.orders), 0)::bigint, coalesce(sum(s.units), 0)::bigint,
         coalesce(sum(s.transactions), 0)::bigint, coalesce(sum(s.suspicious), 0)::bigint
    FROM analytics.sales_hourly s WHERE s.dim = p_dim AND s.hour = p_hour AND s.key = p_key
$$;

INSERT INTO categories (id, name) VALUES (950001, 'rollup cat A'), (950002, 'rollup cat B');
INSERT INTO suppliers (id, name, country) VALUES (950001, 'rollup supplier', 'GB');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, supplier_id) VALUES
  (950001, 'ROLL-1', 'rollup p1', 950001, 10, 1000000, 950001),
  (950002, 'ROLL-2', 'rollup p2', 950001, 5.5, 1000000, 950001),
  (950003, 'ROLL-3', 'rollup p3', NULL, 0.001, 1000000, NULL);
INSERT INTO customers (id, email, name, country) VALUES
  (950001, 'roll1@example.com', 'Roll One', 'GB'), (950002, 'roll2@example.com', 'Roll Two', 'DE'),
  (950003, 'roll3@example.com', 'Roll Three', 'FR'), (950004, 'roll4@example.com', 'Roll Four', 'FR');

-- 1. a single insert
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, order_number, country)
VALUES (950001, 950001, 950001, 2, 10, '2020-03-10 10:15Z', 'completed', 'paypal', 'web', 'ROLL-O1', 'GB');
SELECT results_eq($$SELECT * FROM pg_temp.got('all', '2020-03-10 10:00Z', '')$$,
                  $$VALUES (20.000::numeric, 1::bigint, 2::bigint, 1::bigint, 0::bigint)$$, 'single insert: shop total (hand-computed)');
SELECT results_eq($$SELECT * FROM pg_temp.got('product', '2020-03-10 10:00Z', '950001')$$,
                  $$SELECT * FROM pg_temp.expect('product', '2020-03-10 10:00Z', '950001')$$, 'single insert: product bucket');
SELECT is((SELECT slot FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'),
          (pg_backend_pid() % 8)::smallint, 'the delta goes to this backend''s slot');

-- 2. a multi-row insert: a second line of the same order, a refunded line, a line without order number,
--    a NULL country and a product without category; 3 decimals
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, order_number, country)
VALUES (950002, 950001, 950002, 1, 5.5, '2020-03-10 10:15Z', 'completed', 'paypal', 'web', 'ROLL-O1', 'GB'),
       (950003, 950002, 950003, 3, 0.001, '2020-03-10 10:59:59.999Z', 'completed', 'credit_card', 'ios_app', NULL, NULL),
       (950004, 950002, 950003, 7, 0.001, '2020-03-10 10:30Z', 'completed', 'credit_card', 'ios_app', NULL, NULL),
       (950005, 950003, 950001, 1, 10, '2020-03-10 11:00Z', 'refunded', 'debit_card', 'web', 'ROLL-O2', 'FR');
SELECT results_eq($$SELECT * FROM pg_temp.got('all', '2020-03-10 10:00Z', '')$$,
                  $$VALUES (25.510::numeric, 3::bigint, 13::bigint, 4::bigint, 0::bigint)$$,
                  'multi-row insert: 25.5 + 0.003 + 0.007, orders = ROLL-O1 + two lines without order number');
SELECT results_eq($$SELECT * FROM pg_temp.got('category', '2020-03-10 10:00Z', '950001')$$,
                  $$VALUES (25.500::numeric, 1::bigint, 3::bigint, 2::bigint, 0::bigint)$$,
                  'an order with two products of one category is one order of that category');
SELECT results_eq($$SELECT * FROM pg_temp.got('category', '2020-03-10 10:00Z', '')$$,
                  $$SELECT * FROM pg_temp.expect('category', '2020-03-10 10:00Z', '')$$, 'product without category: key ''''');
SELECT results_eq($$SELECT * FROM pg_temp.got('country', '2020-03-10 10:00Z', '')$$,
                  $$SELECT * FROM pg_temp.expect('country', '2020-03-10 10:00Z', '')$$, 'NULL country: key ''''');
SELECT results_eq($$SELECT * FROM pg_temp.got('all', '2020-03-10 11:00Z', '')$$,
                  $$VALUES (0::numeric, 0::bigint, 0::bigint, 1::bigint, 0::bigint)$$,
                  'a refunded line is a transaction but no revenue, order or unit; 11:00 starts a new hour');
SELECT is((SELECT sum(refunded_amount) FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 11:00Z'),
          10.000::numeric, 'refunded amount kept apart');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-10', '2020-03-11')$$, 'multi-row insert: exact');

-- 3. a later statement adds a line to an existing order: still one order
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, order_number, country)
VALUES (950006, 950001, 950003, 1, 0.001, '2020-03-10 10:16Z', 'completed', 'paypal', 'web', 'ROLL-O1', 'GB');
SELECT is((SELECT sum(orders)::int FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'), 3,
          'a line added to an order by a later statement does not count the order twice');
SELECT is((SELECT lines::int FROM analytics.order_registry WHERE order_number = 'ROLL-O1'), 3, 'order registry counts its lines');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-10', '2020-03-11')$$, 'order across statements: exact');

-- 4. status updates: revenue leaves with refunds and blocks, comes back with completion
UPDATE transactions SET status = 'refunded' WHERE id = 950001;
SELECT results_eq($$SELECT * FROM pg_temp.got('all', '2020-03-10 10:00Z', '')$$,
                  $$SELECT * FROM pg_temp.expect('all', '2020-03-10 10:00Z', '')$$, 'refund of one line: bucket recomputed');
SELECT is((SELECT sum(revenue) FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'),
          5.511::numeric, 'refunded line left revenue (25.511 - 20)');
SELECT is((SELECT sum(orders)::int FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'), 3,
          'the order still has completed lines: still counted');
UPDATE transactions SET status = 'blocked' WHERE id IN (950002, 950006);
SELECT is((SELECT sum(orders)::int FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'), 2,
          'no completed line left in the order: the order leaves');
SELECT is((SELECT sum(blocked)::int FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'), 2,
          'blocked lines counted');
UPDATE transactions SET status = 'completed' WHERE id = 950005;
SELECT is((SELECT sum(revenue) FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 11:00Z'),
          10.000::numeric, 'a refunded line completed again comes back into revenue');
UPDATE transactions SET label = 'legitimate', labelled_at = now() WHERE id = 950005;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-10', '2020-03-11')$$, 'status updates: exact');

-- 5. updates moving lines between buckets (time, product, country), and an update touching nothing
UPDATE transactions SET transaction_time = transaction_time + interval '3 hours', country = NULL, product_id = 950002
 WHERE id IN (950003, 950005);
UPDATE transactions SET order_number = 'ROLL-O2' WHERE id = 950004;
UPDATE transactions SET quantity = quantity WHERE id = -1;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-10', '2020-03-11')$$,
                'updates of time, product, country and order number: exact');

-- 6. deletes
DELETE FROM transactions WHERE id IN (950002, 950004);
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-10', '2020-03-11')$$, 'deletes: exact');
DELETE FROM transactions WHERE order_number = 'ROLL-O1';
SELECT is((SELECT count(*)::int FROM analytics.order_registry WHERE order_number = 'ROLL-O1'), 0,
          'the last line of an order deleted: registry row gone');
SELECT is((SELECT sum(transactions)::int FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-10 10:00Z'), 0,
          'an emptied hour sums to zero');

-- 7. a bulk insert (one statement, 3,000 rows over 30 hours, orders of 1-3 lines, all statuses)
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, order_number, country)
SELECT 951000 + i, 950001 + i % 4, 950001 + (i % 3), 1 + i % 5, (i % 97) + 0.125,
       '2020-03-20 00:00Z'::timestamptz + (i / 3) * interval '36 seconds',
       (ARRAY['completed', 'completed', 'completed', 'refunded', 'blocked', 'failed', 'pending'])[1 + i % 7],
       (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3], (ARRAY['web', 'ios_app'])[1 + i % 2],
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'ROLL-B' || (i / 3) END, (ARRAY['GB', 'DE', NULL])[1 + i % 3]
  FROM generate_series(0, 2999) i;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-20', '2020-03-22')$$, 'bulk insert of 3,000 rows: exact');
SELECT is((SELECT sum(revenue) FROM analytics.sales_hourly WHERE dim = 'all' AND hour >= '2020-03-20' AND hour < '2020-03-22'),
          (SELECT sum(amount) FROM transactions WHERE id BETWEEN 951000 AND 953999 AND status = 'completed'),
          'bulk insert: revenue equals the sum of completed amounts');
SELECT cmp_ok((SELECT count(*) FROM analytics.sales_hourly WHERE dim = 'all' AND hour >= '2020-03-20' AND hour < '2020-03-22'),
              '<=', 30::bigint, 'one rollup row per hour for the statement (no row per transaction)');

-- 8. COPY, as a bulk import does
COPY transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform, order_number, country) FROM stdin WITH (FORMAT csv);
954001,950004,950001,1,1.005,2020-03-21T23:59:59.999999Z,completed,paypal,web,ROLL-C1,GB
954002,950004,950002,2,2.005,2020-03-21T23:59:59.999999Z,completed,paypal,web,ROLL-C1,GB
954003,950004,950003,3,0.333,2020-03-22T00:00:00Z,pending,crypto,web,,
\.
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-20', '2020-03-23')$$, 'COPY: exact');
SELECT is((SELECT sum(revenue) FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2020-03-21 23:00Z') -
          (SELECT coalesce(sum(amount), 0) FROM transactions WHERE transaction_time >= '2020-03-21 23:00Z'
              AND transaction_time < '2020-03-22' AND status = 'completed' AND id < 954000),
          5.015::numeric, 'COPY: 1.005 + 2 x 2.005 added exactly to the last hour before midnight');

-- 9. bulk update and delete statements
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'refunded' ELSE 'completed' END
 WHERE id BETWEEN 951000 AND 953999 AND id % 4 = 0;
DELETE FROM transactions WHERE id BETWEEN 951000 AND 953999 AND id % 5 = 1;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-20', '2020-03-23')$$, 'bulk update and delete: exact');

-- 10. a product changing category moves its history
UPDATE products SET category_id = 950002 WHERE id = 950002;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-01', '2020-04-01')$$,
                'product moved to another category: category rollups follow');
SELECT ok((SELECT sum(revenue) FROM analytics.sales_hourly WHERE dim = 'category' AND key = '950002') > 0,
          'the new category has the product''s revenue');

-- 11. rebuild after an import with the rollup trigger disabled
ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, order_number)
SELECT 955000 + i, 950001, 950001, 1, 3, '2020-03-25 05:00Z'::timestamptz + i * interval '1 minute', 'completed', 'paypal',
       'ROLL-R' || (i / 2)
  FROM generate_series(0, 99) i;
ALTER TABLE transactions ENABLE TRIGGER transactions_rollup_ins;
SELECT isnt_empty($$SELECT * FROM analytics.rollup_check('2020-03-25', '2020-03-26')$$,
                  'rollup_check reports rows inserted with the trigger off');
SELECT cmp_ok(analytics.rollup_rebuild('2020-03-25 05:30Z', '2020-03-25 06:10Z'), '>', 0::bigint,
              'rollup_rebuild writes rows (range widened to whole hours)');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2020-03-25', '2020-03-26')$$, 'after rollup_rebuild: exact');
SELECT is((SELECT lines::int FROM analytics.order_registry WHERE order_number = 'ROLL-R10'), 2, 'rebuild restores the order registry');

-- 12. everything, once more, and TRUNCATE
SELECT is_empty($$SELECT * FROM analytics.rollup_check()$$, 'whole table: exact');
SET LOCAL client_min_messages = warning;
TRUNCATE transactions CASCADE;
SELECT is((SELECT count(*)::int FROM analytics.sales_hourly) + (SELECT count(*)::int FROM analytics.order_registry), 0,
          'TRUNCATE transactions empties the rollups');

SELECT * FROM finish();
ROLLBACK;
