-- pgTAP: the overview from rollup rows only (migrations/deploy/overview_rollups.sql): minute rows of
-- the shop total, sales totals and active customers of ranges with partial hours, hourly alert counts,
-- low stock at a past time. Rows with ids 96xxxx in March 2019 (far from the seed); every figure is
-- compared with an independent computation from the base tables.
BEGIN;
SELECT plan(33);

-- independent references
CREATE FUNCTION pg_temp.scan(p_from timestamptz, p_to timestamptz) RETURNS text
LANGUAGE sql AS $$
  SELECT concat_ws('|',
           coalesce(sum(amount) FILTER (WHERE status = 'completed'), 0) - coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0),
           count(*) FILTER (WHERE status = 'completed'), count(*), count(*) FILTER (WHERE status = 'pending'),
           coalesce(sum(quantity) FILTER (WHERE status = 'completed'), 0))
    FROM transactions WHERE transaction_time >= p_from AND transaction_time < p_to
$$;
CREATE FUNCTION pg_temp.totals(p_from timestamptz, p_to timestamptz) RETURNS text
LANGUAGE sql AS $$
  SELECT concat_ws('|', s.revenue, s.completed, s.transactions, s.pending, s.units)
    FROM analytics.sales_totals(p_from, p_to) s
$$;
CREATE FUNCTION pg_temp.open_at(p_at timestamptz) RETURNS bigint
LANGUAGE sql AS $$
  SELECT count(*) FROM alerts a
   WHERE a.created_at <= p_at AND coalesce(a.acknowledged_at, a.resolved_at, 'infinity') > p_at
     AND coalesce(a.resolved_at, 'infinity') > p_at
$$;

SELECT has_function('analytics', 'alerts_open_at', ARRAY['timestamp with time zone'], 'alerts_open_at');
SELECT is_empty($$SELECT * FROM analytics.rollup_check() WHERE dim = 'minute'$$, 'seed data: the minute rows equal the recomputation');
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'seed data: the alert counts equal the recount');
SELECT is((SELECT count(*) FROM bi.sales_hourly WHERE dimension = 'minute'), 0::bigint, 'bi.sales_hourly shows no minute rows');

-- fixtures: lines spread over minutes of 2019-03-05 09:00 .. 12:00, one order of three lines
INSERT INTO categories (id, name) VALUES (960001, 'overview cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, low_stock_threshold)
SELECT 960000 + i, 'OVR-' || i, 'overview product ' || i, 960001, 5, 100, 10 FROM generate_series(1, 3) i;
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'overview' || i || '@example.com', 'Overview ' || i, 'DE' FROM generate_series(1, 40) i;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                          platform, country, order_number)
SELECT 960000 + i, 960001 + i % 40, 960001 + i % 3, 1 + i % 2, 5, '2019-03-05 09:00Z'::timestamptz + i * interval '67 seconds',
       CASE WHEN i % 7 = 0 THEN 'pending' ELSE 'completed' END, 'paypal', 'web', 'DE',
       CASE WHEN i IN (50, 51, 52) THEN 'OVR-ORDER-1' END
  FROM generate_series(0, 160) i;
UPDATE transactions SET transaction_time = (SELECT transaction_time FROM transactions WHERE id = 960050)
 WHERE order_number = 'OVR-ORDER-1';

SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-03-05', '2019-03-06')$$, 'inserts: rollups with minute rows exact');
SELECT is((SELECT count(DISTINCT key) FROM analytics.sales_hourly WHERE dim = 'minute' AND hour = '2019-03-05 10:00Z'), 54::bigint,
          'a minute row per minute with lines (54 of the hour''s minutes)');
SELECT is((SELECT sum(transactions) FROM analytics.sales_hourly WHERE dim = 'minute' AND hour = '2019-03-05 10:00Z'),
          (SELECT sum(transactions) FROM analytics.sales_hourly WHERE dim = 'all' AND hour = '2019-03-05 10:00Z'),
          'the minute rows of an hour add up to its hour row');
SELECT is((SELECT key FROM analytics.sales_hourly WHERE dim = 'minute' AND hour = '2019-03-05 09:00Z' ORDER BY key LIMIT 1),
          '00', 'minute keys are two digits of the UTC minute');

