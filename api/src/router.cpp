#include "router.h"

#include <pistache/peer.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <sstream>

#include "log.h"
#include "problem.h"
#include "sessions.h"
#include "sql_errors.h"

namespace techmart::api {
namespace Http = Pistache::Http;

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (path.empty() || path[0] != '/') return out;
  while (i < path.size()) {
    const std::size_t j = path.find('/', i + 1);
    out.push_back(path.substr(i + 1, (j == std::string::npos ? path.size() : j) - i - 1));
    i = j == std::string::npos ? path.size() : j;
  }
  return out;
}

bool is_param(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::add(Http::Method method, const std::string& pattern, Role min_role, Handler handler) {
  Route r{method, pattern, min_role, split_path(pattern), std::move(handler), 0};
  for (const auto& s : r.segments) r.literals += is_param(s) ? 0 : 1;
  routes_.push_back(std::move(r));
}

void Router::no_head(const std::string& pattern) {
  for (Route& r : routes_) {
    if (r.pattern == pattern && r.method == Http::Method::Get) r.head = false;
  }
}

Router::Match Router::match(Http::Method method, const std::string& path) const {
  Match m;
  const auto segs = split_path(path);
  // Among the routes whose pattern matches, the most specific (most literal segments) wins,
  // so "/transactions/recent" is never taken for "/transactions/{id}".
  int best = -1;
  std::vector<const Route*> candidates;
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      ok = is_param(r.segments[i]) ? !segs[i].empty() : r.segments[i] == segs[i];
    }
    if (!ok) continue;
    if (r.literals > best) {
      best = r.literals;
      candidates.clear();
    }
    if (r.literals == best) candidates.push_back(&r);
  }
  std::set<std::string> allowed;
  for (const Route* r : candidates) {
    // HEAD is GET without the body (send_response() leaves it out)
    if (r->method == method ||
        (method == Http::Method::Head && r->method == Http::Method::Get && r->head)) {
      m.handler = &r->handler;
      m.pattern = r->pattern;
      m.min_role = r->min_role;
      for (std::size_t i = 0; i < segs.size(); ++i) {
        if (is_param(r->segments[i])) {
          m.params[r->segments[i].substr(1, r->segments[i].size() - 2)] = segs[i];
        }
      }
      return m;
    }
    allowed.insert(Http::methodString(r->method));
    if (r->method == Http::Method::Get && r->head) allowed.insert("HEAD");
  }
  for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
  return m;
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const Route& r : routes_)
    out.push_back({Http::methodString(r.method), r.pattern, r.min_role});
  return out;
}

std::string Router::methods_for(const std::string& path) const {
  const auto m = match(Http::Method::Options, path);
  return m.allow;
}

Response problem_response(const Problem& problem, const std::string& instance,
                          const std::string& request_id) {
  Response r;
  r.status = problem.status();
  r.content_type = "application/problem+json";
  r.body = problem.body(instance, request_id);
  r.headers = problem.headers();
  return r;
}

void send_response(const Http::Request& request, Http::ResponseWriter& writer,
                   const std::string& request_id, const Response& response) {
  using Http::Header::Connection;
  // Pistache answers a request without a Connection header with "Connection: Close" yet keeps
  // the socket open. Say what really happens: HTTP/1.1 keeps the connection alive unless the
  // client asked to close; HTTP/1.0 closes unless the client asked for keep-alive. When closing,
  // half-close the socket after the response so the client sees EOF.
  bool close = request.version() == Http::Version::Http10;
  if (auto c = request.headers().tryGet<Connection>()) {
    if (c->control() == Http::ConnectionControl::Close) close = true;
    if (c->control() == Http::ConnectionControl::KeepAlive) close = false;
  }
  auto& headers = writer.headers();
  headers.remove<Connection>();
  headers.add(std::make_shared<GenericHeader>("Connection", close ? "close" : "keep-alive"));
  headers.add(std::make_shared<GenericHeader>("X-Request-Id", request_id));
  if (!response.body.empty() || response.status != 204) {
    headers.add(std::make_shared<GenericHeader>("Content-Type", response.content_type));
  }
  for (const auto& [name, value] : response.headers) {
    headers.add(std::make_shared<GenericHeader>(name, value));
  }
  if (request.method() == Http::Method::Head) {
    // The GET response's status line and headers, its Content-Length, and no body (RFC 9110
    // 9.3.2). Pistache's send() would write the body and a Content-Length of what it sends.
    std::string head = std::string(Http::versionString(request.version())) + " " +
                       std::to_string(response.status) + " " +
                       Http::codeString(static_cast<Http::Code>(response.status)) + "\r\n";
    for (const auto& h : headers.list()) {
      std::ostringstream value;
      h->write(value);
      head += std::string(h->name()) + ": " + value.str() + "\r\n";
    }
    head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
    auto peer = writer.getPeer();
    if (!peer) return;
    peer->setIdle(true);  // as send() does: the request is answered
    std::weak_ptr<Pistache::Tcp::Peer> weak = peer;
    peer->send(Pistache::RawBuffer(head, head.size()))
        .then(
            [weak, close](ssize_t) {
              if (auto p = weak.lock(); p && close) ::shutdown(p->fd(), SHUT_WR);
            },
            [](std::exception_ptr) {});
    return;
  }
  auto sent = writer.send(static_cast<Http::Code>(response.status), response.body);
  if (close) {
    std::weak_ptr<Pistache::Tcp::Peer> peer = writer.getPeer();
    sent.then(
        [peer](ssize_t) {
          if (auto p = peer.lock()) ::shutdown(p->fd(), SHUT_WR);
        },
        [](std::exception_ptr) {});
  }
}

