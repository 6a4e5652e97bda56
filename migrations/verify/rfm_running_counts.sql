-- Verify techmart:rfm_running_counts on pg
SELECT 1 / (position('count(*) OVER ()' IN pg_get_functiondef('analytics.rfm(timestamptz, interval)'::regprocedure)) > 0)::int;
