#pragma once
// Robust location and scale: exact median and MAD (median absolute deviation), the inputs of
// robust_zscore (moments.hpp). Pure C++17, no allocation: works in place on the caller's buffer.
#include <cstddef>

namespace techmart::core {

struct MedianMad {
  double median;
  double mad;  // median of |x - median|, unscaled (x 1.4826 estimates sigma for normal data)
};

// Median (mean of the two middle values for an even count) and MAD of values[0, n). Reorders
// and overwrites the buffer. Throws std::invalid_argument when n == 0 or a value is not finite.
MedianMad median_mad(double* values, std::size_t n);

}  // namespace techmart::core
