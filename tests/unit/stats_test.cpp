#include "techmart/core/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "techmart/core/errors.hpp"
#include "techmart/core/version.hpp"

using namespace techmart::core;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST(Version, IsAVersionNumber) { EXPECT_TRUE(std::string(kVersion).find('.') != std::string::npos); }

TEST(ZScore, Basic) {
  EXPECT_DOUBLE_EQ(zscore(13, 10, 2), 1.5);
  EXPECT_DOUBLE_EQ(zscore(10, 10, 2), 0.0);
  EXPECT_DOUBLE_EQ(zscore(4, 10, 3), -2.0);
}

TEST(ZScore, RejectsBadArguments) {
  EXPECT_THROW(zscore(1, 0, 0), std::invalid_argument);
  EXPECT_THROW(zscore(1, 0, -1), std::invalid_argument);
  EXPECT_THROW(zscore(kNaN, 0, 1), std::invalid_argument);
  EXPECT_THROW(zscore(1, kInf, 1), std::invalid_argument);
  EXPECT_THROW(zscore(1, 0, kNaN), std::invalid_argument);
  EXPECT_THROW(zscore(1, 0, kInf), std::invalid_argument);
  EXPECT_THROW(zscore(1e308, -1e308, 1e-10), std::invalid_argument);  // overflows to inf
}

TEST(LogAmount, Log1pAndDomain) {
  EXPECT_EQ(log_amount(0), 0.0);
  EXPECT_DOUBLE_EQ(log_amount(std::expm1(3.0)), 3.0);
  EXPECT_DOUBLE_EQ(log_amount(1e-300), 1e-300);  // log1p keeps tiny amounts exact
  EXPECT_THROW(log_amount(-0.01), LogDomainError);
  EXPECT_THROW(log_amount(kNaN), std::invalid_argument);
  EXPECT_THROW(log_amount(kInf), std::invalid_argument);
  // the domain error is also an invalid_argument
  EXPECT_THROW(log_amount(-1), std::invalid_argument);
}

TEST(Prior, Validation) {
  EXPECT_NO_THROW((Prior{4, 1, 5}.validate()));
  EXPECT_THROW((Prior{4, 0, 5}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{4, -1, 5}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{4, 1, 0}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{4, 1, -2}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{kNaN, 1, 5}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{4, kInf, 5}.validate()), std::invalid_argument);
  EXPECT_THROW((Prior{4, 1, kInf}.validate()), std::invalid_argument);
}

TEST(Shrink, EmptyHistoryIsThePrior) {
  const Prior p{4.0, 1.5, 5.0};
  const ShrunkEstimate e = shrink(Welford{}, p);
  EXPECT_DOUBLE_EQ(e.mean, 4.0);
  EXPECT_DOUBLE_EQ(e.variance, 2.25);
  EXPECT_DOUBLE_EQ(e.sd, 1.5);
  EXPECT_DOUBLE_EQ(e.effective_n, 5.0);
}

TEST(Shrink, OneObservationFormula) {
  const Prior p{4.0, 1.0, 5.0};
  Welford w;
  w.add(10.0);
  const ShrunkEstimate e = shrink(w, p);
  EXPECT_DOUBLE_EQ(e.mean, (1 * 10.0 + 5 * 4.0) / 6.0);
  EXPECT_DOUBLE_EQ(e.variance, (0.0 + 5 * 1.0) / 6.0);  // n*var_c = M2 = 0
}

TEST(Shrink, MatchesFormulaForASeries) {
  const Prior p{3.0, 2.0, 4.0};
  Welford w;
  for (double x : {5.0, 6.0, 7.0, 9.0}) w.add(x);
  const double n = 4, mean_c = 6.75, var_c = w.m2() / n;
  const ShrunkEstimate e = shrink(w, p);
  EXPECT_NEAR(e.mean, (n * mean_c + 4 * 3.0) / (n + 4), 1e-12);
  EXPECT_NEAR(e.variance, (n * var_c + 4 * 4.0) / (n + 4), 1e-12);
  EXPECT_NEAR(e.sd, std::sqrt(e.variance), 1e-15);
}

