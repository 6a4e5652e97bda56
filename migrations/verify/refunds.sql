-- Verify techmart:refunds
SELECT kind FROM transactions WHERE false;
SELECT kind FROM bi.transactions WHERE false;
SELECT 1/count(*) FROM pg_constraint WHERE conname = 'transactions_refund_status';
SELECT 1/count(*) FROM analytics.rollup_sql WHERE step IN ('apply', 'apply_sql_aggregate')  -- since rollup_deltas_c
   AND sql LIKE '%a.kind = ''refund'' AS r%';
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.rollup_insert_trigger()'::regprocedure AND prosrc LIKE '%n.kind%';
