-- Revert techmart:stock_sales from pg
BEGIN;

-- import.online_retail() as change customers_spent left it
DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
BEGIN
  def := replace(def, $n$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins', 'transactions_stock_ins')$n$,
                      $o$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins')$o$);
  def := regexp_replace(def, '\n\s*ALTER TABLE public\.transactions (DISABLE|ENABLE) TRIGGER transactions_stock_ins;', '', 'g');
  IF position('transactions_stock_ins' IN def) > 0 THEN
    RAISE EXCEPTION 'stock_sales revert: import.online_retail() still names transactions_stock_ins';
  END IF;
  EXECUTE def;
END $patch$;

-- api.update_transaction() as change update_transaction_label_once left it
DO $patch$
DECLARE
  def text := pg_get_functiondef('api.update_transaction(bigint, jsonb, text)'::regprocedure);
  line text := $l$    -- (change stock_sales) the stock history of this status change names the API's user
    PERFORM set_config('techmart.actor', coalesce(p_actor, ''), true);
$l$;
BEGIN
  IF position(line IN def) = 0 THEN
    RAISE EXCEPTION 'stock_sales revert: api.update_transaction() does not set techmart.actor';
  END IF;
  EXECUTE replace(def, line, '');
END $patch$;

DROP TRIGGER transactions_stock_ins ON transactions;
DROP TRIGGER transactions_stock_upd ON transactions;
DROP TRIGGER transactions_stock_del ON transactions;
DROP FUNCTION analytics.stock_trigger();
DROP FUNCTION analytics.line_units(text, text, integer);
COMMENT ON COLUMN products.stock_quantity IS NULL;
COMMENT ON COLUMN bi.products.stock_quantity IS 'Units in stock now';
COMMENT ON TABLE inventory_history IS 'Every change of a product''s stock, with its reason';

COMMIT;
