-- Deploy techmart:api_viewer_privacy_lists to pg
-- requires: api_viewer_privacy
--
-- The transaction lists of a viewer (change api_viewer_privacy) unpacked the finished answer and
-- aggregated every item again to mask it: a page of 1,000 took about twice as long as an
-- analyst's. Now api.list_transactions(jsonb, role) and api.recent_transactions(integer, role)
-- mask each row as the page is built (the same rows, order and answer); the variants without a
-- role are those with 'admin' (one body each); api.mask_reasons returns an array without an
-- entity rule as it is, without taking it apart.
BEGIN;

CREATE OR REPLACE FUNCTION api.mask_reasons(p_reasons jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(p_reasons) = 'array'
                   AND p_reasons @? '$[*] ? (@.rule == "entity_device" || @.rule == "entity_ip" || @.rule == "entity_ip24" || @.rule == "entity_payment")' THEN
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

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
END $$;

CREATE OR REPLACE FUNCTION api.list_transactions(p jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.list_transactions(p, 'admin')
$$;

CREATE OR REPLACE FUNCTION api.suspicious_transactions(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.list_transactions(
    jsonb_build_object('sort', '-transaction_time') || coalesce(p, '{}') || '{"suspicious":"true"}', p_role)
$$;

CREATE OR REPLACE FUNCTION api.recent_transactions(p_limit integer, p_role text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_private boolean := api.role_sees_private(p_role);
  v_items jsonb;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 500 THEN
    PERFORM api.raise_invalid(jsonb_build_array(jsonb_build_object(
      'field', 'limit', 'message', 'must be an integer between 1 and 500')));
  END IF;
  SELECT coalesce(jsonb_agg(CASE WHEN v_private THEN api.transaction_json(t)
                                 ELSE api.mask_transaction(api.transaction_json(t), 'viewer') END
                            ORDER BY t.transaction_time DESC, t.id DESC), '[]')
    INTO v_items
    FROM (SELECT * FROM transactions
           ORDER BY transaction_time DESC, id DESC
           LIMIT p_limit) t;
  RETURN jsonb_build_object('items', v_items, 'count', jsonb_array_length(v_items), 'limit', p_limit);
END $$;

CREATE OR REPLACE FUNCTION api.recent_transactions(p_limit integer DEFAULT 20)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.recent_transactions(p_limit, 'admin')
$$;

COMMIT;
