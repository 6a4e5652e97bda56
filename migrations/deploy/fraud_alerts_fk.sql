-- Deploy techmart:fraud_alerts_fk to pg
-- requires: fraud_engine
--
-- alerts.transaction_id -> transactions(id) becomes DEFERRABLE (still INITIALLY IMMEDIATE).
-- The fraud engine inserts a suspicious row's alert in the same transaction as the row: with the
-- statement trigger attached, after the rows exist; but on a transactions table whose
-- score_transaction_flush() trigger is disabled (write-through mode, e.g. bench/rollups) from the
-- BEFORE ROW trigger, before the row itself is inserted: the immediate check then failed every
-- INSERT that produced a suspicious row (23503 on alerts). In that mode the engine now runs
-- SET CONSTRAINTS ... DEFERRED for its transaction: the check still runs (at COMMIT), an alert
-- can never survive without its transaction, and a rolled-back insert leaves no alert.
BEGIN;

ALTER TABLE alerts ALTER CONSTRAINT alerts_transaction_id_fkey DEFERRABLE INITIALLY IMMEDIATE;

COMMIT;
