-- Revert techmart:customers_spent from pg
BEGIN;

-- import.online_retail() as change import_state_incremental left it
DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
BEGIN
  def := replace(def, $n$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins')$n$,
                      $o$'transactions_notify', 'transactions_rollup_ins')$o$);
  def := regexp_replace(def, '\n\s*ALTER TABLE public\.transactions (DISABLE|ENABLE) TRIGGER transactions_spent_ins;', '', 'g');
  IF position('transactions_spent_ins' IN def) > 0 THEN
    RAISE EXCEPTION 'customers_spent revert: import.online_retail() still names transactions_spent_ins';
  END IF;
  EXECUTE def;
END $patch$;

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
