#include "techmart/core/holt_winters.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

using namespace techmart::core;

namespace {
const double kPi = std::acos(-1.0);
double truth(std::size_t t) {
  return 1000.0 + 2.0 * static_cast<double>(t) +
         150.0 * std::sin(2 * kPi * static_cast<double>(t % 7) / 7.0) + (t % 7 == 5 ? 120.0 : 0.0);
}
std::vector<double> series(std::size_t n, double noise, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, noise);
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t) y[t] = truth(t) + d(rng);
  return y;
}
}  // namespace

TEST(HoltWinters, RecoversNoiselessTrendAndSeason) {
  const auto y = series(70, 0.0, 1);
  const auto fit = fit_holt_winters(y, 7);
  const auto fc = forecast_holt_winters(fit, 14, 0.95);
  for (std::size_t h = 1; h <= 14; ++h)
    EXPECT_NEAR(fc[h - 1].point, truth(69 + h), 1.0) << "h=" << h;
}

TEST(HoltWinters, BeatsSeasonalNaiveOnHeldOutTail) {
  double mape_hw = 0, mape_sn = 0;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const auto y = series(140, 25.0, seed);
    const std::vector<double> train(y.begin(), y.begin() + 112);
    const auto fc = forecast_holt_winters(fit_holt_winters(train, 7), 28, 0.95);
    for (std::size_t h = 0; h < 28; ++h) {
      const double actual = y[112 + h];
      mape_hw += std::fabs(fc[h].point - actual) / actual;
      mape_sn += std::fabs(train[105 + h % 7] - actual) / actual;  // last observed season
      EXPECT_LE(fc[h].lower, fc[h].point);
      EXPECT_LE(fc[h].point, fc[h].upper);
    }
  }
  EXPECT_LT(mape_hw, 0.8 * mape_sn)
      << "HW " << mape_hw / 140 << " seasonal naive " << mape_sn / 140;
}

TEST(HoltWinters, IntervalsWidenAndCoverRoughlyTheLevel) {
  int inside = 0, total = 0;
  for (unsigned seed = 10; seed < 30; ++seed) {
    const auto y = series(126, 20.0, seed);
    const std::vector<double> train(y.begin(), y.begin() + 112);
    const auto fc = forecast_holt_winters(fit_holt_winters(train, 7), 14, 0.9);
    EXPECT_GE(fc[13].upper - fc[13].lower, fc[0].upper - fc[0].lower);
    for (std::size_t h = 0; h < 14; ++h) {
      ++total;
      inside += (y[112 + h] >= fc[h].lower && y[112 + h] <= fc[h].upper);
    }
  }
  const double coverage = static_cast<double>(inside) / total;
  EXPECT_GT(coverage, 0.75);
  EXPECT_LT(coverage, 0.995);
}

TEST(HoltWinters, DetectsAPlantedAnomaly) {
  auto y = series(24 * 14, 10.0, 3);
  y[200] += 400.0;
  const auto pts = detect_anomalies(y, 7, 0.999);
  EXPECT_TRUE(pts[200].anomaly);
  int flagged = 0;
  for (const auto& p : pts) flagged += p.anomaly;
  EXPECT_LE(flagged, 6);
  EXPECT_FALSE(pts[201].anomaly);  // the spike did not drag the level
}

TEST(HoltWinters, RejectsBadInput) {
  EXPECT_THROW(fit_holt_winters(std::vector<double>(13, 1.0), 7), std::invalid_argument);
  EXPECT_THROW(fit_holt_winters(std::vector<double>(20, 1.0), 1), std::invalid_argument);
  std::vector<double> y(20, 1.0);
  y[3] = NAN;
  EXPECT_THROW(fit_holt_winters(y, 7), std::invalid_argument);
  const auto fit = fit_holt_winters(series(28, 1.0, 1), 7);
  EXPECT_THROW(forecast_holt_winters(fit, 0, 0.95), std::invalid_argument);
  EXPECT_THROW(forecast_holt_winters(fit, 5, 1.0), std::invalid_argument);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963985, 1e-8);
}
