-- Revert techmart:api_v1
BEGIN;
DROP SCHEMA IF EXISTS api CASCADE;
COMMIT;
