-- Revert techmart:list_transactions_totals from pg
BEGIN;

DROP FUNCTION api._tx_total(jsonb);
DROP FUNCTION api._tx_plan(jsonb);
DROP FUNCTION api._keyset_where(text, regclass, text);
DROP FUNCTION api._cursor_decode(text);
DROP FUNCTION api._cursor_encode(text, jsonb);

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb, p_role text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
  v_private boolean := api.role_sees_private(p_role);
  v_limit  integer;
  v_offset bigint;
  v_total  bigint;
  v_items  jsonb;
  v_order  text;
BEGIN
  PERFORM api._tx_check(p);
  v_limit := coalesce((p->>'limit')::integer, 50);
  v_offset := coalesce((p->>'offset')::bigint, 0);
  EXECUTE 'SELECT count(*) FROM transactions t WHERE ' || api._tx_where()
    INTO v_total
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label';
  v_order := api._order_by(p, '-transaction_time', 't.');
  EXECUTE 'SELECT coalesce(jsonb_agg(CASE WHEN $14 THEN api.transaction_json(t)
                                          ELSE api.mask_transaction(api.transaction_json(t), ''viewer'') END ' || v_order || '), ''[]'')
             FROM (SELECT t.* FROM transactions t WHERE ' || api._tx_where() || ' ' || v_order
          || ' LIMIT $12 OFFSET $13) t'
    INTO v_items
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label', v_limit, v_offset, v_private;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $function$
;
COMMENT ON FUNCTION api.list_transactions(jsonb, text) IS
  'GET /api/v1/transactions as the role may see it (api.mask_transaction); filters, sort and paging of api.list_transactions(jsonb)';

DELETE FROM analytics.settings WHERE key = 'list_count_budget';
ALTER TABLE analytics.settings DROP CONSTRAINT settings_count_budget_valid;
ALTER TABLE analytics.settings DROP CONSTRAINT settings_key_check;
ALTER TABLE analytics.settings ADD CONSTRAINT settings_key_check CHECK (key IN ('business_timezone'));

COMMIT;
