-- Revert techmart:api_live
BEGIN;
DROP TRIGGER transactions_notify ON transactions;
DROP TRIGGER alerts_notify ON alerts;
DROP FUNCTION api.notify_transactions(), api.notify_alert(), api.stream_replay(bigint, bigint, integer),
  api.alert_event(alerts), api.transaction_event(bigint, numeric, numeric, boolean, bigint, timestamptz),
  api.purge_idempotency_keys(), api.create_transaction_idempotent(text, text, jsonb);
DROP TABLE idempotency_keys;
COMMIT;
