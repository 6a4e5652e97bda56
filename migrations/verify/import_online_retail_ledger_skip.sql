-- Verify techmart:import_online_retail_ledger_skip
SELECT 1/(position('v_overlap' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
