-- Revert techmart:fraud_engine from pg
BEGIN;
DROP TRIGGER transactions_score_flush ON transactions;
COMMIT;
