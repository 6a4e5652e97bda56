-- Verify techmart:customers_spent_c
SELECT 1/count(*)::int FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid IN ('analytics.customers_spent_insert_trigger()'::regprocedure, 'analytics.customers_spent_update_trigger()'::regprocedure,
                 'analytics.customers_spent_delete_trigger()'::regprocedure)
   AND l.lanname = 'c' HAVING count(*) = 3;
