// Statistics aggregates and functions (docs/statistics.md): the quantile sketch (percentile,
// qsketch_*), HyperLogLog (hll_*), moments, ewma, robust_zscore, forecast, detect_anomalies.
//
// Boundary rules (DEVELOPERS.md): Postgres calls that may raise (palloc, detoasting, array and
// tuple construction) happen before or after the guarded() C++ part, never while a C++ object
// with a destructor lives on the stack; ereport happens after the catch (raise(err)).
//
// Aggregate states (stype internal) live in the aggregate memory context. The sketch and HLL
// states own heap memory (std::vector): the C++ object is placement-new'ed into palloc'd memory
// and its destructor is registered as a reset callback of that context, so it runs exactly once
// when the context is reset or deleted (also on error). The moments and ewma states are plain
// structs in palloc'd memory.
#include "boundary.hpp"
#include "techmart/core/holt_winters.hpp"
#include "techmart/core/hyperloglog.hpp"
#include "techmart/core/moments.hpp"
#include "techmart/core/qsketch.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/transam.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_qsketch_trans);
PG_FUNCTION_INFO_V1(techmart_qsketch_trans_q);
PG_FUNCTION_INFO_V1(techmart_qsketch_trans_qarr);
PG_FUNCTION_INFO_V1(techmart_qsketch_merge_trans);
PG_FUNCTION_INFO_V1(techmart_qsketch_combine);
PG_FUNCTION_INFO_V1(techmart_qsketch_serial);
PG_FUNCTION_INFO_V1(techmart_qsketch_deserial);
PG_FUNCTION_INFO_V1(techmart_qsketch_final);
PG_FUNCTION_INFO_V1(techmart_percentile_final);
PG_FUNCTION_INFO_V1(techmart_percentile_array_final);
PG_FUNCTION_INFO_V1(techmart_qsketch_quantile);
PG_FUNCTION_INFO_V1(techmart_qsketch_quantiles);
PG_FUNCTION_INFO_V1(techmart_qsketch_cdf);
PG_FUNCTION_INFO_V1(techmart_qsketch_count);
PG_FUNCTION_INFO_V1(techmart_hll_add_trans);
PG_FUNCTION_INFO_V1(techmart_hll_union_trans);
PG_FUNCTION_INFO_V1(techmart_hll_combine);
PG_FUNCTION_INFO_V1(techmart_hll_serial);
PG_FUNCTION_INFO_V1(techmart_hll_deserial);
PG_FUNCTION_INFO_V1(techmart_hll_final);
PG_FUNCTION_INFO_V1(techmart_hll_union);
PG_FUNCTION_INFO_V1(techmart_rollup_hll_union);
PG_FUNCTION_INFO_V1(techmart_hll_cardinality);
PG_FUNCTION_INFO_V1(techmart_hll_empty);
PG_FUNCTION_INFO_V1(techmart_hll_add);
PG_FUNCTION_INFO_V1(techmart_moments_trans);
PG_FUNCTION_INFO_V1(techmart_moments_combine);
PG_FUNCTION_INFO_V1(techmart_moments_serial);
PG_FUNCTION_INFO_V1(techmart_moments_deserial);
PG_FUNCTION_INFO_V1(techmart_moments_final);
PG_FUNCTION_INFO_V1(techmart_ewma_trans);
PG_FUNCTION_INFO_V1(techmart_ewma_final);
PG_FUNCTION_INFO_V1(techmart_robust_zscore);
PG_FUNCTION_INFO_V1(techmart_forecast);
PG_FUNCTION_INFO_V1(techmart_detect_anomalies);
}

namespace {

constexpr int kMaxQuantiles = 1000;

// ------------------------------------------------------------------ common helpers

MemoryContext agg_context(FunctionCallInfo fcinfo, const char* fn) {
  MemoryContext ctx = nullptr;
  if (!AggCheckCallContext(fcinfo, &ctx)) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s called in non-aggregate context", fn)));
  }
  return ctx;
}

pg_attribute_noreturn() void raise_plain(int sqlstate, const char* msg) {
  ereport(ERROR, (errcode(sqlstate), errmsg("%s", msg)));
  pg_unreachable();
}

// Reads a float8[] without NULLs into a palloc'd array. Raises (plain C, no C++ alive).
double* read_float8_array(ArrayType* arr, int* n, const char* what, int max_n) {
  if (ARR_NDIM(arr) > 1)
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "array must be one-dimensional");
  if (ARR_HASNULL(arr)) {
    ereport(ERROR,
            (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULL", what)));
  }
  const int count = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
  if (count > max_n) {
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("%s has more than %d elements", what, max_n)));
  }
  *n = count;
  double* out = static_cast<double*>(palloc(sizeof(double) * (count > 0 ? count : 1)));
  if (count > 0) std::memcpy(out, ARR_DATA_PTR(arr), sizeof(double) * count);
  return out;
}

