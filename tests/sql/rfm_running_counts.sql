-- pgTAP: analytics.rfm scores each customer by running counts (change rfm_running_counts) and answers exactly as the
-- definition it replaced (GROUP BY of the distinct values, running sums, joins back), kept here as pg_temp.rfm_before
-- (the change's revert): every row equal for several as-of times and windows, with ties in recency, frequency and
-- monetary (customers added with identical purchases), and the argument errors unchanged.
BEGIN;
SELECT plan(9);

CREATE OR REPLACE FUNCTION pg_temp.rfm_before(p_as_of timestamp with time zone DEFAULT now(), p_window interval DEFAULT '365 days'::interval)
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

SELECT ok(position('count(*) OVER ()' IN pg_get_functiondef('analytics.rfm(timestamptz, interval)'::regprocedure)) > 0,
          'analytics.rfm ranks with running counts');

-- ties: six new customers with the same two orders at the same times and amounts, three more with one order each;
-- the first order within the last day, so that the one-day window has customers at any hour (the seed's history
-- ends at the start of the day it was loaded: late in the UTC day its last day holds none of it)
INSERT INTO customers (id, email, name, country, registration_date)
SELECT 990100 + g, 'rfm-tie-' || g || '@example.com', 'Tie Customer ' || g, 'DE', now() - interval '400 days'
  FROM generate_series(1, 9) g;
SET LOCAL techmart.scoring = off;
INSERT INTO transactions (customer_id, product_id, quantity, unit_price, amount, status, payment_method, order_number,
                          transaction_time)
SELECT 990100 + g, (SELECT min(id) FROM products), 1, 25.00, 25.00, 'completed', 'credit_card',
       'RFM-TIE-' || g || '-' || k, date_trunc('hour', now()) - interval '1 hour' - (k - 1) * interval '3 days'
  FROM generate_series(1, 9) g, generate_series(1, 2) k
 WHERE g <= 6 OR k = 1;

CREATE TEMP TABLE cases AS
SELECT * FROM (VALUES (now(), interval '365 days'), (now(), interval '30 days'), (now(), interval '1 day'),
                      (now() - interval '10 days', interval '365 days'), (date_trunc('month', now()), interval '90 days'),
                      (now() - interval '2 years', interval '365 days')) v(as_of, win);

SELECT is((SELECT count(*)::int FROM cases c
            WHERE (SELECT count(*) FROM analytics.rfm(c.as_of, c.win)) > 0
              AND ((SELECT array_agg(r ORDER BY r.customer_id) FROM analytics.rfm(c.as_of, c.win) r)
                   IS NOT DISTINCT FROM (SELECT array_agg(r ORDER BY r.customer_id) FROM pg_temp.rfm_before(c.as_of, c.win) r))),
          5, 'the same rows for the five windows with customers (several as-of times and lengths)');
SELECT is((SELECT count(*)::int FROM analytics.rfm(now() - interval '2 years', interval '365 days')), 0,
          'a window without customers: no row, as before');
SELECT is((SELECT count(DISTINCT (r.r_score, r.f_score, r.m_score))::int FROM analytics.rfm(now()) r
            WHERE r.customer_id BETWEEN 990101 AND 990106), 1, 'tied customers get the same scores');
SELECT ok((SELECT array_agg(r ORDER BY r.customer_id) FROM analytics.rfm(now()) r WHERE r.customer_id > 990100)
          = (SELECT array_agg(r ORDER BY r.customer_id) FROM pg_temp.rfm_before(now()) r WHERE r.customer_id > 990100),
          'the tied customers'' rows as before');
SELECT is((SELECT array_agg(s.segment || ':' || s.customers ORDER BY s.segment) FROM analytics.customer_segments(now()) s),
          (SELECT array_agg(x.segment || ':' || x.n ORDER BY x.segment)
             FROM (SELECT r.segment, count(*) AS n FROM pg_temp.rfm_before(now()) r GROUP BY 1) x),
          'segments count the same customers as before');
SELECT throws_ok($$SELECT * FROM analytics.rfm(now(), interval '0')$$, '22023', 'window must be positive, got 00:00:00',
                 'a window of 0: the same error');
SELECT throws_ok($$SELECT * FROM analytics.rfm('infinity', interval '1 day')$$, '22023',
                 'as-of must be a finite time, got infinity', 'an infinite as-of: the same error');
SELECT is((SELECT count(*)::int FROM analytics.rfm(now())), (SELECT count(*)::int FROM pg_temp.rfm_before(now())),
          'as many customers as before');

SELECT * FROM finish();
ROLLBACK;
