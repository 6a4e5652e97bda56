// Scoring latency histogram of the fraud trigger (docs/operations.md, "Scoring latency").
//
// techmart.score_transaction() takes a CLOCK_MONOTONIC reading when a row's scoring starts and
// calls observe_scoring() when the row is scored; the duration goes into the bucket of
// core::latency::bucket_of() (fixed 1-2-5 bounds from 1 us to 1 s, +Inf).
//
// Two copies of the histogram:
//   * the cluster's, in shared memory, when techmart is in shared_preload_libraries: the
//     postmaster reserves it (shmem_request_hook) and creates it (shmem_startup_hook); every
//     backend adds with pg_atomic_fetch_add_u64 (no lock; a scrape reads each counter once, so
//     a row scored during a read may be in some counters and not yet in others);
//   * the backend's own, in plain static memory, always kept (one non-atomic add more), so a
//     session can check its own rows exactly and a cluster without the preload still has one.
// Without the preload nothing fails: the SQL functions answer with scope 'backend' (the
// figures of the calling backend only).
//
// SQL: techmart.scoring_latency(backend_only), techmart.scoring_latency_summary(backend_only),
// techmart.scoring_latency_reset(backend_only) (sql/upgrades/0.3--0.4/10-scoring-latency.sql).
#include "metrics.hpp"

#include "techmart/core/latency_histogram.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/float.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(techmart_scoring_latency);
PG_FUNCTION_INFO_V1(techmart_scoring_latency_summary);
PG_FUNCTION_INFO_V1(techmart_scoring_latency_reset);
}

namespace lat = techmart::core::latency;

namespace {

constexpr int kBuckets = static_cast<int>(lat::kBuckets);

struct SharedHistogram {
  pg_atomic_uint64 counts[lat::kBuckets];
  pg_atomic_uint64 sum_ns;
  pg_atomic_uint64 reset_at;  // TimestampTz of creation or the last reset
};

struct LocalHistogram {
  uint64 counts[lat::kBuckets];
  uint64 sum_ns;
  TimestampTz reset_at;  // 0: since the backend started
};

SharedHistogram* shared = nullptr;  // set in every backend when preloaded (fork inherits it)
LocalHistogram local = {};
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

void shmem_request() {
  if (prev_shmem_request_hook) prev_shmem_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(SharedHistogram)));
}

void shmem_startup() {
  if (prev_shmem_startup_hook) prev_shmem_startup_hook();
  bool found = false;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  auto* h = static_cast<SharedHistogram*>(
      ShmemInitStruct("techmart scoring latency", sizeof(SharedHistogram), &found));
  if (!found) {
    for (int i = 0; i < kBuckets; ++i) pg_atomic_init_u64(&h->counts[i], 0);
    pg_atomic_init_u64(&h->sum_ns, 0);
    pg_atomic_init_u64(&h->reset_at, static_cast<uint64>(GetCurrentTimestamp()));
  }
  LWLockRelease(AddinShmemInitLock);
  shared = h;
}

// the figures of one scope, copied out (plain data)
struct Figures {
  bool cluster;
  uint64 counts[lat::kBuckets];
  uint64 sum_ns;
  TimestampTz since;
};

Figures take(bool backend_only) {
  Figures s{};
  s.cluster = !backend_only && shared != nullptr;
  if (s.cluster) {
    for (int i = 0; i < kBuckets; ++i) s.counts[i] = pg_atomic_read_u64(&shared->counts[i]);
    s.sum_ns = pg_atomic_read_u64(&shared->sum_ns);
    s.since = static_cast<TimestampTz>(pg_atomic_read_u64(&shared->reset_at));
  } else {
    for (int i = 0; i < kBuckets; ++i) s.counts[i] = local.counts[i];
    s.sum_ns = local.sum_ns;
    s.since = local.reset_at != 0 ? local.reset_at : MyStartTimestamp;
  }
  return s;
}

}  // namespace

