-- pgTAP: analytics.rollup_rebuild() recounts the order registry of the rebuilt range
-- (migrations/deploy/rollup_rebuild_registry_range.sql): by one probe of transactions_order_idx per order
-- when the range has few orders for the size of transactions (its leaves' reltuples; forced here), else by the two
-- statements joining the range's orders with every line as before (reltuples -1: never analysed). Both
-- give every order with lines in the range its number of lines anywhere — orders with lines outside the
-- range too — and leave the other orders' rows alone. Orders 'RRG-*' in March 2019 (far from the seed).
BEGIN;
SELECT plan(8);
SET LOCAL techmart.scoring = off;

INSERT INTO categories (id, name) VALUES (950001, 'registry cat');
INSERT INTO products (id, sku, name, category_id, price, stock_quantity) VALUES (950001, 'RRG-1', 'registry p', 950001, 10, 100);
INSERT INTO customers (id, email, name, country) VALUES (950001, 'rrg@example.com', 'Registry', 'GB');
-- 30 orders of 1-4 lines on 2019-03-10; orders RRG-0 .. RRG-4 have one more line on 2019-03-20 (outside the
-- range rebuilt below)
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, payment_method, order_number)
SELECT 950000 + g, 950001, 950001, 1, 10, timestamptz '2019-03-10 10:00Z' + g * interval '1 minute', 'paypal', 'RRG-' || (g % 30)
  FROM generate_series(1, 75) g;
INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, transaction_time, payment_method, order_number)
SELECT 950100 + g, 950001, 950001, 1, 10, timestamptz '2019-03-20 10:00Z', 'paypal', 'RRG-' || g FROM generate_series(0, 4) g;
CREATE TEMP VIEW expected AS
SELECT t.order_number, count(*) AS lines FROM transactions t WHERE t.order_number LIKE 'RRG-%' GROUP BY 1;
CREATE FUNCTION pg_temp.spoil() RETURNS void LANGUAGE sql AS $$
  UPDATE analytics.order_registry SET lines = 999 WHERE order_number LIKE 'RRG-%' AND order_number <> 'RRG-GONE';
  DELETE FROM analytics.order_registry WHERE order_number IN ('RRG-7', 'RRG-8');
  INSERT INTO analytics.order_registry (order_number, lines) VALUES ('RRG-GONE', 3) ON CONFLICT DO NOTHING;
$$;

-- probe path: transactions looks large. Its size is the sum of its leaves' estimates (change
-- rollup_rebuild_registry_partitions): on a partitioned transactions (tests/partitioned) the parent's own
-- estimate stays -1 — autovacuum never analyses a partitioned parent — and must not decide
UPDATE pg_class SET reltuples = CASE WHEN relkind = 'p' THEN -1 ELSE 1e7 END
 WHERE oid = 'public.transactions'::regclass OR oid IN (SELECT relid FROM pg_partition_tree('public.transactions'::regclass));
SELECT pg_temp.spoil();
CREATE TEMP TABLE scans0 AS
SELECT pg_stat_get_xact_tuples_deleted('analytics.order_registry'::regclass) AS del;
SELECT cmp_ok(analytics.rollup_rebuild('2019-03-10', '2019-03-11'), '>', 0::bigint, 'rebuild of 2019-03-10 (probe path)');
SELECT set_eq($$SELECT order_number, lines FROM analytics.order_registry WHERE order_number LIKE 'RRG-%' AND order_number <> 'RRG-GONE'$$,
              $$SELECT order_number, lines FROM expected$$,
              'probe path: every order of the range has its lines anywhere (those outside the range counted, missing rows added)');
SELECT is(pg_stat_get_xact_tuples_deleted('analytics.order_registry'::regclass) - (SELECT del FROM scans0), 0::bigint,
          'probe path taken: the registry rows updated in place, not deleted first as by the join path');
SELECT is((SELECT lines FROM analytics.order_registry WHERE order_number = 'RRG-GONE'), 3::bigint,
          'probe path: an order without lines in the range is left alone');

-- the statements of before: transactions never analysed
UPDATE pg_class SET reltuples = -1 WHERE oid = 'public.transactions'::regclass OR oid IN (SELECT relid FROM pg_partition_tree('public.transactions'::regclass));
SELECT pg_temp.spoil();
UPDATE scans0 SET del = pg_stat_get_xact_tuples_deleted('analytics.order_registry'::regclass);
SELECT cmp_ok(analytics.rollup_rebuild('2019-03-10', '2019-03-11'), '>', 0::bigint, 'rebuild of 2019-03-10 (join path)');
SELECT cmp_ok(pg_stat_get_xact_tuples_deleted('analytics.order_registry'::regclass) - (SELECT del FROM scans0), '>', 0::bigint,
              'join path taken: the range''s registry rows deleted, then inserted');
SELECT set_eq($$SELECT order_number, lines FROM analytics.order_registry WHERE order_number LIKE 'RRG-%' AND order_number <> 'RRG-GONE'$$,
              $$SELECT order_number, lines FROM expected$$,
              'join path: the same registry rows');
SELECT is((SELECT lines FROM analytics.order_registry WHERE order_number = 'RRG-GONE'), 3::bigint,
          'join path: an order without lines in the range is left alone');

SELECT * FROM finish();
ROLLBACK;
