#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "techmart/core/scoring.hpp"

namespace techmart::core {
namespace {

void append_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // UTF-8 bytes pass through unchanged
        }
    }
  }
  out += '"';
}

// A JSON number with at most `decimals` decimals (trailing zeros trimmed); null if not finite.
void append_number(std::string& out, double x, int decimals) {
  char buf[kJsonNumberBytes];
  out += format_json_number(x, decimals, buf, sizeof buf) ? buf : "null";
}

}  // namespace

bool json_number_fixed(double x, int decimals, std::int64_t* mantissa, int* scale) {
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  if (!std::isfinite(x) || decimals < 0 || decimals > 9) return false;
  // y carries a rounding error below 2.3e-7 (1e9 * 2^-52): where the fraction is further than
  // 1e-6 from .5, y rounds to the same integer as the exact value printf rounds
  const double y = std::fabs(x) * kPow10[decimals];
  if (!(y < 1e9)) return false;
  const double whole = std::floor(y);
  const double frac = y - whole;
  if (std::fabs(frac - 0.5) <= 1e-6) return false;
  std::int64_t m = static_cast<std::int64_t>(whole) + (frac > 0.5 ? 1 : 0);
  int s = decimals;
  while (s > 0 && m % 10 == 0) {  // trailing zeros trimmed, as format_json_number does
    m /= 10;
    --s;
  }
  if (m == 0) s = 0;  // "-0.00" is written "0"
  *mantissa = x < 0 ? -m : m;
  *scale = s;
  return true;
}

bool format_json_number(double x, int decimals, char* buf, std::size_t size) {
  if (!std::isfinite(x) || size < 2) return false;
  const int n = std::snprintf(buf, size, "%.*f", decimals, x);
  if (n < 0 || static_cast<std::size_t>(n) >= size) return false;
  std::size_t len = static_cast<std::size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (buf[len - 1] == '0') --len;
    if (buf[len - 1] == '.') --len;
  }
  buf[len] = '\0';
  if (std::strcmp(buf, "-0") == 0) std::strcpy(buf, "0");
  return true;
}

std::string reasons_to_json(const std::vector<Reason>& reasons) {
  std::string out = "[";
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const Reason& r = reasons[i];
    if (i > 0) out += ", ";
    out += "{\"rule\": ";
    append_string(out, r.rule);
    out += ", \"observed\": ";
    append_number(out, r.observed, kReasonValueDecimals);
    out += ", \"threshold\": ";
    append_number(out, r.threshold, kReasonValueDecimals);
    out += ", \"contribution\": ";
    append_number(out, r.contribution, kReasonContributionDecimals);
    if (std::isfinite(r.weight)) {
      out += ", \"weight\": ";
      append_number(out, r.weight, kReasonValueDecimals);
    }
    out += ", \"detail\": ";
    append_string(out, r.detail);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace techmart::core
