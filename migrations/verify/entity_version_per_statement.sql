-- Verify techmart:entity_version_per_statement on pg
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transaction_labels_entity_version' AND tgrelid = 'transaction_labels'::regclass;
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transactions_entity_version' AND tgrelid = 'transactions'::regclass;
