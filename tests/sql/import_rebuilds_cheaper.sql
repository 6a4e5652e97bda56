-- pgTAP: the import's cheaper rebuilds (migrations/deploy/import_rebuilds_cheaper.sql).
-- analytics.product_daily_from_hourly(from, to) writes, for the whole UTC days overlapping the range, the rows
-- analytics.product_daily_recompute gives (revenue and units net of refunds, orders summed over the day's hours,
-- pending and refund units, suspicious) from the hourly product rows, in a session time zone with a DST change
-- inside the days; it replaces wrong or stale rows and removes the rows of days left without lines. The import
-- rebuilds the hourly rollups over the whole UTC days of its lines and then the product days from them: exact when
-- the first imported day already had lines before the import's first line. customer_months_recompute and
-- customer_order_spans_recompute of a set of customers = those of every customer restricted to the set.
-- Products and customers 96xxxx, lines in March 2021 (far from the seed).
BEGIN;
SELECT plan(16);
SET client_min_messages = warning;

SELECT has_function('analytics', 'product_daily_from_hourly', ARRAY['timestamp with time zone', 'timestamp with time zone'],
                    'analytics.product_daily_from_hourly(from, to)');
SELECT ok(position('analytics.product_daily_from_hourly(v_from' IN pg_get_functiondef('import.online_retail'::regproc)) > 0
          AND position('analytics.product_daily_rebuild(' IN pg_get_functiondef('import.online_retail'::regproc)) = 0,
          'import.online_retail sums the product days from the hourly rows (no recomputation from the lines)');

SET LOCAL techmart.scoring = 'off';
SET LOCAL techmart.track_stock = 'off';
-- UTC days whatever TimeZone: New York changes to summer time on 2021-03-14
SET LOCAL TimeZone = 'America/New_York';
INSERT INTO categories (id, name) VALUES (960001, 'hourly days cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, low_stock_threshold)
SELECT 960000 + i, 'HDAYS-' || i, 'hourly days product ' || i, 960001, 5, 1000, 10 FROM generate_series(1, 5) i;
INSERT INTO customers (id, email, name, country)
SELECT 960000 + i, 'hdays' || i || '@example.com', 'Hourly days ' || i, 'GB' FROM generate_series(1, 4) i;

-- lines over 2021-03-12 .. 03-16 UTC: orders over several products and hours, pending, failed, refunds, suspicious
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, kind,
                          order_number, is_suspicious)
SELECT 960001 + g % 4, 960001 + g % 5, 1 + g % 3, 2.5, 'paypal', '2021-03-12 03:00Z'::timestamptz + make_interval(mins => g * 23),
       CASE WHEN g % 11 = 0 THEN 'refunded' ELSE (ARRAY['completed', 'completed', 'pending', 'failed', 'completed'])[1 + g % 5] END,
       CASE WHEN g % 11 = 0 THEN 'refund' ELSE 'sale' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'HDAYS-O' || (g % 17) END, g % 7 = 0
  FROM generate_series(1, 260) g;
UPDATE transactions SET is_suspicious = true WHERE product_id > 960000 AND id % 7 = 0;  -- (scoring off: none was)
-- a day whose lines are then all deleted
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, order_number)
VALUES (960001, 960001, 2, 3, 'paypal', '2021-03-18 10:00Z', 'completed', 'HDAYS-GONE');
DELETE FROM transactions WHERE order_number = 'HDAYS-GONE';

CREATE FUNCTION pg_temp.days_diff(p_from timestamptz, p_to timestamptz) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    (SELECT d.day, d.product_id, d.revenue, d.orders, d.units, d.pending_units, d.refund_units, d.transactions, d.suspicious
       FROM analytics.product_daily d WHERE d.day >= p_from AND d.day < p_to
        AND (d.revenue, d.orders, d.units, d.pending_units, d.refund_units, d.transactions, d.suspicious) <> (0, 0, 0, 0, 0, 0, 0)
     EXCEPT ALL SELECT * FROM analytics.product_daily_recompute(p_from, p_to))
    UNION ALL
    (SELECT * FROM analytics.product_daily_recompute(p_from, p_to)
     EXCEPT ALL SELECT d.day, d.product_id, d.revenue, d.orders, d.units, d.pending_units, d.refund_units, d.transactions, d.suspicious
       FROM analytics.product_daily d WHERE d.day >= p_from AND d.day < p_to)) x
