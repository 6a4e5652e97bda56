-- Verify techmart:product_daily_insert_c on pg
SELECT 1 / count(*)::int FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
 WHERE t.tgrelid = 'public.transactions'::regclass AND t.tgname = 'transactions_sales_daily_ins'
   AND p.oid = 'analytics.product_daily_insert_trigger()'::regprocedure AND l.lanname = 'c';