ArrayType* make_float8_array(const double* v, int n) {
  Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
  for (int i = 0; i < n; ++i) d[i] = Float8GetDatum(v[i]);
  return construct_array(d, n, FLOAT8OID, sizeof(double), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

// A C++ object in a memory context, destroyed by the context's reset callback.
template <typename T>
struct Owned {
  T obj;
  static void destroy(void* arg) { static_cast<Owned*>(arg)->~Owned(); }
};

// Allocates raw memory and the callback in ctx (may raise: call with no C++ object alive),
// then constructs T from the copy/move/... done by construct() under guarded().
template <typename T, typename Construct>
T* new_in_context(MemoryContext ctx, Construct&& construct) {
  void* mem = MemoryContextAlloc(ctx, sizeof(Owned<T>));
  auto* cb =
      static_cast<MemoryContextCallback*>(MemoryContextAlloc(ctx, sizeof(MemoryContextCallback)));
  ErrorInfo err;
  Owned<T>* owned = nullptr;
  if (!guarded(err, nullptr, [&] { owned = construct(mem); })) raise(err);
  cb->func = &Owned<T>::destroy;
  cb->arg = owned;
  MemoryContextRegisterResetCallback(ctx, cb);
  return &owned->obj;
}

// ------------------------------------------------------------------ quantile sketch

struct SketchState {
  core::QSketch sketch;
  int nq = -1;            // -1: no quantiles recorded (qsketch_agg); else the number requested
  std::vector<double> q;  // requested quantiles (percentile forms), recorded from the first row
};

SketchState* new_sketch_state(MemoryContext ctx) {
  return new_in_context<SketchState>(ctx, [](void* mem) { return new (mem) Owned<SketchState>(); });
}

void check_quantile(double q) {
  if (!(q >= 0.0 && q <= 1.0))
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "quantile must be between 0 and 1");
}

// Common transition: x may be NULL (ignored). Returns the state (or NULL if none yet).
SketchState* sketch_add(FunctionCallInfo fcinfo, const char* fn) {
  MemoryContext ctx = agg_context(fcinfo, fn);
  SketchState* st =
      PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SketchState*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(1)) return st;
  const double x = PG_GETARG_FLOAT8(1);
  if (st == nullptr) st = new_sketch_state(ctx);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { st->sketch.add(x); })) raise(err);
  return st;
}

Datum return_state(FunctionCallInfo fcinfo, void* st) {
  if (st == nullptr) PG_RETURN_NULL();
  PG_RETURN_POINTER(st);
}

}  // namespace

// qsketch_trans(internal, float8) → internal
extern "C" PGDLLEXPORT Datum techmart_qsketch_trans(PG_FUNCTION_ARGS) {
  return return_state(fcinfo, sketch_add(fcinfo, "qsketch_trans"));
}

// percentile_trans(internal, float8, q float8) → internal
extern "C" PGDLLEXPORT Datum techmart_qsketch_trans_q(PG_FUNCTION_ARGS) {
  SketchState* st = sketch_add(fcinfo, "percentile_trans");
  if (st != nullptr && st->nq < 0) {
    if (PG_ARGISNULL(2)) raise_plain(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quantile must not be NULL");
    const double q = PG_GETARG_FLOAT8(2);
    check_quantile(q);
    ErrorInfo err;
    if (!guarded(err, nullptr, [&] { st->q.assign(1, q); })) raise(err);
    st->nq = 1;
  }
  return return_state(fcinfo, st);
}

// percentile_trans(internal, float8, q float8[]) → internal
extern "C" PGDLLEXPORT Datum techmart_qsketch_trans_qarr(PG_FUNCTION_ARGS) {
  SketchState* st = sketch_add(fcinfo, "percentile_trans");
  if (st != nullptr && st->nq < 0) {
    if (PG_ARGISNULL(2)) raise_plain(ERRCODE_NULL_VALUE_NOT_ALLOWED, "quantiles must not be NULL");
    int n = 0;
    double* qs = read_float8_array(PG_GETARG_ARRAYTYPE_P(2), &n, "quantiles", kMaxQuantiles);
    for (int i = 0; i < n; ++i) check_quantile(qs[i]);
    ErrorInfo err;
    if (!guarded(err, nullptr, [&] { st->q.assign(qs, qs + n); })) raise(err);
    st->nq = n;
  }
  return return_state(fcinfo, st);
}

// qsketch_merge_trans(internal, bytea) → internal
extern "C" PGDLLEXPORT Datum techmart_qsketch_merge_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "qsketch_merge_trans");
  SketchState* st =
      PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SketchState*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(1)) return return_state(fcinfo, st);
  bytea* b = PG_GETARG_BYTEA_PP(1);
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  if (st == nullptr) st = new_sketch_state(ctx);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        const core::QSketch other = core::QSketch::deserialize(data, len);
        if (st->sketch.empty()) {
          st->sketch = other;  // adopts the stored sketch's accuracy settings
        } else {
          st->sketch.merge(other);
        }
      })) {
    raise(err);
  }
  return return_state(fcinfo, st);
}

// qsketch_combine(internal, internal) → internal (not strict: every NULL case)
extern "C" PGDLLEXPORT Datum techmart_qsketch_combine(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "qsketch_combine");
  SketchState* a = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SketchState*>(PG_GETARG_POINTER(0));
  SketchState* b = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<SketchState*>(PG_GETARG_POINTER(1));
  if (b == nullptr) return return_state(fcinfo, a);
  if (a == nullptr) a = new_sketch_state(ctx);  // copy b into the aggregate context
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        if (a->sketch.empty()) {
          a->sketch = b->sketch;
        } else {
          a->sketch.merge(b->sketch);
        }
        if (a->nq < 0 && b->nq >= 0) {
          a->q = b->q;
          a->nq = b->nq;
        }
      })) {
    raise(err);
  }
  PG_RETURN_POINTER(a);
}

