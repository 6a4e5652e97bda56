-- pgTAP: analytics.customer_months / customer_order_spans kept exact by the writes to transactions, and
-- analytics.customer_orders (rollup months + edges from transactions) answering as the GROUP BY of every line
-- (migrations/deploy/customer_months.sql). Customers and products 95xxxx, lines in December 2019 - April 2020
-- (far from the seed), orders straddling month boundaries. After every kind of write: the tables equal their
-- recomputation (analytics.customer_months_check()) and customer_orders equals a reference written here (the
-- query of every line, as before the change) over many windows: month starts, mid-month times, the seed's range,
-- -infinity, now().
BEGIN;
SELECT plan(44);

SELECT has_trigger('transactions', t) FROM unnest(ARRAY['transactions_months_ins', 'transactions_months_upd',
                                                         'transactions_months_del', 'transactions_months_trunc']) t;

CREATE FUNCTION pg_temp.ref(p_from timestamptz, p_to timestamptz)
RETURNS TABLE(customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint,
              first_purchase timestamptz, last_purchase timestamptz) LANGUAGE sql AS $$
  SELECT t.customer_id,
         count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
         sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END),
         sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint,
         count(*) FILTER (WHERE t.status = 'completed'),
         min(t.transaction_time) FILTER (WHERE t.status = 'completed'),
         max(t.transaction_time) FILTER (WHERE t.status = 'completed')
    FROM transactions t
   WHERE (t.status = 'completed' OR t.kind = 'refund')
     AND t.transaction_time >= p_from AND t.transaction_time < p_to
   GROUP BY t.customer_id
  HAVING count(*) FILTER (WHERE t.status = 'completed') > 0
$$;
-- the windows: every ordered pair of these times
CREATE FUNCTION pg_temp.times() RETURNS SETOF timestamptz LANGUAGE sql AS $$
  SELECT x::timestamptz FROM unnest(ARRAY['-infinity', '2019-12-20 05:00Z', '2020-01-01Z', '2020-01-17 12:00Z',
    '2020-01-31 23:59:59Z', '2020-02-01Z', '2020-02-01 00:00:30Z', '2020-02-14Z', '2020-03-01Z', '2020-03-02 10:00Z',
    '2020-03-31 18:00Z', '2020-04-01Z', '2020-05-01Z']) x
  UNION ALL
  SELECT x FROM (SELECT min(transaction_time) AS a, max(transaction_time) AS b FROM transactions
                  WHERE transaction_time > '2021-01-01') m,
                LATERAL unnest(ARRAY[m.a, m.a + (m.b - m.a) / 3, m.b - interval '3 days 5 hours', m.b + interval '1 hour',
                                     analytics.utc_month(m.b), now(), now() - interval '30 days',
                                     now() - interval '365 days']) x
   WHERE x IS NOT NULL
$$;
-- windows whose answer differs from the reference (none when exact), as text for the failure's diagnostics
CREATE FUNCTION pg_temp.bad_windows() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(a || ' .. ' || b, '; '), '')
    FROM (SELECT DISTINCT a, b FROM pg_temp.times() a, pg_temp.times() b WHERE a < b) w
   WHERE EXISTS ((SELECT * FROM analytics.customer_orders(w.a, w.b) EXCEPT ALL SELECT * FROM pg_temp.ref(w.a, w.b))
                 UNION ALL
                 (SELECT * FROM pg_temp.ref(w.a, w.b) EXCEPT ALL SELECT * FROM analytics.customer_orders(w.a, w.b)))
