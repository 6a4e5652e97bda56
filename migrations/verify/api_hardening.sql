-- Verify techmart:api_hardening
SELECT 1/(1 - count(*)::int) FROM pg_proc p
 WHERE p.pronamespace = 'api'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE');
