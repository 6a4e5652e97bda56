-- Deploy techmart:rollup_registry_c to pg
-- requires: rollup_registry_probe
--
-- Rollup upkeep (issue 4: bulk insert throughput with rollups >= 80 % of the fraud trigger alone):
-- the sales rollup insert trigger of a bulk statement (more than 64 lines) adds its lines per order
-- to analytics.order_registry with analytics.rollup_registry_add() (C, extension/pg/rollup_deltas.cpp)
-- instead of the INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE of template 'registry': per
-- order in byte order a probe of the primary key, then the row locked as ON CONFLICT locks it and
-- updated, or inserted — the write of analytics.rollup_apply, without the executor's per-row work of ON
-- CONFLICT (pre-check, speculative insertion token and confirmation, projection). Same rows. It returns
-- the orders whose registry row had lines before (the orders with lines outside the statement), and the
-- C apply's statement (template 'apply_c_orders': template 'apply_c' with that list as $1) reads the other
-- lines of those orders only, instead of counting the statement's lines per order and probing the
-- registry once per order (usually none: a bulk load rarely continues an earlier statement's orders).
--
-- It runs in the subtransaction of the C apply: a unique_violation in either (another transaction
-- inserted one of the orders or buckets meanwhile) undoes both, and the trigger redoes both with the
-- SQL upserts; when rollup_registry_add declines (-1: isolation above READ COMMITTED, a table not as
-- the rollup changes made it, 32 subtransaction XIDs held), nothing was written and both SQL upserts
-- run outside the subtransaction, as before. Statements of up to 64 lines, UPDATE and DELETE keep the
-- SQL.
--
-- The template 'registry' sorts by order_number COLLATE "C" (was: the column's collation, the
-- database default): the lock order of the SQL upsert and of the C function is the same byte order
-- in every database (the same in a database whose default collation is C, as the bench's).
--
-- The C function is declared here, not in the extension script (the extension's version stays).
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

CREATE FUNCTION analytics.rollup_registry_add(order_number text[])
RETURNS text[]
AS '$libdir/techmart', 'techmart_rollup_registry_add'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION analytics.rollup_registry_add(text[]) IS
  'Adds the lines of the order numbers given (one element per line, NULLs ignored) to analytics.order_registry '
  'directly (C): per order in byte order, the row locked and updated, or inserted. Returns the orders that had lines '
  'before (byte order; empty when none), NULL when it does not apply (nothing written: the caller runs the SQL '
  'upsert); unique_violation when another '
  'transaction inserted one of the orders meanwhile. For the rollup insert trigger only';
REVOKE EXECUTE ON FUNCTION analytics.rollup_registry_add(text[]) FROM PUBLIC;

DO $$
DECLARE
  old_order text := E'     GROUP BY l.order_number ORDER BY l.order_number\n';
  new_order text := E'     GROUP BY l.order_number ORDER BY l.order_number COLLATE "C"\n';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM analytics.rollup_sql WHERE step = 'registry' AND position(old_order IN sql) > 0) THEN
    RAISE EXCEPTION 'rollup_registry_c: rollup template registry lacks the ORDER BY of change rollups'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_registry_c.sql';
  END IF;
  UPDATE analytics.rollup_sql SET sql = replace(sql, old_order, new_order) WHERE step = 'registry';
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('registry_c', $t$    WITH lines AS (%s)
    -- the lines per order added to analytics.order_registry directly (C): the orders that had lines before;
    -- NULL: not applicable, nothing written
    SELECT analytics.rollup_registry_add(array_agg(l.order_number)) FROM lines l WHERE l.order_number IS NOT NULL
$t$);
END $$;

-- template apply_c_orders: apply_c whose other lines of touched orders come from the orders rollup_registry_add
-- returned ($1) instead of the statement's orders counted and probed in the registry
DO $$
DECLARE
  src text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply_c');
  from_ text := E'    cnt AS (\n';
  to_ text := E'               WHERE r.lines > cnt.new_lines) o\n';
  i integer := position(from_ IN src);
  j integer := position(to_ IN src);
  others text := E'    others AS MATERIALIZED (\n'
    || E'      SELECT 0 AS sign, t.id, t.order_number, t.transaction_time, t.status, t.amount, t.quantity,\n'
    || E'             t.is_suspicious, t.product_id, t.country, t.platform, t.payment_method, t.kind, t.customer_id\n'
    || E'        FROM unnest($1::text[]) o(order_number)  -- the orders that had lines before (rollup_registry_add)\n';
  out text;
BEGIN
  IF i = 0 OR j < i OR regexp_count(src, 'cnt') <> 5 THEN
    RAISE EXCEPTION 'rollup_registry_c: rollup template apply_c lacks the others CTE of change rollup_registry_probe'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_registry_c.sql';
  END IF;
  out := left(src, i - 1) || others || substr(src, j + length(to_));
  IF position('cnt' IN out) > 0 OR position('order_registry' IN out) > 0 OR regexp_count(out, '\$1') <> 1 THEN
    RAISE EXCEPTION 'rollup_registry_c: template apply_c_orders not as expected: %', out;
  END IF;
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('apply_c_orders', out);
END $$;

-- the three trigger functions regenerated from the templates (migrations/lib/rollup_triggers.sql: with
-- the template registry_c, the insert trigger writes the registry with it)
\ir ../lib/rollup_triggers.sql

COMMIT;
