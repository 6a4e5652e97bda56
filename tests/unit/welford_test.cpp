#include "techmart/core/welford.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

using techmart::core::Welford;

namespace {

// Two-pass reference computed in long double.
struct Reference {
  long double mean = 0, m2 = 0;
};
Reference two_pass(const std::vector<double>& xs) {
  Reference r;
  if (xs.empty()) return r;
  for (double x : xs) r.mean += x;
  r.mean /= static_cast<long double>(xs.size());
  for (double x : xs) r.m2 += (x - r.mean) * (x - r.mean);
  return r;
}

Welford of(const std::vector<double>& xs) {
  Welford w;
  for (double x : xs) w.add(x);
  return w;
}

}  // namespace

TEST(Welford, EmptyHasZeroMeanAndVariance) {
  Welford w;
  EXPECT_EQ(w.count(), 0);
  EXPECT_EQ(w.mean(), 0.0);
  EXPECT_EQ(w.m2(), 0.0);
  EXPECT_EQ(w.population_variance(), 0.0);
  EXPECT_EQ(w.sample_variance(), 0.0);
}

TEST(Welford, SingleValue) {
  Welford w;
  w.add(42.5);
  EXPECT_EQ(w.count(), 1);
  EXPECT_DOUBLE_EQ(w.mean(), 42.5);
  EXPECT_EQ(w.m2(), 0.0);
  EXPECT_EQ(w.population_variance(), 0.0);
  EXPECT_EQ(w.sample_variance(), 0.0);  // undefined for n = 1, reported as no spread
}

TEST(Welford, KnownSmallSeries) {
  const Welford w = of({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(w.count(), 8);
  EXPECT_DOUBLE_EQ(w.mean(), 5.0);
  EXPECT_DOUBLE_EQ(w.m2(), 32.0);
  EXPECT_DOUBLE_EQ(w.population_variance(), 4.0);
  EXPECT_DOUBLE_EQ(w.sample_variance(), 32.0 / 7.0);
}

TEST(Welford, ConstantSeriesHasExactlyZeroVariance) {
  Welford w;
  for (int i = 0; i < 10000; ++i) w.add(0.1);
  EXPECT_EQ(w.count(), 10000);
  EXPECT_NEAR(w.mean(), 0.1, 1e-15);
  EXPECT_GE(w.m2(), 0.0);
  EXPECT_LT(w.m2(), 1e-25);
}

TEST(Welford, LargeOffsetNoCatastrophicCancellation) {
  // Naive sum-of-squares gives garbage here (1e9^2 * 4 ~ 4e18 loses all of 30 in doubles).
  const double offset = 1e9;
  const Welford w = of({offset + 4, offset + 7, offset + 13, offset + 16});
  EXPECT_DOUBLE_EQ(w.mean(), offset + 10);
  EXPECT_NEAR(w.sample_variance(), 30.0, 1e-6);
  double sum = 0, sumsq = 0;
  for (double x : {offset + 4, offset + 7, offset + 13, offset + 16}) {
    sum += x;
    sumsq += x * x;
  }
  const double naive = (sumsq - sum * sum / 4) / 3;
  EXPECT_GT(std::fabs(naive - 30.0), std::fabs(w.sample_variance() - 30.0));
}

TEST(Welford, MatchesTwoPassOnRandomData) {
  std::mt19937_64 rng(12345);
  std::lognormal_distribution<double> dist(4.0, 1.3);
  std::vector<double> xs(5000);
  for (double& x : xs) x = dist(rng);
  const Welford w = of(xs);
  const Reference r = two_pass(xs);
  EXPECT_NEAR(w.mean(), static_cast<double>(r.mean), 1e-9 * std::fabs(static_cast<double>(r.mean)));
  EXPECT_NEAR(w.m2(), static_cast<double>(r.m2), 1e-9 * static_cast<double>(r.m2));
}

TEST(Welford, MergeEqualsSequential) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> dist(1e6, 3.0);
  std::vector<double> xs(1001);
  for (double& x : xs) x = dist(rng);
  const Welford all = of(xs);
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{500}, xs.size()}) {
    Welford a = of(std::vector<double>(xs.begin(), xs.begin() + static_cast<long>(split)));
    const Welford b = of(std::vector<double>(xs.begin() + static_cast<long>(split), xs.end()));
    a.merge(b);
    EXPECT_EQ(a.count(), all.count()) << "split " << split;
    EXPECT_NEAR(a.mean(), all.mean(), 1e-9) << "split " << split;
    EXPECT_NEAR(a.m2(), all.m2(), 1e-9 * all.m2()) << "split " << split;
  }
}

TEST(Welford, MergeWithEmptyIsIdentityBothWays) {
  const Welford w = of({1, 2, 3});
  Welford left = w;
  left.merge(Welford{});
  Welford right;
  right.merge(w);
  for (const Welford& x : {left, right}) {
    EXPECT_EQ(x.count(), 3);
    EXPECT_DOUBLE_EQ(x.mean(), 2.0);
    EXPECT_DOUBLE_EQ(x.m2(), 2.0);
  }
}

TEST(Welford, MergeOfSingletonsIsExact) {
  Welford a = of({1});
  a.merge(of({3}));
  EXPECT_EQ(a.count(), 2);
  EXPECT_DOUBLE_EQ(a.mean(), 2.0);
  EXPECT_DOUBLE_EQ(a.m2(), 2.0);
}

TEST(Welford, RejectsNonFinite) {
  Welford w = of({1, 2});
  EXPECT_THROW(w.add(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(w.add(std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(w.add(-std::numeric_limits<double>::infinity()), std::invalid_argument);
  // a rejected value leaves the state untouched
  EXPECT_EQ(w.count(), 2);
  EXPECT_DOUBLE_EQ(w.mean(), 1.5);
  EXPECT_DOUBLE_EQ(w.m2(), 0.5);
}

TEST(Welford, FromStateRoundTripsAndValidates) {
  const Welford w = of({3, 5, 10});
  const Welford r = Welford::from_state(w.count(), w.mean(), w.m2());
  EXPECT_EQ(r.count(), 3);
  EXPECT_EQ(r.mean(), w.mean());
  EXPECT_EQ(r.m2(), w.m2());
  Welford continued = r;
  continued.add(7);
  Welford direct = of({3, 5, 10, 7});
  EXPECT_DOUBLE_EQ(continued.mean(), direct.mean());
  EXPECT_DOUBLE_EQ(continued.m2(), direct.m2());

  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(Welford::from_state(-1, 0, 0), std::invalid_argument);
  EXPECT_THROW(Welford::from_state(2, nan, 0), std::invalid_argument);
  EXPECT_THROW(Welford::from_state(2, 1, -0.5), std::invalid_argument);
  EXPECT_THROW(Welford::from_state(2, 1, std::numeric_limits<double>::infinity()),
               std::invalid_argument);
  EXPECT_THROW(Welford::from_state(0, 1, 0), std::invalid_argument);
  EXPECT_NO_THROW(Welford::from_state(0, 0, 0));
}
