-- Revert techmart:customers_spent from pg
BEGIN;

DROP TRIGGER transactions_spent_ins ON transactions;
DROP TRIGGER transactions_spent_upd ON transactions;
DROP TRIGGER transactions_spent_del ON transactions;
DROP TRIGGER transactions_spent_trunc ON transactions;
DROP FUNCTION analytics.customers_spent_insert_trigger();
DROP FUNCTION analytics.customers_spent_update_trigger();
DROP FUNCTION analytics.customers_spent_delete_trigger();
DROP FUNCTION analytics.customers_spent_truncate_trigger();
DROP FUNCTION analytics.customers_spent_check();
DROP FUNCTION analytics.customers_spent_rebuild();
DROP FUNCTION analytics.line_spend(text, text, numeric);
COMMENT ON COLUMN customers.total_spent IS NULL;
COMMENT ON COLUMN bi.customers.total_spent IS
  'Net spend (completed sales minus refunds) as set by the seed load or the last Online Retail import; not updated when '
  'transactions arrive: sum bi.transactions for the current figure';

COMMIT;
