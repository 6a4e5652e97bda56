-- Revert techmart:rollups_hll from pg
-- Restores the definitions of changes rollups, analytics and refunds (copied from them).
BEGIN;

DO $$
DECLARE
  s record;
BEGIN
  FOR s IN SELECT * FROM (VALUES
    (1, 'lines_insert', 'n\.kind, n\.customer_id', 'n.kind'),
    (2, 'lines_delete', 'o\.kind, o\.customer_id', 'o.kind'),
    (3, 'lines_update', 'n\.kind, n\.customer_id', 'n.kind'),
    (4, 'lines_update', 'o\.kind, o\.customer_id', 'o.kind'),
    (5, 'apply', 't\.kind, t\.customer_id', 't.kind'),
    (6, 'apply', 'a\.kind = ''refund'' AS r, a\.customer_id,', 'a.kind = ''refund'' AS r,'),
    (7, 'apply', ',\n +techmart\.hll_add_agg\(a\.customer_id\) FILTER \(WHERE a\.sign = 1\) AS customers_hll', ''),
    (8, 'apply', 'f\.pending, f\.suspicious, f\.customers_hll', 'f.pending, f.suspicious'),
    (9, 'apply', '    -- 4\. one upsert per \(dim, hour, key\).*$', $tail$    -- 4. one upsert per (dim, hour, key), in key order, into this backend's slot
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
$tail$)
  ) v(ord, step, pattern, replacement) ORDER BY ord LOOP
    UPDATE analytics.rollup_sql SET sql = regexp_replace(sql, s.pattern, s.replacement, 'g') WHERE step = s.step;
  END LOOP;
END $$;
DELETE FROM analytics.rollup_sql WHERE step IN ('hll_buckets_delete', 'hll_buckets_update', 'hll_lock', 'hll_recompute');

-- regenerate the trigger functions (the generator of change rollups, with CREATE OR REPLACE)
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
      CREATE OR REPLACE FUNCTION analytics.rollup_%1$s_trigger()
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
  END LOOP;
END $gen$;


CREATE OR REPLACE FUNCTION analytics.rollup_check(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
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


CREATE OR REPLACE FUNCTION analytics.rollup_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
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


CREATE OR REPLACE FUNCTION analytics.rollup_product_category_trigger()
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

CREATE OR REPLACE FUNCTION analytics.active_customers(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT t.customer_id) FROM bi.transactions t
   WHERE t.transaction_time >= p_from AND t.transaction_time < p_to
$$;
COMMENT ON FUNCTION analytics.active_customers(timestamptz, timestamptz) IS
  'Distinct customers with at least one transaction (any status) in [p_from, p_to). Exact, by an index range scan '
  'of transactions. Hook: once the extension provides a HyperLogLog (techmart.hll_*), the rollups fill '
  'analytics.sales_hourly.customers_hll and this function merges the hourly sketches instead';


DROP FUNCTION analytics.active_customers_exact(timestamptz, timestamptz);
DROP FUNCTION analytics.rollup_recompute_hll(timestamptz, timestamptz);
UPDATE analytics.sales_hourly SET customers_hll = NULL WHERE customers_hll IS NOT NULL;
COMMENT ON COLUMN analytics.sales_hourly.customers_hll IS
  'Hook for a mergeable distinct-customer sketch (techmart HyperLogLog) of the hour; NULL until the extension provides '
  'techmart.hll_* functions. Until then distinct customers are counted exactly by analytics.active_customers() from '
  'an index range scan of transactions.';


COMMIT;
