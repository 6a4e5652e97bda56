#include "techmart/core/decimal.hpp"

namespace techmart::core {
namespace {
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr std::uint64_t kExact = std::uint64_t{1} << 53;
}  // namespace

bool decimal_to_double(std::uint64_t mantissa, int exp10, bool negative, double* out) noexcept {
  if (mantissa >= kExact || exp10 < -22 || exp10 > 22) return false;
  const double m = static_cast<double>(mantissa);
  double x;
  if (exp10 >= 0) {
    x = m * kPow10[exp10];
    if (!(x < static_cast<double>(kExact))) return false;  // the product may have been rounded
  } else {
    x = m / kPow10[-exp10];
  }
  *out = negative ? -x : x;
  return true;
}

bool base10000_to_double(const std::int16_t* digits, int ndigits, int weight, bool negative,
                         double* out) noexcept {
  // trailing zero digits change nothing but the exponent
  while (ndigits > 0 && digits[ndigits - 1] == 0) --ndigits;
  if (ndigits == 0) {
    *out = 0.0;  // a numeric zero has no sign
    return true;
  }
  if (ndigits > 4) return false;  // more than 16 decimal digits: 2^53 may be exceeded
  std::uint64_t m = 0;
  for (int i = 0; i < ndigits; ++i) {
    if (digits[i] < 0 || digits[i] > 9999) return false;
    m = m * 10000 + static_cast<std::uint64_t>(digits[i]);
  }
  // the last digit's place value is 10000^(weight - (ndigits - 1))
  const long exp10 = 4L * (static_cast<long>(weight) - (ndigits - 1));
  if (exp10 < -22 || exp10 > 22) return false;
  return decimal_to_double(m, static_cast<int>(exp10), negative, out);
}

}  // namespace techmart::core
