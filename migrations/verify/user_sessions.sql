-- Verify techmart:user_sessions
SELECT active, token_version FROM users WHERE false;
SELECT 'api.session_state(bigint)'::regprocedure, 'api.logout(bigint)'::regprocedure,
       'api.change_password(bigint,jsonb)'::regprocedure;
SELECT 1/count(*)::int FROM pg_trigger WHERE tgrelid = 'users'::regclass AND tgname = 'users_session_guard';
SELECT 1/count(*)::int FROM pg_trigger WHERE tgrelid = 'users'::regclass AND tgname = 'users_session_notify';
