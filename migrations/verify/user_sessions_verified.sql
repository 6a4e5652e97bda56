-- Verify techmart:user_sessions_verified
SELECT 1/(position('verified' IN pg_get_functiondef('api.session_state(bigint)'::regprocedure)) > 0)::int;
SELECT 1/count(*) FROM pg_trigger t JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)
 WHERE t.tgrelid = 'public.users'::regclass AND t.tgname = 'users_session_guard' AND a.attname = 'verified';
