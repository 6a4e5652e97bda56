-- Deploy techmart:rollup_registry_probe to pg
-- requires: rollup_apply_c
--
-- Rollup upkeep (issue 4): the sales rollup triggers' CTE others (the lines of touched orders that the
-- statement did not touch) found its orders by a join of cnt (the statement's orders, an aggregate of its
-- lines) with analytics.order_registry. Its plan depended on the registry's statistics: after autovacuum
-- analysed a nearly empty registry (bench/rollups/run.sh: TRUNCATE, then a load in one transaction), the
-- planner estimated the registry at one row and ran the join as a nested loop whose outer side was a
-- full index scan of the registry with the join as a filter — registry size x statement orders
-- comparisons, 7 s for one 10,000-line INSERT instead of ~0.2 s (auto_explain, bench/RESULTS.md).
--
-- Now the registry is probed per order: a LATERAL subquery with OFFSET 0 (not flattened, so it can only
-- run as the inner side of a nested loop over cnt, parameterized by the order number: an index probe of
-- order_registry_pkey whatever the statistics say) — as the lines of transactions are already read per
-- order beside it. The templates apply, apply_c and apply_sql_aggregate of analytics.rollup_sql get the
-- probe; the three trigger functions are regenerated (generators of changes rollup_deltas_c for update
-- and delete, rollup_apply_c for insert, unchanged).
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

DO $$
DECLARE
  old_join  text := E'        FROM (SELECT cnt.order_number FROM cnt JOIN analytics.order_registry r USING (order_number)\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
  new_probe text := E'        FROM (SELECT cnt.order_number FROM cnt\n'
                    || E'               CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r  -- one index probe per order\n'
                    || E'                                    WHERE r.order_number = cnt.order_number OFFSET 0) r\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
  s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['apply', 'apply_c', 'apply_sql_aggregate'] LOOP
    IF NOT EXISTS (SELECT 1 FROM analytics.rollup_sql WHERE step = s AND position(old_join IN sql) > 0
                      AND regexp_count(sql, 'order_registry') = 1) THEN
      RAISE EXCEPTION 'rollup_registry_probe: rollup template % lacks the registry join of change overview_rollups', s
        USING HINT = 'an earlier change edited the templates: adapt migrations/deploy/rollup_registry_probe.sql';
    END IF;
    UPDATE analytics.rollup_sql SET sql = replace(sql, old_join, new_probe) WHERE step = s;
  END LOOP;
END $$;

-- the three trigger functions regenerated from the templates (the generators of changes rollup_deltas_c
-- and rollup_apply_c, in one file for this deploy and its revert)
\ir ../lib/rollup_triggers.sql

COMMIT;
