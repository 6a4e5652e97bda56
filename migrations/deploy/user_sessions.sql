-- Deploy techmart:user_sessions to pg
-- requires: api_auth
-- requires: api_list_consistency
-- requires: api_entry_plpgsql
--
-- Sign-in sessions an admin can control. A JWT used to keep the role it was issued with until it
-- expired (1 h): a demoted or compromised account could not be locked out, and there was no
-- sign-out. Now:
--   * users.active: an admin disables or enables an account (PATCH /users/{id} {"active": false});
--     a disabled account cannot sign in (api.login answers NULL, as for a wrong password: no
--     account enumeration) and its tokens are refused.
--   * users.token_version: the session epoch. A session token (POST /auth/login) carries the
--     version it was issued at (claim "ver"); the service accepts it only while the account
--     exists, is active and still has that version. The version is bumped by the BEFORE trigger
--     users_session_guard whenever role, active or password_hash change (whoever changes them:
--     the API, api.bootstrap_admin or a DBA in psql), and by api.logout (POST /auth/logout: every
--     session of the account ends).
--   * the last active admin cannot be demoted, disabled or deleted (55000, HTTP 409): the shop
--     cannot lock itself out. Concurrent demotions serialise on an advisory lock, so two admins
--     demoting each other at once cannot both succeed.
--   * NOTIFY techmart_sessions {id, token_version, role, active} (or {id, deleted}; {all} after a
--     TRUNCATE) after every change of version, role or active: the service drops the account from
--     its cache at once and closes the account's live streams (api/src/sessions.h).
--   * api.session_state(id) -> (token_version, role, active): what the service caches;
--     api.change_password(id, {current_password, new_password}) for POST /users/me/password.
BEGIN;

ALTER TABLE users
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN token_version bigint NOT NULL DEFAULT 1 CHECK (token_version > 0);
COMMENT ON COLUMN users.active IS
  'false: the account is disabled (cannot sign in, its tokens are refused); PATCH /api/v1/users/{id}';
COMMENT ON COLUMN users.token_version IS
  'Session epoch: a session token carries the version it was issued at and is refused once it changed; bumped by a change of role, active or password (trigger users_session_guard) and by api.logout';

-- ------------------------------------------------------------------ triggers
-- BEFORE UPDATE OF role, active, password_hash / BEFORE DELETE: the last active admin stays; a
-- change of role, active or password ends the account's sessions (token_version + 1).
CREATE FUNCTION api._users_session_guard()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.role = 'admin' AND OLD.active
     AND (TG_OP = 'DELETE' OR NOT (NEW.role = 'admin' AND NEW.active)) THEN
    -- one demotion at a time: the check below then sees the demotions committed before it
    PERFORM pg_advisory_xact_lock(hashtextextended('techmart.users.last_admin', 0));
    IF NOT EXISTS (SELECT FROM public.users u WHERE u.role = 'admin' AND u.active AND u.id <> OLD.id) THEN
      RAISE EXCEPTION 'the last active admin cannot be demoted, disabled or deleted'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('user %s is the only active admin', OLD.id),
              HINT = 'Make another account an active admin first.';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF (NEW.role, NEW.active, NEW.password_hash) IS DISTINCT FROM (OLD.role, OLD.active, OLD.password_hash)
     AND NEW.token_version = OLD.token_version THEN
    NEW.token_version := OLD.token_version + 1;
  END IF;
  RETURN NEW;
END $$;
COMMENT ON FUNCTION api._users_session_guard() IS
  'Trigger users_session_guard / users_last_admin: refuses (55000) to demote, disable or delete the last active admin; bumps token_version when role, active or password_hash change';

CREATE TRIGGER users_session_guard
  BEFORE UPDATE OF role, active, password_hash ON users
  FOR EACH ROW EXECUTE FUNCTION api._users_session_guard();
CREATE TRIGGER users_last_admin
  BEFORE DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION api._users_session_guard();

