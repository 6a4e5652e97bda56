-- pgTAP: the per-product daily rollup (migrations/deploy/product_sales_daily.sql). analytics.product_daily and
-- product_units_hourly stay exact (analytics.product_daily_check() empty) under single and multi-row INSERT,
-- COPY, UPDATE of status / amount / quantity / product / time / order number, refunds, DELETE, the bulk import,
-- rollup_rebuild and TRUNCATE; the readers built on them (analytics.product_sales, product_units_since, hence
-- analytics.breakdown product/supplier, top_products, low_stock and GET /inventory) give what the hourly rollups
-- and a recomputation from transactions give, over ragged ranges. Products and customers 95xxxx, lines in
-- March 2020 (far from the seed).
BEGIN;
SELECT plan(36);
SET client_min_messages = warning;

SELECT is((SELECT count(*)::int FROM pg_trigger t
            WHERE t.tgrelid = 'public.transactions'::regclass
              AND (t.tgfoid = 'analytics.product_daily_trigger()'::regprocedure
                   AND t.tgname IN ('transactions_sales_daily_upd', 'transactions_sales_daily_del',
                                    'transactions_sales_daily_trunc')
                   OR t.tgfoid = 'analytics.product_daily_insert_trigger()'::regprocedure  -- change product_daily_insert_c
                      AND t.tgname = 'transactions_sales_daily_ins')),
          4, 'the INSERT (C), UPDATE, DELETE and TRUNCATE statement triggers on transactions');
SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'the seeded database: product_daily exact');

SET LOCAL techmart.scoring = 'off';
SET LOCAL techmart.track_stock = 'off';
INSERT INTO categories (id, name) VALUES (950001, 'daily cat');
INSERT INTO suppliers (id, name, country) VALUES (950001, 'daily supplier A', 'GB'), (950002, 'daily supplier B', 'FR');
INSERT INTO products (id, sku, name, category_id, supplier_id, price, stock_quantity, low_stock_threshold)
SELECT 950000 + i, 'DAILY-' || i, 'daily product ' || i, 950001, 950001 + i % 2, 5, 1000, 10 FROM generate_series(1, 6) i;
INSERT INTO customers (id, email, name, country)
SELECT 950000 + i, 'daily' || i || '@example.com', 'Daily ' || i, 'GB' FROM generate_series(1, 5) i;

-- the reference: the hourly product rows' sums recomputed from transactions (revenue and units net of refund rows, as
-- analytics.rollup_recompute; orders: distinct (order, hour) pairs with a completed line)
CREATE FUNCTION pg_temp.ref(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (key text, revenue numeric, orders numeric, units numeric, transactions numeric, suspicious numeric)
LANGUAGE sql AS $$
  WITH l AS (SELECT t.* FROM transactions t
              WHERE t.transaction_time >= analytics.hour_floor(p_from) AND t.transaction_time < analytics.hour_ceil(p_to)
                AND t.product_id BETWEEN 950001 AND 950006)
  SELECT l.product_id::text,
         coalesce(sum(l.amount) FILTER (WHERE l.status = 'completed'), 0) - coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0),
         (SELECT count(DISTINCT (analytics.hour_floor(x.transaction_time), coalesce(x.order_number, '#' || x.id)))
            FROM l x WHERE x.product_id = l.product_id AND x.status = 'completed'),
         coalesce(sum(l.quantity) FILTER (WHERE l.status = 'completed'), 0) - coalesce(sum(l.quantity) FILTER (WHERE l.kind = 'refund'), 0),
         count(*), count(*) FILTER (WHERE l.is_suspicious)
    FROM l GROUP BY l.product_id
