// Prometheus metrics (text exposition format 0.0.4), kept in memory.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace techmart::api {

class Metrics {
 public:
  // One finished request: route pattern (or "unmatched"), method, status, seconds.
  void observe(const std::string& route, const std::string& method, int status, double seconds);

  std::atomic<long> sse_clients{0};
  std::atomic<long> sse_events_sent{0};
  std::atomic<long> sse_metrics_events{0};
  std::atomic<long> rate_limited{0};
  // session tokens checked from the cache / by a query of api.session_state (sessions.h)
  std::atomic<long> session_cache_hits{0};
  std::atomic<long> session_cache_misses{0};
  // session tokens refused (signed out, disabled, role or password changed, account gone)
  std::atomic<long> sessions_refused{0};
  // live streams closed because their token's session ended
  std::atomic<long> sse_sessions_closed{0};

  // Extra gauges rendered at scrape time (pool usage, database up); set once at start-up.
  std::function<std::string()> extra;

  std::string render();

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
};

}  // namespace techmart::api
