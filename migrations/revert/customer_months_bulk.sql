-- Revert techmart:customer_months_bulk from pg
-- analytics.customer_months_add as change customer_months left it (pg_get_functiondef)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customer_months_add(p_customer bigint[], p_time timestamp with time zone[], p_order text[], p_completed boolean[], p_units bigint[], p_revenue numeric[])
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
BEGIN
  PERFORM 1 FROM public.customers c WHERE c.id = ANY (p_customer) ORDER BY c.id FOR NO KEY UPDATE;
  WITH v AS (
    SELECT v.customer_id, analytics.utc_month(v.t) AS month, v.t, v.order_number, v.completed, v.units, v.revenue
      FROM unnest(p_customer, p_time, p_order, p_completed, p_units, p_revenue)
           AS v(customer_id, t, order_number, completed, units, revenue)
  ), s AS (  -- the statement's completed lines per order and month
    SELECT v.customer_id, v.order_number, v.month, count(*) AS n
      FROM v WHERE v.completed AND v.order_number IS NOT NULL
     GROUP BY v.customer_id, v.order_number, v.month
  ), o AS (
    SELECT DISTINCT s.customer_id, s.order_number FROM s
  ), x AS (  -- per order: its first month before the statement (NULL: none), after it, its last month after it
    SELECT o.customer_id, o.order_number, y.before_first, y.after_first, y.after_last
      FROM o CROSS JOIN LATERAL (
        SELECT min(a.month) FILTER (WHERE a.n > coalesce(s.n, 0)) AS before_first, min(a.month) AS after_first,
               max(a.month) AS after_last
          FROM (SELECT analytics.utc_month(t.transaction_time) AS month, count(*) AS n
                  FROM public.transactions t
                 WHERE t.order_number = o.order_number AND t.customer_id = o.customer_id AND t.status = 'completed'
                 GROUP BY 1) a
          LEFT JOIN s ON s.customer_id = o.customer_id AND s.order_number = o.order_number AND s.month = a.month) y
  ), d AS (  -- deltas per (customer, month)
    SELECT z.customer_id, z.month, sum(z.orders)::bigint AS orders, sum(z.lines)::bigint AS lines,
           sum(z.units)::bigint AS units, sum(z.revenue) AS revenue, min(z.fp) AS fp, max(z.lp) AS lp
      FROM (SELECT v.customer_id, v.month, count(*) FILTER (WHERE v.completed AND v.order_number IS NULL) AS orders,
                   count(*) FILTER (WHERE v.completed) AS lines, sum(v.units) AS units, sum(v.revenue) AS revenue,
                   min(v.t) FILTER (WHERE v.completed) AS fp, max(v.t) FILTER (WHERE v.completed) AS lp
              FROM v GROUP BY v.customer_id, v.month
            UNION ALL
            SELECT x.customer_id, x.after_first, 1, 0, 0, 0::numeric, NULL, NULL
              FROM x WHERE x.before_first IS NULL OR x.after_first < x.before_first
            UNION ALL
            SELECT x.customer_id, x.before_first, -1, 0, 0, 0::numeric, NULL, NULL
              FROM x WHERE x.after_first < x.before_first) z
     GROUP BY z.customer_id, z.month
  ), m AS (
    INSERT INTO analytics.customer_months AS m
    SELECT d.customer_id, d.month, d.orders, d.lines, d.units, d.revenue, d.fp, d.lp FROM d
     ORDER BY d.customer_id, d.month
    ON CONFLICT (customer_id, month) DO UPDATE
       SET orders = m.orders + excluded.orders, lines = m.lines + excluded.lines, units = m.units + excluded.units,
           revenue = m.revenue + excluded.revenue, first_purchase = least(m.first_purchase, excluded.first_purchase),
           last_purchase = greatest(m.last_purchase, excluded.last_purchase)
    RETURNING 1
  ), sp AS (
    INSERT INTO analytics.customer_order_spans AS p
    SELECT x.customer_id, x.order_number, x.after_first, x.after_last FROM x
     WHERE x.after_first < x.after_last ORDER BY 1, 2
    ON CONFLICT (customer_id, order_number) DO UPDATE
       SET first_month = excluded.first_month, last_month = excluded.last_month
    RETURNING 1
  )
  INSERT INTO analytics.customer_totals AS tt
  SELECT d.customer_id, sum(d.orders)::bigint, sum(d.lines)::bigint, sum(d.units)::bigint, sum(d.revenue), min(d.fp),
         max(d.lp), min(d.month), max(d.month)
    FROM d GROUP BY d.customer_id ORDER BY d.customer_id
  ON CONFLICT (customer_id) DO UPDATE
     SET orders = tt.orders + excluded.orders, lines = tt.lines + excluded.lines, units = tt.units + excluded.units,
         revenue = tt.revenue + excluded.revenue, first_purchase = least(tt.first_purchase, excluded.first_purchase),
         last_purchase = greatest(tt.last_purchase, excluded.last_purchase),
         first_month = least(tt.first_month, excluded.first_month), last_month = greatest(tt.last_month, excluded.last_month);
END $function$;

COMMIT;
