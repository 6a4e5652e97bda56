-- Verify techmart:rollup_registry_c
-- the templates, the insert trigger calling them inside the C apply's subtransaction, the registry's byte order
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'registry_c' AND sql LIKE '%analytics.rollup_registry_add(%';
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'registry' AND sql LIKE '%ORDER BY l.order_number COLLATE "C"%';
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply_c_orders' AND sql LIKE '%unnest($1::text[])%'
   AND sql NOT LIKE '%order_registry%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure
   AND prosrc LIKE '%analytics.rollup_registry_add(%' AND prosrc LIKE '%analytics.rollup_apply(%'
   AND prosrc LIKE '%unnest($1::text[])%' AND prosrc LIKE '%unique_violation%';
SELECT 1/(NOT has_function_privilege('public', 'analytics.rollup_registry_add(text[])', 'EXECUTE'))::int;
