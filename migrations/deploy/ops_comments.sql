-- Deploy techmart:ops_comments to pg
-- requires: transactions_partitioning
--
-- \df+ techmart_ops.*: the partitioning helpers had no comment (pg_proc audit, 2026-12-07).
BEGIN;

COMMENT ON FUNCTION techmart_ops.month_start(timestamptz) IS 'Start of the UTC calendar month containing t';
COMMENT ON FUNCTION techmart_ops.partition_name(timestamptz) IS
  'Name of the monthly partition of transactions starting at m: transactions_YYYY_MM (UTC)';
COMMENT ON FUNCTION techmart_ops.create_month_partition(timestamptz) IS
  'Creates the partition of transactions for the UTC month containing m (false when it exists); rows of that month '
  'waiting in transactions_default are moved into it. Called by partition_transactions() and ensure_partitions()';
COMMENT ON FUNCTION techmart_ops.transaction_partitions() IS
  'The partitions of transactions: name, [range_from, range_to) (NULL for the default partition) and row count (a scan)';
COMMENT ON FUNCTION techmart_ops.sync_partition_flush_triggers() IS
  'Gives every partition of transactions the fraud engine''s statement trigger (score_transaction_flush) of the parent, '
  'enabled as on the parent; run by the event trigger after DDL, idempotent';

COMMIT;
