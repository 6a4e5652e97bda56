-- Revert techmart:comments_true from pg
-- the comments as before (none on the columns this change documented)
BEGIN;

DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = 'analytics.sales_hourly_v'::regclass AND a.attnum > 0 AND NOT a.attisdropped LOOP
    EXECUTE format('COMMENT ON COLUMN analytics.sales_hourly_v.%I IS NULL', c.attname);
  END LOOP;
END $$;
COMMENT ON COLUMN analytics.settings.key IS NULL;
COMMENT ON COLUMN analytics.settings.value IS NULL;
COMMENT ON COLUMN analytics.settings.description IS NULL;
COMMENT ON COLUMN analytics.alerts_hourly.hour IS NULL;
COMMENT ON COLUMN analytics.alerts_hourly.slot IS NULL;
COMMENT ON COLUMN techmart_ops.metrics.metric IS NULL;
COMMENT ON COLUMN techmart_ops.metrics.labels IS NULL;
COMMENT ON COLUMN techmart_ops.metrics.value IS NULL;
COMMENT ON COLUMN techmart_ops.metrics.help IS NULL;
COMMENT ON COLUMN techmart_ops.metrics.type IS NULL;
COMMENT ON COLUMN techmart_ops.scoring_latency.scope IS NULL;
COMMENT ON COLUMN techmart_ops.scoring_latency.le_us IS NULL;
COMMENT ON COLUMN techmart_ops.scoring_latency.count IS NULL;
COMMENT ON COLUMN techmart_ops.scoring_latency.cumulative IS NULL;
COMMENT ON COLUMN transactions.fraud_reasons IS 'Array of {rule, observed, threshold, contribution, detail}, highest contribution first';
COMMENT ON COLUMN bi.transactions.amount IS 'quantity * unit_price';
COMMENT ON COLUMN bi.customers.total_spent IS 'Lifetime spend (completed lines) as maintained by the application';

COMMIT;
