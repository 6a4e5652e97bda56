// Inputs found by the fuzzers of fuzz/ (fuzz/README.md), kept as unit tests.
#include <gtest/gtest.h>

#include <stdexcept>

#include "techmart/core/fraud_state.hpp"
#include "techmart/core/qsketch.hpp"

namespace tc = techmart::core;

// fuzz_fraud_state: fold() of a transaction at t = 1.6e308 s (finite) reached utc_hour(), which
// computes t - floor(t / 86400) * 86400 = inf and converts it to int: undefined behaviour
// (UBSan: "inf is outside the range of representable values of type 'int'"). PostgreSQL's
// timestamptz cannot produce such a time (|t| < 1e13 s), so the trigger was not affected; the
// core's contract ("finite") was. Fixed in the core (utc_hour via fmod).
TEST(FuzzRegressions, UtcHourOfHugeFiniteTime) {
  for (double t : {1.6e308, -1.6e308, 1e300, 4e18}) {
    try {
      const int h = tc::utc_hour(t);
      EXPECT_GE(h, 0);
      EXPECT_LE(h, 23);
    } catch (const std::invalid_argument&) {
      SUCCEED();
    }
  }
}

// Times PostgreSQL can hold give an hour in 0..23 (the fuzzer's range for fold()).
TEST(FuzzRegressions, UtcHourOverTimestamptzRange) {
  for (double t : {-2.1e11, -1.0, 0.0, 3599.999, 1.7e9, 9.2e12}) {
    const int h = tc::utc_hour(t);
    EXPECT_GE(h, 0) << t;
    EXPECT_LE(h, 23) << t;
  }
  EXPECT_EQ(tc::utc_hour(1700000000.0), 22);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(tc::utc_hour(-1.0), 23);          // 1969-12-31T23:59:59Z
}

// fuzz_sketch: a stored quantile sketch whose counts sum to 2^64 - 2 (zero count 2^64 - 2, min =
// max = 0: valid) made quantile(1) convert q * (count - 1) = 2^64 (rounded as a double) to
// uint64: undefined behaviour (UBSan "1.84467e+19 is outside the range of representable
// values"). A crafted bytea could reach it through qsketch_quantile. Fixed in the core (clamp).
TEST(FuzzRegressions, QuantileOfSketchWithCountNear2To64) {
  const unsigned char bytes[] = {0x01, 0x00, 0x7b, 0x14, 0xae, 0x47, 0xe1, 0x7a, 0x74, 0x3f, 0x00,
                                 0x08, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const tc::QSketch s = tc::QSketch::deserialize(bytes, sizeof bytes);
  EXPECT_EQ(s.count(), 18446744073709551614ULL);
  for (double q : {0.0, 0.5, 0.999, 1.0}) EXPECT_EQ(s.quantile(q), 0.0) << q;
  EXPECT_EQ(s.cdf(0.0), 1.0);
}
