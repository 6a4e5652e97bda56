// Statistics aggregates that complete 50-statistics (docs/statistics.md):
//   techmart.cdf(x float8, v float8)   approximate fraction of the values <= v (DDSketch, the
//                                      core's QSketch, as techmart.percentile), parallel;
//   techmart.median_mad(x float8)      exact median and MAD (inputs of robust_zscore), parallel.
//
// Boundary rules (DEVELOPERS.md): Postgres calls that may raise (palloc, detoasting, tuple
// construction) happen before or after guarded(), never while a C++ object with a destructor
// lives; ereport only after the catch (raise). States live in the aggregate memory context: the
// C++ sketch state is destroyed by a reset callback of that context (also on error); the
// median/MAD state is a plain palloc'd buffer. Combine functions handle every NULL case and copy
// into the aggregate context when the first state is NULL (the deserialised state lives in a
// per-call context). Deserialisation validates every byte (22P02). Final functions never modify
// their state (FINALFUNC_MODIFY = READ_ONLY).
#include <cmath>
#include <new>
#include <string>

#include "boundary.hpp"
#include "techmart/core/moments_robust.hpp"
#include "techmart/core/qsketch.hpp"

extern "C" {
#include "funcapi.h"
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::PgError;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_sx_cdf_trans);
PG_FUNCTION_INFO_V1(techmart_sx_cdf_combine);
PG_FUNCTION_INFO_V1(techmart_sx_cdf_serialize);
PG_FUNCTION_INFO_V1(techmart_sx_cdf_deserialize);
PG_FUNCTION_INFO_V1(techmart_sx_cdf_final);
PG_FUNCTION_INFO_V1(techmart_sx_median_mad_trans);
PG_FUNCTION_INFO_V1(techmart_sx_median_mad_combine);
PG_FUNCTION_INFO_V1(techmart_sx_median_mad_serialize);
PG_FUNCTION_INFO_V1(techmart_sx_median_mad_deserialize);
PG_FUNCTION_INFO_V1(techmart_sx_median_mad_final);
}

namespace {

MemoryContext agg_context(FunctionCallInfo fcinfo, const char* fn) {
  MemoryContext ctx = nullptr;
  if (!AggCheckCallContext(fcinfo, &ctx)) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s called in non-aggregate context", fn)));
  }
  return ctx;
}

pg_attribute_noreturn() void bad_state(const char* what) {
  ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                  errmsg("invalid %s aggregate state", what)));
  pg_unreachable();
}

// ------------------------------------------------------------------------------ cdf
// The value v is taken from the first row that has one (like percentile's q).
struct CdfState {
  core::QSketch sketch;
  bool have_v = false;
  double v = 0.0;
};

struct CdfOwned {
  CdfState state;
  static void destroy(void* arg) { static_cast<CdfOwned*>(arg)->~CdfOwned(); }
};

// Memory and the reset callback first (may raise, no C++ object alive), then the C++ object.
CdfState* new_cdf_state(MemoryContext ctx) {
  void* mem = MemoryContextAlloc(ctx, sizeof(CdfOwned));
  auto* cb =
      static_cast<MemoryContextCallback*>(MemoryContextAlloc(ctx, sizeof(MemoryContextCallback)));
  CdfOwned* owned = nullptr;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { owned = new (mem) CdfOwned(); })) raise(err);
  cb->func = &CdfOwned::destroy;
  cb->arg = owned;
  MemoryContextRegisterResetCallback(ctx, cb);
  return &owned->state;
}

Datum state_or_null(FunctionCallInfo fcinfo, void* s) {
  if (s == nullptr) PG_RETURN_NULL();
  PG_RETURN_POINTER(s);
}

}  // namespace

// cdf_trans(internal, x float8, v float8) → internal
extern "C" PGDLLEXPORT Datum techmart_sx_cdf_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "cdf_trans");
  CdfState* s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CdfState*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(1)) return state_or_null(fcinfo, s);
  const double x = PG_GETARG_FLOAT8(1);
  if (s == nullptr) s = new_cdf_state(ctx);
  if (!s->have_v) {
    if (PG_ARGISNULL(2)) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("cdf: the value v must not be NULL")));
    }
    const double v = PG_GETARG_FLOAT8(2);
    if (std::isnan(v)) {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("cdf: the value v must not be NaN")));
    }
    s->v = v;
    s->have_v = true;
  }
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { s->sketch.add(x); })) raise(err);
  PG_RETURN_POINTER(s);
}

