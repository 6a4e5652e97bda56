-- Deploy techmart:api_live to pg
-- requires: api_auth
--
-- Idempotent POST /transactions, and the notifications behind the live stream
-- (docs/architecture.md, "Notifications").
BEGIN;

-- ---------------------------------------------------------------- idempotency
-- The first response to (scope, key) is stored in the same transaction as the insert it
-- describes; a retry gets the stored response and books nothing. Kept at least 24 hours
-- (api.purge_idempotency_keys removes rows older than 25 hours; the service calls it hourly).
CREATE TABLE idempotency_keys (
  scope           text NOT NULL,                 -- the caller (user id); keys are per caller
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash    text NOT NULL,                 -- sha256 of the normalised (jsonb) body
  response_status integer NOT NULL CHECK (response_status BETWEEN 100 AND 599),
  response_body   jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
COMMENT ON TABLE idempotency_keys IS
  'Stored first responses of POST /api/v1/transactions per Idempotency-Key (kept >= 24 h)';

-- -> {"status", "body", "replayed"}. Same key + same body: the stored response. Same key +
-- other body: 22023 (HTTP 422). Same key while the first request is still running: 55P03
-- (HTTP 409). Validation errors are not stored (nothing was booked; a fixed retry may succeed).
CREATE FUNCTION api.create_transaction_idempotent(p_scope text, p_key text, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_hash text := encode(digest(coalesce(p, 'null'::jsonb)::text, 'sha256'), 'hex');
  v_row  idempotency_keys;
  v_body jsonb;
BEGIN
  IF p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 255 THEN
    PERFORM api.raise_invalid('[{"field":"Idempotency-Key","message":"must be 1 to 255 characters"}]');
  END IF;
  -- a concurrent request with the same key holds this lock until it commits
  IF NOT pg_try_advisory_xact_lock(hashtextextended('techmart.idempotency:' || p_scope || ':' || p_key, 0)) THEN
    RAISE EXCEPTION USING ERRCODE = 'lock_not_available',
      MESSAGE = 'a request with this Idempotency-Key is still in progress';
  END IF;
  SELECT * INTO v_row FROM idempotency_keys WHERE scope = p_scope AND key = p_key;
  IF FOUND THEN
    IF v_row.request_hash <> v_hash THEN
      PERFORM api.raise_invalid(
        '[{"field":"Idempotency-Key","message":"was already used with a different request body"}]',
        'Idempotency-Key reused');
    END IF;
    RETURN jsonb_build_object('status', v_row.response_status, 'body', v_row.response_body, 'replayed', true);
  END IF;
  v_body := api.create_transaction(p);
  INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
  VALUES (p_scope, p_key, v_hash, 201, v_body);
  RETURN jsonb_build_object('status', 201, 'body', v_body, 'replayed', false);
END $$;
COMMENT ON FUNCTION api.create_transaction_idempotent(text, text, jsonb) IS
  'POST /api/v1/transactions with an Idempotency-Key: {status, body, replayed}';

CREATE FUNCTION api.purge_idempotency_keys()
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH d AS (DELETE FROM idempotency_keys WHERE created_at < now() - interval '25 hours' RETURNING 1)
  SELECT count(*)::integer FROM d
$$;

-- ------------------------------------------------------------- notifications
-- The payload of a new transaction (compact: about 150 bytes).
CREATE FUNCTION api.transaction_event(p_id bigint, p_amount numeric, p_score numeric, p_susp boolean,
                                      p_customer bigint, p_time timestamptz)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object('id', p_id, 'amount', p_amount, 'fraud_score', p_score,
                            'is_suspicious', p_susp, 'customer_id', p_customer, 'time', p_time)
$$;

-- The payload of a new alert: the row; metadata and message are dropped/shortened when the
-- payload would exceed pg_notify's 8000 bytes (the client can GET /alerts/{id}).
CREATE FUNCTION api.alert_event(a alerts)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j
              ELSE (j - 'metadata') || jsonb_build_object('message', left(a.message, 1000), 'truncated', true)
         END
    FROM (SELECT to_jsonb(a) AS j) s
$$;

-- Statement-level with a transition table: a single-row INSERT costs one NOTIFY; a bulk
-- INSERT/COPY of more than 50 rows sends one summary {"bulk":true,...} instead of one
-- notification per row (clients refetch).
CREATE FUNCTION api.notify_transactions()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_count bigint;
BEGIN
  SELECT count(*) INTO v_count FROM new_rows;
  IF v_count = 0 THEN
    RETURN NULL;
  ELSIF v_count <= 50 THEN
    PERFORM pg_notify('techmart_transactions',
                      api.transaction_event(n.id, n.amount, n.fraud_score, n.is_suspicious,
                                            n.customer_id, n.transaction_time)::text)
       FROM new_rows n ORDER BY n.id;
  ELSE
    PERFORM pg_notify('techmart_transactions', jsonb_build_object(
              'bulk', true, 'count', v_count, 'min_id', min(n.id), 'max_id', max(n.id),
              'suspicious', count(*) FILTER (WHERE n.is_suspicious))::text)
       FROM new_rows n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER transactions_notify
  AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION api.notify_transactions();

CREATE FUNCTION api.notify_alert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_notify('techmart_alerts', api.alert_event(NEW)::text);
  RETURN NULL;
END $$;

CREATE TRIGGER alerts_notify
  AFTER INSERT ON alerts
  FOR EACH ROW EXECUTE FUNCTION api.notify_alert();

-- Replay for SSE clients reconnecting with Last-Event-ID "<transaction id>-<alert id>":
-- events after those ids, oldest first, at most p_limit of each kind ({"truncated":true} when
-- there were more), plus the current maxima. p_limit = 0: only the maxima.
CREATE FUNCTION api.stream_replay(p_tx_after bigint, p_alert_after bigint, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tx jsonb := '[]';
  v_al jsonb := '[]';
  v_tx_n integer := 0;
  v_al_n integer := 0;
BEGIN
  IF p_limit IS NULL OR p_limit < 0 OR p_limit > 100000 THEN
    PERFORM api.raise_invalid('[{"field":"limit","message":"must be between 0 and 100000"}]');
  END IF;
  IF p_limit > 0 AND p_tx_after IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(api.transaction_event(t.id, t.amount, t.fraud_score, t.is_suspicious,
                                                    t.customer_id, t.transaction_time) ORDER BY t.id), '[]'),
           count(*)
      INTO v_tx, v_tx_n
      FROM (SELECT * FROM transactions WHERE id > p_tx_after ORDER BY id LIMIT p_limit + 1) t;
  END IF;
  IF p_limit > 0 AND p_alert_after IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(api.alert_event(a) ORDER BY a.id), '[]'), count(*)
      INTO v_al, v_al_n
      FROM (SELECT * FROM alerts WHERE id > p_alert_after ORDER BY id LIMIT p_limit + 1) a;
  END IF;
  RETURN jsonb_build_object(
    'transactions', CASE WHEN v_tx_n > p_limit THEN v_tx - p_limit ELSE v_tx END,
    'alerts', CASE WHEN v_al_n > p_limit THEN v_al - p_limit ELSE v_al END,
    'truncated', v_tx_n > p_limit OR v_al_n > p_limit,
    'max_transaction_id', (SELECT coalesce(max(id), 0) FROM transactions),
    'max_alert_id', (SELECT coalesce(max(id), 0) FROM alerts));
END $$;
COMMENT ON FUNCTION api.stream_replay(bigint, bigint, integer) IS
  'GET /api/v1/stream with Last-Event-ID: the events after the given ids';

GRANT EXECUTE ON FUNCTION api.create_transaction_idempotent(text, text, jsonb), api.purge_idempotency_keys(),
  api.stream_replay(bigint, bigint, integer) TO techmart_api;

COMMIT;
