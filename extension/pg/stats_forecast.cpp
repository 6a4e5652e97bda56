// techmart.forecast_series(ts timestamptz[], vals float8[], horizon, season, level, fill):
// the forecast of techmart.forecast (core Holt-Winters, holt_winters.hpp) for a series given as
// (time, value) pairs on a regular grid, answered with the future timestamps.
//
// Boundary rules (DEVELOPERS.md): arrays are read and checked in plain C before guarded(); the
// core runs under guarded() into palloc'd plain buffers; ereport (raise) and the tuplestore come
// after it returned.
#include <algorithm>
#include <cmath>
#include <vector>

#include "boundary.hpp"
#include "techmart/core/holt_winters.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_sx_forecast_series);
}

namespace {
pg_attribute_noreturn() void invalid(const char* msg) {
  ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", msg)));
  pg_unreachable();
}

struct Point {
  TimestampTz t;
  double y;
};

int point_order(const void* a, const void* b) {
  const TimestampTz x = static_cast<const Point*>(a)->t, y = static_cast<const Point*>(b)->t;
  return x < y ? -1 : (x > y ? 1 : 0);
}
}  // namespace

// (ts timestamptz[], vals float8[], horizon int, season int, level float8, fill float8 NULL)
//   → TABLE (step int, ts timestamptz, point float8, lower float8, upper float8)
extern "C" PGDLLEXPORT Datum techmart_sx_forecast_series(PG_FUNCTION_ARGS) {
  for (int i = 0; i < 5; ++i) {
    if (PG_ARGISNULL(i)) {  // STRICT except for fill: no rows
      InitMaterializedSRF(fcinfo, 0);
      return (Datum)0;
    }
  }
  ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
  ArrayType* va = PG_GETARG_ARRAYTYPE_P(1);
  const int32 horizon = PG_GETARG_INT32(2);
  const int32 season = PG_GETARG_INT32(3);
  const double level = PG_GETARG_FLOAT8(4);
  const bool has_fill = !PG_ARGISNULL(5);
  const double fill = has_fill ? PG_GETARG_FLOAT8(5) : 0.0;
  if (ARR_NDIM(ta) > 1 || ARR_NDIM(va) > 1) invalid("ts and vals must be one-dimensional arrays");
  if (ARR_HASNULL(ta) || ARR_HASNULL(va)) {
    ereport(ERROR,
            (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("ts and vals must not contain NULL")));
  }
  const int n = ArrayGetNItems(ARR_NDIM(ta), ARR_DIMS(ta));
  if (n != ArrayGetNItems(ARR_NDIM(va), ARR_DIMS(va)))
    invalid("ts and vals must have the same length");
  if (n < 2) invalid("a series needs at least 2 points");
  if (horizon < 1 || horizon > 100000) invalid("horizon must be between 1 and 100000");
  if (has_fill && !std::isfinite(fill)) invalid("fill must be finite");

  Point* pts = static_cast<Point*>(palloc(sizeof(Point) * n));
  const auto* tp = reinterpret_cast<const TimestampTz*>(ARR_DATA_PTR(ta));
  const auto* vp = reinterpret_cast<const double*>(ARR_DATA_PTR(va));
  for (int i = 0; i < n; ++i) {
    if (TIMESTAMP_NOT_FINITE(tp[i])) invalid("ts must be finite timestamps");
    pts[i] = Point{tp[i], vp[i]};
  }
  qsort(pts, static_cast<std::size_t>(n), sizeof(Point), point_order);
  // the grid step: the smallest gap; every gap must be a whole multiple of it
  int64 step = PG_INT64_MAX;
  for (int i = 1; i < n; ++i) {
    const int64 d = pts[i].t - pts[i - 1].t;
    if (d == 0) invalid("ts must not contain duplicates");
    step = std::min(step, d);
  }
  int64 total = 1;
  for (int i = 1; i < n; ++i) {
    const int64 d = pts[i].t - pts[i - 1].t;
    if (d % step != 0)
      invalid("ts must lie on a regular grid (every gap a multiple of the smallest)");
    if (d != step && !has_fill) invalid("ts has gaps: pass fill => value for the missing points");
    total += d / step;
    if (total > 10000000) invalid("the series is longer than 10,000,000 points");
  }
  const TimestampTz last = pts[n - 1].t;
  if (static_cast<double>(last) + static_cast<double>(step) * horizon >=
      static_cast<double>(END_TIMESTAMP)) {
    invalid("the forecast would leave the timestamp range");
  }
  double* y = static_cast<double*>(palloc(sizeof(double) * total));
  {
    int64 k = 0;
    y[k++] = pts[0].y;
    for (int i = 1; i < n; ++i) {
      for (int64 g = (pts[i].t - pts[i - 1].t) / step; g > 1; --g) y[k++] = fill;
      y[k++] = pts[i].y;
    }
  }
  double* out =
      static_cast<double*>(palloc(sizeof(double) * 3 * static_cast<std::size_t>(horizon)));
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        if (season < 2) throw std::invalid_argument("season must be at least 2");
        if (!(level > 0 && level < 1)) throw std::invalid_argument("level must be between 0 and 1");
        const std::vector<double> series(y, y + total);
        const auto fit = core::fit_holt_winters(series, static_cast<std::size_t>(season));
        const auto f = core::forecast_holt_winters(fit, static_cast<std::size_t>(horizon), level);
        for (std::size_t i = 0; i < f.size() && i < static_cast<std::size_t>(horizon); ++i) {
          out[3 * i] = f[i].point;
          out[3 * i + 1] = f[i].lower;
          out[3 * i + 2] = f[i].upper;
        }
      })) {
    raise(err);
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (int32 h = 0; h < horizon; ++h) {
    Datum values[5] = {Int32GetDatum(h + 1), TimestampTzGetDatum(last + step * (h + 1)),
                       Float8GetDatum(out[3 * h]), Float8GetDatum(out[3 * h + 1]),
                       Float8GetDatum(out[3 * h + 2])};
    bool nulls[5] = {false, false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}
