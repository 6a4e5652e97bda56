#pragma once
// Exact decimal -> double conversion without text, for PostgreSQL numerics (pure C++17).
#include <cstdint>

namespace techmart::core {

// The double nearest to (negative ? -1 : 1) * mantissa * 10^exp10 -- what strtod() (correctly
// rounded) returns for the decimal's text -- when it can be computed exactly: mantissa below 2^53
// (exact as a double) and 10^|exp10| exact as a double (|exp10| <= 22), so one IEEE
// multiplication or division (correctly rounded) gives it; for exp10 > 0 the product must also
// stay below 2^53. Returns false (out untouched) otherwise: let the caller parse the text.
bool decimal_to_double(std::uint64_t mantissa, int exp10, bool negative, double* out) noexcept;

// The same for a decimal given as base-10000 digits, as PostgreSQL's numeric stores and sends it:
// value = sum(digits[i] * 10000^(weight - i)), i in [0, ndigits). Digits must be in [0, 9999].
bool base10000_to_double(const std::int16_t* digits, int ndigits, int weight, bool negative,
                         double* out) noexcept;

}  // namespace techmart::core
