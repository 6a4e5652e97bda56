-- Revert techmart:api_rest from pg
BEGIN;
DROP FUNCTION api.fraud_geo(timestamptz, timestamptz, integer);
DROP FUNCTION api.update_fraud_rule(text, jsonb);
DROP FUNCTION api.fraud_rules();
DROP FUNCTION api.dashboard_summary(timestamptz);
DROP FUNCTION api.rest_time(text, text);
COMMIT;