TEST(Shrink, LongHistoryDominatesThePrior) {
  const Prior p{0.0, 1.0, 5.0};
  Welford w;
  for (int i = 0; i < 100000; ++i) w.add(i % 2 == 0 ? 9.0 : 11.0);  // mean 10, var_c 1
  const ShrunkEstimate e = shrink(w, p);
  EXPECT_NEAR(e.mean, 10.0, 1e-3);
  EXPECT_NEAR(e.variance, 1.0, 1e-3);
}

TEST(Shrink, ConstantHistoryStillHasPositiveSpread) {
  const Prior p{4.0, 1.0, 5.0};
  Welford w;
  for (int i = 0; i < 50; ++i) w.add(4.0);
  const ShrunkEstimate e = shrink(w, p);
  EXPECT_GT(e.sd, 0.0);
  EXPECT_DOUBLE_EQ(e.variance, 5.0 / 55.0);
  EXPECT_NO_THROW(shrunk_zscore(4.0, w, p));
}

TEST(Shrink, RejectsInvalidPrior) {
  EXPECT_THROW(shrink(Welford{}, Prior{0, 0, 5}), std::invalid_argument);
  EXPECT_THROW(shrunk_zscore(1, Welford{}, Prior{0, 1, 0}), std::invalid_argument);
  EXPECT_THROW(shrunk_zscore(kNaN, Welford{}, Prior{0, 1, 1}), std::invalid_argument);
}

TEST(Shrink, ZScoreAgainstShrunkEstimate) {
  const Prior p{2.0, 0.5, 5.0};
  Welford w;
  for (double x : {2.1, 1.9, 2.0, 2.2, 1.8}) w.add(x);
  const ShrunkEstimate e = shrink(w, p);
  EXPECT_DOUBLE_EQ(shrunk_zscore(5.0, w, p), (5.0 - e.mean) / e.sd);
}

TEST(Logistic, ValuesAndSymmetry) {
  EXPECT_DOUBLE_EQ(logistic(0), 0.5);
  EXPECT_NEAR(logistic(2) + logistic(-2), 1.0, 1e-15);
  EXPECT_EQ(logistic(-1000), 0.0);  // no overflow warning, no NaN
  EXPECT_EQ(logistic(1000), 1.0);
  EXPECT_EQ(logistic(kInf), 1.0);
  EXPECT_EQ(logistic(-kInf), 0.0);
  EXPECT_GT(logistic(-700), 0.0);
  EXPECT_THROW(logistic(kNaN), std::invalid_argument);
}

TEST(CalibratedScore, Shape) {
  EXPECT_DOUBLE_EQ(calibrated_score(3, 3, 1.5), 50.0);
  EXPECT_NEAR(calibrated_score(6, 3, 1.5), 100.0 / (1.0 + std::exp(-4.5)), 1e-12);
  EXPECT_NEAR(calibrated_score(0, 3, 1.5), 100.0 / (1.0 + std::exp(4.5)), 1e-12);
  EXPECT_LT(calibrated_score(0, 3, 1.5), 2.0);
  EXPECT_GT(calibrated_score(6, 3, 1.5), 98.0);
  EXPECT_DOUBLE_EQ(calibrated_score(100, 3, 0), 50.0);  // weight 0: no evidence either way
  EXPECT_EQ(calibrated_score(1e6, 3, 1.5), 100.0);
  EXPECT_EQ(calibrated_score(-1e6, 3, 1.5), 0.0);
  double prev = -1;
  for (double z = -5; z <= 10; z += 0.25) {  // monotone in the observation
    const double s = calibrated_score(z, 3, 1.5);
    EXPECT_GE(s, prev);
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, 100.0);
    prev = s;
  }
}

TEST(CalibratedScore, RejectsBadArguments) {
  EXPECT_THROW(calibrated_score(kNaN, 3, 1), std::invalid_argument);
  EXPECT_THROW(calibrated_score(1, kInf, 1), std::invalid_argument);
  EXPECT_THROW(calibrated_score(1, 3, -0.1), std::invalid_argument);
  EXPECT_THROW(calibrated_score(1, 3, kNaN), std::invalid_argument);
}
