#pragma once
// Bucket layout of the scoring latency histogram (extension/pg/metrics.cpp, docs/operations.md).
// Fixed upper bounds in a 1-2-5 series from 1 us to 1 s plus +Inf, with Prometheus `le`
// semantics: an observation of d nanoseconds falls in the first bucket whose bound is >= d.
// Pure constexpr code: the trigger calls bucket_of() once per scored row.
#include <array>
#include <cstddef>
#include <cstdint>

namespace techmart::core::latency {

// finite upper bounds in microseconds (the last bucket, index kFinite, is +Inf)
inline constexpr std::array<std::uint64_t, 19> kUpperBoundsUs = {
    1,    2,    5,     10,    20,    50,     100,    200,    500,    1000,
    2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000};
inline constexpr std::size_t kFinite = kUpperBoundsUs.size();
inline constexpr std::size_t kBuckets = kFinite + 1;

// index of the bucket of an observation of `ns` nanoseconds: the first i with ns <= bound[i]
// (in ns), kFinite when above every finite bound
constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
  // binary search over the bounds (no branch depends on more than log2(19) comparisons)
  std::size_t lo = 0, hi = kFinite;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (ns <= kUpperBoundsUs[mid] * 1000) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// upper bound of bucket i in microseconds; +Inf is reported as a negative number (-1) so that
// callers map it to their own infinity
constexpr double upper_bound_us(std::size_t i) noexcept {
  return i < kFinite ? static_cast<double>(kUpperBoundsUs[i]) : -1.0;
}

// running totals of per-bucket counts (counts and out may alias); saturates instead of wrapping
inline void cumulative(const std::uint64_t* counts, std::uint64_t* out, std::size_t n) noexcept {
  std::uint64_t run = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t c = counts[i];
    run = (run > UINT64_MAX - c) ? UINT64_MAX : run + c;
    out[i] = run;
  }
}

}  // namespace techmart::core::latency
