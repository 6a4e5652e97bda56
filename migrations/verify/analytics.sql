-- Verify techmart:analytics
SELECT 'api.dashboard_overview(timestamptz)'::regprocedure, 'api.hourly_sales(timestamptz,timestamptz,text,text)'::regprocedure,
       'api.analytics_revenue(text,timestamptz,timestamptz)'::regprocedure,
       'analytics.sales_totals(timestamptz,timestamptz,text,text)'::regprocedure;
SELECT day, revenue FROM bi.sales_daily WHERE false;
SELECT 1/count(*) FROM pg_roles WHERE rolname = 'techmart_bi';
