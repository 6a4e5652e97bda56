-- Revert techmart:entity_shadow from pg
BEGIN;
DROP FUNCTION api.fraud_shadow();
DROP FUNCTION api.fraud_backtest(timestamptz, timestamptz, text, integer);
DROP VIEW shadow_comparison;
COMMIT;
