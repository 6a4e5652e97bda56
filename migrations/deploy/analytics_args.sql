-- Deploy techmart:analytics_args to pg
-- requires: overview_rollups
-- requires: analytics_series_args
--
-- Arguments a BI user or DBA types were not checked by the analytics functions themselves (the api.*
-- wrappers check theirs): a mistyped dimension gave silently nothing —
-- analytics.breakdown('categroy', ...) no rows, analytics.sales_totals(from, to, 'categroy', '1') zero
-- revenue ("no sales") — and analytics.low_stock(as_of, 0) failed with "division by zero"
-- (a negative velocity window answered negative velocities). Now 22023 with the allowed values:
-- breakdown (product, category, supplier, country, platform, payment_method) through
-- analytics.arg_valid() as a one-time filter, sales_totals (all and the rollup dimensions) at its
-- start, low_stock's p_velocity_days >= 1. NULL arguments behave as before. Bodies otherwise those of
-- changes analytics / overview_rollups. The extension's version is unchanged.
BEGIN;

CREATE FUNCTION analytics.arg_valid(p_ok boolean, p_message text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_ok IS FALSE THEN
    RAISE EXCEPTION '%', p_message USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN true;
END $$;
COMMENT ON FUNCTION analytics.arg_valid(boolean, text) IS
  'true, or 22023 with p_message when p_ok is false (NULL passes): argument checks of SQL analytics functions, '
  'used as a one-time filter';

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
$function$
;

CREATE OR REPLACE FUNCTION analytics.low_stock(p_as_of timestamp with time zone DEFAULT now(), p_velocity_days integer DEFAULT 28, p_cover_days numeric DEFAULT 14, p_limit integer DEFAULT NULL::integer)
 RETURNS TABLE(product_id bigint, sku text, name text, category text, supplier text, supplier_reliability numeric, stock integer, low_stock_threshold integer, units_sold bigint, daily_velocity numeric, days_of_cover numeric, below_threshold boolean)
 LANGUAGE sql
 STABLE
AS $function$
  WITH sold AS (
    SELECT s.key::bigint AS product_id, sum(s.units)::bigint AS units
      FROM analytics.sales_hourly s
     WHERE s.dim = 'product'
       AND s.hour >= analytics.hour_floor(p_as_of - make_interval(days => p_velocity_days))
       AND s.hour < p_as_of AND analytics.arg_valid(p_velocity_days >= 1, 'velocity days must be >= 1, got ' || p_velocity_days)
     GROUP BY 1
  ), st AS (
    SELECT * FROM analytics.stock_at(p_as_of) WHERE analytics.arg_valid(p_velocity_days >= 1, 'velocity days must be >= 1, got ' || p_velocity_days)
  ), x AS (
    SELECT p.id, p.sku, p.name, p.category, p.supplier, sp.reliability_score, st.stock, p.low_stock_threshold,
           coalesce(sold.units, 0) AS units,
           round(coalesce(sold.units, 0)::numeric / p_velocity_days, 3) AS velocity
      FROM bi.products p
      JOIN st ON st.product_id = p.id
      LEFT JOIN sold ON sold.product_id = p.id
      LEFT JOIN bi.suppliers sp ON sp.id = p.supplier_id
  )
  SELECT x.id, x.sku, x.name, x.category, x.supplier, x.reliability_score, x.stock, x.low_stock_threshold, x.units,
         x.velocity, round(x.stock / nullif(x.velocity, 0), 1), x.stock <= x.low_stock_threshold
    FROM x
   WHERE x.stock <= x.low_stock_threshold
      OR (x.velocity > 0 AND x.stock / x.velocity < p_cover_days)
   ORDER BY round(x.stock / nullif(x.velocity, 0), 1) ASC NULLS LAST, x.stock, x.id
   LIMIT p_limit
$function$
;

CREATE OR REPLACE FUNCTION analytics.sales_totals(p_from timestamp with time zone, p_to timestamp with time zone, p_dim text DEFAULT 'all'::text, p_key text DEFAULT ''::text)
 RETURNS TABLE(revenue numeric, orders bigint, units bigint, transactions bigint, completed bigint, refunded bigint, refunded_amount numeric, blocked bigint, failed bigint, pending bigint, suspicious bigint)
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
  m0 timestamptz := analytics.minute_ceil(p_from);
  m1 timestamptz := analytics.minute_floor(p_to);
BEGIN
  IF p_dim IS NOT NULL AND p_dim NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    RAISE EXCEPTION 'dimension must be all, product, category, country, platform or payment_method, got %', p_dim
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN QUERY SELECT 0::numeric, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric,
                        0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  IF p_dim = 'all' AND m0 < m1 THEN
    RETURN QUERY
    SELECT sum(x.revenue), sum(x.orders)::bigint, sum(x.units)::bigint, sum(x.transactions)::bigint,
           sum(x.completed)::bigint, sum(x.refunded)::bigint, sum(x.refunded_amount), sum(x.blocked)::bigint,
           sum(x.failed)::bigint, sum(x.pending)::bigint, sum(x.suspicious)::bigint
      FROM (SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE s.dim = 'all' AND s.hour >= h0 AND s.hour < h1 AND s.key = ''
            UNION ALL
            SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE m0 < least(h0, m1) AND s.dim = 'minute' AND s.hour = analytics.hour_floor(m0)
               AND s.key >= analytics.minute_key(m0)
               AND s.key < CASE WHEN h0 <= m1 THEN '60' ELSE analytics.minute_key(m1) END
            UNION ALL
            SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE h0 <= h1 AND h1 < m1 AND s.dim = 'minute' AND s.hour = h1 AND s.key < analytics.minute_key(m1)
            UNION ALL
            SELECT * FROM analytics.sales_scan(p_from, m0) WHERE p_from < m0
            UNION ALL
            SELECT * FROM analytics.sales_scan(m1, p_to) WHERE m1 < p_to
            UNION ALL  -- an empty range still yields one row of zeros
            SELECT 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) x;
    RETURN;
  END IF;
  IF h0 > h1 THEN  -- within one hour
    RETURN QUERY SELECT * FROM analytics.sales_scan(p_from, p_to, p_dim, p_key);
    RETURN;
  END IF;
  RETURN QUERY
  SELECT sum(x.revenue), sum(x.orders)::bigint, sum(x.units)::bigint, sum(x.transactions)::bigint,
         sum(x.completed)::bigint, sum(x.refunded)::bigint, sum(x.refunded_amount), sum(x.blocked)::bigint,
         sum(x.failed)::bigint, sum(x.pending)::bigint, sum(x.suspicious)::bigint
    FROM (SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                 s.blocked, s.failed, s.pending, s.suspicious
            FROM analytics.sales_hourly s
           WHERE s.dim = p_dim AND s.hour >= h0 AND s.hour < h1 AND s.key = p_key
          UNION ALL
          SELECT * FROM analytics.sales_scan(p_from, h0, p_dim, p_key) WHERE p_from < h0
          UNION ALL
          SELECT * FROM analytics.sales_scan(h1, p_to, p_dim, p_key) WHERE h1 < p_to
          UNION ALL  -- an empty range still yields one row of zeros
          SELECT 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) x;
END $function$
;

COMMIT;
