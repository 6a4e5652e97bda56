-- Revert techmart:inventory_put_clock from pg
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
  INSERT INTO inventory_history (product_id, previous_quantity, new_quantity, reason, note, changed_by)
  VALUES (p_product, v_prev, (p->>'quantity')::integer, p->>'reason', p->>'note', coalesce(p_actor, current_user))
  RETURNING * INTO v_hist;
  RETURN jsonb_build_object('product_id', p_product, 'stock_quantity', v_hist.new_quantity,
                            'change', to_jsonb(v_hist));
END $function$
;

COMMIT;
