-- pgTAP: the rollup triggers find the orders with lines outside a statement by one probe of
-- analytics.order_registry per order (migrations/deploy/rollup_registry_probe.sql), whatever the
-- registry's statistics say. Before that change the statement joined its orders to the registry, and
-- with the statistics of a nearly empty registry (relpages 1, reltuples 0: autovacuum analysed it just
-- after a TRUNCATE) the planner ran that join as a nested loop over the whole registry per order
-- (bench/RESULTS.md: 7 s for a 10,000-line INSERT). Here the same statistics are forced; the plans of
-- the bulk statements' SQL must probe the registry's primary key per order and never scan it, and bulk
-- inserts, updates and deletes of orders spread over several statements keep the rollups equal to the
-- GROUP BY recomputation. Rows with ids 96xxxx in April 2019 (far from the seed).
BEGIN;
SELECT plan(12);
SET LOCAL techmart.scoring = off;
-- the bulk statements below sell products 1-4 of the seed: enough stock for them (change stock_sales)
UPDATE products SET stock_quantity = 1000000 WHERE id BETWEEN 1 AND 4;

-- the generated SQL
SELECT is((SELECT count(*)::int FROM analytics.rollup_sql
            WHERE step IN ('apply', 'apply_c', 'apply_sql_aggregate')
              AND sql LIKE '%CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r%'
              AND sql LIKE '%WHERE r.order_number = cnt.order_number OFFSET 0) r%'), 3,
          'the templates apply, apply_c and apply_sql_aggregate probe the registry per order (LATERAL, OFFSET 0)');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE oid IN ('analytics.rollup_insert_trigger()'::regprocedure, 'analytics.rollup_update_trigger()'::regprocedure,
                          'analytics.rollup_delete_trigger()'::regprocedure)
              AND prosrc LIKE '%CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r%'), 3,
          'the three trigger functions were generated from them');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE oid IN ('analytics.rollup_insert_trigger()'::regprocedure, 'analytics.rollup_update_trigger()'::regprocedure,
                          'analytics.rollup_delete_trigger()'::regprocedure)
              AND prosrc ~ 'JOIN analytics\.order_registry'), 0,
          'no trigger joins the registry any more');

