-- Revert techmart:shadow_scores_deleted from pg
-- techmart 0.5 (sql/downgrades/techmart--0.6--0.5.sql): shadow scores are kept when their
-- transaction is deleted
BEGIN;

DELETE FROM techmart_ops.transaction_refs WHERE tbl = 'techmart.shadow_scores'::regclass AND col = 'transaction_id';
DROP TRIGGER transactions_shadow_del ON public.transactions;
DROP TRIGGER transactions_shadow_trunc ON public.transactions;

SET LOCAL client_min_messages = warning;
ALTER EXTENSION techmart UPDATE TO '0.5';

COMMIT;
