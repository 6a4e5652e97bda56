-- Revert techmart:api_forecast_explain from pg
BEGIN;
CREATE OR REPLACE FUNCTION api.get_transaction(p_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT api.transaction_json(t) FROM transactions t WHERE t.id = p_id
$$;
DROP FUNCTION api.fraud_explain(bigint);
DROP FUNCTION api.forecast_revenue(text, integer, integer, float8, timestamptz);
COMMIT;
