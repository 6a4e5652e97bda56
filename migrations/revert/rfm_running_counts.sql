-- Revert techmart:rfm_running_counts from pg
-- analytics.rfm as change customer_months left it (pg_get_functiondef)
BEGIN;

CREATE OR REPLACE FUNCTION analytics.rfm(p_as_of timestamp with time zone DEFAULT now(), p_window interval DEFAULT '365 days'::interval)
 RETURNS TABLE(customer_id bigint, recency_days numeric, frequency bigint, monetary numeric, r_score integer, f_score integer, m_score integer, rfm_code text, segment text)
 LANGUAGE sql
 STABLE
AS $function$
  WITH o AS MATERIALIZED (
    SELECT * FROM analytics.customer_orders(p_as_of - p_window, p_as_of)
     WHERE analytics.arg_valid(p_window > interval '0', 'window must be positive, got ' || p_window)
       AND analytics.arg_valid(isfinite(p_as_of), 'as-of must be a finite time, got ' || p_as_of)
  ),
  n AS (SELECT count(*)::float8 AS n FROM o),
  rl AS (SELECT x.last_purchase, sum(x.c) OVER (ORDER BY x.last_purchase) AS le
           FROM (SELECT o.last_purchase, count(*) AS c FROM o GROUP BY o.last_purchase) x),
  fl AS (SELECT x.orders, sum(x.c) OVER (ORDER BY x.orders) AS le
           FROM (SELECT o.orders, count(*) AS c FROM o GROUP BY o.orders) x),
  ml AS (SELECT x.revenue, sum(x.c) OVER (ORDER BY x.revenue) AS le
           FROM (SELECT o.revenue, count(*) AS c FROM o GROUP BY o.revenue) x),
  s AS (
    SELECT o.customer_id,
           round((extract(epoch FROM p_as_of - o.last_purchase) / 86400)::numeric, 2) AS recency_days,
           o.orders AS frequency, o.revenue AS monetary,
           ceil(5 * (rl.le::float8 / n.n))::int AS r,
           ceil(5 * (fl.le::float8 / n.n))::int AS f,
           ceil(5 * (ml.le::float8 / n.n))::int AS m
      FROM o CROSS JOIN n
      JOIN rl ON rl.last_purchase = o.last_purchase
      JOIN fl ON fl.orders = o.orders
      JOIN ml ON ml.revenue = o.revenue
  )
  SELECT s.customer_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m, s.r::text || s.f || s.m,
         CASE
           WHEN s.r >= 4 AND s.f >= 4 AND s.m >= 4 THEN 'champions'
           WHEN s.r <= 1 AND s.f >= 4 AND s.m >= 4 THEN 'cant_lose'
           WHEN s.r <= 2 AND s.f >= 3 THEN 'at_risk'
           WHEN s.r >= 3 AND s.f >= 4 THEN 'loyal'
           WHEN s.r = 5 AND s.f <= 2 THEN 'new'
           WHEN s.r = 4 AND s.f <= 2 THEN 'promising'
           WHEN s.r >= 3 THEN 'potential_loyalist'
           WHEN s.r = 2 THEN 'hibernating'
           ELSE 'lost'
         END
    FROM s
   ORDER BY s.customer_id
$function$
;

COMMIT;
