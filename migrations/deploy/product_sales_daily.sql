-- Deploy techmart:product_sales_daily to pg
-- requires: breakdown_label_join
-- requires: stock_sales
-- requires: inventory_put_clock
-- requires: customer_months
--
-- The product reads at 5,000,000 transactions (bench/RESULTS.md, "The GET endpoints at 5,000,000 transactions")
-- grew with the table: the product rows of the hourly rollups are one per product per hour with a sale (890,000 rows
-- for 30 days of 2,000 products), so analytics.breakdown('product' | 'supplier'), analytics.top_products and
-- analytics.low_stock summed ~900,000 rollup rows per call (0.4-1 s); GET /inventory and /inventory/low-stock
-- (api._inventory_rows) summed 30 days of transactions (1-1.2 s).
--
-- analytics.product_daily: per product and UTC day the sums the hourly product rows hold (revenue, orders, units,
-- transactions, suspicious: the rollups' definitions, revenue and units net of refund rows, orders = the sum over the
-- day's hours of the distinct orders with a completed line of the product in the hour) plus pending_units and
-- refund_units (GET /inventory's rate counts completed and pending lines, refunds not subtracted);
-- analytics.product_units_hourly: the pending and refund units per product and UTC hour (the inventory's window
-- starts at any instant). Kept exact by statement triggers with transition tables on transactions
-- (transactions_sales_daily_{ins,upd,del,trunc}, after the rollup triggers by name): per statement the line versions
-- summed per (day, product), one upsert in (day, product) order. Orders: for each (order number, product, hour) with
-- a completed line version in the statement, the completed lines of the order there now (an index probe of
-- transactions_order_idx) against those before the statement; the rollup triggers, which fire first, lock the
-- order's registry row, so statements touching the same order are serialised as for the hourly rollups.
-- analytics.product_sales(from, to) = the hourly product rows' sums over [hour_floor(from), to): whole days from
-- product_daily between the midnights nearest to the range's ends, the hours between from sales_hourly (added or
-- subtracted); analytics.product_units_since(t) = the inventory's units. analytics.product_daily_check() /
-- product_daily_rebuild(from, to) as for the rollups. The import's bulk path rebuilds the days it imported.
BEGIN;

CREATE TABLE analytics.product_daily (
  day timestamptz NOT NULL CHECK (day = date_bin('1 day', day, '2000-01-01 00:00+00')),
  product_id bigint NOT NULL,
  revenue numeric NOT NULL DEFAULT 0,
  orders bigint NOT NULL DEFAULT 0,
  units bigint NOT NULL DEFAULT 0,
  pending_units bigint NOT NULL DEFAULT 0,
  refund_units bigint NOT NULL DEFAULT 0,
  transactions bigint NOT NULL DEFAULT 0,
  suspicious bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, product_id)
);
COMMENT ON TABLE analytics.product_daily IS
  'Sales per product and UTC day (change product_sales_daily): the sums of the product rows of analytics.sales_hourly '
  'over the day''s hours, plus pending_units; kept by the transactions_sales_daily_* triggers';
COMMENT ON COLUMN analytics.product_daily.day IS 'UTC midnight starting the day';
COMMENT ON COLUMN analytics.product_daily.product_id IS 'the line''s product (no foreign key: history is kept)';
COMMENT ON COLUMN analytics.product_daily.revenue IS 'sum(amount) of completed lines minus that of refund rows (the rollups'' revenue)';
COMMENT ON COLUMN analytics.product_daily.orders IS
  'sum over the day''s UTC hours of the distinct orders (order_number, or the line itself) with a completed line of the product in the hour';
COMMENT ON COLUMN analytics.product_daily.units IS 'sum(quantity) of completed lines minus that of refund rows (the rollups'' units)';
COMMENT ON COLUMN analytics.product_daily.pending_units IS 'sum(quantity) of pending lines';
COMMENT ON COLUMN analytics.product_daily.refund_units IS 'sum(quantity) of refund rows (kind refund)';
COMMENT ON COLUMN analytics.product_daily.transactions IS 'lines of any status';
COMMENT ON COLUMN analytics.product_daily.suspicious IS 'lines flagged is_suspicious, any status';

CREATE TABLE analytics.product_units_hourly (
  hour timestamptz NOT NULL CHECK (hour = date_bin('1 hour', hour, '2000-01-01 00:00+00')),
  product_id bigint NOT NULL,
  pending_units bigint NOT NULL DEFAULT 0,
  refund_units bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, product_id)
);
COMMENT ON TABLE analytics.product_units_hourly IS
  'Units of pending lines and of refund rows per product and UTC hour (change product_sales_daily): with the hourly '
  'rollups'' units, the inventory''s units (completed and pending lines) of windows starting within a day';
COMMENT ON COLUMN analytics.product_units_hourly.hour IS 'UTC hour';
COMMENT ON COLUMN analytics.product_units_hourly.product_id IS 'the line''s product';
COMMENT ON COLUMN analytics.product_units_hourly.pending_units IS 'sum(quantity) of pending lines';
COMMENT ON COLUMN analytics.product_units_hourly.refund_units IS 'sum(quantity) of refund rows (kind refund)';
GRANT SELECT ON analytics.product_daily, analytics.product_units_hourly TO techmart_bi;

