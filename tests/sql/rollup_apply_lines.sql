-- pgTAP: analytics.rollup_apply(slot, cursor) (migrations/deploy/rollup_apply_lines.sql, C in
-- extension/pg/rollup_deltas.cpp): the line versions read from an open cursor give the same buckets
-- as rollup_apply(slot, the 15 arrays) of the same lines; it declines (-1, the cursor unread) where
-- rollup_apply declines; a cursor of another shape, an unknown or a NULL cursor is an error; the
-- insert trigger of a bulk statement goes through it (and through the SQL upsert when it declines),
-- exact. Rows with ids 95xxxx in September 2019 (far from the seed).
BEGIN;
SELECT plan(18);
SET LOCAL techmart.scoring = off;

SELECT has_function('analytics', 'rollup_apply', ARRAY['smallint', 'refcursor'], 'rollup_apply(slot, cursor) exists');
SELECT is(has_function_privilege('techmart_api', 'analytics.rollup_apply(smallint, refcursor)', 'EXECUTE'), false,
          'rollup_apply(slot, cursor) is not executable by the API role');
SELECT is((SELECT count(*) FROM analytics.rollup_sql WHERE step = 'lines_c' AND sql NOT LIKE '%array_agg%'), 1::bigint,
          'template lines_c: the line versions without array_agg');
SELECT ok((SELECT prosrc LIKE '%OPEN lines FOR EXECUTE%' FROM pg_proc
            WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure),
          'the insert trigger opens its lines as a cursor');

-- 300 line versions (every status, refunds, NULL keys, orders of 1-3 lines, signs +1 / -1 / 0)
-- over six hours
CREATE TEMP TABLE lv AS
SELECT (ARRAY[1, 1, 1, -1, 0])[1 + i % 5] AS sign, 950000 + i::bigint AS id,
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'LINES-' || (i / 3) END AS order_number,
       timestamptz '2019-09-01 08:00Z' + i * interval '71 seconds' AS transaction_time,
       (ARRAY['completed', 'completed', 'refunded', 'blocked', 'failed', 'pending'])[1 + i % 6] AS status,
       ((i % 89) + 0.25 * (i % 4))::numeric AS amount, 1 + i % 4 AS quantity, i % 9 = 0 AS is_suspicious,
       CASE WHEN i % 13 = 0 THEN 'refund' ELSE 'sale' END AS kind, (950001 + i % 7)::text AS product,
       CASE WHEN i % 7 = 3 THEN NULL ELSE (950001 + i % 2)::text END AS category,
       (ARRAY['GB', 'DE', NULL, 'FR'])[1 + i % 4] AS country, (ARRAY['web', 'ios_app'])[1 + i % 2] AS platform,
       (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3] AS payment_method,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 950000 + (i * 7) % 50 END::bigint AS customer_id
  FROM generate_series(0, 299) i;
CREATE FUNCTION pg_temp.slot_rows(p_slot smallint) RETURNS TABLE (r text) LANGUAGE sql AS $$
  SELECT concat_ws('|', dim, hour, key, revenue, orders, units, transactions, completed, refunded,
                   refunded_amount, blocked, failed, pending, suspicious, encode(customers_hll, 'hex'))
    FROM analytics.sales_hourly WHERE hour >= '2019-09-01' AND hour < '2019-09-02' AND slot = p_slot
$$;

SELECT is((SELECT analytics.rollup_apply(6::smallint, array_agg(sign), array_agg(id), array_agg(order_number),
                                         array_agg(transaction_time), array_agg(status), array_agg(amount),
                                         array_agg(quantity), array_agg(is_suspicious), array_agg(kind),
                                         array_agg(product), array_agg(category), array_agg(country),
                                         array_agg(platform), array_agg(payment_method), array_agg(customer_id))
             FROM lv),
          (SELECT count(*) FROM (SELECT array_agg(sign) s, array_agg(id) i, array_agg(order_number) o,
                                        array_agg(transaction_time) t, array_agg(status) st, array_agg(amount) a,
                                        array_agg(quantity) q, array_agg(is_suspicious) su, array_agg(kind) k,
                                        array_agg(product) p, array_agg(category) c, array_agg(country) co,
                                        array_agg(platform) pl, array_agg(payment_method) pm, array_agg(customer_id) cu
                                   FROM lv) x,
                  analytics.rollup_deltas(s, i, o, t, st, a, q, su, k, p, c, co, pl, pm, cu)),
          'rollup_apply(slot 6, the arrays): one bucket per delta');
DECLARE lv_cur NO SCROLL CURSOR FOR SELECT * FROM lv;
SELECT is(analytics.rollup_apply(5::smallint, 'lv_cur'), (SELECT count(*) FROM pg_temp.slot_rows(6::smallint)),
          'rollup_apply(slot 5, cursor): as many buckets');
CLOSE lv_cur;
SELECT is_empty($$SELECT * FROM pg_temp.slot_rows(5::smallint) EXCEPT SELECT * FROM pg_temp.slot_rows(6::smallint)$$,
                'cursor and arrays: the same rows (metrics as text, sketch bytes)');
SELECT is_empty($$SELECT * FROM pg_temp.slot_rows(6::smallint) EXCEPT SELECT * FROM pg_temp.slot_rows(5::smallint)$$,
                'and the other way round');
