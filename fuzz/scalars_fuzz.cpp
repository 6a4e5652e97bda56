// Differential/property fuzzing of the small parsers every request goes through:
// parse_int (query and path integers) against std::from_chars, request_id_for (X-Request-Id),
// valid_utf8 (client input echoed in logs and problems) against a reference decoder.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common.h"
#include "http.h"
#include "log.h"

using namespace techmart::api;

namespace {

// A strict reference: well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);

  // parse_int: exactly the decimal digit strings whose value fits and lies in [min, max]
  const std::int64_t lo = size > 0 ? data[0] % 3 : 0;  // 0, 1 or 2
  const std::int64_t hi = size > 1 && data[1] % 2 ? 500 : INT64_MAX;
  const auto got = parse_int(s, lo, hi);
  std::int64_t ref = 0;
  const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ref);
  const bool want = digits && s.size() <= 19 && ec == std::errc() && ptr == s.data() + s.size() &&
                    ref >= lo && ref <= hi;
  FUZZ_CHECK(got.has_value() == want, "parse_int accepts exactly the in-range decimal integers");
  if (got) FUZZ_CHECK(*got == ref, "parse_int value");

  // request_id_for: a sane id is kept, anything else replaced by a fresh UUID of 36 safe chars
  const std::string id = request_id_for(std::string(s));
  FUZZ_CHECK(!id.empty() && id.size() <= 128, "request id length");
  for (char c : id) {
    FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-',
               "request id characters");
  }
  if (id != s) FUZZ_CHECK(id.size() == 36, "replacement is a UUID");

  // valid_utf8: output is valid UTF-8; valid input is returned unchanged
  const std::string u = techmart::api::valid_utf8(s);
  FUZZ_CHECK(is_valid_utf8(u), "valid_utf8 output is valid UTF-8");
  if (is_valid_utf8(s)) FUZZ_CHECK(u == s, "valid UTF-8 is kept as is");
  return 0;
}
