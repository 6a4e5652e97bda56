#include "techmart/core/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace lat = techmart::core::latency;

namespace {
// reference: linear scan with the same `le` rule
std::size_t linear_bucket(std::uint64_t ns) {
  for (std::size_t i = 0; i < lat::kFinite; ++i) {
    if (ns <= lat::kUpperBoundsUs[i] * 1000) return i;
  }
  return lat::kFinite;
}
}  // namespace

TEST(LatencyHistogram, BoundsStrictlyIncrease) {
  for (std::size_t i = 1; i < lat::kFinite; ++i) {
    EXPECT_LT(lat::kUpperBoundsUs[i - 1], lat::kUpperBoundsUs[i]) << i;
  }
  EXPECT_EQ(lat::kBuckets, lat::kFinite + 1);
}

TEST(LatencyHistogram, BoundaryValuesUseLessOrEqual) {
  for (std::size_t i = 0; i < lat::kFinite; ++i) {
    const std::uint64_t b = lat::kUpperBoundsUs[i] * 1000;
    EXPECT_EQ(lat::bucket_of(b), i) << "exactly on bound " << b;  // le: the bound belongs to i
    EXPECT_EQ(lat::bucket_of(b + 1), i + 1) << "just above bound " << b;
    EXPECT_EQ(lat::bucket_of(b - 1), i) << "just below bound " << b;  // bounds are >= 1 us apart
  }
  EXPECT_EQ(lat::bucket_of(0), 0u);
  EXPECT_EQ(lat::bucket_of(UINT64_MAX), lat::kFinite);
}

TEST(LatencyHistogram, MatchesLinearScanOnRandomDurations) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> exp10(0, 10);
  for (int k = 0; k < 100000; ++k) {
    std::uint64_t scale = 1;
    for (int e = exp10(rng); e > 0; --e) scale *= 10;
    const std::uint64_t ns = rng() % (scale * 10);
    ASSERT_EQ(lat::bucket_of(ns), linear_bucket(ns)) << ns;
  }
  static_assert(lat::bucket_of(1500) == 1, "1.5 us is in the 2 us bucket");
  static_assert(lat::bucket_of(2000000000ull) == lat::kFinite, "2 s is in +Inf");
}

TEST(LatencyHistogram, UpperBoundsAndInfinity) {
  EXPECT_EQ(lat::upper_bound_us(0), 1.0);
  EXPECT_EQ(lat::upper_bound_us(lat::kFinite - 1), 1e6);
  EXPECT_LT(lat::upper_bound_us(lat::kFinite), 0.0);
}

TEST(LatencyHistogram, CumulativeIsRunningSumAndSaturates) {
  std::vector<std::uint64_t> c(lat::kBuckets);
  std::mt19937_64 rng(11);
  for (auto& x : c) x = rng() % 1000;
  std::vector<std::uint64_t> cum(lat::kBuckets);
  lat::cumulative(c.data(), cum.data(), c.size());
  std::uint64_t run = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    run += c[i];
    EXPECT_EQ(cum[i], run);
    if (i > 0) {
      EXPECT_GE(cum[i], cum[i - 1]);
    }
  }
  std::uint64_t big[3] = {UINT64_MAX - 1, 5, 7};
  lat::cumulative(big, big, 3);  // in place, saturating
  EXPECT_EQ(big[0], UINT64_MAX - 1);
  EXPECT_EQ(big[1], UINT64_MAX);
  EXPECT_EQ(big[2], UINT64_MAX);
}
