-- Verify techmart:customer_months_edges on pg
BEGIN;
SELECT 1/count(*) FROM pg_proc WHERE oid = 'analytics.customer_orders(timestamptz, timestamptz)'::regprocedure
   AND prosrc LIKE '%sa AS (%';
ROLLBACK;
