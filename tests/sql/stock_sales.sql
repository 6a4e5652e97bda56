-- pgTAP: sales move the stock (migrations/deploy/stock_sales.sql, extension/pg/stock_trigger.cpp).
-- A completed or pending sale line takes its quantity from products.stock_quantity, a refund gives it
-- back, a status change or a DELETE moves the difference, one inventory_history row per product per
-- statement; not enough stock fails the statement with 23S01 and writes nothing; techmart.track_stock
-- = off moves nothing. Products and customers with ids 94xxxx, lines in May 2020 (far from the seed).
BEGIN;
SELECT plan(54);

SELECT is((SELECT count(*)::int FROM pg_trigger t
            WHERE t.tgrelid = 'public.transactions'::regclass AND t.tgfoid = 'analytics.stock_trigger()'::regprocedure
              AND t.tgname IN ('transactions_stock_ins', 'transactions_stock_upd', 'transactions_stock_del')),
          3, 'the INSERT, UPDATE and DELETE statement triggers on transactions');
SELECT is((SELECT l.lanname || ' ' || p.prosecdef FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.oid = 'analytics.stock_trigger()'::regprocedure), 'c true',
          'analytics.stock_trigger() is C, SECURITY DEFINER');
SELECT is((SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgrelid = 'products'::regclass AND t.tgname = 'products_rollup_category'),
          'CREATE TRIGGER products_rollup_category AFTER UPDATE OF category_id ON public.products FOR EACH ROW '
          'WHEN ((old.category_id IS DISTINCT FROM new.category_id)) EXECUTE FUNCTION analytics.rollup_product_category_row_trigger()',
          'the category trigger of products fires only for a category change (not for the stock UPDATE of every sale)');
SELECT techmart.version() AS techmart_version \gset
SELECT is(current_setting('techmart.track_stock'), 'on', 'techmart.track_stock is on by default');

SET LOCAL techmart.scoring = 'off';
INSERT INTO categories (id, name) VALUES (940001, 'stock sales cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity, low_stock_threshold)
SELECT 940000 + i, 'STOCK-' || i, 'stock product ' || i, 940001, 5, 100, 10 FROM generate_series(1, 23) i;
INSERT INTO customers (id, email, name, country)
SELECT 940000 + i, 'stock' || i || '@example.com', 'Stock ' || i, 'GB' FROM generate_series(1, 10) i;

CREATE FUNCTION pg_temp.stock(p bigint) RETURNS integer LANGUAGE sql AS
  $$ SELECT stock_quantity FROM products WHERE id = p $$;
CREATE FUNCTION pg_temp.hist(p bigint) RETURNS bigint LANGUAGE sql AS
  $$ SELECT count(*) FROM inventory_history WHERE product_id = p $$;
CREATE FUNCTION pg_temp.last(p bigint) RETURNS inventory_history LANGUAGE sql AS
  $$ SELECT h FROM inventory_history h WHERE h.product_id = p ORDER BY h.id DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.sale(p bigint, q integer, s text DEFAULT 'completed', k text DEFAULT 'sale') RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, kind)
  VALUES (940001, p, q, 5, 'paypal', '2020-05-01 10:00Z', s, k) RETURNING id
$$;

-- ---------------------------------------------------------------- single lines
SELECT pg_temp.sale(940001, 5) AS t1 \gset
SELECT is(pg_temp.stock(940001), 95, 'a completed sale of 5 takes 5 units (100 -> 95)');
SELECT is((SELECT row(h.previous_quantity, h.new_quantity, h.change, h.reason, h.note, h.changed_by)::text
             FROM pg_temp.last(940001) h),
          row(100, 95, -5, 'sale', 'transaction ' || :t1 || ' (insert)', session_user::text)::text,
          'one history row: 100 -> 95, reason sale, the transaction named, by the session''s user');
SELECT pg_temp.sale(940002, 3, 'pending') AS t2 \gset
SELECT is(pg_temp.stock(940002), 97, 'a pending sale takes its units too');
SELECT pg_temp.sale(940003, 4, 'failed') AS t3 \gset
SELECT pg_temp.sale(940003, 6, 'blocked') AS t3b \gset
SELECT is(pg_temp.stock(940003), 100, 'failed and blocked sales take nothing');
SELECT is(pg_temp.hist(940003), 0::bigint, 'and write no history');

