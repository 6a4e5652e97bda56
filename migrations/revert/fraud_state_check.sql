-- Revert techmart:fraud_state_check from pg: back to the six CHECK constraints of techmart 0.2
-- (sql/downgrades/techmart--0.3--0.2.sql).
BEGIN;

ALTER EXTENSION techmart UPDATE TO '0.2';

COMMIT;
