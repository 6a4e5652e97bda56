-- Revert techmart:ops_comments from pg
BEGIN;

COMMENT ON FUNCTION techmart_ops.month_start(timestamptz) IS NULL;
COMMENT ON FUNCTION techmart_ops.partition_name(timestamptz) IS NULL;
COMMENT ON FUNCTION techmart_ops.create_month_partition(timestamptz) IS NULL;
COMMENT ON FUNCTION techmart_ops.transaction_partitions() IS NULL;
COMMENT ON FUNCTION techmart_ops.sync_partition_flush_triggers() IS NULL;

COMMIT;
