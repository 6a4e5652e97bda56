#include "techmart/core/qsketch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using techmart::core::QSketch;

namespace {

// percentile_cont: linear interpolation at rank q (n - 1) of the sorted values.
double exact_quantile(std::vector<double> sorted, double q) {
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

void expect_within_bound(const std::vector<double>& xs, const char* name) {
  QSketch s;
  for (double x : xs) s.add(x);
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = exact_quantile(sorted, q);
    const double est = s.quantile(q);
    // same-sign neighbours: within alpha relatively (0.5%, asserted against the 1% guarantee
    // with no slack so that a broken mapping fails)
    EXPECT_LE(std::fabs(est - exact), QSketch::kDefaultAlpha * std::fabs(exact) + 1e-12)
        << name << " q=" << q << " exact=" << exact << " est=" << est;
  }
}

}  // namespace

TEST(QSketch, UniformWithinRelativeErrorBound) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> d(1.0, 1000.0);
  std::vector<double> xs(200000);
  for (double& x : xs) x = d(rng);
  expect_within_bound(xs, "uniform");
}

TEST(QSketch, LognormalWithinRelativeErrorBound) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(3.0, 1.5);
  std::vector<double> xs(200000);
  for (double& x : xs) x = d(rng);
  expect_within_bound(xs, "lognormal");
}

TEST(QSketch, ParetoWithinRelativeErrorBound) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> xs(200000);
  for (double& x : xs) x = 10.0 / std::pow(1.0 - u(rng), 1.0 / 1.2);  // Pareto(x_m = 10, a = 1.2)
  expect_within_bound(xs, "pareto");
}

TEST(QSketch, NegativesAndZerosWithinRelativeErrorBound) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> d(0.0, 100.0);
  std::vector<double> xs(100000);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = (i % 10 == 0) ? 0.0 : d(rng);
  QSketch s;
  for (double x : xs) s.add(x);
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  // compare against order statistics (interpolation across a sign change has no relative bound)
  for (double q : {0.0, 0.01, 0.1, 0.3, 0.45, 0.5, 0.55, 0.7, 0.9, 0.99, 1.0}) {
    const auto k =
        static_cast<std::size_t>(std::llround(q * static_cast<double>(sorted.size() - 1)));
    const double qk = static_cast<double>(k) / static_cast<double>(sorted.size() - 1);
    const double est = s.quantile(qk);
    const double exact = exact_quantile(sorted, qk);
    EXPECT_LE(std::fabs(est - exact), QSketch::kDefaultAlpha * std::fabs(exact) + 1e-9)
        << "q=" << qk;
  }
  EXPECT_EQ(s.count(), xs.size());
  EXPECT_EQ(s.min(), sorted.front());
  EXPECT_EQ(s.max(), sorted.back());
}

TEST(QSketch, AllZerosAndSingleValue) {
  QSketch z;
  for (int i = 0; i < 10; ++i) z.add(0.0);
  EXPECT_EQ(z.quantile(0.5), 0.0);
  QSketch one;
  one.add(-42.5);
  EXPECT_EQ(one.quantile(0.0), -42.5);
  EXPECT_EQ(one.quantile(0.7), -42.5);
}

TEST(QSketch, CdfMatchesEmpiricalFraction) {
  QSketch s;
  for (int i = 1; i <= 10000; ++i) s.add(i);
  EXPECT_NEAR(s.cdf(5000), 0.5, 0.006);
  EXPECT_NEAR(s.cdf(9000), 0.9, 0.006);
  EXPECT_EQ(s.cdf(0), 0.0);
  EXPECT_EQ(s.cdf(10000), 1.0);
}

TEST(QSketch, RejectsBadInput) {
  QSketch s;
  EXPECT_THROW(s.add(std::nan("")), std::invalid_argument);
  EXPECT_THROW(s.add(INFINITY), std::invalid_argument);
  EXPECT_THROW(s.quantile(0.5), std::invalid_argument);  // empty
  s.add(1);
  EXPECT_THROW(s.quantile(1.5), std::invalid_argument);
  EXPECT_THROW(s.quantile(-0.1), std::invalid_argument);
  EXPECT_THROW(QSketch(0.0), std::invalid_argument);
  EXPECT_THROW(QSketch(0.01, 2), std::invalid_argument);
  QSketch other(0.01);
  other.add(2);
  EXPECT_THROW(s.merge(other), std::invalid_argument);
}

