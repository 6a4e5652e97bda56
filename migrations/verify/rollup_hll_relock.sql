-- Verify techmart:rollup_hll_relock
-- the template and the update and delete triggers repeat the lock step until every slot row is locked
SELECT 1/(count(*) = 1)::int FROM analytics.rollup_sql
 WHERE step = 'hll_lock' AND sql LIKE '%EXIT WHEN (SELECT count(*) FROM analytics.sales_hourly s%';
SELECT 1/(count(*) = 2)::int FROM pg_proc
 WHERE oid IN ('analytics.rollup_update_trigger()'::regprocedure, 'analytics.rollup_delete_trigger()'::regprocedure)
   AND prosrc LIKE '%EXIT WHEN (SELECT count(*) FROM analytics.sales_hourly s%';
