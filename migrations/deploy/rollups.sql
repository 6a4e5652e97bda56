-- Deploy techmart:rollups to pg
-- requires: schema
--
-- Live hourly sales rollups, kept exact inside the inserting transaction.
--
--   analytics.sales_hourly   one row per (dim, hour, key, slot) holding additive deltas;
--                            a rollup value is the SUM over the slots (view analytics.sales_hourly_v).
--   analytics.order_registry lines per order_number: serialises statements that touch the same
--                            order (row lock, never a table-wide lock) so "orders" stays exact.
--
-- Statement-level AFTER INSERT / UPDATE / DELETE triggers with transition tables aggregate
-- each statement and upsert one delta row per (dim, hour, key) — a bulk insert of 100,000
-- rows costs one upsert per bucket, not per row. The slot (pg_backend_pid() % 8) spreads
-- concurrent writers to the same hour over different rows (no hot row); upserts are sorted
-- by (dim, hour, key) so two writers never lock rows in opposite orders.
--
-- Definitions (also in COMMENT ON):
--   hour        start of the UTC hour of transaction_time (date_bin('1 hour', ...)), timestamptz.
--               Business days in any time zone are unions of these hours plus, for zones with
--               a non-whole-hour offset, two partial hours read from transactions (see
--               analytics.sales_totals).
--   revenue     sum(amount) of status 'completed' lines. pending, failed, refunded and blocked
--               lines carry no revenue; an UPDATE of status moves the amount in or out; a
--               DELETE removes it.
--   orders      number of distinct orders with at least one completed line in the bucket; an
--               order is its order_number, or the transaction itself when order_number is NULL.
--               Counted per hour bucket (an order whose lines span two hours counts in both).
--   units       sum(quantity) of completed lines.
--   transactions count of lines of any status; completed/refunded/blocked/failed/pending counts,
--               refunded_amount = sum(amount) of refunded lines, suspicious = is_suspicious lines
--               of any status.
BEGIN;

CREATE SCHEMA IF NOT EXISTS analytics;
COMMENT ON SCHEMA analytics IS
  'Sales rollups and analytics functions (SPEC section 3). BI users read the views of schema bi.';

CREATE TABLE analytics.sales_hourly (
  dim             text COLLATE "C" NOT NULL
                  CHECK (dim IN ('all', 'product', 'category', 'country', 'platform', 'payment_method')),
  hour            timestamptz NOT NULL CHECK (hour = date_bin('1 hour', hour, '2000-01-01 00:00+00')),
  key             text COLLATE "C" NOT NULL,
  slot            smallint NOT NULL CHECK (slot BETWEEN 0 AND 63),
  revenue         numeric NOT NULL DEFAULT 0,
  orders          bigint NOT NULL DEFAULT 0,
  units           bigint NOT NULL DEFAULT 0,
  transactions    bigint NOT NULL DEFAULT 0,
  completed       bigint NOT NULL DEFAULT 0,
  refunded        bigint NOT NULL DEFAULT 0,
  refunded_amount numeric NOT NULL DEFAULT 0,
  blocked         bigint NOT NULL DEFAULT 0,
  failed          bigint NOT NULL DEFAULT 0,
  pending         bigint NOT NULL DEFAULT 0,
  suspicious      bigint NOT NULL DEFAULT 0,
  customers_hll   bytea,
  PRIMARY KEY (dim, hour, key, slot)
) WITH (fillfactor = 80);
COMMENT ON TABLE analytics.sales_hourly IS
  'Hourly sales rollup deltas per (dim, hour, key, slot), maintained by statement-level triggers on transactions. '
  'A value is the SUM over slots (use analytics.sales_hourly_v); one slot alone may be negative. '
  'Exactness: analytics.rollup_check() returns no row. Rebuild a range with analytics.rollup_rebuild(from, to).';
COMMENT ON COLUMN analytics.sales_hourly.dim IS
  'all (whole shop, key ''''), product (key product id), category (key category id of the product, '''' when none), '
  'country (key ISO code of the transaction, '''' when NULL), platform, payment_method';
COMMENT ON COLUMN analytics.sales_hourly.hour IS 'Start of the UTC hour of transaction_time';
COMMENT ON COLUMN analytics.sales_hourly.key IS 'The dimension value as text; '''' for the shop total and for NULL';
COMMENT ON COLUMN analytics.sales_hourly.slot IS
  'pg_backend_pid() % 8 of the writing backend: concurrent writers to one hour update different rows';
