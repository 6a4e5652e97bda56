-- Verify techmart:overview_rollups
SELECT analytics.minute_key(now()), analytics.minute_floor(now()), analytics.minute_ceil(now());
SELECT 1/count(*) FROM pg_constraint WHERE conname = 'sales_hourly_dim_check' AND pg_get_constraintdef(oid) LIKE '%minute%';
-- the SQL aggregation of the apply template is kept as step apply_sql_aggregate since change rollup_deltas_c (minute
-- buckets in C then)
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step IN ('apply', 'apply_sql_aggregate') AND sql LIKE '%(a.hour, a.minute))%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure
   AND (prosrc LIKE '%a.minute%' OR prosrc LIKE '%analytics.rollup_deltas(%');
SELECT 1/count(*) FROM pg_indexes WHERE indexname = 'inventory_history_changed_idx';
SELECT hour, slot, created, closed FROM analytics.alerts_hourly WHERE false;
SELECT analytics.alerts_created(now(), now()), analytics.alerts_open_at(now());
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'alerts_counts_ins';
