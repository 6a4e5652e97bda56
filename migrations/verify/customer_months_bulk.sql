-- Verify techmart:customer_months_bulk on pg
SELECT 1 / (position('array_position(o.months' IN pg_get_functiondef('analytics.customer_months_add'::regproc)) > 0)::int;