-- the deltas of a statement's line versions (sign +1 new, -1 old), written in (day, product) / (hour, product) order
CREATE FUNCTION analytics.product_daily_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  n integer := 0;
  v_orders bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- a single-row INSERT (the service's POST /transactions): the same deltas by statements of variables only,
    -- whose plans PL/pgSQL keeps (the set-based statement below is planned again on every call)
    FOR r IN SELECT x.id, x.product_id, x.transaction_time, x.status, x.amount, x.quantity, x.is_suspicious,
                    x.order_number, x.kind
               FROM new_rows x LIMIT 2 LOOP
      n := n + 1;
    END LOOP;
    IF n = 0 THEN
      RETURN NULL;
    ELSIF n = 1 THEN
      -- its order counts in its hour unless another completed line of the order and product is there already
      v_orders := CASE WHEN r.status <> 'completed' THEN 0
                       WHEN r.order_number IS NULL THEN 1
                       WHEN EXISTS (SELECT 1 FROM transactions t
                                     WHERE t.order_number = r.order_number AND t.product_id = r.product_id
                                       AND t.status = 'completed' AND t.id <> r.id
                                       AND t.transaction_time >= analytics.hour_floor(r.transaction_time)
                                       AND t.transaction_time < analytics.hour_floor(r.transaction_time) + interval '1 hour')
                       THEN 0 ELSE 1 END;
      INSERT INTO analytics.product_daily AS p (day, product_id, revenue, orders, units, pending_units, refund_units,
                                                transactions, suspicious)
      VALUES (date_bin('1 day', r.transaction_time, '2000-01-01 00:00+00'), r.product_id,
              CASE WHEN r.status = 'completed' THEN r.amount WHEN r.kind = 'refund' THEN -r.amount ELSE 0 END, v_orders,
              CASE WHEN r.status = 'completed' THEN r.quantity WHEN r.kind = 'refund' THEN -r.quantity ELSE 0 END,
              CASE WHEN r.status = 'pending' THEN r.quantity ELSE 0 END, CASE WHEN r.kind = 'refund' THEN r.quantity ELSE 0 END,
              1, CASE WHEN r.is_suspicious THEN 1 ELSE 0 END)
      ON CONFLICT (day, product_id) DO UPDATE
         SET revenue = p.revenue + excluded.revenue, orders = p.orders + excluded.orders, units = p.units + excluded.units,
             pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units,
             transactions = p.transactions + excluded.transactions, suspicious = p.suspicious + excluded.suspicious;
      IF r.status = 'pending' OR r.kind = 'refund' THEN
        INSERT INTO analytics.product_units_hourly AS p (hour, product_id, pending_units, refund_units)
        VALUES (analytics.hour_floor(r.transaction_time), r.product_id, CASE WHEN r.status = 'pending' THEN r.quantity ELSE 0 END,
                CASE WHEN r.kind = 'refund' THEN r.quantity ELSE 0 END)
        ON CONFLICT (hour, product_id) DO UPDATE
           SET pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units;
      END IF;
      RETURN NULL;
    END IF;
    WITH v AS MATERIALIZED (
      SELECT 1 AS s, n.id, n.product_id, n.transaction_time, n.status, n.amount, n.quantity, n.is_suspicious, n.order_number, n.kind
        FROM new_rows n
    ), o AS (
      SELECT v.order_number, v.product_id, analytics.hour_floor(v.transaction_time) AS hour, sum(v.s) AS net
        FROM v WHERE v.status = 'completed' AND v.order_number IS NOT NULL GROUP BY 1, 2, 3
    ), oc AS (
      SELECT o.product_id, date_bin('1 day', o.hour, '2000-01-01 00:00+00') AS day,
             sum((a.n > 0)::int - (a.n - o.net > 0)::int) AS orders
        FROM o CROSS JOIN LATERAL (
          SELECT count(*) AS n FROM transactions t
           WHERE t.order_number = o.order_number AND t.product_id = o.product_id AND t.status = 'completed'
             AND t.transaction_time >= o.hour AND t.transaction_time < o.hour + interval '1 hour') a
       GROUP BY 1, 2
    ), d AS (
      SELECT v.product_id, date_bin('1 day', v.transaction_time, '2000-01-01 00:00+00') AS day,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.amount WHEN v.kind = 'refund' THEN -v.s * v.amount ELSE 0 END) AS revenue,
             sum(CASE WHEN v.status = 'completed' AND v.order_number IS NULL THEN v.s ELSE 0 END) AS lone,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.quantity WHEN v.kind = 'refund' THEN -v.s * v.quantity ELSE 0 END) AS units,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END) AS pending_units,
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END) AS refund_units,
             sum(v.s) AS transactions, sum(CASE WHEN v.is_suspicious THEN v.s ELSE 0 END) AS suspicious
        FROM v GROUP BY 1, 2
    ), ph AS (
      INSERT INTO analytics.product_units_hourly AS p (hour, product_id, pending_units, refund_units)
      SELECT analytics.hour_floor(v.transaction_time), v.product_id,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END),
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END)
        FROM v WHERE v.status = 'pending' OR v.kind = 'refund' GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (hour, product_id) DO UPDATE
         SET pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units
    )
    INSERT INTO analytics.product_daily AS p (day, product_id, revenue, orders, units, pending_units, refund_units,
                                              transactions, suspicious)
    SELECT d.day, d.product_id, d.revenue, d.lone + coalesce(oc.orders, 0), d.units, d.pending_units, d.refund_units,
           d.transactions, d.suspicious
      FROM d LEFT JOIN oc ON oc.product_id = d.product_id AND oc.day = d.day
     ORDER BY d.day, d.product_id
    ON CONFLICT (day, product_id) DO UPDATE
       SET revenue = p.revenue + excluded.revenue, orders = p.orders + excluded.orders, units = p.units + excluded.units,
           pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units,
           transactions = p.transactions + excluded.transactions,
           suspicious = p.suspicious + excluded.suspicious;
  ELSIF TG_OP = 'DELETE' THEN
    WITH v AS MATERIALIZED (
      SELECT -1 AS s, n.id, n.product_id, n.transaction_time, n.status, n.amount, n.quantity, n.is_suspicious, n.order_number, n.kind
        FROM old_rows n
    ), o AS (
      SELECT v.order_number, v.product_id, analytics.hour_floor(v.transaction_time) AS hour, sum(v.s) AS net
        FROM v WHERE v.status = 'completed' AND v.order_number IS NOT NULL GROUP BY 1, 2, 3
    ), oc AS (
      SELECT o.product_id, date_bin('1 day', o.hour, '2000-01-01 00:00+00') AS day,
             sum((a.n > 0)::int - (a.n - o.net > 0)::int) AS orders
        FROM o CROSS JOIN LATERAL (
          SELECT count(*) AS n FROM transactions t
           WHERE t.order_number = o.order_number AND t.product_id = o.product_id AND t.status = 'completed'
             AND t.transaction_time >= o.hour AND t.transaction_time < o.hour + interval '1 hour') a
       GROUP BY 1, 2
    ), d AS (
      SELECT v.product_id, date_bin('1 day', v.transaction_time, '2000-01-01 00:00+00') AS day,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.amount WHEN v.kind = 'refund' THEN -v.s * v.amount ELSE 0 END) AS revenue,
             sum(CASE WHEN v.status = 'completed' AND v.order_number IS NULL THEN v.s ELSE 0 END) AS lone,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.quantity WHEN v.kind = 'refund' THEN -v.s * v.quantity ELSE 0 END) AS units,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END) AS pending_units,
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END) AS refund_units,
             sum(v.s) AS transactions, sum(CASE WHEN v.is_suspicious THEN v.s ELSE 0 END) AS suspicious
        FROM v GROUP BY 1, 2
    ), ph AS (
      INSERT INTO analytics.product_units_hourly AS p (hour, product_id, pending_units, refund_units)
      SELECT analytics.hour_floor(v.transaction_time), v.product_id,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END),
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END)
        FROM v WHERE v.status = 'pending' OR v.kind = 'refund' GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (hour, product_id) DO UPDATE
         SET pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units
    )
    INSERT INTO analytics.product_daily AS p (day, product_id, revenue, orders, units, pending_units, refund_units,
                                              transactions, suspicious)
    SELECT d.day, d.product_id, d.revenue, d.lone + coalesce(oc.orders, 0), d.units, d.pending_units, d.refund_units,
           d.transactions, d.suspicious
      FROM d LEFT JOIN oc ON oc.product_id = d.product_id AND oc.day = d.day
     ORDER BY d.day, d.product_id
    ON CONFLICT (day, product_id) DO UPDATE
       SET revenue = p.revenue + excluded.revenue, orders = p.orders + excluded.orders, units = p.units + excluded.units,
           pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units,
           transactions = p.transactions + excluded.transactions,
           suspicious = p.suspicious + excluded.suspicious;
  ELSIF TG_OP = 'UPDATE' THEN
    -- the versions of the lines whose figures changed (a label, a score: nothing to write)
    WITH v AS MATERIALIZED (
      SELECT 1 AS s, n.id, n.product_id, n.transaction_time, n.status, n.amount, n.quantity, n.is_suspicious, n.order_number, n.kind
        FROM new_rows n
       WHERE NOT EXISTS (SELECT 1 FROM old_rows o
                          WHERE o.id = n.id AND o.product_id = n.product_id AND o.transaction_time = n.transaction_time
                            AND o.status = n.status AND o.amount = n.amount AND o.quantity = n.quantity
                            AND o.is_suspicious = n.is_suspicious AND o.order_number IS NOT DISTINCT FROM n.order_number
                            AND o.kind = n.kind)
      UNION ALL
      SELECT -1, n.id, n.product_id, n.transaction_time, n.status, n.amount, n.quantity, n.is_suspicious, n.order_number, n.kind
        FROM old_rows n
       WHERE NOT EXISTS (SELECT 1 FROM new_rows o
                          WHERE o.id = n.id AND o.product_id = n.product_id AND o.transaction_time = n.transaction_time
                            AND o.status = n.status AND o.amount = n.amount AND o.quantity = n.quantity
                            AND o.is_suspicious = n.is_suspicious AND o.order_number IS NOT DISTINCT FROM n.order_number
                            AND o.kind = n.kind)
    ), o AS (
      SELECT v.order_number, v.product_id, analytics.hour_floor(v.transaction_time) AS hour, sum(v.s) AS net
        FROM v WHERE v.status = 'completed' AND v.order_number IS NOT NULL GROUP BY 1, 2, 3
    ), oc AS (
      SELECT o.product_id, date_bin('1 day', o.hour, '2000-01-01 00:00+00') AS day,
             sum((a.n > 0)::int - (a.n - o.net > 0)::int) AS orders
        FROM o CROSS JOIN LATERAL (
          SELECT count(*) AS n FROM transactions t
           WHERE t.order_number = o.order_number AND t.product_id = o.product_id AND t.status = 'completed'
             AND t.transaction_time >= o.hour AND t.transaction_time < o.hour + interval '1 hour') a
       GROUP BY 1, 2
    ), d AS (
      SELECT v.product_id, date_bin('1 day', v.transaction_time, '2000-01-01 00:00+00') AS day,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.amount WHEN v.kind = 'refund' THEN -v.s * v.amount ELSE 0 END) AS revenue,
             sum(CASE WHEN v.status = 'completed' AND v.order_number IS NULL THEN v.s ELSE 0 END) AS lone,
             sum(CASE WHEN v.status = 'completed' THEN v.s * v.quantity WHEN v.kind = 'refund' THEN -v.s * v.quantity ELSE 0 END) AS units,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END) AS pending_units,
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END) AS refund_units,
             sum(v.s) AS transactions, sum(CASE WHEN v.is_suspicious THEN v.s ELSE 0 END) AS suspicious
        FROM v GROUP BY 1, 2
    ), ph AS (
      INSERT INTO analytics.product_units_hourly AS p (hour, product_id, pending_units, refund_units)
      SELECT analytics.hour_floor(v.transaction_time), v.product_id,
             sum(CASE WHEN v.status = 'pending' THEN v.s * v.quantity ELSE 0 END),
             sum(CASE WHEN v.kind = 'refund' THEN v.s * v.quantity ELSE 0 END)
        FROM v WHERE v.status = 'pending' OR v.kind = 'refund' GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (hour, product_id) DO UPDATE
         SET pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units
    )
    INSERT INTO analytics.product_daily AS p (day, product_id, revenue, orders, units, pending_units, refund_units,
                                              transactions, suspicious)
    SELECT d.day, d.product_id, d.revenue, d.lone + coalesce(oc.orders, 0), d.units, d.pending_units, d.refund_units,
           d.transactions, d.suspicious
      FROM d LEFT JOIN oc ON oc.product_id = d.product_id AND oc.day = d.day
     WHERE d.revenue <> 0 OR d.lone + coalesce(oc.orders, 0) <> 0 OR d.units <> 0 OR d.pending_units <> 0
        OR d.refund_units <> 0 OR d.transactions <> 0 OR d.suspicious <> 0
     ORDER BY d.day, d.product_id
    ON CONFLICT (day, product_id) DO UPDATE
       SET revenue = p.revenue + excluded.revenue, orders = p.orders + excluded.orders, units = p.units + excluded.units,
           pending_units = p.pending_units + excluded.pending_units, refund_units = p.refund_units + excluded.refund_units,
           transactions = p.transactions + excluded.transactions,
           suspicious = p.suspicious + excluded.suspicious;
  ELSE  -- TRUNCATE
    TRUNCATE analytics.product_daily, analytics.product_units_hourly;
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.product_daily_trigger() IS
  'Statement trigger of transactions (INSERT/UPDATE/DELETE with transition tables new_rows/old_rows, TRUNCATE): keeps '
  'analytics.product_daily and product_units_hourly exact (change product_sales_daily)';
