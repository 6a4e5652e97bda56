-- Revert techmart:user_sessions_verified from pg
-- the functions and triggers of change user_sessions: a session checks active and the version only
BEGIN;

CREATE OR REPLACE FUNCTION api._users_session_guard()
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

DROP TRIGGER users_session_guard ON users;
CREATE TRIGGER users_session_guard
  BEFORE UPDATE OF role, active, password_hash ON users
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
      'id', NEW.id, 'token_version', NEW.token_version, 'role', NEW.role, 'active', NEW.active)::text);
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION api._users_session_notify() IS
  'Triggers users_session_notify*: NOTIFY techmart_sessions with the account''s new session state ({id, token_version, role, active}, {id, deleted} or {all}); the REST service drops it from its cache and closes its live streams';

DROP TRIGGER users_session_notify ON users;
CREATE TRIGGER users_session_notify
  AFTER UPDATE ON users
  FOR EACH ROW
  WHEN ((OLD.token_version, OLD.role, OLD.active) IS DISTINCT FROM (NEW.token_version, NEW.role, NEW.active))
  EXECUTE FUNCTION api._users_session_notify();

CREATE OR REPLACE FUNCTION api.session_state(p_id bigint)
RETURNS TABLE (token_version bigint, role text, active boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT u.token_version, u.role, u.active FROM users u WHERE u.id = p_id;
END $$;
COMMENT ON FUNCTION api.session_state(bigint) IS
  'The session state of an account (token_version, role, active), no row when it does not exist: a session token is accepted while the account exists, is active and has the token''s version (cached by the service, invalidated by NOTIFY techmart_sessions)';

COMMIT;
