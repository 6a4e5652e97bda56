-- Revert techmart:api_auth
-- The role techmart_api is cluster-wide and may hold privileges in other databases: it is left
-- in place (DROP ROLE techmart_api by hand once no database uses it).
BEGIN;
DROP FUNCTION api.register(jsonb), api.verify_email(jsonb), api.login(jsonb), api.get_user(bigint),
  api.list_users(), api.update_user(bigint, jsonb), api.bootstrap_admin(text, text), api.user_json(users),
  api._require_object(jsonb), api._check_keys(jsonb, text[]),
  api._check_text(jsonb, text, boolean, integer, text, text), api._err(text, text);
ALTER FUNCTION api.health() SECURITY INVOKER RESET ALL;
ALTER FUNCTION api.get_transaction(bigint) SECURITY INVOKER RESET ALL;
ALTER FUNCTION api.recent_transactions(integer) SECURITY INVOKER RESET ALL;
ALTER FUNCTION api.create_transaction(jsonb) SECURITY INVOKER RESET ALL;
ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM techmart_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO PUBLIC;
REVOKE USAGE ON SCHEMA api FROM techmart_api;
COMMIT;