COMMENT ON COLUMN analytics.sales_hourly.revenue IS
  'sum(amount) of completed lines; refunded, blocked, failed and pending lines carry no revenue';
COMMENT ON COLUMN analytics.sales_hourly.orders IS
  'distinct orders (order_number, or the line itself when order_number is NULL) with at least one completed line in the bucket';
COMMENT ON COLUMN analytics.sales_hourly.units IS 'sum(quantity) of completed lines';
COMMENT ON COLUMN analytics.sales_hourly.transactions IS 'lines of any status';
COMMENT ON COLUMN analytics.sales_hourly.completed IS 'lines with status completed';
COMMENT ON COLUMN analytics.sales_hourly.refunded IS 'lines with status refunded';
COMMENT ON COLUMN analytics.sales_hourly.refunded_amount IS 'sum(amount) of refunded lines';
COMMENT ON COLUMN analytics.sales_hourly.blocked IS 'lines with status blocked';
COMMENT ON COLUMN analytics.sales_hourly.failed IS 'lines with status failed';
COMMENT ON COLUMN analytics.sales_hourly.pending IS 'lines with status pending';
COMMENT ON COLUMN analytics.sales_hourly.suspicious IS 'lines flagged is_suspicious by the fraud engine, any status';
COMMENT ON COLUMN analytics.sales_hourly.customers_hll IS
  'Hook for a mergeable distinct-customer sketch (techmart HyperLogLog) of the hour; NULL until the extension provides '
  'techmart.hll_* functions. Until then distinct customers are counted exactly by analytics.active_customers() from '
  'an index range scan of transactions.';

CREATE TABLE analytics.order_registry (
  order_number text COLLATE "C" PRIMARY KEY,
  lines        bigint NOT NULL  -- no CHECK: the upsert's candidate row carries a negative delta
);
COMMENT ON TABLE analytics.order_registry IS
  'Number of transaction lines per order_number. The rollup trigger upserts it (sorted) for every order a statement '
  'touches: the row lock serialises concurrent statements on the same order, so "orders" in the rollups stays exact, '
  'and a zero "other lines" count lets the trigger skip looking the order up in transactions.';

-- the rollup rows, summed over slots
CREATE VIEW analytics.sales_hourly_v AS
SELECT dim, hour, key,
       sum(revenue) AS revenue, sum(orders)::bigint AS orders, sum(units)::bigint AS units,
       sum(transactions)::bigint AS transactions, sum(completed)::bigint AS completed,
       sum(refunded)::bigint AS refunded, sum(refunded_amount) AS refunded_amount,
       sum(blocked)::bigint AS blocked, sum(failed)::bigint AS failed, sum(pending)::bigint AS pending,
       sum(suspicious)::bigint AS suspicious
  FROM analytics.sales_hourly
 GROUP BY dim, hour, key;
COMMENT ON VIEW analytics.sales_hourly_v IS 'analytics.sales_hourly summed over slots: one row per (dim, hour, key)';

CREATE FUNCTION analytics.rollup_slot() RETURNS smallint
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT (pg_backend_pid() % 8)::smallint $$;
COMMENT ON FUNCTION analytics.rollup_slot() IS 'The slot this backend writes its rollup deltas to (pg_backend_pid() % 8)';