// qsketch_serial(internal) → bytea: [i32 nq][nq float8][sketch]
extern "C" PGDLLEXPORT Datum techmart_qsketch_serial(PG_FUNCTION_ARGS) {
  const SketchState* st = reinterpret_cast<const SketchState*>(PG_GETARG_POINTER(0));
  const std::size_t qbytes = sizeof(std::int32_t) + sizeof(double) * (st->nq > 0 ? st->nq : 0);
  // size first (no allocation in C++), then palloc, then fill under guarded
  std::size_t sketch_len = 0;
  ErrorInfo err;
  char* buf = nullptr;
  std::string* tmp = nullptr;
  if (!guarded(err, nullptr, [&] {
        tmp = new std::string(st->sketch.serialize());
        sketch_len = tmp->size();
      })) {
    raise(err);
  }
  bytea* out =
      static_cast<bytea*>(palloc_extended(VARHDRSZ + qbytes + sketch_len, MCXT_ALLOC_NO_OOM));
  if (out != nullptr) {
    SET_VARSIZE(out, VARHDRSZ + qbytes + sketch_len);
    buf = VARDATA(out);
    const std::int32_t nq = st->nq;
    std::memcpy(buf, &nq, sizeof nq);
    if (st->nq > 0) std::memcpy(buf + sizeof nq, st->q.data(), sizeof(double) * st->nq);
    std::memcpy(buf + qbytes, tmp->data(), sketch_len);
  }
  delete tmp;
  if (out == nullptr)
    raise_plain(ERRCODE_OUT_OF_MEMORY, "out of memory serialising a quantile sketch");
  PG_RETURN_BYTEA_P(out);
}

// qsketch_deserial(bytea, internal) → internal (STRICT)
extern "C" PGDLLEXPORT Datum techmart_qsketch_deserial(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "qsketch_deserial");
  bytea* b = PG_GETARG_BYTEA_PP(0);
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  std::int32_t nq = 0;
  if (len < sizeof nq)
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "invalid serialised sketch state");
  std::memcpy(&nq, data, sizeof nq);
  if (nq < -1 || nq > kMaxQuantiles ||
      len < sizeof nq + sizeof(double) * static_cast<std::size_t>(nq > 0 ? nq : 0)) {
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "invalid serialised sketch state");
  }
  const std::size_t qbytes = sizeof nq + sizeof(double) * static_cast<std::size_t>(nq > 0 ? nq : 0);
  SketchState* st = new_sketch_state(ctx);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        st->sketch = core::QSketch::deserialize(data + qbytes, len - qbytes);
        if (nq > 0) {
          st->q.resize(static_cast<std::size_t>(nq));
          std::memcpy(st->q.data(), data + sizeof nq, sizeof(double) * nq);
        }
        st->nq = nq;
      })) {
    raise(err);
  }
  PG_RETURN_POINTER(st);
}

// qsketch_final(internal) → bytea (read only)
extern "C" PGDLLEXPORT Datum techmart_qsketch_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const SketchState* st = reinterpret_cast<const SketchState*>(PG_GETARG_POINTER(0));
  if (st->sketch.empty()) PG_RETURN_NULL();
  // reuse the serial path's layout without the quantile header
  ErrorInfo err;
  std::string* tmp = nullptr;
  if (!guarded(err, nullptr, [&] { tmp = new std::string(st->sketch.serialize()); })) raise(err);
  bytea* out = static_cast<bytea*>(palloc_extended(VARHDRSZ + tmp->size(), MCXT_ALLOC_NO_OOM));
  if (out != nullptr) {
    SET_VARSIZE(out, VARHDRSZ + tmp->size());
    std::memcpy(VARDATA(out), tmp->data(), tmp->size());
  }
  delete tmp;
  if (out == nullptr)
    raise_plain(ERRCODE_OUT_OF_MEMORY, "out of memory serialising a quantile sketch");
  PG_RETURN_BYTEA_P(out);
}

// percentile_final(internal, float8, float8) → float8 (read only)
extern "C" PGDLLEXPORT Datum techmart_percentile_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const SketchState* st = reinterpret_cast<const SketchState*>(PG_GETARG_POINTER(0));
  if (st->sketch.empty() || st->nq != 1) PG_RETURN_NULL();
  double v = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { v = st->sketch.quantile(st->q[0]); })) raise(err);
  PG_RETURN_FLOAT8(v);
}

// percentile_array_final(internal, float8, float8[]) → float8[] (read only)
extern "C" PGDLLEXPORT Datum techmart_percentile_array_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const SketchState* st = reinterpret_cast<const SketchState*>(PG_GETARG_POINTER(0));
  if (st->sketch.empty() || st->nq < 0) PG_RETURN_NULL();
  double* v = static_cast<double*>(palloc(sizeof(double) * (st->nq > 0 ? st->nq : 1)));
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        for (int i = 0; i < st->nq; ++i) v[i] = st->sketch.quantile(st->q[i]);
      })) {
    raise(err);
  }
  PG_RETURN_ARRAYTYPE_P(make_float8_array(v, st->nq));
}

namespace {
// Evaluates fn(sketch) on a stored sketch; raises 22023 for malformed input.
template <typename Fn>
void with_stored_sketch(bytea* b, Fn&& fn) {
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { fn(core::QSketch::deserialize(data, len)); })) raise(err);
}
}  // namespace

// qsketch_quantile(bytea, float8) → float8 (NULL for an empty sketch)
extern "C" PGDLLEXPORT Datum techmart_qsketch_quantile(PG_FUNCTION_ARGS) {
  bytea* b = PG_GETARG_BYTEA_PP(0);
  const double q = PG_GETARG_FLOAT8(1);
  check_quantile(q);
  double v = 0;
  bool empty = false;
  with_stored_sketch(b, [&](const core::QSketch& s) {
    empty = s.empty();
    if (!empty) v = s.quantile(q);
  });
  if (empty) PG_RETURN_NULL();
  PG_RETURN_FLOAT8(v);
}

