-- Revert techmart:transactions_partitioning from pg
-- A database whose transactions was converted cannot be reverted by this script (the rows would
-- have to be moved back into one table): it refuses, nothing is changed.
BEGIN;

DO $$ BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = 'public.transactions'::regclass) = 'p' THEN
    RAISE EXCEPTION 'transactions is partitioned: reverting transactions_partitioning would lose the references'' triggers'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Copy the rows into an unpartitioned table by hand (pg_dump --data-only, redeploy) first.';
  END IF;
END $$;
DROP EVENT TRIGGER techmart_partition_flush_sync;
DROP FUNCTION techmart_ops.drop_transactions_before(timestamptz);
DROP FUNCTION techmart_ops.partition_transactions(integer);
DROP FUNCTION techmart_ops.transaction_partitions();
DROP FUNCTION techmart_ops.ensure_partitions(integer);
DROP FUNCTION techmart_ops.create_month_partition(timestamptz);
DROP FUNCTION techmart_ops.partition_name(timestamptz);
DROP FUNCTION techmart_ops.month_start(timestamptz);
DROP FUNCTION techmart_ops.sync_partition_flush_triggers_evt();
DROP FUNCTION techmart_ops.sync_partition_flush_triggers();
DROP FUNCTION techmart_ops.transaction_refs_truncated();
DROP FUNCTION techmart_ops.transaction_refs_updated();
DROP FUNCTION techmart_ops.transaction_refs_deleted();
DROP FUNCTION techmart_ops.transaction_ref_check();
DROP TABLE techmart_ops.transaction_refs;

COMMIT;
