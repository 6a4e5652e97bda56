-- Verify techmart:rollup_registry_probe
-- the templates and the three generated trigger functions probe the registry per order, none joins it
SELECT 1/(count(*) = 3)::int FROM analytics.rollup_sql
 WHERE step IN ('apply', 'apply_c', 'apply_sql_aggregate')
   AND sql LIKE '%CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r%'
   AND sql NOT LIKE '%JOIN analytics.order_registry r USING%';
SELECT 1/(count(*) = 3)::int FROM pg_proc
 WHERE oid IN ('analytics.rollup_insert_trigger()'::regprocedure, 'analytics.rollup_update_trigger()'::regprocedure,
               'analytics.rollup_delete_trigger()'::regprocedure)
   AND prosrc LIKE '%CROSS JOIN LATERAL (SELECT r.lines FROM analytics.order_registry r%'
   AND prosrc NOT LIKE '%JOIN analytics.order_registry r USING%';
