-- Deploy techmart:customer_months_edges to pg
-- requires: customer_months
--
-- analytics.customer_orders (change customer_months) snapped each end of a window to the nearer month boundary by
-- time. Lines to subtract (in the cover, not in the window) cost more than lines to add: each of their orders is
-- probed one by one (is its first completed line in the cover? has it a line in the window?) and their customers'
-- first/last purchases too. Lines to add need none of that when their order lies in one month (no row in
-- analytics.customer_order_spans): that month is outside the cover, so the months did not count the order, and
-- it has a line in the window — one each. Now an end snaps to the boundary whose lines cost less (subtracting
-- counted 4x), those orders are counted without a probe, and the plain GROUP BY runs when the edges cost more than
-- a third of the window. The two edges are read as two ranges of the time index (one OR of both ranges was planned
-- as a sequential scan of every line). GET /customers/segments?as_of=3 days ago at 5,000,000 transactions: the 3.6
-- days since the month's start added (no probe) instead of the 3.2 days after as_of subtracted (0.3 million order
-- probes). Same answers.
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customer_orders(p_from timestamp with time zone, p_to timestamp with time zone)
 RETURNS TABLE(customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint, first_purchase timestamp with time zone, last_purchase timestamp with time zone)
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
DECLARE
  t_min timestamptz; t_max timestamptz; lo timestamptz; hi timestamptz;
  b_from timestamptz; b_to timestamptz; edge interval; win interval; v_idx text;
