-- Revert techmart:sales_totals_rows from pg
-- the default estimate of a set-returning function
BEGIN;

ALTER FUNCTION analytics.sales_totals(timestamptz, timestamptz, text, text) ROWS 1000;

COMMIT;
