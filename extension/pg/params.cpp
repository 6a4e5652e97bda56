#include "params.hpp"

namespace techmart::pg {

bool collect_numeric_params(Datum params, NumericParams* out, const char** problem) {
  Jsonb* jb = DatumGetJsonbP(params);
  out->count = 0;
  out->keys = nullptr;
  out->values = nullptr;
  if (!JB_ROOT_IS_OBJECT(jb)) {
    *problem = "params must be a JSON object";
    return false;
  }
  const int capacity = static_cast<int>(JB_ROOT_COUNT(jb));
  if (capacity == 0) return true;
  out->keys = static_cast<char**>(palloc(sizeof(char*) * capacity));
  out->values = static_cast<double*>(palloc(sizeof(double) * capacity));

  JsonbIterator* it = JsonbIteratorInit(&jb->root);
  JsonbValue v;
  JsonbIteratorToken token;
  char* key = nullptr;
  while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
    if (token == WJB_KEY) {
      key = pnstrdup(v.val.string.val, v.val.string.len);
    } else if (token == WJB_VALUE) {
      if (v.type != jbvNumeric) {
        *problem = "every value of params must be a number";
        return false;
      }
      if (numeric_is_nan(v.val.numeric) || numeric_is_inf(v.val.numeric)) {
        *problem = "every value of params must be finite";
        return false;
      }
      if (out->count >= capacity) {
        *problem = "params has more values than keys";
        return false;
      }
      out->keys[out->count] = key;
      out->values[out->count] =
          DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v.val.numeric)));
      ++out->count;
    }
  }
  return true;
}

}  // namespace techmart::pg
