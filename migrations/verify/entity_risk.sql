-- Verify techmart:entity_risk on pg
SELECT 1 / count(*) FROM pg_trigger
 WHERE tgrelid = 'public.transaction_labels'::regclass AND tgname = 'transaction_labels_entity_counts';
SELECT 1 / count(*) FROM pg_trigger
 WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_entity_counts';
SELECT 1 / (position('labelled_at' IN pg_get_functiondef('api.update_transaction(bigint, jsonb, text)'::regprocedure)) > 0)::int;
