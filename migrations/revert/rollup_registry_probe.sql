-- Revert techmart:rollup_registry_probe from pg
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

-- the templates with the registry join of change overview_rollups again
DO $$
DECLARE
  old_join  text := E'        FROM (SELECT cnt.order_number FROM cnt JOIN analytics.order_registry r USING (order_number)\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
  new_probe text := E'        FROM (SELECT cnt.order_number FROM cnt\n'
                    || E'               CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r  -- one index probe per order\n'
                    || E'                                    WHERE r.order_number = cnt.order_number OFFSET 0) r\n'
                    || E'               WHERE r.lines > cnt.new_lines) o\n';
BEGIN
  UPDATE analytics.rollup_sql SET sql = replace(sql, new_probe, old_join)
   WHERE step IN ('apply', 'apply_c', 'apply_sql_aggregate');
END $$;

-- the three trigger functions regenerated from the templates (the generators of changes rollup_deltas_c
-- and rollup_apply_c, in one file for this deploy and its revert)
\ir ../lib/rollup_triggers.sql

COMMIT;
