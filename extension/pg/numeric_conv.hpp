#pragma once
#include "pg.hpp"

namespace techmart::pg {

// numeric_float8(num) -- strtod of numeric_out's text -- without the text: from the numeric's
// binary form (numeric_send: ndigits, weight, sign, dscale, base-10000 digits), when its value is
// an integer below 2^53 times a power of ten within 10^+-22 (core::base10000_to_double: one
// correctly rounded IEEE operation, the double strtod returns); otherwise numeric_float8 itself
// (NaN, infinities, more digits). May raise (detoasting, palloc).
double numeric_to_float8(Datum num);

}  // namespace techmart::pg
