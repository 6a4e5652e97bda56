#pragma once
// Additive Holt-Winters, i.e. the ETS(A,A,A) state space model (Hyndman, Koehler, Ord, Snyder:
// "Forecasting with Exponential Smoothing", 2008) in error-correction form:
//   yhat_t = l + b + s_{t-m},  e_t = y_t - yhat_t
//   l <- l + b + alpha e_t,  b <- b + beta e_t,  s_t = s_{t-m} + gamma e_t
// with 0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha (the usual admissible region,
// enforced by a logistic reparametrisation). Initial states come from the first two seasons
// (level and trend from the two season means, seasonal indices from the first season's
// deviations from that line). alpha, beta, gamma minimise the one-step-ahead SSE over t >= m by
// Nelder-Mead from fixed starting points (deterministic). Prediction intervals use sigma^2 =
// SSE / (n - m) and the ETS(A,A,A) h-step variance factor
//   v_h = 1 + (h-1) (alpha^2 + alpha beta h + beta^2 h (2h-1) / 6) + gamma k (2 alpha + gamma +
//   beta m (k+1)), k = floor((h-1) / m).
#include <cstddef>
#include <vector>

namespace techmart::core {

struct HoltWintersFit {
  double alpha = 0, beta = 0, gamma = 0;
  double level = 0, trend = 0;  // final states
  std::vector<double> season;   // last m seasonal states, season[j] for time n - m + j
  std::vector<double> fitted;   // in-sample one-step forecasts (size n)
  double sse = 0;               // one-step SSE over t >= m
  double sigma = 0;             // sqrt(sse / (n - m))
  std::size_t m = 0, n = 0;
};

struct ForecastPoint {
  double point, lower, upper;
};

struct AnomalyPoint {
  double value, expected, lower, upper;
  bool anomaly;
};

// Throws std::invalid_argument: season < 2, fewer than 2 seasons of data, non-finite values.
HoltWintersFit fit_holt_winters(const std::vector<double>& y, std::size_t season);

// h = 1..horizon; level in (0, 1) is the central coverage of the intervals.
std::vector<ForecastPoint> forecast_holt_winters(const HoltWintersFit& fit, std::size_t horizon,
                                                 double level);

// Two-sided standard normal quantile (inverse CDF), p in (0, 1).
double normal_quantile(double p);

// In-sample anomaly detection: the one-step forecasts of the fitted model, re-run with each error
// clipped to the interval before it updates the states (an anomaly does not drag the level);
// the interval half-width is z * robust sigma (1.4826 MAD of the one-step errors t >= m).
std::vector<AnomalyPoint> detect_anomalies(const std::vector<double>& y, std::size_t season,
                                           double level);

}  // namespace techmart::core
