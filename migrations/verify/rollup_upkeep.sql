-- Verify techmart:rollup_upkeep
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply' AND sql LIKE '%both_ AS NOT MATERIALIZED%' AND sql LIKE '%others AS MATERIALIZED%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure AND prosrc LIKE '%both_ AS NOT MATERIALIZED%';
-- (the C row trigger of change alert_counts_c replaced the plpgsql one since)
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'alerts_counts_ins' AND tgtype & 1 = 1  -- FOR EACH ROW
   AND tgfoid IN ('analytics.alert_counts_insert_row_trigger()'::regprocedure,
                  coalesce(to_regprocedure('analytics.alert_counts_insert_row_c()'), 0));
