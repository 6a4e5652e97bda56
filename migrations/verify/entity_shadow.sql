-- Verify techmart:entity_shadow on pg
SELECT name, scored FROM shadow_comparison WHERE false;
SELECT 'api.fraud_backtest(timestamptz, timestamptz, text, integer)'::regprocedure, 'api.fraud_shadow()'::regprocedure;
