-- Deploy techmart:api_endpoints to pg
-- requires: api_live
--
-- The endpoints of SPEC section 4 (transactions list/suspicious/update/export, alerts,
-- inventory, products, categories, suppliers, customers). Conventions as in api_v1; list
-- functions take the query string as a jsonb object of strings (numbers also accepted) and
-- return {items, total, limit, offset}. Sorting: sort=<column> or sort=-<column> (descending)
-- on a whitelisted column; identifiers come only from that whitelist (format %I) and every
-- value is bound with EXECUTE ... USING, never pasted into SQL.
BEGIN;

-- ------------------------------------------------------------------ helpers
CREATE FUNCTION api._check_int(p jsonb, k text, lo numeric, hi numeric, required boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._err(k, CASE
    WHEN p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN CASE WHEN required THEN 'is required' END
    WHEN jsonb_typeof(p->k) NOT IN ('string', 'number') OR p->>k !~ '^-?[0-9]{1,18}$'
      OR (p->>k)::numeric < lo OR (p->>k)::numeric > hi
      THEN 'must be an integer between ' || lo || ' and ' || hi
  END)
$$;

CREATE FUNCTION api._check_num(p jsonb, k text, lo numeric, hi numeric, required boolean DEFAULT false,
                               max_scale integer DEFAULT 3)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._err(k, CASE
    WHEN p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN CASE WHEN required THEN 'is required' END
    WHEN jsonb_typeof(p->k) NOT IN ('string', 'number') OR p->>k !~ '^-?[0-9]{1,15}(\.[0-9]{1,12})?$'
      OR (p->>k)::numeric < lo OR (p->>k)::numeric > hi OR scale((p->>k)::numeric) > max_scale
      THEN 'must be a number between ' || lo || ' and ' || hi || ' with at most ' || max_scale || ' decimals'
  END)
$$;

CREATE FUNCTION api._check_bool(p jsonb, k text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._err(k, CASE
    WHEN p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN NULL
    WHEN jsonb_typeof(p->k) = 'boolean' OR p->>k IN ('true', 'false') THEN NULL
    ELSE 'must be true or false'
  END)
$$;

CREATE FUNCTION api._check_enum(p jsonb, k text, vals text[], required boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._err(k, CASE
    WHEN p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN CASE WHEN required THEN 'is required' END
    WHEN jsonb_typeof(p->k) <> 'string' OR NOT (p->>k = ANY (vals))
      THEN 'must be one of ' || array_to_string(vals, ', ')
  END)
$$;

-- ISO 8601 with a zone (query strings may carry a space for an unencoded '+')
CREATE FUNCTION api._check_time(p jsonb, k text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v timestamptz;
BEGIN
  IF p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN RETURN '[]'; END IF;
  IF jsonb_typeof(p->k) <> 'string'
     OR p->>k !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+ -]\d{2}(:?\d{2})?))?$' THEN
    RETURN api._err(k, 'must be a date (2026-11-01) or an ISO 8601 timestamp with a zone (2026-11-01T10:00:00Z)');
  END IF;
  v := api._time(p->>k);
  RETURN '[]';
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_parameter_value THEN
  RETURN api._err(k, 'is not a valid date or time');
END $$;

CREATE FUNCTION api._time(s text)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  -- a '+' in a query string arrives as a space: "10:00:00 02:00" -> "+02:00"
  SELECT regexp_replace(s, '(\d{2}:\d{2}(:\d{2}(\.\d+)?)?) (\d{2}(:?\d{2})?)$', '\1+\4')::timestamptz
$$;

-- limit/offset/sort checks shared by the lists; sort columns are whitelisted per list
CREATE FUNCTION api._check_page(p jsonb, sortable text[], max_limit integer DEFAULT 1000)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT api._check_int(p, 'limit', 1, max_limit) || api._check_int(p, 'offset', 0, 1000000000)
      || api._err('sort', CASE
           WHEN p->'sort' IS NULL THEN NULL
           WHEN jsonb_typeof(p->'sort') <> 'string' OR NOT (ltrim(p->>'sort', '-') = ANY (sortable))
             THEN 'must be one of ' || array_to_string(sortable, ', ') || ' (prefix - for descending)'
         END)
$$;

-- "ORDER BY <col> <dir>, id <dir>" for a validated sort value
CREATE FUNCTION api._order_by(p jsonb, default_sort text, prefix text DEFAULT '')
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT format('ORDER BY %s%I %s NULLS LAST, %sid %s', prefix, ltrim(s, '-'),
                CASE WHEN left(s, 1) = '-' THEN 'DESC' ELSE 'ASC' END, prefix,
                CASE WHEN left(s, 1) = '-' THEN 'DESC' ELSE 'ASC' END)
    FROM (SELECT coalesce(p->>'sort', default_sort) AS s) x
$$;

CREATE FUNCTION api._raise_if(errs jsonb, msg text)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF errs IS NOT NULL AND jsonb_array_length(errs) > 0 THEN PERFORM api.raise_invalid(errs, msg); END IF;
END $$;

-- ------------------------------------------------------------- transactions
CREATE FUNCTION api._tx_check(p jsonb)
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

-- the filter; $1..$11 bound in api.list_transactions and api.export_transactions
CREATE FUNCTION api._tx_where()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
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
$$;

CREATE FUNCTION api.list_transactions(p jsonb)
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
COMMENT ON FUNCTION api.list_transactions(jsonb) IS
  'GET /api/v1/transactions: filters from, to, status, customer_id, product_id, category_id, country, min_score, max_score, suspicious, label; sort; limit/offset; {items,total,limit,offset}';

CREATE FUNCTION api.suspicious_transactions(p jsonb)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.list_transactions(
    jsonb_build_object('sort', '-transaction_time') || coalesce(p, '{}') || '{"suspicious":"true"}')
$$;
COMMENT ON FUNCTION api.suspicious_transactions(jsonb) IS
  'GET /api/v1/transactions/suspicious: the list filtered to is_suspicious, newest first';

-- CSV export (COPY (SELECT * FROM api.export_transactions(...)) TO STDOUT): same filters and
-- sort as the list, no paging unless limit is given.
CREATE FUNCTION api.export_transactions(p jsonb)
RETURNS TABLE (id bigint, transaction_time timestamptz, customer_id bigint, product_id bigint,
               quantity integer, unit_price numeric, amount numeric, status text, payment_method text,
               platform text, order_number text, country text, fraud_score numeric, is_suspicious boolean,
               label text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM api._tx_check(p);
  RETURN QUERY EXECUTE
    'SELECT t.id, t.transaction_time, t.customer_id, t.product_id, t.quantity, t.unit_price::numeric,
            t.amount::numeric, t.status, t.payment_method, t.platform, t.order_number, t.country::text,
            t.fraud_score, t.is_suspicious, t.label
       FROM transactions t WHERE ' || api._tx_where() || ' ' || api._order_by(p, 'id', 't.')
    || ' LIMIT $12 OFFSET $13'
    USING api._time(p->>'from'), api._time(p->>'to'), p->>'status', (p->>'customer_id')::bigint,
          (p->>'product_id')::bigint, (p->>'category_id')::bigint, p->>'country', (p->>'min_score')::numeric,
          (p->>'max_score')::numeric, (p->>'suspicious')::boolean, p->>'label',
          (p->>'limit')::bigint, coalesce((p->>'offset')::bigint, 0);
END $$;
COMMENT ON FUNCTION api.export_transactions(jsonb) IS 'GET /api/v1/transactions/export (CSV via COPY)';

-- PATCH /transactions/{id} {status?, label?, note?}; a label is recorded in transaction_labels
CREATE FUNCTION api.update_transaction(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row transactions;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['status', 'label', 'note'])
    || api._check_enum(p, 'status', ARRAY['pending', 'completed', 'failed', 'refunded', 'blocked'])
    || api._check_enum(p, 'label', ARRAY['fraud', 'legitimate', 'unknown'])
    || api._check_text(p, 'note', false, 2000)
    || api._err('', CASE WHEN NOT (p ? 'status' OR p ? 'label') THEN 'give status and/or label' END),
    'invalid transaction update');
  UPDATE transactions t
     SET status = coalesce(p->>'status', t.status),
         label = coalesce(p->>'label', t.label),
         labelled_at = CASE WHEN p ? 'label' THEN CASE WHEN p->>'label' = 'unknown' THEN NULL ELSE now() END
                            ELSE t.labelled_at END
   WHERE t.id = p_id
  RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF p ? 'label' THEN
    INSERT INTO transaction_labels (transaction_id, label, labelled_at, labelled_by, note)
    VALUES (p_id, p->>'label', now(), coalesce(p_actor, current_user), p->>'note');
  END IF;
  RETURN api.transaction_json(v_row) || jsonb_build_object('labels',
    (SELECT coalesce(jsonb_agg(jsonb_build_object('label', l.label, 'labelled_at', l.labelled_at,
                                                  'labelled_by', l.labelled_by, 'note', l.note)
                               ORDER BY l.labelled_at DESC, l.id DESC), '[]')
       FROM transaction_labels l WHERE l.transaction_id = p_id));
END $$;

-- ------------------------------------------------------------------- alerts
CREATE FUNCTION api.alert_json(a alerts)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT to_jsonb(a) $$;

CREATE FUNCTION api.create_alert(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row alerts;
  errs jsonb;
BEGIN
  PERFORM api._require_object(p);
  errs := api._check_keys(p, ARRAY['type', 'severity', 'message', 'transaction_id', 'customer_id', 'product_id', 'metadata'])
    || api._check_text(p, 'type', true, 60, '^[a-z_]{1,60}$', 'must be 1-60 characters of a-z and _')
    || api._check_enum(p, 'severity', ARRAY['low', 'medium', 'high', 'critical'], true)
    || api._check_text(p, 'message', true, 2000)
    || api._check_int(p, 'transaction_id', 1, 9223372036854775807)
    || api._check_int(p, 'customer_id', 1, 9223372036854775807)
    || api._check_int(p, 'product_id', 1, 9223372036854775807)
    || api._err('metadata', CASE WHEN p ? 'metadata' AND jsonb_typeof(p->'metadata') <> 'object' THEN 'must be an object' END);
  IF jsonb_array_length(errs) = 0 THEN
    errs := errs
      || api._err('transaction_id', CASE WHEN p ? 'transaction_id' AND jsonb_typeof(p->'transaction_id') <> 'null'
              AND NOT EXISTS (SELECT FROM transactions WHERE id = (p->>'transaction_id')::bigint) THEN 'no such transaction' END)
      || api._err('customer_id', CASE WHEN p ? 'customer_id' AND jsonb_typeof(p->'customer_id') <> 'null'
              AND NOT EXISTS (SELECT FROM customers WHERE id = (p->>'customer_id')::bigint) THEN 'no such customer' END)
      || api._err('product_id', CASE WHEN p ? 'product_id' AND jsonb_typeof(p->'product_id') <> 'null'
              AND NOT EXISTS (SELECT FROM products WHERE id = (p->>'product_id')::bigint) THEN 'no such product' END);
  END IF;
  PERFORM api._raise_if(errs, 'invalid alert');
  INSERT INTO alerts (type, severity, message, transaction_id, customer_id, product_id, metadata)
  VALUES (p->>'type', p->>'severity', p->>'message', (p->>'transaction_id')::bigint,
          (p->>'customer_id')::bigint, (p->>'product_id')::bigint, coalesce(p->'metadata', '{}'))
  RETURNING * INTO v_row;
  RETURN api.alert_json(v_row);
END $$;

CREATE FUNCTION api.get_alert(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.alert_json(a) FROM alerts a WHERE a.id = p_id
$$;

CREATE FUNCTION api.list_alerts(p jsonb)
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

-- PATCH /alerts/{id} {status: acknowledged|resolved|open}
CREATE FUNCTION api.update_alert(p_id bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_row alerts;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['status', 'note'])
    || api._check_enum(p, 'status', ARRAY['open', 'acknowledged', 'resolved'], true)
    || api._check_text(p, 'note', false, 2000), 'invalid alert update');
  UPDATE alerts a
     SET status = p->>'status',
         acknowledged_at = CASE WHEN p->>'status' IN ('acknowledged', 'resolved') THEN coalesce(a.acknowledged_at, now())
                                ELSE NULL END,
         resolved_at = CASE WHEN p->>'status' = 'resolved' THEN coalesce(a.resolved_at, now()) ELSE NULL END,
         metadata = a.metadata || jsonb_build_object('last_change', jsonb_build_object(
                      'status', p->>'status', 'by', p_actor, 'at', now(), 'note', p->>'note'))
   WHERE a.id = p_id
  RETURNING * INTO v_row;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN api.alert_json(v_row);
END $$;

-- GET /alerts/status: counts by status and by severity of the open ones
CREATE FUNCTION api.alerts_status(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NOT NULL AND jsonb_typeof(p) = 'object' THEN
    PERFORM api._raise_if(api._check_keys(p, ARRAY[]::text[]), 'invalid query');
  END IF;
  RETURN (SELECT jsonb_build_object(
    'total', count(*),
    'by_status', jsonb_build_object('open', count(*) FILTER (WHERE status = 'open'),
                                    'acknowledged', count(*) FILTER (WHERE status = 'acknowledged'),
                                    'resolved', count(*) FILTER (WHERE status = 'resolved')),
    'open_by_severity', jsonb_build_object(
        'low', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'low'),
        'medium', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'medium'),
        'high', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'high'),
        'critical', count(*) FILTER (WHERE status <> 'resolved' AND severity = 'critical')),
    'oldest_open_at', min(created_at) FILTER (WHERE status = 'open'),
    'last_24h', count(*) FILTER (WHERE created_at > now() - interval '24 hours'))
    FROM alerts);
