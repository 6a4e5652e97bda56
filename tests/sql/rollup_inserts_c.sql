-- pgTAP: the INSERT/COPY upkeep of the per-customer monthly rollups and of the per-product daily rollup in C
-- (changes customer_months_insert_c and product_daily_insert_c: extension/pg/months_insert.cpp, daily_insert.cpp)
-- writes what the PL/pgSQL triggers they replace wrote, to the text of every column: the same load (multi-row
-- INSERTs splitting orders between statements and across a month boundary, orders shared by two customers, lines
-- without order number, pending, failed and refunded lines, refund rows, suspicious lines, single-row INSERTs, a
-- COPY-like multi-row VALUES, a line before 2000) runs once through the PL/pgSQL triggers (the trigger of change
-- customer_months calling analytics.customer_months_add, and analytics.product_daily_trigger()), once through the C
-- ones, and the rollup rows of its customers and products are compared; both loads leave the tables exact
-- (customer_months_check(), product_daily_check()). Customers and products 97xxxx, lines in 1999 and in
-- January - March 2020 (far from the seed).
BEGIN;
SELECT plan(8);
SET client_min_messages = warning;
SET LOCAL techmart.scoring = 'off';
SET LOCAL techmart.track_stock = 'off';

SELECT is((SELECT l.lanname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
            WHERE t.tgrelid = 'public.transactions'::regclass AND t.tgname = 'transactions_months_ins'),
          'c', 'transactions_months_ins calls a C function (change customer_months_insert_c)');
SELECT is((SELECT p.oid::regprocedure::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgrelid = 'public.transactions'::regclass AND t.tgname = 'transactions_sales_daily_ins'),
          'analytics.product_daily_insert_trigger()', 'transactions_sales_daily_ins calls the C function (change product_daily_insert_c)');

INSERT INTO categories (id, name) VALUES (970001, 'cins cat');
INSERT INTO suppliers (id, name, country) VALUES (970001, 'cins supplier', 'GB');
INSERT INTO products (id, sku, name, category_id, supplier_id, price, stock_quantity, low_stock_threshold)
SELECT 970000 + i, 'CINS-' || i, 'cins product ' || i, 970001, 970001, 5, 1000, 10 FROM generate_series(1, 7) i;
INSERT INTO customers (id, email, name, country)
SELECT 970000 + i, 'cins' || i || '@example.com', 'Cins ' || i, 'GB' FROM generate_series(1, 9) i;

-- the PL/pgSQL INSERT trigger of change customer_months (as its revert script restores it)
CREATE FUNCTION pg_temp.months_insert_sql() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE a bigint[]; b timestamptz[]; c text[]; d boolean[]; e bigint[]; f numeric[];
BEGIN
  SELECT array_agg(n.customer_id), array_agg(n.transaction_time),
         array_agg(CASE WHEN n.status = 'completed' THEN n.order_number END), array_agg(n.status = 'completed'),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.quantity ELSE n.quantity END::bigint),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.amount::numeric ELSE n.amount::numeric END)
    INTO a, b, c, d, e, f
    FROM new_rows n WHERE n.status = 'completed' OR n.kind = 'refund';
  IF a IS NOT NULL THEN
    PERFORM analytics.customer_months_add(a, b, c, d, e, f);
  END IF;
  RETURN NULL;
END $$;

-- the load (ids from 9,700,000; i = 1..400 multi-row in 4 statements by i % 4, then single rows and a VALUES list)
CREATE TEMP TABLE cins_lines AS
SELECT 9700000 + i AS id, 970001 + (i * 7) % 9 AS customer_id, 970001 + (i * 5) % 7 AS product_id, 1 + i % 4 AS quantity,
       (3 + i % 11) + CASE WHEN i % 3 = 0 THEN 0.5 ELSE 0.25 END AS unit_price,
       CASE WHEN i % 50 = 0 THEN timestamptz '1999-12-31 23:30Z' - i * interval '1 minute'
            ELSE timestamptz '2020-01-30 20:00Z' + (i % 97) * interval '1 hour' + (i % 13) * interval '1 minute' END
         AS transaction_time,
       CASE WHEN i % 9 = 0 THEN 'pending' WHEN i % 11 = 0 THEN 'failed' WHEN i % 13 = 0 THEN 'refunded'
            ELSE 'completed' END AS status,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'CINS-' || (i % 60) END AS order_number,
       (i % 19 = 0) AS is_suspicious,
       i
  FROM generate_series(1, 460) i;
