-- Deploy techmart:customers_spent_c to pg
-- requires: customers_spent
--
-- customers.total_spent upkeep in C (extension/pg/spent_trigger.cpp): the three statement trigger
-- functions of change customers_spent keep their names, triggers and results, but read the
-- transition tables directly and keep the per-customer sums in a sorted array, instead of a GROUP BY
-- query and one UPDATE statement per customer from PL/pgSQL (~22 us each: a tenth of a bulk load's
-- time, bench/RESULTS.md). Up to 8 customers: a saved UPDATE ... WHERE id = $1 each, in id order;
-- more: one UPDATE customers ... FROM unnest(ids, deltas), planned with hash and merge joins,
-- sequential and bitmap scans off — a nested loop from the sorted ids into customers_pkey. Lock order
-- stays customer-id order either way. The TRUNCATE trigger is unchanged.
-- The C function is declared here, not in the extension script (the extension's version stays).
BEGIN;

CREATE OR REPLACE FUNCTION analytics.customers_spent_insert_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_customers_spent_statement'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.customers_spent_insert_trigger() IS
  'Statement trigger of INSERT/COPY on transactions: adds the statement''s net spend per customer to customers.total_spent '
  '(C: one UPDATE in customer-id order)';

CREATE OR REPLACE FUNCTION analytics.customers_spent_update_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_customers_spent_statement'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.customers_spent_update_trigger() IS
  'Statement trigger of UPDATE on transactions: the net spend of the new line versions minus the old ones, per customer, '
  'added to customers.total_spent (status, amount, kind or customer changes; nothing for other columns; C: one UPDATE in '
  'customer-id order)';

CREATE OR REPLACE FUNCTION analytics.customers_spent_delete_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_customers_spent_statement'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.customers_spent_delete_trigger() IS
  'Statement trigger of DELETE on transactions: subtracts the deleted lines'' net spend per customer from '
  'customers.total_spent (C: one UPDATE in customer-id order)';

COMMIT;
