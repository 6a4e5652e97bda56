-- Revert techmart:api_viewer_privacy_lists from pg: the functions as api_viewer_privacy left them
-- (the role variants wrapping the unmasked ones; those of api_endpoints and api_v1/api_auth)
BEGIN;

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
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
  EXECUTE 'SELECT coalesce(jsonb_agg(api.transaction_json(t) ' || v_order || '), ''[]'')
             FROM (SELECT t.* FROM transactions t WHERE ' || api._tx_where() || ' ' || v_order
          || ' LIMIT $12 OFFSET $13) t'
    INTO v_items
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label', v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $$;

CREATE OR REPLACE FUNCTION api.recent_transactions(p_limit integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 500 THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object(
      'field', 'limit', 'message', 'must be an integer between 1 and 500')));
  END IF;
  SELECT coalesce(jsonb_agg(api.transaction_json(t) ORDER BY t.transaction_time DESC, t.id DESC), '[]')
    INTO v_items
    FROM (SELECT * FROM transactions
           ORDER BY transaction_time DESC, id DESC
           LIMIT p_limit) t;
  RETURN jsonb_build_object('items', v_items, 'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.list_transactions(p), p_role, 'transaction')
$$;

CREATE OR REPLACE FUNCTION api.suspicious_transactions(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.suspicious_transactions(p), p_role, 'transaction')
$$;

CREATE OR REPLACE FUNCTION api.recent_transactions(p_limit integer, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.recent_transactions(p_limit), p_role, 'transaction')
$$;

CREATE OR REPLACE FUNCTION api.mask_reasons(p_reasons jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(p_reasons) = 'array' THEN
    (SELECT coalesce(jsonb_agg(
              CASE WHEN jsonb_typeof(r) = 'object' AND r->>'rule' IN ('entity_device', 'entity_ip', 'entity_ip24', 'entity_payment')
                   THEN jsonb_set(r, '{detail}', to_jsonb(
                          CASE WHEN r->>'detail' ~ '^(device|IP|network|payment fingerprint) .*: [0-9]+ confirmed fraud'
                               -- greedy: up to the last ": N confirmed fraud", whatever the identifier holds
                               THEN regexp_replace(r->>'detail', '^(device|IP|network|payment fingerprint) .*(: [0-9]+ confirmed fraud)',
                                                   '\1 (withheld)\2')
                               ELSE 'detail withheld' END))
                   ELSE r END ORDER BY o), '[]')
       FROM jsonb_array_elements(p_reasons) WITH ORDINALITY e(r, o))
  ELSE p_reasons END
$$;

COMMIT;