TEST(QSketch, MergeEqualsSequential) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(0.0, 2.0);
  QSketch all, a, b, c;
  for (int i = 0; i < 30000; ++i) {
    double x = d(rng) * ((i % 7 == 0) ? -1.0 : 1.0);
    if (i % 101 == 0) x = 0.0;
    all.add(x);
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(x);
  }
  QSketch m;
  m.merge(b);
  m.merge(a);
  m.merge(c);
  EXPECT_TRUE(m == all);
  EXPECT_EQ(m.serialize(), all.serialize());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(m.quantile(q), all.quantile(q));
}

TEST(QSketch, CollapsesLowestBucketsBeyondLimit) {
  QSketch s(0.005, 64);
  for (int e = -20; e <= 20; ++e) s.add(std::pow(10.0, e));
  EXPECT_TRUE(s.collapsed());
  // the top quantiles stay accurate, the collapsed small ones are merely bounded below by min
  EXPECT_NEAR(s.quantile(1.0), 1e20, 1e20 * 0.005);
  EXPECT_GE(s.quantile(0.5), s.min());
  const std::string bytes = s.serialize();
  EXPECT_TRUE(QSketch::deserialize(bytes.data(), bytes.size()) == s);
  // collapse by merge equals collapse by sequential adds
  QSketch a(0.005, 64), b(0.005, 64), ab(0.005, 64);
  for (int e = -20; e <= 0; ++e) a.add(std::pow(10.0, e));
  for (int e = 1; e <= 20; ++e) b.add(std::pow(10.0, e));
  ab.merge(a);
  ab.merge(b);
  EXPECT_EQ(ab.quantile(0.99), s.quantile(0.99));
}

TEST(QSketch, SerialisationRoundTripsAndIsCompact) {
  QSketch s;
  for (int i = 1; i <= 100000; ++i) s.add(static_cast<double>(i) * 0.37 - 500.0);
  const std::string bytes = s.serialize();
  EXPECT_LT(bytes.size(), 8000u);
  const QSketch t = QSketch::deserialize(bytes.data(), bytes.size());
  EXPECT_TRUE(t == s);
  EXPECT_EQ(t.quantile(0.95), s.quantile(0.95));
}

TEST(QSketch, DeserialiseRejectsGarbage) {
  QSketch s;
  for (int i = 1; i <= 1000; ++i) s.add(i);
  const std::string good = s.serialize();
  EXPECT_THROW(QSketch::deserialize(nullptr, 0), std::invalid_argument);
  EXPECT_THROW(QSketch::deserialize(good.data(), good.size() - 1), std::invalid_argument);
  std::string trailing = good + "x";
  EXPECT_THROW(QSketch::deserialize(trailing.data(), trailing.size()), std::invalid_argument);
  std::string badver = good;
  badver[0] = 9;
  EXPECT_THROW(QSketch::deserialize(badver.data(), badver.size()), std::invalid_argument);
  // a huge bucket count must be refused before any allocation
  std::string huge = good.substr(0, 2 + 8 + 4 + 1 + 16);
  huge += std::string("\x00\xff\xff\xff\xff\x0f", 6);
  EXPECT_THROW(QSketch::deserialize(huge.data(), huge.size()), std::invalid_argument);
  // fuzz-ish: every truncation and random byte flips either parse to a valid sketch or throw
  std::mt19937 rng(6);
  for (std::size_t len = 0; len < good.size(); ++len) {
    EXPECT_THROW(QSketch::deserialize(good.data(), len), std::invalid_argument);
  }
  int parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<char>(rng());
    try {
      const QSketch t = QSketch::deserialize(b.data(), b.size());
      ++parsed;
      if (!t.empty()) (void)t.quantile(0.5);
    } catch (const std::invalid_argument&) {
    }
  }
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b(rng() % 64, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    EXPECT_THROW(QSketch::deserialize(b.data(), b.size()), std::invalid_argument);
  }
  SUCCEED() << parsed << " mutated inputs were still valid sketches";
}
