-- Deploy techmart:api_v1 to pg
-- requires: schema
--
-- The REST service calls exactly one of these functions per endpoint. They take
-- and return jsonb. Invalid input raises SQLSTATE 22023 (invalid_parameter_value)
-- with a DETAIL that is a JSON object {"errors":[{"field":..,"message":..}]};
-- the service turns it into a 422 problem+json with the same field errors, and
-- a psql user reads the same message.
BEGIN;

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS 'JSON functions behind the REST API (one function per endpoint)';

-- Raise a validation error carrying field errors (array of {field, message}).
CREATE FUNCTION api.raise_invalid(p_errors jsonb, p_message text DEFAULT 'invalid input')
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RAISE EXCEPTION USING
    ERRCODE = 'invalid_parameter_value',
    MESSAGE = p_message || ': ' || (SELECT string_agg(e->>'field' || ' ' || (e->>'message'), '; ')
                                     FROM jsonb_array_elements(p_errors) e),
    DETAIL  = jsonb_build_object('errors', p_errors)::text;
END $$;

CREATE FUNCTION api.transaction_json(t transactions)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'customer_id', t.customer_id, 'product_id', t.product_id,
    'quantity', t.quantity, 'unit_price', t.unit_price, 'amount', t.amount,
    'transaction_time', t.transaction_time, 'status', t.status,
    'payment_method', t.payment_method, 'platform', t.platform, 'order_number', t.order_number,
    'country', t.country, 'latitude', t.latitude, 'longitude', t.longitude,
    'device_id', t.device_id, 'ip_address', host(t.ip_address), 'payment_fingerprint', t.payment_fingerprint,
    'fraud_score', t.fraud_score, 'fraud_reasons', t.fraud_reasons, 'is_suspicious', t.is_suspicious,
    'label', t.label, 'labelled_at', t.labelled_at, 'created_at', t.created_at)
$$;

CREATE FUNCTION api.health()
RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'database', 'up',
    'server_version', current_setting('server_version'),
    'extension_version', (SELECT extversion FROM pg_extension WHERE extname = 'techmart'),
    'time', now())
$$;

