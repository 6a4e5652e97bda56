-- Verify techmart:inventory_put_clock
SELECT 1/(strpos(prosrc, 'clock_timestamp()') > 0)::int FROM pg_proc WHERE oid = 'api.update_inventory(bigint,jsonb,text)'::regprocedure;
