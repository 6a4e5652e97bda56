-- Deploy techmart:stock_sales to pg
-- requires: customers_spent_c
-- requires: update_transaction_label_once
-- requires: entity_reason_predicate
--
-- Sales move the stock (SPEC 1: products.stock_quantity >= 0; inventory_history records every change
-- of a product's stock with reason sale, restock, adjustment or return). Before: only PUT /inventory
-- changed stock_quantity; a sale left it as it was and wrote no history.
--
-- Units a line holds, analytics.line_units(kind, status, quantity): a sale line that is completed
-- or pending holds its quantity; a refund row (kind refund, status refunded: the Online Retail
-- import's negative quantities, change refunds) holds minus its quantity; a failed, blocked or
-- refunded sale line holds nothing. stock_quantity moves by minus the change of what the lines hold:
-- a completed or pending sale takes its units, a refund row or a sale line refunded gives them back
-- (reason return), a line failed or blocked gives them back (adjustment), DELETE of a line gives
-- back what it held (adjustment), completed <-> pending, a label or a score moves nothing.
--
-- Upkeep: the C statement trigger analytics.stock_trigger() (extension/pg/stock_trigger.cpp; declared
-- here, the extension's version stays) AFTER INSERT / UPDATE / DELETE FOR EACH STATEMENT with
-- transition tables (triggers transactions_stock_{ins,upd,del}; on a partitioned transactions
-- partition_transactions() carries them to the new parent like the others): per statement, per
-- product, one UPDATE of stock_quantity (and updated_at) in product-id order (no deadlock between
-- writers of shared products), refused when the stock would go below 0 — SQLSTATE 23S01
-- (class 23, integrity constraint violation) naming the product; the statement fails as a whole —
-- and one inventory_history row per product (previous and new quantity, reason, a note naming the
-- transactions, changed_at = the clock once the product is locked, changed_by = the setting
-- techmart.actor when set, else the session's user). TRUNCATE of transactions moves no stock.
-- SET techmart.track_stock = off (a GUC of techmart.so, as techmart.scoring): nothing moves — for
-- loads of past transactions (data/load.sql, generated histories); import.online_retail() treats the
-- insert trigger as the rollup and spend triggers (bulk path with it present, disabled on the other).
-- api.update_transaction() (PATCH /transactions/{id}) sets techmart.actor to the API's user for its
-- transaction, so a refund's history row says who refunded.
BEGIN;

CREATE FUNCTION analytics.line_units(p_kind text, p_status text, p_quantity integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_kind = 'refund' THEN -p_quantity
              WHEN p_status IN ('completed', 'pending') THEN p_quantity ELSE 0 END
$$;
COMMENT ON FUNCTION analytics.line_units(text, text, integer) IS
  'Units of stock a transaction line holds: the quantity of a completed or pending sale line, minus the quantity of a '
  'refund row, 0 otherwise (failed, blocked, refunded sale lines); a write moves products.stock_quantity by minus the '
  'change of the sum (analytics.stock_trigger)';

CREATE FUNCTION analytics.stock_trigger()
RETURNS trigger
AS '$libdir/techmart', 'techmart_stock_statement'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = public, pg_temp;
COMMENT ON FUNCTION analytics.stock_trigger() IS
  'Statement trigger of INSERT/COPY, UPDATE and DELETE on transactions: moves products.stock_quantity by minus the '
  'change of the units the statement''s lines hold (analytics.line_units), one UPDATE per product in id order, '
  'SQLSTATE 23S01 when a stock would go below 0, and one inventory_history row per product (C; nothing when '
  'techmart.track_stock is off)';

CREATE TRIGGER transactions_stock_ins AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.stock_trigger();
CREATE TRIGGER transactions_stock_upd AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.stock_trigger();
CREATE TRIGGER transactions_stock_del AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.stock_trigger();

-- Every sale now UPDATEs products (stock_quantity, updated_at). The statement trigger products_rollup_category
-- (change rollups: AFTER UPDATE with transition tables, so it fired for every UPDATE of products whatever the
-- columns, joined the old and new rows and found no category change) cost a sale ~20 us, a 10,000-line
-- statement ~16 ms (bench/RESULTS.md). It becomes a row trigger that fires only when category_id changes
-- (UPDATE OF category_id ... WHEN OLD.category_id IS DISTINCT FROM NEW.category_id): the same recomputation
-- of the category rows of the hours the product sold in, for its old and new category, one product at a time
-- (a category change is an admin's edit of one product; a statement moving many products recomputes per
-- product, the same result).
CREATE FUNCTION analytics.rollup_product_category_row_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_keys text[] := ARRAY[coalesce(OLD.category_id::text, ''), coalesce(NEW.category_id::text, '')];
BEGIN
  LOCK TABLE analytics.sales_hourly IN EXCLUSIVE MODE;
  CREATE TEMP TABLE IF NOT EXISTS rollup_cat_hours (hour timestamptz PRIMARY KEY) ON COMMIT DELETE ROWS;
  DELETE FROM rollup_cat_hours;
  INSERT INTO rollup_cat_hours
  SELECT DISTINCT s.hour FROM analytics.sales_hourly s
   WHERE s.dim = 'product' AND s.key = OLD.id::text;
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
COMMENT ON FUNCTION analytics.rollup_product_category_row_trigger() IS
  'AFTER UPDATE OF category_id on products, per row whose category changed: recompute the category rollups of the hours '
  'the product sold in, for its old and new category';
DROP TRIGGER products_rollup_category ON products;
DROP FUNCTION analytics.rollup_product_category_trigger();
CREATE TRIGGER products_rollup_category AFTER UPDATE OF category_id ON products
  FOR EACH ROW WHEN (OLD.category_id IS DISTINCT FROM NEW.category_id)
  EXECUTE FUNCTION analytics.rollup_product_category_row_trigger();

-- import.online_retail() (as change customers_spent left it): the history it loads must not move
-- the stock of today (its new products start at 0). Bulk path: allowed with transactions_stock_ins
-- present (session_replication_role = replica skips it); the other path disables it for its INSERT.
DO $patch$
DECLARE
  def text := pg_get_functiondef('import.online_retail(text)'::regprocedure);
  old_fast text := $o$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins')$o$;
  new_fast text := $n$'transactions_notify', 'transactions_rollup_ins',
                                                    'transactions_spent_ins', 'transactions_stock_ins')$n$;
  re text := '(\n\s*)ALTER TABLE public\.transactions (DISABLE|ENABLE) TRIGGER transactions_spent_ins;';
BEGIN
  IF (length(def) - length(replace(def, old_fast, ''))) / length(old_fast) <> 1
     OR regexp_count(def, re) <> 3 OR position('transactions_stock_ins' IN def) > 0 THEN
    RAISE EXCEPTION 'stock_sales: import.online_retail() is not the function of change customers_spent'
      USING HINT = 'adapt migrations/deploy/stock_sales.sql';
  END IF;
  def := replace(def, old_fast, new_fast);
  def := regexp_replace(def, re, '\1ALTER TABLE public.transactions \2 TRIGGER transactions_spent_ins;'
                                 '\1ALTER TABLE public.transactions \2 TRIGGER transactions_stock_ins;', 'g');
  EXECUTE def;
END $patch$;

-- PATCH /transactions/{id}: the API's user (p_actor) is who changed the stock
DO $patch$
DECLARE
  def text := pg_get_functiondef('api.update_transaction(bigint, jsonb, text)'::regprocedure);
  old text := $o$  IF p ? 'status' THEN
    UPDATE transactions t SET status = p->>'status'$o$;
  new text := $n$  IF p ? 'status' THEN
    -- (change stock_sales) the stock history of this status change names the API's user
    PERFORM set_config('techmart.actor', coalesce(p_actor, ''), true);
    UPDATE transactions t SET status = p->>'status'$n$;
BEGIN
  IF (length(def) - length(replace(def, old, ''))) / length(old) <> 1 THEN
    RAISE EXCEPTION 'stock_sales: api.update_transaction() is not the function of change update_transaction_label_once'
      USING HINT = 'adapt migrations/deploy/stock_sales.sql';
  END IF;
  EXECUTE replace(def, old, new);
END $patch$;

COMMENT ON COLUMN products.stock_quantity IS
  'Units in stock now (>= 0): completed and pending sales take their quantity, refunds give it back '
  '(analytics.stock_trigger), PUT /inventory sets it; every change is in inventory_history';
COMMENT ON COLUMN bi.products.stock_quantity IS
  'Units in stock now: sales take their quantity as they are written, refunds give it back, restocks and '
  'adjustments set it (every change in bi.inventory_history)';
COMMENT ON TABLE inventory_history IS
  'Every change of a product''s stock, with its reason: sales, returns and adjustments written by the '
  'transactions triggers (one row per product per statement), restocks and adjustments by PUT /inventory';

COMMIT;