// qsketch_quantiles(bytea, float8[]) → float8[]
extern "C" PGDLLEXPORT Datum techmart_qsketch_quantiles(PG_FUNCTION_ARGS) {
  bytea* b = PG_GETARG_BYTEA_PP(0);
  int n = 0;
  double* qs = read_float8_array(PG_GETARG_ARRAYTYPE_P(1), &n, "quantiles", kMaxQuantiles);
  for (int i = 0; i < n; ++i) check_quantile(qs[i]);
  double* v = static_cast<double*>(palloc(sizeof(double) * (n > 0 ? n : 1)));
  bool empty = false;
  with_stored_sketch(b, [&](const core::QSketch& s) {
    empty = s.empty();
    for (int i = 0; i < n && !empty; ++i) v[i] = s.quantile(qs[i]);
  });
  if (empty) PG_RETURN_NULL();
  PG_RETURN_ARRAYTYPE_P(make_float8_array(v, n));
}

// qsketch_cdf(bytea, float8) → float8
extern "C" PGDLLEXPORT Datum techmart_qsketch_cdf(PG_FUNCTION_ARGS) {
  bytea* b = PG_GETARG_BYTEA_PP(0);
  const double x = PG_GETARG_FLOAT8(1);
  double v = 0;
  bool empty = false;
  with_stored_sketch(b, [&](const core::QSketch& s) {
    empty = s.empty();
    if (!empty) v = s.cdf(x);
  });
  if (empty) PG_RETURN_NULL();
  PG_RETURN_FLOAT8(v);
}

// qsketch_count(bytea) → bigint
extern "C" PGDLLEXPORT Datum techmart_qsketch_count(PG_FUNCTION_ARGS) {
  bytea* b = PG_GETARG_BYTEA_PP(0);
  std::uint64_t c = 0;
  with_stored_sketch(b, [&](const core::QSketch& s) { c = s.count(); });
  if (c > static_cast<std::uint64_t>(PG_INT64_MAX))
    raise_plain(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "count out of range");
  PG_RETURN_INT64(static_cast<int64>(c));
}

// ------------------------------------------------------------------ HyperLogLog

namespace {
using HllState = core::HyperLogLog;

HllState* new_hll_state(MemoryContext ctx) {
  return new_in_context<HllState>(ctx, [](void* mem) { return new (mem) Owned<HllState>(); });
}

HllState* hll_state_arg(FunctionCallInfo fcinfo, int i) {
  return PG_ARGISNULL(i) ? nullptr : reinterpret_cast<HllState*>(PG_GETARG_POINTER(i));
}

// Serialises h into a palloc'd bytea (plain C after the guarded part).
bytea* hll_to_bytea(const core::HyperLogLog& h) {
  ErrorInfo err;
  std::string* tmp = nullptr;
  if (!guarded(err, nullptr, [&] { tmp = new std::string(h.serialize()); })) raise(err);
  bytea* out = static_cast<bytea*>(palloc_extended(VARHDRSZ + tmp->size(), MCXT_ALLOC_NO_OOM));
  if (out != nullptr) {
    SET_VARSIZE(out, VARHDRSZ + tmp->size());
    std::memcpy(VARDATA(out), tmp->data(), tmp->size());
  }
  delete tmp;
  if (out == nullptr) raise_plain(ERRCODE_OUT_OF_MEMORY, "out of memory serialising a hyperloglog");
  return out;
}

// Runs fn(HyperLogLog&) on a fresh sketch in the current (per-call) context; returns it as bytea.
template <typename Fn>
bytea* hll_compute(Fn&& fn) {
  core::HyperLogLog* h = nullptr;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        h = new core::HyperLogLog();
        fn(*h);
      })) {
    delete h;
    raise(err);
  }
  std::string* tmp = nullptr;
  if (!guarded(err, nullptr, [&] { tmp = new std::string(h->serialize()); })) {
    delete h;
    raise(err);
  }
  delete h;
  bytea* out = static_cast<bytea*>(palloc_extended(VARHDRSZ + tmp->size(), MCXT_ALLOC_NO_OOM));
  if (out != nullptr) {
    SET_VARSIZE(out, VARHDRSZ + tmp->size());
    std::memcpy(VARDATA(out), tmp->data(), tmp->size());
  }
  delete tmp;
  if (out == nullptr) raise_plain(ERRCODE_OUT_OF_MEMORY, "out of memory serialising a hyperloglog");
  return out;
}
}  // namespace

