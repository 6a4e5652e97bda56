-- Verify techmart:api_auth
SELECT 'api.register(jsonb)'::regprocedure, 'api.login(jsonb)'::regprocedure,
       'api.verify_email(jsonb)'::regprocedure, 'api.get_user(bigint)'::regprocedure;
SELECT 1/(SELECT count(*)::int FROM pg_roles WHERE rolname = 'techmart_api');