namespace {

// a == b without an early exit on the first difference (the scrape token is a secret)
bool same_secret(const std::string& a, const std::string& b) {
  if (a.empty() || a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

std::string bearer_token(const RequestContext& ctx) {
  const auto auth = ctx.header("Authorization");
  if (auth) {
    const std::string& a = *auth;
    // the scheme is case-insensitive (RFC 9110 11.1: "BEARER" too), then 1*SP; the field value
    // has no leading or trailing whitespace (RFC 9110 5.5)
    static const std::string scheme = "bearer ";
    if (a.size() > scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), a.begin(), [](char s, char c) {
          return s == std::tolower(static_cast<unsigned char>(c));
        })) {
      std::string t = a.substr(scheme.size());
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.erase(t.begin());
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
      return t;
    }
    return std::string(1, '\0');  // present but not a bearer token
  }
  return "";
}

Problem unauthorized(std::string detail) {
  return Problem(401, "unauthorized", "Unauthorized", std::move(detail))
      .with_header("WWW-Authenticate", "Bearer realm=\"techmart\"");
}

}  // namespace

void ApiHandler::add_cors(RequestContext& ctx) const {
  if (services_.cors_origins.empty()) return;
  const auto origin = ctx.header("Origin");
  if (!origin) return;
  bool any = false, ok = false;
  for (const auto& o : services_.cors_origins) {
    if (o == "*") any = true;
    if (o == *origin) ok = true;
  }
  if (!ok && !any) return;
  auto& h = ctx.common_headers();
  h.emplace_back("Access-Control-Allow-Origin", ok ? *origin : "*");
  if (ok) h.emplace_back("Vary", "Origin");
  h.emplace_back("Access-Control-Expose-Headers",
                 "Location, X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
                 "X-RateLimit-Reset, Idempotent-Replayed");
}

