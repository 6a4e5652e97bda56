-- Deploy techmart:customer_months to pg
-- requires: customers_rfm_seqscan
-- requires: customers_spent_c
-- requires: import_state_incremental
--
-- GET /customers/segments (the dashboard's widget), /customers/rfm, /customers/lifetime-value, /customers/top and
-- /customers/behavior grouped every completed line of their window (a year, all history) by customer in
-- analytics.customer_orders: 16-19 s at 5,000,000 transactions. Now per-customer rollups:
-- analytics.customer_months (customer, UTC month: orders, completed lines, units, net revenue, first and last
-- completed purchase; an order is counted in the month of its first completed line, so the sum over months counts
-- it once) and analytics.customer_order_spans (the rare orders whose completed lines lie in several months), kept
-- exact by statement triggers on transactions (INSERT/COPY, UPDATE, DELETE, TRUNCATE) that lock the statement's
-- customers in id order and recompute their touched months from transactions. analytics.customer_orders reads the
-- window's whole months from them and only the edges from transactions; same answers.
BEGIN;

CREATE FUNCTION analytics.utc_month(p_time timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_trunc('month', p_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;
COMMENT ON FUNCTION analytics.utc_month(timestamptz) IS
  'Start of the UTC month of a time (the period of analytics.customer_months); infinities unchanged';

CREATE TABLE analytics.customer_months (
  customer_id    bigint      NOT NULL,
  month          timestamptz NOT NULL,
  orders         bigint      NOT NULL,
  lines          bigint      NOT NULL,
  units          bigint      NOT NULL,
  revenue        numeric     NOT NULL,
  first_purchase timestamptz,
  last_purchase  timestamptz,
  PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE analytics.customer_months IS
  'Per customer and UTC month (a row when the customer has a completed line or a refund row in it): orders = the customer''s orders (order_number, or the line when NULL) whose first completed line of that customer is in the month; lines = completed lines; units and revenue = completed sale lines minus refund rows (as analytics.customer_orders); first and last completed purchase of the month. Kept exact by the statement triggers transactions_months_* (migration customer_months); analytics.customer_months_check() / _rebuild()';
CREATE INDEX customer_months_month_idx ON analytics.customer_months (month);

CREATE TABLE analytics.customer_order_spans (
  customer_id  bigint      NOT NULL,
  order_number text        NOT NULL,
  first_month  timestamptz NOT NULL,
  last_month   timestamptz NOT NULL,
  PRIMARY KEY (customer_id, order_number),
  CHECK (first_month < last_month)
);
COMMENT ON TABLE analytics.customer_order_spans IS
  'The (customer, order_number) whose completed lines lie in more than one UTC month (rare): first and last month. analytics.customer_orders reads the ones crossing the start of its whole months';

CREATE TABLE analytics.customer_totals (
  customer_id    bigint      PRIMARY KEY,
  orders         bigint      NOT NULL,
  lines          bigint      NOT NULL,
  units          bigint      NOT NULL,
  revenue        numeric     NOT NULL,
  first_purchase timestamptz,
  last_purchase  timestamptz,
  first_month    timestamptz NOT NULL,
  last_month     timestamptz NOT NULL
);
COMMENT ON TABLE analytics.customer_totals IS
  'Per customer with a row in analytics.customer_months: the sums over all its months (orders, lines, units, revenue), first and last completed purchase, first and last month with a row. analytics.customer_orders reads a customer from here when all its months lie in the window''s whole months (a year back from now when the history is shorter, all history for the lifetime value)';

GRANT SELECT ON analytics.customer_months, analytics.customer_order_spans, analytics.customer_totals TO techmart_bi;
COMMENT ON COLUMN analytics.customer_months.customer_id IS 'The customer (customers.id)';
COMMENT ON COLUMN analytics.customer_months.month IS 'Start of the UTC month (analytics.utc_month)';
COMMENT ON COLUMN analytics.customer_months.orders IS 'The customer''s orders (order_number, or the line when NULL) whose first completed line of that customer is in this month: summed over months, the distinct count';
COMMENT ON COLUMN analytics.customer_months.lines IS 'Completed lines of the month';
COMMENT ON COLUMN analytics.customer_months.units IS 'Quantity of completed sale lines minus that of refund rows';
COMMENT ON COLUMN analytics.customer_months.revenue IS 'Amount of completed sale lines minus that of refund rows (net, as analytics.customer_orders)';
COMMENT ON COLUMN analytics.customer_months.first_purchase IS 'First completed line of the month (NULL: refund rows only)';
COMMENT ON COLUMN analytics.customer_months.last_purchase IS 'Last completed line of the month (NULL: refund rows only)';
COMMENT ON COLUMN analytics.customer_order_spans.customer_id IS 'The customer (customers.id)';
COMMENT ON COLUMN analytics.customer_order_spans.order_number IS 'The order (transactions.order_number)';
COMMENT ON COLUMN analytics.customer_order_spans.first_month IS 'UTC month of the order''s first completed line of that customer';
COMMENT ON COLUMN analytics.customer_order_spans.last_month IS 'UTC month of the order''s last completed line of that customer';
COMMENT ON COLUMN analytics.customer_totals.customer_id IS 'The customer (customers.id)';
COMMENT ON COLUMN analytics.customer_totals.orders IS 'Orders with a completed line, all history';
COMMENT ON COLUMN analytics.customer_totals.lines IS 'Completed lines, all history';
COMMENT ON COLUMN analytics.customer_totals.units IS 'Units net of refund rows, all history';
COMMENT ON COLUMN analytics.customer_totals.revenue IS 'Revenue net of refund rows, all history';
COMMENT ON COLUMN analytics.customer_totals.first_purchase IS 'First completed line';
COMMENT ON COLUMN analytics.customer_totals.last_purchase IS 'Last completed line';
COMMENT ON COLUMN analytics.customer_totals.first_month IS 'First month with a row in analytics.customer_months';
COMMENT ON COLUMN analytics.customer_totals.last_month IS 'Last month with a row in analytics.customer_months';

-- The reference: every row of both tables recomputed from transactions (rebuild and check)
CREATE FUNCTION analytics.customer_months_recompute(p_customers bigint[] DEFAULT NULL)
RETURNS TABLE(customer_id bigint, month timestamptz, orders bigint, lines bigint, units bigint, revenue numeric,
              first_purchase timestamptz, last_purchase timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
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
$$;
COMMENT ON FUNCTION analytics.customer_months_recompute(bigint[]) IS
  'The rows of analytics.customer_months recomputed from transactions (every customer, or the given ones): the reference of customer_months_check() and customer_months_rebuild()';

CREATE FUNCTION analytics.customer_order_spans_recompute(p_customers bigint[] DEFAULT NULL)
RETURNS TABLE(customer_id bigint, order_number text, first_month timestamptz, last_month timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT t.customer_id, t.order_number, analytics.utc_month(min(t.transaction_time)),
         analytics.utc_month(max(t.transaction_time))
    FROM public.transactions t
   WHERE t.status = 'completed' AND t.order_number IS NOT NULL
     AND (p_customers IS NULL OR t.customer_id = ANY (p_customers))
   GROUP BY t.customer_id, t.order_number
  HAVING analytics.utc_month(min(t.transaction_time)) < analytics.utc_month(max(t.transaction_time))
$$;
COMMENT ON FUNCTION analytics.customer_order_spans_recompute(bigint[]) IS
  'The rows of analytics.customer_order_spans recomputed from transactions (every customer, or the given ones): orders whose completed lines lie in more than one UTC month';

CREATE FUNCTION analytics.customer_totals_recompute(p_customers bigint[] DEFAULT NULL)
RETURNS TABLE(customer_id bigint, orders bigint, lines bigint, units bigint, revenue numeric,
              first_purchase timestamptz, last_purchase timestamptz, first_month timestamptz, last_month timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT r.customer_id, sum(r.orders)::bigint, sum(r.lines)::bigint, sum(r.units)::bigint, sum(r.revenue),
         min(r.first_purchase), max(r.last_purchase), min(r.month), max(r.month)
    FROM analytics.customer_months_recompute(p_customers) r
   GROUP BY r.customer_id
$$;
COMMENT ON FUNCTION analytics.customer_totals_recompute(bigint[]) IS
  'The rows of analytics.customer_totals recomputed from transactions (every customer, or the given ones)';

-- Differences with the recomputation (none when exact)
CREATE FUNCTION analytics.customer_months_check()
RETURNS TABLE(source text, tbl text, customer_id bigint, month timestamptz, detail text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  (SELECT 'stored', 'customer_months', x.customer_id, x.month, x::text FROM
     (SELECT m.customer_id, m.month, m.orders, m.lines, m.units, m.revenue, m.first_purchase, m.last_purchase
        FROM analytics.customer_months m
      EXCEPT SELECT * FROM analytics.customer_months_recompute()) x)
  UNION ALL
  (SELECT 'recomputed', 'customer_months', x.customer_id, x.month, x::text FROM
     (SELECT * FROM analytics.customer_months_recompute()
      EXCEPT SELECT m.customer_id, m.month, m.orders, m.lines, m.units, m.revenue, m.first_purchase, m.last_purchase
        FROM analytics.customer_months m) x)
  UNION ALL
  (SELECT 'stored', 'customer_totals', x.customer_id, NULL::timestamptz, x::text FROM
     (SELECT * FROM analytics.customer_totals EXCEPT SELECT * FROM analytics.customer_totals_recompute()) x)
  UNION ALL
  (SELECT 'recomputed', 'customer_totals', x.customer_id, NULL::timestamptz, x::text FROM
     (SELECT * FROM analytics.customer_totals_recompute() EXCEPT SELECT * FROM analytics.customer_totals) x)
  UNION ALL
  (SELECT 'stored', 'customer_order_spans', x.customer_id, x.first_month, x::text FROM
     (SELECT s.customer_id, s.order_number, s.first_month, s.last_month FROM analytics.customer_order_spans s
      EXCEPT SELECT * FROM analytics.customer_order_spans_recompute()) x)
  UNION ALL
  (SELECT 'recomputed', 'customer_order_spans', x.customer_id, x.first_month, x::text FROM
     (SELECT * FROM analytics.customer_order_spans_recompute()
      EXCEPT SELECT s.customer_id, s.order_number, s.first_month, s.last_month FROM analytics.customer_order_spans s) x)
$$;
COMMENT ON FUNCTION analytics.customer_months_check() IS
  'Rows of analytics.customer_months, customer_totals and customer_order_spans that differ from the recomputation from transactions (stored / recomputed side); empty when exact';

-- Rebuild: every customer (NULL: SHARE lock on transactions, writers wait) or the given ones (their rows locked)
CREATE FUNCTION analytics.customer_months_rebuild(p_customers bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE n bigint;
BEGIN
  IF p_customers IS NULL THEN
    LOCK TABLE public.transactions IN SHARE MODE;
    TRUNCATE analytics.customer_months, analytics.customer_order_spans, analytics.customer_totals;
  ELSE
    PERFORM 1 FROM public.customers c WHERE c.id = ANY (p_customers) ORDER BY c.id FOR NO KEY UPDATE;
    DELETE FROM analytics.customer_months m WHERE m.customer_id = ANY (p_customers);
    DELETE FROM analytics.customer_order_spans s WHERE s.customer_id = ANY (p_customers);
    DELETE FROM analytics.customer_totals s WHERE s.customer_id = ANY (p_customers);
  END IF;
  INSERT INTO analytics.customer_months
  SELECT * FROM analytics.customer_months_recompute(p_customers) r ORDER BY r.customer_id, r.month;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO analytics.customer_order_spans SELECT * FROM analytics.customer_order_spans_recompute(p_customers);
  INSERT INTO analytics.customer_totals
  SELECT m.customer_id, sum(m.orders)::bigint, sum(m.lines)::bigint, sum(m.units)::bigint, sum(m.revenue),
         min(m.first_purchase), max(m.last_purchase), min(m.month), max(m.month)
    FROM analytics.customer_months m
   WHERE p_customers IS NULL OR m.customer_id = ANY (p_customers)
   GROUP BY m.customer_id ORDER BY m.customer_id;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.customer_months_rebuild(bigint[]) IS
  'Recomputes analytics.customer_months, customer_order_spans and customer_totals from transactions: of every customer (NULL; SHARE lock on transactions) or of the given customers (their customers rows locked as the triggers lock them); returns the month rows written. After a load with the transactions_months_* triggers disabled (seed, import)';
REVOKE ALL ON FUNCTION analytics.customer_months_rebuild(bigint[]) FROM PUBLIC;

-- Upkeep: the line versions of a statement that count (completed lines, refund rows): their customers,
-- months and order numbers (of completed lines). The customers rows are locked in id order (FOR NO KEY
-- UPDATE, as the net-spend trigger's UPDATE locks them): every writer of a customer's lines waits for the
-- previous one to commit, so the recomputation below, in new statements, sees all of them. Then each touched
-- (customer, month) row is recomputed from that customer's lines of the month (index on (customer_id,
-- transaction_time)) — with the months of the other completed lines of the touched orders, whose first
-- month may have moved — then the touched customers' totals from their months, and the spans of the touched
-- orders. Generic plans (the same index probes whatever the arrays hold): custom plans re-planned these
-- statements on every call, 1.5 ms a single-row INSERT.
CREATE FUNCTION analytics.customer_months_apply(p_customer bigint[], p_month timestamptz[], p_order text[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  PERFORM 1 FROM public.customers c WHERE c.id = ANY (p_customer) ORDER BY c.id FOR NO KEY UPDATE;
  WITH v AS (
    SELECT * FROM unnest(p_customer, p_month, p_order) AS v(customer_id, month, order_number)
  ), o AS (
    SELECT DISTINCT v.customer_id, v.order_number FROM v WHERE v.order_number IS NOT NULL
  ), k AS (
    SELECT v.customer_id, v.month FROM v
    UNION
    SELECT o.customer_id, analytics.utc_month(t.transaction_time)
      FROM o JOIN public.transactions t
        ON t.order_number = o.order_number AND t.customer_id = o.customer_id AND t.status = 'completed'
  ), r AS (
    SELECT k.customer_id, k.month, x.*
      FROM k CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               count(*) FILTER (WHERE t.status = 'completed') AS lines,
               count(*) FILTER (WHERE t.status = 'completed' AND t.order_number IS NULL) AS lone,
               sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint AS units,
               sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END) AS revenue,
               min(t.transaction_time) FILTER (WHERE t.status = 'completed') AS first_purchase,
               max(t.transaction_time) FILTER (WHERE t.status = 'completed') AS last_purchase
          FROM public.transactions t
         WHERE t.customer_id = k.customer_id AND t.transaction_time >= k.month
           AND t.transaction_time < k.month + interval '1 month'
           AND (t.status = 'completed' OR t.kind = 'refund')) x
  ), ro AS (
    SELECT r.*, r.lone + (
             SELECT count(*) FROM (
               SELECT DISTINCT t.order_number FROM public.transactions t
                WHERE t.customer_id = r.customer_id AND t.transaction_time >= r.month
                  AND t.transaction_time < r.month + interval '1 month'
                  AND t.status = 'completed' AND t.order_number IS NOT NULL) d
              WHERE NOT EXISTS (SELECT 1 FROM public.transactions e
                                 WHERE e.order_number = d.order_number AND e.customer_id = r.customer_id
                                   AND e.status = 'completed' AND e.transaction_time < r.month)) AS orders
      FROM r WHERE r.n > 0
  ), del AS (
    DELETE FROM analytics.customer_months m USING r
     WHERE r.n = 0 AND m.customer_id = r.customer_id AND m.month = r.month
  )
  INSERT INTO analytics.customer_months AS m
  SELECT ro.customer_id, ro.month, ro.orders, ro.lines, ro.units, ro.revenue, ro.first_purchase, ro.last_purchase
    FROM ro ORDER BY ro.customer_id, ro.month
  ON CONFLICT (customer_id, month) DO UPDATE
     SET orders = excluded.orders, lines = excluded.lines, units = excluded.units, revenue = excluded.revenue,
         first_purchase = excluded.first_purchase, last_purchase = excluded.last_purchase
   WHERE (m.orders, m.lines, m.units, m.revenue, m.first_purchase, m.last_purchase)
         IS DISTINCT FROM (excluded.orders, excluded.lines, excluded.units, excluded.revenue,
                           excluded.first_purchase, excluded.last_purchase);
  WITH c AS (
    SELECT DISTINCT x.customer_id FROM unnest(p_customer) AS x(customer_id)
  ), t AS (
    SELECT c.customer_id, x.*
      FROM c CROSS JOIN LATERAL (
        SELECT count(*) AS n, sum(m.orders)::bigint AS orders, sum(m.lines)::bigint AS lines,
               sum(m.units)::bigint AS units, sum(m.revenue) AS revenue, min(m.first_purchase) AS first_purchase,
               max(m.last_purchase) AS last_purchase, min(m.month) AS first_month, max(m.month) AS last_month
          FROM analytics.customer_months m WHERE m.customer_id = c.customer_id) x
  ), del AS (
    DELETE FROM analytics.customer_totals tt USING t WHERE t.n = 0 AND tt.customer_id = t.customer_id
  )
  INSERT INTO analytics.customer_totals AS tt
  SELECT t.customer_id, t.orders, t.lines, t.units, t.revenue, t.first_purchase, t.last_purchase, t.first_month,
         t.last_month
    FROM t WHERE t.n > 0 ORDER BY t.customer_id
  ON CONFLICT (customer_id) DO UPDATE
     SET orders = excluded.orders, lines = excluded.lines, units = excluded.units, revenue = excluded.revenue,
         first_purchase = excluded.first_purchase, last_purchase = excluded.last_purchase,
         first_month = excluded.first_month, last_month = excluded.last_month
   WHERE (tt.orders, tt.lines, tt.units, tt.revenue, tt.first_purchase, tt.last_purchase, tt.first_month, tt.last_month)
         IS DISTINCT FROM (excluded.orders, excluded.lines, excluded.units, excluded.revenue, excluded.first_purchase,
                           excluded.last_purchase, excluded.first_month, excluded.last_month);
  IF EXISTS (SELECT 1 FROM unnest(p_order) x WHERE x IS NOT NULL) THEN
    WITH o AS (
      SELECT DISTINCT v.customer_id, v.order_number
        FROM unnest(p_customer, p_order) AS v(customer_id, order_number) WHERE v.order_number IS NOT NULL
    ), s AS (
      SELECT o.customer_id, o.order_number, x.first_month, x.last_month
        FROM o CROSS JOIN LATERAL (
          SELECT analytics.utc_month(min(t.transaction_time)) AS first_month,
                 analytics.utc_month(max(t.transaction_time)) AS last_month
            FROM public.transactions t
           WHERE t.order_number = o.order_number AND t.customer_id = o.customer_id AND t.status = 'completed') x
    ), del AS (
      DELETE FROM analytics.customer_order_spans p USING s
       WHERE p.customer_id = s.customer_id AND p.order_number = s.order_number
         AND NOT coalesce(s.first_month < s.last_month, false)
    )
    INSERT INTO analytics.customer_order_spans AS p
    SELECT s.customer_id, s.order_number, s.first_month, s.last_month FROM s
     WHERE s.first_month < s.last_month ORDER BY 1, 2
    ON CONFLICT (customer_id, order_number) DO UPDATE
       SET first_month = excluded.first_month, last_month = excluded.last_month;
  END IF;
END $$;
REVOKE ALL ON FUNCTION analytics.customer_months_apply(bigint[], timestamptz[], text[]) FROM PUBLIC;
COMMENT ON FUNCTION analytics.customer_months_apply(bigint[], timestamptz[], text[]) IS
  'Upkeep of analytics.customer_months, customer_totals and customer_order_spans for a statement''s counted line versions (customer, UTC month, order_number of completed lines): locks the customers in id order, recomputes the touched months, totals and spans from transactions (the transactions_months_* triggers)';

-- INSERT (and COPY): the statement's lines only add, so the touched rows are updated by deltas instead of being
-- recomputed from the customer's lines of the month (after the same customer lock): lines, units, revenue added,
-- first/last purchase by least/greatest, orders +1 for a line without order number and for an order that had no
-- completed line of the customer before the statement (in its first month), or moved from its old first month
-- to the statement's earlier one; totals likewise; spans upserted for the orders now in more than one month.
CREATE FUNCTION analytics.customer_months_add(p_customer bigint[], p_time timestamptz[], p_order text[],
                                              p_completed boolean[], p_units bigint[], p_revenue numeric[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
SET plan_cache_mode = force_generic_plan AS $$
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
END $$;
REVOKE ALL ON FUNCTION analytics.customer_months_add(bigint[], timestamptz[], text[], boolean[], bigint[], numeric[]) FROM PUBLIC;
COMMENT ON FUNCTION analytics.customer_months_add(bigint[], timestamptz[], text[], boolean[], bigint[], numeric[]) IS
  'Upkeep of analytics.customer_months, customer_totals and customer_order_spans for an INSERT''s counted lines (customer, time, order_number of completed lines, completed, signed units and revenue): locks the customers in id order, then adds deltas (orders by the first completed line of each order)';

CREATE FUNCTION analytics.customer_months_insert_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE a bigint[]; b timestamptz[]; c text[]; d boolean[]; e bigint[]; f numeric[];
BEGIN
  SELECT array_agg(n.customer_id), array_agg(n.transaction_time),
         array_agg(CASE WHEN n.status = 'completed' THEN n.order_number END), array_agg(n.status = 'completed'),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.quantity ELSE n.quantity END::bigint),
         array_agg(CASE WHEN n.kind = 'refund' THEN -n.amount::numeric ELSE n.amount::numeric END)
    INTO a, b, c, d, e, f
    FROM new_rows n WHERE n.status = 'completed' OR n.kind = 'refund';
  IF a IS NOT NULL THEN
    PERFORM analytics.customer_months_add(a, b, c, d, e, f);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION analytics.customer_months_delete_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE a bigint[]; b timestamptz[]; c text[];
BEGIN
  SELECT array_agg(o.customer_id), array_agg(analytics.utc_month(o.transaction_time)),
         array_agg(CASE WHEN o.status = 'completed' THEN o.order_number END)
    INTO a, b, c
    FROM old_rows o WHERE o.status = 'completed' OR o.kind = 'refund';
  IF a IS NOT NULL THEN
    PERFORM analytics.customer_months_apply(a, b, c);
  END IF;
  RETURN NULL;
END $$;

-- UPDATE: the versions of the rows whose counted columns changed (a label, a score, a flag: nothing)
CREATE FUNCTION analytics.customer_months_update_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE a bigint[]; b timestamptz[]; c text[];
BEGIN
  WITH ch AS (
    SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE (o.customer_id, o.transaction_time, o.status, o.kind, o.amount, o.quantity, o.order_number)
           IS DISTINCT FROM (n.customer_id, n.transaction_time, n.status, n.kind, n.amount, n.quantity, n.order_number)
  ), x AS (
    SELECT o.customer_id, o.transaction_time, o.status, o.kind, o.order_number FROM old_rows o
     WHERE o.id IN (SELECT ch.id FROM ch) OR o.id NOT IN (SELECT n.id FROM new_rows n)
    UNION ALL
    SELECT n.customer_id, n.transaction_time, n.status, n.kind, n.order_number FROM new_rows n
     WHERE n.id IN (SELECT ch.id FROM ch) OR n.id NOT IN (SELECT o.id FROM old_rows o)
  )
  SELECT array_agg(x.customer_id), array_agg(analytics.utc_month(x.transaction_time)),
         array_agg(CASE WHEN x.status = 'completed' THEN x.order_number END)
    INTO a, b, c
    FROM x WHERE x.status = 'completed' OR x.kind = 'refund';
  IF a IS NOT NULL THEN
    PERFORM analytics.customer_months_apply(a, b, c);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION analytics.customer_months_truncate_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  TRUNCATE analytics.customer_months, analytics.customer_order_spans, analytics.customer_totals;
  RETURN NULL;
END $$;

-- named to fire after transactions_fraud_state_* and before transactions_spent_*: every path locks the fraud state
-- rows first (the scoring's BEFORE ROW trigger on INSERT, the fraud state triggers on UPDATE/DELETE), then these
-- lock every customer of the statement's counted lines in id order, and the net-spend trigger updates a subset of them
CREATE TRIGGER transactions_months_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customer_months_insert_trigger();
CREATE TRIGGER transactions_months_upd AFTER UPDATE ON public.transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customer_months_update_trigger();
CREATE TRIGGER transactions_months_del AFTER DELETE ON public.transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customer_months_delete_trigger();
CREATE TRIGGER transactions_months_trunc AFTER TRUNCATE ON public.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.customer_months_truncate_trigger();

SELECT analytics.customer_months_rebuild();

-- The length of [a, b) within [lo, hi] (0 when they do not meet; infinities allowed for a and b)
CREATE FUNCTION analytics.time_within(a timestamptz, b timestamptz, lo timestamptz, hi timestamptz) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT greatest(least(greatest(b, lo), hi) - least(greatest(a, lo), hi), interval '0')
$$;
COMMENT ON FUNCTION analytics.time_within(timestamptz, timestamptz, timestamptz, timestamptz) IS
  'The length of [a, b) within [lo, hi], 0 when they do not meet (a and b may be infinite): how much of a stretch of time holds lines (analytics.customer_orders)';

-- The whole UTC months of the window's cover from analytics.customer_months; the lines between the window and the
-- cover from transactions (by the transaction_time index): added when in the window, subtracted when in the cover
-- only. Each end snaps to the month boundary (below or above it) with fewer lines in between, clamped to the
-- times of the first and last line (so [now - 365 days, now) reads no line). The orders whose count may differ
-- from the months' (those with a completed line between window and cover, and those spanning the cover's first
-- boundary, analytics.customer_order_spans) are looked at one by one: counted when they have a completed line in
-- the window, the months counted them when their first completed line is in the cover. First and last purchase
-- are probed by the (customer_id, transaction_time) index for the customers whose cover extremes left the window.
-- A customer whose months all lie in the cover is read from analytics.customer_totals (no aggregation).
-- A window without a whole month in its cover, or whose edges are more than an eighth of it: the plain query.
CREATE OR REPLACE FUNCTION analytics.customer_orders(p_from timestamptz, p_to timestamptz)
RETURNS TABLE(customer_id bigint, orders bigint, revenue numeric, units bigint, lines bigint,
              first_purchase timestamptz, last_purchase timestamptz)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
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
        b_from := CASE WHEN analytics.time_within(lo, p_from, t_min, t_max) <= analytics.time_within(p_from, hi, t_min, t_max)
                       THEN lo ELSE hi END;
        IF p_from = lo THEN b_from := lo; END IF;
      END IF;
      lo := analytics.utc_month(p_to);
      hi := lo + interval '1 month';
      b_to := CASE WHEN analytics.time_within(lo, p_to, t_min, t_max) < analytics.time_within(p_to, hi, t_min, t_max)
                   THEN lo ELSE hi END;
      IF p_to = lo THEN b_to := lo; END IF;
      win := analytics.time_within(p_from, p_to, t_min, t_max);
      edge := analytics.time_within(least(p_from, b_from), greatest(p_from, b_from), t_min, t_max)
            + analytics.time_within(least(p_to, b_to), greatest(p_to, b_to), t_min, t_max);
      IF b_from >= b_to OR 8 * edge > win THEN
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
  WITH d AS (
    SELECT t.id, t.customer_id, t.order_number, t.transaction_time, t.status, t.kind, t.amount, t.quantity,
           CASE WHEN t.transaction_time >= p_from AND t.transaction_time < p_to THEN 1 ELSE -1 END AS sgn
      FROM bi.transactions t
     WHERE (t.status = 'completed' OR t.kind = 'refund')
       AND ((t.transaction_time >= least(p_from, b_from) AND t.transaction_time < greatest(p_from, b_from))
         OR (t.transaction_time >= least(p_to, b_to) AND t.transaction_time < greatest(p_to, b_to)))
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
  ), s AS (
    SELECT DISTINCT d.customer_id, d.order_number FROM d WHERE d.status = 'completed' AND d.order_number IS NOT NULL
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
  SELECT w.customer_id, w.orders + coalesce(so.adj, 0), w.revenue, w.units, w.lines,
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
    FROM w LEFT JOIN so ON so.customer_id = w.customer_id
   WHERE w.lines > 0;
  PERFORM set_config('enable_indexscan', v_idx, true);
END $$;
COMMENT ON FUNCTION analytics.customer_orders(timestamptz, timestamptz) IS
  'Per customer with at least one completed line in [p_from, p_to): orders (distinct order_number, or line, of completed lines), revenue and units net of the customer''s refund rows in the range, completed lines, first and last purchase. From analytics.customer_months for the whole UTC months and transactions for the edges (migration customer_months); the same answers as the GROUP BY of every line, which a window without a whole month still runs';

-- the Online Retail import: the trigger off for its bulk statement as the others, its customers rebuilt after
CREATE OR REPLACE FUNCTION import.online_retail(p_file_name text DEFAULT NULL::text)
 RETURNS TABLE(section text, reason text, lines bigint, amount numeric)
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
 SET work_mem TO '256MB'
 SET jit TO 'off'
AS $function$
DECLARE
  t0        timestamptz := clock_timestamp();
  t         timestamptz := clock_timestamp();
  n_read    bigint;
  n_err     bigint;
  n_bad     bigint;
  n_new     bigint;
  n_tx      bigint;
  n_ins     bigint;
  n_cust    bigint;
  n_prod    bigint;
  v_batch   bigint;
  v_from    timestamptz;
  v_to      timestamptz;
  v_errs    jsonb;
  v_first   text;
  v_scoring text;
  v_state   text;
  v_summary jsonb;
  v_seq     regclass := pg_get_serial_sequence('public.transactions', 'id')::regclass;
  v_tmp     text;
  v_prev    text;
  v_fast    boolean;
  v_min_id  bigint;
  v_max_id  bigint;
  v_nl      text;
  v_overlap boolean;
  n_invalid bigint;
  v_country_names    text[];
  v_country_codes    text[];
  v_special_patterns text[];
  v_special_reasons  text[];
  v_idx_def       text[];
  v_idx_name      text[];
  v_idx_comment   text[];
  v_idx_clustered text[];
  v_pk_name       text;
  v_pk_def        text;
  v_lidx_def      text[];
  v_lidx_name     text[];
  v_mj      text;
  n_cust_state bigint;
BEGIN
  -- one import at a time (the ledger decides what is new)
  LOCK TABLE import.online_retail_line IN EXCLUSIVE MODE;

  -- (a second import in the same transaction: the temporary tables of the first are still there)
  FOREACH v_tmp IN ARRAY ARRAY['or_stage', 'or_cust', 'or_cust_id', 'or_new_prod', 'or_summary'] LOOP
    IF to_regclass('pg_temp.' || v_tmp) IS NOT NULL THEN
      EXECUTE format('DROP TABLE pg_temp.%I', v_tmp);
    END IF;
  END LOOP;

  -- 1. parse, validate, number within the invoice and classify, in one pass in C:
  --    import.online_retail_parse() (the rules of import.online_retail_parsed and import.uk_time)
  --    returns the staged lines sorted by (time, line) with their outcome ('invalid' when a field
  --    is); transaction ids are drawn in that order. Lines already imported (same InvoiceNo and
  --    position in it) are skipped: they can only be there when the ledger has an invoice of the
  --    file; when it has none (a first import, the next months) the ledger is not read. If a line
  --    is invalid, the messages with their line numbers come from import.online_retail_parsed and
  --    nothing is imported.
  v_overlap := EXISTS (SELECT 1 FROM import.online_retail_line)
               AND EXISTS (SELECT 1 FROM import.online_retail_line l
                            WHERE l.invoice_no IN (SELECT DISTINCT upper(btrim(r.invoice_no)) FROM import.online_retail_raw r));
  SELECT array_agg(c.name ORDER BY c.name), array_agg(c.code::text ORDER BY c.name)
    INTO v_country_names, v_country_codes FROM import.country c;
  SELECT array_agg(x.pattern ORDER BY length(x.pattern) DESC, x.pattern),  -- the longest pattern first
         array_agg(x.reason ORDER BY length(x.pattern) DESC, x.pattern)
    INTO v_special_patterns, v_special_reasons FROM import.special_code x;
  IF v_overlap THEN
    CREATE TEMP TABLE or_stage ON COMMIT DROP AS
    SELECT c.*, CASE WHEN c.outcome IN ('sale', 'refund') THEN nextval(v_seq) END AS tx_id
      FROM (SELECT p.line, p.inv, p.line_no, p.sku, p.descr, p.qty, p.ts, p.price, p.cust, p.cc, p.email, p.raw_hash,
                   CASE WHEN p.outcome <> 'invalid' AND l.invoice_no IS NOT NULL THEN
                          CASE WHEN l.raw_hash = p.raw_hash THEN 'already_imported' ELSE 'changed_since_import' END
                        ELSE p.outcome END AS outcome
              FROM import.online_retail_parse('import.online_retail_raw'::regclass, v_country_names, v_country_codes,
                                              v_special_patterns, v_special_reasons) WITH ORDINALITY p
              LEFT JOIN import.online_retail_line l ON l.invoice_no = p.inv AND l.line_no = p.line_no
             ORDER BY p.ordinality) c;
    GET DIAGNOSTICS n_read = ROW_COUNT;
    SELECT count(*) FILTER (WHERE outcome = 'invalid'),
           count(*) FILTER (WHERE outcome NOT IN ('already_imported', 'changed_since_import')),
           count(*) FILTER (WHERE outcome IN ('sale', 'refund')),
           min(ts) FILTER (WHERE outcome IN ('sale', 'refund')), max(ts) FILTER (WHERE outcome IN ('sale', 'refund')),
           min(tx_id), max(tx_id)
      INTO n_invalid, n_new, n_tx, v_from, v_to, v_min_id, v_max_id FROM or_stage;
  ELSE
    -- no line can be in the ledger: the same rows written straight into or_stage by
    -- import.online_retail_stage() (no tuplestore, no CREATE TABLE AS, the counts as it goes)
    CREATE TEMP TABLE or_stage (line bigint, inv text, line_no integer, sku text, descr text, qty integer,
                                ts timestamptz, price numeric, cust bigint, cc country_code, email text,
                                raw_hash bigint, outcome text, tx_id bigint) ON COMMIT DROP;
    SELECT x.lines, x.invalid, x.lines, x.transactions, x.ts_from, x.ts_to, x.id_from, x.id_to
      INTO n_read, n_invalid, n_new, n_tx, v_from, v_to, v_min_id, v_max_id
      FROM import.online_retail_stage('import.online_retail_raw'::regclass, to_regclass('pg_temp.or_stage'), v_seq,
                                      v_country_names, v_country_codes, v_special_patterns, v_special_reasons) x;
  END IF;
  IF n_invalid > 0 THEN
    SELECT count(*), jsonb_agg(jsonb_build_object('line', e.line, 'message', e.msg) ORDER BY e.rn)
             FILTER (WHERE e.rn <= 100),
           string_agg(format('line %s: %s', e.line, e.msg), E'\n' ORDER BY e.rn) FILTER (WHERE e.rn <= 20),
           count(DISTINCT e.line)
      INTO n_err, v_errs, v_first, n_bad
      FROM (SELECT s.line, m.msg, row_number() OVER (ORDER BY s.line, m.ord) AS rn
              FROM import.online_retail_parsed s CROSS JOIN LATERAL unnest(s.errors) WITH ORDINALITY m(msg, ord)
             WHERE cardinality(s.errors) > 0) e;
    IF coalesce(n_err, 0) = 0 THEN  -- cannot happen: both parse the same way
      RAISE EXCEPTION 'online retail import: a line is invalid but import.online_retail_parsed reports no error'
        USING ERRCODE = 'internal_error';
    END IF;
    RAISE EXCEPTION E'online retail import: % invalid field(s) in % line(s); nothing was imported\n%',
                    n_err, n_bad, v_first || CASE WHEN n_err > 20 THEN E'\n...' ELSE '' END
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = jsonb_build_object('errors', v_errs, 'count', n_err)::text,
            HINT = 'SELECT * FROM import.online_retail_errors() lists every invalid field with its line number';
  END IF;
  -- row count and the estimates of the joins below (a temporary table has none): a sample of 3,000
  -- lines (statistics target 10) is enough for them and costs a tenth of the default 30,000 (the
  -- sorts of the sampled texts)
  v_tmp := current_setting('default_statistics_target');
  PERFORM set_config('default_statistics_target', '10', true);
  ANALYZE or_stage (outcome, sku, email);
  PERFORM set_config('default_statistics_target', v_tmp, true);
  RAISE NOTICE 'import [1/7] read, validated and classified % lines: % new, % to import as sales and refunds (% ms)',
               n_read, n_new, n_tx, round(extract(epoch FROM clock_timestamp() - t) * 1000);
  t := clock_timestamp();

  IF n_new > 0 THEN
    INSERT INTO import.online_retail_batch (file_name, rows_read, rows_new, transactions, summary)
    VALUES (p_file_name, n_read, n_new, n_tx, '{}') RETURNING id INTO v_batch;
  END IF;

  IF n_tx > 0 THEN
    -- 2. customers: one per CustomerID, one guest per country for lines without one; the home
    --    country of a new customer = the country of most of its invoices (then lines, then code)
    CREATE TEMP TABLE or_cust ON COMMIT DROP AS
    SELECT o.email, o.cust, o.cc, count(*) AS invoices, sum(o.n) AS n, min(o.first_ts) AS first_ts
      FROM (SELECT s.email, s.cust, s.cc, s.inv, count(*) AS n, min(s.ts) AS first_ts
              FROM or_stage s WHERE s.outcome IN ('sale', 'refund')
             GROUP BY 1, 2, 3, 4) o
     GROUP BY 1, 2, 3;
    INSERT INTO customers (email, name, country, registration_date)
    SELECT DISTINCT ON (c.email) c.email,
           CASE WHEN c.cust IS NULL THEN 'Online Retail guest (' || c.cc || ')' ELSE 'Online Retail customer ' || c.cust END,
           c.cc, min(c.first_ts) OVER (PARTITION BY c.email)
      FROM or_cust c
     ORDER BY c.email, c.invoices DESC, c.n DESC, c.cc
    ON CONFLICT ((lower(email))) DO NOTHING;
    GET DIAGNOSTICS n_cust = ROW_COUNT;
    CREATE TEMP TABLE or_cust_id ON COMMIT DROP AS
    SELECT DISTINCT c.email, cu.id
      FROM or_cust c JOIN customers cu ON lower(cu.email) = c.email;

    -- products: new StockCodes (SKU); name = most frequent description, price = most frequent
    -- unit price of its sales (ties: the lower price; of its sales and refunds when it has no
    -- sale, ties: more lines, then the lower price);
    -- category by import.category_rule (as import.category_of() applies it)
    CREATE TEMP TABLE or_new_prod ON COMMIT DROP AS
    WITH g AS (  -- one pass over the lines of the new SKUs
      SELECT s.sku, s.descr, s.price, count(*) AS n, count(*) FILTER (WHERE s.outcome = 'sale') AS ns
        FROM or_stage s
       WHERE s.outcome IN ('sale', 'refund') AND NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s.sku)
       GROUP BY s.sku, s.descr, s.price
    ), d AS (
      SELECT DISTINCT ON (x.sku) x.sku, x.descr
        FROM (SELECT g.sku, g.descr, sum(g.n) AS n FROM g WHERE g.descr IS NOT NULL GROUP BY 1, 2) x
       ORDER BY x.sku, x.n DESC, x.descr
    ), pr AS (  -- (with sales: the rule of the refresh in step 5, which then has nothing to change)
      SELECT DISTINCT ON (x.sku) x.sku, x.price
        FROM (SELECT g.sku, g.price, sum(g.ns) AS ns, sum(g.n) AS n,
                     bool_or(sum(g.ns) > 0) OVER (PARTITION BY g.sku) AS has_sale
                FROM g GROUP BY 1, 2) x
       ORDER BY x.sku, x.ns DESC, CASE WHEN x.has_sale THEN 0 ELSE x.n END DESC, x.price
    )
    SELECT pr.sku, coalesce(d.descr, pr.sku) AS name, pr.price, coalesce(cat.category, 'Gifts & Other') AS category
      FROM pr
      LEFT JOIN d ON d.sku = pr.sku
      LEFT JOIN LATERAL (SELECT r.category FROM import.category_rule r WHERE upper(coalesce(d.descr, pr.sku)) ~ r.pattern
                          ORDER BY r.priority LIMIT 1) cat ON true;
    INSERT INTO categories (name, description)
    SELECT DISTINCT n.category, 'Assigned by the Online Retail import (import.category_rule)' FROM or_new_prod n
    ON CONFLICT (name) DO NOTHING;
    INSERT INTO products (sku, name, category_id, price, stock_quantity, low_stock_threshold)
    SELECT n.sku, n.name, c.id, n.price, 0, 0
      FROM or_new_prod n JOIN categories c ON c.name = n.category
     ORDER BY n.sku;
    GET DIAGNOSTICS n_prod = ROW_COUNT;
    RAISE NOTICE 'import [2/7] % new customers, % new products (% ms)', n_cust, n_prod,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 3. transactions, with fraud scoring and the rollup trigger off (rebuilt below in one pass).
    -- Bulk path (superuser, and no INSERT trigger on the table but the known four, none of
    -- them firing only on replicas): the statement runs with session_replication_role =
    -- replica, which skips those triggers and the per-row foreign-key checks. Their work is done
    -- here instead: the referenced rows are locked as the foreign-key checks would lock them,
    -- every line must find them (count checked), the rollups are rebuilt and the bulk
    -- notification sent below. The CHECK constraints and indexes apply as always.
    v_fast := n_tx > 50
      AND (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
      AND NOT EXISTS (SELECT 1 FROM pg_trigger tg
                       WHERE tg.tgrelid = 'public.transactions'::regclass AND NOT tg.tgisinternal
                         AND ((tg.tgtype::int & 4) <> 0 AND tg.tgenabled <> 'D'
                              AND tg.tgname NOT IN ('transactions_score', 'transactions_score_flush',
                                                    'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins', 'transactions_stock_ins',
                                                    'transactions_months_ins')
                              OR tg.tgenabled = 'R'));
    IF v_fast THEN
      PERFORM 1 FROM customers cu WHERE cu.id IN (SELECT c.id FROM or_cust_id c) FOR KEY SHARE OF cu;
      PERFORM 1 FROM products p WHERE p.sku IN (SELECT s.sku FROM or_stage s WHERE s.outcome IN ('sale', 'refund'))
        FOR KEY SHARE OF p;
      v_prev := current_setting('session_replication_role');
      PERFORM set_config('session_replication_role', 'replica', true);
      v_scoring := 'bulk path: triggers and per-row foreign-key checks bypassed, scoring off';
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.version();  -- loads the module, which defines the GUC
      v_prev := current_setting('techmart.scoring');
      PERFORM set_config('techmart.scoring', 'off', true);
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_months_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_stock_ins;
      v_scoring := 'techmart.scoring = off';
    ELSE
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_score;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_months_ins;
      ALTER TABLE public.transactions DISABLE TRIGGER transactions_stock_ins;
      v_scoring := 'trigger transactions_score disabled';
    END IF;
    -- in the staged order (= transaction id = time order, which the rollup rebuild and every
    -- time-range scan read back): the small tables are hashed and the staged lines streamed
    -- through them (hash joins only: a merge join would write the rows in e-mail order), no sort
    v_nl := current_setting('enable_nestloop');
    v_mj := current_setting('enable_mergejoin');
    PERFORM set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true);
    -- into an EMPTY transactions table (a first history load; bulk path, not partitioned): its
    -- secondary indexes are dropped and built again after the INSERT (a sorted build of each
    -- instead of 100,000 insertions into 6 indexes; the drop takes the table's ACCESS EXCLUSIVE
    -- lock until the import commits). The primary key, constraint and unique indexes stay; not
    -- done when an index is invalid or in another tablespace; comments and CLUSTER marks kept.
    IF v_fast AND NOT EXISTS (SELECT 1 FROM transactions)
       AND (SELECT c.relkind FROM pg_class c WHERE c.oid = 'public.transactions'::regclass) = 'r' THEN
      LOCK TABLE public.transactions IN ACCESS EXCLUSIVE MODE;
      IF NOT EXISTS (SELECT 1 FROM transactions)  -- still empty under the lock
         AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                          WHERE i.indrelid = 'public.transactions'::regclass
                            AND (NOT i.indisvalid OR NOT i.indisready OR ic.reltablespace <> 0 OR i.indisreplident)
                            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)) THEN
        SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid),
               array_agg(format('%I.%I', n.nspname, ic.relname) ORDER BY i.indexrelid),
               array_agg(obj_description(i.indexrelid, 'pg_class') ORDER BY i.indexrelid),
               array_agg(CASE WHEN i.indisclustered THEN quote_ident(ic.relname) END ORDER BY i.indexrelid)
          INTO v_idx_def, v_idx_name, v_idx_comment, v_idx_clustered
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
         WHERE i.indrelid = 'public.transactions'::regclass AND NOT i.indisunique  -- (a unique index may back a foreign key)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
        IF v_idx_name IS NOT NULL THEN
          EXECUTE 'DROP INDEX ' || array_to_string(v_idx_name, ', ');
        END IF;
      END IF;
    END IF;
    INSERT INTO transactions (id, customer_id, product_id, quantity, unit_price, amount, transaction_time, status, kind,
                              payment_method, platform, order_number, country, created_at,
                              fraud_score, fraud_reasons, is_suspicious)
    SELECT s.tx_id, c.id, p.id, abs(s.qty), s.price, abs(s.qty) * s.price, s.ts,
           CASE s.outcome WHEN 'sale' THEN 'completed' ELSE 'refunded' END, s.outcome,
           'unknown', 'web', s.inv, s.cc, s.ts, NULL, '[]', false
      FROM or_stage s
      JOIN or_cust_id c ON c.email = s.email
      JOIN products p ON p.sku = s.sku
     WHERE s.outcome IN ('sale', 'refund');
    GET DIAGNOSTICS n_ins = ROW_COUNT;
    PERFORM set_config('enable_nestloop', v_nl, true), set_config('enable_mergejoin', v_mj, true);
    IF v_idx_name IS NOT NULL THEN  -- the secondary indexes back, as they were
      FOR i IN 1 .. cardinality(v_idx_name) LOOP
        EXECUTE v_idx_def[i];
        IF v_idx_comment[i] IS NOT NULL THEN
          EXECUTE format('COMMENT ON INDEX %s IS %L', v_idx_name[i], v_idx_comment[i]);
        END IF;
        IF v_idx_clustered[i] IS NOT NULL THEN
          EXECUTE format('ALTER TABLE public.transactions CLUSTER ON %s', v_idx_clustered[i]);
        END IF;
      END LOOP;
      v_scoring := v_scoring || format(', %s indexes built after', cardinality(v_idx_name));
    END IF;
    IF v_fast THEN
      PERFORM set_config('session_replication_role', v_prev, true);
    ELSE
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_rollup_ins;
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_spent_ins;
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_months_ins;
      ALTER TABLE public.transactions ENABLE TRIGGER transactions_stock_ins;
      IF v_scoring LIKE 'trigger%' THEN
        ALTER TABLE public.transactions ENABLE TRIGGER transactions_score;
      ELSE
        PERFORM set_config('techmart.scoring', v_prev, true);
      END IF;
    END IF;
    IF n_ins <> n_tx THEN  -- a customer or product vanished under us: nothing half-imported
      RAISE EXCEPTION 'online retail import: % transactions inserted, % expected; nothing was imported', n_ins, n_tx
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF v_fast THEN  -- what transactions_notify says of a statement of more than 50 rows
      PERFORM pg_notify('techmart_transactions', jsonb_build_object(
                'bulk', true, 'count', n_tx, 'min_id', v_min_id, 'max_id', v_max_id, 'suspicious', 0)::text);
    END IF;
    RAISE NOTICE 'import [3/7] % transactions inserted, % (% ms)', n_tx, v_scoring,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 4. rollups of the imported hours, in one pass
    PERFORM analytics.rollup_rebuild(v_from, v_to + interval '1 microsecond');
    -- and the per-customer months of the import's customers (change customer_months)
    PERFORM analytics.customer_months_rebuild(ARRAY(SELECT c.id FROM or_cust_id c));
    RAISE NOTICE 'import [4/7] rollups of % .. % rebuilt (% ms)', v_from, v_to,
                 round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 5. customers touched: home country = the country of most of their invoices (then lines,
    -- then code), registration = first purchase, total_spent = net spend; only changed rows are
    -- written (one scan of their transactions, grouped per order first). Products touched that
    -- existed before (the new ones got it in step 2): list price = most frequent unit price of all
    -- their sales.
    WITH y_per_country AS (  -- per customer and country: invoices, lines, first purchase, net spend
      SELECT o.customer_id, o.country, count(o.order_number) AS invoices, sum(o.n) AS n, min(o.first_ts) AS first_ts,
             sum(o.spent) AS spent
        FROM (SELECT t.customer_id, t.country, t.order_number, count(*) AS n, min(t.transaction_time) AS first_ts,
                     sum(CASE WHEN t.kind = 'refund' THEN -t.amount WHEN t.status = 'completed' THEN t.amount ELSE 0 END) AS spent
                FROM transactions t
               WHERE t.customer_id IN (SELECT id FROM or_cust_id)
               GROUP BY t.customer_id, t.country, t.order_number) o
       GROUP BY o.customer_id, o.country
    )
    UPDATE customers cu SET country = x.country, registration_date = x.first_ts, total_spent = x.spent,
                            updated_at = now()
      FROM (SELECT a.customer_id, h.country, a.first_ts, a.spent
              FROM (SELECT y.customer_id, min(y.first_ts) AS first_ts, sum(y.spent) AS spent
                      FROM y_per_country y GROUP BY y.customer_id) a
              LEFT JOIN (SELECT DISTINCT ON (y.customer_id) y.customer_id, y.country
                           FROM y_per_country y WHERE y.country IS NOT NULL
                          ORDER BY y.customer_id, y.invoices DESC, y.n DESC, y.country) h ON h.customer_id = a.customer_id) x
     WHERE cu.id = x.customer_id
       AND (cu.country, cu.registration_date, cu.total_spent) IS DISTINCT FROM (x.country, x.first_ts, x.spent);
    UPDATE products pr SET price = x.price, updated_at = now()
      FROM (SELECT DISTINCT ON (t.product_id) t.product_id, t.unit_price AS price
              FROM transactions t
             WHERE t.product_id IN (SELECT p.id FROM products p WHERE p.sku IN (SELECT DISTINCT sku FROM or_stage WHERE outcome = 'sale')
                                                                AND NOT EXISTS (SELECT 1 FROM or_new_prod n WHERE n.sku = p.sku))
               AND t.kind = 'sale'
             GROUP BY t.product_id, t.unit_price
             ORDER BY t.product_id, count(*) DESC, t.unit_price) x
     WHERE pr.id = x.product_id AND pr.price IS DISTINCT FROM x.price;
    RAISE NOTICE 'import [5/7] customers and products refreshed (% ms)', round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();

    -- 6. fraud state of every customer, one pass over the history
    IF to_regprocedure('techmart.rebuild_state_for(bigint[], text)') IS NOT NULL THEN
      -- (change import_state_incremental) the customers of the imported lines only
      SELECT count(*) INTO n_cust_state
        FROM techmart.rebuild_state_for(ARRAY(SELECT c.id FROM or_cust_id c), 'public.transactions') x(n);
      v_state := format('techmart.rebuild_state_for() of the %s customers of the import',
                        (SELECT count(*) FROM or_cust_id));
    ELSIF to_regprocedure('techmart.rebuild_state(text)') IS NOT NULL THEN
      PERFORM techmart.rebuild_state();
      v_state := 'techmart.rebuild_state()';
    ELSE
      -- techmart 0.1 state: Welford statistics of log1p(amount) over every line the trigger
      -- would have seen, recomputed for the customers of this import
      INSERT INTO techmart.customer_state AS cs (customer_id, n, mean, m2, last_amount, last_transaction_time, updated_at)
      SELECT x.customer_id, x.n, x.mean, greatest(x.m2, 0), x.last_amount, x.last_time, now()
        FROM (SELECT t.customer_id, count(*) AS n, avg(techmart.log_amount(t.amount::float8)) AS mean,
                     coalesce(var_pop(techmart.log_amount(t.amount::float8)), 0) * count(*) AS m2,
                     (array_agg(t.amount ORDER BY t.transaction_time DESC, t.id DESC))[1] AS last_amount,
                     max(t.transaction_time) AS last_time
                FROM transactions t WHERE t.customer_id IN (SELECT id FROM or_cust_id)
               GROUP BY t.customer_id) x
      ON CONFLICT (customer_id) DO UPDATE SET n = excluded.n, mean = excluded.mean, m2 = excluded.m2,
        last_amount = excluded.last_amount, last_transaction_time = excluded.last_transaction_time, updated_at = now();
      v_state := 'customer_state recomputed in SQL (techmart < 0.2: no rebuild_state())';
    END IF;
    RAISE NOTICE 'import [6/7] fraud state: % (% ms)', v_state, round(extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();
  END IF;

  -- 7. ledger and summary
  -- (bulk path: the ledger's only foreign key is to the batch row inserted above, so its per-row
  -- check is skipped the same way when the table has no trigger of its own)
  IF n_new > 0 THEN
    IF v_fast AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = 'import.online_retail_line'::regclass
                                                             AND NOT tg.tgisinternal) THEN
      PERFORM set_config('session_replication_role', 'replica', true);
    END IF;
    -- into an empty ledger (a first import, bulk path): its primary key and indexes built after
    -- the rows
    IF v_fast AND NOT EXISTS (SELECT 1 FROM import.online_retail_line)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = 'import.online_retail_line'::regclass) THEN
      SELECT k.conname, pg_get_constraintdef(k.oid) INTO v_pk_name, v_pk_def
        FROM pg_constraint k WHERE k.conrelid = 'import.online_retail_line'::regclass AND k.contype = 'p';
      IF v_pk_name IS NOT NULL THEN
        EXECUTE format('ALTER TABLE import.online_retail_line DROP CONSTRAINT %I', v_pk_name);
      END IF;
      -- and its other plain indexes (as for transactions above)
      IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                      WHERE i.indrelid = 'import.online_retail_line'::regclass
                        AND (NOT i.indisvalid OR NOT i.indisready OR ic.reltablespace <> 0 OR i.indisreplident
                             OR i.indisclustered OR obj_description(i.indexrelid, 'pg_class') IS NOT NULL)) THEN
        SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid),
               array_agg(format('%I.%I', n.nspname, ic.relname) ORDER BY i.indexrelid)
          INTO v_lidx_def, v_lidx_name
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
         WHERE i.indrelid = 'import.online_retail_line'::regclass AND NOT i.indisunique
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
        IF v_lidx_name IS NOT NULL THEN
          EXECUTE 'DROP INDEX ' || array_to_string(v_lidx_name, ', ');
        END IF;
      END IF;
    END IF;
    INSERT INTO import.online_retail_line (invoice_no, line_no, batch_id, raw_hash, outcome, transaction_id)
    SELECT s.inv, s.line_no, v_batch, s.raw_hash, s.outcome, s.tx_id FROM or_stage s
     WHERE s.outcome NOT IN ('already_imported', 'changed_since_import');
    IF v_pk_name IS NOT NULL THEN
      EXECUTE format('ALTER TABLE import.online_retail_line ADD CONSTRAINT %I %s', v_pk_name, v_pk_def);
    END IF;
    IF v_lidx_def IS NOT NULL THEN
      FOREACH v_tmp IN ARRAY v_lidx_def LOOP
        EXECUTE v_tmp;
      END LOOP;
    END IF;
    IF v_fast THEN
      PERFORM set_config('session_replication_role', v_prev, true);
    END IF;
  END IF;
  CREATE TEMP TABLE or_summary ON COMMIT DROP AS
  SELECT CASE WHEN g.outcome IS NULL THEN 'read'
              WHEN g.outcome IN ('sale', 'refund') THEN 'imported'
              WHEN g.outcome IN ('already_imported', 'changed_since_import') THEN 'skipped' ELSE 'set_aside' END AS section,
         coalesce(g.outcome, 'all') AS reason, g.lines, g.amount,
         CASE WHEN g.outcome IS NULL THEN 0 WHEN g.outcome IN ('sale', 'refund') THEN 1
              WHEN g.outcome IN ('already_imported', 'changed_since_import') THEN 3 ELSE 2 END AS ord
    FROM (SELECT s.outcome, count(*) AS lines, sum(abs(s.qty) * s.price) AS amount
            FROM or_stage s GROUP BY GROUPING SETS ((s.outcome), ())) g
  UNION ALL
  SELECT 'created', 'customers', coalesce(n_cust, 0), NULL, 4
  UNION ALL
  SELECT 'created', 'products', coalesce(n_prod, 0), NULL, 4;
  SELECT jsonb_object_agg(o.section || ':' || o.reason, jsonb_build_object('lines', o.lines, 'amount', o.amount))
    INTO v_summary FROM or_summary o;
  IF v_batch IS NOT NULL THEN
    UPDATE import.online_retail_batch SET summary = v_summary, transactions = coalesce(n_tx, 0),
                                          seconds = round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)
     WHERE id = v_batch;
  END IF;
  RAISE NOTICE 'import [7/7] ledger and summary (% ms); done: % lines read, % new, % transactions, in % s',
               round(extract(epoch FROM clock_timestamp() - t) * 1000), n_read, n_new, coalesce(n_tx, 0),
               round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2);
  RETURN QUERY SELECT o.section, o.reason, o.lines, o.amount FROM or_summary o ORDER BY o.ord, o.lines DESC, o.reason;
END $function$

;


-- RFM scores without a window function over 100,000 customers: ceil(5 * cume_dist()) is ceil(5 * (rows with a
-- value <= this one) / rows), the same float8 division, from the counts per distinct value (cume_dist walked
-- every peer group of the few distinct order counts row by row: half a second at 100,000 customers)
CREATE OR REPLACE FUNCTION analytics.rfm(p_as_of timestamptz DEFAULT now(), p_window interval DEFAULT '365 days')
RETURNS TABLE(customer_id bigint, recency_days numeric, frequency bigint, monetary numeric, r_score integer,
              f_score integer, m_score integer, rfm_code text, segment text)
LANGUAGE sql STABLE AS $$
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
$$;


-- customer_behavior for one customer: its own lines, as before (a filter on customer_orders' result would now
-- compute every customer: PL/pgSQL is not inlined)
CREATE OR REPLACE FUNCTION analytics.customer_behavior(p_from timestamp with time zone, p_to timestamp with time zone, p_customer_id bigint DEFAULT NULL::bigint, p_limit integer DEFAULT 100)
 RETURNS TABLE(customer_id bigint, name text, orders bigint, revenue numeric, avg_basket numeric, avg_items_per_order numeric, orders_per_month numeric, avg_days_between_orders numeric, preferred_hour integer, preferred_day integer, top_categories text[], first_purchase timestamp with time zone, last_purchase timestamp with time zone)
 LANGUAGE sql
 STABLE
AS $function$
  WITH z AS (SELECT analytics.business_timezone() AS tz),
  o AS (
    (SELECT * FROM analytics.customer_orders(p_from, p_to) o
      WHERE p_customer_id IS NULL
      ORDER BY o.revenue DESC, o.customer_id
      LIMIT p_limit)
    UNION ALL
    -- one customer: its lines by the (customer_id, transaction_time) index (analytics.customer_orders, PL/pgSQL since
    -- change customer_months, is not inlined: a filter on its result would read every customer)
    SELECT t.customer_id,
           count(DISTINCT coalesce(t.order_number, '#' || t.id)) FILTER (WHERE t.status = 'completed'),
           sum(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END),
           sum(CASE WHEN t.kind = 'refund' THEN -t.quantity ELSE t.quantity END)::bigint,
           count(*) FILTER (WHERE t.status = 'completed'),
           min(t.transaction_time) FILTER (WHERE t.status = 'completed'),
           max(t.transaction_time) FILTER (WHERE t.status = 'completed')
      FROM bi.transactions t
     WHERE p_customer_id IS NOT NULL AND t.customer_id = p_customer_id
       AND (t.status = 'completed' OR t.kind = 'refund')
       AND t.transaction_time >= p_from AND t.transaction_time < p_to
     GROUP BY t.customer_id
    HAVING count(*) FILTER (WHERE t.status = 'completed') > 0
  ), l AS (
    SELECT t.customer_id, t.transaction_time AT TIME ZONE z.tz AS local_time, t.amount, p.category
      FROM bi.transactions t JOIN o USING (customer_id) CROSS JOIN z LEFT JOIN bi.products p ON p.id = t.product_id
     WHERE t.status = 'completed' AND t.transaction_time >= p_from AND t.transaction_time < p_to
  )
  SELECT o.customer_id, c.name, o.orders, o.revenue, round(o.revenue / nullif(o.orders, 0), 2),
         round(o.units::numeric / nullif(o.orders, 0), 2),
         round(o.orders / greatest(extract(epoch FROM p_to - p_from) / (30 * 86400), 1)::numeric, 3),
         CASE WHEN o.orders > 1
              THEN round((extract(epoch FROM o.last_purchase - o.first_purchase) / 86400 / (o.orders - 1))::numeric, 1) END,
         (SELECT extract(hour FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         (SELECT extract(isodow FROM l.local_time)::int FROM l WHERE l.customer_id = o.customer_id
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
         ARRAY(SELECT coalesce(l.category, 'uncategorised') FROM l WHERE l.customer_id = o.customer_id
                GROUP BY 1 ORDER BY sum(l.amount) DESC, 1 LIMIT 3),
         o.first_purchase, o.last_purchase
    FROM o JOIN bi.customers c ON c.id = o.customer_id
   ORDER BY o.revenue DESC, o.customer_id
$function$;

COMMIT;
