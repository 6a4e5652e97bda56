-- Deploy techmart:sales_totals_rows to pg
-- requires: overview_rollups
--
-- analytics.sales_totals returns one row (the totals of a range) but was declared with the default estimate of a
-- set-returning function, 1,000 rows. analytics.compare_periods (GET /analytics/revenue/compare) joins two of them and
-- the eight metrics: the planner estimated 8,000,000 rows at a cost of 3.3 million, far above jit_above_cost, and
-- JIT-compiled the query — with inlining and optimisation — on every call: 64-75 ms for what takes 1.5-2.1 ms without
-- it, at 50,000 and at 5,000,000 transactions (bench/RESULTS.md, "The GET endpoints at 5,000,000 transactions").
-- ROWS 1: the estimate is 8 rows and nothing is compiled. Same answers.
BEGIN;

ALTER FUNCTION analytics.sales_totals(timestamptz, timestamptz, text, text) ROWS 1;

COMMIT;
