// GoogleTest: no float -> int conversion in the fraud core can see a value out of range
// (fuzz/README.md finding: utc_hour() converted inf to int at fraud_state.cpp:110, UB).
// Run under UBSan by the unit-asan suite: a regression shows up as a sanitizer error.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "techmart/core/fraud_state.hpp"
#include "techmart/core/scoring.hpp"

using namespace techmart::core;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TEST(FraudConversions, UtcHourOfHugeFiniteTimesIsInRange) {
  for (double t : {DBL_MAX, -DBL_MAX, 1.6e308, -1.6e308, 1e300, -1e300, 4e18, -4e18, 9.3e12,
                   DBL_MIN, -DBL_MIN, -0.0}) {
    const int h = utc_hour(t);
    EXPECT_GE(h, 0) << t;
    EXPECT_LE(h, 23) << t;
  }
  // exact for representable times: fmod has no rounding error
  EXPECT_EQ(utc_hour(1700000000.0), 22);
  EXPECT_EQ(utc_hour(-1.0), 23);
  EXPECT_EQ(utc_hour(-86400.0), 0);
  EXPECT_EQ(utc_hour(86399.999), 23);
}

TEST(FraudConversions, UtcHourRefusesNonFinite) {
  EXPECT_THROW(utc_hour(kInf), std::invalid_argument);
  EXPECT_THROW(utc_hour(-kInf), std::invalid_argument);
  EXPECT_THROW(utc_hour(kNaN), std::invalid_argument);
}

TEST(FraudConversions, HistBinOfExtremeAmounts) {
  EXPECT_EQ(hist_bin(0.0), 0);
  EXPECT_EQ(hist_bin(DBL_MAX), kHistBins - 1);
  EXPECT_EQ(hist_bin(DBL_MIN), 0);
  EXPECT_THROW(hist_bin(kInf), std::invalid_argument);
  EXPECT_THROW(hist_bin(-kInf), std::invalid_argument);
  EXPECT_THROW(hist_bin(-1.0), std::invalid_argument);
}

TEST(FraudConversions, FoldAtExtremeTimesKeepsTheStateValid) {
  StateParams p;
  for (double t : {DBL_MAX, -DBL_MAX, 1e300, -1e300}) {
    CustomerState s;
    FoldInput tx{10.0, t, "DE", false, 0, 0, 0, 80.0};
    fold(s, tx, p);
    EXPECT_NO_THROW(validate_state(s)) << t;
    FoldInput tx2{10.0, -t, "DE", false, 0, 0, 0, 80.0};
    try {
      fold(s, tx2, p);  // may refuse (the decay over 2*DBL_MAX seconds is inf), never UB
      validate_state(s);
    } catch (const std::invalid_argument&) {
    }
  }
  CustomerState s;
  EXPECT_THROW(fold(s, FoldInput{10.0, -kInf, "DE", false, 0, 0, 0, 80.0}, p),
               std::invalid_argument);
  EXPECT_THROW(fold(s, FoldInput{10.0, kNaN, "DE", false, 0, 0, 0, 80.0}, p),
               std::invalid_argument);
}

TEST(FraudConversions, ValidateStateRefusesUnproducibleWelford) {
  CustomerState s;
  s.log_amount = Welford::from_state(3, 800.0, 1.0);  // mean > log1p(DBL_MAX)
  EXPECT_THROW(validate_state(s), std::invalid_argument);
  s.log_amount = Welford::from_state(3, -1.0, 1.0);  // log1p of an amount >= 0 is >= 0
  EXPECT_THROW(validate_state(s), std::invalid_argument);
  s.log_amount = Welford::from_state(2, 5.0, 1e300);  // one more fold would overflow m2
  EXPECT_THROW(validate_state(s), std::invalid_argument);
  s.log_amount = Welford::from_state(2, 5.0, 1.0);
  EXPECT_NO_THROW(validate_state(s));
}

TEST(FraudConversions, PaymentMethodOutOfRangeIsNotShifted) {
  StateParams p;
  CustomerState s;
  for (int m : {-5, 32, 40, 1 << 20}) {
    fold(s, FoldInput{10.0, 1.7e9, "DE", false, 0, 0, m, 10.0}, p);
  }
  EXPECT_EQ(s.methods, 0u);
  // the method rules ignore a method they cannot represent
  RuleConfig c;
  c.rule = "new_payment_method";
  c.weight = 2;
  c.threshold = 0.5;
  c.params["min_history"] = 0;
  RuleConfig h = c;
  h.rule = "high_risk_method";
  const auto rules = RuleRegistry::builtin().build({c, h});
  ScoringEnv env;
  env.high_risk_methods = 1u << 7;
  TransactionInput tx;
  tx.amount = 10;
  tx.time = 1.7e9;
  tx.method = 45;
  for (const auto& r : rules) EXPECT_FALSE(r->evaluate({tx, s, &env}).has_value()) << r->name();
}
