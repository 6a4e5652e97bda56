-- Verify techmart:rollup_rebuild_registry_partitions
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure
   AND prosrc LIKE '%pg_partition_tree(''public.transactions''::regclass) p))%' AND prosrc LIKE '%unnest(v_orders)%';