-- refund rows (status refunded, kind refund) of some lines
CREATE FUNCTION pg_temp.load() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR k IN 0..3 LOOP
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                              order_number, is_suspicious, kind)
    SELECT l.id, l.customer_id, l.product_id, l.quantity, l.unit_price, l.transaction_time,
           CASE WHEN l.i % 37 = 0 THEN 'refunded' ELSE l.status END, 'credit_card', l.order_number, l.is_suspicious,
           CASE WHEN l.i % 37 = 0 THEN 'refund' ELSE 'sale' END
      FROM cins_lines l WHERE l.i <= 400 AND l.i % 4 = k ORDER BY l.transaction_time, l.id;
  END LOOP;
  FOR j IN 401..430 LOOP  -- single rows
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                              order_number, is_suspicious)
    SELECT l.id, l.customer_id, l.product_id, l.quantity, l.unit_price, l.transaction_time, l.status, 'credit_card',
           l.order_number, l.is_suspicious
      FROM cins_lines l WHERE l.i = j;
  END LOOP;
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                            order_number, is_suspicious)
  VALUES (9709001, 970001, 970001, 2, 4.125, '2020-02-29 23:59:59.5Z', 'completed', 'credit_card', 'CINS-1', false),
         (9709002, 970002, 970001, 1, 4.125, '2020-03-01 00:00Z', 'completed', 'credit_card', 'CINS-1', true),
         (9709003, 970001, 970002, 3, 7, '2020-01-01 00:00Z', 'completed', 'credit_card', 'CINS-1', false),
         (9709004, 970003, 970003, 1, 1, '2020-02-01 00:00Z', 'pending', 'credit_card', 'CINS-2', false);
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method,
                            order_number, is_suspicious)
  SELECT l.id, l.customer_id, l.product_id, l.quantity, l.unit_price, l.transaction_time, l.status, 'credit_card',
         l.order_number, l.is_suspicious
    FROM cins_lines l WHERE l.i > 430;
END $$;
-- the rollup rows of the test's customers and products, as text
CREATE FUNCTION pg_temp.rows() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT 'm ' || m::text FROM analytics.customer_months m WHERE m.customer_id BETWEEN 970001 AND 970009
  UNION ALL SELECT 't ' || t::text FROM analytics.customer_totals t WHERE t.customer_id BETWEEN 970001 AND 970009
  UNION ALL SELECT 's ' || s::text FROM analytics.customer_order_spans s WHERE s.customer_id BETWEEN 970001 AND 970009
  UNION ALL SELECT 'd ' || d::text FROM analytics.product_daily d
             WHERE d.product_id BETWEEN 970001 AND 970007 AND d.transactions <> 0
  UNION ALL SELECT 'h ' || h::text FROM analytics.product_units_hourly h
             WHERE h.product_id BETWEEN 970001 AND 970007 AND (h.pending_units, h.refund_units) <> (0, 0)
$$;

-- 1. through the PL/pgSQL triggers
CREATE OR REPLACE TRIGGER transactions_months_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.months_insert_sql();
CREATE OR REPLACE TRIGGER transactions_sales_daily_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();
SELECT pg_temp.load();
CREATE TEMP TABLE by_sql AS SELECT * FROM pg_temp.rows();
SELECT is_empty($$SELECT * FROM analytics.customer_months_check()$$, 'the PL/pgSQL INSERT triggers: customer_months exact');
SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'the PL/pgSQL INSERT triggers: product_daily exact');

-- 2. the lines deleted (the DELETE triggers recompute), then the same load through the C triggers
DELETE FROM transactions WHERE id >= 9700000 AND id < 9710000;
CREATE OR REPLACE TRIGGER transactions_months_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customer_months_insert_trigger();
CREATE OR REPLACE TRIGGER transactions_sales_daily_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_insert_trigger();
SELECT is((SELECT count(*)::int FROM pg_temp.rows()), 0, 'the test''s rollup rows gone with its lines');
SELECT pg_temp.load();
SELECT is_empty($$SELECT * FROM analytics.customer_months_check()$$, 'the C INSERT triggers: customer_months exact');
SELECT is_empty($$SELECT * FROM analytics.product_daily_check()$$, 'the C INSERT triggers: product_daily exact');
SELECT results_eq($$SELECT * FROM pg_temp.rows() ORDER BY 1$$, $$SELECT * FROM by_sql ORDER BY 1$$,
                  'the C triggers wrote the PL/pgSQL triggers'' rows, column by column as text');

SELECT * FROM finish();
ROLLBACK;
