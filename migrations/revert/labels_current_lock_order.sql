-- Revert techmart:labels_current_lock_order from pg
BEGIN;
DROP TRIGGER transaction_labels_lock_transaction ON transaction_labels;
DROP FUNCTION techmart_ops.labels_lock_transaction();
COMMIT;
