#include <cmath>
#include <cstdio>
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
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  out += s;
}

}  // namespace

std::string reasons_to_json(const std::vector<Reason>& reasons) {
  std::string out = "[";
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const Reason& r = reasons[i];
    if (i > 0) out += ", ";
    out += "{\"rule\": ";
    append_string(out, r.rule);
    out += ", \"observed\": ";
    append_number(out, r.observed, 4);
    out += ", \"threshold\": ";
    append_number(out, r.threshold, 4);
    out += ", \"contribution\": ";
    append_number(out, r.contribution, 2);
    if (std::isfinite(r.weight)) {
      out += ", \"weight\": ";
      append_number(out, r.weight, 4);
    }
    out += ", \"detail\": ";
    append_string(out, r.detail);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace techmart::core
