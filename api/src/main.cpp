// techmart-api: the REST service. Configuration comes from the environment (see config.h and
// api/README.md); logs go to stderr, one JSON object per line.
//
//   techmart-api                      run the service
//   techmart-api token --role R [--user-id N] [--email E] [--ttl SECONDS]
//                                     print a JWT signed with TECHMART_JWT_SECRET (local use): an
//                                     operator token (claim kind "operator"), not a session of the
//                                     account: sign-out and account changes do not end it
//   techmart-api routes [--json]      print every route: method, pattern, least role (--json:
//                                     also the query parameters of the query-parameter routes)
//
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when the server cannot start (e.g.
// the port is taken), 2 for invalid configuration.
#include <pistache/endpoint.h>
#include <pistache/net.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/nontransaction>
#include <string>

#include "auth.h"
#include "config.h"
#include "db_pool.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "problem.h"
#include "query_routes.h"
#include "rate_limit.h"
#include "router.h"
#include "sessions.h"
#include "sse.h"
#include "static_files.h"

using namespace techmart::api;

namespace {

// The JWT secret: refused when weak unless TECHMART_ENV=development.
bool check_secret(const Config& config) {
  const std::string weakness = Jwt::weakness(config.jwt_secret);
  if (weakness.empty()) return true;
  if (config.development) {
    log::warn("weak JWT secret accepted in development mode", {{"reason", weakness}});
    return true;
  }
  log::error("invalid configuration",
             {{"error", weakness + " (set a random secret of at least 32 bytes, or "
                                   "TECHMART_ENV=development for local use)"},
              {"variable", "TECHMART_JWT_SECRET"}});
  return false;
}

// A whole number in [min, max] (all of the text), else nothing: atol read "abc" and "1h" as 0
// and 1, and a token with --ttl abc expired at once without a word.
std::optional<long long> whole_number(const std::string& v, long long min, long long max) {
  if (v.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || end != v.c_str() + v.size() || n < min || n > max) return std::nullopt;
  return n;
}

int cmd_token(const Config& config, int argc, char** argv) {
  Principal p;
  p.role = Role::Viewer;
  long ttl = static_cast<long>(config.jwt_ttl.count());
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--role" && !v.empty()) {
      const auto r = parse_role(v);
      if (!r) {
        std::cerr << "--role must be viewer, analyst or admin\n";
        return 2;
      }
      p.role = *r;
      ++i;
    } else if (a == "--user-id" && !v.empty()) {
      const auto n = whole_number(v, 0, std::numeric_limits<long long>::max());
      if (!n) {
        std::cerr << "--user-id must be a whole number >= 0\n";
        return 2;
      }
      p.user_id = *n;
      ++i;
    } else if (a == "--email" && !v.empty()) {
      p.email = v;
      ++i;
    } else if (a == "--ttl" && !v.empty()) {
      const auto n = whole_number(v, 1, 10L * 365 * 24 * 3600);
      if (!n) {
        std::cerr << "--ttl must be a whole number of seconds, 1 .. 315360000\n";
        return 2;
      }
      ttl = static_cast<long>(*n);
      ++i;
    } else {
      std::cerr << "usage: techmart-api token --role viewer|analyst|admin [--user-id N] "
                   "[--email E] [--ttl SECONDS]\n";
      return 2;
    }
  }
  if (!check_secret(config)) return 2;
  Jwt jwt(config.jwt_secret, config.jwt_ttl);
  std::cout << jwt.sign(p, std::chrono::seconds(ttl)) << "\n";
  return 0;
}

