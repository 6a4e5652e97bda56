-- Deploy techmart:customer_months_insert_c to pg
-- requires: customer_months_bulk
--
-- The INSERT/COPY upkeep of the per-customer monthly rollups (analytics.customer_months, customer_totals,
-- customer_order_spans) in C (extension/pg/months_insert.cpp): the trigger function reads the transition table
-- directly and sums the statement's counted lines per (customer, UTC month) and per order in sorted arrays, then runs
-- the statements of analytics.customer_months_add (change customer_months_bulk) as saved plans over arrays: the
-- customers locked in id order, one probe of transactions_order_idx per order (its months now), the month rows, the
-- spans, the totals upserted by deltas. The PL/pgSQL trigger built six arrays with array_agg, and
-- customer_months_add unnested them and aggregated them three times (hash aggregates, a sort, a union): ~90 ms of a
-- 10,000-line INSERT ... SELECT. Same figures (analytics.customer_months_check()); the UPDATE, DELETE and TRUNCATE
-- triggers are unchanged; analytics.customer_months_add stays (same results, for callers with arrays).
-- Declared here, not by the extension script (the extension's version is left alone), like the customers_spent
-- triggers of change customers_spent_c.
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customer_months_insert_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_customer_months_insert'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, public;
COMMENT ON FUNCTION analytics.customer_months_insert_trigger() IS
  'Statement trigger of INSERT/COPY on transactions (transactions_months_ins): adds the statement''s completed lines and '
  'refund rows to analytics.customer_months, customer_totals and customer_order_spans after locking their customers in '
  'id order (C, change customer_months_insert_c; the same deltas as analytics.customer_months_add)';

COMMIT;
