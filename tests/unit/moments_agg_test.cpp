// Moments / EWMA / robust z of techmart/core/moments.hpp (tests/unit/moments_test.cpp is taken by
// the techmart::core::stats implementation).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "techmart/core/moments.hpp"

using techmart::core::Ewma;
using techmart::core::Moments;

namespace {
struct TwoPass {
  double mean, var, skew, kurt;
};
TwoPass two_pass(const std::vector<double>& xs) {
  long double s = 0;
  for (double x : xs) s += x;
  const long double n = static_cast<long double>(xs.size());
  const long double mean = s / n;
  long double m2 = 0, m3 = 0, m4 = 0;
  for (double x : xs) {
    const long double d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  return {static_cast<double>(mean), static_cast<double>(m2 / (n - 1)),
          static_cast<double>(std::sqrt(n) * m3 / std::pow(m2, 1.5L)),
          static_cast<double>(n * m4 / (m2 * m2) - 3)};
}
void expect_close(const Moments& m, const TwoPass& r) {
  EXPECT_NEAR(m.mean, r.mean, 1e-9 * (1 + std::fabs(r.mean)));
  EXPECT_NEAR(m.variance(), r.var, 1e-9 * r.var);
  EXPECT_NEAR(m.skewness(), r.skew, 1e-7 * (1 + std::fabs(r.skew)));
  EXPECT_NEAR(m.kurtosis(), r.kurt, 1e-7 * (1 + std::fabs(r.kurt)));
}
}  // namespace

TEST(MomentsAgg, MatchesTwoPassOnSkewedData) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> d(5.0, 0.8);
  std::vector<double> xs(100000);
  for (double& x : xs) x = 1e6 + d(rng);  // large offset: catastrophic cancellation if naive
  Moments m;
  for (double x : xs) m.add(x);
  EXPECT_EQ(m.n, 100000);
  expect_close(m, two_pass(xs));
  EXPECT_GT(m.skewness(), 1.0);
}

TEST(MomentsAgg, MergeEqualsSequential) {
  std::mt19937_64 rng(12);
  std::gamma_distribution<double> d(2.0, 3.0);
  std::vector<double> xs(50000);
  for (double& x : xs) x = d(rng);
  Moments parts[4], all;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    parts[i < 100 ? 0 : i % 3 + 1].add(xs[i]);  // unequal part sizes
    all.add(xs[i]);
  }
  Moments merged, empty;
  merged.merge(empty);
  for (auto& p : parts) merged.merge(p);
  merged.merge(empty);
  EXPECT_EQ(merged.n, all.n);
  expect_close(merged, two_pass(xs));
  EXPECT_NEAR(merged.m3, all.m3, 1e-8 * std::fabs(all.m3));
  EXPECT_NEAR(merged.m4, all.m4, 1e-8 * std::fabs(all.m4));
}

TEST(MomentsAgg, SymmetricDataHasZeroSkewAndUniformKurtosis) {
  Moments m;
  for (int i = 0; i <= 100000; ++i) m.add(i);
  EXPECT_NEAR(m.skewness(), 0.0, 1e-9);
  EXPECT_NEAR(m.kurtosis(), -1.2, 1e-3);  // uniform: excess kurtosis -6/5
}

TEST(MomentsAgg, RejectsNonFiniteAndBadStates) {
  Moments m;
  EXPECT_THROW(m.add(NAN), std::invalid_argument);
  EXPECT_EQ(m.n, 0);
  Moments bad;
  bad.n = 3;
  bad.m2 = -1;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  Moments ok;
  ok.add(1);
  ok.add(2);
  EXPECT_NO_THROW(ok.validate());
}

TEST(MomentsAgg, EwmaRecursion) {
  Ewma e;
  e.add(10, 0.5);
  EXPECT_EQ(e.value, 10);
  e.add(20, 0.5);
  EXPECT_EQ(e.value, 15);
  e.add(0, 0.5);
  EXPECT_EQ(e.value, 7.5);
  EXPECT_THROW(e.add(1, 0.0), std::invalid_argument);
  EXPECT_THROW(e.add(1, 1.5), std::invalid_argument);
}

TEST(MomentsAgg, RobustZscore) {
  EXPECT_NEAR(techmart::core::robust_zscore(12, 10, 2), 0.6745, 1e-12);
  EXPECT_THROW(techmart::core::robust_zscore(1, 0, 0), std::invalid_argument);
}