CREATE FUNCTION analytics.hour_floor(p timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT date_bin('1 hour', p, '2000-01-01 00:00+00') $$;
COMMENT ON FUNCTION analytics.hour_floor(timestamptz) IS 'Start of the (absolute, UTC) hour containing p';
CREATE FUNCTION analytics.hour_ceil(p timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN analytics.hour_floor(p) = p THEN p ELSE analytics.hour_floor(p) + interval '1 hour' END
$$;
COMMENT ON FUNCTION analytics.hour_ceil(timestamptz) IS 'p rounded up to a whole (UTC) hour';

-- The GROUP BY recomputation of the rollups from transactions, for hours in [p_from, p_to).
-- Independent of the trigger code: used by rollup_check() and rollup_rebuild().
CREATE FUNCTION analytics.rollup_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, revenue numeric, orders bigint, units bigint,
               transactions bigint, completed bigint, refunded bigint, refunded_amount numeric,
               blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT date_bin('1 hour', t.transaction_time, '2000-01-01 00:00+00') AS hour,
           coalesce(t.order_number, '#' || t.id) AS order_key,
           t.status, t.amount, t.quantity, t.is_suspicious,
           t.product_id, p.category_id, t.country, t.platform, t.payment_method
      FROM transactions t LEFT JOIN products p ON p.id = t.product_id
     WHERE t.transaction_time >= analytics.hour_floor(p_from)
       AND t.transaction_time < analytics.hour_ceil(p_to)
  )
  SELECT d.dim, t.hour, d.key COLLATE "C",
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0),
         count(DISTINCT t.order_key) FILTER (WHERE t.status = 'completed'),
         coalesce(sum(t.quantity) FILTER (WHERE t.status = 'completed'), 0)::bigint,
         count(*),
         count(*) FILTER (WHERE t.status = 'completed'),
         count(*) FILTER (WHERE t.status = 'refunded'),
         coalesce(sum(t.amount) FILTER (WHERE t.status = 'refunded'), 0),
         count(*) FILTER (WHERE t.status = 'blocked'),
         count(*) FILTER (WHERE t.status = 'failed'),
         count(*) FILTER (WHERE t.status = 'pending'),
         count(*) FILTER (WHERE t.is_suspicious)
    FROM t
   CROSS JOIN LATERAL (VALUES ('all', ''),
                              ('product', t.product_id::text),
                              ('category', coalesce(t.category_id::text, '')),
                              ('country', coalesce(t.country::text, '')),
                              ('platform', t.platform),
                              ('payment_method', t.payment_method)) d(dim, key)
   GROUP BY d.dim, t.hour, d.key
$$;
COMMENT ON FUNCTION analytics.rollup_recompute(timestamptz, timestamptz) IS
  'The rollup values recomputed with GROUP BY from transactions for the hours in [p_from, p_to)';

-- Rows where the rollups and the GROUP BY recomputation differ (none when exact).
CREATE FUNCTION analytics.rollup_check(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, metric text, rollup numeric, recomputed numeric)
LANGUAGE sql STABLE AS $$
  WITH r AS (
    SELECT v.* FROM analytics.sales_hourly_v v
     WHERE v.hour >= analytics.hour_floor(p_from) AND v.hour < analytics.hour_ceil(p_to)
  ), c AS (
    SELECT * FROM analytics.rollup_recompute(p_from, p_to)
  ), j AS (
    SELECT coalesce(r.dim, c.dim) AS dim, coalesce(r.hour, c.hour) AS hour, coalesce(r.key, c.key) AS key,
           ARRAY[r.revenue, r.orders, r.units, r.transactions, r.completed, r.refunded, r.refunded_amount,
                 r.blocked, r.failed, r.pending, r.suspicious] AS rv,
           ARRAY[c.revenue, c.orders, c.units, c.transactions, c.completed, c.refunded, c.refunded_amount,
                 c.blocked, c.failed, c.pending, c.suspicious] AS cv
      FROM r FULL JOIN c ON r.dim = c.dim AND r.hour = c.hour AND r.key = c.key
  )
  SELECT j.dim, j.hour, j.key, m.name, coalesce(j.rv[m.i], 0), coalesce(j.cv[m.i], 0)
    FROM j CROSS JOIN LATERAL unnest(ARRAY['revenue', 'orders', 'units', 'transactions', 'completed', 'refunded',
                                            'refunded_amount', 'blocked', 'failed', 'pending', 'suspicious'])
                               WITH ORDINALITY m(name, i)
   WHERE coalesce(j.rv[m.i], 0) <> coalesce(j.cv[m.i], 0)
   ORDER BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION analytics.rollup_check(timestamptz, timestamptz) IS
  'Differences between analytics.sales_hourly (summed over slots) and the GROUP BY recomputation from transactions, '
  'for the whole hours overlapping [p_from, p_to); no row means the rollups are exact';

