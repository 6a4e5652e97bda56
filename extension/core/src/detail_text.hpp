// DetailText: the detail text of a reason (Rule::describe), appended piece by piece into one stack
// buffer -- literal pieces and fixed-decimal numbers (fixed_text) -- instead of interpreting a
// printf format per call. The text is what std::snprintf(buf, kDetailBytes, format, ...) wrote
// for the format that the pieces spell out, truncation at kDetailBytes - 1 bytes included.
// Private to the core (src/); one std::string is built at the end.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

#include "techmart/core/scoring.hpp"

namespace techmart::core {

class DetailText {
 public:
  static constexpr std::size_t kDetailBytes = 320;  // the buffer the printf versions wrote into

  // a string literal, without its NUL
  template <std::size_t N>
  DetailText& operator<<(const char (&s)[N]) {
    return put(s, N - 1);
  }
  // n bytes of s as they are (NULs included, as std::string(s, n) appended them)
  DetailText& put(const char* s, std::size_t n) {
    const std::size_t room = kMax - len_;
    std::memcpy(buf_ + len_, s, n < room ? n : room);
    len_ += n < room ? n : room;
    return *this;
  }
  // "%.<decimals>f" of x
  DetailText& fixed(double x, int decimals) { return clamp(fixed_text(buf_ + len_, x, decimals)); }
  // "%02.0f" of x (an hour)
  DetailText& hour(double x) { return clamp(fixed_text(buf_ + len_, x, 0, 2, true)); }

  std::string str() const { return std::string(buf_, len_); }
  std::size_t size() const { return len_; }

 private:
  static constexpr std::size_t kMax = kDetailBytes - 1;  // what snprintf keeps of a longer text
  DetailText& clamp(std::size_t n) {
    len_ = len_ + n < kMax ? len_ + n : kMax;
    return *this;
  }
  std::size_t len_ = 0;
  // a number is written in place at buf_ + len_ (len_ <= kMax) and needs kFixedTextBytes there
  char buf_[kMax + kFixedTextBytes];
};

}  // namespace techmart::core
