-- Deploy techmart:comments_true to pg
-- requires: analytics
-- requires: observability_latency
-- requires: overview_rollups
-- requires: schema
--
-- \d+ / \dv+ for a DBA and the catalog comments a BI tool shows (Metabase, Superset read them):
--   * every column of what techmart_bi may read is commented: analytics.sales_hourly_v (the comments
--     of analytics.sales_hourly, whose columns it sums), analytics.settings, analytics.alerts_hourly's
--     hour and slot, techmart_ops.metrics and techmart_ops.scoring_latency had none;
--   * comments that were not true: transactions.fraud_reasons (its objects also carry the weight),
--     bi.transactions.amount ("quantity * unit_price": that is only the default the scoring trigger
--     fills in, a writer may give another amount), bi.customers.total_spent ("as maintained by the
--     application": nothing updates it when transactions arrive; the seed load and the Online Retail
--     import set it).
BEGIN;

DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT a.attname, col_description(a.attrelid, a.attnum) AS d
             FROM pg_attribute a
            WHERE a.attrelid = 'analytics.sales_hourly'::regclass AND a.attnum > 0 AND NOT a.attisdropped
              AND EXISTS (SELECT FROM pg_attribute v WHERE v.attrelid = 'analytics.sales_hourly_v'::regclass
                                                      AND v.attname = a.attname AND NOT v.attisdropped) LOOP
    EXECUTE format('COMMENT ON COLUMN analytics.sales_hourly_v.%I IS %L', c.attname, c.d);
  END LOOP;
END $$;
COMMENT ON COLUMN analytics.settings.key IS 'Setting name: business_timezone';
COMMENT ON COLUMN analytics.settings.value IS 'Its value (business_timezone: a time zone name PostgreSQL knows, e.g. Europe/London)';
COMMENT ON COLUMN analytics.settings.description IS 'What the setting does';
COMMENT ON COLUMN analytics.alerts_hourly.hour IS 'Start of the UTC hour';
COMMENT ON COLUMN analytics.alerts_hourly.slot IS
  'pg_backend_pid() % 8 of the writing backend: concurrent writers to one hour update different rows (sum over slots)';
COMMENT ON COLUMN techmart_ops.metrics.metric IS 'Prometheus metric name (techmart_...)';
COMMENT ON COLUMN techmart_ops.metrics.labels IS 'Prometheus labels as a jsonb object of strings ({} for none)';
COMMENT ON COLUMN techmart_ops.metrics.value IS 'The value (a counter, a gauge or a histogram bucket, see type)';
COMMENT ON COLUMN techmart_ops.metrics.help IS 'What the metric measures (the # HELP line)';
COMMENT ON COLUMN techmart_ops.metrics.type IS 'Prometheus type: counter, gauge or histogram (the # TYPE line)';
COMMENT ON COLUMN techmart_ops.scoring_latency.scope IS
  'cluster (shared memory: techmart in shared_preload_libraries) or backend (the reading session''s rows only)';
COMMENT ON COLUMN techmart_ops.scoring_latency.le_us IS 'Upper bound of the bucket in microseconds (Infinity for the last)';
COMMENT ON COLUMN techmart_ops.scoring_latency.count IS 'Scored rows whose scoring took more than the previous bound and at most le_us';
COMMENT ON COLUMN techmart_ops.scoring_latency.cumulative IS 'Scored rows that took at most le_us (Prometheus _bucket)';

COMMENT ON COLUMN transactions.fraud_reasons IS
  'Array of {rule, observed, threshold, weight, contribution, detail}, highest contribution first (set by the techmart scoring trigger)';
COMMENT ON COLUMN bi.transactions.amount IS
  'Amount charged for the line; quantity * unit_price unless the writer gave another amount (the scoring trigger fills in the product when it is NULL)';
COMMENT ON COLUMN bi.customers.total_spent IS
  'Net spend (completed sales minus refunds) as set by the seed load or the last Online Retail import; not updated when '
  'transactions arrive: sum bi.transactions for the current figure';

COMMIT;
