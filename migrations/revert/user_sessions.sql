-- Revert techmart:user_sessions from pg
-- api.user_json, api.login, api.update_user and api.bootstrap_admin as api_auth defined them
BEGIN;

DROP FUNCTION api.change_password(bigint, jsonb);
DROP FUNCTION api.logout(bigint);
DROP FUNCTION api.session_state(bigint);

DROP TRIGGER users_session_notify_truncate ON users;
DROP TRIGGER users_session_notify_delete ON users;
DROP TRIGGER users_session_notify ON users;
DROP TRIGGER users_last_admin ON users;
DROP TRIGGER users_session_guard ON users;
DROP FUNCTION api._users_session_notify();
DROP FUNCTION api._users_session_guard();

CREATE OR REPLACE FUNCTION api.user_json(u users)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email, 'username', u.username, 'role', u.role,
                            'verified', u.verified, 'created_at', u.created_at,
                            'last_login_at', u.last_login_at)
$$;

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
  IF NOT v_row.verified THEN
    RETURN jsonb_build_object('error', 'unverified');
  END IF;
  UPDATE users SET last_login_at = now() WHERE id = v_row.id RETURNING * INTO v_row;
  RETURN jsonb_build_object('user', api.user_json(v_row));
END $$;
COMMENT ON FUNCTION api.login(jsonb) IS
  'POST /api/v1/auth/login: {user} | {error:"unverified"} | NULL (wrong credentials); the service signs the JWT';

CREATE OR REPLACE FUNCTION api.update_user(p_id bigint, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb;
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['role', 'verified'])
       || api._check_text(p, 'role', false, 20, '^(admin|analyst|viewer)$', 'must be one of admin, analyst, viewer')
       || api._err('verified', CASE WHEN p ? 'verified' AND jsonb_typeof(p->'verified') <> 'boolean'
                                    THEN 'must be true or false' END);
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid user update'); END IF;
  UPDATE users SET role = coalesce(p->>'role', role),
                   verified = coalesce((p->>'verified')::boolean, verified), updated_at = now()
   WHERE id = p_id RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN api.user_json(v_row);
END $$;
COMMENT ON FUNCTION api.update_user(bigint, jsonb) IS NULL;

CREATE OR REPLACE FUNCTION api.bootstrap_admin(p_email text, p_password text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row users;
BEGIN
  SELECT * INTO v_row FROM users WHERE lower(email) = lower(p_email);
  IF FOUND THEN
    UPDATE users SET role = 'admin', verified = true, updated_at = now() WHERE id = v_row.id
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

ALTER TABLE users DROP COLUMN token_version, DROP COLUMN active;

COMMIT;
