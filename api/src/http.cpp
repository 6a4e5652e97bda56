#include "http.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <sstream>

#include "problem.h"

namespace techmart::api {

std::optional<std::string> RequestContext::query(const std::string& name) const {
  return request_.query().get(name);
}

std::optional<std::string> RequestContext::header(const std::string& name) const {
  return header_value(request_, name);
}

std::optional<std::string> header_value(const Pistache::Http::Request& request,
                                        const std::string& name) {
  const auto& headers = request.headers();
  if (auto raw = headers.tryGetRaw(name)) return raw->value();
  if (auto typed = headers.tryGet(name)) {
    std::ostringstream os;
    typed->write(os);
    return os.str();
  }
  return std::nullopt;
}

void RequestContext::require_json_content_type() const {
  const auto ct = request_.headers().tryGet<Pistache::Http::Header::ContentType>();
  if (!ct) {
    throw problems::unsupported_media_type(
        "The request body must be sent with Content-Type: application/json.");
  }
  const auto& mime = ct->mime();
  if (mime.top() != Pistache::Http::Mime::Type::Application ||
      mime.sub() != Pistache::Http::Mime::Subtype::Json) {
    throw problems::unsupported_media_type("Content-Type " + mime.toString() +
                                           " is not supported; send application/json.");
  }
}

std::string request_id_for(const std::optional<std::string>& incoming) {
  if (incoming && !incoming->empty() && incoming->size() <= 128 &&
      std::all_of(incoming->begin(), incoming->end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
      })) {
    return *incoming;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng(), b = rng();
  // UUID version 4 layout
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::optional<std::int64_t> parse_int(std::string_view s, std::int64_t min, std::int64_t max) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int d = c - '0';
    if (v > (INT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace techmart::api
