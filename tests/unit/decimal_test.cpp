// GoogleTest: core::decimal_to_double / base10000_to_double give the double strtod() gives for the
// decimal's text (the conversion PostgreSQL's numeric_float8 makes: numeric_out, then float8in),
// or decline.
#include "techmart/core/decimal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

using techmart::core::base10000_to_double;
using techmart::core::decimal_to_double;

namespace {
// the decimal's text as numeric_out prints it: [-]digits with the point placed by exp10
std::string text_of(std::uint64_t m, int exp10, bool negative) {
  std::string d = std::to_string(m);
  if (exp10 >= 0) {
    d.append(static_cast<std::size_t>(exp10), '0');
  } else {
    const std::size_t k = static_cast<std::size_t>(-exp10);
    if (d.size() <= k) d.insert(0, k - d.size() + 1, '0');
    d.insert(d.size() - k, ".");
  }
  return (negative ? "-" : "") + d;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_strtod(std::uint64_t m, int exp10, bool negative) {
  double x = 0;
  const std::string t = text_of(m, exp10, negative);
  if (decimal_to_double(m, exp10, negative, &x)) {
    const double ref = std::strtod(t.c_str(), nullptr);
    EXPECT_TRUE(same_bits(x, ref) || (m == 0 && x == ref)) << t << ": " << x << " vs " << ref;
  }
}
}  // namespace

TEST(Decimal, RandomDecimalsEqualStrtod) {
  std::mt19937_64 rng(20261207);
  int converted = 0;
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 17);
    std::uint64_t m = rng() % static_cast<std::uint64_t>(std::pow(10.0, digits));
    const int exp10 = static_cast<int>(rng() % 47) - 23;
    expect_strtod(m, exp10, rng() % 2 == 0);
    double x;
    if (decimal_to_double(m, exp10, false, &x)) ++converted;
  }
  EXPECT_GT(converted, 100000);  // most of them take the fast path
}

TEST(Decimal, MoneyAmountsEqualStrtod) {
  // every cent amount up to 100,000.00 and a sample of mills up to 10^11 (numeric(14,3))
  for (std::uint64_t c = 0; c <= 10000000; c += 7) expect_strtod(c, -2, false);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) expect_strtod(rng() % 100000000000000ULL, -3, i % 3 == 0);
}

TEST(Decimal, Boundaries) {
  double x = 0;
  const std::uint64_t two53 = std::uint64_t{1} << 53;
  EXPECT_TRUE(decimal_to_double(two53 - 1, 0, false, &x));
  EXPECT_EQ(x, 9007199254740991.0);
  EXPECT_FALSE(decimal_to_double(two53, 0, false, &x));  // not exact as a double
  EXPECT_FALSE(decimal_to_double(1, 23, false, &x));     // 10^23 is not exact
  EXPECT_FALSE(decimal_to_double(1, -23, false, &x));
  EXPECT_FALSE(decimal_to_double(900719925474100ULL, 2, false, &x));  // product above 2^53
  EXPECT_FALSE(decimal_to_double(1, 22, false, &x));  // 10^22 is exact, but above 2^53: declined
  EXPECT_TRUE(decimal_to_double(9, 15, false, &x));
  EXPECT_EQ(x, 9e15);
  EXPECT_TRUE(decimal_to_double(1, -22, true, &x));
  EXPECT_EQ(x, -1e-22);
  EXPECT_TRUE(decimal_to_double(1999, -2, false, &x));
  EXPECT_EQ(x, std::strtod("19.99", nullptr));
  for (int e = -22; e <= 22; ++e) expect_strtod(1, e, false);
}

TEST(Decimal, Base10000Digits) {
  double x = 0;
  const std::int16_t d1[] = {19, 9900};  // 19.99: weight 0
  ASSERT_TRUE(base10000_to_double(d1, 2, 0, false, &x));
  EXPECT_TRUE(same_bits(x, 19.99));
  const std::int16_t d2[] = {1, 2345, 6789};  // 1 2345 6789 x 10000^(2-2) = 123456789
  ASSERT_TRUE(base10000_to_double(d2, 3, 2, true, &x));
  EXPECT_EQ(x, -123456789.0);
  const std::int16_t d3[] = {5};  // 0.0005: weight -1
  ASSERT_TRUE(base10000_to_double(d3, 1, -1, false, &x));
  EXPECT_TRUE(same_bits(x, std::strtod("0.0005", nullptr)));
  const std::int16_t d4[] = {12, 0, 0};  // trailing zero digits: 12 x 10000^2
  ASSERT_TRUE(base10000_to_double(d4, 3, 2, false, &x));
  EXPECT_EQ(x, 1.2e9);
  ASSERT_TRUE(base10000_to_double(nullptr, 0, 0, true, &x));  // zero (a numeric zero is unsigned)
  EXPECT_TRUE(same_bits(x, 0.0));
  const std::int16_t d5[] = {1, 2, 3, 4, 5};  // 17+ decimal digits: declined
  EXPECT_FALSE(base10000_to_double(d5, 5, 0, false, &x));
  const std::int16_t d6[] = {10000};  // not a base-10000 digit
  EXPECT_FALSE(base10000_to_double(d6, 1, 0, false, &x));
  const std::int16_t d7[] = {1};  // 10000^6 = 10^24: beyond exact powers
  EXPECT_FALSE(base10000_to_double(d7, 1, 6, false, &x));
}

TEST(Decimal, Base10000RandomEqualStrtod) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const int n = 1 + static_cast<int>(rng() % 4);
    std::int16_t d[4];
    std::string t;
    for (int k = 0; k < n; ++k) d[k] = static_cast<std::int16_t>(rng() % 10000);
    const int weight = static_cast<int>(rng() % 9) - 5;
    // text: the digits with the point after digit group `weight`
    std::uint64_t m = 0;
    for (int k = 0; k < n; ++k) m = m * 10000 + static_cast<std::uint64_t>(d[k]);
    const int exp10 = 4 * (weight - (n - 1));
    double x = 0;
    if (base10000_to_double(d, n, weight, false, &x)) {
      const double ref = std::strtod(text_of(m, exp10, false).c_str(), nullptr);
      EXPECT_TRUE(same_bits(x, ref) || (m == 0 && x == ref)) << text_of(m, exp10, false);
    }
  }
}
