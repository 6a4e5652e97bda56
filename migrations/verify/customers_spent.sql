-- Verify techmart:customers_spent
SELECT 1/count(*)::int FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_spent_ins';
SELECT 1/count(*)::int FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_spent_upd';
SELECT 1/count(*)::int FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_spent_del';
SELECT 'analytics.customers_spent_rebuild()'::regprocedure, 'analytics.customers_spent_check()'::regprocedure;
SELECT 1/(position('transactions_spent_ins' IN pg_get_functiondef('import.online_retail(text)'::regprocedure)) > 0)::int;
