#include "router.h"

#include <pistache/peer.h>
#include <sys/socket.h>

#include <chrono>
#include <set>

#include "log.h"
#include "problem.h"
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

void Router::add(Http::Method method, const std::string& pattern, Handler handler) {
  Route r{method, pattern, split_path(pattern), std::move(handler), 0};
  for (const auto& s : r.segments) r.literals += is_param(s) ? 0 : 1;
  routes_.push_back(std::move(r));
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
    if (r->method == method) {
      m.handler = &r->handler;
      for (std::size_t i = 0; i < segs.size(); ++i) {
        if (is_param(r->segments[i])) {
          m.params[r->segments[i].substr(1, r->segments[i].size() - 2)] = segs[i];
        }
      }
      return m;
    }
    allowed.insert(Http::methodString(r->method));
  }
  for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
  return m;
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

Response ApiHandler::dispatch(RequestContext& ctx) {
  const auto& req = ctx.request();
  if (req.body().size() > max_body_bytes_) throw problems::payload_too_large(max_body_bytes_);
  Router::Match m = router_->match(req.method(), req.resource());
  if (m.handler) {
    ctx.set_params(std::move(m.params));
    return (*m.handler)(ctx);
  }
  if (!m.allow.empty()) throw problems::method_not_allowed(m.allow);
  if (router_->fallback() &&
      (req.method() == Http::Method::Get || req.method() == Http::Method::Head)) {
    return (*router_->fallback())(ctx);
  }
  throw problems::not_found("No resource at " + req.resource() + ".");
}

void ApiHandler::onRequest(const Http::Request& request, Http::ResponseWriter writer) {
  const auto start = std::chrono::steady_clock::now();
  std::string request_id = "-";
  int status = 500;
  std::size_t bytes = 0;
  try {
    request_id = request_id_for(header_value(request, "X-Request-Id"));
    RequestContext ctx(request, request_id, max_body_bytes_);
    Response response;
    try {
      response = dispatch(ctx);
    } catch (...) {
      response = problem_response(problem_from_exception(std::current_exception(), request_id),
                                  request.resource(), request_id);
    }
    status = response.status;
    bytes = response.body.size();
    send_response(request, writer, request_id, response);
  } catch (const std::exception& e) {
    log::error("failed to send response", {{"request_id", request_id}, {"error", e.what()}});
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  try {
    log::info("request",
              {{"request_id", request_id},
               {"method", Http::methodString(request.method())},
               {"path", request.resource()},
               {"status", status},
               {"duration_ms", static_cast<double>(static_cast<long long>(ms * 1000)) / 1000},
               {"bytes_in", request.body().size()},
               {"bytes_out", bytes},
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

}  // namespace techmart::api