$$;
SELECT is(pg_temp.days_diff('2021-03-10Z', '2021-03-20Z'), 0::bigint, 'the triggers kept the days exact (a day left without lines: a row of zeros)');
SELECT ok((SELECT bool_or(pending_units > 0) AND bool_or(refund_units > 0) AND bool_or(suspicious > 0) AND bool_or(orders > 1)
             FROM analytics.product_daily WHERE product_id > 960000),
          'the lines make days with pending, refund and suspicious lines and orders');

-- the days made wrong: changed figures, a row for a day without lines, a missing day, stale pending units
UPDATE analytics.product_daily SET revenue = revenue + 1, orders = orders + 5
 WHERE product_id = 960001 AND day = '2021-03-13Z';
INSERT INTO analytics.product_daily (day, product_id, revenue, orders, units, transactions) VALUES ('2021-03-18Z', 960002, 7, 1, 1, 1);
DELETE FROM analytics.product_daily WHERE product_id = 960003 AND day = '2021-03-15Z';
UPDATE analytics.product_units_hourly SET pending_units = pending_units + 3 WHERE product_id = 960004;
SELECT cmp_ok(pg_temp.days_diff('2021-03-10Z', '2021-03-20Z'), '>', 0::bigint, 'the days made wrong');

-- a ragged range: the whole UTC days overlapping it (03-12 .. 03-18) rebuilt from the hourly rows
SELECT is(analytics.product_daily_from_hourly('2021-03-12 17:30Z', '2021-03-18 00:01Z'),
          (SELECT count(*) FROM analytics.product_daily_recompute('2021-03-12Z', '2021-03-19Z')),
          'product_daily_from_hourly returns the day rows written');
SELECT is(pg_temp.days_diff('2021-03-10Z', '2021-03-20Z'), 0::bigint,
          'product_daily_from_hourly: every day = the recomputation from the lines (DST in TimeZone)');
SELECT is((SELECT count(*) FROM analytics.product_daily WHERE day = '2021-03-18Z' AND product_id > 960000), 0::bigint,
          'a day left without lines has no row');
SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'product_daily_check() empty (product_units_hourly too)');
SELECT throws_ok($$SELECT analytics.product_daily_from_hourly('2021-03-13Z', '2021-03-12Z')$$, '22023', NULL,
                 'product_daily_from_hourly: a reversed range is refused');

-- the bulk import into days that already had lines before its first line (03-16 from 00:30 UTC, and the day
-- after the last: 03-17 has none); the hourly rows of those days rebuilt too
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, order_number)
VALUES (960001, 960002, 4, 2, 'paypal', '2021-03-16 00:30Z', 'completed', 'HDAYS-EARLY');
UPDATE analytics.sales_hourly SET revenue = revenue + 100  -- a wrong hourly row of the imported day, before its lines
 WHERE dim = 'product' AND key = '960002' AND hour = '2021-03-16 00:00Z';
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw  -- UK time: GMT in March before the 28th
SELECT '9962' || lpad(g::text, 2, '0'), 'HDAYS-' || (1 + g % 3)::text, 'hourly days product', (1 + g % 4)::text,
       format('2021-03-16 %s:%s:00', lpad((10 + g % 8)::text, 2, '0'), lpad(g::text, 2, '0')), '2.5', '99961.0', 'France'
  FROM generate_series(1, 59) g ORDER BY g;
SELECT lives_ok($$SELECT * FROM import.online_retail('hdays.csv')$$, 'the bulk import runs');
SELECT is((SELECT count(*) FROM transactions WHERE transaction_time >= '2021-03-16 10:00Z' AND transaction_time < '2021-03-17Z'
                                                AND order_number LIKE '9962%'), 59::bigint, 'the import wrote its lines');
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2021-03-16Z', '2021-03-17Z')$$,
                'the import rebuilt the hourly rollups of the whole UTC day of its lines');
SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'after the import: product_daily exact');

-- the customers' months of a set of customers (NULL and repeated elements included) = every customer's, restricted
SELECT set_eq($$SELECT * FROM analytics.customer_months_recompute(ARRAY[960001, 960003, NULL, 960003, 1]::bigint[])$$,
              $$SELECT * FROM analytics.customer_months_recompute() WHERE customer_id IN (960001, 960003, 1)$$,
              'customer_months_recompute(customers) = customer_months_recompute() of those customers')
UNION ALL
SELECT set_eq($$SELECT * FROM analytics.customer_order_spans_recompute(ARRAY[960001, 960003, NULL, 960003, 1]::bigint[])$$,
              $$SELECT * FROM analytics.customer_order_spans_recompute() WHERE customer_id IN (960001, 960003, 1)$$,
              'customer_order_spans_recompute(customers) = customer_order_spans_recompute() of those customers');

SELECT * FROM finish();
ROLLBACK;
