-- Revert techmart:rollup_rebuild_registry_partitions from pg
-- analytics.rollup_rebuild() as change rollup_rebuild_registry_range left it
BEGIN;

DO $patch$
DECLARE
  def text := pg_get_functiondef('analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure);
  cur text := $n$  v_size := (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_class c  -- (change rollup_rebuild_registry_partitions)
               WHERE (c.oid = 'public.transactions'::regclass  -- a plain table, or the leaves of a partitioned one
                      OR c.oid IN (SELECT p.relid FROM pg_partition_tree('public.transactions'::regclass) p))
                 AND c.relkind <> 'p');  -- (autovacuum analyses the partitions, never a partitioned parent)$n$;
BEGIN
  IF position(cur IN def) = 0 THEN
    RAISE EXCEPTION 'rollup_rebuild_registry_partitions: analytics.rollup_rebuild() is not the function this change made';
  END IF;
  EXECUTE replace(def, cur,
    $o$  v_size := (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'public.transactions'::regclass);$o$);
END $patch$;

COMMIT;