// cdf_combine(internal, internal) → internal (not strict)
extern "C" PGDLLEXPORT Datum techmart_sx_cdf_combine(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "cdf_combine");
  CdfState* a = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CdfState*>(PG_GETARG_POINTER(0));
  const CdfState* b =
      PG_ARGISNULL(1) ? nullptr : reinterpret_cast<const CdfState*>(PG_GETARG_POINTER(1));
  if (b == nullptr) return state_or_null(fcinfo, a);
  if (a == nullptr) a = new_cdf_state(ctx);  // b lives in a shorter context: copy it
  if (!a->have_v && b->have_v) {
    a->v = b->v;
    a->have_v = true;
  }
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        if (a->sketch.empty()) {
          a->sketch = b->sketch;
        } else {
          a->sketch.merge(b->sketch);
        }
      })) {
    raise(err);
  }
  PG_RETURN_POINTER(a);
}

// state bytes: u8 have_v, f64 v (little-endian, as the sketch), then the sketch's format
extern "C" PGDLLEXPORT Datum techmart_sx_cdf_serialize(PG_FUNCTION_ARGS) {
  const CdfState* s = reinterpret_cast<const CdfState*>(PG_GETARG_POINTER(0));
  bytea* out = nullptr;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        std::string bytes;
        bytes.push_back(static_cast<char>(s->have_v ? 1 : 0));
        std::uint64_t bits;
        std::memcpy(&bits, &s->v, sizeof bits);
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
        s->sketch.serialize_to(bytes);
        out = static_cast<bytea*>(palloc_extended(VARHDRSZ + bytes.size(), MCXT_ALLOC_NO_OOM));
        if (out == nullptr) throw std::bad_alloc();
        SET_VARSIZE(out, VARHDRSZ + bytes.size());
        std::memcpy(VARDATA(out), bytes.data(), bytes.size());
      })) {
    raise(err);
  }
  PG_RETURN_BYTEA_P(out);
}

// cdf_deserialize(bytea, internal) → internal (STRICT); every byte validated (22P02)
extern "C" PGDLLEXPORT Datum techmart_sx_cdf_deserialize(PG_FUNCTION_ARGS) {
  const bytea* b = PG_GETARG_BYTEA_PP(0);
  const auto* data = reinterpret_cast<const unsigned char*>(VARDATA_ANY(b));
  const std::size_t size = VARSIZE_ANY_EXHDR(b);
  if (size < 9 || data[0] > 1) bad_state("cdf");
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | data[1 + i];
  double v;
  std::memcpy(&v, &bits, sizeof v);
  if (std::isnan(v) || (data[0] == 0 && v != 0.0)) bad_state("cdf");
  CdfState* s = new_cdf_state(CurrentMemoryContext);
  s->have_v = data[0] == 1;
  s->v = v;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        try {
          s->sketch = core::QSketch::deserialize(data + 9, size - 9);
        } catch (const std::invalid_argument& e) {
          throw PgError(ERRCODE_INVALID_TEXT_REPRESENTATION, e.what());
        }
      })) {
    raise(err);
  }
  PG_RETURN_POINTER(s);
}

// cdf_final(internal, float8, float8) → float8; NULL without non-NULL values
extern "C" PGDLLEXPORT Datum techmart_sx_cdf_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const CdfState* s = reinterpret_cast<const CdfState*>(PG_GETARG_POINTER(0));
  if (!s->have_v || s->sketch.empty()) PG_RETURN_NULL();
  double r = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { r = s->sketch.cdf(s->v); })) raise(err);
  PG_RETURN_FLOAT8(r);
}