// ------------------------------------------------------------------ HyperLogLog: cache of stored
// sketches
//
// hll_union_agg over stored sketches (the hourly rollup rows' customers_hll) spent its time
// fetching each TOASTed sketch (a 10,000,000-line table: ~13 KB per hour, 9 TOAST chunks) and
// decoding it (~25 us per sketch). A sketch stored out of line is identified by its TOAST pointer
// (TOAST relation, value OID): a TOAST value is never modified, an UPDATE writes a new value with a
// new OID, and CLUSTER / VACUUM FULL keep each value's OID with its bytes. So the decoded
// registers of such a sketch can be kept per backend, keyed by the pointer, and merged from memory
// (one vectorised max over 2^p bytes) the next time the same row version is read; a changed row
// has a new pointer and misses. Inline sketches (small ones) are merged from their bytes as before.
//
// The only way a pointer could name other bytes later is the reuse of a value OID after the
// cluster-wide OID counter wrapped (2^32 allocations) and the old value was vacuumed away. The
// cache follows the counter (ShmemVariableCache->nextOid, read at every use): an entry is dropped
// once the counter has advanced 2^30 since the entry was filled, and the whole cache is dropped
// when it was not used for 60 s (the counter cannot advance 2^32 in that time). Bounded:
// kHllCacheSets x kHllCacheWays entries (8 MiB of registers at precision 14), least recently used
// way evicted; its own memory context under TopMemoryContext.
namespace {
constexpr int kHllCacheSets = 256;
constexpr int kHllCacheWays = 2;
constexpr uint64 kHllCacheMaxOidAdvance = uint64{1} << 30;
constexpr long kHllCacheIdleMs = 60 * 1000;

struct HllCacheEntry {
  Oid toastrel;
  Oid valueid;
  int32 rawsize;
  int32 precision;   // 0: empty way
  uint64 filled_at;  // oid clock when filled
  uint64 used_at;    // use counter, for LRU
  uint8* reg;        // 2^precision registers, in hll_cache_ctx
};

MemoryContext hll_cache_ctx = nullptr;
HllCacheEntry hll_cache[kHllCacheSets][kHllCacheWays];
uint64 hll_oid_clock = 0;  // OIDs assigned cluster-wide since the cache started (at least)
uint32 hll_last_next_oid = 0;
TimestampTz hll_last_use = 0;
uint64 hll_use_counter = 0;

void hll_cache_clear() {
  for (auto& set : hll_cache) {
    for (auto& e : set) {
      if (e.reg != nullptr) pfree(e.reg);
      e = HllCacheEntry{};
    }
  }
}

// Advances the OID clock; drops everything after a long idle time. Plain C (may not raise).
void hll_cache_tick() {
  const uint32 next_oid = ShmemVariableCache->nextOid;  // a benign unlocked read of 4 bytes
  const TimestampTz now = GetCurrentTimestamp();
  if (hll_last_use == 0 || TimestampDifferenceExceeds(hll_last_use, now, kHllCacheIdleMs)) {
    hll_cache_clear();
  } else {
    hll_oid_clock +=
        static_cast<uint32>(next_oid - hll_last_next_oid);  // modulo 2^32: >= the advance
  }
  hll_last_next_oid = next_oid;
  hll_last_use = now;
}

HllCacheEntry* hll_cache_set(const varatt_external& ext) {
  const uint32 h = hash_bytes_uint32(ext.va_valueid ^ (ext.va_toastrelid * 0x9E3779B1u));
  return hll_cache[h % kHllCacheSets];
}

// The cached registers of the stored sketch ext, or nullptr.
const HllCacheEntry* hll_cache_lookup(const varatt_external& ext) {
  HllCacheEntry* set = hll_cache_set(ext);
  for (int w = 0; w < kHllCacheWays; ++w) {
    HllCacheEntry& e = set[w];
    if (e.precision == 0 || e.valueid != ext.va_valueid || e.toastrel != ext.va_toastrelid ||
        e.rawsize != ext.va_rawsize)
      continue;
    if (hll_oid_clock - e.filled_at >= kHllCacheMaxOidAdvance) {  // the OID could come round
      pfree(e.reg);
      e = HllCacheEntry{};
      return nullptr;
    }
    e.used_at = ++hll_use_counter;
    return &e;
  }
  return nullptr;
}

// A way for ext (the empty or least recently used one), its registers allocated for precision p
// (may raise: call with no C++ object alive). The entry is published by the caller once filled.
HllCacheEntry* hll_cache_claim(const varatt_external& ext, int p) {
  if (hll_cache_ctx == nullptr) {
    hll_cache_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart hll cache", ALLOCSET_DEFAULT_SIZES);
  }
  HllCacheEntry* set = hll_cache_set(ext);
  HllCacheEntry* victim = &set[0];
  for (int w = 0; w < kHllCacheWays; ++w) {
    if (set[w].precision == 0) {
      victim = &set[w];
      break;
    }
    if (set[w].used_at < victim->used_at) victim = &set[w];
  }
  if (victim->reg != nullptr) pfree(victim->reg);
  *victim = HllCacheEntry{};
  victim->reg = static_cast<uint8*>(MemoryContextAlloc(hll_cache_ctx, std::size_t{1} << p));
  return victim;
}

// Merges the sketch argument argno of fcinfo into st: from the cache when it is stored out of line
// (filling the cache on a miss), else from its bytes.
void hll_merge_arg(FunctionCallInfo fcinfo, int argno, HllState* st) {
  auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(argno)));
  ErrorInfo err;
  if (VARATT_IS_EXTERNAL_ONDISK(raw)) {
    varatt_external ext;
    VARATT_EXTERNAL_GET_POINTER(ext, raw);
    hll_cache_tick();
    const HllCacheEntry* hit = hll_cache_lookup(ext);
    if (hit == nullptr) {
      bytea* b = reinterpret_cast<bytea*>(detoast_attr(raw));
      const auto* data = reinterpret_cast<const unsigned char*>(VARDATA_ANY(b));
      const std::size_t len = VARSIZE_ANY_EXHDR(b);
      const int p = len >= 3 ? data[1] : 0;
      if (p < core::HyperLogLog::kMinPrecision || p > core::HyperLogLog::kMaxPrecision) {
        // not a sketch we could cache: merge_serialized() reports what is wrong with it
        if (!guarded(err, nullptr, [&] { st->merge_serialized(data, len); })) raise(err);
        return;
      }
      HllCacheEntry* e = hll_cache_claim(ext, p);
      if (!guarded(err, nullptr,
                   [&] { core::HyperLogLog::deserialize(data, len).copy_registers(e->reg); })) {
        pfree(e->reg);
        *e = HllCacheEntry{};
        raise(err);
      }
      e->toastrel = ext.va_toastrelid;
      e->valueid = ext.va_valueid;
      e->rawsize = ext.va_rawsize;
      e->precision = p;
      e->filled_at = hll_oid_clock;
      e->used_at = ++hll_use_counter;
      hit = e;
    }
    const std::size_t m = std::size_t{1} << hit->precision;
    if (!guarded(err, nullptr, [&] { st->merge_registers(hit->reg, m); })) raise(err);
    return;
  }
  bytea* b = PG_GETARG_BYTEA_PP(argno);
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  if (!guarded(err, nullptr, [&] { st->merge_serialized(data, len); })) raise(err);
}
}  // namespace

