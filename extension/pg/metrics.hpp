#pragma once
// Scoring latency histogram of the fraud trigger (metrics.cpp, docs/operations.md).
// The trigger's only part: `const uint64 t0 = metrics::clock_ns();` when a row's scoring starts
// and `metrics::observe_scoring(t0);` when it is done.
#include <ctime>

#include "pg.hpp"

namespace techmart::pg::metrics {

// from _PG_init: requests the shared memory of the cluster-wide histogram when the library is
// being preloaded (shared_preload_libraries); otherwise the histogram is per backend
void init();

// CLOCK_MONOTONIC in nanoseconds (vDSO: no system call)
inline uint64 clock_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64>(ts.tv_sec) * UINT64CONST(1000000000) + static_cast<uint64>(ts.tv_nsec);
}

// one scored row that started at `start_ns` (clock_ns()): counted in the backend's histogram
// and, when preloaded, in the cluster's (atomic adds, no lock)
void observe_scoring(uint64 start_ns);

}  // namespace techmart::pg::metrics
