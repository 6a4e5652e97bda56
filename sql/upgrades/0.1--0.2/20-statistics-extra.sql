-- ---------------------------------------------------------------------------------------
-- 20-statistics-extra: completes 50-statistics (docs/statistics.md): the cdf aggregate
-- (value-at form of the quantile sketch) and the exact median/MAD aggregate for robust_zscore.
-- Self-contained (no reference to objects of later fragments).

CREATE FUNCTION @extschema@.cdf_trans(internal, float8, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_cdf_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.cdf_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_cdf_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.cdf_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_sx_cdf_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cdf_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_cdf_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cdf_final(internal, float8, float8) RETURNS float8
  AS 'MODULE_PATHNAME', 'techmart_sx_cdf_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.cdf(x float8, v float8) (
  SFUNC = @extschema@.cdf_trans, STYPE = internal, SSPACE = 4096,
  FINALFUNC = @extschema@.cdf_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.cdf_combine,
  SERIALFUNC = @extschema@.cdf_serialize, DESERIALFUNC = @extschema@.cdf_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.cdf(float8, float8) IS
  'Approximate fraction of the values <= v (v taken from the first row; DDSketch as techmart.percentile: '
  'exact below min and at or above max, otherwise the bucket of v decides within 0.5% of v). NULL values '
  'ignored; NULL without values; 22023 for NaN/Infinity values or v = NaN, 22004 for v NULL; parallel';

CREATE TYPE @extschema@.median_mad_result AS (median float8, mad float8);
COMMENT ON TYPE @extschema@.median_mad_result IS
  'techmart.median_mad(): median and median absolute deviation (unscaled; 1.4826 * mad estimates sigma)';
CREATE FUNCTION @extschema@.median_mad_trans(internal, float8) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.median_mad_combine(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_median_mad_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.median_mad_serialize(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'techmart_sx_median_mad_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.median_mad_deserialize(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'techmart_sx_median_mad_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.median_mad_final(internal) RETURNS @extschema@.median_mad_result
  AS 'MODULE_PATHNAME', 'techmart_sx_median_mad_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.median_mad(x float8) (
  SFUNC = @extschema@.median_mad_trans, STYPE = internal,
  FINALFUNC = @extschema@.median_mad_final, FINALFUNC_MODIFY = READ_ONLY,
  COMBINEFUNC = @extschema@.median_mad_combine,
  SERIALFUNC = @extschema@.median_mad_serialize, DESERIALFUNC = @extschema@.median_mad_deserialize,
  PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.median_mad(float8) IS
  'Exact median and MAD = median(|x - median|) of the non-NULL values (kept in memory: 8 bytes a value), '
  'for techmart.robust_zscore(x, median, mad); NULL without values; 22023 for NaN/Infinity; parallel';

CREATE FUNCTION @extschema@.forecast_series(ts timestamptz[], vals float8[], horizon int,
                                            season int DEFAULT 7, level float8 DEFAULT 0.95,
                                            fill float8 DEFAULT NULL)
  RETURNS TABLE (step int, ts timestamptz, point float8, lower float8, upper float8)
  AS 'MODULE_PATHNAME', 'techmart_sx_forecast_series' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 14;
COMMENT ON FUNCTION @extschema@.forecast_series(timestamptz[], float8[], int, int, float8, float8) IS
  'techmart.forecast for (time, value) pairs in any order on a regular grid (the step is the smallest gap, '
  'e.g. hourly or daily buckets): returns the next horizon timestamps with point forecasts and intervals. '
  'Missing grid points are an error unless fill gives their value (e.g. 0 revenue for an hour without sales). '
  'no rows for a NULL argument (except fill); 22023 for duplicates, an irregular grid, different lengths, '
  'season < 2 or fewer than two seasons; 22004 for NULL elements';
