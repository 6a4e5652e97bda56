-- Deploy techmart:fraud_state_writes to pg
-- requires: extension_dump_config (0.7)
--
-- techmart 0.8 (sql/upgrades/0.7--0.8/10-state-writes.sql): the fraud scoring state
-- (techmart.customer_state) and customers.risk_score stay equal to a recomputation from the
-- transactions after a DELETE, an UPDATE of a column the state depends on (customer_id, amount,
-- transaction_time, country, latitude, longitude, payment_method, fraud_score) and a TRUNCATE.
-- Before, they kept the deleted rows and the old values until techmart.rebuild_state(). The
-- statement triggers recompute the affected customers only, under their state rows' locks
-- (techmart.refresh_state); nothing runs on INSERT. Their names sort before transactions_rollup_*,
-- transactions_spent_* and transactions_stock_*, so a DELETE locks a customer's state row before
-- its customers row, in the order of the scoring trigger (state row, then risk_score, then spend).
BEGIN;

SET LOCAL client_min_messages = warning;  -- no NOTICE when it is already 0.8
ALTER EXTENSION techmart UPDATE TO '0.8';

CREATE TRIGGER transactions_fraud_state_del AFTER DELETE ON public.transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.state_delete_trigger();
CREATE TRIGGER transactions_fraud_state_upd AFTER UPDATE ON public.transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.state_update_trigger();
CREATE TRIGGER transactions_fraud_state_trunc AFTER TRUNCATE ON public.transactions
  FOR EACH STATEMENT EXECUTE FUNCTION techmart.state_truncate_trigger();

COMMIT;
