// The out-of-line (cold) parts of the Jsonb writer (jsonb_writer.hpp).

#include "jsonb_writer.hpp"

namespace techmart::pg::jsonb {

void length_error(const char* what) {
  ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                  errmsg("total size of jsonb %s elements exceeds the maximum of %u bytes", what,
                         JENTRY_OFFLENMASK)));
  pg_unreachable();
}

// The numeric's on-disk format (numeric.c; fixed, pg_upgrade keeps it) in the short form that
// make_result() writes when the display scale is at most 63 and the weight within -64..63: the
// varlena header, a 16-bit header (NUMERIC_SHORT, the sign, the display scale, the weight of the
// first digit in base 10000, as sign and 6 bits), then the base-10000 digits without leading or
// trailing zero digits (none for 0, which is positive).
uint32 write_scaled_numeric(StringInfo buf, int64 mantissa, int scale) {
  constexpr uint16 kShort = 0x8000;           // NUMERIC_SHORT
  constexpr uint16 kShortNegative = 0x2000;   // NUMERIC_SHORT_SIGN_MASK
  constexpr int kDscaleShift = 7;             // NUMERIC_SHORT_DSCALE_SHIFT
  constexpr uint16 kWeightNegative = 0x0040;  // NUMERIC_SHORT_WEIGHT_SIGN_MASK
  constexpr uint16 kWeightMask = 0x003F;      // NUMERIC_SHORT_WEIGHT_MASK
  static constexpr uint64 kPow10[4] = {1, 10, 100, 1000};
  Assert(scale >= 0 && scale <= 9);
  Assert(mantissa > -INT64CONST(1000000000000000) && mantissa < INT64CONST(1000000000000000));
  const bool negative = mantissa < 0;
  // the value times 10000^frac: an integer whose last frac base-10000 digits are the fraction
  const int frac = (scale + 3) / 4;
  uint64 a = static_cast<uint64>(negative ? -mantissa : mantissa) * kPow10[4 * frac - scale];
  int16 digits[8];  // least significant first; 10^15 * 10^3 < 10000^5
  int n = 0;
  while (a != 0) {
    digits[n++] = static_cast<int16>(a % 10000);
    a /= 10000;
  }
  int low = 0;  // trailing zero digits dropped
  while (low < n && digits[low] == 0) ++low;
  const int weight = n == 0 ? 0 : n - 1 - frac;
  const uint16 header = static_cast<uint16>(
      kShort | (negative && n > 0 ? kShortNegative : 0) | (scale << kDscaleShift) |
      (weight < 0 ? kWeightNegative : 0) | (static_cast<uint16>(weight) & kWeightMask));
  const int start = buf->len;
  pad_to_int(buf);
  const int numlen = static_cast<int>(VARHDRSZ + sizeof header + sizeof(int16) * (n - low));
  ensure(buf, numlen);
  char* p = buf->data + buf->len;
  SET_VARSIZE(p, numlen);
  std::memcpy(p + VARHDRSZ, &header, sizeof header);
  char* out = p + VARHDRSZ + sizeof header;
  for (int i = n - 1; i >= low; --i, out += sizeof(int16))
    std::memcpy(out, &digits[i], sizeof(int16));
  buf->len += numlen;
  return JENTRY_ISNUMERIC | static_cast<uint32>(buf->len - start);
}

uint32 write_numeric(StringInfo buf, Numeric num) {
  if (numeric_is_nan(num) || numeric_is_inf(num)) {
    char* s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
    const uint32 e = write_string(buf, s, static_cast<int>(std::strlen(s)));
    pfree(s);
    return e;
  }
  return write_numeric_as_is(buf, num);
}

}  // namespace techmart::pg::jsonb
