-- Revert techmart:rollup_hll_relock from pg
BEGIN;

LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;

-- the template hll_lock of change rollups_hll again: one lock statement
DO $$
DECLARE
  head text := E'    WITH b AS (%s),\n';
  tail text := E'      INTO l_dim, l_hour, l_key, l_slot FROM ins';
BEGIN
  UPDATE analytics.rollup_sql
     SET sql = replace(left(sql, position(tail IN sql) + length(tail) - 1), E'    LOOP\n' || head, head) || E'\n'
   WHERE step = 'hll_lock' AND position('LOOP' IN sql) > 0;
END $$;

\ir ../lib/rollup_triggers.sql

COMMIT;