END $$;

-- ---------------------------------------------------------------- inventory
-- days of cover: stock / average daily units sold over the last p_days days (NULL: no sales)
CREATE FUNCTION api._inventory_rows(p_days integer)
RETURNS TABLE (product_id bigint, sku text, name text, category_id bigint, supplier_id bigint,
               stock_quantity integer, low_stock_threshold integer, units_sold bigint,
               daily_rate numeric, days_of_cover numeric, below_threshold boolean)
LANGUAGE sql STABLE AS $$
  SELECT pr.id, pr.sku, pr.name, pr.category_id, pr.supplier_id, pr.stock_quantity, pr.low_stock_threshold,
         coalesce(s.units, 0), round(coalesce(s.units, 0)::numeric / p_days, 3),
         CASE WHEN coalesce(s.units, 0) > 0 THEN round(pr.stock_quantity / (s.units::numeric / p_days), 1) END,
         pr.stock_quantity <= pr.low_stock_threshold
    FROM products pr
    LEFT JOIN (SELECT t.product_id, sum(t.quantity) AS units FROM transactions t
                WHERE t.transaction_time >= now() - make_interval(days => p_days)
                  AND t.status IN ('completed', 'pending')
                GROUP BY t.product_id) s ON s.product_id = pr.id
$$;