-- Recompute the rollups of the hours in [p_from, p_to) (after a bulk import with the rollup
-- triggers disabled, or a repair). Safe beside live writers: it takes an EXCLUSIVE lock on the
-- rollup tables (readers go on; writers' deltas wait and are added after the rebuild, which
-- did not see their rows).
CREATE FUNCTION analytics.rollup_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_from timestamptz := analytics.hour_floor(p_from);
  n bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;
  -- the range is widened to whole hours: a bucket is rebuilt entirely or not at all
  p_to := analytics.hour_ceil(p_to);
  DELETE FROM analytics.sales_hourly WHERE hour >= v_from AND hour < p_to;
  INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                      refunded, refunded_amount, blocked, failed, pending, suspicious)
  SELECT r.dim, r.hour, r.key, 0, r.revenue, r.orders, r.units, r.transactions, r.completed,
         r.refunded, r.refunded_amount, r.blocked, r.failed, r.pending, r.suspicious
    FROM analytics.rollup_recompute(v_from, p_to) r
   ORDER BY 1, 2, 3;
  GET DIAGNOSTICS n = ROW_COUNT;
  -- the registry of the orders with lines in the range (their lines anywhere)
  DELETE FROM analytics.order_registry o
   WHERE o.order_number IN (SELECT t.order_number FROM transactions t
                             WHERE t.transaction_time >= v_from AND t.transaction_time < p_to);
  INSERT INTO analytics.order_registry (order_number, lines)
  SELECT t.order_number, count(*) FROM transactions t
   WHERE t.order_number IN (SELECT t2.order_number FROM transactions t2
                             WHERE t2.transaction_time >= v_from AND t2.transaction_time < p_to)
   GROUP BY t.order_number
  ON CONFLICT (order_number) DO UPDATE SET lines = excluded.lines;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) IS
  'Recompute the rollups (slot 0) and the order registry for the hours in [p_from, p_to) from transactions; returns '
  'the number of rollup rows written. For bulk imports with the rollup triggers disabled '
  '(ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins), and repairs.';

