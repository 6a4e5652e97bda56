-- Verify techmart:customers_rfm_seqscan
SELECT 1/(count(*) = 3)::int FROM pg_proc
 WHERE oid IN ('api.customers_segments(timestamptz)'::regprocedure, 'api.customers_rfm(timestamptz,text,integer)'::regprocedure,
               'api.customers_lifetime_value(timestamptz,integer,integer)'::regprocedure)
   AND 'enable_indexscan=off' = ANY (proconfig);
