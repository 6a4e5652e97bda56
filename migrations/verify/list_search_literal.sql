-- Verify techmart:list_search_literal
SELECT 1/(count(*) = 4)::int
  FROM pg_proc
 WHERE oid IN ('api.list_categories(jsonb)'::regprocedure, 'api.list_suppliers(jsonb)'::regprocedure,
               'api.list_products(jsonb)'::regprocedure, 'api.list_customers(jsonb)'::regprocedure)
   AND position('''\%''' IN prosrc) > 0;