$$;
-- the hourly rollups as the readers summed them before
CREATE FUNCTION pg_temp.hourly(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (key text, revenue numeric, orders numeric, units numeric, transactions numeric, suspicious numeric)
LANGUAGE sql AS $$
  SELECT s.key, sum(s.revenue), sum(s.orders), sum(s.units), sum(s.transactions), sum(s.suspicious)
    FROM analytics.sales_hourly s WHERE s.dim = 'product' AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
   GROUP BY s.key
$$;
CREATE FUNCTION pg_temp.units_ref(p_since timestamptz) RETURNS TABLE (product_id bigint, units bigint) LANGUAGE sql AS $$
  SELECT t.product_id, sum(t.quantity)::bigint FROM transactions t
   WHERE t.transaction_time >= p_since AND t.status IN ('completed', 'pending') AND t.product_id BETWEEN 950001 AND 950006
   GROUP BY 1
$$;
-- every range and start of the test: ragged, whole days, within a day, around the lines' days
CREATE TEMP TABLE ranges (f timestamptz, t timestamptz);
INSERT INTO ranges VALUES ('2020-03-01Z', '2020-04-01Z'), ('2020-03-07 20:00Z', '2020-03-09 03:00Z'), ('2020-03-06 05:00Z', '2020-03-08 16:00Z'), ('2020-03-02 10:30Z', '2020-03-05 02:15Z'),
  ('2020-03-03 00:00Z', '2020-03-04 00:00Z'), ('2020-03-03 05:10Z', '2020-03-03 07:00Z'), ('2020-03-02 23:59Z', '2020-03-04 00:01Z'),
  ('2020-03-04 13:00Z', '2020-03-10 13:00Z'), ('2020-02-20', '2020-03-03 12:00Z');
-- 0 when the fast readers agree with the reference and the hourly rollups over every range
CREATE FUNCTION pg_temp.diffs() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  k bigint;
  r record;
BEGIN
  SELECT (SELECT count(*) FROM (
            (SELECT * FROM analytics.product_daily d WHERE d.day >= '2020-02-01Z' AND d.day < '2020-05-01Z'
                AND (d.revenue, d.orders, d.units, d.pending_units, d.refund_units, d.transactions, d.suspicious) <> (0, 0, 0, 0, 0, 0, 0)
             EXCEPT SELECT * FROM analytics.product_daily_recompute('2020-02-01Z', '2020-05-01Z'))
            UNION ALL
            (SELECT * FROM analytics.product_daily_recompute('2020-02-01Z', '2020-05-01Z')
             EXCEPT SELECT * FROM analytics.product_daily d WHERE d.day >= '2020-02-01Z' AND d.day < '2020-05-01Z')) x)
       + (SELECT count(*) FROM (
            (SELECT * FROM analytics.product_units_hourly h WHERE h.hour >= '2020-02-01Z' AND h.hour < '2020-05-01Z' AND (h.pending_units, h.refund_units) <> (0, 0)
             EXCEPT SELECT * FROM analytics.product_units_recompute('2020-02-01Z', '2020-05-01Z'))
            UNION ALL
            (SELECT * FROM analytics.product_units_recompute('2020-02-01Z', '2020-05-01Z')
             EXCEPT SELECT * FROM analytics.product_units_hourly h WHERE h.hour >= '2020-02-01Z' AND h.hour < '2020-05-01Z')) x)
    INTO n;
  FOR r IN SELECT * FROM ranges LOOP
    SELECT count(*) INTO k FROM (
      (SELECT * FROM analytics.product_sales(r.f, r.t)  -- (rows of zeros: as in the hourly rollups)
        WHERE key::bigint BETWEEN 950001 AND 950006 AND (revenue, orders, units, transactions) <> (0, 0, 0, 0)
       EXCEPT SELECT * FROM pg_temp.ref(r.f, r.t))
      UNION ALL
      (SELECT * FROM pg_temp.ref(r.f, r.t)
       EXCEPT SELECT * FROM analytics.product_sales(r.f, r.t) WHERE key::bigint BETWEEN 950001 AND 950006)
      UNION ALL
      (SELECT * FROM analytics.product_sales(r.f, r.t) EXCEPT SELECT * FROM pg_temp.hourly(r.f, r.t))
      UNION ALL
      (SELECT * FROM pg_temp.hourly(r.f, r.t) EXCEPT SELECT * FROM analytics.product_sales(r.f, r.t))) x;
    n := n + k;
    SELECT count(*) INTO k FROM (
      (SELECT * FROM analytics.product_units_since(r.f) WHERE units <> 0 AND product_id BETWEEN 950001 AND 950006
       EXCEPT SELECT * FROM pg_temp.units_ref(r.f))
      UNION ALL
      (SELECT * FROM pg_temp.units_ref(r.f) EXCEPT SELECT * FROM analytics.product_units_since(r.f))) x;
    n := n + k;
  END LOOP;
  RETURN n;
END $$;
SELECT is(pg_temp.diffs(), 0::bigint, 'before any line: readers = reference = hourly rollups');

CREATE FUNCTION pg_temp.line(p bigint, q int, t timestamptz, s text DEFAULT 'completed', o text DEFAULT NULL,
                             k text DEFAULT 'sale', susp boolean DEFAULT false) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status,
                            order_number, kind, is_suspicious)
  VALUES (950001 + p % 5, p, q, 2.5, 'paypal', t, s, o, k, susp) RETURNING id
