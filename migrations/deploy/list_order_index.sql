-- Deploy techmart:list_order_index to pg
-- The other lists ordered as the transactions list now is (change list_transactions_totals): no NULLS LAST on a
-- NOT NULL column, so that an index serves a descending sort (GET /customers?sort=-id sorted every customer:
-- "id DESC NULLS LAST" is not the order of customers_pkey read backwards, "id DESC" is).
BEGIN;

CREATE OR REPLACE FUNCTION api._list(p_table regclass, p jsonb, p_where text, p_sortable text[], p_default_sort text, VARIADIC p_args text[] DEFAULT ARRAY[]::text[])
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
DECLARE
  v_limit integer := coalesce((p->>'limit')::integer, 50);
  v_offset bigint := coalesce((p->>'offset')::bigint, 0);
  v_order text := api._order_by(p, p_default_sort, 'r.', p_table);
  v_total bigint;
  v_items jsonb;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s r WHERE %s', p_table, p_where) INTO v_total USING p_args;
  EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r) %s), ''[]'') FROM (SELECT * FROM %s r WHERE %s %s LIMIT $2 OFFSET $3) r',
                 v_order, p_table, p_where, v_order)
    INTO v_items USING p_args, v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $function$
;

CREATE OR REPLACE FUNCTION api.list_users(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
  v_order := api._order_by(p, 'id', 'u.', 'users');
  SELECT count(*) INTO v_total FROM users;
  EXECUTE 'SELECT coalesce(jsonb_agg(api.user_json(u) ' || v_order || '), ''[]'') FROM (SELECT u.* FROM users u '
          || v_order || ' LIMIT $1 OFFSET $2) u'
    INTO v_items USING v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $function$
;

COMMIT;
