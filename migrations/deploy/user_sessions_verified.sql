-- Deploy techmart:user_sessions_verified to pg
-- requires: user_sessions
--
-- An account set to verified = false could not sign in (api.login answers {"error": "unverified"})
-- but its existing sessions kept working: the session rule checked only active and the version. A
-- session is now accepted under the login's rule, active AND verified:
--   * users_session_guard bumps token_version when verified changes too (every session of the
--     account ends on its next request; users_session_notify tells the service at once);
--   * api.session_state(id) answers active = (active AND verified), and the notification carries
--     the same, so a session of an unverified account never passes, even if the version were kept;
--   * the last usable admin (role admin, active, verified) cannot be set unverified either (55000),
--     as it cannot be demoted, disabled or deleted: nobody could sign in as an admin any more.
BEGIN;

CREATE OR REPLACE FUNCTION api._users_session_guard()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.role = 'admin' AND OLD.active AND OLD.verified
     AND (TG_OP = 'DELETE' OR NOT (NEW.role = 'admin' AND NEW.active AND NEW.verified)) THEN
    -- one demotion at a time: the check below then sees the demotions committed before it
    PERFORM pg_advisory_xact_lock(hashtextextended('techmart.users.last_admin', 0));
    IF NOT EXISTS (SELECT FROM public.users u WHERE u.role = 'admin' AND u.active AND u.verified AND u.id <> OLD.id) THEN
      RAISE EXCEPTION 'the last active admin cannot be demoted, disabled or deleted'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('user %s is the only active, verified admin (setting it unverified counts as disabling it)', OLD.id),
              HINT = 'Make another account an active, verified admin first.';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF (NEW.role, NEW.active, NEW.verified, NEW.password_hash) IS DISTINCT FROM (OLD.role, OLD.active, OLD.verified, OLD.password_hash)
     AND NEW.token_version = OLD.token_version THEN
    NEW.token_version := OLD.token_version + 1;
  END IF;
  RETURN NEW;
END $$;
COMMENT ON FUNCTION api._users_session_guard() IS
  'Trigger users_session_guard / users_last_admin: refuses (55000) to demote, disable, unverify or delete the last active, verified admin; bumps token_version when role, active, verified or password_hash change';

DROP TRIGGER users_session_guard ON users;
CREATE TRIGGER users_session_guard
  BEFORE UPDATE OF role, active, verified, password_hash ON users
  FOR EACH ROW EXECUTE FUNCTION api._users_session_guard();

CREATE OR REPLACE FUNCTION api._users_session_notify()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('techmart_sessions', '{"all":true}');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('techmart_sessions', json_build_object('id', OLD.id, 'deleted', true)::text);
  ELSE
    PERFORM pg_notify('techmart_sessions', json_build_object(
      'id', NEW.id, 'token_version', NEW.token_version, 'role', NEW.role,
      'active', NEW.active AND NEW.verified)::text);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION api._users_session_notify() IS
  'Triggers users_session_notify*: NOTIFY techmart_sessions with the account''s new session state ({id, token_version, role, active}, active = active and verified; {id, deleted} or {all}); the REST service drops it from its cache and closes its live streams';

DROP TRIGGER users_session_notify ON users;
CREATE TRIGGER users_session_notify
  AFTER UPDATE ON users
  FOR EACH ROW
  WHEN ((OLD.token_version, OLD.role, OLD.active, OLD.verified) IS DISTINCT FROM (NEW.token_version, NEW.role, NEW.active, NEW.verified))
  EXECUTE FUNCTION api._users_session_notify();

CREATE OR REPLACE FUNCTION api.session_state(p_id bigint)
RETURNS TABLE (token_version bigint, role text, active boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT u.token_version, u.role, u.active AND u.verified FROM users u WHERE u.id = p_id;
END $$;
COMMENT ON FUNCTION api.session_state(bigint) IS
  'The session state of an account (token_version, role, active = active and verified: the login''s rule), no row when it does not exist: a session token is accepted while the account exists, is active and verified and has the token''s version (cached by the service, invalidated by NOTIFY techmart_sessions)';

COMMIT;
