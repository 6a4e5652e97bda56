-- Revert techmart:api_hardening
BEGIN;
DROP FUNCTION api.check_transaction_filters(jsonb);
COMMIT;