REVOKE EXECUTE ON FUNCTION analytics.product_daily_trigger() FROM PUBLIC;

-- the reference: the figures recomputed from transactions for the days of [p_from, p_to)
CREATE FUNCTION analytics.product_daily_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (day timestamptz, product_id bigint, revenue numeric, orders bigint, units bigint, pending_units bigint,
               refund_units bigint, transactions bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  WITH l AS (
    SELECT t.product_id, t.transaction_time, t.status, t.amount, t.quantity, t.is_suspicious, t.order_number, t.id, t.kind
      FROM public.transactions t
     WHERE t.transaction_time >= date_bin('1 day', p_from, '2000-01-01 00:00+00') AND t.transaction_time < p_to
  ), s AS (
    SELECT l.product_id, date_bin('1 day', l.transaction_time, '2000-01-01 00:00+00') AS day,
           coalesce(sum(l.amount) FILTER (WHERE l.status = 'completed'), 0)
             - coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0) AS revenue,
           (coalesce(sum(l.quantity) FILTER (WHERE l.status = 'completed'), 0)
             - coalesce(sum(l.quantity) FILTER (WHERE l.kind = 'refund'), 0))::bigint AS units,
           coalesce(sum(l.quantity) FILTER (WHERE l.status = 'pending'), 0)::bigint AS pending_units,
           coalesce(sum(l.quantity) FILTER (WHERE l.kind = 'refund'), 0)::bigint AS refund_units,
           count(*) AS transactions, count(*) FILTER (WHERE l.is_suspicious) AS suspicious
      FROM l GROUP BY 1, 2
  ), o AS (  -- distinct (order, hour) pairs with a completed line, per product and day
    SELECT x.product_id, date_bin('1 day', x.hour, '2000-01-01 00:00+00') AS day, count(*) AS orders
      FROM (SELECT DISTINCT l.product_id, analytics.hour_floor(l.transaction_time) AS hour, l.order_number,
                            CASE WHEN l.order_number IS NULL THEN l.id END AS lone
              FROM l WHERE l.status = 'completed') x
     GROUP BY 1, 2
  )
  SELECT s.day, s.product_id, s.revenue, coalesce(o.orders, 0), s.units, s.pending_units, s.refund_units, s.transactions,
         s.suspicious
    FROM s LEFT JOIN o ON o.product_id = s.product_id AND o.day = s.day
