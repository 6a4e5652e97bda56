-- Verify techmart:list_transactions_totals
SELECT 1/(count(*) = 1)::int FROM analytics.settings WHERE key = 'list_count_budget';
SELECT 'api._tx_total(jsonb)'::regprocedure;
SELECT 1/(strpos(prosrc, 'total_exact') > 0)::int FROM pg_proc WHERE oid = 'api.list_transactions(jsonb,text)'::regprocedure;
SELECT 'api._tx_plan(jsonb)'::regprocedure;
