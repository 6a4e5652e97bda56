#pragma once

#include <cstdint>

#include "techmart/core/welford.hpp"

namespace techmart::core {

// Plain z-score (x - mean) / sd. Throws std::invalid_argument unless all arguments are finite
// and sd > 0.
double zscore(double x, double mean, double sd);

// The scale amounts are compared on: log1p(amount). Throws LogDomainError for amount < 0 and
// std::invalid_argument for NaN/infinity.
double log_amount(double amount);

// A population prior that a customer's own statistics are shrunk toward.
struct Prior {
  double mean = 0.0;    // prior mean (finite)
  double sd = 1.0;      // prior standard deviation (finite, > 0)
  double weight = 5.0;  // pseudo-count k: how many observations the prior is worth (finite, > 0)

  // Throws std::invalid_argument when a field is out of its range.
  void validate() const;
};

// Mean and variance of a customer shrunk toward the prior with pseudo-count k:
//   mean     = (n * mean_c + k * prior_mean) / (n + k)
//   variance = (n * var_c + k * prior_sd^2) / (n + k),   var_c = M2 / n (population variance)
// With n = 0 this is the prior; as n grows it tends to the customer's own statistics.
struct ShrunkEstimate {
  double mean;
  double variance;  // > 0 because k > 0 and prior_sd > 0
  double sd;
  double effective_n;  // n + k
};
ShrunkEstimate shrink(const Welford& customer, const Prior& prior);

// z-score of x against the shrunk estimate.
double shrunk_zscore(double x, const Welford& customer, const Prior& prior);

// Numerically stable logistic function 1 / (1 + exp(-t)); NaN is refused.
double logistic(double t);

// Calibrated single-feature score in [0, 100]: 100 * logistic(weight * (observed - threshold)).
// observed at the threshold gives 50. Throws std::invalid_argument unless observed and
// threshold are finite and weight is finite and >= 0.
double calibrated_score(double observed, double threshold, double weight);

}  // namespace techmart::core
