-- Verify techmart:rollups_hll
SELECT dim, hour, key, customers_hll FROM analytics.rollup_recompute_hll('2000-01-01', '2000-01-02') WHERE false;
SELECT analytics.active_customers_exact(now(), now());
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'hll_recompute';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_delete_trigger()'::regprocedure AND prosrc LIKE '%rollup_recompute_hll%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure AND prosrc LIKE '%hll_union%';
