// Routing and the handler wrapper.
//
// Pistache's Router runs middleware before the route lookup and nothing after the handler, and
// turns exceptions into a 500 with e.what() as the body. So the service routes by itself: one
// Http::Handler (ApiHandler) matches the route, runs the handler inside a wrapper that assigns the
// request id, turns every exception into problem+json, sets the common headers (X-Request-Id,
// Connection) and writes one JSON access-log line per request.
#pragma once

#include <pistache/http.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http.h"

namespace techmart::api {

using Handler = std::function<Response(RequestContext&)>;

class Router {
 public:
  // pattern: "/api/v1/transactions/{id}" - literal segments and {name} parameters.
  void add(Pistache::Http::Method method, const std::string& pattern, Handler handler);
  // Called for GET/HEAD requests that match no route (static files); may throw not_found.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }

  struct Match {
    const Handler* handler = nullptr;
    std::map<std::string, std::string> params;
    std::string allow;  // when the path matched but the method did not: "GET, POST"
  };
  Match match(Pistache::Http::Method method, const std::string& path) const;
  const Handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }

 private:
  struct Route {
    Pistache::Http::Method method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    int literals = 0;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

class ApiHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(ApiHandler)

  ApiHandler(std::shared_ptr<const Router> router, std::size_t max_body_bytes)
      : router_(std::move(router)), max_body_bytes_(max_body_bytes) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;
  void onTimeout(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;

 private:
  Response dispatch(RequestContext& ctx);

  std::shared_ptr<const Router> router_;
  std::size_t max_body_bytes_;
};

// Sends `response` with the common headers; returns the number of body bytes.
void send_response(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter& writer,
                   const std::string& request_id, const Response& response);

// A problem as a response (application/problem+json).
Response problem_response(const class Problem& problem, const std::string& instance,
                          const std::string& request_id);

}  // namespace techmart::api
