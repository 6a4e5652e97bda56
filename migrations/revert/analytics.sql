-- Revert techmart:analytics
BEGIN;
DROP SCHEMA IF EXISTS bi CASCADE;
DROP TABLE IF EXISTS analytics.settings;
DROP FUNCTION IF EXISTS api.analytics_breakdown(text,timestamp with time zone,timestamp with time zone,integer);
DROP FUNCTION IF EXISTS api.analytics_compare(timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS api.analytics_growth(text,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS api.analytics_patterns(text,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS api.analytics_revenue(text,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS api.analytics_top_products(timestamp with time zone,timestamp with time zone,integer,text);
DROP FUNCTION IF EXISTS api.customers_behavior(timestamp with time zone,timestamp with time zone,bigint,integer);
DROP FUNCTION IF EXISTS api.customers_lifetime_value(timestamp with time zone,integer,integer);
DROP FUNCTION IF EXISTS api.customers_rfm(timestamp with time zone,text,integer);
DROP FUNCTION IF EXISTS api.customers_segments(timestamp with time zone);
DROP FUNCTION IF EXISTS api.customers_top(timestamp with time zone,timestamp with time zone,integer,text);
DROP FUNCTION IF EXISTS api.dashboard_overview(timestamp with time zone);
DROP FUNCTION IF EXISTS api.hourly_sales(timestamp with time zone,timestamp with time zone,text,text);
DROP FUNCTION IF EXISTS api.analytics_inventory_history(bigint,timestamp with time zone,timestamp with time zone,integer);
DROP FUNCTION IF EXISTS api.inventory_low_stock(timestamp with time zone,integer,numeric,integer);
DROP FUNCTION IF EXISTS analytics.active_customers(timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.breakdown(text,timestamp with time zone,timestamp with time zone,integer);
DROP FUNCTION IF EXISTS analytics.business_timezone();
DROP FUNCTION IF EXISTS analytics.compare_periods(timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.customer_behavior(timestamp with time zone,timestamp with time zone,bigint,integer);
DROP FUNCTION IF EXISTS analytics.customer_lifetime_value(timestamp with time zone,integer,integer);
DROP FUNCTION IF EXISTS analytics.customer_orders(timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.customer_segments(timestamp with time zone,interval);
DROP FUNCTION IF EXISTS analytics.day_of_week_pattern(timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.hour_of_day_pattern(timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.inventory_history(bigint,timestamp with time zone,timestamp with time zone,integer);
DROP FUNCTION IF EXISTS analytics.is_time_zone(text);
DROP FUNCTION IF EXISTS analytics.low_stock(timestamp with time zone,integer,numeric,integer);
DROP FUNCTION IF EXISTS analytics.low_stock_count(timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.metric_json(numeric,numeric);
DROP FUNCTION IF EXISTS analytics.period_interval(text);
DROP FUNCTION IF EXISTS analytics.raise_if(jsonb,text);
DROP FUNCTION IF EXISTS analytics.range_errors(timestamp with time zone,timestamp with time zone,interval,text,text);
DROP FUNCTION IF EXISTS analytics.revenue_growth(text,timestamp with time zone,timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.rfm(timestamp with time zone,interval);
DROP FUNCTION IF EXISTS analytics.sales_scan(timestamp with time zone,timestamp with time zone,text,text);
DROP FUNCTION IF EXISTS analytics.sales_series(text,timestamp with time zone,timestamp with time zone,text,text);
DROP FUNCTION IF EXISTS analytics.sales_totals(timestamp with time zone,timestamp with time zone,text,text);
DROP FUNCTION IF EXISTS analytics.stock_at(timestamp with time zone);
DROP FUNCTION IF EXISTS analytics.top_customers(timestamp with time zone,timestamp with time zone,integer,text);
DROP FUNCTION IF EXISTS analytics.top_products(timestamp with time zone,timestamp with time zone,integer,text);
DROP FUNCTION IF EXISTS analytics.is_time_zone(text);
GRANT EXECUTE ON FUNCTION analytics.rollup_check(timestamptz, timestamptz),
  analytics.rollup_recompute(timestamptz, timestamptz) TO PUBLIC;
-- the role is cluster-wide: drop its privileges here, and the role itself when no other database uses it
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'techmart_bi') THEN
    REVOKE ALL ON SCHEMA analytics FROM techmart_bi;
    REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM techmart_bi;
    BEGIN
      DROP ROLE techmart_bi;
    EXCEPTION WHEN dependent_objects_still_exist THEN
      RAISE NOTICE 'role techmart_bi kept: other databases grant it privileges';
    END;
  END IF;
END $$;
COMMIT;