-- status changes (PATCH /transactions/{id} is an UPDATE of status)
UPDATE transactions SET status = 'refunded' WHERE id = :t1;
SELECT is(pg_temp.stock(940001), 100, 'completed -> refunded gives the 5 units back');
SELECT is((SELECT row(h.previous_quantity, h.new_quantity, h.reason, h.note)::text FROM pg_temp.last(940001) h),
          row(95, 100, 'return', 'transaction ' || :t1 || ' (update)')::text, 'history: 95 -> 100, reason return');
UPDATE transactions SET status = 'completed' WHERE id = :t2;
SELECT is(pg_temp.stock(940002), 97, 'pending -> completed moves nothing (the units were already taken)');
SELECT is(pg_temp.hist(940002), 1::bigint, 'and writes no history row');
UPDATE transactions SET status = 'failed' WHERE id = :t2;
SELECT is(pg_temp.stock(940002), 100, 'completed -> failed gives the units back');
SELECT is((pg_temp.last(940002)).reason, 'adjustment', 'reason adjustment (not a customer''s return)');
UPDATE transactions SET status = 'completed' WHERE id = :t3;
SELECT is(pg_temp.stock(940003), 96, 'failed -> completed takes the units');
SELECT is((pg_temp.last(940003)).reason, 'sale', 'reason sale');
UPDATE transactions SET status = 'blocked' WHERE id = :t3;
SELECT is(pg_temp.stock(940003), 100, 'completed -> blocked (an analyst stops a fraud) gives them back');
UPDATE transactions SET label = 'legitimate', labelled_at = now() WHERE id = :t3b;
SELECT is(pg_temp.hist(940003), 2::bigint, 'an UPDATE of other columns writes no history');

-- quantity and product changes of a line
SELECT pg_temp.sale(940004, 2) AS t4 \gset
UPDATE transactions SET quantity = 7 WHERE id = :t4;
SELECT is(pg_temp.stock(940004), 93, 'a completed line''s quantity 2 -> 7 takes 5 more');
UPDATE transactions SET product_id = 940005 WHERE id = :t4;
SELECT is(ARRAY[pg_temp.stock(940004), pg_temp.stock(940005)], ARRAY[100, 93],
          'a line moved to another product: the first gets its units back, the second gives them');

-- refund rows (the Online Retail import's negative quantities: kind refund, status refunded)
SELECT pg_temp.sale(940006, 4, 'refunded', 'refund') AS t6 \gset
SELECT is(pg_temp.stock(940006), 104, 'a refund row of 4 gives 4 units back');
SELECT is((pg_temp.last(940006)).reason, 'return', 'reason return');

-- DELETE
SELECT pg_temp.sale(940007, 8) AS t7 \gset
DELETE FROM transactions WHERE id = :t7;
SELECT is(pg_temp.stock(940007), 100, 'DELETE of a completed line gives its units back');
SELECT is((SELECT row(h.change, h.reason, h.note)::text FROM pg_temp.last(940007) h),
          row(8, 'adjustment', 'transaction ' || :t7 || ' (delete)')::text, 'history: +8, adjustment, the line named');
DELETE FROM transactions WHERE id = :t3b;
SELECT is(pg_temp.hist(940003), 2::bigint, 'DELETE of a blocked line: nothing moves, no history row');
DELETE FROM transactions WHERE id = :t6;
SELECT is(pg_temp.stock(940006), 100, 'DELETE of a refund row takes its units again');

-- --------------------------------------------------------- multi-row statements
-- 12 products (more than the 8 updated one by one: one UPDATE ... FROM unnest), lines in a scrambled order,
-- every status, refund rows
CREATE TEMP TABLE st_before AS SELECT id, stock_quantity FROM products WHERE id BETWEEN 940008 AND 940019;
CREATE TEMP TABLE st_hist AS SELECT coalesce(max(id), 0) AS max_id FROM inventory_history;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time, status, kind)
SELECT 940001 + i % 10, 940008 + (i * 7) % 12, 1 + i % 3, 5, 'paypal', '2020-05-02 10:00Z',
       CASE WHEN i % 11 = 0 THEN 'refunded' ELSE (ARRAY['completed','completed','pending','failed','blocked'])[1 + i % 5] END,
       CASE WHEN i % 11 = 0 THEN 'refund' ELSE 'sale' END
  FROM generate_series(1, 120) i;
CREATE FUNCTION pg_temp.stock_off() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM products p JOIN st_before b USING (id)
   WHERE p.stock_quantity <> b.stock_quantity - coalesce((SELECT sum(analytics.line_units(t.kind, t.status, t.quantity))
                                                            FROM transactions t WHERE t.product_id = p.id), 0)
$$;
SELECT is(pg_temp.stock_off(), 0::bigint, 'a 120-line statement over 12 products: every stock exact');
SELECT is((SELECT count(*)::int FROM inventory_history h WHERE h.id > (SELECT max_id FROM st_hist)), 12,
          'one history row per product for the statement');
