// HTTP plumbing shared by all handlers: the handler-facing request context and response,
// request ids, and header helpers around Pistache 0.0.5.
#pragma once

#include <pistache/http.h>
#include <pistache/http_header.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth.h"

namespace techmart::api {

// What a handler returns; the handler wrapper adds the common headers and sends it.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // the handler wrote the response itself (streams); the wrapper only logs it
  bool streamed = false;

  static Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// What a handler sees of the request.
class RequestContext {
 public:
  RequestContext(const Pistache::Http::Request& request, std::string request_id,
                 std::size_t max_body_bytes)
      : request_(request), request_id_(std::move(request_id)), max_body_bytes_(max_body_bytes) {}

  const Pistache::Http::Request& request() const { return request_; }
  const std::string& request_id() const { return request_id_; }
  const std::string& path() const { return request_.resource(); }
  const std::string& body() const { return request_.body(); }
  std::size_t max_body_bytes() const { return max_body_bytes_; }

  // Path parameters of the matched route ({name} segments).
  const std::string& param(const std::string& name) const { return params_.at(name); }
  void set_params(std::map<std::string, std::string> params) { params_ = std::move(params); }

  std::optional<std::string> query(const std::string& name) const;
  // The value of an incoming header (any header, registered with Pistache or not).
  std::optional<std::string> header(const std::string& name) const;

  // Throws 415 unless the body is declared as application/json (parameters allowed).
  void require_json_content_type() const;

  // The authenticated caller (nullopt on public routes without a token).
  const std::optional<Principal>& principal() const { return principal_; }
  void set_principal(Principal p) { principal_ = std::move(p); }
  // The matched route pattern ("/api/v1/transactions/{id}") for metrics.
  const std::string& route() const { return route_; }
  void set_route(std::string r) { route_ = std::move(r); }
  // The remote address (rate limiting, logs).
  std::string remote() const { return request_.address().host(); }

  // Headers every response of this request carries (CORS, rate limit); streaming handlers
  // write them themselves.
  std::vector<std::pair<std::string, std::string>>& common_headers() { return common_headers_; }

  // For streaming handlers: the writer of this request (nullptr when not available).
  Pistache::Http::ResponseWriter* writer() const { return writer_; }
  void set_writer(Pistache::Http::ResponseWriter* w) { writer_ = w; }

 private:
  const Pistache::Http::Request& request_;
  std::optional<Principal> principal_;
  std::string route_;
  std::vector<std::pair<std::string, std::string>> common_headers_;
  Pistache::Http::ResponseWriter* writer_ = nullptr;
  std::string request_id_;
  std::size_t max_body_bytes_;
  std::map<std::string, std::string> params_;
};

// A response header with a name chosen at run time (Pistache writes only typed headers).
class GenericHeader : public Pistache::Http::Header::Header {
 public:
  GenericHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  uint64_t hash() const override { return Pistache::Http::Header::detail::hash(name_.c_str()); }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string name_;
  std::string value_;
};

// The value of an incoming header (registered with Pistache or raw).
std::optional<std::string> header_value(const Pistache::Http::Request& request,
                                        const std::string& name);

// The incoming X-Request-Id if it is sane (1-128 of [A-Za-z0-9._:-]), else a new random id.
std::string request_id_for(const std::optional<std::string>& incoming);

// Parses a decimal integer in [min, max]; nullopt for anything else (signs, spaces, overflow).
std::optional<std::int64_t> parse_int(std::string_view s, std::int64_t min, std::int64_t max);

}  // namespace techmart::api