-- the same lines again through the cursor: every bucket exists now (probe, lock, update): twice the arrays' rows
DECLARE lv_cur NO SCROLL CURSOR FOR SELECT * FROM lv;
SELECT is(analytics.rollup_apply(5::smallint, 'lv_cur'), (SELECT count(*) FROM pg_temp.slot_rows(6::smallint)),
          'the same lines again through the cursor: as many buckets');
CLOSE lv_cur;
SELECT is((SELECT string_agg(r, ',' ORDER BY r) FROM pg_temp.slot_rows(5::smallint)),
          (SELECT string_agg(r, ',' ORDER BY r) FROM (
             SELECT concat_ws('|', dim, hour, key, 2 * revenue, 2 * orders, 2 * units, 2 * transactions, 2 * completed,
                              2 * refunded, 2 * refunded_amount, 2 * blocked, 2 * failed, 2 * pending, 2 * suspicious,
                              encode(customers_hll, 'hex')) r
               FROM analytics.sales_hourly WHERE hour >= '2019-09-01' AND hour < '2019-09-02' AND slot = 6) x),
          'the same lines again through the cursor: existing buckets updated (sums doubled, same sketches)');

-- errors
DECLARE bad_cur NO SCROLL CURSOR FOR SELECT sign, id FROM lv;
SELECT throws_ok($$SELECT analytics.rollup_apply(5::smallint, 'bad_cur')$$, '42804', NULL,
                 'a cursor of another shape: datatype_mismatch');
SELECT throws_ok($$SELECT analytics.rollup_apply(5::smallint, 'no_such_cursor')$$, '34000', NULL,
                 'an unknown cursor: invalid_cursor_name');
SELECT throws_ok($$SELECT analytics.rollup_apply(5::smallint, NULL::refcursor)$$, '22004', NULL,
                 'a NULL cursor: null_value_not_allowed');

-- declines: another CHECK constraint on the table (the SQL upsert runs instead); the cursor is left unread
ALTER TABLE analytics.sales_hourly ADD CONSTRAINT sales_hourly_test_only CHECK (orders > -1000000000);
DECLARE lv_cur2 NO SCROLL CURSOR FOR SELECT id FROM lv ORDER BY id;
SELECT is(analytics.rollup_apply(5::smallint, 'lv_cur2'), -1::bigint,
          'rollup_apply(slot, cursor) declines a table with another CHECK constraint');
CREATE FUNCTION pg_temp.fetch_id(p refcursor) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FETCH p INTO r;
  RETURN r.id;
END $$;
SELECT is(pg_temp.fetch_id('lv_cur2'), 950000::bigint, 'declined: the cursor left unread');
CLOSE lv_cur2;

-- the insert trigger of bulk statements: through the cursor, then declined (SQL upsert), both exact
INSERT INTO categories (id, name) VALUES (950001, 'lines cat A'), (950002, 'lines cat B');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity)
SELECT 950000 + i, 'LINES-' || i, 'lines p' || i, 950001 + i % 2, 1 + i, 100 FROM generate_series(1, 7) i;
INSERT INTO customers (id, email, name, country)
SELECT 950000 + i, 'lines' || i || '@example.com', 'Lines ' || i, 'GB' FROM generate_series(1, 50) i;
CREATE FUNCTION pg_temp.load(p_first bigint, p_from timestamptz) RETURNS void LANGUAGE sql AS $$
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, kind,
                            payment_method, platform, order_number, country)
  SELECT p_first + i, 950001 + (i * 7) % 50, 950001 + i % 7, 1 + i % 4, (i % 89) + 0.25 * (i % 4),
         p_from + i * interval '71 seconds',
         CASE WHEN i % 13 = 0 THEN 'refunded'
              ELSE (ARRAY['completed', 'completed', 'refunded', 'blocked', 'failed', 'pending'])[1 + i % 6] END,
         CASE WHEN i % 13 = 0 THEN 'refund' ELSE 'sale' END, (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3],
         (ARRAY['web', 'ios_app'])[1 + i % 2], CASE WHEN i % 4 = 0 THEN NULL ELSE 'LINES-' || p_first || '-' || (i / 3) END,
         (ARRAY['GB', 'DE', NULL, 'FR'])[1 + i % 4]
    FROM generate_series(0, 199) i
$$;
SELECT pg_temp.load(951000, '2019-09-03 08:00Z');  -- declined by the CHECK: the SQL upsert
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-09-03', '2019-09-04')$$,
                'a bulk statement the C apply declines (SQL upsert in the trigger): rollups exact');
ALTER TABLE analytics.sales_hourly DROP CONSTRAINT sales_hourly_test_only;
SELECT pg_temp.load(952000, '2019-09-03 09:00Z');  -- through the cursor (hours with rows and new ones)
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-09-03', '2019-09-04')$$,
                'bulk statements through the SQL upsert and through the cursor: rollups exact');
SELECT ok((SELECT count(*) > 0 FROM analytics.sales_hourly
            WHERE hour >= '2019-09-03 12:00Z' AND hour < '2019-09-04' AND xmin <> xid(pg_current_xact_id())),
          'through the cursor: buckets written in the C apply''s subtransaction');

SELECT * FROM finish();
ROLLBACK;
