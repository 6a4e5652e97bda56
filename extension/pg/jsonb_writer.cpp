// The out-of-line (cold) parts of the Jsonb writer (jsonb_writer.hpp).

#include "jsonb_writer.hpp"

namespace techmart::pg::jsonb {

void length_error(const char* what) {
  ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                  errmsg("total size of jsonb %s elements exceeds the maximum of %u bytes", what,
                         JENTRY_OFFLENMASK)));
  pg_unreachable();
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