// hll_add_trans(internal, bigint) → internal
extern "C" PGDLLEXPORT Datum techmart_hll_add_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "hll_add_trans");
  HllState* st = hll_state_arg(fcinfo, 0);
  if (PG_ARGISNULL(1)) return return_state(fcinfo, st);
  if (st == nullptr) st = new_hll_state(ctx);
  const int64 v = PG_GETARG_INT64(1);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { st->add(v); })) raise(err);  // the sparse list may grow
  PG_RETURN_POINTER(st);
}

// hll_union_trans(internal, bytea) → internal
extern "C" PGDLLEXPORT Datum techmart_hll_union_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "hll_union_trans");
  HllState* st = hll_state_arg(fcinfo, 0);
  if (PG_ARGISNULL(1)) return return_state(fcinfo, st);
  if (st == nullptr) st = new_hll_state(ctx);
  hll_merge_arg(fcinfo, 1, st);
  PG_RETURN_POINTER(st);
}

// hll_combine(internal, internal) → internal
extern "C" PGDLLEXPORT Datum techmart_hll_combine(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "hll_combine");
  HllState* a = hll_state_arg(fcinfo, 0);
  HllState* b = hll_state_arg(fcinfo, 1);
  if (b == nullptr) return return_state(fcinfo, a);
  if (a == nullptr) a = new_hll_state(ctx);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { a->merge(*b); })) raise(err);
  PG_RETURN_POINTER(a);
}

// hll_serial(internal) → bytea
extern "C" PGDLLEXPORT Datum techmart_hll_serial(PG_FUNCTION_ARGS) {
  PG_RETURN_BYTEA_P(hll_to_bytea(*reinterpret_cast<const HllState*>(PG_GETARG_POINTER(0))));
}

// hll_deserial(bytea, internal) → internal (STRICT)
extern "C" PGDLLEXPORT Datum techmart_hll_deserial(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "hll_deserial");
  bytea* b = PG_GETARG_BYTEA_PP(0);
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  HllState* st = new_hll_state(ctx);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { *st = core::HyperLogLog::deserialize(data, len); })) raise(err);
  PG_RETURN_POINTER(st);
}

// hll_final(internal) → bytea (read only)
extern "C" PGDLLEXPORT Datum techmart_hll_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  PG_RETURN_BYTEA_P(hll_to_bytea(*reinterpret_cast<const HllState*>(PG_GETARG_POINTER(0))));
}

// hll_union(bytea, bytea) → bytea: NULL on one side returns the other
namespace {
// the union of a and b (either may be nullptr, not both) serialised into a palloc'd bytea
bytea* hll_union_bytes(bytea* a, bytea* b) {
  return hll_compute([&](core::HyperLogLog& h) {
    bool first = true;
    for (bytea* x : {a, b}) {
      if (x == nullptr) continue;
      if (first) {
        h = core::HyperLogLog::deserialize(VARDATA_ANY(x), VARSIZE_ANY_EXHDR(x));
        first = false;
      } else {
        h.merge_serialized(VARDATA_ANY(x), VARSIZE_ANY_EXHDR(x));
      }
    }
  });
}
}  // namespace

extern "C" PGDLLEXPORT Datum techmart_hll_union(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) && PG_ARGISNULL(1)) PG_RETURN_NULL();
  bytea* a = PG_ARGISNULL(0) ? nullptr : PG_GETARG_BYTEA_PP(0);
  bytea* b = PG_ARGISNULL(1) ? nullptr : PG_GETARG_BYTEA_PP(1);
  PG_RETURN_BYTEA_P(hll_union_bytes(a, b));
}

// analytics.rollup_hll_union(stored bytea, added bytea) → bytea (sqitch change rollup_single_row,
// declared there: the extension's version is unchanged): techmart.hll_union(stored, added), the
// same bytes, for the rollup upserts' SET customers_hll = ...(s.customers_hll,
// excluded.customers_hll). When `stored` comes as a pointer to an out-of-line TOAST value (a
// bucket's sketch of more than ~2 KB) and the union is byte for byte that value (`added` set no
// register: its customers were in the sketch), the pointer itself is returned: the UPDATE storing
// it keeps the row's TOAST value (the toaster reuses an unchanged pointer) instead of compressing
// and writing a copy and deleting the old one.
extern "C" PGDLLEXPORT Datum techmart_rollup_hll_union(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) && PG_ARGISNULL(1)) PG_RETURN_NULL();
  bytea* a = PG_ARGISNULL(0) ? nullptr : PG_GETARG_BYTEA_PP(0);
  bytea* b = PG_ARGISNULL(1) ? nullptr : PG_GETARG_BYTEA_PP(1);
  bytea* r = hll_union_bytes(a, b);
  if (a != nullptr && VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(PG_GETARG_DATUM(0))) &&
      VARSIZE_ANY_EXHDR(a) == VARSIZE(r) - VARHDRSZ &&
      std::memcmp(VARDATA_ANY(a), VARDATA(r), VARSIZE(r) - VARHDRSZ) == 0) {
    pfree(r);
    PG_RETURN_DATUM(PG_GETARG_DATUM(0));
  }
  PG_RETURN_BYTEA_P(r);
}

