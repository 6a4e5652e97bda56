-- Revert techmart:fraud_alerts_fk from pg
BEGIN;
ALTER TABLE alerts ALTER CONSTRAINT alerts_transaction_id_fkey NOT DEFERRABLE INITIALLY IMMEDIATE;
COMMIT;
