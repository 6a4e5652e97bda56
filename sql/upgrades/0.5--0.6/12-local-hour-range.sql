-- ---------------------------------------------------------------------------------------
-- 12-local-hour-range: techmart.local_hour(ts, lon) took a longitude of 200 as -160 and NaN or
-- +-Infinity as "no location" (the UTC hour), silently. The C function (extension/pg/
-- hour_functions.cpp, the same techmart.so serves every version) now refuses a longitude outside
-- [-180, 180] with 22023, as transactions.longitude's CHECK does; NULL still means no location and
-- an infinite time is still 22008. The declaration is unchanged; its comment says so.

COMMENT ON FUNCTION @extschema@.local_hour(timestamptz, float8) IS
  'Local solar hour 0..23 of ts at longitude lon: the UTC hour shifted by round(lon / 15) (time zone '
  'by longitude, no borders or DST); lon NULL: the UTC hour; lon outside [-180, 180], NaN or infinite: 22023; '
  'ts infinite: 22008. The hour the rules rare_hour_customer and rare_hour_shop, the customers'' hour profiles '
  'and hour_prior use';
