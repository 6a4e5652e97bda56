-- Verify techmart:alerts_status_counts
SELECT 1/(position('analytics.alerts_hourly' IN pg_get_functiondef('api.alerts_status(jsonb)'::regprocedure)) > 0)::int;
