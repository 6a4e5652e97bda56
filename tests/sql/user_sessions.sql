-- pgTAP: sign-in sessions an admin can control (migrations/deploy/user_sessions.sql): users.active
-- and users.token_version; the version bumped by a change of role, active or password (whoever
-- makes it) and by api.logout, not by anything else; a disabled account cannot sign in (NULL, as a
-- wrong password); the last active admin cannot be demoted, disabled or deleted (55000);
-- api.session_state, api.change_password. The REST side (cache, NOTIFY, 401, streams):
-- tests/api/lib/sessions.mjs.
BEGIN;
SELECT plan(38);

-- accounts of this test only (bcrypt cost 4: fast); every other admin disabled inside this
-- transaction, so that a is the only active admin
CREATE TEMP TABLE t_users AS
WITH ins AS (
  INSERT INTO users (email, username, password_hash, role, verified)
  VALUES ('sess-a@example.com', 'sess_a', crypt('password-a-123', gen_salt('bf', 4)), 'admin', true),
         ('sess-b@example.com', 'sess_b', crypt('password-b-123', gen_salt('bf', 4)), 'analyst', true),
         ('sess-c@example.com', 'sess_c', crypt('password-c-123', gen_salt('bf', 4)), 'viewer', true)
  RETURNING id, username)
SELECT id, username AS name FROM ins;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM t_users WHERE name = 'sess_' || $1 $$;
CREATE FUNCTION pg_temp.ver(text) RETURNS bigint LANGUAGE sql AS $$
  SELECT token_version FROM users WHERE id = pg_temp.uid($1) $$;
UPDATE users SET active = false WHERE role = 'admin' AND active AND id <> pg_temp.uid('a');

-- new accounts
SELECT is((SELECT count(*) FROM users WHERE id IN (SELECT id FROM t_users) AND active AND token_version = 1), 3::bigint,
          'a new account is active at version 1');
SELECT is(api.user_json(u) -> 'active', 'true'::jsonb, 'user_json shows active') FROM users u WHERE id = pg_temp.uid('b');
SELECT ok(NOT (api.user_json(u) ? 'token_version'), 'user_json does not show the version') FROM users u WHERE id = pg_temp.uid('b');
SELECT results_eq($$SELECT * FROM api.session_state(pg_temp.uid('b'))$$,
                  $$VALUES (1::bigint, 'analyst'::text, true)$$, 'session_state: version, role, active');
SELECT is_empty($$SELECT * FROM api.session_state(-1)$$, 'session_state: no row for an unknown account');

-- what bumps the version, and what does not
UPDATE users SET last_login_at = now(), verified = true, updated_at = now() WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 1::bigint, 'last_login_at, verified, updated_at: no bump');
UPDATE users SET role = 'analyst' WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 1::bigint, 'the role set to itself: no bump');
UPDATE users SET role = 'viewer' WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 2::bigint, 'a role change (psql) bumps');
SELECT is(api.update_user(pg_temp.uid('b'), '{"role":"analyst"}') ->> 'role', 'analyst', 'update_user: role');
SELECT is(pg_temp.ver('b'), 3::bigint, 'a role change (update_user) bumps');
SELECT is(api.update_user(pg_temp.uid('b'), '{"verified":true}') ->> 'id', pg_temp.uid('b')::text, 'update_user: verified only');
SELECT is(pg_temp.ver('b'), 3::bigint, '... no bump');
SELECT is(api.update_user(pg_temp.uid('b'), '{"active":false}') -> 'active', 'false'::jsonb, 'update_user: active');
SELECT is(pg_temp.ver('b'), 4::bigint, 'disabling bumps');
SELECT is(api.update_user(pg_temp.uid('b'), '{"active":true}') -> 'active', 'true'::jsonb, 'update_user: enabled again');
SELECT is(pg_temp.ver('b'), 5::bigint, 'enabling bumps (the tokens of before stay dead)');
SELECT throws_ok($$SELECT api.update_user(pg_temp.uid('b'), '{"active":"no"}')$$, '22023', NULL, 'active must be a boolean');
UPDATE users SET password_hash = crypt('another-password', gen_salt('bf', 4)) WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 6::bigint, 'a new password bumps');
UPDATE users SET role = 'viewer', token_version = 100 WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 100::bigint, 'a version set explicitly is kept');

