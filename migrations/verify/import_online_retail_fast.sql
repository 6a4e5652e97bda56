-- Verify techmart:import_online_retail_fast
SELECT 1/(position('session_replication_role' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
