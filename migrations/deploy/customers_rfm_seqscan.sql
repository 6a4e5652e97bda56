-- Deploy techmart:customers_rfm_seqscan to pg
-- requires: analytics_args_customers
--
-- GET /customers/segments (the dashboard's segments widget, on every load), /customers/rfm and
-- /customers/lifetime-value group every completed line of a year (of all history for the lifetime value) by customer
-- (analytics.customer_orders). The planner reads them through the index on (customer_id, transaction_time) to have
-- them in customer order without a sort — and so reads the table in random order: at 5,000,000 transactions
-- 3.3 million buffer accesses, 16 of the 20 s of segments. The three entry points now plan without plain index scans
-- (SET enable_indexscan = off; bitmap and index-only scans stay): a sequential scan and a sort, 2.4-3x faster
-- there (RFM 16.5 -> 6.9 s, lifetime value 17.1 -> 5.6 s; bench/RESULTS.md, "The GET endpoints at 5,000,000
-- transactions"). Still seconds: these need per-customer rollups. Same answers; the plan only.
BEGIN;

ALTER FUNCTION api.customers_segments(timestamptz) SET enable_indexscan = off;
ALTER FUNCTION api.customers_rfm(timestamptz, text, integer) SET enable_indexscan = off;
ALTER FUNCTION api.customers_lifetime_value(timestamptz, integer, integer) SET enable_indexscan = off;

COMMIT;