-- AFTER UPDATE (session state changed) / DELETE / TRUNCATE: NOTIFY techmart_sessions (sent at commit)
CREATE FUNCTION api._users_session_notify()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('techmart_sessions', '{"all":true}');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('techmart_sessions', json_build_object('id', OLD.id, 'deleted', true)::text);
  ELSE
    PERFORM pg_notify('techmart_sessions', json_build_object(
      'id', NEW.id, 'token_version', NEW.token_version, 'role', NEW.role, 'active', NEW.active)::text);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION api._users_session_notify() IS
  'Triggers users_session_notify*: NOTIFY techmart_sessions with the account''s new session state ({id, token_version, role, active}, {id, deleted} or {all}); the REST service drops it from its cache and closes its live streams';

CREATE TRIGGER users_session_notify
  AFTER UPDATE ON users
  FOR EACH ROW
  WHEN ((OLD.token_version, OLD.role, OLD.active) IS DISTINCT FROM (NEW.token_version, NEW.role, NEW.active))
  EXECUTE FUNCTION api._users_session_notify();
CREATE TRIGGER users_session_notify_delete
  AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION api._users_session_notify();
CREATE TRIGGER users_session_notify_truncate
  AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION api._users_session_notify();

-- ------------------------------------------------------------------ functions
-- the user as the API shows it: with active (not the version)
CREATE OR REPLACE FUNCTION api.user_json(u users)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email, 'username', u.username, 'role', u.role,
                            'verified', u.verified, 'active', u.active, 'created_at', u.created_at,
                            'last_login_at', u.last_login_at)
$$;

