-- Revert techmart:customers_rfm_seqscan from pg
-- the plans as the planner chooses them
BEGIN;

ALTER FUNCTION api.customers_segments(timestamptz) RESET enable_indexscan;
ALTER FUNCTION api.customers_rfm(timestamptz, text, integer) RESET enable_indexscan;
ALTER FUNCTION api.customers_lifetime_value(timestamptz, integer, integer) RESET enable_indexscan;

COMMIT;
