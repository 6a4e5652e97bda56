-- Revert techmart:api_viewer_privacy from pg: the role variants and the masks dropped, the
-- functions without a role executable by techmart_api again, their comments and api.alert_event
-- as before
BEGIN;

DROP FUNCTION api.list_transactions(jsonb, text), api.suspicious_transactions(jsonb, text),
  api.recent_transactions(integer, text), api.get_transaction(bigint, text), api.fraud_explain(bigint, text),
  api.list_alerts(jsonb, text), api.get_alert(bigint, text), api.list_customers(jsonb, text), api.get_customer(bigint, text),
  api.fraud_geo(timestamptz, timestamptz, integer, text);

CREATE OR REPLACE FUNCTION api.alert_event(a alerts)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j
              ELSE (j - 'metadata') || jsonb_build_object('message', left(a.message, 1000), 'truncated', true)
         END
    FROM (SELECT to_jsonb(a) AS j) s
$$;
COMMENT ON FUNCTION api.alert_event(alerts) IS NULL;

DROP FUNCTION api.mask_items(jsonb, text, text), api.mask_alert(jsonb, text), api.mask_customer(jsonb, text),
  api.mask_transaction(jsonb, text), api.mask_reasons(jsonb), api.role_sees_private(text);

COMMENT ON FUNCTION api.list_transactions(jsonb) IS
  'GET /api/v1/transactions: filters from, to, status, customer_id, product_id, category_id, country, min_score, max_score, suspicious, label; sort; limit/offset; {items,total,limit,offset}';
COMMENT ON FUNCTION api.suspicious_transactions(jsonb) IS
  'GET /api/v1/transactions/suspicious: the list filtered to is_suspicious, newest first';
COMMENT ON FUNCTION api.recent_transactions(integer) IS 'GET /api/v1/transactions/recent';
COMMENT ON FUNCTION api.get_transaction(bigint) IS 'GET /api/v1/transactions/{id}; NULL when absent';
COMMENT ON FUNCTION api.fraud_explain(bigint) IS
  'GET /api/v1/fraud/explain/{id}: the rows of techmart.explain(id) (each reason, then "= score" with the threshold '
  'and the verdict); NULL when the transaction does not exist';
COMMENT ON FUNCTION api.list_alerts(jsonb) IS NULL;
COMMENT ON FUNCTION api.get_alert(bigint) IS NULL;
COMMENT ON FUNCTION api.list_customers(jsonb) IS NULL;
COMMENT ON FUNCTION api.get_customer(bigint) IS NULL;
COMMENT ON FUNCTION api.fraud_geo(timestamptz, timestamptz, integer) IS
  'GET /api/v1/fraud/geo?from=&to=&limit=: per country (transactions, suspicious, rate, average score, revenue, mean coordinates) and the suspicious transactions with coordinates, highest score first (at most limit)';

GRANT EXECUTE ON FUNCTION api.list_transactions(jsonb), api.suspicious_transactions(jsonb), api.recent_transactions(integer),
  api.get_transaction(bigint), api.fraud_explain(bigint), api.list_alerts(jsonb), api.get_alert(bigint),
  api.list_customers(jsonb), api.get_customer(bigint), api.fraud_geo(timestamptz, timestamptz, integer) TO techmart_api;

COMMIT;
