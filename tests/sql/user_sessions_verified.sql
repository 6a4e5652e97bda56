-- pgTAP: a session ends when its account is set unverified, as a login of it is refused (sqitch change
-- user_sessions_verified): the version bumped by a change of verified, api.session_state's active =
-- active and verified, the NOTIFY carries the same; the last active, verified admin cannot be unverified.
-- The REST side (401 on the next request): tests/api/lib/sessions.mjs.
BEGIN;
SELECT plan(10);

CREATE TEMP TABLE t_users AS
WITH ins AS (
  INSERT INTO users (email, username, password_hash, role, verified)
  VALUES ('sessv-a@example.com', 'sessv_a', crypt('password-a-123', gen_salt('bf', 4)), 'admin', true),
         ('sessv-b@example.com', 'sessv_b', crypt('password-b-123', gen_salt('bf', 4)), 'viewer', true)
  RETURNING id, username)
SELECT id, username AS name FROM ins;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM t_users WHERE name = 'sessv_' || $1 $$;
CREATE FUNCTION pg_temp.ver(text) RETURNS bigint LANGUAGE sql AS $$
  SELECT token_version FROM users WHERE id = pg_temp.uid($1) $$;
UPDATE users SET active = false WHERE role = 'admin' AND active AND id <> pg_temp.uid('a');

SELECT ok(api.login('{"email": "sessv-b@example.com", "password": "password-b-123"}') ? 'user', 'b signs in');
UPDATE users SET verified = false WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 2::bigint, 'verified set to false bumps the version: every session of b ends');
SELECT results_eq($$SELECT active FROM api.session_state(pg_temp.uid('b'))$$, $$VALUES (false)$$,
                  'session_state: an unverified account is not active for its sessions');
SELECT is(api.login('{"email": "sessv-b@example.com", "password": "password-b-123"}') ->> 'error', 'unverified',
          'and it cannot sign in (as before)');
UPDATE users SET verified = true WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 3::bigint, 'verified again: the version moves on (the old tokens stay dead)');
SELECT results_eq($$SELECT token_version, active FROM api.session_state(pg_temp.uid('b'))$$, $$VALUES (3::bigint, true)$$,
                  'session_state: active again at the new version');
UPDATE users SET verified = true, updated_at = now() WHERE id = pg_temp.uid('b');
SELECT is(pg_temp.ver('b'), 3::bigint, 'verified set to its value: no bump');

-- the NOTIFY of the change carries active = active and verified
SELECT ok(pg_get_functiondef('api._users_session_notify()'::regprocedure) ~ $$'active', NEW.active AND NEW.verified$$,
          'the notification''s active is active and verified');

-- the last active, verified admin
SELECT throws_ok($$UPDATE users SET verified = false WHERE id = pg_temp.uid('a')$$, '55000', NULL,
                 'the last active, verified admin cannot be set unverified');
UPDATE users SET role = 'admin' WHERE id = pg_temp.uid('b');
UPDATE users SET verified = false WHERE id = pg_temp.uid('a');
SELECT is(pg_temp.ver('a'), 2::bigint, 'with another active, verified admin it can (and its sessions end)');

SELECT * FROM finish();
ROLLBACK;