-- sales totals of ranges with partial hours / minutes = the scan
SELECT is(pg_temp.totals(f, t), pg_temp.scan(f, t), format('sales_totals [%s, %s) = scan', f, t))
  FROM (VALUES ('2019-03-05 09:00Z'::timestamptz, '2019-03-05 11:37Z'::timestamptz),
               ('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
               ('2019-03-05 09:13:30Z', '2019-03-05 09:48:10Z'),
               ('2019-03-05 09:13:30Z', '2019-03-05 10:00Z'),
               ('2019-03-05 09:59:20Z', '2019-03-05 10:00:40Z'),
               ('2019-03-05 09:30:05Z', '2019-03-05 09:30:55Z'),
               ('2019-03-05 08:00Z', '2019-03-05 12:00Z')) v(f, t);
SELECT is((SELECT orders FROM analytics.sales_totals('2019-03-05 09:50Z', '2019-03-05 10:10Z')),
          (SELECT count(DISTINCT coalesce(order_number, '#' || id)) FROM transactions
            WHERE status = 'completed' AND transaction_time >= '2019-03-05 09:50Z' AND transaction_time < '2019-03-05 10:10Z'),
          'orders of a partial-hour range: the three-line order counts once');
SELECT is(analytics.active_customers('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
          analytics.active_customers_exact('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
          'active customers of a range with partial hours (small set: the sketch is exact)');
SELECT is(analytics.active_customers('2019-03-05 09:13:30Z', '2019-03-05 09:20:10Z'),
          analytics.active_customers_exact('2019-03-05 09:13:30Z', '2019-03-05 09:20:10Z'),
          'active customers within one hour');

-- updates that move a line to another minute of the same hour, status changes, deletes
UPDATE transactions SET transaction_time = transaction_time + interval '5 minutes' WHERE id IN (960060, 960061);
UPDATE transactions SET status = 'refunded' WHERE id = 960062;
UPDATE transactions SET customer_id = 960001 WHERE id = 960063;
DELETE FROM transactions WHERE id IN (960064, 960065);
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-03-05', '2019-03-06')$$,
                'moves within the hour, status change, customer change, deletes: minute rows and sketches exact');
SELECT is(pg_temp.totals('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'), pg_temp.scan('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
          'sales_totals after the changes = scan');
SELECT is(analytics.active_customers('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
          analytics.active_customers_exact('2019-03-05 09:13:30Z', '2019-03-05 11:37:45Z'),
          'active customers after the changes');
SELECT is(analytics.rollup_rebuild('2019-03-05', '2019-03-06') > 0, true, 'rollup_rebuild of the day');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-03-05', '2019-03-06')$$, 'after rollup_rebuild: exact');

-- alert counts: inserts, acknowledge, resolve, reopen, delete
INSERT INTO alerts (id, type, severity, message, customer_id, created_at, status, acknowledged_at, resolved_at)
VALUES (960001, 'overview_test', 'high', 'a', 960001, '2019-03-05 09:10Z', 'open', NULL, NULL),
       (960002, 'overview_test', 'high', 'b', 960002, '2019-03-05 09:20Z', 'acknowledged', '2019-03-05 10:05Z', NULL),
       (960003, 'overview_test', 'high', 'c', 960003, '2019-03-05 09:30Z', 'resolved', '2019-03-05 09:40Z', '2019-03-05 11:00Z'),
       (960004, 'overview_test', 'high', 'd', 960004, '2019-03-05 10:30Z', 'resolved', NULL, '2019-03-05 10:45Z'),
       (960005, 'overview_test', 'high', 'e', 960005, '2019-03-05 10:50Z', 'acknowledged', '2019-03-05 10:40Z', NULL);
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'alert inserts: counts exact');
SELECT is(analytics.alerts_open_at(t), pg_temp.open_at(t), format('open alerts at %s = scan', t))
  FROM (VALUES ('2019-03-05 09:35Z'::timestamptz), ('2019-03-05 10:05Z'), ('2019-03-05 10:50Z'), ('2019-03-05 12:00Z')) v(t);
SELECT is(analytics.alerts_created('2019-03-05 09:15Z', '2019-03-05 10:40Z'),
          (SELECT count(*) FROM alerts WHERE created_at >= '2019-03-05 09:15Z' AND created_at < '2019-03-05 10:40Z'),
          'alerts created in a range with partial hours');
UPDATE alerts SET status = 'resolved', resolved_at = '2019-03-05 11:30Z' WHERE id = 960001;
UPDATE alerts SET status = 'open', acknowledged_at = NULL WHERE id = 960002;
DELETE FROM alerts WHERE id = 960004;
SELECT is_empty($$SELECT * FROM analytics.alert_counts_check()$$, 'alert updates and deletes: counts exact');
SELECT is(analytics.alerts_open_at('2019-03-05 11:15Z'), pg_temp.open_at('2019-03-05 11:15Z'), 'open alerts after the changes = scan');
SELECT is((api.dashboard_overview('2019-03-05 10:50Z')->'open_alerts'->>'value')::bigint, pg_temp.open_at('2019-03-05 10:50Z'),
          'the overview''s open alerts at as_of');

-- low stock at a past time: products low now corrected by the changes after it
INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason, changed_at)
VALUES (960001, 5, 100, 'restock', '2019-03-05 10:00Z');
SELECT is(analytics.low_stock_count('2019-03-05 09:00Z'),
          (SELECT count(*) FROM analytics.stock_at('2019-03-05 09:00Z') s JOIN products p ON p.id = s.product_id
            WHERE s.stock <= p.low_stock_threshold),
          'low stock at a past time = the stock reconstructed from inventory_history');
SELECT * FROM finish();
ROLLBACK;
