-- Deploy techmart:breakdown_label_join to pg
-- requires: analytics_args
--
-- analytics.breakdown named each row of its answer by a correlated subquery, (SELECT p.name FROM bi.products p WHERE
-- p.id::text = g.key): the id is compared as text, so no index serves it and each row of the answer scanned every
-- product (2,000 here). The planner evaluates it after the LIMIT, so the cost is per row returned:
-- api.analytics_breakdown('product', 30 days, limit 1000) 221 ms at 50,000 transactions, 32 ms now; limit 50 (the
-- default) 53 -> 26 ms (bench/RESULTS.md, "The GET endpoints at 5,000,000 transactions"). The labels now come from one
-- LEFT JOIN per table (a hash join: each table read once). An id is unique, so a row joins at most one product,
-- category or supplier: same rows, same labels, same order. (analytics.top_products does not read the label: the
-- planner dropped the subquery there already.)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.breakdown(p_dim text, p_from timestamptz, p_to timestamptz, p_limit integer DEFAULT NULL)
RETURNS TABLE (key text, label text, revenue numeric, orders bigint, units bigint, transactions bigint,
               suspicious bigint, revenue_share_pct numeric)
LANGUAGE sql STABLE AS $$
  WITH r AS (
    SELECT s.key, sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s
     WHERE s.dim = CASE WHEN p_dim = 'supplier' THEN 'product' ELSE p_dim END
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
       AND analytics.arg_valid(p_dim IN ('product', 'category', 'supplier', 'country', 'platform', 'payment_method'),
                               'dimension must be product, category, supplier, country, platform or payment_method, got ' || p_dim)
     GROUP BY s.key
  ), k AS (
    SELECT CASE WHEN p_dim = 'supplier' THEN coalesce(p.supplier_id::text, '') ELSE r.key END AS key,
           r.revenue, r.orders, r.units, r.transactions, r.suspicious
      FROM r LEFT JOIN bi.products p ON p_dim = 'supplier' AND p.id::text = r.key
  ), g AS (
    SELECT k.key, sum(k.revenue) AS revenue, sum(k.orders)::bigint AS orders, sum(k.units)::bigint AS units,
           sum(k.transactions)::bigint AS transactions, sum(k.suspicious)::bigint AS suspicious
      FROM k GROUP BY k.key
  )
  SELECT nullif(g.key, ''),
         CASE p_dim
           WHEN 'product' THEN lp.name
           WHEN 'category' THEN coalesce(lc.name, 'uncategorised')
           WHEN 'supplier' THEN coalesce(ls.name, 'no supplier')
           WHEN 'country' THEN coalesce(nullif(g.key, ''), 'unknown')
           ELSE g.key END,
         g.revenue, g.orders, g.units, g.transactions, g.suspicious,
         round(100 * g.revenue / nullif(sum(g.revenue) OVER (), 0), 2)
    FROM g
    LEFT JOIN bi.products lp ON p_dim = 'product' AND lp.id::text = g.key
    LEFT JOIN bi.categories lc ON p_dim = 'category' AND lc.id::text = g.key
    LEFT JOIN bi.suppliers ls ON p_dim = 'supplier' AND ls.id::text = g.key
   WHERE g.transactions <> 0 OR g.revenue <> 0
   ORDER BY g.revenue DESC, g.orders DESC, g.key
   LIMIT p_limit
$$;

COMMIT;
