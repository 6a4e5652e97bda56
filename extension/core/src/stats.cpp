#include "techmart/core/stats.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "techmart/core/errors.hpp"

namespace techmart::core {

void throw_not_finite(double x, const char* what) {
  throw std::invalid_argument(std::string(what) + " must be finite, got " +
                              (std::isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity")));
}

double zscore(double x, double mean, double sd) {
  require_finite(x, "x");
  require_finite(mean, "mean");
  require_finite(sd, "sd");
  if (!(sd > 0)) throw std::invalid_argument("sd must be > 0, got " + std::to_string(sd));
  const double z = (x - mean) / sd;
  require_finite(z, "z-score");  // e.g. 1e308 - (-1e308) overflows
  return z;
}

double log_amount(double amount) {
  require_finite(amount, "amount");
  if (amount < 0) {
    throw LogDomainError("amount must be >= 0 for log1p, got " + std::to_string(amount));
  }
  return std::log1p(amount);
}

void Prior::validate() const {
  require_finite(mean, "prior_mean");
  require_finite(sd, "prior_sd");
  require_finite(weight, "prior_weight");
  if (!(sd > 0)) throw std::invalid_argument("prior_sd must be > 0");
  if (!(weight > 0)) throw std::invalid_argument("prior_weight must be > 0");
}

ShrunkEstimate shrink(const Welford& customer, const Prior& prior) {
  prior.validate();
  const double n = static_cast<double>(customer.count());
  const double k = prior.weight;
  const double total = n + k;
  // n * mean_c and n * var_c (= M2) are weighted sums; written as fractions of the total so
  // that neither is formed at a large magnitude.
  const double mean = (n / total) * customer.mean() + (k / total) * prior.mean;
  const double variance = customer.m2() / total + (k / total) * (prior.sd * prior.sd);
  ShrunkEstimate est{mean, variance, std::sqrt(variance), total};
  require_finite(est.mean, "shrunk mean");
  require_finite(est.variance, "shrunk variance");
  if (!(est.sd > 0)) throw std::invalid_argument("shrunk standard deviation is not positive");
  return est;
}

double shrunk_zscore(double x, const Welford& customer, const Prior& prior) {
  const ShrunkEstimate est = shrink(customer, prior);
  return zscore(x, est.mean, est.sd);
}

double logistic(double t) {
  if (std::isnan(t)) throw std::invalid_argument("logistic of NaN");
  if (t >= 0) return 1.0 / (1.0 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1.0 + e);
}

double calibrated_score(double observed, double threshold, double weight) {
  require_finite(observed, "observed");
  require_finite(threshold, "threshold");
  require_finite(weight, "weight");
  if (weight < 0) throw std::invalid_argument("weight must be >= 0");
  return 100.0 * logistic(weight * (observed - threshold));
}

}  // namespace techmart::core