namespace techmart::pg::metrics {

void init() {
  if (!process_shared_preload_libraries_in_progress) return;  // per-backend histogram only
  prev_shmem_request_hook = shmem_request_hook;
  shmem_request_hook = shmem_request;
  prev_shmem_startup_hook = shmem_startup_hook;
  shmem_startup_hook = shmem_startup;
}

void observe_scoring(uint64 start_ns) {
  const uint64 now = clock_ns();
  const uint64 ns = now > start_ns ? now - start_ns : 0;
  const std::size_t b = lat::bucket_of(ns);
  ++local.counts[b];
  local.sum_ns += ns;
  if (shared != nullptr) {
    pg_atomic_fetch_add_u64(&shared->counts[b], 1);
    pg_atomic_fetch_add_u64(&shared->sum_ns, static_cast<int64>(ns));
  }
}

}  // namespace techmart::pg::metrics

// techmart.scoring_latency(backend_only boolean DEFAULT false)
//   → TABLE (scope text, le_us float8, count bigint, cumulative bigint), one row per bucket
extern "C" PGDLLEXPORT Datum techmart_scoring_latency(PG_FUNCTION_ARGS) {
  const bool backend_only = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
  const Figures s = take(backend_only);
  uint64 cum[lat::kBuckets];
  lat::cumulative(s.counts, cum, lat::kBuckets);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  const Datum scope = CStringGetTextDatum(s.cluster ? "cluster" : "backend");
  for (int i = 0; i < kBuckets; ++i) {
    const double le = lat::upper_bound_us(static_cast<std::size_t>(i));
    Datum values[4] = {scope, Float8GetDatum(le < 0 ? get_float8_infinity() : le),
                       Int64GetDatum(static_cast<int64>(Min(s.counts[i], (uint64)PG_INT64_MAX))),
                       Int64GetDatum(static_cast<int64>(Min(cum[i], (uint64)PG_INT64_MAX)))};
    bool nulls[4] = {false, false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// techmart.scoring_latency_summary(backend_only boolean DEFAULT false)
//   → TABLE (scope text, preloaded boolean, observations bigint, sum_seconds float8,
//            since timestamptz), one row
extern "C" PGDLLEXPORT Datum techmart_scoring_latency_summary(PG_FUNCTION_ARGS) {
  const bool backend_only = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
  const Figures s = take(backend_only);
  uint64 cum[lat::kBuckets];
  lat::cumulative(s.counts, cum, lat::kBuckets);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  Datum values[5] = {
      CStringGetTextDatum(s.cluster ? "cluster" : "backend"), BoolGetDatum(shared != nullptr),
      Int64GetDatum(static_cast<int64>(Min(cum[kBuckets - 1], (uint64)PG_INT64_MAX))),
      Float8GetDatum(static_cast<double>(s.sum_ns) / 1e9), TimestampTzGetDatum(s.since)};
  bool nulls[5] = {false, false, false, false, false};
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  return (Datum)0;
}

// techmart.scoring_latency_reset(backend_only boolean DEFAULT false) → timestamptz (the reset
// time). The backend's own histogram is always reset; the cluster's unless backend_only.
// Adds racing with a reset may survive it (counters are zeroed one by one, without a lock).
extern "C" PGDLLEXPORT Datum techmart_scoring_latency_reset(PG_FUNCTION_ARGS) {
  const bool backend_only = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
  const TimestampTz now = GetCurrentTimestamp();
  local = LocalHistogram{};
  local.reset_at = now;
  if (!backend_only && shared != nullptr) {
    for (int i = 0; i < kBuckets; ++i) pg_atomic_write_u64(&shared->counts[i], 0);
    pg_atomic_write_u64(&shared->sum_ns, 0);
    pg_atomic_write_u64(&shared->reset_at, static_cast<uint64>(now));
  }
  PG_RETURN_TIMESTAMPTZ(now);
}
