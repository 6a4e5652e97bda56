-- Revert techmart:customer_months_recompute_grouped from pg
-- analytics.customer_months_recompute as change import_rebuilds_cheaper left it (pg_get_functiondef)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customer_months_recompute(p_customers bigint[] DEFAULT NULL::bigint[])
 RETURNS TABLE(customer_id bigint, month timestamp with time zone, orders bigint, lines bigint, units bigint, revenue numeric, first_purchase timestamp with time zone, last_purchase timestamp with time zone)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'public'
AS $function$
  WITH l AS (
    SELECT t.id, t.customer_id, analytics.utc_month(t.transaction_time) AS month, t.transaction_time, t.status,
           t.kind, t.amount, t.quantity, t.order_number
      FROM public.transactions t
     WHERE (t.status = 'completed' OR t.kind = 'refund')
       AND (p_customers IS NULL OR t.customer_id IN (SELECT unnest(p_customers)))  -- (change import_rebuilds_cheaper)
  ), a AS (  -- the month of each order's first completed line (per customer)
    SELECT x.customer_id, x.month, count(*) AS orders
      FROM (SELECT l.customer_id, analytics.utc_month(min(l.transaction_time)) AS month
              FROM l WHERE l.status = 'completed' AND l.order_number IS NOT NULL
             GROUP BY l.customer_id, l.order_number
            UNION ALL
            SELECT l.customer_id, l.month FROM l WHERE l.status = 'completed' AND l.order_number IS NULL) x
     GROUP BY x.customer_id, x.month
  ), s AS (
    SELECT l.customer_id, l.month,
           count(*) FILTER (WHERE l.status = 'completed') AS lines,
           sum(CASE WHEN l.kind = 'refund' THEN -l.quantity ELSE l.quantity END)::bigint AS units,
           sum(CASE WHEN l.kind = 'refund' THEN -l.amount ELSE l.amount END) AS revenue,
           min(l.transaction_time) FILTER (WHERE l.status = 'completed') AS first_purchase,
           max(l.transaction_time) FILTER (WHERE l.status = 'completed') AS last_purchase
      FROM l GROUP BY l.customer_id, l.month
  )
  SELECT s.customer_id, s.month, coalesce(a.orders, 0), s.lines, s.units, s.revenue, s.first_purchase, s.last_purchase
    FROM s LEFT JOIN a ON a.customer_id = s.customer_id AND a.month = s.month
$function$;

COMMIT;
