-- Deploy techmart:rollup_apply_c to pg
-- requires: alert_counts_c
--
-- Rollup upkeep (issue 4: bulk insert throughput with rollups >= 80 % of the fraud trigger alone):
-- the sales rollup insert trigger applies a bulk statement's per-bucket deltas with
-- analytics.rollup_apply() (C, extension/pg/rollup_deltas.cpp) instead of an
-- INSERT ... SELECT FROM analytics.rollup_deltas(...) ... ON CONFLICT DO UPDATE: the same deltas
-- (computed by the same code), written through the heap and the primary key of
-- analytics.sales_hourly — per bucket a probe of the key, then an update of the locked row version
-- (old + delta: the same sums and techmart.hll_union) or an insert — without the set-returning
-- function's tuplestore, the sort on its ordinality, the per-row executor work of ON CONFLICT (its
-- pre-check, speculative insertion token and confirmation). Same rows (pgTAP tests/sql/rollup_apply_c.sql
-- compares both paths row for row), same lock order ((dim, hour, key), one slot).
--
-- Concurrency: an existing bucket row is locked as ON CONFLICT DO UPDATE locks it (waiting for a
-- writer holding it, probing again when it changed); a row another transaction is inserting is
-- waited for. A concurrent insert of the same new bucket (two backends sharing a slot) between the
-- probe and the insert raises unique_violation: the trigger runs the C apply in a subtransaction and
-- then redoes the statement's deltas with the SQL upsert (template 'apply', kept). The function
-- returns -1 (the SQL upsert runs) when the table is not as the rollup changes made it, under
-- REPEATABLE READ / SERIALIZABLE (ON CONFLICT's visibility checks), or when the transaction already
-- holds 32 subtransaction XIDs (each C apply's subtransaction keeps one until the end; past 64 the
-- backend's cache overflows and other backends' snapshots consult pg_subtrans). Statements of up to 64 lines
-- (single-row inserts) keep their static SQL; UPDATE and DELETE triggers are unchanged.
--
-- The C function is declared here, not in the extension script (the extension's version stays).
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

CREATE FUNCTION analytics.rollup_apply(
  slot smallint, sign integer[], id bigint[], order_number text[], transaction_time timestamptz[], status text[],
  amount numeric[], quantity integer[], is_suspicious boolean[], kind text[], product text[], category text[],
  country text[], platform text[], payment_method text[], customer_id bigint[])
RETURNS bigint
AS '$libdir/techmart', 'techmart_rollup_apply'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION analytics.rollup_apply(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[],
                                           integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[]) IS
  'Adds the rollup deltas of the line versions (the arrays of analytics.rollup_deltas) to analytics.sales_hourly, '
  'slot `slot`, directly (C): per bucket in (dim, hour, key) order, the row locked and updated, or inserted. Returns '
  'the buckets written, -1 when it does not apply (the caller runs the SQL upsert); unique_violation when another '
  'transaction inserted one of the buckets meanwhile. For the rollup insert trigger only';
REVOKE EXECUTE ON FUNCTION analytics.rollup_apply(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[],
                                                  integer[], boolean[], text[], text[], text[], text[], text[], text[],
                                                  bigint[]) FROM PUBLIC;

DO $$
DECLARE
  old text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  cut text := E'    -- 4. one upsert per (dim, hour, key)';
  i integer := position(cut IN old);
BEGIN
  IF i = 0 THEN
    RAISE EXCEPTION 'rollup_apply_c: rollup template apply lacks step 4 of change rollup_deltas_c'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_apply_c.sql';
  END IF;
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('apply_c', left(old, i - 1) || $tail$    -- 4. the deltas added to this backend's slot directly (C; -1: not applicable, the SQL upsert of
    --    template apply instead)
    SELECT analytics.rollup_apply(analytics.rollup_slot(), arr.sign, arr.id, arr.order_number, arr.transaction_time,
             arr.status, arr.amount, arr.quantity, arr.is_suspicious, arr.kind, arr.product, arr.category, arr.country,
             arr.platform, arr.payment_method, arr.customer_id)
      FROM arr
$tail$);
END $$;

-- the insert trigger: statements of more than 64 lines apply with the C function
DO $gen$
DECLARE
  src   text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'lines_insert');
  q_reg text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'registry'), src);
  q_app text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply'), src);
  q_c   text := format((SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c'), src);
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION analytics.rollup_insert_trigger()
    RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    -- definer: a role allowed to write transactions needs no privilege on the rollup tables
    SECURITY DEFINER SET search_path = public, pg_temp
    SET work_mem = '64MB'  -- the statement's hash aggregates stay in memory
    AS $body$
    DECLARE
      n bigint := (SELECT count(*) FROM new_rows);
      applied bigint;
    BEGIN
      IF n = 0 THEN
        RETURN NULL;
      ELSIF n <= 64 THEN
        %1$s;
        %2$s;
      ELSE
        EXECUTE %3$L;
        BEGIN
          EXECUTE %5$L INTO applied;
        EXCEPTION WHEN unique_violation THEN
          applied := -1;  -- another transaction inserted one of the buckets meanwhile: the SQL upsert
        END;
        IF applied < 0 THEN
          EXECUTE %4$L;
        END IF;
      END IF;
      RETURN NULL;
    END $body$ $f$, q_reg, q_app, q_reg, q_app, q_c);
END $gen$;

COMMIT;
