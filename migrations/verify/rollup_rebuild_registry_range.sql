-- Verify techmart:rollup_rebuild_registry_range
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure
   AND prosrc LIKE '%unnest(v_orders)%' AND prosrc LIKE '%analytics.rollup_insert(%';
