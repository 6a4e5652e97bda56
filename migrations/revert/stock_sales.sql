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

-- products_rollup_category as change rollups_hll left it (statement trigger with transition tables)
DROP TRIGGER products_rollup_category ON products;
DROP FUNCTION analytics.rollup_product_category_row_trigger();
CREATE FUNCTION analytics.rollup_product_category_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_keys text[];
BEGIN
  SELECT array_agg(DISTINCT k) INTO v_keys
    FROM old_rows o JOIN new_rows n USING (id)
   CROSS JOIN LATERAL (VALUES (coalesce(o.category_id::text, '')), (coalesce(n.category_id::text, ''))) x(k)
   WHERE o.category_id IS DISTINCT FROM n.category_id;
  IF v_keys IS NULL THEN
    RETURN NULL;
  END IF;
  LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;
  CREATE TEMP TABLE IF NOT EXISTS rollup_cat_hours (hour timestamptz PRIMARY KEY) ON COMMIT DELETE ROWS;
  DELETE FROM rollup_cat_hours;
  INSERT INTO rollup_cat_hours
  SELECT DISTINCT s.hour FROM analytics.sales_hourly s
   WHERE s.dim = 'product'
     AND s.key IN (SELECT o.id::text FROM old_rows o JOIN new_rows n USING (id)
                    WHERE o.category_id IS DISTINCT FROM n.category_id);
  DELETE FROM analytics.sales_hourly s
   WHERE s.dim = 'category' AND s.key = ANY (v_keys) AND s.hour IN (SELECT hour FROM rollup_cat_hours);
  INSERT INTO analytics.sales_hourly (dim, hour, key, slot, revenue, orders, units, transactions, completed,
                                      refunded, refunded_amount, blocked, failed, pending, suspicious, customers_hll)
  SELECT r.dim, r.hour, r.key, 0, r.revenue, r.orders, r.units, r.transactions, r.completed,
         r.refunded, r.refunded_amount, r.blocked, r.failed, r.pending, r.suspicious, hl.customers_hll
    FROM rollup_cat_hours h
   CROSS JOIN LATERAL analytics.rollup_recompute(h.hour, h.hour + interval '1 hour') r
    LEFT JOIN LATERAL (SELECT x.customers_hll FROM analytics.rollup_recompute_hll(h.hour, h.hour + interval '1 hour') x
                        WHERE x.dim = r.dim AND x.key = r.key) hl ON true
   WHERE r.dim = 'category' AND r.key = ANY (v_keys)
   ORDER BY 1, 2, 3;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION analytics.rollup_product_category_trigger() IS
  'AFTER UPDATE on products: when a product changes category, recompute the category rollups of the hours it sold in';
CREATE TRIGGER products_rollup_category AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.rollup_product_category_trigger();

DROP TRIGGER transactions_stock_ins ON transactions;
DROP TRIGGER transactions_stock_upd ON transactions;
DROP TRIGGER transactions_stock_del ON transactions;
DROP FUNCTION analytics.stock_trigger();
DROP FUNCTION analytics.line_units(text, text, integer);
COMMENT ON COLUMN products.stock_quantity IS NULL;
COMMENT ON COLUMN bi.products.stock_quantity IS 'Units in stock now';
COMMENT ON TABLE inventory_history IS 'Every change of a product''s stock, with its reason';

COMMIT;
