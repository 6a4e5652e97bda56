-- Revert techmart:import_rebuilds_cheaper from pg
-- the functions as the changes customer_months and product_sales_daily left them (pg_get_functiondef)
BEGIN;

DO $do$
DECLARE
  def text := pg_get_functiondef('import.online_retail'::regproc);
  a text := $a$    PERFORM analytics.rollup_rebuild(v_from, v_to + interval '1 microsecond');
    PERFORM analytics.product_daily_rebuild(v_from, v_to + interval '1 microsecond');  -- change product_sales_daily$a$;
  b text := $b$    -- (change import_rebuilds_cheaper) the whole UTC days of the lines, so that the product days are summed
    -- from the hourly product rows just rebuilt (analytics.product_daily_rebuild recomputed them from the lines)
    PERFORM analytics.rollup_rebuild(date_bin('1 day', v_from, '2000-01-01 00:00+00'),
                                     analytics.day_ceil(v_to + interval '1 microsecond'));
    PERFORM analytics.product_daily_from_hourly(v_from, v_to + interval '1 microsecond');$b$;
BEGIN
  IF (length(def) - length(replace(def, b, ''))) / length(b) <> 1 THEN
    RAISE EXCEPTION 'revert import_rebuilds_cheaper: import.online_retail is not as expected';
  END IF;
  EXECUTE replace(def, b, a);
END $do$;

DROP FUNCTION analytics.product_daily_from_hourly(timestamptz, timestamptz);

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
       AND (p_customers IS NULL OR t.customer_id = ANY (p_customers))
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

CREATE OR REPLACE FUNCTION analytics.customer_order_spans_recompute(p_customers bigint[] DEFAULT NULL::bigint[])
 RETURNS TABLE(customer_id bigint, order_number text, first_month timestamp with time zone, last_month timestamp with time zone)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'public'
AS $function$
  SELECT t.customer_id, t.order_number, analytics.utc_month(min(t.transaction_time)),
         analytics.utc_month(max(t.transaction_time))
    FROM public.transactions t
   WHERE t.status = 'completed' AND t.order_number IS NOT NULL
     AND (p_customers IS NULL OR t.customer_id = ANY (p_customers))
   GROUP BY t.customer_id, t.order_number
  HAVING analytics.utc_month(min(t.transaction_time)) < analytics.utc_month(max(t.transaction_time))
$function$;

COMMIT;
