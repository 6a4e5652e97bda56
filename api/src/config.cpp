#include "config.h"

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

}  // namespace

Config Config::from_env() {
  Config c;
  c.database_url = env("TECHMART_DATABASE_URL");
  if (const std::string a = env("TECHMART_API_ADDRESS"); !a.empty()) c.address = a;
  c.port = static_cast<std::uint16_t>(env_int("TECHMART_API_PORT", 8080, 0, 65535));
  c.threads = static_cast<int>(env_int("TECHMART_API_THREADS", 2, 1, 256));
  c.db_pool_size = static_cast<std::size_t>(env_int("TECHMART_DB_POOL_SIZE", 4, 1, 1000));
  c.max_body_bytes =
      static_cast<std::size_t>(env_int("TECHMART_MAX_BODY_BYTES", 65536, 1024, 64 * 1024 * 1024));
  c.static_dir = env("TECHMART_STATIC_DIR");
  c.db_acquire_timeout =
      std::chrono::milliseconds(env_int("TECHMART_DB_ACQUIRE_TIMEOUT_MS", 2000, 1, 600000));
  c.db_statement_timeout =
      std::chrono::milliseconds(env_int("TECHMART_DB_STATEMENT_TIMEOUT_MS", 10000, 0, 86400000));
  c.db_connect_timeout_s = static_cast<int>(env_int("TECHMART_DB_CONNECT_TIMEOUT_S", 3, 1, 600));
  return c;
}

}  // namespace techmart::api
