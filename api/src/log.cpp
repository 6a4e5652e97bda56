#include "log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace techmart::api {

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // no overlong forms, surrogates or code points past U+10FFFF
    if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))) {
      ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += 1;
    }
  }
  return out;
}

}  // namespace techmart::api

namespace techmart::api::log {
namespace {

std::mutex g_mutex;

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void write(std::string_view level, std::string_view msg, std::initializer_list<Field> fields) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  const std::string ts = now_iso8601();
  w.StartObject();
  w.Key("ts");
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("level");
  w.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
  w.Key("msg");
  w.String(msg.data(), static_cast<rapidjson::SizeType>(msg.size()));
  for (const Field& f : fields) {
    w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      const std::string v = valid_utf8(*s);
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    } else if (const auto* i = std::get_if<long long>(&f.value)) {
      w.Int64(*i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      w.Double(*d);
    } else {
      w.Bool(std::get<bool>(f.value));
    }
  }
  w.EndObject();
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(sb.GetString(), 1, sb.GetSize(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace techmart::api::log