CREATE FUNCTION api._inventory_list(p jsonb, p_low boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_limit integer;
  v_offset bigint;
  v_days integer;
  v_cover numeric;
  v_total bigint;
  v_items jsonb;
  v_order text;
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(
    api._check_keys(p, ARRAY['days', 'max_days_of_cover', 'category_id', 'supplier_id', 'sort', 'limit', 'offset'])
    || api._check_int(p, 'days', 1, 365) || api._check_num(p, 'max_days_of_cover', 0, 100000)
    || api._check_int(p, 'category_id', 1, 9223372036854775807)
    || api._check_int(p, 'supplier_id', 1, 9223372036854775807)
    || api._check_page(p, ARRAY['product_id', 'sku', 'name', 'stock_quantity', 'low_stock_threshold',
                                'units_sold', 'daily_rate', 'days_of_cover']),
    'invalid inventory query');
  v_limit := coalesce((p->>'limit')::integer, 50);
  v_offset := coalesce((p->>'offset')::bigint, 0);
  v_days := coalesce((p->>'days')::integer, 30);
  v_cover := coalesce((p->>'max_days_of_cover')::numeric, 7);
  v_order := replace(api._order_by(p, CASE WHEN p_low THEN 'days_of_cover' ELSE 'product_id' END, 'r.'),
                     'r.id ', 'r.product_id ');
  EXECUTE 'SELECT count(*), coalesce(jsonb_agg(to_jsonb(r) ' || v_order || ') FILTER (WHERE true), ''[]'')
             FROM api._inventory_rows($1) r
            WHERE ($2::bigint IS NULL OR r.category_id = $2) AND ($3::bigint IS NULL OR r.supplier_id = $3)
              AND (NOT $4 OR r.below_threshold OR r.days_of_cover <= $5)'
    INTO v_total, v_items
    USING v_days, (p->>'category_id')::bigint, (p->>'supplier_id')::bigint, p_low, v_cover;
  -- page in SQL over the (small) product list
  SELECT coalesce(jsonb_agg(e ORDER BY o), '[]') INTO v_items
    FROM jsonb_array_elements(v_items) WITH ORDINALITY x(e, o)
   WHERE o > v_offset AND o <= v_offset + v_limit;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset,
                            'days', v_days) || CASE WHEN p_low THEN jsonb_build_object('max_days_of_cover', v_cover) ELSE '{}' END;
