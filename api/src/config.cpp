#include "config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace techmart::api {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

long long env_int(const char* name, long long def, long long min, long long max) {
  const std::string v = env(name);
  if (v.empty()) return def;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end == v.c_str() || *end != '\0' || n < min || n > max) {
    throw std::invalid_argument(std::string(name) + " must be an integer between " +
                                std::to_string(min) + " and " + std::to_string(max) + ", got '" +
                                v + "'");
  }
  return n;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    i = j + 1;
  }
  return out;
}

}  // namespace

Config Config::from_env() {
  Config c;
  c.database_url = env("TECHMART_DATABASE_URL");
  c.read_database_url = env("TECHMART_READ_DATABASE_URL");
  c.read_retry = std::chrono::milliseconds(env_int("TECHMART_READ_RETRY_MS", 2000, 50, 3600000));
  if (const std::string a = env("TECHMART_API_ADDRESS"); !a.empty()) c.address = a;
  c.port = static_cast<std::uint16_t>(env_int("TECHMART_API_PORT", 8080, 0, 65535));
  c.threads = static_cast<int>(env_int("TECHMART_API_THREADS", 8, 1, 256));
  c.db_pool_size = static_cast<std::size_t>(env_int("TECHMART_DB_POOL_SIZE", 8, 1, 1000));
  c.max_body_bytes =
      static_cast<std::size_t>(env_int("TECHMART_MAX_BODY_BYTES", 65536, 1024, 64 * 1024 * 1024));
  c.static_dir = env("TECHMART_STATIC_DIR");
  c.db_acquire_timeout =
      std::chrono::milliseconds(env_int("TECHMART_DB_ACQUIRE_TIMEOUT_MS", 2000, 1, 600000));
  c.db_statement_timeout =
      std::chrono::milliseconds(env_int("TECHMART_DB_STATEMENT_TIMEOUT_MS", 10000, 0, 86400000));
  c.db_connect_timeout_s = static_cast<int>(env_int("TECHMART_DB_CONNECT_TIMEOUT_S", 3, 1, 600));
  const std::string env_name = env("TECHMART_ENV");
  if (!env_name.empty() && env_name != "development" && env_name != "production") {
    throw std::invalid_argument("TECHMART_ENV must be development or production, got '" + env_name +
                                "'");
  }
  c.development = env_name == "development";
  c.jwt_secret = env("TECHMART_JWT_SECRET");
  c.jwt_ttl = std::chrono::seconds(env_int("TECHMART_JWT_TTL_S", 3600, 60, 30 * 86400));
  c.session_cache_ttl =
      std::chrono::milliseconds(env_int("TECHMART_SESSION_CACHE_TTL_MS", 30000, 0, 3600000));
  for (const std::string& o : split(env("TECHMART_CORS_ORIGINS"))) c.cors_origins.push_back(o);
  c.rate_limit_rps = static_cast<double>(env_int("TECHMART_RATE_LIMIT_RPS", 50, 0, 1000000));
  c.rate_limit_burst = static_cast<double>(env_int(
      "TECHMART_RATE_LIMIT_BURST", static_cast<long long>(c.rate_limit_rps * 2), 1, 10000000));
  c.login_per_minute = static_cast<double>(env_int("TECHMART_LOGIN_PER_MINUTE", 10, 0, 100000));
  c.login_burst = static_cast<double>(env_int("TECHMART_LOGIN_BURST", 5, 1, 100000));
  c.sse_max_clients = static_cast<std::size_t>(env_int("TECHMART_SSE_MAX_CLIENTS", 100, 1, 100000));
  c.sse_heartbeat_s = static_cast<int>(env_int("TECHMART_SSE_HEARTBEAT_S", 15, 1, 3600));
  c.sse_replay_max = static_cast<std::size_t>(env_int("TECHMART_SSE_REPLAY_MAX", 1000, 0, 100000));
  c.sse_metrics_debounce_ms =
      static_cast<int>(env_int("TECHMART_SSE_METRICS_DEBOUNCE_MS", 1000, 0, 600000));
  c.docs_dir = env("TECHMART_DOCS_DIR");
  c.export_max_concurrent =
      static_cast<std::size_t>(env_int("TECHMART_EXPORT_MAX_CONCURRENT", 2, 1, 64));
  // the export's own timeout; else the API's statement timeout when that one was set explicitly;
  // else 5 minutes (exports are long by nature)
  c.export_statement_timeout = std::chrono::milliseconds(env_int(
      "TECHMART_EXPORT_STATEMENT_TIMEOUT_MS",
      env("TECHMART_DB_STATEMENT_TIMEOUT_MS").empty() ? 300000 : c.db_statement_timeout.count(), 0,
      86400000));
  c.backtest_statement_timeout = std::chrono::milliseconds(
      env_int("TECHMART_BACKTEST_STATEMENT_TIMEOUT_MS", 120000, 0, 86400000));
  c.backtest_max_concurrent =
      static_cast<std::size_t>(env_int("TECHMART_BACKTEST_MAX_CONCURRENT", 1, 1, 64));
  c.db_metrics_cache =
      std::chrono::milliseconds(env_int("TECHMART_DB_METRICS_CACHE_MS", 5000, 0, 3600000));
  c.metrics_token = env("TECHMART_METRICS_TOKEN");
  if (!c.metrics_token.empty() &&
      (c.metrics_token.size() < 16 ||
       !std::all_of(c.metrics_token.begin(), c.metrics_token.end(),
                    [](unsigned char ch) { return ch >= 0x21 && ch <= 0x7e; }))) {
    throw std::invalid_argument(
        "TECHMART_METRICS_TOKEN must be at least 16 visible ASCII characters (unset: /metrics is "
        "public)");
  }
  return c;
}

}  // namespace techmart::api
