-- Verify techmart:labels_current on pg
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transaction_labels_current_ins' AND tgrelid = 'transaction_labels'::regclass;
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transaction_labels_current_trunc' AND tgrelid = 'transaction_labels'::regclass;
SELECT techmart_ops.labels_sync(NULL);
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transaction_labels_lock_transaction' AND tgrelid = 'transaction_labels'::regclass;