Response ApiHandler::preflight(RequestContext& ctx) const {
  Response r;
  r.status = 204;
  const std::string methods = router_->methods_for(ctx.path());
  if (methods.empty()) throw problems::not_found("No resource at " + ctx.path() + ".");
  bool cors = false;
  for (const auto& [k, v] : ctx.common_headers()) cors = cors || k == "Access-Control-Allow-Origin";
  r.headers.emplace_back("Allow", methods + ", OPTIONS");
  if (cors) {
    r.headers.emplace_back("Access-Control-Allow-Methods", methods + ", OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers",
                           "Authorization, Content-Type, Idempotency-Key, X-Request-Id, "
                           "Last-Event-ID");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return r;
}

Response ApiHandler::dispatch(RequestContext& ctx) {
  const auto& req = ctx.request();
  add_cors(ctx);
  if (req.method() == Http::Method::Options) {
    ctx.set_route("OPTIONS");
    return preflight(ctx);
  }
  if (req.body().size() > services_.max_body_bytes) {
    throw problems::payload_too_large(services_.max_body_bytes);
  }
  Router::Match m = router_->match(req.method(), req.resource());
  if (m.handler) {
    ctx.set_route(m.pattern);
    ctx.set_params(std::move(m.params));
    // Authentication: a token, when sent, must be valid even on public routes.
    std::string token = bearer_token(ctx);
    // GET /metrics with TECHMART_METRICS_TOKEN: the static scrape token (no JWT) or an admin token
    const bool metrics_guarded = m.pattern == "/metrics" && !services_.metrics_token.empty();
    bool scrape_token = false;
    if (metrics_guarded && same_secret(token, services_.metrics_token)) {
      scrape_token = true;
      token.clear();
    }
    if (token.empty() && m.min_role != Role::Public && m.pattern == "/api/v1/stream") {
      // EventSource cannot send headers: the stream accepts ?access_token=
      if (auto q = ctx.query("access_token")) token = *q;
    }
    if (!token.empty()) {
      if (!services_.jwt || token[0] == '\0') {
        throw unauthorized("The Authorization header must be 'Bearer <token>'.");
      }
      std::string why;
      auto p = services_.jwt->verify(token, why);
      if (!p) throw unauthorized("The bearer token is not valid: " + why + ".");
      // a session token: its account must exist, be active and still have its version
      if (services_.sessions) {
        const std::string refused = services_.sessions->check(*p);
        if (!refused.empty()) {
          if (services_.metrics) ++services_.metrics->sessions_refused;
          throw unauthorized("The bearer token is no longer valid: " + refused + ".");
        }
      }
      ctx.set_principal(std::move(*p));
    }
    if (metrics_guarded && !scrape_token) {
      if (!ctx.principal()) {
        throw unauthorized(
            "GET /metrics needs the scrape token (TECHMART_METRICS_TOKEN) or an admin token.");
      }
      if (ctx.principal()->role != Role::Admin) {
        throw Problem(403, "forbidden", "Forbidden",
                      std::string("GET /metrics needs the scrape token or the role admin; the "
                                  "token has ") +
                          role_name(ctx.principal()->role) + ".");
      }
    }
    if (m.min_role != Role::Public) {
      if (!ctx.principal()) {
        throw unauthorized("This endpoint needs a bearer token (POST /api/v1/auth/login).");
      }
      if (static_cast<int>(ctx.principal()->role) < static_cast<int>(m.min_role)) {
        throw Problem(403, "forbidden", "Forbidden",
                      std::string("This endpoint needs the role ") + role_name(m.min_role) +
                          " or higher; the token has " + role_name(ctx.principal()->role) + ".");
      }
    }
    // Rate limiting per client: the user when authenticated, else the remote address.
    if (services_.limiter && services_.limiter->enabled() &&
        m.pattern.compare(0, 8, "/api/v1/") == 0) {
      const std::string client =
          ctx.principal() ? "u:" + std::to_string(ctx.principal()->user_id) : "ip:" + ctx.remote();
      const auto d = services_.limiter->take(client);
      auto& h = ctx.common_headers();
      h.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
      h.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
      h.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_s));
      if (!d.allowed) {
        if (services_.metrics) ++services_.metrics->rate_limited;
        throw Problem(429, "rate-limited", "Too Many Requests",
                      "Too many requests from this client; retry after " +
                          std::to_string(d.retry_after_s) + " s.")
            .with_header("Retry-After", std::to_string(d.retry_after_s));
      }
    }
    return (*m.handler)(ctx);
  }
  if (!m.allow.empty()) throw problems::method_not_allowed(m.allow);
  if (router_->fallback() &&
      (req.method() == Http::Method::Get || req.method() == Http::Method::Head)) {
    ctx.set_route("static");
    return (*router_->fallback())(ctx);
  }
  throw problems::not_found("No resource at " + req.resource() + ".");
}