END $$;

CREATE FUNCTION api.list_inventory(p jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api._inventory_list(p, false)
$$;
CREATE FUNCTION api.low_stock(p jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api._inventory_list(p, true)
$$;
COMMENT ON FUNCTION api.low_stock(jsonb) IS
  'GET /api/v1/inventory/low-stock: products at/below their threshold or with <= max_days_of_cover (default 7) days of cover at the rate of the last `days` (default 30)';

-- PUT /inventory/{product_id} {quantity, reason, note?}: sets the stock, records the change
CREATE FUNCTION api.update_inventory(p_product bigint, p jsonb, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
END $$;

CREATE FUNCTION api.inventory_history(p_product bigint, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_limit integer;
  v_offset bigint;
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['limit', 'offset']) || api._check_page(p, ARRAY['id']),
                        'invalid history query');
  IF NOT EXISTS (SELECT FROM products WHERE id = p_product) THEN RETURN NULL; END IF;
  v_limit := coalesce((p->>'limit')::integer, 50);
  v_offset := coalesce((p->>'offset')::bigint, 0);
  RETURN jsonb_build_object(
    'product_id', p_product,
    'items', (SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.changed_at DESC, h.id DESC), '[]')
                FROM (SELECT * FROM inventory_history WHERE product_id = p_product
                       ORDER BY changed_at DESC, id DESC LIMIT v_limit OFFSET v_offset) h),
    'total', (SELECT count(*) FROM inventory_history WHERE product_id = p_product),
    'limit', v_limit, 'offset', v_offset);
