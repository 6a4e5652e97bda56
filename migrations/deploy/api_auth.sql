-- Deploy techmart:api_auth to pg
-- requires: api_v1
--
-- Accounts of the REST API (register, verify e-mail, login, me) and the least-privilege
-- database role of the service.
--
-- Least privilege: the service connects as `techmart_api` (LOGIN, no other rights). It may
-- only EXECUTE the endpoint functions of schema `api`; it has no privilege on any table. The
-- endpoint functions are SECURITY DEFINER, owned by the migration owner, with a fixed
-- `search_path = public, pg_temp` (pg_temp last: a temporary object can never shadow a table).
-- This was chosen over table grants because (a) the service then cannot run any SQL except
-- the published functions, even if it were compromised, (b) the functions already validate
-- every input, so they are the only door, and (c) grants on tables would have to follow
-- every column the functions touch. Helper functions (api._*, api.transaction_json,
-- api.raise_invalid) are not granted: they run only inside the definer functions.
--
-- Every new endpoint function must be declared SECURITY DEFINER SET search_path = public,
-- pg_temp and GRANTed EXECUTE to techmart_api (tests/sql/api_security.sql checks this).
BEGIN;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'techmart_api') THEN
    CREATE ROLE techmart_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
  END IF;
END $$;
COMMENT ON ROLE techmart_api IS 'The REST service: may only execute the endpoint functions of schema api';

GRANT USAGE ON SCHEMA api TO techmart_api;
-- functions are executable by PUBLIC by default: not in this schema
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA api REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- the endpoint functions of api_v1 become definer functions with a fixed search_path
ALTER FUNCTION api.health() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION api.get_transaction(bigint) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION api.recent_transactions(integer) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION api.create_transaction(jsonb) SECURITY DEFINER SET search_path = public, pg_temp;
GRANT EXECUTE ON FUNCTION api.health(), api.get_transaction(bigint), api.recent_transactions(integer),
  api.create_transaction(jsonb) TO techmart_api;

-- ------------------------------------------------------------------ helpers
-- [] when msg is NULL, else [{field, message}]
CREATE FUNCTION api._err(p_field text, p_msg text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_msg IS NULL THEN '[]'::jsonb
              ELSE jsonb_build_array(jsonb_build_object('field', p_field, 'message', p_msg)) END
$$;

-- error message when p->k is present and not a string of 1..maxlen characters matching re
CREATE FUNCTION api._check_text(p jsonb, k text, required boolean, maxlen integer DEFAULT 200,
                                re text DEFAULT NULL, re_msg text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._err(k, CASE
    WHEN p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN CASE WHEN required THEN 'is required' END
    WHEN jsonb_typeof(p->k) <> 'string' THEN 'must be a string'
    WHEN btrim(p->>k) = '' THEN 'must not be empty'
    WHEN length(p->>k) > maxlen THEN 'must be at most ' || maxlen || ' characters'
    WHEN re IS NOT NULL AND p->>k !~ re THEN coalesce(re_msg, 'has an invalid format')
  END)
$$;

-- keys of p not in allowed -> errors
CREATE FUNCTION api._check_keys(p jsonb, allowed text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('field', k, 'message', 'is not a known field') ORDER BY k), '[]')
    FROM jsonb_object_keys(p) k WHERE NOT k = ANY (allowed)
$$;

CREATE FUNCTION api._require_object(p jsonb)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN
    PERFORM api.raise_invalid('[{"field":"","message":"body must be a JSON object"}]');
  END IF;
END $$;

CREATE FUNCTION api.user_json(u users)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email, 'username', u.username, 'role', u.role,
                            'verified', u.verified, 'created_at', u.created_at,
                            'last_login_at', u.last_login_at)
$$;

-- --------------------------------------------------------------- endpoints
-- POST /auth/register -> {user, verification_token}. The token is for the mail sender (the
-- service logs it in development and never returns it over HTTP). New accounts are viewers.
CREATE FUNCTION api.register(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs  jsonb;
  v_tok text := encode(gen_random_bytes(24), 'hex');
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['email', 'username', 'password'])
       || api._check_text(p, 'email', true, 254, '^[^@\s]+@[^@\s]+\.[^@\s]+$', 'must be an e-mail address')
       || api._check_text(p, 'username', true, 40, '^[A-Za-z0-9_.-]{3,40}$',
                          'must be 3 to 40 characters of A-Z, a-z, 0-9, _, . and -')
       || api._err('password', CASE
            WHEN p->'password' IS NULL OR jsonb_typeof(p->'password') = 'null' THEN 'is required'
            WHEN jsonb_typeof(p->'password') <> 'string' THEN 'must be a string'
            WHEN length(p->>'password') < 10 THEN 'must be at least 10 characters'
            WHEN octet_length(p->>'password') > 72 THEN 'must be at most 72 bytes (bcrypt)'
          END);
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid registration'); END IF;
  BEGIN
    INSERT INTO users (email, username, password_hash, role, verified, verification_token)
    VALUES (p->>'email', p->>'username', crypt(p->>'password', gen_salt('bf', 10)), 'viewer', false,
            encode(digest(v_tok, 'sha256'), 'hex'))
    RETURNING * INTO v_row;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION USING ERRCODE = 'unique_violation',
      MESSAGE = 'an account with this e-mail address or username already exists';
  END;
  RETURN jsonb_build_object('user', api.user_json(v_row), 'verification_token', v_tok);
END $$;
COMMENT ON FUNCTION api.register(jsonb) IS
  'POST /api/v1/auth/register: new viewer account; returns {user, verification_token} (the token is stored hashed)';

-- POST /auth/verify-email {token} -> the user, or NULL for an unknown token
CREATE FUNCTION api.verify_email(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  errs jsonb;
  v_row users;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['token'])
       || api._check_text(p, 'token', true, 200, '^[0-9a-f]{48}$', 'must be the token from the verification mail');
  IF jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, 'invalid verification'); END IF;
  UPDATE users SET verified = true, verification_token = NULL, updated_at = now()
   WHERE verification_token = encode(digest(p->>'token', 'sha256'), 'hex')
  RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN api.user_json(v_row);
END $$;
COMMENT ON FUNCTION api.verify_email(jsonb) IS 'POST /api/v1/auth/verify-email: NULL for an unknown token';

-- POST /auth/login {email, password} -> {"user": ...} on success, {"error": "unverified"} for a
-- correct password of an unverified account, NULL for wrong credentials. An unknown e-mail costs
-- the same bcrypt work as a wrong password (no account enumeration by timing).
CREATE FUNCTION api.login(p jsonb)
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

-- GET /users/me
CREATE FUNCTION api.get_user(p_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.user_json(u) FROM users u WHERE u.id = p_id
$$;
COMMENT ON FUNCTION api.get_user(bigint) IS 'GET /api/v1/users/me; NULL when absent';

-- GET /users (admin)
CREATE FUNCTION api.list_users()
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(api.user_json(u) ORDER BY u.id), '[]'),
                            'total', count(*))
    FROM users u
$$;

-- PATCH /users/{id} {role} (admin)
CREATE FUNCTION api.update_user(p_id bigint, p jsonb)
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

-- Local development: create (or keep) the admin account. Not granted to the service.
CREATE FUNCTION api.bootstrap_admin(p_email text, p_password text)
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

GRANT EXECUTE ON FUNCTION api.register(jsonb), api.verify_email(jsonb), api.login(jsonb),
  api.get_user(bigint), api.list_users(), api.update_user(bigint, jsonb) TO techmart_api;

COMMIT;
