-- Deploy techmart:api_viewer_privacy to pg
-- requires: api_forecast_explain
-- requires: list_search_literal
-- requires: api_rest
-- requires: api_live
--
-- A viewer token (SPEC: managers and support, the dashboard) saw what only the fraud analysts
-- need: each transaction's IP address, device id, payment fingerprint and purchase location
-- (latitude/longitude), the customers' home location (home_lat/home_lon), and the same
-- identifiers inside the readable reasons of the entity rules ("IP 203.0.113.7: 2 confirmed
-- frauds of ...") in fraud_reasons, explanations and fraud alerts. The rule lives here, once:
--
--   api.role_sees_private(role)   admin, analyst: true; viewer: false; anything else: 22023
--   api.mask_reasons(reasons)     entity_device/ip/ip24/payment details with the identifier withheld
--   api.mask_transaction(j, role) for a viewer: without latitude, longitude, device_id, ip_address,
--                                 payment_fingerprint; fraud_reasons and explanation masked
--   api.mask_customer(j, role)    for a viewer: without home_lat, home_lon
--   api.mask_alert(j, role)       for a viewer: metadata.reasons masked
--
-- Every endpoint function returning transaction, customer or alert rows gets a variant with the
-- caller's role as its last argument (the service passes the token's role, as it passes the
-- actor of updates); the variants without it stay as they were (the unmasked view of a DBA in
-- psql) but are no longer executable by techmart_api, so the service cannot skip the rule:
--   api.list_transactions(jsonb, text)        api.suspicious_transactions(jsonb, text)
--   api.recent_transactions(integer, text)    api.get_transaction(bigint, text)
--   api.fraud_explain(bigint, text)           api.list_alerts(jsonb, text)
--   api.get_alert(bigint, text)               api.list_customers(jsonb, text)
--   api.get_customer(bigint, text)            api.fraud_geo(timestamptz, timestamptz, integer, text)
-- fraud_geo for a viewer: points and countries without coordinates (a country's mean location
-- of one transaction is that transaction's location). The live stream is one feed for every
-- role: its alert events (api.alert_event, NOTIFY and replay) carry the viewer's view.
-- The CSV export has none of these columns (unchanged).
BEGIN;

CREATE FUNCTION api.role_sees_private(p_role text)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  CASE p_role
    WHEN 'admin', 'analyst' THEN RETURN true;
    WHEN 'viewer' THEN RETURN false;
    ELSE PERFORM api.raise_invalid(api._err('role', 'must be admin, analyst or viewer'), 'invalid role');
  END CASE;
  RETURN false;
END $$;
COMMENT ON FUNCTION api.role_sees_private(text) IS
  'Whether an API role may see customers'' network, device, payment and location identifiers: admin and analyst yes, '
  'viewer no; another role or NULL is 22023';

CREATE FUNCTION api.mask_reasons(p_reasons jsonb)
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
COMMENT ON FUNCTION api.mask_reasons(jsonb) IS
  'Reasons (fraud_reasons, explanation rows, alert metadata.reasons) with the device, IP, network and payment '
  'fingerprint of the entity rules'' details withheld ("IP (withheld): 2 confirmed frauds of ...")';

CREATE FUNCTION api.mask_transaction(j jsonb, p_role text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  j := j - ARRAY['latitude', 'longitude', 'device_id', 'ip_address', 'payment_fingerprint'];
  IF j ? 'fraud_reasons' THEN j := jsonb_set(j, '{fraud_reasons}', api.mask_reasons(j->'fraud_reasons')); END IF;
  IF j ? 'explanation' THEN j := jsonb_set(j, '{explanation}', api.mask_reasons(j->'explanation')); END IF;
  RETURN j;
END $$;
COMMENT ON FUNCTION api.mask_transaction(jsonb, text) IS
  'A transaction as the role may see it: for a viewer without latitude, longitude, device_id, ip_address, '
  'payment_fingerprint, and with the entity identifiers of fraud_reasons and explanation withheld';

CREATE FUNCTION api.mask_customer(j jsonb, p_role text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  RETURN j - ARRAY['home_lat', 'home_lon'];
END $$;
COMMENT ON FUNCTION api.mask_customer(jsonb, text) IS
  'A customer as the role may see it: for a viewer without the home location (home_lat, home_lon)';

CREATE FUNCTION api.mask_alert(j jsonb, p_role text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  IF jsonb_typeof(j->'metadata') = 'object' AND j->'metadata' ? 'reasons' THEN
    j := jsonb_set(j, '{metadata,reasons}', api.mask_reasons(j#>'{metadata,reasons}'));
  END IF;
  RETURN j;
END $$;
COMMENT ON FUNCTION api.mask_alert(jsonb, text) IS
  'An alert as the role may see it: for a viewer the entity identifiers of metadata.reasons withheld';

-- {items: [...], ...} with each item masked by kind (transaction, customer, alert)
CREATE FUNCTION api.mask_items(j jsonb, p_role text, p_kind text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF api.role_sees_private(p_role) OR j IS NULL OR jsonb_typeof(j->'items') IS DISTINCT FROM 'array' THEN RETURN j; END IF;
  RETURN jsonb_set(j, '{items}', (
    SELECT coalesce(jsonb_agg(CASE p_kind WHEN 'transaction' THEN api.mask_transaction(i, p_role)
                                          WHEN 'customer' THEN api.mask_customer(i, p_role)
                                          WHEN 'alert' THEN api.mask_alert(i, p_role) END ORDER BY o), '[]')
      FROM jsonb_array_elements(j->'items') WITH ORDINALITY e(i, o)));
END $$;
COMMENT ON FUNCTION api.mask_items(jsonb, text, text) IS
  'A list answer {items, ...} with each item masked for the role (kind transaction, customer or alert)';

-- ------------------------------------------------------------------ endpoints with the caller's role
CREATE FUNCTION api.list_transactions(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.list_transactions(p), p_role, 'transaction')
$$;
COMMENT ON FUNCTION api.list_transactions(jsonb, text) IS
  'GET /api/v1/transactions as the role may see it (api.mask_transaction); filters, sort and paging of api.list_transactions(jsonb)';

CREATE FUNCTION api.suspicious_transactions(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.suspicious_transactions(p), p_role, 'transaction')
$$;
COMMENT ON FUNCTION api.suspicious_transactions(jsonb, text) IS
  'GET /api/v1/transactions/suspicious as the role may see it (api.mask_transaction)';

CREATE FUNCTION api.recent_transactions(p_limit integer, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.recent_transactions(p_limit), p_role, 'transaction')
$$;
COMMENT ON FUNCTION api.recent_transactions(integer, text) IS
  'GET /api/v1/transactions/recent as the role may see it (api.mask_transaction)';

CREATE FUNCTION api.get_transaction(p_id bigint, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_transaction(api.get_transaction(p_id), p_role)
$$;
COMMENT ON FUNCTION api.get_transaction(bigint, text) IS
  'GET /api/v1/transactions/{id} as the role may see it (api.mask_transaction); NULL when absent';

CREATE FUNCTION api.fraud_explain(p_id bigint, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT CASE WHEN api.role_sees_private(p_role) THEN e ELSE api.mask_reasons(e) END
    FROM api.fraud_explain(p_id) e
$$;
COMMENT ON FUNCTION api.fraud_explain(bigint, text) IS
  'GET /api/v1/fraud/explain/{id} as the role may see it (api.mask_reasons for a viewer); NULL when the transaction does not exist';

CREATE FUNCTION api.list_alerts(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.list_alerts(p), p_role, 'alert')
$$;
COMMENT ON FUNCTION api.list_alerts(jsonb, text) IS 'GET /api/v1/alerts as the role may see it (api.mask_alert)';

CREATE FUNCTION api.get_alert(p_id bigint, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_alert(api.get_alert(p_id), p_role)
$$;
COMMENT ON FUNCTION api.get_alert(bigint, text) IS 'GET /api/v1/alerts/{id} as the role may see it (api.mask_alert); NULL when absent';

CREATE FUNCTION api.list_customers(p jsonb, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_items(api.list_customers(p), p_role, 'customer')
$$;
COMMENT ON FUNCTION api.list_customers(jsonb, text) IS 'GET /api/v1/customers as the role may see it (api.mask_customer)';

CREATE FUNCTION api.get_customer(p_id bigint, p_role text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.mask_customer(api.get_customer(p_id), p_role)
$$;
COMMENT ON FUNCTION api.get_customer(bigint, text) IS
  'GET /api/v1/customers/{id} as the role may see it (api.mask_customer); NULL when absent';

CREATE FUNCTION api.fraud_geo(p_from timestamptz, p_to timestamptz, p_limit integer, p_role text)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  j jsonb;
BEGIN
  IF api.role_sees_private(p_role) THEN RETURN api.fraud_geo(p_from, p_to, p_limit); END IF;
  j := api.fraud_geo(p_from, p_to, p_limit);
  RETURN j || jsonb_build_object(
    'points', (SELECT coalesce(jsonb_agg(i - ARRAY['latitude', 'longitude'] ORDER BY o), '[]')
                 FROM jsonb_array_elements(j->'points') WITH ORDINALITY e(i, o)),
    'countries', (SELECT coalesce(jsonb_agg(i - ARRAY['latitude', 'longitude'] ORDER BY o), '[]')
                    FROM jsonb_array_elements(j->'countries') WITH ORDINALITY e(i, o)));
END $$;
COMMENT ON FUNCTION api.fraud_geo(timestamptz, timestamptz, integer, text) IS
  'GET /api/v1/fraud/geo as the role may see it: for a viewer the points and countries without latitude/longitude';

-- the live stream: one feed for every role, so its alert events are the viewer's view
CREATE OR REPLACE FUNCTION api.alert_event(a alerts)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j
              ELSE (j - 'metadata') || jsonb_build_object('message', left(a.message, 1000), 'truncated', true)
         END
    FROM (SELECT api.mask_alert(to_jsonb(a), 'viewer') AS j) s
$$;
COMMENT ON FUNCTION api.alert_event(alerts) IS
  'The payload of an alert on the live stream (NOTIFY techmart_alerts, api.stream_replay): the row as a viewer may see it '
  '(api.mask_alert); metadata dropped and message cut when over 7900 bytes';

-- the unmasked variants: for psql, not for the service
COMMENT ON FUNCTION api.list_transactions(jsonb) IS
  'GET /api/v1/transactions: filters from, to, status, customer_id, product_id, category_id, country, min_score, max_score, suspicious, label; sort; limit/offset; {items,total,limit,offset}. Unmasked; the service calls api.list_transactions(jsonb, role)';
COMMENT ON FUNCTION api.suspicious_transactions(jsonb) IS
  'GET /api/v1/transactions/suspicious: the list filtered to is_suspicious, newest first. Unmasked; the service calls api.suspicious_transactions(jsonb, role)';
COMMENT ON FUNCTION api.recent_transactions(integer) IS
  'GET /api/v1/transactions/recent. Unmasked; the service calls api.recent_transactions(integer, role)';
COMMENT ON FUNCTION api.get_transaction(bigint) IS
  'GET /api/v1/transactions/{id}; NULL when absent. Unmasked; the service calls api.get_transaction(bigint, role)';
COMMENT ON FUNCTION api.fraud_explain(bigint) IS
  'GET /api/v1/fraud/explain/{id}: the rows of techmart.explain(id) (each reason, then "= score" with the threshold '
  'and the verdict); NULL when the transaction does not exist. Unmasked; the service calls api.fraud_explain(bigint, role)';
COMMENT ON FUNCTION api.list_alerts(jsonb) IS 'GET /api/v1/alerts. Unmasked; the service calls api.list_alerts(jsonb, role)';
COMMENT ON FUNCTION api.get_alert(bigint) IS 'GET /api/v1/alerts/{id}. Unmasked; the service calls api.get_alert(bigint, role)';
COMMENT ON FUNCTION api.list_customers(jsonb) IS 'GET /api/v1/customers. Unmasked; the service calls api.list_customers(jsonb, role)';
COMMENT ON FUNCTION api.get_customer(bigint) IS 'GET /api/v1/customers/{id}. Unmasked; the service calls api.get_customer(bigint, role)';
COMMENT ON FUNCTION api.fraud_geo(timestamptz, timestamptz, integer) IS
  'GET /api/v1/fraud/geo?from=&to=&limit=: per country (transactions, suspicious, rate, average score, revenue, mean coordinates) '
  'and the suspicious transactions with coordinates, highest score first (at most limit). Unmasked; the service calls '
  'api.fraud_geo(timestamptz, timestamptz, integer, role)';

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api.list_transactions(jsonb), api.suspicious_transactions(jsonb), api.recent_transactions(integer),
  api.get_transaction(bigint), api.fraud_explain(bigint), api.list_alerts(jsonb), api.get_alert(bigint),
  api.list_customers(jsonb), api.get_customer(bigint), api.fraud_geo(timestamptz, timestamptz, integer) FROM techmart_api;
GRANT EXECUTE ON FUNCTION api.list_transactions(jsonb, text), api.suspicious_transactions(jsonb, text),
  api.recent_transactions(integer, text), api.get_transaction(bigint, text), api.fraud_explain(bigint, text),
  api.list_alerts(jsonb, text), api.get_alert(bigint, text), api.list_customers(jsonb, text), api.get_customer(bigint, text),
  api.fraud_geo(timestamptz, timestamptz, integer, text) TO techmart_api;

COMMIT;
