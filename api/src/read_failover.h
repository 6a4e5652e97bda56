// Reads on TECHMART_READ_DATABASE_URL with fallback to the primary (docs/scaling.md §1).
//
// While the read database answers, the read-only endpoints run there. When it cannot be reached
// (connect refused or timed out, connection lost, server shutting down or not yet accepting
// connections: Pool::is_connection_failure / DatabaseUnavailable, but not a pool that is merely
// busy), the failed read is run again on the primary and the read database is marked down: reads
// go straight to the primary (no request waits on the dead server) and a probe thread tries the
// read database every `retry` interval; its first success sends reads back. Both transitions are
// logged once ("read database unavailable; reads fall back to the primary" / "read database
// reachable again; reads go back to it"); /metrics shows techmart_db_read_database_up and
// techmart_db_read_fallback_total. Reads are idempotent, so running one again is safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "db_pool.h"

namespace techmart::api {

class ReadFailover {
 public:
  // probe: runs a trivial statement on a leased connection of `replica` (throws when it fails)
  ReadFailover(Pool& replica, std::chrono::milliseconds retry);
  ~ReadFailover();
  ReadFailover(const ReadFailover&) = delete;
  ReadFailover& operator=(const ReadFailover&) = delete;

  // true: try the read database; false: it is down, use the primary
  bool use_replica() const { return up_.load(std::memory_order_acquire); }
  // a read on the read database failed with a connection-level error: mark it down (logged once)
  void failed(const std::string& error);
  // a read was served by the primary instead of the read database
  void count_fallback() { fallbacks_.fetch_add(1, std::memory_order_relaxed); }

  std::uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }

  // true for the exceptions that mean the read database is unreachable (call in a catch block)
  static bool is_unreachable(const std::exception_ptr& e);

 private:
  void probe_loop();

  Pool& replica_;
  std::chrono::milliseconds retry_;
  std::atomic<bool> up_{true};
  std::atomic<std::uint64_t> fallbacks_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread probe_;
};

}  // namespace techmart::api
