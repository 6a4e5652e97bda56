-- Deploy techmart:overview_rollups to pg
-- requires: rollups_hll
--
-- The dashboard overview and the hourly series read rollup rows only, whatever the size of
-- transactions (issue 4: the same median at 100,000 and 10,000,000 transactions).
--
-- Minute rows of the shop total: analytics.sales_hourly gains the dimension 'minute' (key = the
-- minute within the UTC hour, '00' .. '59'; hour = the hour, as for every row) with the same
-- metrics and customer sketch as dim 'all', kept by the same statement triggers (one more
-- grouping set), checked and rebuilt with the others. A range that does not start or end on a
-- whole hour (today up to as_of, yesterday up to the same time) reads its partial hours from
-- these rows and scans transactions for less than a minute at each end (was: up to an hour).
-- Orders in a minute row are counted per minute bucket, like the hourly rows per hour.
--
-- The recomputation (rollup_check, rollup_rebuild) aggregates in two levels: per (dim, hour, key,
-- order) first, then per (dim, hour, key) — both hash aggregates, no count(DISTINCT) with its sort
-- of the expanded rows in the database collation; keys COLLATE "C". rollup_rebuild works a day at
-- a time with work_mem 256MB.
--
-- Also: analytics.low_stock_count(as_of) in the past reads only the products changed after
-- as_of (new index inventory_history (changed_at)) beside the partial index of the low ones;
-- api.hourly_sales builds its items with one to_jsonb per row.
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

ALTER TABLE analytics.sales_hourly DROP CONSTRAINT sales_hourly_dim_check;
ALTER TABLE analytics.sales_hourly ADD CONSTRAINT sales_hourly_dim_check
  CHECK (dim IN ('all', 'product', 'category', 'country', 'platform', 'payment_method', 'minute'));