-- The triggers: one function per event, generated below from one template so that the three
-- share their SQL. Each reads the statement's lines from its transition tables:
--   sign +1  the after-state lines (NEW), sign -1 the before-state lines (OLD),
--   sign 0   "other" lines of the touched orders, untouched by the statement (they decide
--            whether an order is already counted in a bucket).
-- Steps: (1) upsert the order registry in order_number order (its row locks serialise
-- statements touching the same order; a statement of its own, so that under READ COMMITTED
-- the next statement's snapshot sees the lines of a concurrent transaction we waited for);
-- (2) one query: other lines of multi-statement orders, additive sums per (dim, hour, key) in
-- one pass of GROUPING SETS, order presence before/after for orders with several lines, and
-- one upsert per (dim, hour, key) into this backend's slot, sorted by (dim, hour, key).
-- Statements of up to 64 lines run static SQL with a cached plan (a single-row insert costs
-- about 0.3 ms); larger ones run the same SQL through EXECUTE, planned for their size.
CREATE TABLE analytics.rollup_sql (
  step text PRIMARY KEY,
  sql  text NOT NULL
);
COMMENT ON TABLE analytics.rollup_sql IS
  'The SQL templates the rollup trigger functions were generated from (documentation; %s = the statement''s lines)';
INSERT INTO analytics.rollup_sql VALUES
  ('lines_insert', $t$SELECT 1 AS sign, n.id, n.order_number, n.transaction_time, n.status, n.amount, n.quantity,
                       n.is_suspicious, n.product_id, n.country, n.platform, n.payment_method FROM new_rows n$t$),
  ('lines_update', $t$WITH ch AS (
                  SELECT o.id FROM old_rows o JOIN new_rows n USING (id)
                   WHERE (o.order_number, o.transaction_time, o.status, o.amount, o.quantity, o.is_suspicious,
                          o.product_id, o.country, o.platform, o.payment_method)
                         IS DISTINCT FROM
                         (n.order_number, n.transaction_time, n.status, n.amount, n.quantity, n.is_suspicious,
                          n.product_id, n.country, n.platform, n.payment_method)
                  UNION ALL  -- an UPDATE of id itself
                  SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
                  UNION ALL
                  SELECT n.id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id))
                SELECT 1 AS sign, n.id, n.order_number, n.transaction_time, n.status, n.amount, n.quantity,
                       n.is_suspicious, n.product_id, n.country, n.platform, n.payment_method
                  FROM new_rows n WHERE n.id IN (SELECT id FROM ch)
                UNION ALL
                SELECT -1, o.id, o.order_number, o.transaction_time, o.status, o.amount, o.quantity,
                       o.is_suspicious, o.product_id, o.country, o.platform, o.payment_method
                  FROM old_rows o WHERE o.id IN (SELECT id FROM ch)$t$),
  ('lines_delete', $t$SELECT -1 AS sign, o.id, o.order_number, o.transaction_time, o.status, o.amount, o.quantity,
                       o.is_suspicious, o.product_id, o.country, o.platform, o.payment_method FROM old_rows o$t$),
  ('registry', $t$    WITH lines AS (%s)
    INSERT INTO analytics.order_registry AS r (order_number, lines)
    SELECT l.order_number, sum(l.sign) FROM lines l WHERE l.order_number IS NOT NULL
     GROUP BY l.order_number ORDER BY l.order_number
    ON CONFLICT (order_number) DO UPDATE SET lines = r.lines + excluded.lines
$t$),
  ('apply', $t$    WITH lines AS MATERIALIZED (%s),
    -- 2. orders with lines this statement did not touch: read those lines (sign 0)
    cnt AS (
      SELECT l.order_number, count(*) FILTER (WHERE l.sign = 1) AS new_lines
        FROM lines l WHERE l.order_number IS NOT NULL GROUP BY 1
    ),
    others AS (
      SELECT 0 AS sign, t.id, t.order_number, t.transaction_time, t.status, t.amount, t.quantity,
             t.is_suspicious, t.product_id, t.country, t.platform, t.payment_method
        FROM transactions t
       WHERE t.order_number IN (SELECT cnt.order_number FROM cnt JOIN analytics.order_registry r USING (order_number)
                                 WHERE r.lines > cnt.new_lines)
         AND NOT EXISTS (SELECT 1 FROM lines l WHERE l.sign = 1 AND l.id = t.id)
    ),
    both_ AS MATERIALIZED (
      SELECT * FROM lines UNION ALL SELECT * FROM others
    ),
    -- orders with more than one line version here: their presence in a bucket needs a per-order
    -- look; every other line is an order of its own (orders delta = sign when completed)
    multi AS (
      SELECT b.order_number FROM both_ b WHERE b.order_number IS NOT NULL GROUP BY 1 HAVING count(*) > 1
    ),
    allx AS MATERIALIZED (
      SELECT a.sign, date_bin('1 hour', a.transaction_time, '2000-01-01 00:00+00') AS hour,
             a.order_number, a.status = 'completed' AS c, a.status, a.amount, a.quantity, a.is_suspicious,
             a.product_id, p.category_id, a.country, a.platform, a.payment_method,
             a.order_number IS NULL OR a.order_number NOT IN (SELECT m.order_number FROM multi m) AS solo
        FROM both_ a LEFT JOIN products p ON p.id = a.product_id
    ),
    -- 3. additive sums per (dim, hour, key): one pass with grouping sets
    flat AS (
      SELECT CASE GROUPING(a.product_id, a.category_id, a.country, a.platform, a.payment_method)
               WHEN 31 THEN 'all' WHEN 15 THEN 'product' WHEN 23 THEN 'category' WHEN 27 THEN 'country'
               WHEN 29 THEN 'platform' ELSE 'payment_method' END AS dim,
             a.hour,
             coalesce(a.product_id::text, a.category_id::text, a.country::text, a.platform, a.payment_method, '') AS key,
             coalesce(sum(a.sign * a.amount) FILTER (WHERE a.c), 0) AS revenue,
             coalesce(sum(a.sign) FILTER (WHERE a.c AND a.solo), 0) AS orders,
             coalesce(sum(a.sign * a.quantity) FILTER (WHERE a.c), 0) AS units,
             sum(a.sign) AS transactions,
             coalesce(sum(a.sign) FILTER (WHERE a.c), 0) AS completed,
             coalesce(sum(a.sign) FILTER (WHERE a.status = 'refunded'), 0) AS refunded,
             coalesce(sum(a.sign * a.amount) FILTER (WHERE a.status = 'refunded'), 0) AS refunded_amount,
             coalesce(sum(a.sign) FILTER (WHERE a.status = 'blocked'), 0) AS blocked,
             coalesce(sum(a.sign) FILTER (WHERE a.status = 'failed'), 0) AS failed,
             coalesce(sum(a.sign) FILTER (WHERE a.status = 'pending'), 0) AS pending,
             coalesce(sum(a.sign) FILTER (WHERE a.is_suspicious), 0) AS suspicious
        FROM allx a
       GROUP BY GROUPING SETS ((a.hour), (a.hour, a.product_id), (a.hour, a.category_id), (a.hour, a.country),
                               (a.hour, a.platform), (a.hour, a.payment_method))
    ),
    -- orders of multi-line orders: presence after (sign >= 0) minus presence before (sign <= 0)
    ord AS (
      SELECT CASE GROUPING(a.product_id, a.category_id, a.country, a.platform, a.payment_method)
               WHEN 31 THEN 'all' WHEN 15 THEN 'product' WHEN 23 THEN 'category' WHEN 27 THEN 'country'
               WHEN 29 THEN 'platform' ELSE 'payment_method' END AS dim,
             a.hour,
             coalesce(a.product_id::text, a.category_id::text, a.country::text, a.platform, a.payment_method, '') AS key,
             bool_or(a.c AND a.sign >= 0)::int - bool_or(a.c AND a.sign <= 0)::int AS orders
        FROM allx a WHERE NOT a.solo
       GROUP BY GROUPING SETS ((a.hour, a.order_number), (a.hour, a.product_id, a.order_number),
                               (a.hour, a.category_id, a.order_number), (a.hour, a.country, a.order_number),
                               (a.hour, a.platform, a.order_number), (a.hour, a.payment_method, a.order_number))
    ),
    ord_sum AS (
      SELECT dim, hour, key, sum(orders) AS orders FROM ord GROUP BY 1, 2, 3
    ),
    delta AS (  -- every bucket of ord_sum has a line in flat
      SELECT f.dim, f.hour, f.key, f.revenue, f.orders + coalesce(o.orders, 0) AS orders, f.units, f.transactions,
             f.completed, f.refunded, f.refunded_amount, f.blocked, f.failed, f.pending, f.suspicious
        FROM flat f LEFT JOIN ord_sum o ON o.dim = f.dim AND o.hour = f.hour AND o.key = f.key
    )
    -- 4. one upsert per (dim, hour, key), in key order, into this backend's slot
    INSERT INTO analytics.sales_hourly AS s (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                             refunded, refunded_amount, blocked, failed, pending, suspicious)
    SELECT dim, hour, key COLLATE "C", analytics.rollup_slot(), revenue, orders, units, transactions, completed,
           refunded, refunded_amount, blocked, failed, pending, suspicious
      FROM delta
     WHERE (revenue, orders, units, transactions, completed, refunded, refunded_amount, blocked, failed, pending, suspicious)
           <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
     ORDER BY dim, hour, key COLLATE "C"
    ON CONFLICT (dim, hour, key, slot) DO UPDATE SET
      revenue = s.revenue + excluded.revenue, orders = s.orders + excluded.orders,
      units = s.units + excluded.units, transactions = s.transactions + excluded.transactions,
      completed = s.completed + excluded.completed, refunded = s.refunded + excluded.refunded,
      refunded_amount = s.refunded_amount + excluded.refunded_amount, blocked = s.blocked + excluded.blocked,
      failed = s.failed + excluded.failed, pending = s.pending + excluded.pending,
      suspicious = s.suspicious + excluded.suspicious
$t$);

