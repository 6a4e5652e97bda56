// Exact median / MAD (techmart::core::median_mad) against a sort-based reference.
#include "techmart/core/moments_robust.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace core = techmart::core;

namespace {
double sorted_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

TEST(MedianMad, SmallKnownCases) {
  std::vector<double> v{1, 2, 3, 4, 100};
  auto r = core::median_mad(v.data(), v.size());
  EXPECT_EQ(r.median, 3);
  EXPECT_EQ(r.mad, 1);  // |x - 3| = 2 1 0 1 97
  std::vector<double> even{4, 1, 3, 2};
  r = core::median_mad(even.data(), even.size());
  EXPECT_EQ(r.median, 2.5);
  EXPECT_EQ(r.mad, 1);  // 1.5 0.5 0.5 1.5
  std::vector<double> one{-7};
  r = core::median_mad(one.data(), one.size());
  EXPECT_EQ(r.median, -7);
  EXPECT_EQ(r.mad, 0);
}

TEST(MedianMad, MatchesSortReferenceOnRandomData) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(1, 2);
  for (std::size_t n : {2u, 3u, 100u, 1001u, 50000u}) {
    std::vector<double> v(n);
    for (auto& x : v) x = d(rng) - 5;
    const double med = sorted_median(v);
    std::vector<double> dev(n);
    for (std::size_t i = 0; i < n; ++i) dev[i] = std::fabs(v[i] - med);
    const double mad = sorted_median(dev);
    auto work = v;
    const auto r = core::median_mad(work.data(), work.size());
    EXPECT_EQ(r.median, med) << n;
    EXPECT_EQ(r.mad, mad) << n;
  }
}

TEST(MedianMad, RejectsEmptyAndNonFinite) {
  std::vector<double> v{1, NAN, 3};
  EXPECT_THROW(core::median_mad(v.data(), v.size()), std::invalid_argument);
  std::vector<double> inf{1, INFINITY};
  EXPECT_THROW(core::median_mad(inf.data(), inf.size()), std::invalid_argument);
  EXPECT_THROW(core::median_mad(nullptr, 0), std::invalid_argument);
}
