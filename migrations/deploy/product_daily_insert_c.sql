-- Deploy techmart:product_daily_insert_c to pg
-- requires: product_sales_daily
--
-- The INSERT/COPY upkeep of the per-product daily rollup (analytics.product_daily, product_units_hourly) in C
-- (extension/pg/daily_insert.cpp): analytics.product_daily_insert_trigger() reads the transition table directly, sums
-- the statement's lines per (UTC day, product) and groups its completed lines with an order number per (order,
-- product, UTC hour) in sorted arrays, probes those groups' completed lines now (one probe of transactions_order_idx
-- each, as before) and upserts the (day, product) and (hour, product) rows in that order, as saved plans over
-- arrays. analytics.product_daily_trigger() (PL/pgSQL) ran, for every multi-row INSERT, a statement of CTEs planned
-- again on every call (a materialised scan of the transition table, three aggregates, a hash join, a sort) and, for
-- a single-row INSERT, statements of variables. Same figures (analytics.product_daily_check()); UPDATE, DELETE and
-- TRUNCATE keep analytics.product_daily_trigger(). Declared here, not by the extension script (the extension's
-- version is left alone), like the customers_spent triggers of change customers_spent_c.
BEGIN;

CREATE FUNCTION analytics.product_daily_insert_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_product_daily_insert'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.product_daily_insert_trigger() IS
  'Statement trigger of INSERT/COPY on transactions (transactions_sales_daily_ins): adds the statement''s lines to '
  'analytics.product_daily and product_units_hourly (C, change product_daily_insert_c; the figures of '
  'analytics.product_daily_trigger)';
REVOKE EXECUTE ON FUNCTION analytics.product_daily_insert_trigger() FROM PUBLIC;

-- the same trigger (name, hence firing order after transactions_rollup_ins; enabled), another function
CREATE OR REPLACE TRIGGER transactions_sales_daily_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_insert_trigger();

COMMIT;
