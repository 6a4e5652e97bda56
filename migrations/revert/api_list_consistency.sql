-- Revert techmart:api_list_consistency from pg
-- the definitions of api_endpoints (api._check_page, api._tx_check, api.list_alerts) and
-- api_auth (api.list_users())
BEGIN;

DROP FUNCTION api.list_users(jsonb);
CREATE FUNCTION api.list_users()
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(api.user_json(u) ORDER BY u.id), '[]'),
                            'total', count(*))
    FROM users u
$$;

REVOKE EXECUTE ON FUNCTION api.list_users() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.list_users() TO techmart_api;

CREATE OR REPLACE FUNCTION api._check_page(p jsonb, sortable text[], max_limit integer DEFAULT 1000)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._check_int(p, 'limit', 1, max_limit) || api._check_int(p, 'offset', 0, 1000000000)
      || api._err('sort', CASE
           WHEN p->'sort' IS NULL THEN NULL
           WHEN jsonb_typeof(p->'sort') <> 'string' OR NOT (ltrim(p->>'sort', '-') = ANY (sortable))
             THEN 'must be one of ' || array_to_string(sortable, ', ') || ' (prefix - for descending)'
         END)
$$;

CREATE OR REPLACE FUNCTION api._tx_check(p jsonb)
RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN PERFORM api.raise_invalid('[{"field":"","message":"must be an object"}]'); END IF;
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['from', 'to', 'status', 'customer_id', 'product_id', 'category_id', 'country',
                             'min_score', 'max_score', 'suspicious', 'label', 'sort', 'limit', 'offset'])
    || api._check_time(p, 'from') || api._check_time(p, 'to')
    || api._check_enum(p, 'status', ARRAY['pending', 'completed', 'failed', 'refunded', 'blocked'])
    || api._check_int(p, 'customer_id', 1, 9223372036854775807)
    || api._check_int(p, 'product_id', 1, 9223372036854775807)
    || api._check_int(p, 'category_id', 1, 9223372036854775807)
    || api._check_text(p, 'country', false, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
    || api._check_num(p, 'min_score', 0, 100) || api._check_num(p, 'max_score', 0, 100)
    || api._check_bool(p, 'suspicious')
    || api._check_enum(p, 'label', ARRAY['fraud', 'legitimate', 'unknown'])
    || api._check_page(p, ARRAY['id', 'transaction_time', 'amount', 'quantity', 'unit_price', 'fraud_score',
                                'customer_id', 'product_id', 'status', 'country', 'payment_method', 'platform',
                                'is_suspicious', 'label', 'created_at']),
    'invalid transaction filter');
END $$;

CREATE OR REPLACE FUNCTION api.list_alerts(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_limit integer;
  v_offset bigint;
  v_total bigint;
  v_items jsonb;
  v_order text;
  c_where constant text := '($1::text IS NULL OR a.status = $1) AND ($2::text IS NULL OR a.severity = $2)
    AND ($3::text IS NULL OR a.type = $3) AND ($4::bigint IS NULL OR a.customer_id = $4)
    AND ($5::bigint IS NULL OR a.transaction_id = $5) AND ($6::timestamptz IS NULL OR a.created_at >= $6)
    AND ($7::timestamptz IS NULL OR a.created_at < $7)';
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['status', 'severity', 'type', 'customer_id', 'transaction_id', 'from', 'to', 'sort', 'limit', 'offset'])
    || api._check_enum(p, 'status', ARRAY['open', 'acknowledged', 'resolved'])
    || api._check_enum(p, 'severity', ARRAY['low', 'medium', 'high', 'critical'])
    || api._check_text(p, 'type', false, 60, '^[a-z_]{1,60}$', 'must be 1-60 characters of a-z and _')
    || api._check_int(p, 'customer_id', 1, 9223372036854775807)
    || api._check_int(p, 'transaction_id', 1, 9223372036854775807)
    || api._check_time(p, 'from') || api._check_time(p, 'to')
    || api._check_page(p, ARRAY['id', 'created_at', 'severity', 'status', 'type']),
    'invalid alert filter');
  v_limit := coalesce((p->>'limit')::integer, 50);
  v_offset := coalesce((p->>'offset')::bigint, 0);
  v_order := api._order_by(p, '-created_at', 'a.');
  EXECUTE 'SELECT count(*) FROM alerts a WHERE ' || c_where INTO v_total
    USING p->>'status', p->>'severity', p->>'type', (p->>'customer_id')::bigint, (p->>'transaction_id')::bigint,
          api._time(p->>'from'), api._time(p->>'to');
  EXECUTE 'SELECT coalesce(jsonb_agg(api.alert_json(a) ' || v_order || '), ''[]'') FROM (SELECT a.* FROM alerts a WHERE '
          || c_where || ' ' || v_order || ' LIMIT $8 OFFSET $9) a' INTO v_items
    USING p->>'status', p->>'severity', p->>'type', (p->>'customer_id')::bigint, (p->>'transaction_id')::bigint,
          api._time(p->>'from'), api._time(p->>'to'), v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $$;

DROP FUNCTION api._check_range(jsonb, text, text);

COMMIT;
