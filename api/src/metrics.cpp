#include "metrics.h"

#include <sstream>

namespace techmart::api {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

}  // namespace

void Metrics::observe(const std::string& route, const std::string& method, int status,
                      double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[{route, method}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::render() {
  std::ostringstream o;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    o << "# HELP techmart_http_requests_total HTTP requests by route, method and status.\n"
         "# TYPE techmart_http_requests_total counter\n";
    for (const auto& [k, n] : requests_) {
      o << "techmart_http_requests_total{route=\"" << esc(std::get<0>(k)) << "\",method=\""
        << std::get<1>(k) << "\",status=\"" << std::get<2>(k) << "\"} " << n << "\n";
    }
    o << "# HELP techmart_http_request_duration_seconds Request latency by route and method.\n"
         "# TYPE techmart_http_request_duration_seconds histogram\n";
    for (const auto& [k, h] : latency_) {
      const std::string labels = "route=\"" + esc(k.first) + "\",method=\"" + k.second + "\"";
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        o << "techmart_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
          << "\"} " << h.counts[i] << "\n";
      }
      o << "techmart_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
      o << "techmart_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
      o << "techmart_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
    }
  }
  o << "# HELP techmart_sse_clients Connected server-sent-event clients.\n"
       "# TYPE techmart_sse_clients gauge\n"
       "techmart_sse_clients "
    << sse_clients.load() << "\n";
  o << "# HELP techmart_sse_events_sent_total Events written to SSE clients.\n"
       "# TYPE techmart_sse_events_sent_total counter\n"
       "techmart_sse_events_sent_total "
    << sse_events_sent.load() << "\n";
  o << "# HELP techmart_sse_metrics_events_total Overview metrics events broadcast on the stream.\n"
       "# TYPE techmart_sse_metrics_events_total counter\n"
       "techmart_sse_metrics_events_total "
    << sse_metrics_events.load() << "\n";
  o << "# HELP techmart_rate_limited_total Requests refused with 429.\n"
       "# TYPE techmart_rate_limited_total counter\n"
       "techmart_rate_limited_total "
    << rate_limited.load() << "\n";
  o << "# HELP techmart_session_cache_hits_total Session tokens checked from the in-memory cache.\n"
       "# TYPE techmart_session_cache_hits_total counter\n"
       "techmart_session_cache_hits_total "
    << session_cache_hits.load() << "\n";
  o << "# HELP techmart_session_cache_misses_total Session tokens checked by a query of "
       "api.session_state.\n"
       "# TYPE techmart_session_cache_misses_total counter\n"
       "techmart_session_cache_misses_total "
    << session_cache_misses.load() << "\n";
  o << "# HELP techmart_sessions_refused_total Session tokens refused (401): signed out, disabled, "
       "role or password changed, account gone.\n"
       "# TYPE techmart_sessions_refused_total counter\n"
       "techmart_sessions_refused_total "
    << sessions_refused.load() << "\n";
  o << "# HELP techmart_sse_sessions_closed_total Live streams closed because their session "
       "ended.\n"
       "# TYPE techmart_sse_sessions_closed_total counter\n"
       "techmart_sse_sessions_closed_total "
    << sse_sessions_closed.load() << "\n";
  if (extra) o << extra();
  return o.str();
}

}  // namespace techmart::api
