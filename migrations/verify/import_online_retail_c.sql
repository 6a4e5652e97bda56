-- Verify techmart:import_online_retail_c
SELECT 'import.online_retail_parse(regclass, text[], text[], text[], text[])'::regprocedure;
SELECT 'import.online_retail_stage(regclass, regclass, regclass, text[], text[], text[], text[])'::regprocedure;
SELECT 1/(position('import.online_retail_parse(' IN prosrc) > 0 AND position('import.online_retail_stage(' IN prosrc) > 0 AND position('y_per_country' IN prosrc) > 0
          AND position('v_idx_def' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'import.online_retail(text)'::regprocedure;
