-- pgTAP: the overview's low-stock count at a past time (sqitch change low_stock_count_bounded). With many stock
-- changes since then it reads each product's quantity before its first change after that time (one index probe per
-- product) instead of summing every change; both must give the count of the products whose stock then (stock now
-- minus the changes since) was at or below their threshold.
BEGIN;
SELECT plan(5);

CREATE FUNCTION pg_temp.reference(p_as_of timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM products p
   WHERE p.stock_quantity - coalesce((SELECT sum(h.new_quantity - h.previous_quantity) FROM inventory_history h
                                       WHERE h.product_id = p.id AND h.changed_at > p_as_of), 0)
         <= p.low_stock_threshold
$$;

-- consistent chains of quantities walking around the thresholds: 40 products x 150 changes in the last 20 hours
CREATE TEMP TABLE w ON COMMIT DROP AS
SELECT p.id AS product_id, n,
       now() - interval '20 hours' + n * interval '8 min' + (p.id % 53) * interval '1 s' AS t,
       abs(p.low_stock_threshold + 2 + sum(((hashint8(p.id * 1000 + n) & 7) - 3)::int)
             OVER (PARTITION BY p.id ORDER BY n))::int AS q
  FROM (SELECT * FROM products p0
         WHERE NOT EXISTS (SELECT FROM inventory_history h WHERE h.product_id = p0.id)  -- chains of their own
         ORDER BY id LIMIT 40) p, generate_series(0, 150) n;
INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason, changed_at)
SELECT product_id, pq, q, 'adjustment', t
  FROM (SELECT product_id, n, t, q, lag(q) OVER (PARTITION BY product_id ORDER BY n) AS pq FROM w) x
 WHERE n > 0;
UPDATE products p SET stock_quantity = w.q FROM w WHERE w.product_id = p.id AND w.n = 150;

SELECT cmp_ok((SELECT count(*) FROM inventory_history WHERE changed_at > now() - interval '20 hours'), '>=', 5000::bigint,
              'over 5,000 changes in the window: the per-product path is taken');
SELECT is((SELECT string_agg(format('%s: %s vs %s', k, analytics.low_stock_count(now() - k * interval '23 min'),
                                    pg_temp.reference(now() - k * interval '23 min')), '; ')
             FROM generate_series(0, 55) k
            WHERE analytics.low_stock_count(now() - k * interval '23 min') <> pg_temp.reference(now() - k * interval '23 min')),
          NULL, 'many changes since: the count equals the reference at 56 times over the 20 hours');
SELECT ok((SELECT count(DISTINCT pg_temp.reference(now() - k * interval '23 min')) FROM generate_series(0, 55) k) > 3,
          'the reference count moves over the window (the test can tell the paths apart)');
SELECT is(analytics.low_stock_count(now() - interval '10 min'), pg_temp.reference(now() - interval '10 min'),
          'few changes since: the count equals the reference (the summing path)');
SELECT is(analytics.low_stock_count(now() - interval '30 days'), pg_temp.reference(now() - interval '30 days'),
          'before every change: the count equals the reference');

SELECT * FROM finish();
ROLLBACK;
