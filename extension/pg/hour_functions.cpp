// techmart.local_hour(ts timestamptz, lon float8) → int: the local solar hour the time-pattern
// rules use (core::local_hour), exposed so that SQL (refresh_priors' shop profile, analytics)
// computes the very same hour as the trigger.
#include "boundary.hpp"
#include "techmart/core/fraud_state.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(techmart_local_hour);
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::raise;

// Not STRICT: a NULL longitude means "no location" (the UTC hour); a NULL time gives NULL; a
// longitude outside [-180, 180] (NaN, infinity) is 22023.
extern "C" PGDLLEXPORT Datum techmart_local_hour(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
  if (TIMESTAMP_NOT_FINITE(ts)) {
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                    errmsg("local_hour: the time must be finite")));
  }
  const double lon = PG_ARGISNULL(1) ? std::nan("") : PG_GETARG_FLOAT8(1);
  // a longitude is in [-180, 180], as transactions.longitude's CHECK demands: 200 was taken as
  // -160 and NaN / infinity as "no location" (the UTC hour) without a word
  if (!PG_ARGISNULL(1) && !(lon >= -180.0 && lon <= 180.0)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("local_hour: the longitude must be between -180 and 180, got %g", lon),
                    errhint("NULL means no location (the UTC hour).")));
  }
  // seconds since 1970 (timestamptz counts microseconds since 2000-01-01)
  const double t = static_cast<double>(ts + INT64CONST(946684800) * 1000000) / 1e6;
  int h = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { h = core::local_hour(t, lon); })) raise(err);
  PG_RETURN_INT32(h);
}
