-- Verify techmart:rollup_rebuild_deltas
SELECT 1/(position('rollup_deltas' IN prosrc) > 0)::int
  FROM pg_proc WHERE oid = 'analytics.rollup_rebuild(timestamptz, timestamptz)'::regprocedure;
