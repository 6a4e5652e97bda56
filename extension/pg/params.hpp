#pragma once
#include "pg.hpp"

namespace techmart::pg {

// The numeric parameters of a rule (techmart.rule_config.params, a flat JSON object of numbers),
// copied into palloc'd plain arrays. Plain C: call it before any C++ object lives.
struct NumericParams {
  int count;
  char** keys;
  double* values;
};

// Returns false and sets *problem (a static string) unless params is an object whose values are
// all numbers. May raise (detoasting, palloc, numbers beyond double range).
bool collect_numeric_params(Datum params, NumericParams* out, const char** problem);

}  // namespace techmart::pg
