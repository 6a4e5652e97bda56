-- Verify techmart:customer_months_insert_c on pg
SELECT 1 / count(*)::int FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = 'analytics.customer_months_insert_trigger()'::regprocedure AND l.lanname = 'c'
   AND p.prosrc = 'techmart_customer_months_insert';