// hll_cardinality(bytea) → float8
extern "C" PGDLLEXPORT Datum techmart_hll_cardinality(PG_FUNCTION_ARGS) {
  bytea* b = PG_GETARG_BYTEA_PP(0);
  const char* data = VARDATA_ANY(b);
  const std::size_t len = VARSIZE_ANY_EXHDR(b);
  double v = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { v = core::HyperLogLog::deserialize(data, len).estimate(); }))
    raise(err);
  PG_RETURN_FLOAT8(v);
}

// hll_empty() → bytea
extern "C" PGDLLEXPORT Datum techmart_hll_empty(PG_FUNCTION_ARGS) {
  PG_RETURN_BYTEA_P(hll_compute([](core::HyperLogLog&) {}));
}

// hll_add(bytea, bigint) → bytea: a NULL sketch is empty, a NULL value adds nothing
extern "C" PGDLLEXPORT Datum techmart_hll_add(PG_FUNCTION_ARGS) {
  bytea* a = PG_ARGISNULL(0) ? nullptr : PG_GETARG_BYTEA_PP(0);
  const bool has_value = !PG_ARGISNULL(1);
  const int64 v = has_value ? PG_GETARG_INT64(1) : 0;
  PG_RETURN_BYTEA_P(hll_compute([&](core::HyperLogLog& h) {
    if (a != nullptr) h = core::HyperLogLog::deserialize(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a));
    if (has_value) h.add(v);
  }));
}

// ------------------------------------------------------------------ moments

namespace {
core::Moments* moments_arg(FunctionCallInfo fcinfo, int i) {
  return PG_ARGISNULL(i) ? nullptr : reinterpret_cast<core::Moments*>(PG_GETARG_POINTER(i));
}
core::Moments* new_moments(MemoryContext ctx) {
  void* mem = MemoryContextAllocZero(ctx, sizeof(core::Moments));
  return new (mem) core::Moments();  // trivially destructible
}
}  // namespace

// moments_trans(internal, float8) → internal
extern "C" PGDLLEXPORT Datum techmart_moments_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "moments_trans");
  core::Moments* st = moments_arg(fcinfo, 0);
  if (PG_ARGISNULL(1)) return return_state(fcinfo, st);
  if (st == nullptr) st = new_moments(ctx);
  const double x = PG_GETARG_FLOAT8(1);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { st->add(x); })) raise(err);
  PG_RETURN_POINTER(st);
}

// moments_combine(internal, internal) → internal
extern "C" PGDLLEXPORT Datum techmart_moments_combine(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "moments_combine");
  core::Moments* a = moments_arg(fcinfo, 0);
  core::Moments* b = moments_arg(fcinfo, 1);
  if (b == nullptr) return return_state(fcinfo, a);
  if (a == nullptr) a = new_moments(ctx);
  a->merge(*b);  // noexcept
  PG_RETURN_POINTER(a);
}

// moments_serial(internal) → bytea (the five fields, native layout: only read by the same build)
extern "C" PGDLLEXPORT Datum techmart_moments_serial(PG_FUNCTION_ARGS) {
  const core::Moments* st = reinterpret_cast<const core::Moments*>(PG_GETARG_POINTER(0));
  bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + sizeof(core::Moments)));
  SET_VARSIZE(out, VARHDRSZ + sizeof(core::Moments));
  std::memcpy(VARDATA(out), st, sizeof(core::Moments));
  PG_RETURN_BYTEA_P(out);
}

// moments_deserial(bytea, internal) → internal (STRICT)
extern "C" PGDLLEXPORT Datum techmart_moments_deserial(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "moments_deserial");
  bytea* b = PG_GETARG_BYTEA_PP(0);
  if (VARSIZE_ANY_EXHDR(b) != sizeof(core::Moments)) {
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "invalid serialised moments state");
  }
  core::Moments* st = new_moments(ctx);
  std::memcpy(st, VARDATA_ANY(b), sizeof(core::Moments));
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { st->validate(); })) raise(err);
  PG_RETURN_POINTER(st);
}

// moments_final(internal) → techmart.moments_result (read only)
extern "C" PGDLLEXPORT Datum techmart_moments_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const core::Moments* st = reinterpret_cast<const core::Moments*>(PG_GETARG_POINTER(0));
  if (st->n == 0) PG_RETURN_NULL();
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
    raise_plain(ERRCODE_FEATURE_NOT_SUPPORTED, "moments_final must return a composite type");
  }
  desc = BlessTupleDesc(desc);
  Datum values[6];
  bool nulls[6] = {false, false, false, false, false, false};
  values[0] = Int64GetDatum(st->n);
  values[1] = Float8GetDatum(st->mean);
  if (st->n >= 2) {
    const double var = st->variance();
    values[2] = Float8GetDatum(var);
    values[3] = Float8GetDatum(std::sqrt(var));
  } else {
    nulls[2] = nulls[3] = true;
  }
  if (st->n >= 2 && st->m2 > 0.0) {
    values[4] = Float8GetDatum(st->skewness());
    values[5] = Float8GetDatum(st->kurtosis());
  } else {
    nulls[4] = nulls[5] = true;
  }
  // The inputs are finite, but the running sums of powers of their deviations overflow float8 for
  // spreads beyond ~1e154 (variance), ~1e102 (skewness), ~1e77 (kurtosis): the result was NaN (or
  // Infinity) printed as a value. Refused like var_samp's overflow (22003), naming the moment.
  static const char* const kNames[6] = {"count",  "mean",     "variance",
                                        "stddev", "skewness", "kurtosis"};
  for (int i = 1; i < 6; ++i) {
    if (!nulls[i] && !std::isfinite(DatumGetFloat8(values[i]))) {
      ereport(
          ERROR,
          (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
           errmsg("moments: %s is out of range for type double precision (overflow)", kNames[i]),
           errhint("Scale the values down (e.g. divide by a power of 10) before aggregating.")));
    }
  }
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// ------------------------------------------------------------------ ewma

