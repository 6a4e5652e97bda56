-- Verify techmart:transactions_partitioning on pg
SELECT 'techmart_ops.partition_transactions(integer)'::regprocedure,
       'techmart_ops.ensure_partitions(integer)'::regprocedure,
       'techmart_ops.drop_transactions_before(timestamptz)'::regprocedure,
       'techmart_ops.transaction_partitions()'::regprocedure;
SELECT tbl, col, conname, on_delete FROM techmart_ops.transaction_refs WHERE false;
SELECT 1 / count(*) FROM pg_event_trigger WHERE evtname = 'techmart_partition_flush_sync';