$$;
COMMENT ON FUNCTION analytics.product_daily_recompute(timestamptz, timestamptz) IS
  'analytics.product_daily as recomputed from transactions for the lines of [day of p_from, p_to) (whole days when p_to is a midnight)';

CREATE FUNCTION analytics.product_units_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (hour timestamptz, product_id bigint, pending_units bigint, refund_units bigint)
LANGUAGE sql STABLE AS $$
  SELECT analytics.hour_floor(t.transaction_time), t.product_id,
         coalesce(sum(t.quantity) FILTER (WHERE t.status = 'pending'), 0)::bigint,
         coalesce(sum(t.quantity) FILTER (WHERE t.kind = 'refund'), 0)::bigint
    FROM public.transactions t
   WHERE (t.status = 'pending' OR t.kind = 'refund') AND t.transaction_time >= date_bin('1 day', p_from, '2000-01-01 00:00+00')
     AND t.transaction_time < p_to
   GROUP BY 1, 2
$$;
COMMENT ON FUNCTION analytics.product_units_recompute(timestamptz, timestamptz) IS
  'analytics.product_units_hourly as recomputed from transactions for the lines of [day of p_from, p_to)';

-- differences with the recomputation (none when exact); rows of zeros count as absent
CREATE FUNCTION analytics.product_daily_check()
RETURNS TABLE (tbl text, day timestamptz, product_id bigint, stored text, recomputed text)
LANGUAGE sql STABLE AS $$
  WITH a AS (SELECT * FROM analytics.product_daily p
              WHERE (p.revenue, p.orders, p.units, p.pending_units, p.refund_units, p.transactions, p.suspicious)
                    <> (0, 0, 0, 0, 0, 0, 0)),
       b AS (SELECT * FROM analytics.product_daily_recompute())
  SELECT 'product_daily', coalesce(a.day, b.day), coalesce(a.product_id, b.product_id),
         (a.revenue, a.orders, a.units, a.pending_units, a.refund_units, a.transactions, a.suspicious)::text,
         (b.revenue, b.orders, b.units, b.pending_units, b.refund_units, b.transactions, b.suspicious)::text
    FROM a FULL JOIN b ON a.day = b.day AND a.product_id = b.product_id
   WHERE (a.revenue, a.orders, a.units, a.pending_units, a.refund_units, a.transactions, a.suspicious)
         IS DISTINCT FROM (b.revenue, b.orders, b.units, b.pending_units, b.refund_units, b.transactions, b.suspicious)
  UNION ALL
  SELECT 'product_units_hourly', coalesce(a.hour, b.hour), coalesce(a.product_id, b.product_id),
         (a.pending_units, a.refund_units)::text, (b.pending_units, b.refund_units)::text
    FROM (SELECT * FROM analytics.product_units_hourly p WHERE (p.pending_units, p.refund_units) <> (0, 0)) a
    FULL JOIN analytics.product_units_recompute() b ON a.hour = b.hour AND a.product_id = b.product_id
   WHERE (a.pending_units, a.refund_units) IS DISTINCT FROM (b.pending_units, b.refund_units)