// The route table as JSON: [{method, path, role, query: [{name, type, minimum, maximum, enum,
// description}] | null}] (query is null for routes outside query_routes()).
std::string routes_json(const Router& router) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& r : router.routes()) {
    w.StartObject();
    w.Key("method");
    w.String(r.method.c_str());
    w.Key("path");
    w.String(r.pattern.c_str());
    w.Key("role");
    w.String(role_name(r.min_role));
    w.Key("query");
    const QueryRoute* q = nullptr;
    for (const auto& x : query_routes()) {
      if (r.method == "GET" && r.pattern == "/api/v1" + x.path) q = &x;
    }
    if (!q) {
      w.Null();
    } else {
      w.StartArray();
      for (const auto& p : q->params) {
        w.StartObject();
        w.Key("name");
        w.String(p.name.c_str());
        w.Key("type");
        w.String(query_kind_name(p.kind));
        if (p.kind == QueryKind::Integer || p.kind == QueryKind::Number) {
          w.Key("minimum");
          w.Double(p.min);
          w.Key("maximum");
          w.Double(p.max);
        }
        if (!p.values.empty()) {
          w.Key("enum");
          w.StartArray();
          for (const auto& v : p.values) w.String(v.c_str());
          w.EndArray();
        }
        w.Key("description");
        w.String(p.description.c_str());
        w.EndObject();
      }
      w.EndArray();
      w.Key("summary");
      w.String(q->summary.c_str());
    }
    w.EndObject();
  }
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