BEGIN
  -- the probes want the indexes (api.customers_* plan their year-long scans without plain index scans)
  v_idx := current_setting('enable_indexscan');
  PERFORM set_config('enable_indexscan', 'on', true);
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from OR NOT isfinite(p_to) THEN
    b_from := NULL;
  ELSE
    SELECT min(t.transaction_time), max(t.transaction_time) INTO t_min, t_max FROM bi.transactions t;
    IF t_min IS NOT NULL THEN
      t_max := t_max + interval '1 microsecond';
      -- the lower end
      IF NOT isfinite(p_from) THEN
        b_from := p_from;
      ELSE
        lo := analytics.utc_month(p_from);
        hi := lo + interval '1 month';
        b_from := CASE WHEN 4 * analytics.time_within(lo, p_from, t_min, t_max) <= analytics.time_within(p_from, hi, t_min, t_max)
                       THEN lo ELSE hi END;
        IF p_from = lo THEN b_from := lo; END IF;
      END IF;
      lo := analytics.utc_month(p_to);
      hi := lo + interval '1 month';
      b_to := CASE WHEN analytics.time_within(lo, p_to, t_min, t_max) <= 4 * analytics.time_within(p_to, hi, t_min, t_max)
                   THEN lo ELSE hi END;
      IF p_to = lo THEN b_to := lo; END IF;
      win := analytics.time_within(p_from, p_to, t_min, t_max);
      -- lines to add (between window and cover, in the window) cost one; lines to subtract four (their orders and
      -- first/last purchases are probed one by one)
      edge := CASE WHEN b_from < p_from THEN 4 ELSE 1 END
                * analytics.time_within(least(p_from, b_from), greatest(p_from, b_from), t_min, t_max)
            + CASE WHEN b_to > p_to THEN 4 ELSE 1 END
                * analytics.time_within(least(p_to, b_to), greatest(p_to, b_to), t_min, t_max);
      IF b_from >= b_to OR 3 * edge > win THEN
        b_from := NULL;
      END IF;
    END IF;
  END IF;

  IF b_from IS NULL THEN
    PERFORM set_config('enable_indexscan', v_idx, true);
    RETURN QUERY
    SELECT t.customer_id,
           count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
           sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END),
           sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint,
           count(*) FILTER (WHERE t.status = 'completed'),
           min(t.transaction_time) FILTER (WHERE t.status = 'completed'),
           max(t.transaction_time) FILTER (WHERE t.status = 'completed')
      FROM bi.transactions t
     WHERE (t.status = 'completed' OR t.kind = 'refund')
       AND t.transaction_time >= p_from AND t.transaction_time < p_to
     GROUP BY t.customer_id
    HAVING count(*) FILTER (WHERE t.status = 'completed') > 0;
    RETURN;
  END IF;

  RETURN QUERY
  WITH d AS (  -- the two edges, each a range of the time index
    SELECT t.id, t.customer_id, t.order_number, t.transaction_time, t.status, t.kind, t.amount, t.quantity,
           CASE WHEN t.transaction_time >= p_from AND t.transaction_time < p_to THEN 1 ELSE -1 END AS sgn
      FROM bi.transactions t
     WHERE (t.status = 'completed' OR t.kind = 'refund')
       AND t.transaction_time >= least(p_from, b_from) AND t.transaction_time < greatest(p_from, b_from)
    UNION ALL
    SELECT t.id, t.customer_id, t.order_number, t.transaction_time, t.status, t.kind, t.amount, t.quantity,
           CASE WHEN t.transaction_time >= p_from AND t.transaction_time < p_to THEN 1 ELSE -1 END AS sgn
      FROM bi.transactions t
     WHERE (t.status = 'completed' OR t.kind = 'refund')
       AND t.transaction_time >= least(p_to, b_to) AND t.transaction_time < greatest(p_to, b_to)
  ), c AS (
    SELECT tt.customer_id, tt.orders, tt.revenue, tt.units, tt.lines, tt.first_purchase AS fp, tt.last_purchase AS lp
      FROM analytics.customer_totals tt
     WHERE tt.first_month >= b_from AND tt.last_month < b_to
    UNION ALL
    SELECT m.customer_id, sum(m.orders)::bigint, sum(m.revenue), sum(m.units)::bigint, sum(m.lines)::bigint,
           min(m.first_purchase), max(m.last_purchase)
      FROM analytics.customer_months m
     WHERE m.month >= b_from AND m.month < b_to
       AND m.customer_id IN (SELECT tt.customer_id FROM analytics.customer_totals tt
                              WHERE tt.last_month >= b_from AND tt.first_month < b_to
                                AND (tt.first_month < b_from OR tt.last_month >= b_to))
     GROUP BY m.customer_id
  ), dl AS (
    SELECT d.customer_id,
           sum(d.sgn * CASE WHEN d.kind = 'refund' THEN -d.amount ELSE d.amount END) AS revenue,
           sum(d.sgn * CASE WHEN d.kind = 'refund' THEN -d.quantity ELSE d.quantity END)::bigint AS units,
           coalesce(sum(d.sgn) FILTER (WHERE d.status = 'completed'), 0)::bigint AS lines,
           coalesce(sum(d.sgn) FILTER (WHERE d.status = 'completed' AND d.order_number IS NULL), 0)::bigint AS lone,
           min(d.transaction_time) FILTER (WHERE d.status = 'completed' AND d.sgn = 1) AS fp,
           max(d.transaction_time) FILTER (WHERE d.status = 'completed' AND d.sgn = 1) AS lp,
           bool_or(d.status = 'completed' AND d.sgn = -1 AND d.transaction_time < p_from) AS cut_low,
           bool_or(d.status = 'completed' AND d.sgn = -1 AND d.transaction_time >= p_to) AS cut_high
      FROM d GROUP BY d.customer_id
  ), s AS (  -- orders probed: of lines subtracted, of lines added that are in several months, crossing the cover's start
    SELECT DISTINCT d.customer_id, d.order_number FROM d
     WHERE d.status = 'completed' AND d.order_number IS NOT NULL
       AND (d.sgn = -1 OR EXISTS (SELECT 1 FROM analytics.customer_order_spans p
                                   WHERE p.customer_id = d.customer_id AND p.order_number = d.order_number))
    UNION
    SELECT p.customer_id, p.order_number FROM analytics.customer_order_spans p
     WHERE p.first_month < b_from AND p.last_month >= b_from
  ), so AS (
    SELECT s.customer_id,
           (count(*) FILTER (WHERE x.in_w AND NOT (x.first_t >= b_from AND x.first_t < b_to))
            - count(*) FILTER (WHERE NOT x.in_w AND x.first_t >= b_from AND x.first_t < b_to))::bigint AS adj
      FROM s CROSS JOIN LATERAL (
        SELECT bool_or(t.transaction_time >= p_from AND t.transaction_time < p_to) AS in_w,
               min(t.transaction_time) AS first_t
          FROM bi.transactions t
         WHERE t.order_number = s.order_number AND t.customer_id = s.customer_id AND t.status = 'completed') x
     GROUP BY s.customer_id
  ), sa AS (  -- orders of added lines in one month only: that month is outside the cover, so the months did not count
    -- them, and they have a line in the window: one each, no probe
    SELECT d.customer_id, count(DISTINCT d.order_number) AS n
      FROM d
     WHERE d.status = 'completed' AND d.order_number IS NOT NULL AND d.sgn = 1
       AND NOT EXISTS (SELECT 1 FROM analytics.customer_order_spans p
                        WHERE p.customer_id = d.customer_id AND p.order_number = d.order_number)
     GROUP BY d.customer_id
  ), w AS (
    SELECT coalesce(c.customer_id, dl.customer_id) AS customer_id,
           coalesce(c.orders, 0) + coalesce(dl.lone, 0) AS orders,
           CASE WHEN c.customer_id IS NULL THEN dl.revenue WHEN dl.customer_id IS NULL THEN c.revenue
                ELSE c.revenue + dl.revenue END AS revenue,
           coalesce(c.units, 0) + coalesce(dl.units, 0) AS units,
           coalesce(c.lines, 0) + coalesce(dl.lines, 0) AS lines,
           c.fp AS c_fp, c.lp AS c_lp, dl.fp AS d_fp, dl.lp AS d_lp,
           coalesce(dl.cut_low, false) AS cut_low, coalesce(dl.cut_high, false) AS cut_high
      FROM c FULL JOIN dl ON dl.customer_id = c.customer_id
  )
  SELECT w.customer_id, w.orders + coalesce(so.adj, 0) + coalesce(sa.n, 0), w.revenue, w.units, w.lines,
         CASE WHEN w.cut_low OR w.c_fp >= p_to
              THEN (SELECT min(t.transaction_time) FROM bi.transactions t
                     WHERE t.customer_id = w.customer_id AND t.status = 'completed'
                       AND t.transaction_time >= p_from AND t.transaction_time < p_to)
              ELSE least(w.c_fp, w.d_fp) END,
         CASE WHEN w.cut_high OR w.c_lp < p_from
              THEN (SELECT max(t.transaction_time) FROM bi.transactions t
                     WHERE t.customer_id = w.customer_id AND t.status = 'completed'
                       AND t.transaction_time >= p_from AND t.transaction_time < p_to)
              ELSE greatest(w.c_lp, w.d_lp) END
    FROM w LEFT JOIN so ON so.customer_id = w.customer_id LEFT JOIN sa ON sa.customer_id = w.customer_id
   WHERE w.lines > 0;
  PERFORM set_config('enable_indexscan', v_idx, true);
END $function$;

COMMIT;