$$;
COMMENT ON FUNCTION analytics.product_daily_check() IS
  'Rows of analytics.product_daily / product_units_hourly differing from the recomputation from transactions (none when exact)';

-- recompute the whole UTC days overlapping [p_from, p_to); writers of transactions wait (SHARE lock)
CREATE FUNCTION analytics.product_daily_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_from timestamptz := date_bin('1 day', p_from, '2000-01-01 00:00+00');
  v_to timestamptz;
  n bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  v_to := CASE WHEN p_to = 'infinity' OR date_bin('1 day', p_to, '2000-01-01 00:00+00') = p_to THEN p_to
               ELSE date_bin('1 day', p_to, '2000-01-01 00:00+00') + interval '24 hours' END;  -- (not '1 day': TimeZone)
  -- writers' deltas wait for the recomputation (or it for them: a writer that applied its deltas holds ROW
  -- EXCLUSIVE until it commits, and the recomputation's snapshot, taken after the lock, sees its lines)
  LOCK TABLE analytics.product_daily, analytics.product_units_hourly IN EXCLUSIVE MODE;
  DELETE FROM analytics.product_daily d WHERE d.day >= v_from AND d.day < v_to;
  DELETE FROM analytics.product_units_hourly h WHERE h.hour >= v_from AND h.hour < v_to;
  INSERT INTO analytics.product_daily (day, product_id, revenue, orders, units, pending_units, refund_units, transactions,
                                      suspicious)
  SELECT * FROM analytics.product_daily_recompute(v_from, v_to) r ORDER BY r.day, r.product_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO analytics.product_units_hourly (hour, product_id, pending_units, refund_units)
  SELECT * FROM analytics.product_units_recompute(v_from, v_to) r ORDER BY r.hour, r.product_id;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.product_daily_rebuild(timestamptz, timestamptz) IS
  'Recompute analytics.product_daily and product_units_hourly for the whole UTC days overlapping [p_from, p_to) from '
  'transactions (after a load that bypassed the triggers: session_replication_role = replica); returns the daily rows written. '
  'Waits for the writers holding deltas of these tables, makes later ones wait';