-- the statistics of a nearly empty registry while it holds thousands of orders (the seed's and these)
INSERT INTO analytics.order_registry (order_number, lines)
SELECT 'PROBE-FILL-' || g, 1 FROM generate_series(1, 20000) g;
UPDATE pg_class SET relpages = 1, reltuples = 0 WHERE oid = 'analytics.order_registry'::regclass;

-- the plans of the bulk statements' SQL (EXPLAIN only) for a transition table of 500 lines
CREATE TEMP TABLE new_rows AS SELECT * FROM transactions ORDER BY id LIMIT 500;
CREATE TEMP TABLE old_rows AS SELECT * FROM new_rows;
CREATE FUNCTION pg_temp.plan_of(p_step text, p_lines text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  q text := format((SELECT sql FROM analytics.rollup_sql WHERE step = p_step),
                   (SELECT sql FROM analytics.rollup_sql WHERE step = p_lines));
  l text;
  out text := '';
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    out := out || l || E'\n';
  END LOOP;
  RETURN out;
END $$;
-- an index condition on the order of the outer row (an index scan, or a bitmap scan with these statistics),
-- no scan of the whole registry (a sequential scan or an index scan without condition, as the old join's)
CREATE FUNCTION pg_temp.probes(p_plan text) RETURNS boolean LANGUAGE sql AS $$
  SELECT p_plan ~ 'order_registry_pkey( on order_registry r_1)?\s+Index Cond: \(order_number = l_1\.order_number\)'
     AND p_plan !~ 'Seq Scan on order_registry' AND p_plan !~ 'Scan using order_registry_pkey on order_registry r\s'
$$;
SELECT ok(pg_temp.probes(pg_temp.plan_of('apply_c', 'lines_insert')),
          'bulk insert, C apply: one index probe of the registry per order, no scan of it');
SELECT ok(pg_temp.probes(pg_temp.plan_of('apply', 'lines_insert')), 'bulk insert, SQL upsert: the same');
SELECT ok(pg_temp.probes(pg_temp.plan_of('apply', 'lines_update')), 'bulk update: the same');
SELECT ok(pg_temp.probes(pg_temp.plan_of('apply', 'lines_delete')), 'bulk delete: the same');
DROP TABLE new_rows, old_rows;

-- bulk statements with these statistics: orders continued over statements, updated, deleted
CREATE FUNCTION pg_temp.batch(p_first bigint, p_n integer, p_from timestamptz, p_orders text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN  -- one INSERT of p_n lines: orders of 1-3 lines, several statuses, refunds, NULL countries and orders
  INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, status, kind,
                            payment_method, platform, order_number, country)
  SELECT p_first + i, 1 + (i * 7) % 40, 1 + i % 4, 1 + i % 5, (i % 97) + 0.125 * (i % 3),
         p_from + (i * 53 % 300) * interval '47 seconds',
         CASE WHEN i % 11 = 0 THEN 'refunded'
              ELSE (ARRAY['completed', 'completed', 'completed', 'blocked', 'failed', 'pending'])[1 + i % 6] END,
         CASE WHEN i % 11 = 0 THEN 'refund' ELSE 'sale' END,
         (ARRAY['paypal', 'credit_card', 'gift_card'])[1 + i % 3], (ARRAY['web', 'ios_app', 'android_app'])[1 + i % 3],
         CASE WHEN i % 5 = 0 THEN NULL ELSE p_orders || (i / 3) END, (ARRAY['GB', 'DE', NULL, 'FR'])[1 + i % 4]
    FROM generate_series(0, p_n - 1) i;
END $$;
SELECT lives_ok($$SELECT pg_temp.batch(960000, 300, '2019-04-01 10:00Z', 'PROBE-A'),
                         pg_temp.batch(961000, 300, '2019-04-01 10:20Z', 'PROBE-A')$$,
                'two bulk inserts, the second continuing the orders of the first');
SELECT is((SELECT count(*)::int FROM analytics.order_registry r WHERE r.order_number LIKE 'PROBE-A%'
             AND r.lines = (SELECT count(*) FROM transactions t WHERE t.order_number = r.order_number)
             AND EXISTS (SELECT 1 FROM transactions t WHERE t.order_number = r.order_number AND t.id < 961000)
             AND EXISTS (SELECT 1 FROM transactions t WHERE t.order_number = r.order_number AND t.id >= 961000)), 100,
          'the 100 orders have lines in both statements, all counted in the registry');
UPDATE transactions SET status = CASE status WHEN 'completed' THEN 'blocked' ELSE 'completed' END
 WHERE id BETWEEN 960000 AND 960299 AND id % 2 = 0 AND kind = 'sale';
DELETE FROM transactions WHERE id BETWEEN 961000 AND 961299 AND id % 3 = 0;
SELECT is_empty($$SELECT * FROM analytics.rollup_check('2019-04-01', '2019-04-03')$$,
                'after the bulk inserts, a bulk update of half the first statement''s lines and a bulk delete of a third '
                'of the second''s: rollups equal to the GROUP BY recomputation');
SELECT is((SELECT count(*)::int FROM analytics.order_registry r WHERE r.order_number LIKE 'PROBE-A%'
             AND r.lines <> (SELECT count(*) FROM transactions t WHERE t.order_number = r.order_number)), 0,
          'the registry equals the lines per order');
SELECT is((SELECT relpages FROM pg_class WHERE oid = 'analytics.order_registry'::regclass), 1,
          'the statements ran with the forced statistics');

SELECT * FROM finish();
ROLLBACK;
