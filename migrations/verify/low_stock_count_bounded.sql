-- Verify techmart:low_stock_count_bounded
SELECT 1/(strpos(prosrc, 'previous_quantity') > 0)::int FROM pg_proc WHERE oid = 'analytics.low_stock_count(timestamptz)'::regprocedure;
