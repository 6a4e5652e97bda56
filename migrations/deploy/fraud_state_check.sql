-- Deploy techmart:fraud_state_check to pg
-- requires: fraud_engine
--
-- techmart 0.3: the six CHECK constraints of techmart.customer_state become one call of
-- techmart.customer_state_valid() with the same rules (sql/upgrades/0.2--0.3). The fraud engine
-- writes the state back once per statement; PostgreSQL re-reads and plans every CHECK of the
-- table in each such executor, which cost more than the update itself for single-row INSERTs
-- (bench/RESULTS.md, "Fraud engine"). A fresh database already has 0.3 (CREATE EXTENSION in
-- `extensions`): then this is a no-op.
BEGIN;

ALTER EXTENSION techmart UPDATE TO '0.3';

COMMIT;
