-- Verify techmart:catalogue_conflicts
SELECT 1/(count(*) = 4)::int
  FROM pg_proc
 WHERE oid IN ('api.create_category(jsonb)'::regprocedure, 'api.update_category(bigint, jsonb)'::regprocedure,
               'api.create_supplier(jsonb)'::regprocedure, 'api.update_supplier(bigint, jsonb)'::regprocedure)
   AND position('already exists' IN prosrc) > 0;
