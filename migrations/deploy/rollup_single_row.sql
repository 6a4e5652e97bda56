-- Deploy techmart:rollup_single_row to pg
-- requires: rollup_hll_relock
-- requires: customers_spent_c
--
-- The sales rollup insert trigger's cost for small statements (a single-row INSERT: ~450 us, the
-- largest cost of the product's single-row insert path; bench/RESULTS.md "Rollup upkeep of a
-- single-row INSERT"). Where it went (perf of the backend, the trigger's samples only): ~23 % in the
-- TOAST writes of the bucket rows' customer sketches (a sketch of more than ~2 KB: a pglz attempt
-- that fails on the sparse form, the new value written out of line, the old one deleted) on every
-- upsert, also when the line's customer was already in the sketch and the bytes did not change;
-- ~15 % in initialising the plan of the "other lines of the statement's orders" part of the upsert
-- (CTEs cnt, others: nested loops, lateral probes, a hashed subplan) and the registry upsert, which
-- read and write nothing when no line has an order number.
--
-- 1. analytics.rollup_hll_union(stored, added) (C, extension/pg/stat_aggregates.cpp; declared here:
--    the extension's version is unchanged): techmart.hll_union, the same bytes, but when the stored
--    sketch comes as a TOAST pointer and the union is byte for byte that value, the pointer itself is
--    returned, so the UPDATE keeps the row's TOAST value (the toaster reuses an unchanged pointer)
--    instead of writing a copy and deleting the old one. The template apply (every SQL upsert of the
--    buckets: the insert trigger's small statements and its fallback, the update and delete triggers)
--    calls it in place of techmart.hll_union.
-- 2. template apply_lone: the template apply without the CTEs cnt and others (the lines alone). The
--    insert trigger runs it, without the registry upsert, for a statement of up to 64 lines none of
--    which has an order number; the others as before. The same deltas (cnt is empty, so others is:
--    lines without an order number have no registry row and no other line), the same buckets locked
--    in the same order, no registry row locked (as before: the registry upsert of such a statement
--    inserts and locks none).
BEGIN;

LOCK TABLE analytics.sales_hourly, analytics.order_registry IN EXCLUSIVE MODE;

CREATE FUNCTION analytics.rollup_hll_union(stored bytea, added bytea)
RETURNS bytea
AS '$libdir/techmart', 'techmart_rollup_hll_union'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.rollup_hll_union(bytea, bytea) IS
  'techmart.hll_union(stored, added), the same bytes; when stored is an out-of-line TOAST value and the union equals it, '
  'that TOAST pointer is returned unchanged (an UPDATE storing it keeps the row''s TOAST value instead of writing a copy). '
  'For the rollup upserts';
REVOKE EXECUTE ON FUNCTION analytics.rollup_hll_union(bytea, bytea) FROM PUBLIC;

DO $$
DECLARE
  src  text := (SELECT sql FROM analytics.rollup_sql WHERE step = 'apply');
  call text := 'customers_hll = techmart.hll_union(s.customers_hll, excluded.customers_hll)';
  cut1 text := E'    -- 2. orders with lines this statement did not touch: read those lines (sign 0)\n';
  cut2 text := E'    -- 3. the per-bucket deltas, sorted by (dim, hour, key)';
  i integer;
  j integer;
  lone text;
BEGIN
  IF src IS NULL OR regexp_count(src, 'techmart\.hll_union\(') <> 1 OR position(call IN src) = 0
     OR position('analytics.rollup_hll_union' IN src) > 0 THEN
    RAISE EXCEPTION 'rollup_single_row: rollup template apply not as change rollup_deltas_c left it'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_single_row.sql';
  END IF;
  src := replace(src, call, 'customers_hll = analytics.rollup_hll_union(s.customers_hll, excluded.customers_hll)');
  UPDATE analytics.rollup_sql SET sql = src WHERE step = 'apply';
  -- apply_lone: apply without the CTEs cnt, others and both_, arr reading the lines
  i := position(cut1 IN src);
  j := position(cut2 IN src);
  IF i = 0 OR j <= i OR regexp_count(src, 'FROM both_ a LEFT JOIN products p') <> 1 THEN
    RAISE EXCEPTION 'rollup_single_row: rollup template apply lacks the CTEs cnt, others, both_ of change rollup_registry_probe'
      USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_single_row.sql';
  END IF;
  lone := left(src, i - 1) || substr(src, j);
  lone := replace(lone, 'FROM both_ a LEFT JOIN products p', 'FROM lines a LEFT JOIN products p');
  IF position('others' IN lone) > 0 OR position('both_' IN lone) > 0 OR position('cnt' IN lone) > 0
     OR regexp_count(lone, '%s') <> 1 THEN
    RAISE EXCEPTION 'rollup_single_row: template apply_lone not as expected: %', lone;
  END IF;
  INSERT INTO analytics.rollup_sql (step, sql) VALUES ('apply_lone', lone);
END $$;

-- the three trigger functions regenerated from the templates (migrations/lib/rollup_triggers.sql: with
-- the template apply_lone, the insert trigger's statements of up to 64 lines without an order number
-- run it alone)
\ir ../lib/rollup_triggers.sql

COMMIT;
