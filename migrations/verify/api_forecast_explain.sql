-- Verify techmart:api_forecast_explain on pg
SELECT 'api.forecast_revenue(text, integer, integer, float8, timestamptz)'::regprocedure,
       'api.fraud_explain(bigint)'::regprocedure;
