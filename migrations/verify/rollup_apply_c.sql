-- Verify techmart:rollup_apply_c
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply_c' AND sql LIKE '%analytics.rollup_apply(%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure
   AND prosrc LIKE '%analytics.rollup_apply(%' AND prosrc LIKE '%unique_violation%';
SELECT 1/(NOT has_function_privilege('public', 'analytics.rollup_apply(smallint, integer[], bigint[], text[], timestamptz[], text[], numeric[], integer[], boolean[], text[], text[], text[], text[], text[], text[], bigint[])', 'EXECUTE'))::int;
