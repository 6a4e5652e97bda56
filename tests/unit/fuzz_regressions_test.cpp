// Inputs found by the fuzzers of fuzz/ (fuzz/README.md), kept as unit tests.
#include <gtest/gtest.h>

#include <stdexcept>

#include "techmart/core/fraud_state.hpp"

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
