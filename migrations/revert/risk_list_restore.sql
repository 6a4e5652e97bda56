-- Revert techmart:risk_list_restore from pg
-- techmart 0.4 (sql/downgrades/techmart--0.5--0.4.sql): no replacing INSERT on risk_list
BEGIN;

SET LOCAL client_min_messages = warning;
ALTER EXTENSION techmart UPDATE TO '0.4';

COMMIT;
