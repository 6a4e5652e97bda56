#include "techmart/core/moments.hpp"

#include <cmath>
#include <stdexcept>

#include "techmart/core/errors.hpp"

namespace techmart::core {

void Moments::add(double x) {
  require_finite(x, "value");
  const double n1 = static_cast<double>(n);
  ++n;
  const double nn = static_cast<double>(n);
  const double delta = x - mean;
  const double delta_n = delta / nn;
  const double delta_n2 = delta_n * delta_n;
  const double term1 = delta * delta_n * n1;
  mean += delta_n;
  m4 += term1 * delta_n2 * (nn * nn - 3 * nn + 3) + 6 * delta_n2 * m2 - 4 * delta_n * m3;
  m3 += term1 * delta_n * (nn - 2) - 3 * delta_n * m2;
  m2 += term1;
}

void Moments::merge(const Moments& o) noexcept {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
  const double nx = na + nb;
  const double delta = o.mean - mean;
  const double d2 = delta * delta, d3 = d2 * delta, d4 = d2 * d2;
  const double m2x = m2 + o.m2 + d2 * na * nb / nx;
  const double m3x =
      m3 + o.m3 + d3 * na * nb * (na - nb) / (nx * nx) + 3.0 * delta * (na * o.m2 - nb * m2) / nx;
  const double m4x = m4 + o.m4 + d4 * na * nb * (na * na - na * nb + nb * nb) / (nx * nx * nx) +
                     6.0 * d2 * (na * na * o.m2 + nb * nb * m2) / (nx * nx) +
                     4.0 * delta * (na * o.m3 - nb * m3) / nx;
  mean = (na * mean + nb * o.mean) / nx;
  n += o.n;
  m2 = m2x;
  m3 = m3x;
  m4 = m4x;
}

double Moments::skewness() const noexcept {
  if (n < 1 || !(m2 > 0.0)) return 0.0;
  return std::sqrt(static_cast<double>(n)) * m3 / std::pow(m2, 1.5);
}

double Moments::kurtosis() const noexcept {
  if (n < 1 || !(m2 > 0.0)) return 0.0;
  return static_cast<double>(n) * m4 / (m2 * m2) - 3.0;
}

void Moments::validate() const {
  if (n < 0) throw std::invalid_argument("moments count must not be negative");
  if (!std::isfinite(mean) || !std::isfinite(m2) || !std::isfinite(m3) || !std::isfinite(m4)) {
    throw std::invalid_argument("moments must be finite");
  }
  if (m2 < 0.0 || m4 < 0.0) throw std::invalid_argument("even moments must not be negative");
  if (n == 0 && (mean != 0.0 || m2 != 0.0 || m3 != 0.0 || m4 != 0.0)) {
    throw std::invalid_argument("empty moments must be zero");
  }
}

void Ewma::add(double x, double alpha) {
  if (!(alpha > 0.0 && alpha <= 1.0)) throw std::invalid_argument("ewma alpha must be in (0, 1]");
  require_finite(x, "value");
  if (!started) {
    value = x;
    started = true;
  } else {
    value = alpha * x + (1.0 - alpha) * value;
  }
}

double robust_zscore(double x, double median, double mad) {
  require_finite(x, "x");
  require_finite(median, "median");
  require_finite(mad, "mad");
  if (!(mad > 0.0)) throw std::invalid_argument("mad must be positive");
  return 0.6745 * (x - median) / mad;
}

}  // namespace techmart::core
