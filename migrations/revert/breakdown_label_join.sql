-- Revert techmart:breakdown_label_join from pg
-- analytics.breakdown as change analytics_args made it: a correlated subquery per row for its label
BEGIN;

CREATE OR REPLACE FUNCTION analytics.breakdown(p_dim text, p_from timestamp with time zone, p_to timestamp with time zone, p_limit integer DEFAULT NULL::integer)
 RETURNS TABLE(key text, label text, revenue numeric, orders bigint, units bigint, transactions bigint, suspicious bigint, revenue_share_pct numeric)
 LANGUAGE sql
 STABLE
AS $function$
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
           WHEN 'product' THEN (SELECT p.name FROM bi.products p WHERE p.id::text = g.key)
           WHEN 'category' THEN coalesce((SELECT c.name FROM bi.categories c WHERE c.id::text = g.key), 'uncategorised')
           WHEN 'supplier' THEN coalesce((SELECT s.name FROM bi.suppliers s WHERE s.id::text = g.key), 'no supplier')
           WHEN 'country' THEN coalesce(nullif(g.key, ''), 'unknown')
           ELSE g.key END,
         g.revenue, g.orders, g.units, g.transactions, g.suspicious,
         round(100 * g.revenue / nullif(sum(g.revenue) OVER (), 0), 2)
    FROM g
   WHERE g.transactions <> 0 OR g.revenue <> 0
   ORDER BY g.revenue DESC, g.orders DESC, g.key
   LIMIT p_limit
$function$;

COMMIT;
