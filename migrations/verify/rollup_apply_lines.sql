-- Verify techmart:rollup_apply_lines
-- the template, the insert trigger handing its lines to the C apply through a cursor, the function's privileges
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'lines_c' AND sql LIKE '%FROM both_ a LEFT JOIN products p%'
   AND sql NOT LIKE '%array_agg%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure
   AND prosrc LIKE '%OPEN lines FOR EXECUTE%' AND prosrc LIKE '%analytics.rollup_apply(analytics.rollup_slot(), lines)%'
   AND prosrc LIKE '%analytics.rollup_registry_add(%' AND prosrc LIKE '%unique_violation%';
SELECT 1/(NOT has_function_privilege('public', 'analytics.rollup_apply(smallint, refcursor)', 'EXECUTE'))::int;
