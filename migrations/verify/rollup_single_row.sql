-- Verify techmart:rollup_single_row
-- the template, the insert trigger's branch for statements without an order number, the upserts' sketch
-- union, the function's privileges
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply_lone' AND sql LIKE '%FROM lines a LEFT JOIN products p%'
   AND sql NOT LIKE '%others%' AND sql LIKE '%analytics.rollup_hll_union(s.customers_hll, excluded.customers_hll)%';
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step = 'apply' AND sql LIKE '%analytics.rollup_hll_union(%'
   AND sql NOT LIKE '%techmart.hll_union(%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure
   AND prosrc LIKE '%IF NOT EXISTS (SELECT FROM new_rows WHERE order_number IS NOT NULL) THEN%'
   AND prosrc LIKE '%OPEN lines FOR EXECUTE%';
SELECT 1/(NOT has_function_privilege('public', 'analytics.rollup_hll_union(bytea, bytea)', 'EXECUTE'))::int;
