#include "techmart/core/hyperloglog.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

using techmart::core::HyperLogLog;

namespace {
void expect_within_3_std_errors(std::int64_t n, std::int64_t base) {
  HyperLogLog h;
  for (std::int64_t i = 0; i < n; ++i) h.add(base + i * 7919);
  for (std::int64_t i = 0; i < n; i += 3) h.add(base + i * 7919);  // duplicates change nothing
  const double se = 1.04 / std::sqrt(16384.0);
  EXPECT_NEAR(h.estimate(), static_cast<double>(n), 3 * se * static_cast<double>(n)) << "n=" << n;
}
}  // namespace

TEST(Hll, EmptyIsZero) { EXPECT_EQ(HyperLogLog().estimate(), 0.0); }
TEST(Hll, SmallCardinalitiesAreNearlyExact) {
  HyperLogLog h;
  for (int i = 0; i < 100; ++i) h.add(i);
  EXPECT_NEAR(h.estimate(), 100.0, 2.0);
}
TEST(Hll, Within3StdErrorsAt1e3) { expect_within_3_std_errors(1000, 17); }
TEST(Hll, Within3StdErrorsAt1e5) { expect_within_3_std_errors(100000, -5000000); }
TEST(Hll, Within3StdErrorsAt1e6) { expect_within_3_std_errors(1000000, 123456789); }

TEST(Hll, MergeIsUnion) {
  HyperLogLog a, b, all;
  for (int i = 0; i < 50000; ++i) {
    (i % 2 ? a : b).add(i);
    all.add(i);
  }
  for (int i = 0; i < 10000; ++i) a.add(i);  // overlap
  a.merge(b);
  EXPECT_TRUE(a == all);
  HyperLogLog other(12);
  EXPECT_THROW(a.merge(other), std::invalid_argument);
}

TEST(Hll, SerialisationRoundTripsSparseAndDense) {
  HyperLogLog small, big;
  for (int i = 0; i < 100; ++i) small.add(i);
  for (int i = 0; i < 200000; ++i) big.add(i);
  const std::string s = small.serialize(), b = big.serialize();
  EXPECT_LT(s.size(), 400u);  // sparse
  EXPECT_EQ(b.size(), 3u + 16384u);
  EXPECT_TRUE(HyperLogLog::deserialize(s.data(), s.size()) == small);
  EXPECT_TRUE(HyperLogLog::deserialize(b.data(), b.size()) == big);
}

TEST(Hll, DeserialiseRejectsGarbage) {
  HyperLogLog h;
  for (int i = 0; i < 100; ++i) h.add(i);
  const std::string good = h.serialize();
  for (std::size_t len = 0; len < 3; ++len)
    EXPECT_THROW(HyperLogLog::deserialize(good.data(), len), std::invalid_argument);
  std::string odd = good.substr(0, good.size() - 1);
  EXPECT_THROW(HyperLogLog::deserialize(odd.data(), odd.size()), std::invalid_argument);
  std::string badp = good;
  badp[1] = 30;
  EXPECT_THROW(HyperLogLog::deserialize(badp.data(), badp.size()), std::invalid_argument);
  std::string badv = good;
  badv[5] = 60;  // register value beyond 64 - 14 + 1
  EXPECT_THROW(HyperLogLog::deserialize(badv.data(), badv.size()), std::invalid_argument);
  std::mt19937 rng(9);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b(rng() % 40, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    if (b.size() >= 3) b[0] = 1;
    try {
      (void)HyperLogLog::deserialize(b.data(), b.size()).estimate();
    } catch (const std::invalid_argument&) {
    }
  }
}
