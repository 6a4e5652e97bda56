#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace techmart::core {

// Every input the core refuses is reported as std::invalid_argument (or a subclass, so that a
// caller can be more specific). The Postgres glue maps these onto SQLSTATEs; the core itself
// knows nothing about SQL.

// The argument of a logarithm is outside its domain (e.g. a negative amount for log1p).
class LogDomainError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Throws std::invalid_argument("<what> must be finite, got NaN|Infinity|-Infinity").
[[noreturn]] void throw_not_finite(double x, const char* what);

// Throws std::invalid_argument("<what> must be finite") unless x is finite. Inline: the scoring
// path checks a few dozen numbers per row, nearly always finite.
inline void require_finite(double x, const char* what) {
  if (!std::isfinite(x)) throw_not_finite(x, what);
}

}  // namespace techmart::core
