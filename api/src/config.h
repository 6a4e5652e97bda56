// Service configuration, read once from the environment at start-up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace techmart::api {

struct Config {
  // libpq connection string or URI; empty means "use the PG* variables" (libpq reads them).
  std::string database_url;
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  int threads = 2;
  std::size_t db_pool_size = 4;
  std::size_t max_body_bytes = 65536;
  std::string static_dir;  // empty: no static files
  std::chrono::milliseconds db_acquire_timeout{2000};
  std::chrono::milliseconds db_statement_timeout{10000};
  int db_connect_timeout_s = 3;

  // Reads TECHMART_* variables; throws std::invalid_argument naming the bad variable.
  static Config from_env();
};

}  // namespace techmart::api