DO $gen$
DECLARE
  op    text;
  src   text;
  cnt   text;
  reg   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'registry');
  apply text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  q_reg text;
  q_app text;
BEGIN
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    src := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_' || op);
    cnt := CASE op WHEN 'delete' THEN 'old_rows' ELSE 'new_rows' END;
    q_reg := format(reg, src);
    q_app := format(apply, src);
    EXECUTE format($f$
      CREATE FUNCTION analytics.rollup_%1$s_trigger()
      RETURNS trigger
      LANGUAGE plpgsql VOLATILE
      -- definer: a role allowed to write transactions needs no privilege on the rollup tables
      SECURITY DEFINER SET search_path = public, pg_temp
      SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
      AS $body$
      DECLARE
        n bigint := (SELECT count(*) FROM %2$s);
      BEGIN
        IF n = 0 THEN
          RETURN NULL;
        ELSIF n <= 64 THEN
          %3$s;
          %4$s;
        ELSE
          EXECUTE %5$L;
          EXECUTE %6$L;
        END IF;
        %7$s
        RETURN NULL;
      END $body$ $f$,
      op, cnt, q_reg, q_app, q_reg, q_app,
      CASE WHEN op = 'insert' THEN '' ELSE
        '-- orders whose last line went away
        DELETE FROM analytics.order_registry r WHERE r.lines = 0
           AND r.order_number IN (SELECT o.order_number FROM old_rows o WHERE o.order_number IS NOT NULL);' END);
    EXECUTE format($c$COMMENT ON FUNCTION analytics.rollup_%s_trigger() IS %L$c$, op,
      'Statement-level AFTER ' || upper(op) || ' trigger on transactions: folds the statement''s transition tables into '
      'analytics.sales_hourly (one upsert per (dim, hour, key), this backend''s slot, key order) and '
      'analytics.order_registry. Generated from analytics.rollup_sql');
  END LOOP;
END $gen$;

CREATE FUNCTION analytics.rollup_truncate_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  TRUNCATE analytics.sales_hourly, analytics.order_registry;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.rollup_truncate_trigger() IS 'TRUNCATE of transactions empties the rollups too';

CREATE TRIGGER transactions_rollup_ins AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_insert_trigger();
CREATE TRIGGER transactions_rollup_upd AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_update_trigger();
CREATE TRIGGER transactions_rollup_del AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_delete_trigger();
CREATE TRIGGER transactions_rollup_trunc AFTER TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_truncate_trigger();

-- A product moving to another category moves its history in the category dimension: the
-- category rows of the hours the product sold in are recomputed for the old and new category.
CREATE FUNCTION analytics.rollup_product_category_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_keys text[];
BEGIN
  SELECT array_agg(DISTINCT k) INTO v_keys
    FROM old_rows o JOIN new_rows n USING (id)
   CROSS JOIN LATERAL (VALUES (coalesce(o.category_id::text, '')), (coalesce(n.category_id::text, ''))) x(k)
   WHERE o.category_id IS DISTINCT FROM n.category_id;
  IF v_keys IS NULL THEN
    RETURN NULL;
  END IF;
  LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;
  CREATE TEMP TABLE IF NOT EXISTS rollup_cat_hours (hour timestamptz PRIMARY KEY) ON COMMIT DELETE ROWS;
  DELETE FROM rollup_cat_hours;
  INSERT INTO rollup_cat_hours
  SELECT DISTINCT s.hour FROM analytics.sales_hourly s
   WHERE s.dim = 'product'
     AND s.key IN (SELECT o.id::text FROM old_rows o JOIN new_rows n USING (id)
                    WHERE o.category_id IS DISTINCT FROM n.category_id);
  DELETE FROM analytics.sales_hourly s
   WHERE s.dim = 'category' AND s.key = ANY (v_keys) AND s.hour IN (SELECT hour FROM rollup_cat_hours);
  INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                      refunded, refunded_amount, blocked, failed, pending, suspicious)
  SELECT r.dim, r.hour, r.key, 0, r.revenue, r.orders, r.units, r.transactions, r.completed,
         r.refunded, r.refunded_amount, r.blocked, r.failed, r.pending, r.suspicious
    FROM rollup_cat_hours h
   CROSS JOIN LATERAL analytics.rollup_recompute(h.hour, h.hour + interval '1 hour') r
   WHERE r.dim = 'category' AND r.key = ANY (v_keys)
   ORDER BY 1, 2, 3;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.rollup_product_category_trigger() IS
  'AFTER UPDATE on products: when a product changes category, recompute the category rollups of the hours it sold in';

CREATE TRIGGER products_rollup_category AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_product_category_trigger();

-- maintenance functions are not for everybody (the triggers run as their owner)
REVOKE EXECUTE ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) FROM PUBLIC;

-- existing rows (a deploy onto a loaded database)
DO $$ BEGIN PERFORM analytics.rollup_rebuild(); END $$;

COMMIT;