$$;

SELECT pg_temp.line(950001, 2, '2020-03-03 10:15Z') AS l1 \gset
SELECT is((SELECT units FROM analytics.product_daily WHERE day = '2020-03-03Z' AND product_id = 950001), 2::bigint,
          'a single-row INSERT: the day row of its product');
SELECT is(pg_temp.diffs(), 0::bigint, 'single-row INSERT: exact');

-- an order whose lines straddle hours and days, two lines of one product in one hour, pending, suspicious
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status,
                          order_number, is_suspicious)
VALUES (950002, 950002, 1, 4, 'paypal', '2020-03-03 23:40Z', 'completed', 'DAILY-O1', false),
       (950002, 950002, 3, 4, 'paypal', '2020-03-03 23:50Z', 'completed', 'DAILY-O1', true),
       (950002, 950003, 2, 4, 'paypal', '2020-03-04 00:10Z', 'completed', 'DAILY-O1', false),
       (950002, 950002, 5, 4, 'paypal', '2020-03-04 00:20Z', 'pending', 'DAILY-O1', false),
       (950003, 950004, 7, 4, 'paypal', '2020-03-03 06:05Z', 'pending', NULL, true),
       (950003, 950005, 1, 4, 'paypal', '2020-03-02 12:00Z', 'failed', 'DAILY-O2', false);
SELECT is((SELECT orders FROM analytics.product_daily WHERE day = '2020-03-03Z' AND product_id = 950002), 1::bigint,
          'two lines of an order in one hour: one order');
SELECT is(pg_temp.diffs(), 0::bigint, 'multi-row INSERT (an order over hours and days, pending, suspicious, failed): exact');

-- the order gets another line in the same hour in a later statement: no second order
SELECT pg_temp.line(950002, 1, '2020-03-03 23:55Z', 'completed', 'DAILY-O1') AS l2 \gset
SELECT is((SELECT orders FROM analytics.product_daily WHERE day = '2020-03-03Z' AND product_id = 950002), 1::bigint,
          'a later line of the same order, product and hour: still one order');
SELECT is(pg_temp.diffs(), 0::bigint, 'a later line of an order: exact');

COPY transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, order_number) FROM STDIN;
950004	950005	2	3	paypal	2020-03-05 08:00:00+00	completed	DAILY-O3
950004	950006	1	3	paypal	2020-03-05 08:30:00+00	completed	DAILY-O3
950004	950005	4	3	paypal	2020-03-05 09:10:00+00	pending	DAILY-O3
950005	950001	1	3	paypal	2020-03-04 13:00:00+00	completed	\N
\.
SELECT is(pg_temp.diffs(), 0::bigint, 'COPY: exact');