void ApiHandler::onRequest(const Http::Request& request, Http::ResponseWriter writer) {
  const auto start = std::chrono::steady_clock::now();
  std::string request_id = "-";
  std::string route = "unmatched";
  std::string user;
  int status = 500;
  std::size_t bytes = 0;
  try {
    request_id = request_id_for(header_value(request, "X-Request-Id"));
    RequestContext ctx(request, request_id, services_.max_body_bytes);
    ctx.set_writer(&writer);
    Response response;
    try {
      response = dispatch(ctx);
    } catch (...) {
      response = problem_response(problem_from_exception(std::current_exception(), request_id),
                                  request.resource(), request_id);
    }
    if (!ctx.route().empty()) route = ctx.route();
    if (ctx.principal()) user = std::to_string(ctx.principal()->user_id);
    status = response.status;
    bytes = response.body.size();
    if (!response.streamed) {
      for (auto& h : ctx.common_headers()) response.headers.push_back(h);
      // API answers carry customers' and accounts' data: no cache (a browser's disk cache, a
      // proxy) may keep them. Static files and /health set their own policy.
      if (request.resource().rfind("/api/", 0) == 0 &&
          std::none_of(response.headers.begin(), response.headers.end(), [](const auto& h) {
            return strcasecmp(h.first.c_str(), "Cache-Control") == 0;
          })) {
        response.headers.emplace_back("Cache-Control", "no-store");
      }
      send_response(request, writer, request_id, response);
    }
  } catch (const std::exception& e) {
    log::error("failed to send response", {{"request_id", request_id}, {"error", e.what()}});
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  try {
    if (services_.metrics) {
      services_.metrics->observe(route, Http::methodString(request.method()), status, secs);
    }
    log::info("request",
              {{"request_id", request_id},
               {"method", Http::methodString(request.method())},
               {"path", request.resource()},
               {"route", route},
               {"status", status},
               {"duration_ms", static_cast<double>(static_cast<long long>(secs * 1e6)) / 1000},
               {"bytes_in", request.body().size()},
               {"bytes_out", bytes},
               {"user", user},
               {"remote", request.address().host()}});
  } catch (...) {
    // logging must never take the server down
  }
}

void ApiHandler::onTimeout(const Http::Request& request, Http::ResponseWriter writer) {
  const std::string request_id = request_id_for(std::nullopt);
  try {
    Problem p(408, "request-timeout", "Request Timeout",
              "The request was not received completely in time.");
    send_response(request, writer, request_id, problem_response(p, request.resource(), request_id));
    log::info("request",
              {{"request_id", request_id}, {"status", 408}, {"path", request.resource()}});
  } catch (...) {
  }
}

namespace {
// peer data key: a request on this connection was refused before parsing completed
constexpr const char* kRejected = "techmart.rejected";
}  // namespace

void ApiHandler::onInput(const char* buffer, std::size_t len,
                         const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // The rest of a refused request (e.g. the remainder of an oversized body) is dropped.
  if (peer->tryGetData(kRejected)) return;
  auto parser = getParser(peer);
  auto& request = parser->request;
  try {
    if (!parser->feed(buffer, len)) {
      parser->reset();
      throw Http::HttpError(Http::Code::Request_Entity_Too_Large, "");
    }
    if (parser->parse() == Http::Private::State::Done) {
      Http::ResponseWriter response(request.version(), transport(), this, peer);
      request.copyAddress(peer->address());
      // as Pistache does; send_response() then says what really happens
      auto connection = request.headers().tryGet<Http::Header::Connection>();
      response.headers().add<Http::Header::Connection>(connection ? connection->control()
                                                                  : Http::ConnectionControl::Close);
      peer->setIdle(false);
      onRequest(request, std::move(response));
      parser->reset();
    }
  } catch (const Http::HttpError& err) {
    const Http::Version version = request.version();
    parser->reset();
    if (err.code() == static_cast<int>(Http::Code::Request_Entity_Too_Large)) {
      reject_unparsed(peer, version,
                      Problem(413, "payload-too-large", "Payload Too Large",
                              "The request exceeds " + std::to_string(getMaxRequestSize()) +
                                  " bytes (headers and body; the body limit is " +
                                  std::to_string(services_.max_body_bytes) + " bytes)."));
    } else {
      reject_unparsed(peer, version,
                      Problem(400, "bad-request", "Bad Request",
                              "The request is not valid HTTP: " + err.reason() + "."));
    }
  } catch (const std::exception& e) {
    // onRequest() catches everything itself: this came from parsing the request
    const Http::Version version = request.version();
    parser->reset();
    log::warn("unparsable request", {{"error", e.what()}});
    reject_unparsed(peer, version,
                    Problem(400, "bad-request", "Bad Request", "The request is not valid HTTP."));
  }
}

void ApiHandler::reject_unparsed(const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                                 Http::Version version, const Problem& problem) {
  const std::string request_id = request_id_for(std::nullopt);
  try {
    peer->putData(kRejected, std::make_shared<bool>(true));
    Http::ResponseWriter writer(version, transport(), this, peer);
    const Response response = problem_response(problem, "", request_id);
    auto& headers = writer.headers();
    headers.add(std::make_shared<GenericHeader>("Connection", "close"));
    headers.add(std::make_shared<GenericHeader>("X-Request-Id", request_id));
    headers.add(std::make_shared<GenericHeader>("Content-Type", response.content_type));
    std::weak_ptr<Pistache::Tcp::Peer> weak = peer;
    writer.send(static_cast<Http::Code>(response.status), response.body)
        .then(
            [weak](ssize_t) {
              if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
            },
            [](std::exception_ptr) {});
    if (services_.metrics) services_.metrics->observe("unparsed", "-", problem.status(), 0);
    log::info("request", {{"request_id", request_id},
                          {"route", "unparsed"},
                          {"status", problem.status()},
                          {"remote", peer->address().host()}});
  } catch (...) {
    // nothing more can be done for this connection
  }
}

}  // namespace techmart::api
