-- Revert techmart:api_transaction_actor from pg
BEGIN;

DROP FUNCTION api.create_transaction_idempotent(text, text, jsonb, text);
DROP FUNCTION api.create_transaction(jsonb, text);

COMMIT;
