-- Verify techmart:customer_months_recompute_grouped on pg
SELECT 1 / (position('change customer_months_recompute_grouped' IN pg_get_functiondef('analytics.customer_months_recompute'::regproc)) > 0)::int;
