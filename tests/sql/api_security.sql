-- pgTAP: security of the api schema (docs/architecture.md, "Security of the api schema").
-- Endpoint functions run as their owner: SECURITY DEFINER with a fixed search_path ending in
-- pg_temp; nothing in the schema is executable by PUBLIC; techmart_api may execute only
-- SECURITY DEFINER functions (helpers running inside them stay private to the owner) and holds
-- no privilege on tables. Each check lists the offending functions, so a failure names them.
BEGIN;
SELECT plan(8);

CREATE TEMP VIEW api_fn AS
SELECT p.oid, p.oid::regprocedure::text AS fn, p.prosecdef, p.proconfig,
       (SELECT c FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%') AS search_path
  FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace;

SELECT cmp_ok((SELECT count(*) FROM api_fn WHERE prosecdef), '>=', 40::bigint,
              'the api schema holds the endpoint functions');
SELECT is_empty($$SELECT fn FROM api_fn WHERE has_function_privilege('public', oid, 'EXECUTE')$$,
                'no api function is executable by PUBLIC');
SELECT is_empty($$SELECT fn FROM api_fn WHERE has_function_privilege('techmart_api', oid, 'EXECUTE') AND NOT prosecdef$$,
                'every api function techmart_api may execute is SECURITY DEFINER');
SELECT is_empty($$SELECT fn FROM api_fn WHERE prosecdef AND search_path IS NULL$$,
                'every SECURITY DEFINER api function has a fixed search_path');
SELECT is_empty($$SELECT fn FROM api_fn WHERE prosecdef AND search_path NOT LIKE '%pg\_temp'$$,
                'the fixed search_path ends with pg_temp (temporary objects cannot shadow)');
SELECT is_empty($$SELECT fn FROM api_fn WHERE NOT prosecdef
                   AND (has_function_privilege('techmart_api', oid, 'EXECUTE')
                        OR has_function_privilege('techmart_bi', oid, 'EXECUTE'))$$,
                'helper (SECURITY INVOKER) api functions are private to the owner');
SELECT is_empty($$SELECT c.oid::regclass::text FROM pg_class c
                   WHERE c.relnamespace IN ('public'::regnamespace, 'api'::regnamespace) AND c.relkind IN ('r', 'v', 'm', 'p')
                     AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                                AND d.deptype = 'e')  -- e.g. pgTAP's own views
                     AND (has_table_privilege('techmart_api', c.oid, 'SELECT') OR has_table_privilege('techmart_api', c.oid, 'INSERT')
                          OR has_table_privilege('techmart_api', c.oid, 'UPDATE') OR has_table_privilege('techmart_api', c.oid, 'DELETE'))$$,
                'techmart_api has no privilege on tables or views');
SELECT is_empty($$SELECT fn FROM api_fn f JOIN pg_proc p USING (oid)
                   WHERE f.prosecdef AND NOT (SELECT rolsuper OR rolname = current_user FROM pg_roles WHERE oid = p.proowner)
                     AND pg_has_role('techmart_api', p.proowner, 'MEMBER')$$,
                'no SECURITY DEFINER api function is owned by a role techmart_api belongs to');

SELECT * FROM finish();
ROLLBACK;