SELECT is((SELECT count(*)::int FROM inventory_history h JOIN st_before b ON b.id = h.product_id
            WHERE h.id > (SELECT max_id FROM st_hist) AND h.previous_quantity = b.stock_quantity
              AND h.new_quantity = (SELECT stock_quantity FROM products WHERE id = h.product_id)
              AND h.note ~ '^\d+ transactions, ids \d+\.\.\d+ \(insert\)$'),
          12, 'each: previous = the stock before, new = the stock after, a note naming the lines');
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'refunded' WHEN 'failed' THEN 'completed' ELSE status END
 WHERE product_id BETWEEN 940008 AND 940019 AND kind = 'sale';
SELECT is(pg_temp.stock_off(), 0::bigint, 'a multi-line UPDATE of statuses: every stock exact');
DELETE FROM transactions WHERE product_id BETWEEN 940008 AND 940019 AND id % 3 = 0;
SELECT is(pg_temp.stock_off(), 0::bigint, 'a multi-line DELETE: every stock exact');
UPDATE products SET category_id = NULL WHERE id IN (940008, 940009);
SELECT is((SELECT count(*)::int FROM analytics.rollup_check('2020-05-01', '2020-05-04')), 0,
          'two products moved out of their category in one statement: the category rollups still exact');

-- the plan of the many-products UPDATE under the settings the C code gives it: a nested loop from the
-- sorted ids into products_pkey (rows locked in id order)
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
PREPARE stock_plan(int8[], int8[], text[], text[], text) AS
  WITH u AS (UPDATE public.products AS p SET stock_quantity = p.stock_quantity OPERATOR(pg_catalog.+) d.change,
                    updated_at = pg_catalog.now()
               FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4))
                    AS d(id, change, reason, note)
              WHERE p.id OPERATOR(pg_catalog.=) d.id AND p.stock_quantity OPERATOR(pg_catalog.+) d.change OPERATOR(pg_catalog.>=) 0
             RETURNING p.id, p.stock_quantity, d.change, d.reason, d.note)
  INSERT INTO public.inventory_history (product_id, previous_quantity, new_quantity, reason, note, changed_at, changed_by)
  SELECT u.id, u.stock_quantity OPERATOR(pg_catalog.-) u.change, u.stock_quantity, u.reason, u.note, pg_catalog.clock_timestamp(), $5
    FROM u RETURNING product_id;
CREATE FUNCTION pg_temp.plan_text(ids int8[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
  out text := '';
BEGIN
  FOR r IN EXECUTE format('EXPLAIN (COSTS OFF) EXECUTE stock_plan(%L, %L, %L, %L, %L)', ids,
                          (SELECT array_agg(0::bigint) FROM unnest(ids)), (SELECT array_agg('sale'::text) FROM unnest(ids)),
                          (SELECT array_agg('note'::text) FROM unnest(ids)), 'me') LOOP
    out := out || r || E'\n';
  END LOOP;
  RETURN out;
END $$;
SELECT matches(pg_temp.plan_text((SELECT array_agg(g::bigint) FROM generate_series(1, 500) g)),
               'Nested Loop\s+->\s+Function Scan on d\s+->\s+Index Scan using products_pkey',
               'the statement for 500 products: its UPDATE a nested loop from the ids into products_pkey');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- ------------------------------------------------------------ not enough stock
UPDATE products SET stock_quantity = 3 WHERE id = 940010;
CREATE TEMP TABLE ns_before AS
SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM inventory_history) AS hist,
       (SELECT array_agg(stock_quantity ORDER BY id) FROM products WHERE id BETWEEN 940001 AND 940020) AS stocks,
       (SELECT total_spent FROM customers WHERE id = 940001) AS spent;
CREATE FUNCTION pg_temp.unchanged() RETURNS boolean LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM transactions) = b.tx AND (SELECT count(*) FROM inventory_history) = b.hist
     AND (SELECT array_agg(stock_quantity ORDER BY id) FROM products WHERE id BETWEEN 940001 AND 940020) = b.stocks
     AND (SELECT total_spent FROM customers WHERE id = 940001) = b.spent
    FROM ns_before b
$$;
SELECT throws_ok($$ SELECT pg_temp.sale(940010, 4) $$, '23S01',
                 'insufficient stock for product 940010 (STOCK-10): 3 in stock, 4 wanted',
                 'a sale of 4 with 3 in stock: SQLSTATE 23S01 naming the product, the stock and the quantity wanted');
