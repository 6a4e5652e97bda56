#include "techmart/core/moments_robust.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace techmart::core {

namespace {
// Median of v[0, n) by selection (O(n)), reordering v.
double median_in_place(double* v, std::size_t n) {
  double* mid = v + n / 2;
  std::nth_element(v, mid, v + n);
  const double upper = *mid;
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v, mid);  // the largest of the lower half
  return lower + (upper - lower) / 2;              // no overflow for finite values
}
}  // namespace

MedianMad median_mad(double* values, std::size_t n) {
  if (n == 0) throw std::invalid_argument("median/MAD of no values");
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) throw std::invalid_argument("median/MAD: values must be finite");
  }
  const double med = median_in_place(values, n);
  for (std::size_t i = 0; i < n; ++i) values[i] = std::fabs(values[i] - med);
  return MedianMad{med, median_in_place(values, n)};
}

}  // namespace techmart::core
