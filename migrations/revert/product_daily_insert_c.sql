-- Revert techmart:product_daily_insert_c from pg
-- transactions_sales_daily_ins calls analytics.product_daily_trigger() again (change product_sales_daily)
BEGIN;

CREATE OR REPLACE TRIGGER transactions_sales_daily_ins AFTER INSERT ON public.transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION analytics.product_daily_trigger();
DROP FUNCTION analytics.product_daily_insert_trigger();

COMMIT;
