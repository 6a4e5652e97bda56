// Structured logging: one JSON object per line on stderr.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace techmart::api {

// s with every invalid UTF-8 sequence replaced by U+FFFD (for JSON output of client input).
std::string valid_utf8(std::string_view s);

}  // namespace techmart::api

namespace techmart::api::log {

// A field value: string, integer, floating point or boolean.
using Value = std::variant<std::string, long long, double, bool>;

struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(v) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<long long>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

// Writes {"ts":..., "level":..., "msg":..., fields...} as one line (thread-safe).
void write(std::string_view level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write("info", msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write("warn", msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write("error", msg, fields);
}

}  // namespace techmart::api::log
