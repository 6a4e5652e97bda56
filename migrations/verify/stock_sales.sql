-- Verify techmart:stock_sales
SELECT 1/count(*)::int FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
 WHERE t.tgrelid = 'public.transactions'::regclass
   AND t.tgname IN ('transactions_stock_ins', 'transactions_stock_upd', 'transactions_stock_del')
   AND p.oid = 'analytics.stock_trigger()'::regprocedure AND l.lanname = 'c' HAVING count(*) = 3;
SELECT analytics.line_units('refund', 'refunded', 2);
