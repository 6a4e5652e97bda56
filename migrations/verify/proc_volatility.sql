-- Verify techmart:proc_volatility
SELECT 1/(count(*) = 4)::int FROM pg_proc
 WHERE (oid = 'analytics.rollup_slot()'::regprocedure AND proparallel = 'r')
    OR (oid = 'api.transaction_event(bigint, numeric, numeric, boolean, bigint, timestamptz)'::regprocedure AND provolatile = 's')
    OR (oid = 'analytics.range_errors(timestamptz, timestamptz, interval, text, text)'::regprocedure AND provolatile = 's')
    OR (oid = 'api._check_time(jsonb, text)'::regprocedure AND provolatile = 's');