-- logout
SELECT is(api.logout(pg_temp.uid('c')), true, 'logout: true');
SELECT is(pg_temp.ver('c'), 2::bigint, 'logout bumps');
SELECT is(api.logout(-1), false, 'logout of an unknown account: false');

-- login
SELECT is(api.login('{"email":"SESS-C@example.com","password":"password-c-123"}') -> 'token_version', '2'::jsonb,
          'login answers the version');
SELECT is(api.update_user(pg_temp.uid('c'), '{"active":false}') ->> 'active', 'false', 'c disabled');
SELECT is(api.login('{"email":"sess-c@example.com","password":"password-c-123"}'), NULL,
          'a disabled account cannot sign in: NULL, as for a wrong password');
SELECT is(api.login('{"email":"sess-c@example.com","password":"wrong-password"}'), NULL, 'a wrong password: NULL');

-- password change
SELECT throws_ok($$SELECT api.change_password(pg_temp.uid('a'), '{"current_password":"nope-nope-nope","new_password":"a new password a"}')$$,
                 '22023', 'invalid password change: current_password is wrong', 'change_password: a wrong current password is 22023 naming current_password');
SELECT throws_ok($$SELECT api.change_password(pg_temp.uid('a'), '{"current_password":"password-a-123","new_password":"short"}')$$,
                 '22023', 'invalid password change: new_password must be at least 10 characters', 'change_password: a short new password is 22023 naming new_password');
SELECT is(api.change_password(pg_temp.uid('a'), '{"current_password":"password-a-123","new_password":"a new password a"}') -> 'token_version',
          '2'::jsonb, 'change_password: the new version');
SELECT is(api.login('{"email":"sess-a@example.com","password":"a new password a"}') -> 'user' ->> 'id', pg_temp.uid('a')::text,
          'the new password signs in');
SELECT is(api.change_password(pg_temp.uid('c'), '{"current_password":"password-c-123","new_password":"a new password c"}'), NULL,
          'change_password of a disabled account: NULL');

-- the last active admin
SELECT throws_ok($$SELECT api.update_user(pg_temp.uid('a'), '{"role":"analyst"}')$$, '55000',
                 'the last active admin cannot be demoted, disabled or deleted', 'the last active admin cannot be demoted');
SELECT throws_ok($$SELECT api.update_user(pg_temp.uid('a'), '{"active":false}')$$, '55000', NULL, '... nor disabled');
SELECT throws_ok($$UPDATE users SET role = 'viewer' WHERE id = pg_temp.uid('a')$$, '55000', NULL, '... nor demoted in psql');
SELECT throws_ok($$DELETE FROM users WHERE id = pg_temp.uid('a')$$, '55000', NULL, '... nor deleted');
SELECT lives_ok($$UPDATE users SET role = 'admin' WHERE id = pg_temp.uid('b');
                  SELECT api.update_user(pg_temp.uid('a'), '{"role":"viewer"}')$$,
                'with another active admin, the first may be demoted');

-- the way back in for a DBA
SELECT is(api.bootstrap_admin('sess-c@example.com', 'ignored-password') ->> 'active', 'true',
          'bootstrap_admin makes a disabled account an active admin again');

-- the service's role
SELECT ok(has_function_privilege('techmart_api', 'api.session_state(bigint)', 'EXECUTE')
          AND has_function_privilege('techmart_api', 'api.logout(bigint)', 'EXECUTE')
          AND has_function_privilege('techmart_api', 'api.change_password(bigint,jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('techmart_api', 'api._users_session_guard()', 'EXECUTE'),
          'techmart_api executes session_state, logout and change_password, not the trigger functions');

SELECT * FROM finish();
ROLLBACK;