CREATE FUNCTION api.get_transaction(p_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT api.transaction_json(t) FROM transactions t WHERE t.id = p_id
$$;

CREATE FUNCTION api.recent_transactions(p_limit integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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

-- POST /api/v1/transactions. Validates every field (all errors at once), inserts
-- (the techmart trigger scores the row) and returns the stored row.
CREATE FUNCTION api.create_transaction(p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  allowed  constant text[] := ARRAY['customer_id', 'product_id', 'quantity', 'unit_price', 'transaction_time',
                                    'status', 'payment_method', 'platform', 'order_number', 'country',
                                    'latitude', 'longitude', 'device_id', 'ip_address', 'payment_fingerprint'];
  errs     jsonb := '[]';
  k        text;
  v_price  numeric;
  v_time   timestamptz;
  v_ip     inet;
  v_row    transactions;
  v_cust   bigint;
  v_prod   bigint;
BEGIN
  IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN
    PERFORM api.raise_invalid('[{"field":"","message":"body must be a JSON object"}]');
  END IF;
  FOR k IN SELECT jsonb_object_keys(p) LOOP
    IF NOT k = ANY (allowed) THEN
      errs := errs || jsonb_build_object('field', k, 'message', 'is not a known field');
    END IF;
  END LOOP;

  -- required integers
  FOREACH k IN ARRAY ARRAY['customer_id', 'product_id', 'quantity'] LOOP
    IF p->k IS NULL OR jsonb_typeof(p->k) = 'null' THEN
      errs := errs || jsonb_build_object('field', k, 'message', 'is required');
    ELSIF jsonb_typeof(p->k) <> 'number' OR (p->>k)::numeric <> trunc((p->>k)::numeric)
          OR (p->>k)::numeric < 1 OR (p->>k)::numeric > 9223372036854775807 THEN
      errs := errs || jsonb_build_object('field', k, 'message', 'must be a positive integer');
    ELSIF k = 'quantity' AND (p->>k)::numeric > 1000000 THEN
      errs := errs || jsonb_build_object('field', k, 'message', 'must be at most 1000000');
    END IF;
  END LOOP;

  IF p ? 'unit_price' AND jsonb_typeof(p->'unit_price') <> 'null' THEN
    IF jsonb_typeof(p->'unit_price') <> 'number' THEN
      errs := errs || '{"field":"unit_price","message":"must be a number"}'::jsonb;
    ELSE
      v_price := (p->>'unit_price')::numeric;
      IF v_price < 0 OR v_price >= 100000000000 OR scale(v_price) > 3 THEN
        errs := errs || '{"field":"unit_price","message":"must be between 0 and 99999999999.999 with at most 3 decimals"}'::jsonb;
      END IF;
    END IF;
  END IF;

  IF NOT (p ? 'payment_method') OR jsonb_typeof(p->'payment_method') = 'null' THEN
    errs := errs || '{"field":"payment_method","message":"is required"}'::jsonb;
  ELSIF jsonb_typeof(p->'payment_method') <> 'string' OR NOT (p->>'payment_method' = ANY (ARRAY[
        'credit_card', 'debit_card', 'paypal', 'bank_transfer', 'apple_pay', 'google_pay', 'gift_card',
        'crypto', 'cash_on_delivery', 'unknown'])) THEN
    errs := errs || '{"field":"payment_method","message":"must be one of credit_card, debit_card, paypal, bank_transfer, apple_pay, google_pay, gift_card, crypto, cash_on_delivery, unknown"}'::jsonb;
  END IF;

  IF p ? 'status' AND (jsonb_typeof(p->'status') <> 'string'
       OR NOT (p->>'status' = ANY (ARRAY['pending', 'completed', 'failed', 'refunded', 'blocked']))) THEN
    errs := errs || '{"field":"status","message":"must be one of pending, completed, failed, refunded, blocked"}'::jsonb;
  END IF;
  IF p ? 'platform' AND (jsonb_typeof(p->'platform') <> 'string' OR p->>'platform' !~ '^[a-z0-9_]{1,40}$') THEN
    errs := errs || '{"field":"platform","message":"must be 1-40 characters of a-z, 0-9 and _"}'::jsonb;
  END IF;
  IF p ? 'country' AND jsonb_typeof(p->'country') <> 'null'
     AND (jsonb_typeof(p->'country') <> 'string' OR p->>'country' !~ '^[A-Z]{2}$') THEN
    errs := errs || '{"field":"country","message":"must be an ISO 3166-1 alpha-2 code such as GB"}'::jsonb;
  END IF;
  IF p ? 'order_number' AND jsonb_typeof(p->'order_number') <> 'null'
     AND (jsonb_typeof(p->'order_number') <> 'string' OR btrim(p->>'order_number') = ''
          OR length(p->>'order_number') > 64) THEN
    errs := errs || '{"field":"order_number","message":"must be a non-empty string of at most 64 characters"}'::jsonb;
  END IF;
  IF p ? 'device_id' AND jsonb_typeof(p->'device_id') <> 'null'
     AND (jsonb_typeof(p->'device_id') <> 'string' OR length(p->>'device_id') NOT BETWEEN 1 AND 200) THEN
    errs := errs || '{"field":"device_id","message":"must be a string of 1 to 200 characters"}'::jsonb;
  END IF;
  IF p ? 'payment_fingerprint' AND jsonb_typeof(p->'payment_fingerprint') <> 'null'
     AND (jsonb_typeof(p->'payment_fingerprint') <> 'string' OR p->>'payment_fingerprint' !~ '^[0-9a-f]{16,128}$') THEN
    errs := errs || '{"field":"payment_fingerprint","message":"must be 16 to 128 lower-case hex digits (a hash, never a card number)"}'::jsonb;
  END IF;
  IF (p ? 'latitude' AND jsonb_typeof(p->'latitude') <> 'null') <> (p ? 'longitude' AND jsonb_typeof(p->'longitude') <> 'null') THEN
    errs := errs || '{"field":"latitude","message":"latitude and longitude go together"}'::jsonb;
  END IF;
  IF p ? 'latitude' AND jsonb_typeof(p->'latitude') <> 'null'
     AND (jsonb_typeof(p->'latitude') <> 'number' OR abs((p->>'latitude')::numeric) > 90) THEN
    errs := errs || '{"field":"latitude","message":"must be a number between -90 and 90"}'::jsonb;
  END IF;
  IF p ? 'longitude' AND jsonb_typeof(p->'longitude') <> 'null'
     AND (jsonb_typeof(p->'longitude') <> 'number' OR abs((p->>'longitude')::numeric) > 180) THEN
    errs := errs || '{"field":"longitude","message":"must be a number between -180 and 180"}'::jsonb;
  END IF;
  IF p ? 'ip_address' AND jsonb_typeof(p->'ip_address') <> 'null' THEN
    BEGIN
      IF jsonb_typeof(p->'ip_address') <> 'string' THEN RAISE invalid_text_representation; END IF;
      v_ip := (p->>'ip_address')::inet;
    EXCEPTION WHEN invalid_text_representation THEN
      errs := errs || '{"field":"ip_address","message":"must be an IPv4 or IPv6 address"}'::jsonb;
    END;
  END IF;
  IF p ? 'transaction_time' AND jsonb_typeof(p->'transaction_time') <> 'null' THEN
    BEGIN
      IF jsonb_typeof(p->'transaction_time') <> 'string'
         OR p->>'transaction_time' !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$' THEN
        RAISE invalid_datetime_format;
      END IF;
      v_time := (p->>'transaction_time')::timestamptz;
      IF v_time > now() + interval '5 minutes' THEN
        errs := errs || '{"field":"transaction_time","message":"must not be in the future"}'::jsonb;
      END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
      errs := errs || '{"field":"transaction_time","message":"must be an ISO 8601 timestamp with a time zone, e.g. 2026-11-22T10:15:00Z"}'::jsonb;
    END;
  END IF;

  IF jsonb_array_length(errs) = 0 THEN
    -- references: reported as field errors, not as a foreign-key failure
    SELECT id INTO v_cust FROM customers WHERE id = (p->>'customer_id')::bigint;
    IF NOT FOUND THEN
      errs := errs || jsonb_build_object('field', 'customer_id', 'message', 'no customer with id ' || (p->>'customer_id'));
    END IF;
    SELECT id, coalesce(v_price, price) INTO v_prod, v_price FROM products WHERE id = (p->>'product_id')::bigint;
    IF NOT FOUND THEN
      errs := errs || jsonb_build_object('field', 'product_id', 'message', 'no product with id ' || (p->>'product_id'));
    END IF;
  END IF;

  IF jsonb_array_length(errs) > 0 THEN
    PERFORM api.raise_invalid(errs, 'invalid transaction');
  END IF;

  INSERT INTO transactions (customer_id, product_id, quantity, unit_price, transaction_time, status,
                            payment_method, platform, order_number, country, latitude, longitude,
                            device_id, ip_address, payment_fingerprint)
  VALUES (v_cust, v_prod, (p->>'quantity')::integer, v_price, coalesce(v_time, now()),
          coalesce(p->>'status', 'completed'), p->>'payment_method', coalesce(p->>'platform', 'web'),
          p->>'order_number', p->>'country', (p->>'latitude')::float8, (p->>'longitude')::float8,
          p->>'device_id', v_ip, p->>'payment_fingerprint')
  RETURNING * INTO v_row;
  RETURN api.transaction_json(v_row);
END $$;

COMMENT ON FUNCTION api.create_transaction(jsonb) IS
  'POST /api/v1/transactions: validate, insert (scored by the trigger), return the stored row';
COMMENT ON FUNCTION api.recent_transactions(integer) IS 'GET /api/v1/transactions/recent';
COMMENT ON FUNCTION api.get_transaction(bigint) IS 'GET /api/v1/transactions/{id}; NULL when absent';
COMMENT ON FUNCTION api.health() IS 'GET /health: database status';

COMMIT;
