-- Scoring latency histogram of the fraud trigger (extension/pg/metrics.cpp, docs/operations.md).
-- Cluster-wide (shared memory) when techmart is in shared_preload_libraries, else the calling
-- backend's own figures; the scope column says which.
CREATE FUNCTION @extschema@.scoring_latency(backend_only boolean DEFAULT false)
  RETURNS TABLE (scope text, le_us float8, count bigint, cumulative bigint)
  AS 'MODULE_PATHNAME', 'techmart_scoring_latency' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 20;
COMMENT ON FUNCTION @extschema@.scoring_latency(boolean) IS
  'Histogram of the time score_transaction() spends per scored row: one row per bucket (upper bound le_us in '
  'microseconds, Infinity last), its count and the cumulative count. scope = cluster (shared memory: '
  'techmart in shared_preload_libraries) or backend (this session only: not preloaded, or backend_only)';

CREATE FUNCTION @extschema@.scoring_latency_summary(backend_only boolean DEFAULT false)
  RETURNS TABLE (scope text, preloaded boolean, observations bigint, sum_seconds float8, since timestamptz)
  AS 'MODULE_PATHNAME', 'techmart_scoring_latency_summary' LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 1;
COMMENT ON FUNCTION @extschema@.scoring_latency_summary(boolean) IS
  'Scored rows and their total scoring time in the histogram of scoring_latency(), since its reset; '
  'preloaded: whether the cluster-wide histogram exists';

CREATE FUNCTION @extschema@.scoring_latency_reset(backend_only boolean DEFAULT false)
  RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'techmart_scoring_latency_reset' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.scoring_latency_reset(boolean) IS
  'Zeroes the scoring latency histogram (this backend''s, and the cluster''s unless backend_only); '
  'returns the reset time';
REVOKE EXECUTE ON FUNCTION @extschema@.scoring_latency_reset(boolean) FROM PUBLIC;
