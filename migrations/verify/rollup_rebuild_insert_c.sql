-- Verify techmart:rollup_rebuild_insert_c
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure
   AND prosrc LIKE '%analytics.rollup_insert(%' AND prosrc LIKE '%analytics.rollup_deltas(%';
SELECT 1/(NOT has_function_privilege('public', 'analytics.rollup_insert(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[])', 'EXECUTE'))::int;
