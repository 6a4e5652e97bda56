-- Deploy techmart:inventory_put_clock to pg
-- PUT /inventory/{id} stamped its history row with now() (the transaction's start), the sales' rows with the clock
-- once the product is locked (change stock_sales): a PUT in a transaction that began before a sale but locked the
-- product after it came before that sale in the product's history by time, with the sale's quantity as its previous
-- one. Now the clock after the lock, like the sales.
BEGIN;

CREATE OR REPLACE FUNCTION api.update_inventory(p_product bigint, p jsonb, p_actor text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
  v_prev integer;
  v_hist inventory_history;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['quantity', 'reason', 'note'])
    || api._check_int(p, 'quantity', 0, 2147483647, true)
    || api._check_enum(p, 'reason', ARRAY['sale', 'restock', 'adjustment', 'return'], true)
    || api._check_text(p, 'note', false, 2000), 'invalid inventory update');
  SELECT stock_quantity INTO v_prev FROM products WHERE id = p_product FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  UPDATE products SET stock_quantity = (p->>'quantity')::integer, updated_at = now() WHERE id = p_product;
  -- stamped with the clock once the product is locked, as the sales' rows are (analytics.stock_trigger): a
  -- product's history in time order is the order its changes were made in
  INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason, note, changed_at, changed_by)
  VALUES (p_product, v_prev, (p->>'quantity')::integer, p->>'reason', p->>'note', clock_timestamp(),
          coalesce(p_actor, current_user))
  RETURNING * INTO v_hist;
  RETURN jsonb_build_object('product_id', p_product, 'stock_quantity', v_hist.new_quantity,
                            'change', to_jsonb(v_hist));
END $function$
;

COMMIT;
