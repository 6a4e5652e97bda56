-- Verify techmart:api_rest on pg
SELECT 'api.rest_time(text, text)'::regprocedure, 'api.dashboard_summary(timestamptz)'::regprocedure,
       'api.fraud_rules()'::regprocedure, 'api.update_fraud_rule(text, jsonb)'::regprocedure,
       'api.fraud_geo(timestamptz, timestamptz, integer)'::regprocedure;
SELECT 1/(1 - count(*)::int) FROM pg_proc p
 WHERE p.pronamespace = 'api'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE');
