#pragma once

#include <cstdint>

namespace techmart::core {

// Running count, mean and sum of squared deviations (M2) of a series, updated one value at a
// time (Welford 1962) and merged pairwise (Chan, Golub, LeVeque 1979). Both updates are
// numerically stable: no sum of squares is ever formed, so values with a large common offset
// keep their variance.
class Welford {
 public:
  Welford() = default;

  // Rebuilds an accumulator from stored state; throws std::invalid_argument when the state is
  // impossible (n < 0, non-finite mean/m2, m2 < 0, or n == 0 with a non-zero mean/m2).
  static Welford from_state(std::int64_t n, double mean, double m2);
  // The same without the checks, for a copy of an accumulator's own count()/mean()/m2().
  static Welford restore(std::int64_t n, double mean, double m2) noexcept {
    Welford w;
    w.n_ = n;
    w.mean_ = mean;
    w.m2_ = m2;
    return w;
  }

  // Adds one observation; throws std::invalid_argument for NaN or infinity.
  void add(double x);
  // Folds another accumulator into this one; equal (up to rounding) to adding its values.
  void merge(const Welford& other);

  std::int64_t count() const { return n_; }
  double mean() const { return mean_; }  // 0 when count() == 0
  double m2() const { return m2_; }
  // M2 / n; 0 when count() == 0.
  double population_variance() const;
  // M2 / (n - 1); 0 when count() < 2 (no spread observed yet).
  double sample_variance() const;

 private:
  std::int64_t n_ = 0;
  double mean_ = 0.0;
  double m2_ = 0.0;
};

}  // namespace techmart::core
