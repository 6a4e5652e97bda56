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

#include "auth.h"
#include "http.h"
#include "metrics.h"
#include "rate_limit.h"

namespace techmart::api {

class Sessions;

using Handler = std::function<Response(RequestContext&)>;

class Router {
 public:
  // pattern: "/api/v1/transactions/{id}" - literal segments and {name} parameters.
  // min_role: the least role that may call it (Role::Public: no token needed).
  void add(Pistache::Http::Method method, const std::string& pattern, Role min_role,
           Handler handler);
  void add(Pistache::Http::Method method, const std::string& pattern, Handler handler) {
    add(method, pattern, Role::Public, std::move(handler));
  }
  // The GET routes whose handler streams its response itself (SSE, CSV export): no HEAD for
  // them. Every other GET route answers HEAD with the GET response's headers and no body.
  void no_head(const std::string& pattern);
  // Called for GET/HEAD requests that match no route (static files); may throw not_found.
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }

  struct Match {
    const Handler* handler = nullptr;
    std::string pattern;
    Role min_role = Role::Public;
    std::map<std::string, std::string> params;
    std::string allow;  // when the path matched but the method did not: "GET, POST"
  };
  Match match(Pistache::Http::Method method, const std::string& path) const;
  const Handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }

  struct RouteInfo {
    std::string method;
    std::string pattern;
    Role min_role;
  };
  std::vector<RouteInfo> routes() const;
  // the methods registered for a path (for CORS preflight), "" when none
  std::string methods_for(const std::string& path) const;

 private:
  struct Route {
    Pistache::Http::Method method;
    std::string pattern;
    Role min_role;
    std::vector<std::string> segments;
    Handler handler;
    int literals = 0;
    bool head = true;  // a GET route that answers HEAD too
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

// What the wrapper needs besides the router. Pointers may be null (feature off).
struct HandlerServices {
  std::size_t max_body_bytes = 65536;
  const Jwt* jwt = nullptr;
  // session tokens are checked against their account (sessions.h); null: not checked
  Sessions* sessions = nullptr;
  RateLimiter* limiter = nullptr;
  Metrics* metrics = nullptr;
  std::vector<std::string> cors_origins;  // "*" allows any origin
  // non-empty: GET /metrics needs "Bearer <metrics_token>" or an admin token
  // (TECHMART_METRICS_TOKEN)
  std::string metrics_token;
};

class ApiHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(ApiHandler)

  ApiHandler(std::shared_ptr<const Router> router, std::size_t max_body_bytes)
      : router_(std::move(router)) {
    services_.max_body_bytes = max_body_bytes;
  }
  ApiHandler(std::shared_ptr<const Router> router, HandlerServices services)
      : router_(std::move(router)), services_(std::move(services)) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;
  void onTimeout(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;

 private:
  // Replaces Pistache's (private, virtual) Http::Handler::onInput with the same steps, so that
  // what Pistache would answer in plain text itself - a request beyond the parser buffer (413),
  // an unparsable request line, header or Content-Length (400) - is problem+json instead. After
  // such an answer the connection is closed and the rest of its input ignored.
  void onInput(const char* buffer, std::size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void reject_unparsed(const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                       Pistache::Http::Version version, const class Problem& problem);

  Response dispatch(RequestContext& ctx);
  // CORS headers for this request's Origin (none when not allowed or not configured)
  void add_cors(RequestContext& ctx) const;
  Response preflight(RequestContext& ctx) const;

  std::shared_ptr<const Router> router_;
  HandlerServices services_;
};

// Sends `response` with the common headers; returns the number of body bytes.
void send_response(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter& writer,
                   const std::string& request_id, const Response& response);

// A problem as a response (application/problem+json).
Response problem_response(const class Problem& problem, const std::string& instance,
                          const std::string& request_id);

}  // namespace techmart::api
