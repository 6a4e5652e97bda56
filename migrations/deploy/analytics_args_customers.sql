-- Deploy techmart:analytics_args_customers to pg
-- requires: analytics_args
--
-- The customer analytics checked none of their arguments (found by the DBA audit of 2026-12-07):
-- analytics.rfm / customer_segments with a window <= 0 answered no rows (read as "no customers"),
-- analytics.customer_lifetime_value with a negative horizon answered negative predicted values and
-- lifetime values below the historical value. Now 22023 naming the argument, like analytics_args:
-- rfm's window > 0 (customer_segments reads rfm), customer_lifetime_value's horizon >= 0, and an as-of
-- that is a finite time in all three (an infinite one gave no rows or "cannot subtract infinite
-- timestamps"). NULL arguments behave as before. Bodies otherwise those of change analytics. The
-- extension's version is unchanged.
BEGIN;

CREATE OR REPLACE FUNCTION analytics.rfm(p_as_of timestamptz DEFAULT now(), p_window interval DEFAULT interval '365 days')
RETURNS TABLE (customer_id bigint, recency_days numeric, frequency bigint, monetary numeric,
               r_score integer, f_score integer, m_score integer, rfm_code text, segment text)
LANGUAGE sql STABLE AS $$
  WITH o AS (
    SELECT * FROM analytics.customer_orders(p_as_of - p_window, p_as_of)
     WHERE analytics.arg_valid(p_window > interval '0', 'window must be positive, got ' || p_window)
       AND analytics.arg_valid(isfinite(p_as_of), 'as-of must be a finite time, got ' || p_as_of)
  ),
  s AS (
    SELECT o.customer_id,
           round((extract(epoch FROM p_as_of - o.last_purchase) / 86400)::numeric, 2) AS recency_days,
           o.orders AS frequency, o.revenue AS monetary,
           ceil(5 * cume_dist() OVER (ORDER BY o.last_purchase))::int AS r,
           ceil(5 * cume_dist() OVER (ORDER BY o.orders))::int AS f,
           ceil(5 * cume_dist() OVER (ORDER BY o.revenue))::int AS m
      FROM o
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
$$;

CREATE OR REPLACE FUNCTION analytics.customer_lifetime_value(p_as_of timestamptz DEFAULT now(), p_limit integer DEFAULT NULL,
                                                  p_horizon_months integer DEFAULT 12)
RETURNS TABLE (customer_id bigint, first_purchase timestamptz, last_purchase timestamptz, orders bigint,
               historical_value numeric, avg_order_value numeric, orders_per_month numeric,
               active_probability numeric, predicted_value numeric, lifetime_value numeric)
LANGUAGE sql STABLE AS $$
  WITH o AS (
    SELECT * FROM analytics.customer_orders('-infinity', p_as_of)
     WHERE analytics.arg_valid(p_horizon_months >= 0, 'horizon months must be >= 0, got ' || p_horizon_months)
       AND analytics.arg_valid(isfinite(p_as_of), 'as-of must be a finite time, got ' || p_as_of)
  ),
  x AS (
    SELECT o.*, o.revenue / o.orders AS aov,
           o.orders / greatest(extract(epoch FROM p_as_of - o.first_purchase) / (30 * 86400), 1)::numeric AS per_month,
           extract(epoch FROM p_as_of - o.last_purchase) / 86400 AS recency,
           CASE WHEN o.orders > 1 THEN extract(epoch FROM o.last_purchase - o.first_purchase) / 86400 / (o.orders - 1)
                ELSE 90 END AS gap
      FROM o
  ), y AS (
    SELECT x.*, exp(-x.recency / greatest(x.gap, 30))::numeric AS p_active FROM x
  )
  SELECT y.customer_id, y.first_purchase, y.last_purchase, y.orders, y.revenue, round(y.aov, 2), round(y.per_month, 3),
         round(y.p_active, 3), round(y.aov * y.per_month * p_horizon_months * y.p_active, 2),
         round(y.revenue + y.aov * y.per_month * p_horizon_months * y.p_active, 2)
    FROM y
   ORDER BY y.revenue + y.aov * y.per_month * p_horizon_months * y.p_active DESC, y.customer_id
   LIMIT p_limit
$$;

COMMIT;