$$;
CREATE FUNCTION pg_temp.exact(p_what text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN NEXT is_empty($q$SELECT * FROM analytics.customer_months_check()$q$, p_what || ': the rollup tables equal the recomputation');
  RETURN NEXT is(pg_temp.bad_windows(), '', p_what || ': customer_orders = the GROUP BY of every line over every window');
END $$;

SELECT * FROM pg_temp.exact('seed data');
-- customer_behavior of one customer (its own lines) = its row among all customers
SELECT is((SELECT count(*) FROM (SELECT c.id FROM customers c WHERE c.id IN (SELECT customer_id FROM transactions) ORDER BY c.id LIMIT 25) c
            WHERE (SELECT to_jsonb(b) FROM analytics.customer_behavior(now() - interval '60 days', now(), c.id) b)
                  IS DISTINCT FROM (SELECT to_jsonb(b) FROM analytics.customer_behavior(now() - interval '60 days', now(), NULL, 100000) b
                                     WHERE b.customer_id = c.id)),
          0::bigint, 'customer_behavior of one customer = its row of the all-customers answer (25 customers)');

SET LOCAL techmart.scoring = 'off';
SET LOCAL techmart.track_stock = 'off';
INSERT INTO categories (id, name) VALUES (950001, 'cmonths cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 950000 + i, 'CMON-' || i, 'cmonths product ' || i, 950001, 5, 100000 FROM generate_series(1, 2) i;
INSERT INTO customers (id, email, name, country)
SELECT 950000 + i, 'cmonths' || i || '@example.com', 'Cmonths ' || i, 'GB' FROM generate_series(1, 4) i;

-- 1. single-row INSERT: the last second of January, order CM-1
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, order_number)
VALUES (950001, 950001, 2, 10.5, 'paypal', '2020-01-31 23:59:59.5Z', 'CM-1');
SELECT is((SELECT orders || '/' || lines || '/' || revenue FROM analytics.customer_months
            WHERE customer_id = 950001 AND month = '2020-01-01Z'), '1/1/21.000', 'single-row INSERT: one order, one line, 21.000');
SELECT * FROM pg_temp.exact('single-row INSERT');

-- 2. multi-row INSERT: CM-1 continues in February (straddles the month), lines without an order number, a
-- pending line, a refund row, another customer
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, order_number,
                          status, kind)
VALUES (950001, 950002, 1, 3.25, 'paypal', '2020-02-01 00:00:10Z', 'CM-1', 'completed', 'sale'),
       (950001, 950001, 1, 4, 'paypal', '2020-02-03 10:00Z', NULL, 'completed', 'sale'),
       (950001, 950001, 1, 4, 'paypal', '2020-02-03 10:00Z', NULL, 'completed', 'sale'),
       (950001, 950001, 3, 4, 'paypal', '2020-02-04 10:00Z', 'CM-2', 'pending', 'sale'),
       (950001, 950001, 1, 10.5, 'paypal', '2020-02-10 10:00Z', 'CM-1', 'refunded', 'refund'),
       (950002, 950002, 5, 1.001, 'paypal', '2020-02-14Z', 'CM-3', 'completed', 'sale'),
       (950002, 950002, 1, 2, 'paypal', '2020-03-01 00:00:00.000001Z', 'CM-3', 'completed', 'sale'),
       (950003, 950001, 1, 7, 'paypal', '2019-12-31 23:00Z', 'CM-4', 'completed', 'sale');
SELECT is((SELECT orders FROM analytics.customer_months WHERE customer_id = 950001 AND month = '2020-02-01Z'), 2::bigint,
          'multi-row INSERT: CM-1 counted in January (its first line), February has the two lines without an order');
SELECT is((SELECT count(*)::int FROM analytics.customer_order_spans WHERE customer_id IN (950001, 950002)), 2,
          'multi-row INSERT: CM-1 and CM-3 span two months');
SELECT * FROM pg_temp.exact('multi-row INSERT');

-- 3. COPY
COPY transactions (customer_id, product_id, quantity, unit_price, amount, transaction_time, status, payment_method, order_number, kind) FROM stdin WITH (FORMAT csv);
950003,950001,2,2.5,5,2020-01-15 08:00:00Z,completed,paypal,CM-4,sale
950003,950002,1,9.999,9.999,2020-03-02 09:00:00Z,completed,paypal,CM-5,sale
950003,950002,1,9.999,9.999,2020-03-31 23:59:59Z,completed,paypal,CM-5,sale
950004,950001,4,1,4,2020-04-30 12:00:00Z,completed,paypal,,sale
950004,950001,1,1,1,2020-03-15 12:00:00Z,refunded,paypal,,refund
\.
SELECT * FROM pg_temp.exact('COPY');
-- an INSERT before an order's first line, in an earlier month: the order's month moves (March -> February)
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, order_number)
VALUES (950003, 950002, 1, 2.5, 'paypal', '2020-02-20Z', 'CM-5');
SELECT is((SELECT orders FROM analytics.customer_months WHERE customer_id = 950003 AND month = '2020-02-01Z')
          || '/' || (SELECT orders FROM analytics.customer_months WHERE customer_id = 950003 AND month = '2020-03-01Z'),
          '1/0', 'INSERT before the first line of an order: counted in the earlier month, no longer in the later one');