SELECT ok(pg_temp.unchanged(), 'nothing written: no transaction, no history, no stock or total_spent moved');
SELECT throws_ok($$ INSERT INTO transactions (customer_id, product_id, quantity, unit_price, payment_method, transaction_time)
                    SELECT 940001, 940001 + i % 20, 2, 5, 'paypal', '2020-05-03 10:00Z' FROM generate_series(0, 59) i $$,
                 '23S01', NULL, 'a 60-line statement over 20 products, one of which (3 units, 3 lines of 2) is short: 23S01');
SELECT ok(pg_temp.unchanged(), 'nothing written by it either (the other 19 products'' stock included)');
SELECT lives_ok($$ SELECT pg_temp.sale(940010, 3) $$, 'a sale of exactly the stock left passes');
SELECT is(pg_temp.stock(940010), 0, 'and leaves 0');
SELECT pg_temp.sale(940011, 1, 'refunded') AS t11 \gset
UPDATE products SET stock_quantity = 0 WHERE id = 940011;
SELECT throws_ok($$ UPDATE transactions SET status = 'completed' WHERE id = $$ || :t11, '23S01', NULL,
                 'a status change that needs units the product no longer has: 23S01');
SELECT is((SELECT status FROM transactions WHERE id = :t11), 'refunded', 'and the line keeps its status');

-- ---------------------------------------------------------------- the switch
SET LOCAL techmart.track_stock = off;
SELECT pg_temp.sale(940021, 50) AS t12 \gset
SELECT is(ARRAY[pg_temp.stock(940021)::bigint, pg_temp.hist(940021)], ARRAY[100, 0]::bigint[],
          'techmart.track_stock = off: a sale moves nothing and writes no history (a historical load)');
SELECT lives_ok($$ SELECT pg_temp.sale(940010, 500) $$, 'nor is it refused for want of stock');
RESET techmart.track_stock;
SELECT pg_temp.sale(940021, 1);
SELECT is(pg_temp.stock(940021), 99, 'on again: the next sale takes its units');

-- --------------------------------------------------------------- who changed it
SET LOCAL techmart.actor = 'user:7:clerk@example.com';
SELECT pg_temp.sale(940022, 2);
SELECT is((pg_temp.last(940022)).changed_by, 'user:7:clerk@example.com', 'changed_by = techmart.actor when set');
RESET techmart.actor;
SELECT pg_temp.sale(940022, 1) AS t22 \gset
SELECT is((pg_temp.last(940022)).changed_by, session_user::text, 'else the session''s user');
SELECT ok((api.update_transaction(:t22, '{"status": "refunded"}', 'user:9:analyst@example.com')) IS NOT NULL,
          'PATCH /transactions/{id} (api.update_transaction) refunds the line');
SELECT is((SELECT row(h.change, h.reason, h.changed_by)::text FROM pg_temp.last(940022) h),
          row(1, 'return', 'user:9:analyst@example.com')::text,
          'its history row: +1, return, by the API''s user');

-- ----------------------------------------------- stock at a past time, low stock
-- every history row of the test products: the stock just before it was its previous quantity, the stock at
-- its time its new quantity (analytics.stock_at subtracts the history after as_of: right with sale rows)
SELECT is((SELECT count(*)::int FROM inventory_history h
            WHERE h.product_id BETWEEN 940001 AND 940023 AND h.product_id NOT IN (940010, 940011)  -- (set directly)
              AND ((SELECT s.stock FROM analytics.stock_at(h.changed_at - interval '1 microsecond') s WHERE s.product_id = h.product_id)
                     <> h.previous_quantity
                OR (SELECT s.stock FROM analytics.stock_at(h.changed_at) s WHERE s.product_id = h.product_id) <> h.new_quantity)),
          0, 'analytics.stock_at() before and at every history row = its previous and new quantity');
SELECT ok((SELECT count(*) FROM inventory_history WHERE product_id BETWEEN 940001 AND 940023) > 40,
          'over the history of this file (not vacuous)');
SELECT is((SELECT is_low_stock FROM bi.products WHERE id = 940023), false, 'a product with 100 units is not low');
SELECT pg_temp.sale(940023, 91);
SELECT is((SELECT is_low_stock FROM bi.products WHERE id = 940023), true, 'after selling 91 (9 left, threshold 10) it is');
-- (as of the clock: now() is this test transaction's start, before the sale's changed_at)
SELECT ok(940023 IN (SELECT product_id FROM analytics.low_stock(clock_timestamp(), 28, 14)), 'and on the low-stock list');

SELECT * FROM finish();
ROLLBACK;
