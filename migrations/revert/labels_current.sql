-- Revert techmart:labels_current from pg
BEGIN;
DROP TRIGGER transaction_labels_lock_transaction ON transaction_labels;
DROP TRIGGER transaction_labels_current_trunc ON transaction_labels;
DROP TRIGGER transaction_labels_current_del ON transaction_labels;
DROP TRIGGER transaction_labels_current_upd ON transaction_labels;
DROP TRIGGER transaction_labels_current_ins ON transaction_labels;
DROP FUNCTION techmart_ops.labels_truncated();
DROP FUNCTION techmart_ops.labels_sync_trigger();
DROP FUNCTION techmart_ops.labels_sync(bigint[]);
DROP FUNCTION techmart_ops.labels_lock_transaction();
COMMIT;
