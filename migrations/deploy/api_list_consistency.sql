-- Deploy techmart:api_list_consistency to pg
-- requires: api_viewer_privacy_lists
-- requires: list_search_literal
-- requires: proc_volatility
--
-- The lists answer as the analytics endpoints do:
--   * a range whose `to` is before its `from` (GET /transactions, /transactions/suspicious,
--     /transactions/export, /alerts) is 22023 with the field error {"field":"to","message":"must
--     not be before from"} (analytics.range_errors' wording), not an empty page;
--   * sort is exactly a whitelisted column or `-` and one: `--amount`, `-`, `amount-` are refused
--     like an unknown column (api._check_page used ltrim(sort, '-'), so any run of minus signs
--     passed and sorted descending);
--   * GET /users is paged like the other lists: api.list_users(jsonb) takes limit (1..1000,
--     default 50), offset (default 0) and sort (id, email, username, role, created_at,
--     last_login_at; default id) and returns {items, total, limit, offset}. api.list_users()
--     (every account at once) is dropped.
BEGIN;

CREATE OR REPLACE FUNCTION api._check_page(p jsonb, sortable text[], max_limit integer DEFAULT 1000)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._check_int(p, 'limit', 1, max_limit) || api._check_int(p, 'offset', 0, 1000000000)
      || api._err('sort', CASE
           WHEN p->'sort' IS NULL THEN NULL
           WHEN jsonb_typeof(p->'sort') <> 'string'
             OR NOT (p->>'sort' = ANY (sortable)
                     OR (left(p->>'sort', 1) = '-' AND substr(p->>'sort', 2) = ANY (sortable)))
             THEN 'must be one of ' || array_to_string(sortable, ', ') || ' (prefix - for descending)'
         END)
$$;

-- a [from, to) range of two valid times whose `to` is before `from`: the error of `to`
-- (analytics.range_errors' wording); nothing when either is missing or already invalid
CREATE FUNCTION api._check_range(p jsonb, p_from text DEFAULT 'from', p_to text DEFAULT 'to')
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p->p_from IS NULL OR p->p_to IS NULL
     OR jsonb_array_length(api._check_time(p, p_from) || api._check_time(p, p_to)) > 0
     OR jsonb_typeof(p->p_from) <> 'string' OR jsonb_typeof(p->p_to) <> 'string' THEN
    RETURN '[]';
  END IF;
  RETURN api._err(p_to, CASE WHEN api._time(p->>p_to) < api._time(p->>p_from)
                             THEN 'must not be before ' || p_from END);
END $$;
COMMENT ON FUNCTION api._check_range(jsonb, text, text) IS
  'Field error of p_to when both times are valid and p_to < p_from (empty otherwise)';

CREATE OR REPLACE FUNCTION api._tx_check(p jsonb)
RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN PERFORM api.raise_invalid('[{"field":"","message":"must be an object"}]'); END IF;
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['from', 'to', 'status', 'customer_id', 'product_id', 'category_id', 'country',
                             'min_score', 'max_score', 'suspicious', 'label', 'sort', 'limit', 'offset'])
    || api._check_time(p, 'from') || api._check_time(p, 'to') || api._check_range(p)
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
    || api._check_time(p, 'from') || api._check_time(p, 'to') || api._check_range(p)
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

DROP FUNCTION api.list_users();
CREATE FUNCTION api.list_users(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_limit integer;
  v_offset bigint;
  v_order text;
  v_total bigint;
  v_items jsonb;
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['sort', 'limit', 'offset'])
    || api._check_page(p, ARRAY['id', 'email', 'username', 'role', 'created_at', 'last_login_at']), 'invalid query');
  v_limit := coalesce((p->>'limit')::integer, 50);
  v_offset := coalesce((p->>'offset')::bigint, 0);
  v_order := api._order_by(p, 'id', 'u.');
  SELECT count(*) INTO v_total FROM users;
  EXECUTE 'SELECT coalesce(jsonb_agg(api.user_json(u) ' || v_order || '), ''[]'') FROM (SELECT u.* FROM users u '
          || v_order || ' LIMIT $1 OFFSET $2) u'
    INTO v_items USING v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $$;
COMMENT ON FUNCTION api.list_users(jsonb) IS
  'GET /api/v1/users (admin): sort (id, email, username, role, created_at, last_login_at; - for descending), limit (1..1000, default 50), offset; {items,total,limit,offset}';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.list_users(jsonb) TO techmart_api;

COMMIT;
