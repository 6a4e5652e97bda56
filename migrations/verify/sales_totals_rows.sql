-- Verify techmart:sales_totals_rows
SELECT 1/(prorows = 1)::int FROM pg_proc WHERE oid = 'analytics.sales_totals(timestamptz,timestamptz,text,text)'::regprocedure;