// ----------------------------------------------------------------------- median/MAD
namespace {
// A plain growable buffer of finite doubles in the aggregate context (no C++ object).
struct ValuesState {
  double* v;
  std::size_t n;
  std::size_t cap;
};

ValuesState* new_values_state(MemoryContext ctx, std::size_t cap) {
  auto* s = static_cast<ValuesState*>(MemoryContextAlloc(ctx, sizeof(ValuesState)));
  s->cap = cap < 64 ? 64 : cap;
  s->n = 0;
  s->v = static_cast<double*>(MemoryContextAllocHuge(ctx, sizeof(double) * s->cap));
  return s;
}

// plain C: repalloc_huge keeps the chunk's context (may raise: no C++ object lives here)
void reserve_values(ValuesState* s, std::size_t extra) {
  if (s->n + extra <= s->cap) return;
  std::size_t cap = s->cap;
  while (cap < s->n + extra) cap *= 2;
  s->v = static_cast<double*>(repalloc_huge(s->v, sizeof(double) * cap));
  s->cap = cap;
}
}  // namespace

extern "C" PGDLLEXPORT Datum techmart_sx_median_mad_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "median_mad_trans");
  ValuesState* s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ValuesState*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(1)) return state_or_null(fcinfo, s);
  const double x = PG_GETARG_FLOAT8(1);
  if (!std::isfinite(x)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("median_mad: values must be finite")));
  }
  if (s == nullptr) s = new_values_state(ctx, 64);
  reserve_values(s, 1);
  s->v[s->n++] = x;
  PG_RETURN_POINTER(s);
}

extern "C" PGDLLEXPORT Datum techmart_sx_median_mad_combine(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "median_mad_combine");
  ValuesState* a = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ValuesState*>(PG_GETARG_POINTER(0));
  const ValuesState* b =
      PG_ARGISNULL(1) ? nullptr : reinterpret_cast<const ValuesState*>(PG_GETARG_POINTER(1));
  if (b == nullptr) return state_or_null(fcinfo, a);
  if (a == nullptr) a = new_values_state(ctx, b->n);
  reserve_values(a, b->n);
  if (b->n > 0) std::memcpy(a->v + a->n, b->v, sizeof(double) * b->n);
  a->n += b->n;
  PG_RETURN_POINTER(a);
}

extern "C" PGDLLEXPORT Datum techmart_sx_median_mad_serialize(PG_FUNCTION_ARGS) {
  const ValuesState* s = reinterpret_cast<const ValuesState*>(PG_GETARG_POINTER(0));
  const std::size_t bytes = sizeof(double) * s->n;
  if (bytes > MaxAllocSize - VARHDRSZ) {
    ereport(ERROR,
            (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
             errmsg("median_mad: too many values for a parallel worker's state (%zu)", s->n)));
  }
  bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + bytes));
  SET_VARSIZE(out, VARHDRSZ + bytes);
  if (bytes > 0) std::memcpy(VARDATA(out), s->v, bytes);
  PG_RETURN_BYTEA_P(out);
}

extern "C" PGDLLEXPORT Datum techmart_sx_median_mad_deserialize(PG_FUNCTION_ARGS) {
  const bytea* b = PG_GETARG_BYTEA_PP(0);
  const std::size_t size = VARSIZE_ANY_EXHDR(b);
  if (size % sizeof(double) != 0) bad_state("median_mad");
  const std::size_t n = size / sizeof(double);
  ValuesState* s = new_values_state(CurrentMemoryContext, n);
  if (size > 0) std::memcpy(s->v, VARDATA_ANY(b), size);
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(s->v[i])) bad_state("median_mad");
  }
  s->n = n;
  PG_RETURN_POINTER(s);
}

// median_mad_final(internal) → techmart.median_mad_result; NULL without values. Works on a copy.
extern "C" PGDLLEXPORT Datum techmart_sx_median_mad_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const ValuesState* s = reinterpret_cast<const ValuesState*>(PG_GETARG_POINTER(0));
  if (s->n == 0) PG_RETURN_NULL();
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("median_mad: composite result type expected")));
  }
  desc = BlessTupleDesc(desc);
  auto* copy = static_cast<double*>(palloc_extended(sizeof(double) * s->n, MCXT_ALLOC_HUGE));
  std::memcpy(copy, s->v, sizeof(double) * s->n);
  core::MedianMad r{0, 0};
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { r = core::median_mad(copy, s->n); })) raise(err);
  pfree(copy);
  Datum values[2] = {Float8GetDatum(r.median), Float8GetDatum(r.mad)};
  bool nulls[2] = {false, false};
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