REVOKE EXECUTE ON FUNCTION analytics.product_daily_rebuild(timestamptz, timestamptz) FROM PUBLIC;

DO $$ BEGIN PERFORM analytics.product_daily_rebuild(); END $$;

CREATE TRIGGER transactions_sales_daily_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();
CREATE TRIGGER transactions_sales_daily_upd AFTER UPDATE ON public.transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();
CREATE TRIGGER transactions_sales_daily_del AFTER DELETE ON public.transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();
CREATE TRIGGER transactions_sales_daily_trunc AFTER TRUNCATE ON public.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();

-- the first UTC midnight at or after p (inlined: the planner sees the bounds of the readers below)
CREATE FUNCTION analytics.day_ceil(p timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT CASE WHEN date_bin('1 day', p, '2000-01-01 00:00+00') = p THEN p
              ELSE date_bin('1 day', p, '2000-01-01 00:00+00') + interval '24 hours' END  -- ('1 day' would follow TimeZone's DST)
$$;
COMMENT ON FUNCTION analytics.day_ceil(timestamptz) IS 'The first UTC midnight at or after p (p itself when it is one)';

-- The days a sum over the hours [lo, hi) (whole hours) reads from product_daily: [day_from, day_to), two UTC
-- midnights with day_from <= day_to; the hours between lo and day_from and between day_to and hi are added when
-- inside the range and subtracted when outside it (sum over [lo, hi) = days [d, e) + [lo, d) + [e, hi), intervals
-- oriented). Each end takes the midnight nearer to it: at most 12 hours of hourly rows per end, and none after
-- "now" when hi is the next hour (the hours of today after now have no lines). A range inside one day whose both
-- ends are nearer its inner side is read from hourly rows alone (day_from = day_to = hi).
CREATE FUNCTION analytics.product_day_from(lo timestamptz, hi timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  d0 timestamptz := date_bin('1 day', lo, '2000-01-01 00:00+00');
  d1 timestamptz := analytics.day_ceil(lo);
  e0 timestamptz := date_bin('1 day', hi, '2000-01-01 00:00+00');
  e1 timestamptz := analytics.day_ceil(hi);
  s timestamptz;
  e timestamptz;
BEGIN
  IF NOT isfinite(lo) THEN RETURN lo; END IF;
  s := CASE WHEN d1 - lo <= lo - d0 THEN d1 ELSE d0 END;
  IF NOT isfinite(hi) THEN RETURN s; END IF;
  e := CASE WHEN hi - e0 <= e1 - hi THEN e0 ELSE e1 END;
  RETURN CASE WHEN s > e THEN hi ELSE s END;
END $$;
CREATE FUNCTION analytics.product_day_to(lo timestamptz, hi timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  d0 timestamptz := date_bin('1 day', lo, '2000-01-01 00:00+00');
  d1 timestamptz := analytics.day_ceil(lo);
  e0 timestamptz := date_bin('1 day', hi, '2000-01-01 00:00+00');
  e1 timestamptz := analytics.day_ceil(hi);
  s timestamptz;
  e timestamptz;
BEGIN
  IF NOT isfinite(hi) THEN RETURN hi; END IF;
  e := CASE WHEN hi - e0 <= e1 - hi THEN e0 ELSE e1 END;
  IF NOT isfinite(lo) THEN RETURN e; END IF;
  s := CASE WHEN d1 - lo <= lo - d0 THEN d1 ELSE d0 END;
  RETURN CASE WHEN s > e THEN hi ELSE e END;
END $$;
COMMENT ON FUNCTION analytics.product_day_from(timestamptz, timestamptz) IS
  'First UTC day analytics.product_sales reads from product_daily for the hours [lo, hi) (see product_day_to)';
COMMENT ON FUNCTION analytics.product_day_to(timestamptz, timestamptz) IS
  'End (exclusive) of the UTC days analytics.product_sales reads from product_daily for the hours [lo, hi): with '
  'product_day_from the midnights nearest to each end; the hours between them and the range added or subtracted';

-- the hourly product rows' sums over [hour_floor(p_from), p_to): whole UTC days from product_daily (summed per
-- product first), the hours between the range's ends and the nearest midnights from analytics.sales_hourly (added
-- inside the range, subtracted outside). The bounds are written out (no CTE) so that the planner estimates the
-- ranges and plans no JIT compilation.
CREATE FUNCTION analytics.product_sales(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (key text, revenue numeric, orders numeric, units numeric, transactions numeric, suspicious numeric)
LANGUAGE sql STABLE AS $$
  -- a revenue of 0 written 0 (no completed line: as the hourly rows sum it; an amount subtracted from a day's
  -- revenue would write 0.000)
  SELECT u.key, CASE WHEN sum(u.revenue) = 0 THEN 0 ELSE sum(u.revenue) END, sum(u.orders), sum(u.units),
         sum(u.transactions), sum(u.suspicious)
    FROM (
      SELECT d.product_id::text COLLATE "C" AS key, sum(d.revenue) AS revenue, sum(d.orders) AS orders,
             sum(d.units) AS units, sum(d.transactions) AS transactions, sum(d.suspicious) AS suspicious
        FROM analytics.product_daily d
       WHERE d.day >= analytics.product_day_from(analytics.hour_floor(p_from), analytics.hour_ceil(p_to))
         AND d.day < analytics.product_day_to(analytics.hour_floor(p_from), analytics.hour_ceil(p_to))
       GROUP BY d.product_id
      UNION ALL
      SELECT s.key, sum(s.revenue * x.sign), sum(s.orders * x.sign), sum(s.units * x.sign),
             sum(s.transactions * x.sign), sum(s.suspicious * x.sign)
        FROM (VALUES (1, analytics.hour_floor(p_from),
                      analytics.product_day_from(analytics.hour_floor(p_from), analytics.hour_ceil(p_to))),
                     (-1, analytics.product_day_from(analytics.hour_floor(p_from), analytics.hour_ceil(p_to)),
                      analytics.hour_floor(p_from)),
                     (1, analytics.product_day_to(analytics.hour_floor(p_from), analytics.hour_ceil(p_to)),
                      analytics.hour_ceil(p_to)),
                     (-1, analytics.hour_ceil(p_to),
                      analytics.product_day_to(analytics.hour_floor(p_from), analytics.hour_ceil(p_to)))) x(sign, lo, hi)
        JOIN analytics.sales_hourly s ON s.dim = 'product' AND s.hour >= x.lo AND s.hour < x.hi
       GROUP BY s.key
    ) u
   GROUP BY u.key
$$;
COMMENT ON FUNCTION analytics.product_sales(timestamptz, timestamptz) IS
  'Per product (key = product id as text) the sums of the hourly product rollups over the whole UTC hours overlapping '
  '[p_from, p_to): whole days from analytics.product_daily, the hours between the ends and the nearest midnights from '
  'analytics.sales_hourly (added or subtracted)';

-- units of completed and pending lines with transaction_time >= p_since (no upper bound), per product: the whole
-- days from the midnight nearest to hour_ceil(p_since), the hours between from sales_hourly and product_units_hourly
-- (added or subtracted, as in product_sales), the first partial hour from transactions
CREATE FUNCTION analytics.product_units_since(p_since timestamptz)
RETURNS TABLE (product_id bigint, units bigint)
LANGUAGE sql STABLE AS $$
  SELECT u.product_id, sum(u.units)::bigint
    FROM (
      SELECT d.product_id, sum(d.units + d.refund_units + d.pending_units) AS units
        FROM analytics.product_daily d
       WHERE d.day >= analytics.product_day_from(analytics.hour_ceil(p_since), 'infinity')
       GROUP BY d.product_id
      UNION ALL
      SELECT s.key::bigint, sum(s.units * x.sign)
        FROM (VALUES (1, analytics.hour_ceil(p_since), analytics.product_day_from(analytics.hour_ceil(p_since), 'infinity')),
                     (-1, analytics.product_day_from(analytics.hour_ceil(p_since), 'infinity'), analytics.hour_ceil(p_since))) x(sign, lo, hi)
        JOIN analytics.sales_hourly s ON s.dim = 'product' AND s.hour >= x.lo AND s.hour < x.hi
       GROUP BY s.key
      UNION ALL
      SELECT h.product_id, sum((h.refund_units + h.pending_units) * x.sign)
        FROM (VALUES (1, analytics.hour_ceil(p_since), analytics.product_day_from(analytics.hour_ceil(p_since), 'infinity')),
                     (-1, analytics.product_day_from(analytics.hour_ceil(p_since), 'infinity'), analytics.hour_ceil(p_since))) x(sign, lo, hi)
        JOIN analytics.product_units_hourly h ON h.hour >= x.lo AND h.hour < x.hi
       GROUP BY h.product_id
      UNION ALL
      SELECT t.product_id, t.quantity FROM public.transactions t
       WHERE t.transaction_time >= p_since AND t.transaction_time < analytics.hour_ceil(p_since)
         AND t.status IN ('completed', 'pending')
    ) u
   GROUP BY u.product_id
$$;
COMMENT ON FUNCTION analytics.product_units_since(timestamptz) IS
  'Per product sum(quantity) of the completed and pending lines with transaction_time >= p_since: whole days from '
  'analytics.product_daily (units + refund_units + pending_units), the hours between hour_ceil(p_since) and the nearest '
  'midnight from sales_hourly (units: completed minus refunds) and product_units_hourly (refund and pending units), '
  'added or subtracted, the first partial hour from transactions';

-- import.online_retail: the bulk path (session_replication_role = replica) accepts the new INSERT trigger and
-- rebuilds the imported days after the rollups (the other paths fire it; the rebuild then rewrites the same rows).
-- Edited in place (two insertions at places expected once: the head of the list of INSERT triggers the bulk path
-- accepts, the line after the rollup rebuild) so that other changes to the function are kept.
DO $do$
DECLARE
  def text := pg_get_functiondef('import.online_retail'::regproc);
  a text := $a$tg.tgname NOT IN ($a$;
  b text := $b$    PERFORM analytics.rollup_rebuild(v_from, v_to + interval '1 microsecond');$b$;
BEGIN
  IF (length(def) - length(replace(def, a, ''))) / length(a) <> 1
     OR (length(def) - length(replace(def, b, ''))) / length(b) <> 1 THEN
    RAISE EXCEPTION 'product_sales_daily: import.online_retail is not as expected';
  END IF;
  def := replace(def, a, a || $a$'transactions_sales_daily_ins', $a$);
  def := replace(def, b, b || E'\n' || $b$    PERFORM analytics.product_daily_rebuild(v_from, v_to + interval '1 microsecond');  -- change product_sales_daily$b$);
  EXECUTE def;
END $do$;

-- the readers (bodies otherwise as before)
CREATE OR REPLACE FUNCTION analytics.breakdown(p_dim text, p_from timestamp with time zone, p_to timestamp with time zone, p_limit integer DEFAULT NULL::integer)
 RETURNS TABLE(key text, label text, revenue numeric, orders bigint, units bigint, transactions bigint, suspicious bigint, revenue_share_pct numeric)
 LANGUAGE sql
 STABLE
AS $function$
  WITH r AS (
    SELECT s.key, sum(s.revenue) AS revenue, sum(s.orders) AS orders, sum(s.units) AS units,
           sum(s.transactions) AS transactions, sum(s.suspicious) AS suspicious
      FROM analytics.sales_hourly s
     WHERE p_dim NOT IN ('product', 'supplier') AND s.dim = p_dim
       AND s.hour >= analytics.hour_floor(p_from) AND s.hour < p_to
       AND analytics.arg_valid(p_dim IN ('product', 'category', 'supplier', 'country', 'platform', 'payment_method'),
                               'dimension must be product, category, supplier, country, platform or payment_method, got ' || p_dim)
     GROUP BY s.key
    UNION ALL  -- (change product_sales_daily) the product rows' sums: whole days from analytics.product_daily
    SELECT ps.key, ps.revenue, ps.orders, ps.units, ps.transactions, ps.suspicious
      FROM analytics.product_sales(p_from, p_to) ps
     WHERE p_dim IN ('product', 'supplier')
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
           WHEN 'product' THEN lp.name
           WHEN 'category' THEN coalesce(lc.name, 'uncategorised')
           WHEN 'supplier' THEN coalesce(ls.name, 'no supplier')
           WHEN 'country' THEN coalesce(nullif(g.key, ''), 'unknown')
           ELSE g.key END,
         g.revenue, g.orders, g.units, g.transactions, g.suspicious,
         round(100 * g.revenue / nullif(sum(g.revenue) OVER (), 0), 2)
    FROM g
    LEFT JOIN bi.products lp ON p_dim = 'product' AND lp.id::text = g.key
    LEFT JOIN bi.categories lc ON p_dim = 'category' AND lc.id::text = g.key
    LEFT JOIN bi.suppliers ls ON p_dim = 'supplier' AND ls.id::text = g.key
   WHERE g.transactions <> 0 OR g.revenue <> 0
   ORDER BY g.revenue DESC, g.orders DESC, g.key
   LIMIT p_limit
$function$;

CREATE OR REPLACE FUNCTION analytics.low_stock(p_as_of timestamp with time zone DEFAULT now(), p_velocity_days integer DEFAULT 28, p_cover_days numeric DEFAULT 14, p_limit integer DEFAULT NULL::integer)
 RETURNS TABLE(product_id bigint, sku text, name text, category text, supplier text, supplier_reliability numeric, stock integer, low_stock_threshold integer, units_sold bigint, daily_velocity numeric, days_of_cover numeric, below_threshold boolean)
 LANGUAGE sql
 STABLE
AS $function$
  WITH sold AS (
    SELECT s.key::bigint AS product_id, s.units::bigint AS units  -- (change product_sales_daily) whole days from product_daily
      FROM analytics.product_sales(p_as_of - make_interval(days => p_velocity_days), p_as_of) s
     WHERE analytics.arg_valid(p_velocity_days >= 1, 'velocity days must be >= 1, got ' || p_velocity_days)
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
$function$;

CREATE OR REPLACE FUNCTION api._inventory_rows(p_days integer)
 RETURNS TABLE(product_id bigint, sku text, name text, category_id bigint, supplier_id bigint, stock_quantity integer, low_stock_threshold integer, units_sold bigint, daily_rate numeric, days_of_cover numeric, below_threshold boolean)
 LANGUAGE sql
 STABLE
AS $function$
  SELECT pr.id, pr.sku, pr.name, pr.category_id, pr.supplier_id, pr.stock_quantity, pr.low_stock_threshold,
         coalesce(s.units, 0), round(coalesce(s.units, 0)::numeric / p_days, 3),
         CASE WHEN coalesce(s.units, 0) > 0 THEN round(pr.stock_quantity / (s.units::numeric / p_days), 1) END,
         pr.stock_quantity <= pr.low_stock_threshold
    FROM products pr
    LEFT JOIN analytics.product_units_since(now() - make_interval(days => p_days)) s ON s.product_id = pr.id
$function$;

COMMIT;
