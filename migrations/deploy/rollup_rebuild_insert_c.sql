-- Deploy techmart:rollup_rebuild_insert_c to pg
-- requires: rollup_rebuild_deltas
-- requires: rollup_apply_c
--
-- analytics.rollup_rebuild() writes each day's buckets with analytics.rollup_insert() (C,
-- extension/pg/rollup_deltas.cpp; declared here: the extension version is unchanged): the deltas of
-- rollup_deltas (the same function of the same arrays) inserted through the heap and the primary
-- key, without the SRF's tuplestore, the sort on ordinality, the projection and the executor's CHECK
-- evaluation (the three CHECKs of the table hold by construction; rollup_insert declines — -1, the
-- SQL INSERT of change rollup_rebuild_deltas runs — when the table is not as the rollup changes made
-- it: other columns, indexes, CHECKs, triggers, row security, a publication, or an isolation level
-- above READ COMMITTED). Every bucket is new (the hours were emptied under the EXCLUSIVE lock just
-- before): no probe for an existing row as rollup_apply does; a duplicate raises unique_violation.
-- Same rows byte for byte (pgTAP tests/sql/rollup_apply_c.sql: a rebuild compared with the SQL
-- INSERT's).
BEGIN;

CREATE FUNCTION analytics.rollup_insert(
  slot smallint, sign integer[], id bigint[], order_number text[], transaction_time timestamptz[], status text[],
  amount numeric[], quantity integer[], is_suspicious boolean[], kind text[], product text[], category text[],
  country text[], platform text[], payment_method text[], customer_id bigint[])
RETURNS bigint
AS '$libdir/techmart', 'techmart_rollup_insert'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION analytics.rollup_insert(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[],
                                            integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[]) IS
  'Inserts the rollup buckets of the line versions (the arrays of analytics.rollup_deltas) into analytics.sales_hourly, '
  'slot `slot`, directly (C), without looking for an existing row: for analytics.rollup_rebuild() only, which has '
  'emptied those hours under an EXCLUSIVE lock (a duplicate raises unique_violation). Returns the buckets written, '
  '-1 when it does not apply (the caller runs the SQL INSERT)';
REVOKE EXECUTE ON FUNCTION analytics.rollup_insert(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[],
                                                   integer[], boolean[], text[], text[], text[], text[], text[], text[],
                                                   bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION analytics.rollup_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET work_mem = '256MB'  -- the order registry's hash aggregate stays in memory
AS $$
DECLARE
  v_from timestamptz := analytics.hour_floor(p_from);
  v_lo timestamptz;
  v_hi timestamptz;
  c timestamptz;
  n bigint := 0;
  k bigint;
  v_direct boolean;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object('field', 'to', 'message', 'must be a time after from')),
                              'invalid range');
  END IF;
  LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;
  -- the range is widened to whole hours: a bucket is rebuilt entirely or not at all
  p_to := analytics.hour_ceil(p_to);
  DELETE FROM analytics.sales_hourly WHERE hour >= v_from AND hour < p_to;
  -- (change rollup_rebuild_insert_c) the table as the rollup changes made it, READ COMMITTED: the
  -- buckets written by analytics.rollup_insert (0 for no line; -1: not applicable, the SQL INSERT)
  v_direct := analytics.rollup_insert(0::smallint, '{}'::int[], '{}'::bigint[], '{}'::text[], '{}'::timestamptz[],
                                      '{}'::text[], '{}'::numeric[], '{}'::int[], '{}'::boolean[], '{}'::text[], '{}'::text[],
                                      '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::bigint[]) = 0;
  -- a day at a time over the hours that have lines
  SELECT analytics.hour_floor(min(t.transaction_time)), max(t.transaction_time) INTO v_lo, v_hi
    FROM transactions t WHERE t.transaction_time >= v_from AND t.transaction_time < p_to;
  c := v_lo;
  WHILE c <= v_hi LOOP
    IF v_direct THEN
      -- the day's buckets inserted by analytics.rollup_insert (C: the deltas of rollup_deltas written
      -- through the heap and the primary key; every bucket is new: the hours were emptied above
      -- under the EXCLUSIVE lock, an index entry saying otherwise raises unique_violation)
      SELECT analytics.rollup_insert(0::smallint, arr.sign, arr.id, arr.order_number, arr.transaction_time, arr.status,
                                     arr.amount, arr.quantity, arr.is_suspicious, arr.kind, arr.product, arr.category,
                                     arr.country, arr.platform, arr.payment_method, arr.customer_id) INTO k
        FROM (SELECT array_agg(1) AS sign, array_agg(a.id) AS id, array_agg(a.order_number) AS order_number,
                     array_agg(a.transaction_time) AS transaction_time, array_agg(a.status::text) AS status,
                     array_agg(a.amount::numeric) AS amount, array_agg(a.quantity) AS quantity,
                     array_agg(a.is_suspicious) AS is_suspicious, array_agg(a.kind::text) AS kind,
                     array_agg(a.product_id::text) AS product, array_agg(p.category_id::text) AS category,
                     array_agg(a.country::text) AS country, array_agg(a.platform::text) AS platform,
                     array_agg(a.payment_method::text) AS payment_method, array_agg(a.customer_id) AS customer_id
                FROM transactions a LEFT JOIN products p ON p.id = a.product_id
               WHERE a.transaction_time >= c AND a.transaction_time < least(c + interval '1 day', p_to)) arr
       WHERE arr.id IS NOT NULL;  -- a day without lines: no row, k NULL
      k := coalesce(k, 0);
      IF k < 0 THEN
        RAISE EXCEPTION 'rollup_rebuild: analytics.rollup_insert declined after it had applied' USING ERRCODE = 'internal_error';
      END IF;
    ELSE
      -- every line of the day with sign +1: its deltas from empty buckets are the buckets
      -- (analytics.rollup_deltas, C, one pass: the definitions of rollup_recompute and
      -- rollup_recompute_hll), sorted by (dim, hour, key) in byte order = the primary key's order
      INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                          refunded, refunded_amount, blocked, failed, pending, suspicious, customers_hll)
      SELECT d.dim, d.hour, d.key COLLATE "C", 0, d.revenue, d.orders, d.units, d.transactions, d.completed,
             d.refunded, d.refunded_amount, d.blocked, d.failed, d.pending, d.suspicious, d.customers_hll
        FROM (SELECT array_agg(1) AS sign, array_agg(a.id) AS id, array_agg(a.order_number) AS order_number,
                     array_agg(a.transaction_time) AS transaction_time, array_agg(a.status::text) AS status,
                     array_agg(a.amount::numeric) AS amount, array_agg(a.quantity) AS quantity,
                     array_agg(a.is_suspicious) AS is_suspicious, array_agg(a.kind::text) AS kind,
                     array_agg(a.product_id::text) AS product, array_agg(p.category_id::text) AS category,
                     array_agg(a.country::text) AS country, array_agg(a.platform::text) AS platform,
                     array_agg(a.payment_method::text) AS payment_method, array_agg(a.customer_id) AS customer_id
                FROM transactions a LEFT JOIN products p ON p.id = a.product_id
               WHERE a.transaction_time >= c AND a.transaction_time < least(c + interval '1 day', p_to)) arr
       CROSS JOIN LATERAL analytics.rollup_deltas(arr.sign, arr.id, arr.order_number, arr.transaction_time, arr.status,
                            arr.amount, arr.quantity, arr.is_suspicious, arr.kind, arr.product, arr.category, arr.country,
                            arr.platform, arr.payment_method, arr.customer_id) WITH ORDINALITY d
       WHERE arr.id IS NOT NULL  -- a day without lines
       ORDER BY d.ordinality;
      GET DIAGNOSTICS k = ROW_COUNT;
    END IF;
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
  'Recompute the rollups (slot 0, with the customer sketches, a day at a time, by analytics.rollup_deltas) and the '
  'order registry for the hours '
  'in [p_from, p_to) from transactions; returns the number of rollup rows written. For bulk imports with the rollup '
  'triggers disabled (ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins), and repairs.';
REVOKE EXECUTE ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) FROM PUBLIC;

COMMENT ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) IS
  'Recompute the rollups (slot 0, with the customer sketches, a day at a time, by analytics.rollup_deltas; inserted by analytics.rollup_insert when it applies) and the '
  'order registry for the hours '
  'in [p_from, p_to) from transactions; returns the number of rollup rows written. For bulk imports with the rollup '
  'triggers disabled (ALTER TABLE transactions DISABLE TRIGGER transactions_rollup_ins), and repairs.';
REVOKE EXECUTE ON FUNCTION analytics.rollup_rebuild(timestamptz, timestamptz) FROM PUBLIC;


COMMIT;
