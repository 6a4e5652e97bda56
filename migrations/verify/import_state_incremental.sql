-- Verify techmart:import_state_incremental
SELECT 'techmart.rebuild_state_for(bigint[], text)'::regprocedure;
SELECT 1/(position('techmart.rebuild_state_for(ARRAY(SELECT c.id FROM or_cust_id c)' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
SELECT 1/(NOT has_function_privilege('public', 'techmart.rebuild_state_for(bigint[], text)', 'EXECUTE'))::int;
