-- Verify techmart:labels_current_lock_order on pg
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transaction_labels_lock_transaction' AND tgrelid = 'transaction_labels'::regclass;
