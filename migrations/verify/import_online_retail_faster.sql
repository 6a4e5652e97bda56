-- Verify techmart:import_online_retail_faster
SELECT 1/(position('y_per_country' IN prosrc) > 0 AND position('v_idx_def' IN prosrc) > 0
          AND position('v_overlap' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