COMMENT ON COLUMN analytics.sales_hourly.dim IS
  'all (whole shop, key ''''), product (key product id), category (key category id of the product, '''' when none), '
  'country (key ISO code of the transaction, '''' when NULL), platform, payment_method; minute (whole shop per minute '
  'of the hour: key ''00''..''59'', the minute within the UTC hour; for ranges that do not end on a whole hour)';

CREATE FUNCTION analytics.minute_key(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT lpad(date_part('minute', p AT TIME ZONE 'UTC')::integer::text, 2, '0') $$;
COMMENT ON FUNCTION analytics.minute_key(timestamptz) IS
  'The minute of p within its UTC hour as two digits, ''00''..''59'' (key of the rollup rows of dim minute); '
  'immutable functions only, so that it is inlined (to_char is only stable)';
CREATE FUNCTION analytics.minute_floor(p timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT date_bin('1 minute', p, '2000-01-01 00:00+00') $$;
COMMENT ON FUNCTION analytics.minute_floor(timestamptz) IS 'Start of the minute containing p';
CREATE FUNCTION analytics.minute_ceil(p timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN analytics.minute_floor(p) = p THEN p ELSE analytics.minute_floor(p) + interval '1 minute' END
$$;
COMMENT ON FUNCTION analytics.minute_ceil(timestamptz) IS 'p rounded up to a whole minute';

-- ------------------------------------------------------------------ trigger templates: one more grouping set
DO $$
DECLARE
  s record;
  n integer;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    (1, 'apply', 'a\.kind = ''refund'' AS r, a\.customer_id,',
                 'a.kind = ''refund'' AS r, a.customer_id, analytics.minute_key(a.transaction_time) AS minute,', 1),
    (2, 'apply', 'CASE GROUPING\(a\.product_id, a\.category_id, a\.country, a\.platform, a\.payment_method\)\s+WHEN 31 THEN ''all'' WHEN 15 THEN ''product'' WHEN 23 THEN ''category'' WHEN 27 THEN ''country''\s+WHEN 29 THEN ''platform'' ELSE ''payment_method'' END',
                 E'CASE GROUPING(a.product_id, a.category_id, a.country, a.platform, a.payment_method, a.minute)\n               WHEN 63 THEN ''all'' WHEN 31 THEN ''product'' WHEN 47 THEN ''category'' WHEN 55 THEN ''country''\n               WHEN 59 THEN ''platform'' WHEN 61 THEN ''payment_method'' ELSE ''minute'' END', 2),
    (3, 'apply', 'a\.platform, a\.payment_method, ''''\) AS key',
                 'a.platform, a.payment_method, a.minute, '''') AS key', 2),
    (4, 'apply', '\(a\.hour, a\.platform\), \(a\.hour, a\.payment_method\)\)',
                 '(a.hour, a.platform), (a.hour, a.payment_method), (a.hour, a.minute))', 1),
    (5, 'apply', '\(a\.hour, a\.payment_method, a\.order_number\)\)',
                 '(a.hour, a.payment_method, a.order_number), (a.hour, a.minute, a.order_number))', 1),
    -- the sketch steps of UPDATE and DELETE: the minute bucket of the old line version too
    (6, 'hll_buckets_delete', '\(''payment_method'', o\.payment_method\)\) d\(dim, key\)',
                              '(''payment_method'', o.payment_method), (''minute'', analytics.minute_key(o.transaction_time))) d(dim, key)', 1),
    (7, 'hll_buckets_update', '\(''payment_method'', o\.payment_method\)\) d\(dim, key\)',
                              '(''payment_method'', o.payment_method), (''minute'', analytics.minute_key(o.transaction_time))) d(dim, key)', 1),
    (8, 'hll_buckets_update', 'date_bin\(''1 hour'', ([no])\.transaction_time, ''2000-01-01 00:00\+00''\), \1\.product_id',
                              'date_bin(''1 minute'', \1.transaction_time, ''2000-01-01 00:00+00''), \1.product_id', 2),
    -- the other lines of the touched orders: looked up by order (index on order_number) from the few
    -- orders that have lines outside the statement. The semi join it replaces was planned as a nested
    -- loop over every line of transactions with an order_number when the statistics were stale (just
    -- after a TRUNCATE: 30 s for 10,000 lines, the cause of the bulk upkeep below 80 %)
    (9, 'apply', '        FROM transactions t\n       WHERE t\.order_number IN \(SELECT cnt\.order_number FROM cnt JOIN analytics\.order_registry r USING \(order_number\)\n +WHERE r\.lines > cnt\.new_lines\)\n +AND NOT EXISTS \(SELECT 1 FROM lines l WHERE l\.sign = 1 AND l\.id = t\.id\)',
                 E'        FROM (SELECT cnt.order_number FROM cnt JOIN analytics.order_registry r USING (order_number)\n               WHERE r.lines > cnt.new_lines) o\n       CROSS JOIN LATERAL (SELECT * FROM transactions t1 WHERE t1.order_number = o.order_number OFFSET 0) t\n       WHERE t.id NOT IN (SELECT l.id FROM lines l WHERE l.sign = 1)', 1)
  ) v(ord, step, pattern, replacement, expected) ORDER BY ord LOOP
    SELECT regexp_count(sql, s.pattern) INTO n FROM analytics.rollup_sql WHERE step = s.step;
    IF n IS DISTINCT FROM s.expected THEN
      RAISE EXCEPTION 'overview_rollups: rollup template % contains /%/ % times, expected %', s.step, s.pattern, n, s.expected
        USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/overview_rollups.sql';
    END IF;
    UPDATE analytics.rollup_sql SET sql = regexp_replace(sql, s.pattern, s.replacement, 'g') WHERE step = s.step;
  END LOOP;
END $$;

-- regenerate the trigger functions (the generator of change rollups_hll, unchanged)
DO $gen$
DECLARE
  op    text;
  src   text;
  cnt   text;
  reg   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'registry');
  apply text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  lck   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_lock');
  rec   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_recompute');
  q_reg text;
  q_app text;
  q_lck text;
BEGIN
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    src := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_' || op);
    cnt := CASE op WHEN 'delete' THEN 'old_rows' ELSE 'new_rows' END;
    q_reg := format(reg, src);
    q_app := format(apply, src);
    q_lck := CASE WHEN op = 'insert' THEN NULL
             ELSE format(lck, (SELECT sql FROM analytics.rollup_sql WHERE step = 'hll_buckets_' || op)) END;
    EXECUTE format($f$
      CREATE OR REPLACE FUNCTION analytics.rollup_%1$s_trigger()
      RETURNS trigger
      LANGUAGE plpgsql VOLATILE
      -- definer: a role allowed to write transactions needs no privilege on the rollup tables
      SECURITY DEFINER SET search_path = public, pg_temp
      SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
      AS $body$
      DECLARE
        n bigint := (SELECT count(*) FROM %2$s);
        l_dim text[];
        l_hour timestamptz[];
        l_key text[];
        l_slot smallint[];
      BEGIN
        IF n = 0 THEN
          RETURN NULL;
        ELSIF n <= 64 THEN
          %3$s;
          %8$s
          %4$s;
        ELSE
          EXECUTE %5$L;
          %8$s
          EXECUTE %6$L;
        END IF;
        %9$s
        %7$s
        RETURN NULL;
      END $body$ $f$,
      op, cnt, q_reg, q_app, q_reg, q_app,
      CASE WHEN op = 'insert' THEN '' ELSE
        '-- orders whose last line went away
        DELETE FROM analytics.order_registry r WHERE r.lines = 0
           AND r.order_number IN (SELECT o.order_number FROM old_rows o WHERE o.order_number IS NOT NULL);' END,
      CASE WHEN op = 'insert' THEN '' ELSE q_lck || ';' END,
      CASE WHEN op = 'insert' THEN '' ELSE rec || ';' END);
  END LOOP;
END $gen$;

-- ------------------------------------------------------------------ recomputation, in two levels
CREATE OR REPLACE FUNCTION analytics.rollup_recompute(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, revenue numeric, orders bigint, units bigint,
               transactions bigint, completed bigint, refunded bigint, refunded_amount numeric,
               blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT date_bin('1 hour', t.transaction_time, '2000-01-01 00:00+00') AS hour,
           coalesce(t.order_number, '#' || t.id) COLLATE "C" AS order_key,
           t.status = 'completed' AS c, t.kind = 'refund' AS r, t.status, t.amount, t.quantity, t.is_suspicious,
           t.product_id, p.category_id, t.country, t.platform, t.payment_method, t.transaction_time
      FROM transactions t LEFT JOIN products p ON p.id = t.product_id
     WHERE t.transaction_time >= analytics.hour_floor(p_from)
       AND t.transaction_time < analytics.hour_ceil(p_to)
  ), o AS (  -- level 1: the lines of one order in one bucket
    SELECT d.dim COLLATE "C" AS dim, t.hour, d.key COLLATE "C" AS key,
           bool_or(t.c) AS has_completed,
           sum(t.amount) FILTER (WHERE t.c) AS amount_c, sum(t.amount) FILTER (WHERE t.r) AS amount_r,
           sum(t.quantity) FILTER (WHERE t.c) AS quantity_c, sum(t.quantity) FILTER (WHERE t.r) AS quantity_r,
           count(*) AS n, count(*) FILTER (WHERE t.c) AS n_c,
           count(*) FILTER (WHERE t.status = 'refunded') AS n_refunded,
           sum(t.amount) FILTER (WHERE t.status = 'refunded') AS amount_refunded,
           count(*) FILTER (WHERE t.status = 'blocked') AS n_blocked,
           count(*) FILTER (WHERE t.status = 'failed') AS n_failed,
           count(*) FILTER (WHERE t.status = 'pending') AS n_pending,
           count(*) FILTER (WHERE t.is_suspicious) AS n_suspicious
      FROM t
     CROSS JOIN LATERAL (VALUES ('all', ''),
                                ('product', t.product_id::text),
                                ('category', coalesce(t.category_id::text, '')),
                                ('country', coalesce(t.country::text, '')),
                                ('platform', t.platform),
                                ('payment_method', t.payment_method),
                                ('minute', analytics.minute_key(t.transaction_time))) d(dim, key)
     GROUP BY 1, 2, 3, t.order_key
  )
  -- level 2: per bucket; an order counts when it has a completed line there
  SELECT o.dim, o.hour, o.key,
         coalesce(sum(o.amount_c), 0) - coalesce(sum(o.amount_r), 0),
         count(*) FILTER (WHERE o.has_completed),
         (coalesce(sum(o.quantity_c), 0) - coalesce(sum(o.quantity_r), 0))::bigint,
         sum(o.n)::bigint, sum(o.n_c)::bigint, sum(o.n_refunded)::bigint, coalesce(sum(o.amount_refunded), 0),
         sum(o.n_blocked)::bigint, sum(o.n_failed)::bigint, sum(o.n_pending)::bigint, sum(o.n_suspicious)::bigint
    FROM o
   GROUP BY 1, 2, 3
$$;
COMMENT ON FUNCTION analytics.rollup_recompute(timestamptz, timestamptz) IS
  'The rollup values recomputed with GROUP BY from transactions for the hours in [p_from, p_to) (per order, then per '
  '(dim, hour, key)); revenue and units are net of refund rows (kind = refund)';

CREATE OR REPLACE FUNCTION analytics.rollup_recompute_hll(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS TABLE (dim text, hour timestamptz, key text, customers_hll bytea)
LANGUAGE sql STABLE AS $$
  SELECT d.dim COLLATE "C", date_bin('1 hour', t.transaction_time, '2000-01-01 00:00+00'), d.key COLLATE "C",
         techmart.hll_add_agg(t.customer_id)
    FROM transactions t LEFT JOIN products p ON p.id = t.product_id
   CROSS JOIN LATERAL (VALUES ('all', ''),
                              ('product', t.product_id::text),
                              ('category', coalesce(p.category_id::text, '')),
                              ('country', coalesce(t.country::text, '')),
                              ('platform', t.platform),
                              ('payment_method', t.payment_method),
                              ('minute', analytics.minute_key(t.transaction_time))) d(dim, key)
   WHERE t.transaction_time >= analytics.hour_floor(p_from)
     AND t.transaction_time < analytics.hour_ceil(p_to)
   GROUP BY 1, 2, 3
$$;

CREATE OR REPLACE FUNCTION analytics.rollup_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET work_mem = '256MB'  -- the recomputation's hash aggregates of a day stay in memory
AS $$
DECLARE
  v_from timestamptz := analytics.hour_floor(p_from);
  v_lo timestamptz;
  v_hi timestamptz;
  c timestamptz;
  n bigint := 0;
  k bigint;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;
  -- the range is widened to whole hours: a bucket is rebuilt entirely or not at all
  p_to := analytics.hour_ceil(p_to);
  DELETE FROM analytics.sales_hourly WHERE hour >= v_from AND hour < p_to;
  -- a day at a time over the hours that have lines
  SELECT analytics.hour_floor(min(t.transaction_time)), max(t.transaction_time) INTO v_lo, v_hi
    FROM transactions t WHERE t.transaction_time >= v_from AND t.transaction_time < p_to;
  c := v_lo;
  WHILE c <= v_hi LOOP
    INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                        refunded, refunded_amount, blocked, failed, pending, suspicious, customers_hll)
    SELECT r.dim, r.hour, r.key, 0, r.revenue, r.orders, r.units, r.transactions, r.completed,
           r.refunded, r.refunded_amount, r.blocked, r.failed, r.pending, r.suspicious, h.customers_hll
      FROM analytics.rollup_recompute(c, least(c + interval '1 day', p_to)) r
      LEFT JOIN analytics.rollup_recompute_hll(c, least(c + interval '1 day', p_to)) h
        ON h.dim = r.dim AND h.hour = r.hour AND h.key = r.key
     ORDER BY r.dim COLLATE "C", r.hour, r.key COLLATE "C";
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;
    c := c + interval '1 day';
  END LOOP;
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
  'Recompute the rollups (slot 0, with the customer sketches, a day at a time) and the order registry for the hours '
  'in [p_from, p_to) from transactions; returns the number of rollup rows written. For bulk imports with the rollup '
  'triggers disabled (ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins), and repairs.';
REVOKE EXECUTE ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) FROM PUBLIC;

-- ------------------------------------------------------------------ BI: hourly rows only
CREATE OR REPLACE VIEW bi.sales_hourly AS
SELECT v.hour, v.dim AS dimension, nullif(v.key, '') AS key, v.revenue, v.orders, v.units, v.transactions,
       v.completed, v.refunded, v.refunded_amount, v.blocked, v.failed, v.pending, v.suspicious
  FROM analytics.sales_hourly_v v
 WHERE v.dim <> 'minute';

-- ------------------------------------------------------------------ read paths: minute rows for the partial hours
-- The pieces of [p_from, p_to) for dim all: [p_from, m0) scanned, minutes [m0, least(H0, m1)) of hour
-- hour_floor(m0), whole hours [H0, H1), minutes [H1, m1) of hour H1 (when H0 <= H1), [m1, p_to) scanned;
-- m0/m1 = p_from/p_to rounded up/down to the minute, H0/H1 to the hour. Within one minute: a scan.
CREATE OR REPLACE FUNCTION analytics.sales_totals(p_from timestamptz, p_to timestamptz, p_dim text DEFAULT 'all', p_key text DEFAULT '')
RETURNS TABLE (revenue numeric, orders bigint, units bigint, transactions bigint, completed bigint, refunded bigint,
               refunded_amount numeric, blocked bigint, failed bigint, pending bigint, suspicious bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
  m0 timestamptz := analytics.minute_ceil(p_from);
  m1 timestamptz := analytics.minute_floor(p_to);
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN QUERY SELECT 0::numeric, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric,
                        0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  IF p_dim = 'all' AND m0 < m1 THEN
    RETURN QUERY
    SELECT sum(x.revenue), sum(x.orders)::bigint, sum(x.units)::bigint, sum(x.transactions)::bigint,
           sum(x.completed)::bigint, sum(x.refunded)::bigint, sum(x.refunded_amount), sum(x.blocked)::bigint,
           sum(x.failed)::bigint, sum(x.pending)::bigint, sum(x.suspicious)::bigint
      FROM (SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE s.dim = 'all' AND s.hour >= h0 AND s.hour < h1 AND s.key = ''
            UNION ALL
            SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE m0 < least(h0, m1) AND s.dim = 'minute' AND s.hour = analytics.hour_floor(m0)
               AND s.key >= analytics.minute_key(m0)
               AND s.key < CASE WHEN h0 <= m1 THEN '60' ELSE analytics.minute_key(m1) END
            UNION ALL
            SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                   s.blocked, s.failed, s.pending, s.suspicious
              FROM analytics.sales_hourly s
             WHERE h0 <= h1 AND h1 < m1 AND s.dim = 'minute' AND s.hour = h1 AND s.key < analytics.minute_key(m1)
            UNION ALL
            SELECT * FROM analytics.sales_scan(p_from, m0) WHERE p_from < m0
            UNION ALL
            SELECT * FROM analytics.sales_scan(m1, p_to) WHERE m1 < p_to
            UNION ALL  -- an empty range still yields one row of zeros
            SELECT 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) x;
    RETURN;
  END IF;
  IF h0 > h1 THEN  -- within one hour
    RETURN QUERY SELECT * FROM analytics.sales_scan(p_from, p_to, p_dim, p_key);
    RETURN;
  END IF;
  RETURN QUERY
  SELECT sum(x.revenue), sum(x.orders)::bigint, sum(x.units)::bigint, sum(x.transactions)::bigint,
         sum(x.completed)::bigint, sum(x.refunded)::bigint, sum(x.refunded_amount), sum(x.blocked)::bigint,
         sum(x.failed)::bigint, sum(x.pending)::bigint, sum(x.suspicious)::bigint
    FROM (SELECT s.revenue, s.orders, s.units, s.transactions, s.completed, s.refunded, s.refunded_amount,
                 s.blocked, s.failed, s.pending, s.suspicious
            FROM analytics.sales_hourly s
           WHERE s.dim = p_dim AND s.hour >= h0 AND s.hour < h1 AND s.key = p_key
          UNION ALL
          SELECT * FROM analytics.sales_scan(p_from, h0, p_dim, p_key) WHERE p_from < h0
          UNION ALL
          SELECT * FROM analytics.sales_scan(h1, p_to, p_dim, p_key) WHERE h1 < p_to
          UNION ALL  -- an empty range still yields one row of zeros
          SELECT 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) x;
END $$;
COMMENT ON FUNCTION analytics.sales_totals(timestamptz, timestamptz, text, text) IS
  'Exact sales metrics of [p_from, p_to) for a dimension value (default: the whole shop): whole hours from the '
  'rollups; for the whole shop the partial hours from the minute rows (dim minute) and less than a minute at each '
  'end from an index range scan of transactions, for other dimensions the partial hours from the scan. Orders are '
  'counted per rollup bucket (the lines of one order share one timestamp in practice)';

CREATE OR REPLACE FUNCTION analytics.active_customers(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
  m0 timestamptz := analytics.minute_ceil(p_from);
  m1 timestamptz := analytics.minute_floor(p_to);
  s  bytea;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN 0;
  END IF;
  IF m0 >= m1 THEN  -- within about a minute: from transactions
    SELECT techmart.hll_add_agg(t.customer_id) INTO s FROM bi.transactions t
     WHERE t.transaction_time >= p_from AND t.transaction_time < p_to;
  ELSE  -- whole hours and minutes: the merged rollup sketches; less than a minute at each end: from transactions
    SELECT techmart.hll_union_agg(x.hll) INTO s FROM (
      SELECT r.customers_hll AS hll FROM analytics.sales_hourly r
       WHERE r.dim = 'all' AND r.key = '' AND r.hour >= h0 AND r.hour < h1
      UNION ALL
      SELECT r.customers_hll FROM analytics.sales_hourly r
       WHERE m0 < least(h0, m1) AND r.dim = 'minute' AND r.hour = analytics.hour_floor(m0)
         AND r.key >= analytics.minute_key(m0)
         AND r.key < CASE WHEN h0 <= m1 THEN '60' ELSE analytics.minute_key(m1) END
      UNION ALL
      SELECT r.customers_hll FROM analytics.sales_hourly r
       WHERE h0 <= h1 AND h1 < m1 AND r.dim = 'minute' AND r.hour = h1 AND r.key < analytics.minute_key(m1)
      UNION ALL
      SELECT techmart.hll_add_agg(t.customer_id) FROM bi.transactions t
       WHERE p_from < m0 AND t.transaction_time >= p_from AND t.transaction_time < m0
      UNION ALL
      SELECT techmart.hll_add_agg(t.customer_id) FROM bi.transactions t
       WHERE m1 < p_to AND t.transaction_time >= m1 AND t.transaction_time < p_to) x;
  END IF;
  RETURN coalesce(round(techmart.hll_cardinality(s))::bigint, 0);
END $$;
COMMENT ON FUNCTION analytics.active_customers(timestamptz, timestamptz) IS
  'Distinct customers with at least one transaction (any status) in [p_from, p_to), estimated: the HyperLogLog '
  'sketches of the whole hours (analytics.sales_hourly.customers_hll, dim all) and of the whole minutes of the '
  'partial hours (dim minute) merged with the sketch of the less than a minute at each end, rounded. Standard error '
  '1.04/sqrt(16384) = 0.81 % (near exact for a few hundred customers); analytics.active_customers_exact() counts '
  'exactly by a scan';

-- ------------------------------------------------------------------ low stock at a past time
CREATE INDEX inventory_history_changed_idx ON inventory_history (changed_at);

CREATE OR REPLACE FUNCTION analytics.low_stock_count(p_as_of timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  -- the products low now (partial index), corrected by the products whose stock changed after p_as_of
  RETURN (
    WITH ch AS (
      SELECT h.product_id, sum(h.change) AS change FROM bi.inventory_history h
       WHERE h.changed_at > p_as_of GROUP BY h.product_id
    )
    SELECT (SELECT count(*) FROM bi.products p WHERE p.stock_quantity <= p.low_stock_threshold)
         - (SELECT count(*) FROM ch JOIN bi.products p ON p.id = ch.product_id
             WHERE p.stock_quantity <= p.low_stock_threshold)
         + (SELECT count(*) FROM ch JOIN bi.products p ON p.id = ch.product_id
             WHERE p.stock_quantity - ch.change <= p.low_stock_threshold));
END $$;
COMMENT ON FUNCTION analytics.low_stock_count(timestamptz) IS
  'Number of products at or below their low-stock threshold at p_as_of: the products low now (partial index on '
  'products) corrected by those whose stock changed in inventory_history after p_as_of';

-- ------------------------------------------------------------------ hourly series: cheaper items
CREATE OR REPLACE FUNCTION api.hourly_sales(p_from timestamptz, p_to timestamptz, p_dimension text DEFAULT 'all', p_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb := analytics.range_errors(p_from, p_to, interval '366 days');
  v_items jsonb;
BEGIN
  IF p_dimension IS NULL OR p_dimension NOT IN ('all', 'product', 'category', 'country', 'platform', 'payment_method') THEN
    errs := errs || '[{"field":"dimension","message":"must be one of all, product, category, country, platform, payment_method"}]';
  ELSIF p_dimension <> 'all' AND p_key IS NULL THEN
    errs := errs || '[{"field":"key","message":"is required for a dimension other than all"}]';
  END IF;
  PERFORM analytics.raise_if(errs, 'invalid hourly sales query');
  SELECT coalesce(jsonb_agg(i ORDER BY i.hour), '[]')
    INTO v_items
    FROM (SELECT s.period_start AS hour, s.revenue, s.orders, s.units, s.transactions, s.suspicious, s.refunded_amount
            FROM analytics.sales_series('hour', p_from, p_to, p_dimension,
                                        CASE WHEN p_dimension = 'all' THEN '' ELSE p_key END) s) i;
  RETURN jsonb_build_object('from', p_from, 'to', p_to, 'dimension', p_dimension, 'key', p_key,
                            'items', v_items, 'count', jsonb_array_length(v_items));
END $$;


-- ------------------------------------------------------------------ alert counts per hour
-- An alert is open at T when created_at <= T and neither acknowledged nor resolved at T (the overview's
-- definition); its closing time is greatest(created_at, least(acknowledged_at, resolved_at)), so that
-- open(T) = alerts created up to T - alerts closed up to T.
CREATE FUNCTION analytics.alert_closed_at(p_created timestamptz, p_acknowledged timestamptz, p_resolved timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN coalesce(p_acknowledged, p_resolved) IS NOT NULL
              THEN greatest(p_created, least(p_acknowledged, p_resolved)) END
$$;
COMMENT ON FUNCTION analytics.alert_closed_at(timestamptz, timestamptz, timestamptz) IS
  'When an alert stopped being open: its first acknowledgement or resolution (not before its creation); NULL while open';

CREATE TABLE analytics.alerts_hourly (
  hour    timestamptz NOT NULL CHECK (hour = date_bin('1 hour', hour, '2000-01-01 00:00+00')),
  slot    smallint NOT NULL CHECK (slot BETWEEN 0 AND 63),
  created bigint NOT NULL DEFAULT 0,
  closed  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, slot)
);
COMMENT ON TABLE analytics.alerts_hourly IS
  'Alerts created and closed (analytics.alert_closed_at) per UTC hour, as deltas per slot (sum over slots), kept by '
  'statement triggers on alerts; analytics.alert_counts_check() returns no row when exact';
COMMENT ON COLUMN analytics.alerts_hourly.created IS 'Alerts whose created_at is in the hour';
COMMENT ON COLUMN analytics.alerts_hourly.closed IS 'Alerts whose closing time (analytics.alert_closed_at) is in the hour';
GRANT SELECT ON analytics.alerts_hourly TO techmart_bi;

CREATE INDEX alerts_created_idx ON alerts (created_at);
CREATE INDEX alerts_closed_idx ON alerts (analytics.alert_closed_at(created_at, acknowledged_at, resolved_at));

DO $gen$
DECLARE
  op text;
  ins text := $q$SELECT date_bin('1 hour', n.created_at, '2000-01-01 00:00+00') AS hour, 1 AS created, 0 AS closed FROM new_rows n
                 UNION ALL
                 SELECT date_bin('1 hour', analytics.alert_closed_at(n.created_at, n.acknowledged_at, n.resolved_at), '2000-01-01 00:00+00'), 0, 1
                   FROM new_rows n WHERE analytics.alert_closed_at(n.created_at, n.acknowledged_at, n.resolved_at) IS NOT NULL$q$;
  del text := $q$SELECT date_bin('1 hour', o.created_at, '2000-01-01 00:00+00') AS hour, -1 AS created, 0 AS closed FROM old_rows o
                 UNION ALL
                 SELECT date_bin('1 hour', analytics.alert_closed_at(o.created_at, o.acknowledged_at, o.resolved_at), '2000-01-01 00:00+00'), 0, -1
                   FROM old_rows o WHERE analytics.alert_closed_at(o.created_at, o.acknowledged_at, o.resolved_at) IS NOT NULL$q$;
BEGIN
  FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format($f$
      CREATE FUNCTION analytics.alert_counts_%s_trigger() RETURNS trigger
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $body$
      BEGIN
        INSERT INTO analytics.alerts_hourly AS s (hour, slot, created, closed)
        SELECT d.hour, analytics.rollup_slot(), sum(d.created), sum(d.closed)
          FROM (%s) d
         GROUP BY d.hour HAVING sum(d.created) <> 0 OR sum(d.closed) <> 0
         ORDER BY d.hour
        ON CONFLICT (hour, slot) DO UPDATE SET created = s.created + excluded.created, closed = s.closed + excluded.closed;
        RETURN NULL;
      END $body$ $f$, op,
      CASE op WHEN 'insert' THEN ins WHEN 'delete' THEN del ELSE ins || E'\nUNION ALL\n' || del END);
    EXECUTE format('COMMENT ON FUNCTION analytics.alert_counts_%s_trigger() IS %L', op,
                   'Statement-level AFTER ' || upper(op) || ' trigger on alerts: adds the statement''s alerts to analytics.alerts_hourly');
  END LOOP;
END $gen$;
CREATE FUNCTION analytics.alert_counts_truncate_trigger() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  TRUNCATE analytics.alerts_hourly;
  RETURN NULL;
END $$;
CREATE TRIGGER alerts_counts_ins AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.alert_counts_insert_trigger();
CREATE TRIGGER alerts_counts_upd AFTER UPDATE ON alerts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.alert_counts_update_trigger();
CREATE TRIGGER alerts_counts_del AFTER DELETE ON alerts REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.alert_counts_delete_trigger();
CREATE TRIGGER alerts_counts_trunc AFTER TRUNCATE ON alerts
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.alert_counts_truncate_trigger();

CREATE FUNCTION analytics.alert_counts_rebuild() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE n bigint;
BEGIN
  LOCK TABLE analytics.alerts_hourly IN EXCLUSIVE MODE;
  DELETE FROM analytics.alerts_hourly;
  INSERT INTO analytics.alerts_hourly (hour, slot, created, closed)
  SELECT d.hour, 0, sum(d.created), sum(d.closed)
    FROM (SELECT date_bin('1 hour', a.created_at, '2000-01-01 00:00+00') AS hour, 1 AS created, 0 AS closed FROM alerts a
          UNION ALL
          SELECT date_bin('1 hour', analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at), '2000-01-01 00:00+00'), 0, 1
            FROM alerts a WHERE analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) IS NOT NULL) d
   GROUP BY d.hour ORDER BY d.hour;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION analytics.alert_counts_rebuild() IS
  'Recompute analytics.alerts_hourly from alerts (slot 0); returns the rows written. For loads with the alert triggers off, and repairs';
REVOKE EXECUTE ON FUNCTION analytics.alert_counts_rebuild() FROM PUBLIC;

CREATE FUNCTION analytics.alert_counts_check()
RETURNS TABLE (hour timestamptz, metric text, rollup numeric, recomputed numeric)
LANGUAGE sql STABLE AS $$
  WITH r AS (SELECT s.hour, sum(s.created) AS created, sum(s.closed) AS closed FROM analytics.alerts_hourly s GROUP BY 1),
  c AS (SELECT d.hour, sum(d.created) AS created, sum(d.closed) AS closed
          FROM (SELECT date_bin('1 hour', a.created_at, '2000-01-01 00:00+00') AS hour, 1 AS created, 0 AS closed FROM alerts a
                UNION ALL
                SELECT date_bin('1 hour', analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at), '2000-01-01 00:00+00'), 0, 1
                  FROM alerts a WHERE analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) IS NOT NULL) d
         GROUP BY 1)
  SELECT coalesce(r.hour, c.hour), m.metric, m.r, m.c
    FROM r FULL JOIN c ON r.hour = c.hour
   CROSS JOIN LATERAL (VALUES ('created', coalesce(r.created, 0), coalesce(c.created, 0)),
                              ('closed', coalesce(r.closed, 0), coalesce(c.closed, 0))) m(metric, r, c)
   WHERE m.r <> m.c
   ORDER BY 1, 2
$$;
COMMENT ON FUNCTION analytics.alert_counts_check() IS
  'Differences between analytics.alerts_hourly (summed over slots) and the recount from alerts; no row means exact';

CREATE FUNCTION analytics.alerts_created(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  h0 timestamptz := analytics.hour_ceil(p_from);
  h1 timestamptz := analytics.hour_floor(p_to);
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to <= p_from THEN
    RETURN 0;
  ELSIF h0 > h1 THEN  -- within one hour
    RETURN (SELECT count(*) FROM alerts a WHERE a.created_at >= p_from AND a.created_at < p_to);
  END IF;
  RETURN coalesce((SELECT sum(s.created) FROM analytics.alerts_hourly s WHERE s.hour >= h0 AND s.hour < h1), 0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= p_from AND a.created_at < h0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= h1 AND a.created_at < p_to);
END $$;
COMMENT ON FUNCTION analytics.alerts_created(timestamptz, timestamptz) IS
  'Alerts created in [p_from, p_to): whole hours from analytics.alerts_hourly, the partial hours from the index on created_at';

CREATE FUNCTION analytics.alerts_open_at(p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  h timestamptz := analytics.hour_floor(p_at);
BEGIN
  IF p_at IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN coalesce((SELECT sum(s.created - s.closed) FROM analytics.alerts_hourly s WHERE s.hour < h), 0)
       + (SELECT count(*) FROM alerts a WHERE a.created_at >= h AND a.created_at <= p_at)
       - (SELECT count(*) FROM alerts a
           WHERE analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) >= h
             AND analytics.alert_closed_at(a.created_at, a.acknowledged_at, a.resolved_at) <= p_at);
END $$;
COMMENT ON FUNCTION analytics.alerts_open_at(timestamptz) IS
  'Alerts open at p_at (created at or before it, neither acknowledged nor resolved by then): created minus closed '
  'up to p_at, whole hours from analytics.alerts_hourly (one row per hour of history), the last partial hour from '
  'the indexes on alerts';

DO $$ BEGIN PERFORM analytics.alert_counts_rebuild(); END $$;

-- ------------------------------------------------------------------ the overview
CREATE OR REPLACE FUNCTION api.dashboard_overview(p_as_of timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  tz      text := analytics.business_timezone();
  t_start timestamptz;
  y_start timestamptz;
  y_end   timestamptz;
  t       record;
  y       record;
  yf      record;
  t_cust  bigint;
  y_cust  bigint;
  t_alert bigint;
  y_alert bigint;
  open_a  bigint;
  low_now bigint;
  low_y   bigint;
BEGIN
  PERFORM analytics.raise_if(analytics.range_errors(p_as_of, p_as_of, NULL, 'as_of', 'as_of'), 'invalid overview');
  t_start := date_trunc('day', p_as_of AT TIME ZONE tz) AT TIME ZONE tz;
  y_start := (date_trunc('day', p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
  y_end   := ((p_as_of AT TIME ZONE tz) - interval '1 day') AT TIME ZONE tz;
  SELECT * INTO t FROM analytics.sales_totals(t_start, p_as_of);
  SELECT * INTO y FROM analytics.sales_totals(y_start, y_end);
  SELECT * INTO yf FROM analytics.sales_totals(y_start, t_start);
  t_cust := analytics.active_customers(t_start, p_as_of);
  y_cust := analytics.active_customers(y_start, y_end);
  t_alert := analytics.alerts_created(t_start, p_as_of);
  y_alert := analytics.alerts_created(y_start, y_end);
  open_a := analytics.alerts_open_at(p_as_of);
  low_now := analytics.low_stock_count(p_as_of);
  low_y := analytics.low_stock_count(y_end);
  RETURN jsonb_build_object(
    'as_of', p_as_of, 'timezone', tz,
    'today', jsonb_build_object('from', t_start, 'to', p_as_of),
    'yesterday', jsonb_build_object('from', y_start, 'to', y_end),
    'revenue', analytics.metric_json(t.revenue, y.revenue),
    'orders', analytics.metric_json(t.orders, y.orders),
    'average_order_value', analytics.metric_json(round(t.revenue / nullif(t.orders, 0), 2),
                                                 round(y.revenue / nullif(y.orders, 0), 2)),
    'active_customers', analytics.metric_json(t_cust, y_cust),
    'transactions', analytics.metric_json(t.transactions, y.transactions),
    'units', analytics.metric_json(t.units, y.units),
    'suspicious_rate', analytics.metric_json(round(t.suspicious::numeric / nullif(t.transactions, 0), 4),
                                             round(y.suspicious::numeric / nullif(y.transactions, 0), 4)),
    'suspicious', analytics.metric_json(t.suspicious, y.suspicious),
    'refunded_amount', analytics.metric_json(t.refunded_amount, y.refunded_amount),
    'new_alerts', analytics.metric_json(t_alert, y_alert),
    'open_alerts', jsonb_build_object('value', open_a),
    'low_stock', analytics.metric_json(low_now, low_y),
    'yesterday_full_day', jsonb_build_object('revenue', yf.revenue, 'orders', yf.orders,
                                             'average_order_value', round(yf.revenue / nullif(yf.orders, 0), 2),
                                             'transactions', yf.transactions));
END $$;
COMMENT ON FUNCTION api.dashboard_overview(timestamptz) IS
  'GET /api/v1/dashboard/overview?as_of=: today (business time zone) from midnight to as_of vs yesterday from '
  'midnight to the same local time of day (yesterday.to; 23 or 25 hours on DST days are respected by local time), '
  'each metric as {value, previous, change, change_pct}: revenue, orders, average_order_value, active_customers, '
  'transactions, units, suspicious_rate, suspicious, refunded_amount, new_alerts; open_alerts {value} at as_of '
  '(created by then, neither acknowledged nor resolved by then); low_stock (products at or below threshold at as_of '
  'vs yesterday.to). Read from rollup rows only: sales from the hourly rows and the minute rows of the partial hours '
  '(plus less than a minute at each end from transactions), alerts from analytics.alerts_hourly, low stock from the '
  'partial index on products; yesterday_full_day for reference';


-- validation of a range: plpgsql (a cached plan) with a fast path for the valid range (the SQL function
-- was planned on every call: 0.3-0.4 ms of every overview and series)
CREATE OR REPLACE FUNCTION analytics.range_errors(p_from timestamptz, p_to timestamptz, p_max interval DEFAULT NULL,
                                                  p_from_field text DEFAULT 'from', p_to_field text DEFAULT 'to')
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_from IS NOT NULL AND p_to IS NOT NULL AND isfinite(p_from) AND isfinite(p_to) AND p_to >= p_from
     AND (p_max IS NULL OR p_to - p_from <= p_max) THEN
    RETURN '[]';
  END IF;
  RETURN (
    SELECT coalesce(jsonb_agg(jsonb_build_object('field', f, 'message', m)), '[]')
      FROM (VALUES
        (p_from_field, CASE WHEN p_from IS NULL THEN 'is required'
                            WHEN NOT isfinite(p_from) THEN 'must be a finite time' END),
        (p_to_field, CASE WHEN p_to IS NULL THEN 'is required'
                          WHEN NOT isfinite(p_to) THEN 'must be a finite time'
                          WHEN p_from IS NOT NULL AND p_to < p_from THEN 'must not be before ' || p_from_field
                          WHEN p_max IS NOT NULL AND p_from IS NOT NULL AND p_to - p_from > p_max
                            THEN 'range must not exceed ' || p_max::text END)) e(f, m)
     WHERE m IS NOT NULL);
END $$;

-- plans: the parameters only select index ranges and one-time filters; a custom plan per call cost
-- more than the call (re-planning the inlined sales_scan each time)
ALTER FUNCTION analytics.sales_totals(timestamptz, timestamptz, text, text) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION analytics.active_customers(timestamptz, timestamptz) SET plan_cache_mode = force_generic_plan;

-- ------------------------------------------------------------------ fill the minute rows
-- (one pass over transactions: about 10 minutes for 10,000,000 rows on 2 loaded vCPUs; writers wait)
SET LOCAL work_mem = '256MB';
INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                    refunded, refunded_amount, blocked, failed, pending, suspicious, customers_hll)
SELECT r.dim, r.hour, r.key, 0, r.revenue, r.orders, r.units, r.transactions, r.completed,
       r.refunded, r.refunded_amount, r.blocked, r.failed, r.pending, r.suspicious, h.customers_hll
  FROM (SELECT * FROM analytics.rollup_recompute() WHERE dim = 'minute') r
  LEFT JOIN (SELECT * FROM analytics.rollup_recompute_hll() WHERE dim = 'minute') h
    ON h.dim = r.dim AND h.hour = r.hour AND h.key = r.key;

COMMIT;
