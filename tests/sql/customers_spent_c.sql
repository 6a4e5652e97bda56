-- pgTAP: the C statement triggers of customers.total_spent (migrations/deploy/customers_spent_c.sql,
-- extension/pg/spent_trigger.cpp). tests/sql/customers_spent.sql checks the figures of each kind of
-- write; this file checks what the C version adds or could get wrong: large multi-customer statements,
-- lines moving between customers, sums of zero left alone, the lock-order plan.
-- Customers and products with ids 93xxxx, lines in April 2020 (far from the seed).
BEGIN;
SELECT plan(13);

SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.oid IN ('analytics.customers_spent_insert_trigger()'::regprocedure,
                            'analytics.customers_spent_update_trigger()'::regprocedure,
                            'analytics.customers_spent_delete_trigger()'::regprocedure)
              AND l.lanname = 'c' AND p.prosecdef),
          3, 'the insert, update and delete trigger functions are C, SECURITY DEFINER');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.oid IN ('analytics.customers_spent_insert_trigger()'::regprocedure,
                            'analytics.customers_spent_update_trigger()'::regprocedure,
                            'analytics.customers_spent_delete_trigger()'::regprocedure)
              AND p.proconfig = ARRAY['search_path=public, pg_temp']),
          3, 'each with its search_path fixed (and no planner setting for the whole call: the C code sets them '
             'around its bulk UPDATE only)');

-- the plan of the bulk UPDATE under the settings the C code gives it: a nested loop from the sorted ids
-- into customers_pkey (tests/sql/customers_spent_lock_order.sql checks the lock order itself)
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
PREPARE spent_plan(int8[], numeric[]) AS
  UPDATE public.customers AS c SET total_spent = c.total_spent OPERATOR(pg_catalog.+) d.delta
    FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS d(id, delta)
   WHERE c.id OPERATOR(pg_catalog.=) d.id;
CREATE FUNCTION pg_temp.plan_text(ids int8[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
  out text := '';
BEGIN
  FOR r IN EXECUTE format('EXPLAIN (COSTS OFF) EXECUTE spent_plan(%L, %L)', ids,
                          (SELECT array_agg(1.0) FROM unnest(ids))) LOOP
    out := out || r || E'\n';
  END LOOP;
  RETURN out;
END $$;
SELECT matches(pg_temp.plan_text((SELECT array_agg(g::bigint) FROM generate_series(1, 2000) g)),
               'Nested Loop\s+->\s+Function Scan on d\s+->\s+Index Scan using customers_pkey',
               'the UPDATE of 2,000 customers: nested loop from the ids into customers_pkey');
SELECT matches(pg_temp.plan_text(ARRAY[1::bigint]),
               'Nested Loop\s+->\s+Function Scan on d\s+->\s+Index Scan using customers_pkey',
               'the UPDATE of one customer: the same plan');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_seqscan;
RESET enable_bitmapscan;

CREATE FUNCTION pg_temp.off() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM customers c
   WHERE c.id BETWEEN 930001 AND 930300
     AND c.total_spent <> coalesce((SELECT sum(CASE WHEN t.kind = 'refund' THEN -t.amount
                                                     WHEN t.status = 'completed' THEN t.amount END)
                                      FROM transactions t WHERE t.customer_id = c.id), 0)
$$;

SET LOCAL techmart.scoring = 'off';
INSERT INTO categories (id, name) VALUES (930001, 'spent c cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 930000 + i, 'SPENTC-' || i, 'spent c product ' || i, 930001, 5, 100000 FROM generate_series(1, 3) i;
INSERT INTO customers (id, email, name, country)
SELECT 930000 + i, 'spentc' || i || '@example.com', 'Spent C ' || i, 'GB' FROM generate_series(1, 300) i;

-- one statement, 3,000 lines over 300 customers in a scrambled order, every status, refunds, 3-decimal prices
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, kind)
SELECT 930001 + (i * 7919) % 300, 930001 + i % 3, 1 + i % 4, (i % 97) + 0.125 * (i % 8) + 0.001 * (i % 3), 'paypal',
       '2020-04-01 10:00Z'::timestamptz + i * interval '1 second',
       CASE WHEN i % 11 = 0 THEN 'refunded' ELSE (ARRAY['completed','completed','completed','pending','failed','blocked'])[1 + i % 6] END,
       CASE WHEN i % 11 = 0 THEN 'refund' ELSE 'sale' END
  FROM generate_series(1, 3000) i;
SELECT is(pg_temp.off(), 0::bigint, 'a 3,000-line statement over 300 customers: every total_spent exact');
SELECT ok((SELECT count(*) FROM customers WHERE id BETWEEN 930001 AND 930300 AND total_spent <> 0) > 250,
          'and the statement changed most of them (the test is not vacuous)');

-- lines moving between customers: one UPDATE takes spend from some and gives it to others
UPDATE transactions SET customer_id = 930001 + (customer_id - 930001 + 150) % 300
 WHERE customer_id BETWEEN 930001 AND 930300 AND id % 5 = 0;
SELECT is(pg_temp.off(), 0::bigint, 'an UPDATE moving lines between customers: every total_spent exact');

-- status and amount changes in one UPDATE
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'pending' ELSE 'completed' END,
                        quantity = quantity + 1
 WHERE customer_id BETWEEN 930001 AND 930300 AND kind = 'sale' AND id % 3 = 0;
SELECT is(pg_temp.off(), 0::bigint, 'an UPDATE of statuses and quantities: every total_spent exact');

-- a statement whose lines add nothing leaves the customers' rows alone (no new row version)
CREATE TEMP TABLE before_rows AS SELECT id, ctid AS tid FROM customers WHERE id BETWEEN 930001 AND 930010;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status)
SELECT 930000 + i, 930001, 1, 9.99, 'paypal', '2020-04-02 10:00Z', 'pending' FROM generate_series(1, 10) i;
SELECT is((SELECT count(*)::int FROM customers c JOIN before_rows b USING (id) WHERE c.ctid <> b.tid), 0,
          'pending lines (spend 0): no customer row updated');
-- lines whose spend cancels out within the statement: no update either
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, kind)
VALUES (930001, 930001, 1, 4.5, 'paypal', '2020-04-02 11:00Z', 'completed', 'sale'),
       (930001, 930001, 1, 4.5, 'paypal', '2020-04-02 11:01Z', 'refunded', 'refund');
SELECT is((SELECT count(*)::int FROM customers c JOIN before_rows b USING (id) WHERE c.ctid <> b.tid), 0,
          'a sale and a refund of the same amount in one statement: the customer''s row not updated');
SELECT is(pg_temp.off(), 0::bigint, 'and every total_spent still exact');

-- DELETE of most lines, then of the rest
DELETE FROM transactions WHERE customer_id BETWEEN 930001 AND 930300 AND id % 4 <> 0;
SELECT is(pg_temp.off(), 0::bigint, 'a DELETE of three lines in four: every total_spent exact');
DELETE FROM transactions WHERE customer_id BETWEEN 930001 AND 930300;
SELECT is((SELECT count(*)::int FROM customers WHERE id BETWEEN 930001 AND 930300 AND total_spent <> 0), 0,
          'every line deleted: every total_spent back to 0');

SELECT * FROM finish();
ROLLBACK;
