-- Deploy techmart:import_rebuilds_cheaper to pg
-- requires: product_sales_daily
-- requires: customer_months_bulk
--
-- The import's [4/7] (issue 8) grew to ~1.5 s with the two new rollup families; two of its three rebuilds did
-- more work than needed:
-- * analytics.product_daily_rebuild recomputed the product days from the lines (~480 ms for the three-month file:
--   57,786 day rows, the distinct (order, hour) pairs per product sorted again) right after
--   analytics.rollup_rebuild had written the same figures per product and hour. analytics.product_daily_from_hourly
--   sums the days from those hourly product rows (revenue, orders, units, transactions, suspicious: the same
--   definitions, product_daily's orders being the sum over the day's hours of the hourly rows' orders) and takes
--   pending_units and refund_units from product_units_hourly, still recomputed from the (few) pending and refund
--   lines. The import now rebuilds the hourly rollups over the whole UTC days of its lines (the hours of those
--   days outside the lines' range hold no imported line; rebuilding them makes the days' hourly rows exact by
--   construction whatever they were) and then the product days from them.
-- * analytics.customer_months_recompute / customer_order_spans_recompute, SQL functions planned generically, tested
--   every line of transactions against the customers' array with '= ANY (p_customers)': a linear search of the
--   array per line (1,750 customers x 104,222 lines: ~230 ms for each of the two). 'IN (SELECT unnest(...))' is a
--   hashed subplan: one hash probe per line. Same rows.
BEGIN;

-- the product days of the whole UTC days overlapping [p_from, p_to) from the hourly product rows
CREATE FUNCTION analytics.product_daily_from_hourly(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '256MB' AS $$
DECLARE
  v_from timestamptz := date_bin('1 day', p_from, '2000-01-01 00:00+00');
  v_to timestamptz;
  n bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  v_to := analytics.day_ceil(p_to);
  -- the hourly rows read as committed: writers holding hourly deltas finish first (SHARE; taken before the
  -- daily tables' lock, in the writers' order: the rollup triggers fire before the daily ones), later ones wait
  -- for the daily tables as with product_daily_rebuild
  LOCK TABLE analytics.sales_hourly IN SHARE MODE;
  LOCK TABLE analytics.product_daily, analytics.product_units_hourly IN EXCLUSIVE MODE;
  DELETE FROM analytics.product_daily d WHERE d.day >= v_from AND d.day < v_to;
  DELETE FROM analytics.product_units_hourly h WHERE h.hour >= v_from AND h.hour < v_to;
  INSERT INTO analytics.product_units_hourly (hour, product_id, pending_units, refund_units)
  SELECT * FROM analytics.product_units_recompute(v_from, v_to) r ORDER BY r.hour, r.product_id;
  INSERT INTO analytics.product_daily (day, product_id, revenue, orders, units, pending_units, refund_units, transactions,
                                      suspicious)
  SELECT h.day, h.product_id, h.revenue, h.orders, h.units, coalesce(u.pending_units, 0), coalesce(u.refund_units, 0),
         h.transactions, h.suspicious
    FROM (SELECT date_bin('1 day', s.hour, '2000-01-01 00:00+00') AS day, s.key::bigint AS product_id,
                 sum(s.revenue) AS revenue, sum(s.orders)::bigint AS orders, sum(s.units)::bigint AS units,
                 sum(s.transactions)::bigint AS transactions, sum(s.suspicious)::bigint AS suspicious
            FROM analytics.sales_hourly s
           WHERE s.dim = 'product' AND s.hour >= v_from AND s.hour < v_to
           GROUP BY 1, 2
          HAVING sum(s.transactions) <> 0) h  -- (a day whose lines were all deleted: no row, as recomputed)
    LEFT JOIN (SELECT date_bin('1 day', p.hour, '2000-01-01 00:00+00') AS day, p.product_id,
                      sum(p.pending_units)::bigint AS pending_units, sum(p.refund_units)::bigint AS refund_units
                 FROM analytics.product_units_hourly p
                WHERE p.hour >= v_from AND p.hour < v_to
                GROUP BY 1, 2) u ON u.day = h.day AND u.product_id = h.product_id
   ORDER BY h.day, h.product_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.product_daily_from_hourly(timestamptz, timestamptz) IS
  'Rebuild analytics.product_daily for the whole UTC days overlapping [p_from, p_to) from the product rows of '
  'analytics.sales_hourly, which must be exact there (call it after analytics.rollup_rebuild of those days), and '
  'product_units_hourly recomputed from transactions; returns the daily rows written. The import''s [4/7]; '
  'analytics.product_daily_rebuild recomputes from the lines alone';
REVOKE EXECUTE ON FUNCTION analytics.product_daily_from_hourly(timestamptz, timestamptz) FROM PUBLIC;

-- import.online_retail, edited in place (the two lines expected once) so that other changes to it are kept
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
  IF (length(def) - length(replace(def, a, ''))) / length(a) <> 1 THEN
    RAISE EXCEPTION 'import_rebuilds_cheaper: import.online_retail is not as expected';
  END IF;
  EXECUTE replace(def, a, b);
END $do$;

-- the customers' membership by a hashed subplan instead of a linear search of the array per line
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
     AND (p_customers IS NULL OR t.customer_id IN (SELECT unnest(p_customers)))  -- (change import_rebuilds_cheaper)
   GROUP BY t.customer_id, t.order_number
  HAVING analytics.utc_month(min(t.transaction_time)) < analytics.utc_month(max(t.transaction_time))
$function$;

COMMIT;
