-- Deploy techmart:rollup_rebuild_registry_partitions to pg
-- requires: rollup_rebuild_registry_range
--
-- analytics.rollup_rebuild() chooses how to recount the order registry by the size of transactions
-- (change rollup_rebuild_registry_range). It read pg_class.reltuples of public.transactions, which for a
-- partitioned transactions (docs/partitioning.md) is the parent's own estimate: -1 until someone runs
-- ANALYZE on the parent itself (autovacuum analyses only the partitions), so the probe path was never
-- taken there. The size is now the sum of the estimates of the table and its partition tree without the
-- partitioned members (a plain table: itself, pg_partition_tree() gives no row for it; never-analysed
-- members count 0), so a plain table decides as before.
BEGIN;

DO $patch$
DECLARE
  def text := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  old text := $o$  v_size := (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'public.transactions'::regclass);$o$;
  new text := $n$  v_size := (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_class c  -- (change rollup_rebuild_registry_partitions)
               WHERE (c.oid = 'public.transactions'::regclass  -- a plain table, or the leaves of a partitioned one
                      OR c.oid IN (SELECT p.relid FROM pg_partition_tree('public.transactions'::regclass) p))
                 AND c.relkind <> 'p');  -- (autovacuum analyses the partitions, never a partitioned parent)$n$;
BEGIN
  IF position(old IN def) = 0 THEN
    RAISE EXCEPTION 'rollup_rebuild_registry_partitions: analytics.rollup_rebuild() is not the function of change rollup_rebuild_registry_range'
      USING HINT = 'adapt migrations/deploy/rollup_rebuild_registry_partitions.sql';
  END IF;
  EXECUTE replace(def, old, new);
END $patch$;

COMMIT;
