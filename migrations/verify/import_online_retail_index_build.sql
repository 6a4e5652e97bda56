-- Verify techmart:import_online_retail_index_build
SELECT 1/(position('v_idx_def' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
