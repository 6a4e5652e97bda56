-- pgTAP: a sale's stock update of its product can be HOT (sqitch change products_stock_hot): no index of products
-- names stock_quantity (the partial low-stock index did, in its predicate, so every sale's update wrote an entry in
-- each index of products); the overview's low-stock count is unchanged.
BEGIN;
SELECT plan(4);

SELECT is((SELECT string_agg(indexname, ', ') FROM pg_indexes
            WHERE schemaname = 'public' AND tablename = 'products' AND indexdef LIKE '%stock_quantity%'),
          NULL, 'no index of products names stock_quantity');

CREATE TEMP TABLE hot ON COMMIT DROP AS SELECT pg_stat_get_xact_tuples_hot_updated('products'::regclass) AS n;
-- six sales of one product, one statement each: an update moves the row to a page with room when its page is full,
-- the next ones can be HOT there (with an index naming stock_quantity none can)
DO $$
BEGIN
  FOR i IN 1 .. 6 LOOP
    INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status, payment_method, platform)
    SELECT (SELECT min(id) FROM customers), p.id, 1, 10, now(), 'completed', 'paypal', 'web'
      FROM (SELECT id FROM products WHERE stock_quantity >= 10 ORDER BY id LIMIT 1) p;
  END LOOP;
END $$;
SELECT cmp_ok(pg_stat_get_xact_tuples_hot_updated('products'::regclass) - (SELECT n FROM hot), '>=', 3::bigint,
              'of six sales of one product, at least three stock updates are HOT');

SELECT is(analytics.low_stock_count(now()),
          (SELECT count(*) FROM products WHERE stock_quantity <= low_stock_threshold),
          'low_stock_count now: the products at or below their threshold');
UPDATE products SET stock_quantity = low_stock_threshold WHERE id IN (SELECT id FROM products ORDER BY id DESC LIMIT 3);
SELECT is(analytics.low_stock_count(now()),
          (SELECT count(*) FROM products WHERE stock_quantity <= low_stock_threshold),
          'after three products fall to their threshold: counted');

SELECT * FROM finish();
ROLLBACK;
