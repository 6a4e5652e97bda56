-- Deploy techmart:rollup_deltas_c to pg
-- requires: rollup_upkeep
--
-- Rollup upkeep (issue 4: bulk insert throughput with rollups >= 80 % of the fraud trigger alone):
-- the per-bucket deltas of a statement's lines are computed in C, one pass, by
-- analytics.rollup_deltas() (extension/pg/rollup_deltas.cpp, core rollup_delta.cpp) instead of the
-- SQL of template 'apply' after the lines: a grouping-sets aggregate (7 sets), a second one per
-- order for multi-line orders, a join of the two and a sort into lock order — about 190 of the
-- 375 ms of backend CPU the rollup statement of a 10,000-line INSERT took (bench/RESULTS.md). Same
-- definitions (documented in core/rollup_delta.hpp and pgTAP rollups*.sql / overview_rollups.sql
-- compare every bucket with the GROUP BY recomputation after inserts, updates, deletes); the
-- deltas come out sorted by (dim, hour, key), the upserts keep the lock order.
--
-- The C function is declared here, not in the extension script, so that the extension's version
-- stays as it is (another change may bump it meanwhile): it needs a techmart.so of this commit or
-- later. The SQL it replaces is kept in analytics.rollup_sql (step apply_sql_aggregate) for the
-- revert.
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

CREATE FUNCTION analytics.rollup_deltas(
  sign integer[], id bigint[], order_number text[], transaction_time timestamptz[], status text[],
  amount numeric[], quantity integer[], is_suspicious boolean[], kind text[], product text[], category text[],
  country text[], platform text[], payment_method text[], customer_id bigint[],
  OUT dim text, OUT hour timestamptz, OUT key text, OUT revenue numeric, OUT orders bigint, OUT units bigint,
  OUT transactions bigint, OUT completed bigint, OUT refunded bigint, OUT refunded_amount numeric,
  OUT blocked bigint, OUT failed bigint, OUT pending bigint, OUT suspicious bigint, OUT customers_hll bytea)
RETURNS SETOF record
AS '$libdir/techmart', 'techmart_rollup_deltas'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.rollup_deltas(integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[],
                                            boolean[], text[], text[], text[], text[], text[], text[], bigint[]) IS
  'The rollup deltas of line versions given as parallel arrays (sign +1 added, -1 removed, 0 another line of a touched '
  'order): one row per (dim, hour, key) with a non-zero metric, sorted by (dim, hour, key) in byte order; the same '
  'definitions as analytics.rollup_recompute (orders counted per bucket, revenue and units net of refund rows, the '
  'HyperLogLog of the customers of the added lines). Used by the rollup triggers (template apply of analytics.rollup_sql)';

DO $$
DECLARE
  old text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  cut text := E'    both_ AS NOT MATERIALIZED (  -- lines is materialized, others too\n      SELECT * FROM lines UNION ALL SELECT * FROM others\n    ),\n';
  i integer := position(cut IN old);
BEGIN
  IF i = 0 THEN
    RAISE EXCEPTION 'rollup_deltas_c: rollup template apply lacks the CTE both_ of change rollup_upkeep'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_deltas_c.sql';
  END IF;
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('apply_sql_aggregate', old);
  UPDATE analytics.rollup_sql SET sql = left(old, i - 1) || cut || $tail$    -- 3. the per-bucket deltas, sorted by (dim, hour, key): analytics.rollup_deltas() (C, one pass over the
    --    line versions; the SQL aggregation it replaced is step apply_sql_aggregate)
    arr AS (
      SELECT array_agg(a.sign) AS sign, array_agg(a.id) AS id, array_agg(a.order_number) AS order_number,
             array_agg(a.transaction_time) AS transaction_time, array_agg(a.status::text) AS status,
             array_agg(a.amount::numeric) AS amount, array_agg(a.quantity) AS quantity,
             array_agg(a.is_suspicious) AS is_suspicious, array_agg(a.kind::text) AS kind,
             array_agg(a.product_id::text) AS product, array_agg(p.category_id::text) AS category,
             array_agg(a.country::text) AS country, array_agg(a.platform::text) AS platform,
             array_agg(a.payment_method::text) AS payment_method, array_agg(a.customer_id) AS customer_id
        FROM both_ a LEFT JOIN products p ON p.id = a.product_id
    )
    -- 4. one upsert per (dim, hour, key), in key order, into this backend's slot; the customers of the
    --    added line versions are merged into the slot's sketch (removals: steps hll_lock/hll_recompute)
    INSERT INTO analytics.sales_hourly AS s (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                             refunded, refunded_amount, blocked, failed, pending, suspicious,
                                             customers_hll)
    SELECT d.dim, d.hour, d.key COLLATE "C", analytics.rollup_slot(), d.revenue, d.orders, d.units, d.transactions,
           d.completed, d.refunded, d.refunded_amount, d.blocked, d.failed, d.pending, d.suspicious, d.customers_hll
      FROM arr CROSS JOIN LATERAL analytics.rollup_deltas(arr.sign, arr.id, arr.order_number, arr.transaction_time,
             arr.status, arr.amount, arr.quantity, arr.is_suspicious, arr.kind, arr.product, arr.category, arr.country,
             arr.platform, arr.payment_method, arr.customer_id) WITH ORDINALITY d
     ORDER BY d.ordinality  -- the function's order (a linear pass over presorted input)
    ON CONFLICT (dim, hour, key, slot) DO UPDATE SET
      revenue = s.revenue + excluded.revenue, orders = s.orders + excluded.orders,
      units = s.units + excluded.units, transactions = s.transactions + excluded.transactions,
      completed = s.completed + excluded.completed, refunded = s.refunded + excluded.refunded,
      refunded_amount = s.refunded_amount + excluded.refunded_amount, blocked = s.blocked + excluded.blocked,
      failed = s.failed + excluded.failed, pending = s.pending + excluded.pending,
      suspicious = s.suspicious + excluded.suspicious,
      customers_hll = techmart.hll_union(s.customers_hll, excluded.customers_hll)
$tail$ WHERE step = 'apply';
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

COMMIT;
