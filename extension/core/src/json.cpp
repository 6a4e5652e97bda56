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

namespace {
// buf[0..size) receives as much of text[0..len) as fits, NUL-terminated, as snprintf truncates
void put_truncated(char* buf, std::size_t size, const char* text, std::size_t len) {
  if (size == 0) return;
  const std::size_t n = len < size - 1 ? len : size - 1;
  std::memcpy(buf, text, n);
  buf[n] = '\0';
}

// The digits of "%.*f" when certain (see format_fixed); false: let printf decide.
bool fixed_digits(double x, int decimals, int width, bool zero_pad, char* out, std::size_t* len) {
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  if (!std::isfinite(x) || decimals < 0 || decimals > 9 || width > 64) return false;
  // the error of y is below 1.2e-7 (1e9 * 2^-53): away from a tie it rounds as the exact value
  const double y = std::fabs(x) * kPow10[decimals];
  if (!(y < 1e9)) return false;
  const auto whole = static_cast<std::uint32_t>(y);  // floor(y): 0 <= y < 1e9
  const double frac = y - static_cast<double>(whole);
  if (std::fabs(frac - 0.5) <= 1e-6) return false;
  std::uint32_t m = whole + (frac > 0.5 ? 1 : 0);  // <= 1e9
  // the digits, from the last one: `decimals` of them, the point, then the integer part
  char digits[24];
  char* const end = digits + sizeof digits;
  char* p = end;
  for (int i = 0; i < decimals; ++i) {
    *--p = static_cast<char>('0' + m % 10);
    m /= 10;
  }
  if (decimals > 0) *--p = '.';
  do {
    *--p = static_cast<char>('0' + m % 10);
    m /= 10;
  } while (m > 0);
  const int nd = static_cast<int>(end - p);
  const bool minus = std::signbit(x);
  const int body = nd + (minus ? 1 : 0);
  const int pad = width > body ? width - body : 0;
  std::size_t k = 0;
  if (!zero_pad)
    for (int i = 0; i < pad; ++i) out[k++] = ' ';
  if (minus) out[k++] = '-';
  if (zero_pad)
    for (int i = 0; i < pad; ++i) out[k++] = '0';
  for (int i = 0; i < nd; ++i) out[k++] = p[i];
  *len = k;
  return true;
}
}  // namespace

int format_fixed(char* buf, std::size_t size, double x, int decimals) {
  char text[96];
  std::size_t len = 0;
  if (!fixed_digits(x, decimals, 0, false, text, &len)) {
    return std::snprintf(buf, size, "%.*f", decimals, x);
  }
  put_truncated(buf, size, text, len);
  return static_cast<int>(len);
}

std::size_t fixed_text(char* out, double x, int decimals, int width, bool zero_pad) {
  std::size_t len = 0;
  if (fixed_digits(x, decimals, width, zero_pad, out, &len)) return len;
  const int n =
      std::snprintf(out, kFixedTextBytes, zero_pad ? "%0*.*f" : "%*.*f", width, decimals, x);
  if (n < 0) return 0;
  return static_cast<std::size_t>(n) < kFixedTextBytes ? static_cast<std::size_t>(n)
                                                       : kFixedTextBytes - 1;
}

int format_doubles(char* buf, std::size_t size, const char* f, const double* args, int nargs) {
  std::string out;
  out.reserve(160);
  int next = 0;
  for (const char* p = f; *p != '\0'; ++p) {
    if (*p != '%') {
      out += *p;
      continue;
    }
    const char* q = p + 1;
    if (*q == '%') {
      out += '%';
      p = q;
      continue;
    }
    const bool zero_pad = *q == '0';
    if (zero_pad) ++q;
    int width = 0;
    while (*q >= '0' && *q <= '9' && width < 1000) width = width * 10 + (*q++ - '0');
    int decimals = -1;
    if (*q == '.') {
      ++q;
      decimals = 0;
      while (*q >= '0' && *q <= '9' && decimals < 1000) decimals = decimals * 10 + (*q++ - '0');
    }
    char text[96];
    std::size_t len = 0;
    if (*q != 'f' || decimals < 0 || next >= nargs ||
        !fixed_digits(args[next], decimals, width, zero_pad, text, &len)) {
      // anything else: printf does the whole text (the arguments as doubles, in order)
      const double a[4] = {nargs > 0 ? args[0] : 0.0, nargs > 1 ? args[1] : 0.0,
                           nargs > 2 ? args[2] : 0.0, nargs > 3 ? args[3] : 0.0};
      return std::snprintf(buf, size, f, a[0], a[1], a[2], a[3]);
    }
    ++next;
    out.append(text, len);
    p = q;
  }
  put_truncated(buf, size, out.data(), out.size());
  return static_cast<int>(out.size());
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
