#pragma once
// One-pass central moments up to the fourth (Terriberry's update, Pebay's pairwise combination:
// "Formulas for robust, one-pass parallel computation of covariances and arbitrary-order
// statistical moments", Sandia report SAND2008-6212). A plain struct: it may live in palloc'd
// memory as an aggregate state.
#include <cstdint>

namespace techmart::core {

struct Moments {
  std::int64_t n = 0;
  double mean = 0.0;
  double m2 = 0.0;  // sum of (x - mean)^2
  double m3 = 0.0;  // sum of (x - mean)^3
  double m4 = 0.0;  // sum of (x - mean)^4

  // Throws std::invalid_argument unless x is finite.
  void add(double x);
  // Pairwise combination: *this becomes the moments of both inputs.
  void merge(const Moments& o) noexcept;

  // Sample variance m2 / (n - 1) (as var_samp); 0 when n < 2.
  double variance() const noexcept { return n >= 2 ? m2 / static_cast<double>(n - 1) : 0.0; }
  // Population skewness g1 = sqrt(n) m3 / m2^1.5; 0 when m2 == 0.
  double skewness() const noexcept;
  // Population excess kurtosis g2 = n m4 / m2^2 - 3; 0 when m2 == 0.
  double kurtosis() const noexcept;

  // Throws std::invalid_argument unless the fields are a state add()/merge() can produce.
  void validate() const;
};

// Exponentially weighted moving average: s_1 = x_1, s_t = alpha x_t + (1 - alpha) s_{t-1}.
struct Ewma {
  bool started = false;
  double value = 0.0;
  // Throws std::invalid_argument unless 0 < alpha <= 1 and x is finite.
  void add(double x, double alpha);
};

// Robust z-score 0.6745 (x - median) / mad (Iglewicz & Hoaglin); throws std::invalid_argument
// unless all are finite and mad > 0.
double robust_zscore(double x, double median, double mad);

}  // namespace techmart::core
