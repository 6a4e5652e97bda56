// techmart-api: the REST service. Configuration comes from the environment (see config.h and
// api/README.md); logs go to stderr, one JSON object per line.
//
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when the server cannot start (e.g.
// the port is taken), 2 for invalid configuration.
#include <pistache/endpoint.h>
#include <pistache/net.h>
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "config.h"
#include "db_pool.h"
#include "handlers.h"
#include "log.h"
#include "router.h"
#include "static_files.h"

using namespace techmart::api;

int main() {
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
  try {
    config = Config::from_env();
    if (!config.static_dir.empty()) static_files = std::make_unique<StaticFiles>(config.static_dir);
  } catch (const std::exception& e) {
    log::error("invalid configuration", {{"error", e.what()}});
    return 2;
  }

  // libpq reads these when the connection string does not set them.
  ::setenv("PGCONNECT_TIMEOUT", std::to_string(config.db_connect_timeout_s).c_str(), 0);
  ::setenv("PGAPPNAME", "techmart-api", 0);

  PoolOptions pool_options;
  pool_options.conninfo = config.database_url;
  pool_options.size = config.db_pool_size;
  pool_options.statements = Endpoints::statements();
  pool_options.session_setup = {"SET statement_timeout = " +
                                std::to_string(config.db_statement_timeout.count())};
  Pool pool(pool_options);
  pool.warm_up();  // a database that is down now is not fatal: requests get 503 until it is up

  auto router = std::make_shared<Router>();
  Endpoints endpoints(pool, config.db_acquire_timeout);
  endpoints.register_routes(*router);
  if (static_files) {
    router->set_fallback([&static_files](RequestContext& ctx) { return static_files->serve(ctx); });
  }

  try {
    Pistache::Http::Endpoint server(Pistache::Address(config.address, Pistache::Port(config.port)));
    auto opts = Pistache::Http::Endpoint::options()
                    .threads(config.threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    // The body limit is enforced by the handler wrapper (413 problem+json); the
                    // parser's buffer allows for the request line and headers on top of it.
                    .maxRequestSize(config.max_body_bytes + 16 * 1024);
    server.init(opts);
    server.setHandler(std::make_shared<ApiHandler>(router, config.max_body_bytes));
    server.serveThreaded();

    const auto stats = pool.stats();
    log::info("listening", {{"address", config.address},
                            {"port", static_cast<int>(static_cast<uint16_t>(server.getPort()))},
                            {"threads", config.threads},
                            {"db_pool_size", config.db_pool_size},
                            {"db_connected", stats.idle_connected},
                            {"max_body_bytes", config.max_body_bytes},
                            {"static_dir", config.static_dir}});

    int sig = 0;
    sigwait(&shutdown_signals, &sig);
    log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    server.shutdown();
  } catch (const std::exception& e) {
    log::error("server failed", {{"error", e.what()}});
    return 1;
  }
  log::info("stopped");
  return 0;
}
