-- Verify techmart:list_order_index
SELECT 1/(strpos(prosrc, 'p_table)') > 0)::int FROM pg_proc WHERE oid = 'api._list(regclass,jsonb,text,text[],text,text[])'::regprocedure;
SELECT 1/(strpos(prosrc, '''users'')') > 0)::int FROM pg_proc WHERE oid = 'api.list_users(jsonb)'::regprocedure;
