-- Verify techmart:customer_months on pg
BEGIN;
SELECT customer_id, month, orders, lines, units, revenue, first_purchase, last_purchase
  FROM analytics.customer_months WHERE false;
SELECT customer_id, order_number, first_month, last_month FROM analytics.customer_order_spans WHERE false;
SELECT 1/count(*) FROM pg_trigger WHERE tgrelid = 'public.transactions'::regclass AND tgname = 'transactions_months_ins';
SELECT pg_catalog.has_function_privilege('analytics.customer_months_check()', 'execute');
ROLLBACK;
