-- Deploy techmart:api_hardening to pg
-- requires: api_endpoints
--
-- ALTER DEFAULT PRIVILEGES IN SCHEMA ... REVOKE cannot take away the global default EXECUTE
-- of PUBLIC on new functions, so the functions of api_auth/api_live/api_endpoints were still
-- executable by PUBLIC (and so by techmart_api). Revoke it for every function of the schema
-- and keep only the explicit grants to techmart_api. Every later change that adds an api
-- function must end with the same REVOKE (tests/sql/api_security.sql checks it).
BEGIN;

-- GET /transactions/export validates its filters before COPY starts (errors raised inside COPY
-- would only surface after the 200 status line is sent)
CREATE FUNCTION api.check_transaction_filters(p jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM api._tx_check(p);
  RETURN true;
END $$;
COMMENT ON FUNCTION api.check_transaction_filters(jsonb) IS
  'GET /api/v1/transactions/export: 22023 with field errors for invalid filters, else true';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.check_transaction_filters(jsonb) TO techmart_api;

COMMIT;