SELECT * FROM pg_temp.exact('INSERT moving an order''s first month');

-- 4. status updates: pending -> completed (a new order in February), completed -> refunded (CM-4's December line)
UPDATE transactions SET status = 'completed' WHERE order_number = 'CM-2';
UPDATE transactions SET status = 'refunded' WHERE order_number = 'CM-4' AND transaction_time < '2020-01-01Z';
SELECT is((SELECT orders FROM analytics.customer_months WHERE customer_id = 950003 AND month = '2020-01-01Z'), 1::bigint,
          'status update: CM-4''s first completed line is now in January, counted there');
SELECT * FROM pg_temp.exact('status updates');

-- 5. amount, quantity and kind
UPDATE transactions SET quantity = quantity + 1, amount = amount + 1.5 WHERE customer_id = 950002;
UPDATE transactions SET kind = 'refund', status = 'refunded' WHERE customer_id = 950004 AND kind = 'sale';
SELECT * FROM pg_temp.exact('amount, quantity and kind updates');

-- 6. customer_id: a line of CM-1 moves to another customer; back again
UPDATE transactions SET customer_id = 950002 WHERE order_number = 'CM-1' AND transaction_time >= '2020-02-01Z' AND kind = 'sale';
SELECT * FROM pg_temp.exact('customer_id update');
UPDATE transactions SET customer_id = 950001 WHERE order_number = 'CM-1' AND customer_id = 950002;
SELECT * FROM pg_temp.exact('customer_id update back');

-- 7. transaction_time: CM-1's January line moves to March (its first month moves to February), CM-5 into April
UPDATE transactions SET transaction_time = '2020-03-02 10:00Z' WHERE order_number = 'CM-1' AND transaction_time < '2020-02-01Z';
SELECT is((SELECT orders FROM analytics.customer_months WHERE customer_id = 950001 AND month = '2020-01-01Z'), NULL,
          'time update: January has no line of customer 950001 left');
UPDATE transactions SET transaction_time = transaction_time + interval '1 second' WHERE order_number = 'CM-5';
SELECT * FROM pg_temp.exact('transaction_time updates');

-- 8. order_number
UPDATE transactions SET order_number = 'CM-9' WHERE order_number = 'CM-3' AND transaction_time >= '2020-03-01Z';
UPDATE transactions SET order_number = NULL WHERE order_number = 'CM-2';
SELECT * FROM pg_temp.exact('order_number updates');

-- 9. a label or a score only: nothing to do (and still exact)
UPDATE transactions SET fraud_score = 1 WHERE customer_id BETWEEN 950001 AND 950004;
SELECT * FROM pg_temp.exact('score update');

-- 10. DELETE: CM-1's February sale line (the order back to one month), then everything of customer 950003
DELETE FROM transactions WHERE order_number = 'CM-1' AND kind = 'sale' AND transaction_time >= '2020-03-01Z';
DELETE FROM transactions WHERE customer_id = 950003;
SELECT is((SELECT count(*)::int FROM analytics.customer_months WHERE customer_id = 950003), 0,
          'DELETE: no month row left for a customer without lines');
SELECT * FROM pg_temp.exact('DELETE');

-- 11. rebuild: of some customers, of everybody (same rows)
CREATE TEMP TABLE before AS SELECT * FROM analytics.customer_months;
SELECT cmp_ok(analytics.customer_months_rebuild(ARRAY[950001, 950002]::bigint[]), '>', 0::bigint,
              'rebuild of two customers writes their rows');
SELECT cmp_ok(analytics.customer_months_rebuild(), '>', 0::bigint, 'rebuild of every customer');
SELECT set_eq('SELECT * FROM analytics.customer_months', 'SELECT * FROM before', 'rebuild: the same rows as the triggers kept');
SELECT * FROM pg_temp.exact('rebuild');

-- 12. TRUNCATE empties both tables
TRUNCATE transactions CASCADE;
SELECT is((SELECT count(*)::int FROM analytics.customer_months) + (SELECT count(*)::int FROM analytics.customer_order_spans), 0,
          'TRUNCATE empties the rollup tables');

SELECT * FROM finish();
ROLLBACK;
