#include "techmart/core/welford.hpp"

#include <cmath>
#include <stdexcept>

#include "techmart/core/errors.hpp"

namespace techmart::core {

Welford Welford::from_state(std::int64_t n, double mean, double m2) {
  if (n < 0) throw std::invalid_argument("count must be >= 0");
  require_finite(mean, "mean");
  require_finite(m2, "m2");
  if (m2 < 0) throw std::invalid_argument("m2 must be >= 0");
  if (n == 0 && (mean != 0.0 || m2 != 0.0)) {
    throw std::invalid_argument("an empty state must have mean 0 and m2 0");
  }
  Welford w;
  w.n_ = n;
  w.mean_ = mean;
  w.m2_ = m2;
  return w;
}

void Welford::add(double x) {
  require_finite(x, "value");
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
  if (m2_ < 0) m2_ = 0;  // rounding can never make the spread negative
}

void Welford::merge(const Welford& other) {
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n_);
  const double nb = static_cast<double>(other.n_);
  const double n = na + nb;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (nb / n);
  m2_ += other.m2_ + delta * delta * (na * nb / n);
  n_ += other.n_;
}

double Welford::population_variance() const {
  return n_ == 0 ? 0.0 : m2_ / static_cast<double>(n_);
}

double Welford::sample_variance() const { return n_ < 2 ? 0.0 : m2_ / static_cast<double>(n_ - 1); }

}  // namespace techmart::core
