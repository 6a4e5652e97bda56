-- Revert techmart:list_transactions_totals from pg
BEGIN;

DROP FUNCTION api._tx_total(jsonb);
DROP FUNCTION api._tx_plan(jsonb);
DROP FUNCTION api._tx_where_counted();
DROP FUNCTION api._keyset_where(text, regclass, text);
DROP FUNCTION api._cursor_decode(text);
DROP FUNCTION api._cursor_encode(text, jsonb);
DROP FUNCTION api._order_by(jsonb, text, text, regclass);

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

CREATE OR REPLACE FUNCTION api._tx_where()
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  SELECT '($1::timestamptz IS NULL OR t.transaction_time >= $1)
      AND ($2::timestamptz IS NULL OR t.transaction_time < $2)
      AND ($3::text IS NULL OR t.status = $3)
      AND ($4::bigint IS NULL OR t.customer_id = $4)
      AND ($5::bigint IS NULL OR t.product_id = $5)
      AND ($6::bigint IS NULL OR t.product_id IN (SELECT pr.id FROM products pr WHERE pr.category_id = $6))
      AND ($7::text IS NULL OR t.country = $7)
      AND ($8::numeric IS NULL OR t.fraud_score >= $8)
      AND ($9::numeric IS NULL OR t.fraud_score <= $9)
      AND ($10::boolean IS NULL OR t.is_suspicious = $10)
      AND ($11::text IS NULL OR t.label = $11)'
$function$
;

CREATE OR REPLACE FUNCTION api.export_transactions(p jsonb)
 RETURNS TABLE(id bigint, transaction_time text, customer_id bigint, product_id bigint, quantity integer, unit_price numeric, amount numeric, status text, payment_method text, platform text, order_number text, country text, fraud_score numeric, is_suspicious text, label text)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
  PERFORM api._tx_check(p);
  RETURN QUERY EXECUTE
    'SELECT t.id, api.csv_text(to_jsonb(t.transaction_time) #>> ''{}''), t.customer_id, t.product_id, t.quantity, t.unit_price::numeric,
            t.amount::numeric, api.csv_text(t.status), api.csv_text(t.payment_method), api.csv_text(t.platform),
            api.csv_text(t.order_number), api.csv_text(t.country::text),
            t.fraud_score, CASE WHEN t.is_suspicious THEN ''true'' ELSE ''false'' END, api.csv_text(t.label)
       FROM transactions t WHERE ' || api._tx_where() || ' ' || api._order_by(p, 'id', 't.')
    || ' LIMIT $12 OFFSET $13'
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label',
          (p->>'limit')::bigint, coalesce((p->>'offset')::bigint, 0);
END $function$
;

CREATE OR REPLACE FUNCTION api.list_alerts(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
END $function$
;

DELETE FROM analytics.settings WHERE key = 'list_count_budget';
ALTER TABLE analytics.settings DROP CONSTRAINT settings_count_budget_valid;
ALTER TABLE analytics.settings DROP CONSTRAINT settings_key_check;
ALTER TABLE analytics.settings ADD CONSTRAINT settings_key_check CHECK (key IN ('business_timezone'));

COMMIT;
