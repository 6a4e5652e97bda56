-- Revert techmart:rollup_rebuild_deltas from pg
-- Restores analytics.rollup_rebuild() as overview_rollups deployed it (rollup_recompute + rollup_recompute_hll).
BEGIN;

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

COMMIT;
