// Service configuration, read once from the environment at start-up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace techmart::api {

struct Config {
  // libpq connection string or URI; empty means "use the PG* variables" (libpq reads them).
  std::string database_url;
  // TECHMART_READ_DATABASE_URL: a second pool (e.g. a hot standby) for the read-only endpoints
  // (lists, analytics, dashboard, CSV export); writes always go to database_url. Empty: one pool.
  std::string read_database_url;
  // TECHMART_READ_RETRY_MS: while the read database is unreachable, reads go to database_url and
  // it is probed this often; the first answer sends reads back (read_failover.h)
  std::chrono::milliseconds read_retry{2000};
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  int threads = 2;
  std::size_t db_pool_size = 4;
  std::size_t max_body_bytes = 65536;
  std::string static_dir;  // empty: no static files
  std::chrono::milliseconds db_acquire_timeout{2000};
  std::chrono::milliseconds db_statement_timeout{10000};
  int db_connect_timeout_s = 3;

  // TECHMART_ENV=development relaxes the JWT secret check and logs verification tokens.
  bool development = false;
  std::string jwt_secret;
  std::chrono::seconds jwt_ttl{3600};
  // a session token's account state (sessions.h) is cached at most this long; NOTIFY
  // techmart_sessions invalidates it at once, the TTL covers the time LISTEN is down. 0: no cache
  std::chrono::milliseconds session_cache_ttl{30000};
  // CORS: allowed origins ("*" = any); empty: no CORS headers
  std::vector<std::string> cors_origins;
  // per-client token bucket; rate 0 disables
  double rate_limit_rps = 50;
  double rate_limit_burst = 100;
  // login attempts per client (IP): bucket of login_burst refilled at login_per_minute
  double login_per_minute = 10;
  double login_burst = 5;
  // server-sent events
  std::size_t sse_max_clients = 100;
  int sse_heartbeat_s = 15;
  std::size_t sse_replay_max = 1000;
  // a `metrics` event (api.dashboard_overview()) at most this often after changes; 0 = off
  int sse_metrics_debounce_ms = 1000;
  // directory with openapi.json and the Swagger UI files (GET /openapi.json, /docs)
  std::string docs_dir;
  // concurrent CSV exports (each holds its own database connection)
  std::size_t export_max_concurrent = 2;
  // statement_timeout of the CSV export's COPY (its own connection); 0 = none. A stricter
  // timeout of the role or connection string (e.g. ALTER ROLE ... SET statement_timeout) wins.
  std::chrono::milliseconds export_statement_timeout{300000};
  // GET /fraud/backtest replays history (seconds to minutes on millions of transactions): its own
  // statement timeout (0 = none) and how many may run at once (each holds a pool connection and
  // an event-loop thread while it runs; more answer 503 with Retry-After)
  std::chrono::milliseconds backtest_statement_timeout{120000};
  std::size_t backtest_max_concurrent = 1;
  // techmart_ops.prometheus() (database-side figures in /metrics) is cached this long; 0 = off
  std::chrono::milliseconds db_metrics_cache{5000};
  // TECHMART_METRICS_TOKEN: when set, GET /metrics needs "Authorization: Bearer <this token>" (a
  // static scrape token, at least 16 characters) or an admin token; empty: /metrics is public
  std::string metrics_token;

  // Reads TECHMART_* variables; throws std::invalid_argument naming the bad variable.
  static Config from_env();
};

}  // namespace techmart::api
