-- Revert techmart:fraud_state_writes from pg
-- techmart 0.7 (sql/downgrades/techmart--0.8--0.7.sql): the state keeps deleted rows and old values
-- until techmart.rebuild_state() again
BEGIN;

DROP TRIGGER transactions_fraud_state_del ON public.transactions;
DROP TRIGGER transactions_fraud_state_upd ON public.transactions;
DROP TRIGGER transactions_fraud_state_trunc ON public.transactions;
SET LOCAL client_min_messages = warning;
ALTER EXTENSION techmart UPDATE TO '0.7';

COMMIT;
