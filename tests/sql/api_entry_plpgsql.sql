-- pgTAP: the read endpoints' functions are not SECURITY DEFINER SQL functions (change api_entry_plpgsql).
-- PostgreSQL never inlines a SECURITY DEFINER SQL function, so it parses and plans the body on every call —
-- on every request, for the functions the service calls. A new STABLE one written in SQL fails here.
BEGIN;
SELECT plan(3);

SELECT is((SELECT coalesce(string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text), '')
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'api'::regnamespace AND p.prosecdef AND p.provolatile = 's' AND l.lanname = 'sql'),
          '', 'no STABLE SECURITY DEFINER function of schema api is LANGUAGE sql');

-- the same answers as the SQL bodies gave: a row that exists, and NULL (not an error) for one that does not
SELECT ok(api.get_transaction((SELECT min(id) FROM transactions), 'admin') ? 'explanation',
          'get_transaction of an existing id: the transaction with its explanation');
SELECT is(api.get_transaction(-1, 'admin'), NULL, 'get_transaction of a missing id: NULL (the service answers 404)');

SELECT * FROM finish();
ROLLBACK;