int main(int argc, char** argv) {
  // A client that disconnects mid-write must not kill the process.
  ::signal(SIGPIPE, SIG_IGN);
  // Block the shutdown signals before any thread starts; the main thread sigwait()s for them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  Config config;
  std::unique_ptr<StaticFiles> static_files;
  std::unique_ptr<StaticFiles> docs;
  try {
    config = Config::from_env();
    if (!config.static_dir.empty()) static_files = std::make_unique<StaticFiles>(config.static_dir);
    if (!config.docs_dir.empty()) {
      try {
        docs = std::make_unique<StaticFiles>(config.docs_dir);
      } catch (const std::exception& e) {
        log::warn("API documentation not available",
                  {{"docs_dir", config.docs_dir}, {"error", e.what()}});
      }
    }
  } catch (const std::exception& e) {
    log::error("invalid configuration", {{"error", e.what()}});
    return 2;
  }

  if (argc > 1 && std::strcmp(argv[1], "token") == 0) return cmd_token(config, argc, argv);

  // libpq reads these when the connection string does not set them.
  ::setenv("PGCONNECT_TIMEOUT", std::to_string(config.db_connect_timeout_s).c_str(), 0);
  ::setenv("PGAPPNAME", "techmart-api", 0);

  Metrics metrics;
  Jwt jwt(config.jwt_secret, config.jwt_ttl);
  PoolOptions pool_options;
  pool_options.conninfo = config.database_url;
  pool_options.size = config.db_pool_size;
  pool_options.statements = Endpoints::statements();
  pool_options.session_setup = {"SET statement_timeout = " +
                                std::to_string(config.db_statement_timeout.count())};
  Pool pool(pool_options);
  // TECHMART_READ_DATABASE_URL: the read-only endpoints get their own pool (e.g. on a hot
  // standby), named techmart-api-read in pg_stat_activity; writes stay on `pool`.
  std::unique_ptr<Pool> read_pool;
  if (!config.read_database_url.empty()) {
    PoolOptions read_options = pool_options;
    read_options.conninfo = config.read_database_url;
    read_options.session_setup.push_back("SET application_name = 'techmart-api-read'");
    read_pool = std::make_unique<Pool>(read_options);
  }
  // reads fall back to the primary while the read database is unreachable (read_failover.h)
  std::unique_ptr<ReadFailover> read_failover;
  if (read_pool) read_failover = std::make_unique<ReadFailover>(*read_pool, config.read_retry);
  // session tokens checked against their account, cached (sessions.h); always on the primary
  Sessions sessions(pool, config.session_cache_ttl, config.db_acquire_timeout, &metrics);
  Stream stream(config, pool, metrics, &sessions);

  auto router = std::make_shared<Router>();
  Endpoints endpoints(pool, read_pool ? *read_pool : pool, config, jwt, metrics, &stream,
                      read_failover.get(), &sessions);
  endpoints.register_routes(*router);
  router->add(Pistache::Http::Method::Get, "/openapi.json", [&docs](RequestContext&) {
    if (!docs) throw problems::not_found("The API documentation was not built.");
    Response r = docs->serve_path("/openapi.json");
    r.content_type = "application/json";
    return r;
  });
  router->add(Pistache::Http::Method::Get, "/docs", [&docs](RequestContext&) {
    if (!docs) throw problems::not_found("The API documentation was not built.");
    return docs->serve_path("/index.html");
  });
  router->add(Pistache::Http::Method::Get, "/docs/{file}", [&docs](RequestContext& ctx) {
    if (!docs) throw problems::not_found("The API documentation was not built.");
    return docs->serve_path("/" + ctx.param("file"));
  });
  if (static_files) {
    router->set_fallback([&static_files](RequestContext& ctx) { return static_files->serve(ctx); });
  }

  if (argc > 2 && std::strcmp(argv[1], "routes") == 0 && std::strcmp(argv[2], "--json") == 0) {
    std::cout << routes_json(*router) << "\n";
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "routes") == 0) {
    for (const auto& r : router->routes()) {
      std::cout << r.method << " " << r.pattern << " " << role_name(r.min_role) << "\n";
    }
    return 0;
  }
  if (argc > 1) {
    std::cerr << "usage: techmart-api [token --role R | routes [--json]]\n";
    return 2;
  }
  if (!check_secret(config)) return 2;

  // Database-side figures (techmart_ops.prometheus(): alerts, rules fired, scoring time) from
  // the primary, cached for TECHMART_DB_METRICS_CACHE_MS so that scrapes do not load the database.
  struct DbMetricsCache {
    std::mutex mutex;
    std::string text;
    std::chrono::steady_clock::time_point at{};
    bool valid = false;
  };
  auto db_metrics = std::make_shared<DbMetricsCache>();
  auto database_metrics = [&pool, &config, db_metrics]() -> std::string {
    std::lock_guard<std::mutex> lock(db_metrics->mutex);
    const auto now = std::chrono::steady_clock::now();
    if (db_metrics->valid && config.db_metrics_cache.count() > 0 &&
        now - db_metrics->at < config.db_metrics_cache) {
      return db_metrics->text;
    }
    int ok = 0;
    try {
      db_metrics->text =
          pool.with_connection(std::chrono::milliseconds(500), [](pqxx::connection& c) {
            pqxx::nontransaction tx(c);
            const pqxx::result r = tx.exec_prepared("ops_prometheus");
            return r.empty() || r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
          });
      db_metrics->at = now;
      db_metrics->valid = true;
      ok = 1;
    } catch (const std::exception& e) {
      log::warn("database metrics unavailable", {{"error", e.what()}});
      db_metrics->valid = false;
      db_metrics->text.clear();
    }
    return db_metrics->text +
           "# HELP techmart_db_metrics_ok 1 when techmart_ops.prometheus() answered (cached).\n"
           "# TYPE techmart_db_metrics_ok gauge\ntechmart_db_metrics_ok " +
           std::to_string(ok || db_metrics->valid ? 1 : 0) + "\n";
  };

  metrics.extra = [&pool, &read_pool, &read_failover, database_metrics]() {
    const auto s = pool.stats();
    std::string o;
    o += "# HELP techmart_db_pool_size Pooled database connections.\n"
         "# TYPE techmart_db_pool_size gauge\ntechmart_db_pool_size " +
         std::to_string(s.size) + "\n";
    o += "# HELP techmart_db_pool_in_use Pooled connections leased right now.\n"
         "# TYPE techmart_db_pool_in_use gauge\ntechmart_db_pool_in_use " +
         std::to_string(s.in_use) + "\n";
    o += "# HELP techmart_db_pool_idle Idle pooled connections holding a live session.\n"
         "# TYPE techmart_db_pool_idle gauge\ntechmart_db_pool_idle " +
         std::to_string(s.idle_connected) + "\n";
    // up: a connection could be leased and answered a trivial query within 500 ms
    int up = 0;
    try {
      pool.with_connection(std::chrono::milliseconds(500), [](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec_prepared("health");
        return 0;
      });
      up = 1;
    } catch (...) {
    }
    o += "# HELP techmart_db_up 1 when the database answered the scrape's health query.\n"
         "# TYPE techmart_db_up gauge\ntechmart_db_up " +
         std::to_string(up) + "\n";
    if (read_pool) {
      const auto rs = read_pool->stats();
      o += "# HELP techmart_db_read_pool_size Pooled connections to TECHMART_READ_DATABASE_URL.\n"
           "# TYPE techmart_db_read_pool_size gauge\ntechmart_db_read_pool_size " +
           std::to_string(rs.size) + "\n";
      o += "# HELP techmart_db_read_pool_in_use Read pool connections leased right now.\n"
           "# TYPE techmart_db_read_pool_in_use gauge\ntechmart_db_read_pool_in_use " +
           std::to_string(rs.in_use) + "\n";
      o += "# HELP techmart_db_read_database_up 1 while reads go to TECHMART_READ_DATABASE_URL, 0 "
           "while it is unreachable and reads fall back to the primary.\n"
           "# TYPE techmart_db_read_database_up gauge\ntechmart_db_read_database_up " +
           std::to_string(read_failover->use_replica() ? 1 : 0) + "\n";
      o += "# HELP techmart_db_read_fallback_total Reads served by the primary because the read "
           "database was unreachable.\n"
           "# TYPE techmart_db_read_fallback_total counter\ntechmart_db_read_fallback_total " +
           std::to_string(read_failover->fallbacks()) + "\n";
    }
    if (up) o += database_metrics();
    return o;
  };

  if (read_pool) read_pool->warm_up();
  pool.warm_up();  // a database that is down now is not fatal: requests get 503 until it is up
  stream.start();

  HandlerServices services;
  services.max_body_bytes = config.max_body_bytes;
  services.jwt = &jwt;
  services.sessions = &sessions;
  RateLimiter limiter(config.rate_limit_rps, config.rate_limit_burst);
  services.limiter = &limiter;
  services.metrics = &metrics;
  services.cors_origins = config.cors_origins;
  services.metrics_token = config.metrics_token;

  try {
    Pistache::Http::Endpoint server(Pistache::Address(config.address, Pistache::Port(config.port)));
    auto opts = Pistache::Http::Endpoint::options()
                    .threads(config.threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    // The body limit is enforced by the handler wrapper (413 problem+json); the
                    // parser's buffer allows for the request line and headers on top of it.
                    .maxRequestSize(config.max_body_bytes + 16 * 1024);
    server.init(opts);
    server.setHandler(std::make_shared<ApiHandler>(router, services));
    server.serveThreaded();

    const auto stats = pool.stats();
    log::info("listening", {{"address", config.address},
                            {"port", static_cast<int>(static_cast<uint16_t>(server.getPort()))},
                            {"threads", config.threads},
                            {"db_pool_size", config.db_pool_size},
                            {"read_database", !config.read_database_url.empty()},
                            {"db_connected", stats.idle_connected},
                            {"max_body_bytes", config.max_body_bytes},
                            {"static_dir", config.static_dir},
                            {"docs", docs != nullptr},
                            {"environment", config.development ? "development" : "production"},
                            {"rate_limit_rps", config.rate_limit_rps},
                            {"metrics_public", config.metrics_token.empty()}});

    int sig = 0;
    sigwait(&shutdown_signals, &sig);
    log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    stream.stop();
    server.shutdown();
  } catch (const std::exception& e) {
    log::error("server failed", {{"error", e.what()}});
    stream.stop();
    return 1;
  }
  log::info("stopped");
  return 0;
}
