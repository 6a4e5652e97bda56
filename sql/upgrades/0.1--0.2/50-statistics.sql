-- ---------------------------------------------------------------------------------------
-- 50-statistics: quantile sketch (DDSketch, alpha 0.005), HyperLogLog, moments, ewma,
-- robust_zscore, Holt-Winters forecast and anomaly detection (docs/statistics.md).
-- Sketches are plain bytea (versioned binary format validated on every read: 22023).

-- ------------------------------------------------------------------ quantile sketch
CREATE FUNCTION @extschema@.qsketch_trans(internal, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.percentile_trans(internal, float8, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_trans_q' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.percentile_trans(internal, float8, float8[]) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_trans_qarr' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.qsketch_merge_trans(internal, bytea) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.qsketch_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.qsketch_serial(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_qsketch_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.qsketch_deserial(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_qsketch_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.qsketch_final(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_qsketch_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.percentile_final(internal, float8, float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_percentile_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.percentile_final(internal, float8, float8[]) RETURNS float8[]
  AS 'MODULE_PATHNAME', 'techmart_percentile_array_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.percentile(x float8, q float8) (
  SFUNC = @extschema@.percentile_trans, STYPE = internal,
  FINALFUNC = @extschema@.percentile_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.qsketch_combine,
  SERIALFUNC = @extschema@.qsketch_serial, DESERIALFUNC = @extschema@.qsketch_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.percentile(float8, float8) IS
  'Approximate q-quantile (percentile_cont semantics) from a DDSketch: within 0.5% relative error '
  '(alpha 0.005); q must be constant; NULLs ignored; NULL for no rows; parallel.';
CREATE AGGREGATE @extschema@.percentile(x float8, q float8[]) (
  SFUNC = @extschema@.percentile_trans, STYPE = internal,
  FINALFUNC = @extschema@.percentile_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.qsketch_combine,
  SERIALFUNC = @extschema@.qsketch_serial, DESERIALFUNC = @extschema@.qsketch_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.percentile(float8, float8[]) IS
  'Approximate quantiles (array form) from one DDSketch: same guarantee as percentile(x, q).';
CREATE AGGREGATE @extschema@.qsketch_agg(x float8) (
  SFUNC = @extschema@.qsketch_trans, STYPE = internal,
  FINALFUNC = @extschema@.qsketch_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.qsketch_combine,
  SERIALFUNC = @extschema@.qsketch_serial, DESERIALFUNC = @extschema@.qsketch_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.qsketch_agg(float8) IS
  'A storable quantile sketch (bytea) of the non-NULL values; NULL for no rows. Merge with qsketch_merge_agg.';
CREATE AGGREGATE @extschema@.qsketch_merge_agg(sketch bytea) (
  SFUNC = @extschema@.qsketch_merge_trans, STYPE = internal,
  FINALFUNC = @extschema@.qsketch_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.qsketch_combine,
  SERIALFUNC = @extschema@.qsketch_serial, DESERIALFUNC = @extschema@.qsketch_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.qsketch_merge_agg(bytea) IS
  'Merges stored quantile sketches into one (equal to the sketch of all their values).';

CREATE FUNCTION @extschema@.qsketch_quantile(sketch bytea, q float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_qsketch_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.qsketch_quantile(bytea, float8) IS
  'q-quantile of a stored sketch (percentile_cont semantics); 22023 for a malformed sketch or q outside [0, 1].';
CREATE FUNCTION @extschema@.qsketch_quantiles(sketch bytea, q float8[]) RETURNS float8[]
  AS 'MODULE_PATHNAME', 'techmart_qsketch_quantiles' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.qsketch_quantiles(bytea, float8[]) IS 'Quantiles of a stored sketch (array form).';
CREATE FUNCTION @extschema@.qsketch_cdf(sketch bytea, x float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_qsketch_cdf' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.qsketch_cdf(bytea, float8) IS
  'Estimated fraction of the sketched values <= x (exact below the minimum and at/above the maximum).';
CREATE FUNCTION @extschema@.qsketch_count(sketch bytea) RETURNS bigint
  AS 'MODULE_PATHNAME', 'techmart_qsketch_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.qsketch_count(bytea) IS 'Number of values in a stored sketch (exact).';

-- ------------------------------------------------------------------ HyperLogLog
CREATE FUNCTION @extschema@.hll_add_trans(internal, bigint) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_hll_add_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.hll_union_trans(internal, bytea) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_hll_union_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.hll_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_hll_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.hll_serial(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_hll_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hll_deserial(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_hll_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.hll_final(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_hll_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.hll_add_agg(value bigint) (
  SFUNC = @extschema@.hll_add_trans, STYPE = internal,
  FINALFUNC = @extschema@.hll_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.hll_combine,
  SERIALFUNC = @extschema@.hll_serial, DESERIALFUNC = @extschema@.hll_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.hll_add_agg(bigint) IS
  'HyperLogLog (precision 14, ~0.8% standard error) of the non-NULL values as bytea; NULL for no rows.';
CREATE AGGREGATE @extschema@.hll_union_agg(sketch bytea) (
  SFUNC = @extschema@.hll_union_trans, STYPE = internal,
  FINALFUNC = @extschema@.hll_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.hll_combine,
  SERIALFUNC = @extschema@.hll_serial, DESERIALFUNC = @extschema@.hll_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.hll_union_agg(bytea) IS 'Union of HyperLogLog sketches (NULLs ignored).';

CREATE FUNCTION @extschema@.hll_union(a bytea, b bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_hll_union' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hll_union(bytea, bytea) IS
  'Union of two HyperLogLog sketches; a NULL side yields the other (NULL if both are NULL).';
CREATE FUNCTION @extschema@.hll_cardinality(sketch bytea) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_hll_cardinality' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hll_cardinality(bytea) IS 'Estimated number of distinct values of a HyperLogLog sketch.';
CREATE FUNCTION @extschema@.hll_empty() RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_hll_empty' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hll_empty() IS 'An empty HyperLogLog sketch (precision 14).';
CREATE FUNCTION @extschema@.hll_add(sketch bytea, value bigint) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_hll_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hll_add(bytea, bigint) IS
  'The sketch with value added; a NULL sketch counts as empty, a NULL value adds nothing.';

-- ------------------------------------------------------------------ moments, ewma, robust z
CREATE TYPE @extschema@.moments_result AS (
  count bigint, mean float8, variance float8, stddev float8, skewness float8, kurtosis float8);
COMMENT ON TYPE @extschema@.moments_result IS
  'moments(): count, mean, sample variance (n-1, as var_samp), its square root, population skewness g1 '
  'and excess kurtosis g2 (NULL when fewer than 2 values or zero variance).';
CREATE FUNCTION @extschema@.moments_trans(internal, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_moments_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.moments_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_moments_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.moments_serial(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_moments_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.moments_deserial(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_moments_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.moments_final(internal) RETURNS @extschema@.moments_result
  AS 'MODULE_PATHNAME', 'techmart_moments_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.moments(x float8) (
  SFUNC = @extschema@.moments_trans, STYPE = internal,
  FINALFUNC = @extschema@.moments_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.moments_combine,
  SERIALFUNC = @extschema@.moments_serial, DESERIALFUNC = @extschema@.moments_deserial,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.moments(float8) IS
  'One-pass count, mean, variance, stddev, skewness, excess kurtosis (Pebay pairwise combination); parallel.';

CREATE FUNCTION @extschema@.ewma_trans(internal, float8, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_ewma_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ewma_final(internal, float8, float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_ewma_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.ewma(x float8, alpha float8) (
  SFUNC = @extschema@.ewma_trans, STYPE = internal,
  FINALFUNC = @extschema@.ewma_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_ONLY,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.ewma(float8, float8) IS
  'Exponentially weighted moving average s = alpha x + (1 - alpha) s (first value as start), in input '
  'order: use as a window function, ewma(x, 0.3) OVER (ORDER BY t). NULLs skipped; 22023 unless 0 < alpha <= 1.';

CREATE FUNCTION @extschema@.robust_zscore(x float8, median float8, mad float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_robust_zscore' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.robust_zscore(float8, float8, float8) IS
  'Robust z-score 0.6745 (x - median) / mad (Iglewicz-Hoaglin); 22023 unless mad > 0.';

-- ------------------------------------------------------------------ forecasting
CREATE FUNCTION @extschema@.forecast(vals float8[], horizon int, season int DEFAULT 7, level float8 DEFAULT 0.95)
  RETURNS TABLE(step int, point float8, lower float8, upper float8)
  AS 'MODULE_PATHNAME', 'techmart_forecast' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION @extschema@.forecast(float8[], int, int, float8) IS
  'Additive Holt-Winters (ETS(A,A,A)) fitted by minimising one-step SSE: point forecasts for steps '
  '1..horizon with level prediction intervals. 22023 with fewer than 2 seasons of data.';
CREATE FUNCTION @extschema@.detect_anomalies(vals float8[], season int DEFAULT 24, level float8 DEFAULT 0.99)
  RETURNS TABLE(idx int, value float8, expected float8, lower float8, upper float8, is_anomaly bool)
  AS 'MODULE_PATHNAME', 'techmart_detect_anomalies' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.detect_anomalies(float8[], int, float8) IS
  'Each value (idx 1-based) against its in-sample one-step Holt-Winters forecast; is_anomaly when outside '
  'expected +/- z(level) * 1.4826 MAD of the one-step errors. Anomalies do not drag the model (clipped errors).';