// ewma_trans(internal, float8, alpha float8) → internal
extern "C" PGDLLEXPORT Datum techmart_ewma_trans(PG_FUNCTION_ARGS) {
  MemoryContext ctx = agg_context(fcinfo, "ewma_trans");
  auto* st = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<core::Ewma*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(1)) return return_state(fcinfo, st);
  if (PG_ARGISNULL(2)) raise_plain(ERRCODE_NULL_VALUE_NOT_ALLOWED, "ewma alpha must not be NULL");
  if (st == nullptr) st = new (MemoryContextAllocZero(ctx, sizeof(core::Ewma))) core::Ewma();
  const double x = PG_GETARG_FLOAT8(1);
  const double alpha = PG_GETARG_FLOAT8(2);
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { st->add(x, alpha); })) raise(err);
  PG_RETURN_POINTER(st);
}

// ewma_final(internal, float8, float8) → float8 (read only)
extern "C" PGDLLEXPORT Datum techmart_ewma_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  const auto* st = reinterpret_cast<const core::Ewma*>(PG_GETARG_POINTER(0));
  if (!st->started) PG_RETURN_NULL();
  PG_RETURN_FLOAT8(st->value);
}

// robust_zscore(x, median, mad) → float8
extern "C" PGDLLEXPORT Datum techmart_robust_zscore(PG_FUNCTION_ARGS) {
  const double x = PG_GETARG_FLOAT8(0);
  const double med = PG_GETARG_FLOAT8(1);
  const double mad = PG_GETARG_FLOAT8(2);
  double z = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { z = core::robust_zscore(x, med, mad); })) raise(err);
  PG_RETURN_FLOAT8(z);
}

// ------------------------------------------------------------------ forecasting

namespace {
constexpr int kMaxSeries = 1000000;
}

// forecast(vals float8[], horizon int, season int, level float8)
//   → TABLE(step int, point float8, lower float8, upper float8)
extern "C" PGDLLEXPORT Datum techmart_forecast(PG_FUNCTION_ARGS) {
  int n = 0;
  const double* vals = read_float8_array(PG_GETARG_ARRAYTYPE_P(0), &n, "vals", kMaxSeries);
  const int32 horizon = PG_GETARG_INT32(1);
  const int32 season = PG_GETARG_INT32(2);
  const double level = PG_GETARG_FLOAT8(3);
  if (horizon < 1 || horizon > 100000)
    raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "horizon must be between 1 and 100000");
  if (season < 2) raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "season must be at least 2");
  double* out =
      static_cast<double*>(palloc(sizeof(double) * 3 * static_cast<std::size_t>(horizon)));
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        const std::vector<double> y(vals, vals + n);
        const core::HoltWintersFit fit =
            core::fit_holt_winters(y, static_cast<std::size_t>(season));
        const auto fc = core::forecast_holt_winters(fit, static_cast<std::size_t>(horizon), level);
        for (std::size_t h = 0; h < fc.size(); ++h) {
          out[3 * h] = fc[h].point;
          out[3 * h + 1] = fc[h].lower;
          out[3 * h + 2] = fc[h].upper;
        }
      })) {
    raise(err);
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (int h = 0; h < horizon; ++h) {
    Datum values[4] = {Int32GetDatum(h + 1), Float8GetDatum(out[3 * h]),
                       Float8GetDatum(out[3 * h + 1]), Float8GetDatum(out[3 * h + 2])};
    bool nulls[4] = {false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// detect_anomalies(vals float8[], season int, level float8)
//   → TABLE(idx int, value float8, expected float8, lower float8, upper float8, is_anomaly bool)
extern "C" PGDLLEXPORT Datum techmart_detect_anomalies(PG_FUNCTION_ARGS) {
  int n = 0;
  const double* vals = read_float8_array(PG_GETARG_ARRAYTYPE_P(0), &n, "vals", kMaxSeries);
  const int32 season = PG_GETARG_INT32(1);
  const double level = PG_GETARG_FLOAT8(2);
  if (season < 2) raise_plain(ERRCODE_INVALID_PARAMETER_VALUE, "season must be at least 2");
  double* out =
      static_cast<double*>(palloc(sizeof(double) * 4 * static_cast<std::size_t>(n > 0 ? n : 1)));
  bool* flag = static_cast<bool*>(palloc(sizeof(bool) * static_cast<std::size_t>(n > 0 ? n : 1)));
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        const std::vector<double> y(vals, vals + n);
        const auto pts = core::detect_anomalies(y, static_cast<std::size_t>(season), level);
        for (std::size_t t = 0; t < pts.size(); ++t) {
          out[4 * t] = pts[t].value;
          out[4 * t + 1] = pts[t].expected;
          out[4 * t + 2] = pts[t].lower;
          out[4 * t + 3] = pts[t].upper;
          flag[t] = pts[t].anomaly;
        }
      })) {
    raise(err);
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (int t = 0; t < n; ++t) {
    Datum values[6] = {Int32GetDatum(t + 1),           Float8GetDatum(out[4 * t]),
                       Float8GetDatum(out[4 * t + 1]), Float8GetDatum(out[4 * t + 2]),
                       Float8GetDatum(out[4 * t + 3]), BoolGetDatum(flag[t])};
    bool nulls[6] = {false, false, false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}
