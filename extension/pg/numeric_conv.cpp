#include "numeric_conv.hpp"

#include "techmart/core/decimal.hpp"

namespace techmart::pg {

double numeric_to_float8(Datum num) {
  bytea* b = DatumGetByteaPP(DirectFunctionCall1(numeric_send, num));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(VARDATA_ANY(b));
  const int len = static_cast<int>(VARSIZE_ANY_EXHDR(b));
  auto u16 = [p](int at) { return static_cast<uint16>((p[at] << 8) | p[at + 1]); };
  double x = 0.0;
  bool done = false;
  if (len >= 8) {
    const int ndigits = u16(0);
    const int weight = static_cast<int16>(u16(2));
    const uint16 sign = u16(4);
    if ((sign == 0x0000 || sign == 0x4000) && ndigits <= 8 && len == 8 + 2 * ndigits) {
      int16 digits[8];
      for (int i = 0; i < ndigits; ++i) digits[i] = static_cast<int16>(u16(8 + 2 * i));
      done = core::base10000_to_double(digits, ndigits, weight, sign == 0x4000, &x);
    }
  }
  pfree(b);
  if (done) return x;
  return DatumGetFloat8(DirectFunctionCall1(numeric_float8, num));
}

}  // namespace techmart::pg