-- status changes: completed -> refunded, pending -> completed (the order's line in the hour), failed -> completed
UPDATE transactions SET status = 'refunded' WHERE order_number = 'DAILY-O1' AND quantity = 1 AND product_id = 950002
   AND transaction_time = '2020-03-03 23:40Z';
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE completed -> refunded of one of two lines of an order in an hour: exact');
UPDATE transactions SET status = 'completed' WHERE order_number = 'DAILY-O1' AND status = 'pending';
UPDATE transactions SET status = 'completed' WHERE order_number = 'DAILY-O2';
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE pending -> completed, failed -> completed: exact');
UPDATE transactions SET status = 'refunded' WHERE order_number = 'DAILY-O1' AND product_id = 950002
   AND transaction_time >= '2020-03-03 23:00Z' AND transaction_time < '2020-03-04Z';
SELECT is((SELECT orders FROM analytics.product_daily WHERE day = '2020-03-03Z' AND product_id = 950002), 0::bigint,
          'every completed line of the order in the hour refunded: no order');
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of every completed line of an order in an hour: exact');

-- a refund row, an amount / quantity change, a product change, a move across days, an order number change
SELECT pg_temp.line(950001, 1, '2020-03-04 15:00Z', 'refunded', NULL, 'refund') AS l3 \gset
SELECT is(pg_temp.diffs(), 0::bigint, 'a refund row: exact');
UPDATE transactions SET quantity = 9, amount = 22.5 WHERE id = :l1;
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of quantity and amount: exact');
UPDATE transactions SET product_id = 950006 WHERE order_number = 'DAILY-O3' AND product_id = 950005 AND status = 'completed';
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of product_id: exact');
UPDATE transactions SET transaction_time = transaction_time + interval '1 day 3 hours' WHERE order_number = 'DAILY-O3';
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of transaction_time across days: exact');
UPDATE transactions SET order_number = 'DAILY-O4' WHERE id = :l2;
UPDATE transactions SET order_number = NULL WHERE order_number = 'DAILY-O2';
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of order_number (to another order, to none): exact');
UPDATE transactions SET is_suspicious = NOT is_suspicious WHERE customer_id BETWEEN 950001 AND 950005;
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of is_suspicious: exact');
UPDATE transactions SET label = 'fraud', labelled_at = now() WHERE id = :l1;
SELECT is(pg_temp.diffs(), 0::bigint, 'UPDATE of a label (nothing to write): exact');

DELETE FROM transactions WHERE id = :l1;
SELECT is(pg_temp.diffs(), 0::bigint, 'single-row DELETE: exact');
DELETE FROM transactions WHERE order_number = 'DAILY-O1' AND product_id = 950003;
SELECT is(pg_temp.diffs(), 0::bigint, 'DELETE of an order''s line: exact');

-- from here in a session time zone with a DST change inside the lines' days (2020-03-08 in New York): UTC days
-- are 24 hours whatever TimeZone says
SET LOCAL TimeZone = 'America/New_York';
-- a large statement (over 64 lines: the rollups' C path) with orders over several products and hours
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, order_number, is_suspicious)
SELECT 950001 + g % 5, 950001 + g % 6, 1 + g % 3, 2, 'paypal', '2020-03-06Z'::timestamptz + make_interval(mins => g * 17),
       (ARRAY['completed', 'completed', 'pending', 'failed', 'completed'])[1 + g % 5],
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'DAILY-B' || (g % 13) END, g % 7 = 0
  FROM generate_series(1, 300) g;
SELECT is(pg_temp.diffs(), 0::bigint, 'a 300-line INSERT with orders over products, hours and days: exact');
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'refunded' ELSE 'completed' END
 WHERE order_number LIKE 'DAILY-B%' AND product_id IN (950001, 950004);
SELECT is(pg_temp.diffs(), 0::bigint, 'a bulk status UPDATE: exact');
DELETE FROM transactions WHERE order_number IN ('DAILY-B1', 'DAILY-B2') OR (order_number IS NULL AND customer_id = 950003 AND transaction_time >= '2020-03-06Z');
SELECT is(pg_temp.diffs(), 0::bigint, 'a bulk DELETE: exact');

-- the readers as the endpoints call them: the same answers as from the hourly rollups
SELECT is((SELECT array_agg(b.key || ':' || b.revenue || ':' || b.orders || ':' || b.units ORDER BY b.key)
             FROM analytics.breakdown('supplier', '2020-03-02 10:30Z', '2020-03-09 02:00Z') b WHERE b.key::bigint > 950000),
          (SELECT array_agg(x.key || ':' || x.revenue || ':' || x.orders || ':' || x.units ORDER BY x.key) FROM (
             SELECT p.supplier_id::text AS key, sum(h.revenue) AS revenue, sum(h.orders)::bigint AS orders, sum(h.units)::bigint AS units
               FROM pg_temp.hourly('2020-03-02 10:30Z', '2020-03-09 02:00Z') h JOIN products p ON p.id::text = h.key
              WHERE p.supplier_id > 950000 GROUP BY 1) x),
          'breakdown by supplier: the hourly rollups'' figures summed per supplier');
SELECT is((SELECT array_agg(b.key || ':' || b.revenue || ':' || b.orders || ':' || b.units ORDER BY b.revenue DESC, b.orders DESC, b.key)
             FROM analytics.breakdown('product', '2020-03-02 10:30Z', '2020-03-09 02:00Z') b WHERE b.key::bigint > 950000),
          (SELECT array_agg(h.key || ':' || h.revenue || ':' || h.orders || ':' || h.units ORDER BY h.revenue DESC, h.orders DESC, h.key)
             FROM pg_temp.hourly('2020-03-02 10:30Z', '2020-03-09 02:00Z') h WHERE h.key::bigint > 950000 AND (h.transactions <> 0 OR h.revenue <> 0)),
          'breakdown by product: the hourly rollups'' figures, in their order');
SELECT is((SELECT array_agg(tp.product_id || ':' || tp.units ORDER BY tp.rank) FROM analytics.top_products('2020-03-01', '2020-03-08 05:00Z', 100, 'units') tp
            WHERE tp.product_id > 950000),
          (SELECT array_agg(h.key || ':' || h.units ORDER BY h.units DESC, h.revenue DESC, h.key::bigint)
             FROM pg_temp.hourly('2020-03-01', '2020-03-08 05:00Z') h WHERE h.key::bigint > 950000 AND (h.transactions <> 0 OR h.revenue <> 0)),
          'top products by units: the hourly rollups'' figures, in their order');
SELECT is((SELECT units_sold FROM analytics.low_stock('2020-03-08 05:00Z', 7, 100000) WHERE product_id = 950006),
          (SELECT sum(h.units)::bigint FROM pg_temp.hourly('2020-03-01 05:00Z', '2020-03-08 05:00Z') h WHERE h.key = '950006'),
          'low_stock: the units of the hourly rollups over its window');

-- the bulk import (session_replication_role = replica: no trigger fires) rebuilds the imported days
TRUNCATE import.online_retail_raw;
INSERT INTO import.online_retail_raw
SELECT '9952' || lpad(g::text, 2, '0'), 'DAILY-' || (1 + g % 3)::text, 'daily product', (1 + g % 4)::text,
       format('2020-03-%s 1%s:%s:00', lpad((10 + g % 5)::text, 2, '0'), g % 10, lpad(g::text, 2, '0')), '2.5', '99951.0', 'France'
  FROM generate_series(1, 59) g ORDER BY g;
SELECT lives_ok($$SELECT * FROM import.online_retail('daily.csv')$$, 'the bulk import runs');
SELECT is((SELECT count(*) FROM transactions WHERE transaction_time >= '2020-03-10Z' AND transaction_time < '2020-03-15Z'), 59::bigint,
          'the import wrote its lines');
SELECT is(pg_temp.diffs(), 0::bigint, 'after the bulk import: exact');

-- rollup_rebuild leaves the hourly rollups as they were; product_daily_rebuild recomputes the same rows
SELECT analytics.rollup_rebuild('2020-03-01', '2020-04-01') IS NOT NULL AS rebuilt \gset
SELECT analytics.product_daily_rebuild('2020-03-02 12:00Z', '2020-03-06 01:00Z') IS NOT NULL AS rebuilt \gset
SELECT is(pg_temp.diffs(), 0::bigint, 'after rollup_rebuild and product_daily_rebuild: exact');

SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'before TRUNCATE: product_daily exact (the whole table)');
TRUNCATE transactions CASCADE;
SELECT is((SELECT count(*) FROM analytics.product_daily) + (SELECT count(*) FROM analytics.product_units_hourly), 0::bigint,
          'TRUNCATE empties product_daily and product_units_hourly');

SELECT * FROM finish();
ROLLBACK;