END $$;

-- --------------------------------------------------------------- catalogue
-- generic paged list of a table's rows as JSON (table and sort from fixed code, never input)
CREATE FUNCTION api._list(p_table regclass, p jsonb, p_where text, p_sortable text[], p_default_sort text,
                          VARIADIC p_args text[] DEFAULT ARRAY[]::text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_limit integer := coalesce((p->>'limit')::integer, 50);
  v_offset bigint := coalesce((p->>'offset')::bigint, 0);
  v_order text := api._order_by(p, p_default_sort, 'r.');
  v_total bigint;
  v_items jsonb;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s r WHERE %s', p_table, p_where) INTO v_total USING p_args;
  EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r) %s), ''[]'') FROM (SELECT * FROM %s r WHERE %s %s LIMIT $2 OFFSET $3) r',
                 v_order, p_table, p_where, v_order)
    INTO v_items USING p_args, v_limit, v_offset;
  RETURN jsonb_build_object('items', v_items, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END $$;

CREATE FUNCTION api.list_categories(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100) || api._check_page(p, ARRAY['id', 'name', 'created_at']), 'invalid query');
  RETURN api._list('categories', p, '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'')',
                   ARRAY['id', 'name', 'created_at'], 'name', p->>'q');
END $$;

CREATE FUNCTION api.list_suppliers(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'country', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_text(p, 'country', false, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
    || api._check_page(p, ARRAY['id', 'name', 'country', 'reliability_score', 'created_at']), 'invalid query');
  RETURN api._list('suppliers', p, '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'') AND ($1[2] IS NULL OR r.country = $1[2])',
                   NULL, 'name', p->>'q', p->>'country');
END $$;

CREATE FUNCTION api.list_products(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'category_id', 'supplier_id', 'min_price', 'max_price', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_int(p, 'category_id', 1, 9223372036854775807)
    || api._check_int(p, 'supplier_id', 1, 9223372036854775807)
    || api._check_num(p, 'min_price', 0, 99999999999) || api._check_num(p, 'max_price', 0, 99999999999)
    || api._check_page(p, ARRAY['id', 'sku', 'name', 'price', 'stock_quantity', 'category_id', 'supplier_id', 'created_at']),
    'invalid query');
  RETURN api._list('products', p,
    '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'' OR r.sku ILIKE ''%'' || $1[1] || ''%'')
     AND ($1[2] IS NULL OR r.category_id = $1[2]::bigint) AND ($1[3] IS NULL OR r.supplier_id = $1[3]::bigint)
     AND ($1[4] IS NULL OR r.price >= $1[4]::numeric) AND ($1[5] IS NULL OR r.price <= $1[5]::numeric)',
    NULL, 'id', p->>'q', p->>'category_id', p->>'supplier_id', p->>'min_price', p->>'max_price');
END $$;

CREATE FUNCTION api.get_category(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_jsonb(c) || jsonb_build_object('product_count', (SELECT count(*) FROM products WHERE category_id = c.id))
    FROM categories c WHERE c.id = p_id
$$;
CREATE FUNCTION api.get_supplier(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_jsonb(s) || jsonb_build_object('product_count', (SELECT count(*) FROM products WHERE supplier_id = s.id))
    FROM suppliers s WHERE s.id = p_id
$$;
CREATE FUNCTION api.get_product(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_jsonb(pr) FROM products pr WHERE pr.id = p_id
$$;

CREATE FUNCTION api._category_errors(p jsonb, p_create boolean)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT api._check_keys(p, ARRAY['name', 'description'])
      || api._check_text(p, 'name', p_create, 200) || api._check_text(p, 'description', false, 2000)
$$;
CREATE FUNCTION api.create_category(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v categories;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._category_errors(p, true), 'invalid category');
  INSERT INTO categories (name, description) VALUES (p->>'name', p->>'description') RETURNING * INTO v;
  RETURN to_jsonb(v);
END $$;
CREATE FUNCTION api.update_category(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v categories;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._category_errors(p, false)
    || api._err('name', CASE WHEN p ? 'name' AND jsonb_typeof(p->'name') = 'null' THEN 'must not be null' END), 'invalid category');
  UPDATE categories SET name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                        description = CASE WHEN p ? 'description' THEN p->>'description' ELSE description END,
                        updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
END $$;

CREATE FUNCTION api._supplier_errors(p jsonb, p_create boolean)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT api._check_keys(p, ARRAY['name', 'reliability_score', 'country', 'contact_email'])
      || api._check_text(p, 'name', p_create, 200)
      || api._check_num(p, 'reliability_score', 0, 1, false, 3)
      || api._check_text(p, 'country', p_create, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
      || api._check_text(p, 'contact_email', false, 254, '^[^@\s]+@[^@\s]+$', 'must be an e-mail address')
      || api._err('name', CASE WHEN NOT p_create AND p ? 'name' AND jsonb_typeof(p->'name') = 'null' THEN 'must not be null' END)
      || api._err('country', CASE WHEN NOT p_create AND p ? 'country' AND jsonb_typeof(p->'country') = 'null' THEN 'must not be null' END)
$$;
CREATE FUNCTION api.create_supplier(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v suppliers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._supplier_errors(p, true), 'invalid supplier');
  INSERT INTO suppliers (name, reliability_score, country, contact_email)
  VALUES (p->>'name', coalesce((p->>'reliability_score')::numeric, 0.9), p->>'country', p->>'contact_email')
  RETURNING * INTO v;
  RETURN to_jsonb(v);
END $$;
CREATE FUNCTION api.update_supplier(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v suppliers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._supplier_errors(p, false), 'invalid supplier');
  UPDATE suppliers SET name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                       reliability_score = CASE WHEN p ? 'reliability_score' THEN coalesce((p->>'reliability_score')::numeric, 0.9) ELSE reliability_score END,
                       country = CASE WHEN p ? 'country' THEN p->>'country' ELSE country END,
                       contact_email = CASE WHEN p ? 'contact_email' THEN p->>'contact_email' ELSE contact_email END,
                       updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
END $$;

CREATE FUNCTION api._product_errors(p jsonb, p_create boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  errs jsonb;
BEGIN
  errs := api._check_keys(p, CASE WHEN p_create
            THEN ARRAY['sku', 'name', 'description', 'category_id', 'price', 'stock_quantity', 'low_stock_threshold', 'supplier_id']
            ELSE ARRAY['sku', 'name', 'description', 'category_id', 'price', 'stock_quantity', 'low_stock_threshold', 'supplier_id'] END)
    || api._check_text(p, 'sku', p_create, 64, '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', 'must be 1-64 characters of A-Z, a-z, 0-9, _, . and -')
    || api._check_text(p, 'name', p_create, 200) || api._check_text(p, 'description', false, 5000)
    || api._check_int(p, 'category_id', 1, 9223372036854775807)
    || api._check_int(p, 'supplier_id', 1, 9223372036854775807)
    || api._check_num(p, 'price', 0, 99999999999, p_create, 3)
    || api._check_int(p, 'stock_quantity', 0, 2147483647)
    || api._check_int(p, 'low_stock_threshold', 0, 2147483647);
  IF NOT p_create THEN
    errs := errs || api._err('stock_quantity', CASE WHEN p ? 'stock_quantity' THEN 'is changed with PUT /api/v1/inventory/{id} (recorded with a reason)' END);
    errs := errs || (SELECT coalesce(jsonb_agg(jsonb_build_object('field', k, 'message', 'must not be null')), '[]')
                       FROM unnest(ARRAY['sku', 'name', 'price', 'low_stock_threshold']) k
                      WHERE p ? k AND jsonb_typeof(p->k) = 'null');
  END IF;
  IF jsonb_array_length(errs) = 0 THEN
    errs := errs
      || api._err('category_id', CASE WHEN p ? 'category_id' AND jsonb_typeof(p->'category_id') <> 'null'
           AND NOT EXISTS (SELECT FROM categories WHERE id = (p->>'category_id')::bigint) THEN 'no such category' END)
      || api._err('supplier_id', CASE WHEN p ? 'supplier_id' AND jsonb_typeof(p->'supplier_id') <> 'null'
           AND NOT EXISTS (SELECT FROM suppliers WHERE id = (p->>'supplier_id')::bigint) THEN 'no such supplier' END);
  END IF;
  RETURN errs;
END $$;
CREATE FUNCTION api.create_product(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v products;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._product_errors(p, true), 'invalid product');
  INSERT INTO products (sku, name, description, category_id, price, stock_quantity, low_stock_threshold, supplier_id)
  VALUES (p->>'sku', p->>'name', p->>'description', (p->>'category_id')::bigint, (p->>'price')::numeric,
          coalesce((p->>'stock_quantity')::integer, 0), coalesce((p->>'low_stock_threshold')::integer, 10),
          (p->>'supplier_id')::bigint)
  RETURNING * INTO v;
  RETURN to_jsonb(v);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'a product with SKU ' || (p->>'sku') || ' already exists';
END $$;
CREATE FUNCTION api.update_product(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v products;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._product_errors(p, false), 'invalid product');
  UPDATE products SET sku = CASE WHEN p ? 'sku' THEN p->>'sku' ELSE sku END,
                      name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                      description = CASE WHEN p ? 'description' THEN p->>'description' ELSE description END,
                      category_id = CASE WHEN p ? 'category_id' THEN (p->>'category_id')::bigint ELSE category_id END,
                      supplier_id = CASE WHEN p ? 'supplier_id' THEN (p->>'supplier_id')::bigint ELSE supplier_id END,
                      price = CASE WHEN p ? 'price' THEN (p->>'price')::numeric ELSE price END,
                      low_stock_threshold = CASE WHEN p ? 'low_stock_threshold' THEN (p->>'low_stock_threshold')::integer ELSE low_stock_threshold END,
                      updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'a product with SKU ' || (p->>'sku') || ' already exists';
END $$;

-- deletes: true when deleted, false when absent; refused by a reference -> 23503 (HTTP 409)
CREATE FUNCTION api._delete(p_table regclass, p_id bigint, p_noun text, p_refs text)
RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer;
BEGIN
  EXECUTE format('DELETE FROM %s WHERE id = $1', p_table) USING p_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
EXCEPTION WHEN foreign_key_violation THEN
  RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
    MESSAGE = p_noun || ' ' || p_id || ' is still referenced by ' || p_refs || '; it cannot be deleted';
END $$;
CREATE FUNCTION api.delete_category(p_id bigint)
RETURNS boolean LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api._delete('categories', p_id, 'category', 'products')
$$;
CREATE FUNCTION api.delete_supplier(p_id bigint)
RETURNS boolean LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api._delete('suppliers', p_id, 'supplier', 'products')
$$;
CREATE FUNCTION api.delete_product(p_id bigint)
RETURNS boolean LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api._delete('products', p_id, 'product', 'transactions')
$$;

-- ---------------------------------------------------------------- customers
CREATE FUNCTION api.list_customers(p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN p := '{}'; END IF;
  PERFORM api._raise_if(api._check_keys(p, ARRAY['q', 'country', 'min_risk', 'sort', 'limit', 'offset'])
    || api._check_text(p, 'q', false, 100)
    || api._check_text(p, 'country', false, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
    || api._check_num(p, 'min_risk', 0, 100)
    || api._check_page(p, ARRAY['id', 'name', 'email', 'country', 'registration_date', 'total_spent', 'risk_score']),
    'invalid query');
  RETURN api._list('customers', p,
    '($1[1] IS NULL OR r.name ILIKE ''%'' || $1[1] || ''%'' OR r.email ILIKE ''%'' || $1[1] || ''%'')
     AND ($1[2] IS NULL OR r.country = $1[2]) AND ($1[3] IS NULL OR r.risk_score >= $1[3]::numeric)',
    NULL, 'id', p->>'q', p->>'country', p->>'min_risk');
END $$;

CREATE FUNCTION api.get_customer(p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT to_jsonb(c) || jsonb_build_object('stats', (
           SELECT jsonb_build_object('transactions', count(*), 'amount', coalesce(sum(t.amount), 0),
                                     'suspicious', count(*) FILTER (WHERE t.is_suspicious),
                                     'first_transaction_at', min(t.transaction_time),
                                     'last_transaction_at', max(t.transaction_time))
             FROM transactions t WHERE t.customer_id = c.id))
    FROM customers c WHERE c.id = p_id
$$;

CREATE FUNCTION api._customer_errors(p jsonb, p_create boolean)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT api._check_keys(p, ARRAY['email', 'name', 'country', 'city', 'home_lat', 'home_lon'])
      || api._check_text(p, 'email', p_create, 254, '^[^@\s]+@[^@\s]+$', 'must be an e-mail address')
      || api._check_text(p, 'name', p_create, 200)
      || api._check_text(p, 'country', p_create, 2, '^[A-Z]{2}$', 'must be an ISO 3166-1 alpha-2 code such as GB')
      || api._check_text(p, 'city', false, 200)
      || api._check_num(p, 'home_lat', -90, 90, false, 8) || api._check_num(p, 'home_lon', -180, 180, false, 8)
      || api._err('home_lat', CASE WHEN (p ? 'home_lat') <> (p ? 'home_lon') THEN 'home_lat and home_lon go together' END)
      || (SELECT coalesce(jsonb_agg(jsonb_build_object('field', k, 'message', 'must not be null')), '[]')
            FROM unnest(ARRAY['email', 'name', 'country']) k WHERE NOT p_create AND p ? k AND jsonb_typeof(p->k) = 'null')
$$;
CREATE FUNCTION api.create_customer(p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v customers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._customer_errors(p, true), 'invalid customer');
  INSERT INTO customers (email, name, country, city, home_lat, home_lon)
  VALUES (p->>'email', p->>'name', p->>'country', p->>'city', (p->>'home_lat')::float8, (p->>'home_lon')::float8)
  RETURNING * INTO v;
  RETURN to_jsonb(v);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'a customer with e-mail ' || (p->>'email') || ' already exists';
END $$;
CREATE FUNCTION api.update_customer(p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE v customers;
BEGIN
  PERFORM api._require_object(p);
  PERFORM api._raise_if(api._customer_errors(p, false), 'invalid customer');
  UPDATE customers SET email = CASE WHEN p ? 'email' THEN p->>'email' ELSE email END,
                       name = CASE WHEN p ? 'name' THEN p->>'name' ELSE name END,
                       country = CASE WHEN p ? 'country' THEN p->>'country' ELSE country END,
                       city = CASE WHEN p ? 'city' THEN p->>'city' ELSE city END,
                       home_lat = CASE WHEN p ? 'home_lat' THEN (p->>'home_lat')::float8 ELSE home_lat END,
                       home_lon = CASE WHEN p ? 'home_lon' THEN (p->>'home_lon')::float8 ELSE home_lon END,
                       updated_at = now()
   WHERE id = p_id RETURNING * INTO v;
  IF NOT FOUND THEN RETURN NULL; END IF;
  RETURN to_jsonb(v);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'a customer with e-mail ' || (p->>'email') || ' already exists';
END $$;

-- ------------------------------------------------------------------- grants
GRANT EXECUTE ON FUNCTION
  api.list_transactions(jsonb), api.suspicious_transactions(jsonb), api.export_transactions(jsonb),
  api.update_transaction(bigint, jsonb, text),
  api.create_alert(jsonb), api.get_alert(bigint), api.list_alerts(jsonb), api.update_alert(bigint, jsonb, text),
  api.alerts_status(jsonb),
  api.list_inventory(jsonb), api.low_stock(jsonb), api.update_inventory(bigint, jsonb, text),
  api.inventory_history(bigint, jsonb),
  api.list_categories(jsonb), api.get_category(bigint), api.create_category(jsonb),
  api.update_category(bigint, jsonb), api.delete_category(bigint),
  api.list_suppliers(jsonb), api.get_supplier(bigint), api.create_supplier(jsonb),
  api.update_supplier(bigint, jsonb), api.delete_supplier(bigint),
  api.list_products(jsonb), api.get_product(bigint), api.create_product(jsonb),
  api.update_product(bigint, jsonb), api.delete_product(bigint),
  api.list_customers(jsonb), api.get_customer(bigint), api.create_customer(jsonb), api.update_customer(bigint, jsonb)
TO techmart_api;

COMMIT;