-- What the service checks a session token against (and caches): no row for an unknown account.
CREATE FUNCTION api.session_state(p_id bigint)
RETURNS TABLE (token_version bigint, role text, active boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT u.token_version, u.role, u.active FROM users u WHERE u.id = p_id;
END $$;
COMMENT ON FUNCTION api.session_state(bigint) IS
  'The session state of an account (token_version, role, active), no row when it does not exist: a session token is accepted while the account exists, is active and has the token''s version (cached by the service, invalidated by NOTIFY techmart_sessions)';

-- POST /auth/login {email, password} -> {"user": ..., "token_version": n} on success,
-- {"error": "unverified"} for a correct password of an unverified account, NULL for wrong
-- credentials or a disabled account (the same answer: no account enumeration). An unknown e-mail
-- costs the same bcrypt work as a wrong password (no enumeration by timing either).
CREATE OR REPLACE FUNCTION api.login(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb;
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['email', 'password'])
       || api._check_text(p, 'email', true, 254)
       || api._check_text(p, 'password', true, 200);
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid login'); END IF;
  SELECT * INTO v_row FROM users WHERE lower(email) = lower(p->>'email');
  IF NOT FOUND THEN
    PERFORM crypt(p->>'password', '$2a$10$abcdefghijklmnopqrstuuMzT5hX4b1S0ZpXo6NWbGvPzQ6cGhZ2y');
    RETURN NULL;
  END IF;
  IF v_row.password_hash IS DISTINCT FROM crypt(p->>'password', v_row.password_hash) THEN
    RETURN NULL;
  END IF;
  IF NOT v_row.active THEN
    RETURN NULL;
  END IF;
  IF NOT v_row.verified THEN
    RETURN jsonb_build_object('error', 'unverified');
  END IF;
  UPDATE users SET last_login_at = now() WHERE id = v_row.id RETURNING * INTO v_row;
  RETURN jsonb_build_object('user', api.user_json(v_row), 'token_version', v_row.token_version);
END $$;
COMMENT ON FUNCTION api.login(jsonb) IS
  'POST /api/v1/auth/login: {user, token_version} | {error:"unverified"} | NULL (wrong credentials or a disabled account); the service signs the JWT with the version';

-- PATCH /users/{id} {role, verified, active} (admin). A change of role or active ends the
-- account's sessions (users_session_guard); the last active admin stays (55000 -> 409).
CREATE OR REPLACE FUNCTION api.update_user(p_id bigint, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb;
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['role', 'verified', 'active'])
       || api._check_text(p, 'role', false, 20, '^(admin|analyst|viewer)$', 'must be one of admin, analyst, viewer')
       || api._err('verified', CASE WHEN p ? 'verified' AND jsonb_typeof(p->'verified') <> 'boolean'
                                    THEN 'must be true or false' END)
       || api._err('active', CASE WHEN p ? 'active' AND jsonb_typeof(p->'active') <> 'boolean'
                                  THEN 'must be true or false' END);
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid user update'); END IF;
  UPDATE users SET role = coalesce(p->>'role', role),
                   verified = coalesce((p->>'verified')::boolean, verified),
                   active = coalesce((p->>'active')::boolean, active), updated_at = now()
   WHERE id = p_id RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN api.user_json(v_row);
END $$;
COMMENT ON FUNCTION api.update_user(bigint, jsonb) IS
  'PATCH /api/v1/users/{id} (admin): role, verified, active; a change of role or active ends the account''s sessions; the last active admin cannot be demoted or disabled (55000); NULL when absent';

-- POST /auth/logout: every session of the account ends (token_version + 1). false: no such account.
CREATE FUNCTION api.logout(p_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE users SET token_version = token_version + 1, updated_at = now() WHERE id = p_id;
  RETURN FOUND;
END $$;
COMMENT ON FUNCTION api.logout(bigint) IS
  'POST /api/v1/auth/logout: ends every session of the account (token_version + 1); false when it does not exist';

-- POST /users/me/password {current_password, new_password} -> {user, token_version}; NULL for an
-- unknown or disabled account. A wrong current password is 22023 (field current_password). The
-- new password ends every other session (users_session_guard); the service signs a new token.
CREATE FUNCTION api.change_password(p_id bigint, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb;
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['current_password', 'new_password'])
       || api._check_text(p, 'current_password', true, 200)
       || api._err('new_password', CASE
            WHEN p->'new_password' IS NULL OR jsonb_typeof(p->'new_password') = 'null' THEN 'is required'
            WHEN jsonb_typeof(p->'new_password') <> 'string' THEN 'must be a string'
            WHEN length(p->>'new_password') < 10 THEN 'must be at least 10 characters'
            WHEN octet_length(p->>'new_password') > 72 THEN 'must be at most 72 bytes (bcrypt)'
            WHEN p->>'new_password' = p->>'current_password' THEN 'must differ from the current password'
          END);
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid password change'); END IF;
  SELECT * INTO v_row FROM users WHERE id = p_id AND active FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF v_row.password_hash IS DISTINCT FROM crypt(p->>'current_password', v_row.password_hash) THEN
    PERFORM api.raise_invalid('[{"field":"current_password","message":"is wrong"}]', 'invalid password change');
  END IF;
  UPDATE users SET password_hash = crypt(p->>'new_password', gen_salt('bf', 10)), updated_at = now()
   WHERE id = p_id RETURNING * INTO v_row;
  RETURN jsonb_build_object('user', api.user_json(v_row), 'token_version', v_row.token_version);
END $$;
COMMENT ON FUNCTION api.change_password(bigint, jsonb) IS
  'POST /api/v1/users/me/password: {user, token_version} after checking the current password (22023 current_password when wrong); every other session ends; NULL for an unknown or disabled account';

-- Local development and recovery (psql, not granted to the service): create (or keep) the admin
-- account; a disabled one is enabled again (the way back in for a DBA).
CREATE OR REPLACE FUNCTION api.bootstrap_admin(p_email text, p_password text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row users;
BEGIN
  SELECT * INTO v_row FROM users WHERE lower(email) = lower(p_email);
  IF FOUND THEN
    UPDATE users SET role = 'admin', verified = true, active = true, updated_at = now() WHERE id = v_row.id
    RETURNING * INTO v_row;
    RETURN api.user_json(v_row) || '{"created":false}';
  END IF;
  IF length(p_password) < 10 THEN
    PERFORM api.raise_invalid('[{"field":"password","message":"must be at least 10 characters"}]');
  END IF;
  INSERT INTO users (email, username, password_hash, role, verified)
  VALUES (p_email, left(regexp_replace(split_part(p_email, '@', 1), '[^A-Za-z0-9_.-]', '_', 'g') || '_admin', 40),
          crypt(p_password, gen_salt('bf', 10)), 'admin', true)
  RETURNING * INTO v_row;
  RETURN api.user_json(v_row) || '{"created":true}';
END $$;

REVOKE EXECUTE ON FUNCTION api.session_state(bigint), api.logout(bigint), api.change_password(bigint, jsonb),
  api._users_session_guard(), api._users_session_notify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.session_state(bigint), api.logout(bigint), api.change_password(bigint, jsonb)
  TO techmart_api;

COMMIT;
