// A fixed-size pool of libpqxx connections (libpqxx 6.4 has none).
//
// * Connections live in slots behind a mutex + condition variable; acquire() hands out an RAII
//   Lease and gives up after a timeout (DatabaseUnavailable, mapped to 503).
// * Statements are prepared on every new connection, so handlers only call exec_prepared().
// * The pool survives the database going away: a slot whose connection broke (or whose socket
//   shows the server hung up while it sat idle) is dropped and reconnected lazily on the next
//   acquire. Failed connects are rate-limited by a short back-off so that a down database costs
//   each request one fast 503, never a hang. The pool never relies on libpqxx's own silent
//   reactivation.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace techmart::api {

// The database cannot serve the request now (pool exhausted, connect failed, connection lost).
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// No pooled connection became free in time: the database is up but every slot is busy.
class PoolExhausted : public DatabaseUnavailable {
 public:
  using DatabaseUnavailable::DatabaseUnavailable;
};

struct PoolOptions {
  std::string conninfo;  // empty: libpq uses the PG* environment variables
  std::size_t size = 4;
  // after a failed connect, new connects wait this long, doubling per failure up to the max
  std::chrono::milliseconds reconnect_backoff{250};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  // name -> SQL, prepared on every connection
  std::vector<std::pair<std::string, std::string>> statements;
  // run once on every new connection (e.g. SET statement_timeout = ...)
  std::vector<std::string> session_setup;
};

struct PoolStats {
  std::size_t size = 0;
  std::size_t in_use = 0;
  std::size_t idle_connected = 0;  // free slots holding a connection
};

class Pool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    pqxx::connection& conn();
    // The connection is unusable: drop it when the lease ends (the slot reconnects later).
    void mark_broken() { broken_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::size_t slot) : pool_(pool), slot_(slot) {}
    Pool* pool_;
    std::size_t slot_;
    bool broken_ = false;
  };

  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits up to `timeout` for a free slot and makes sure it holds a live connection.
  // Throws DatabaseUnavailable when no slot frees up in time or the database cannot be reached.
  Lease acquire(std::chrono::milliseconds timeout);

  // Runs f(pqxx::connection&) on a leased connection. Connection-level failures (broken
  // connection, SQLSTATE class 08, server shutting down) drop the connection and rethrow.
  template <typename F>
  auto with_connection(std::chrono::milliseconds timeout, F&& f) {
    Lease lease = acquire(timeout);
    try {
      return f(lease.conn());
    } catch (...) {
      if (is_connection_failure(std::current_exception())) lease.mark_broken();
      throw;
    }
  }

  // Connects every empty slot now (at start-up); failures are logged, not thrown.
  void warm_up();

  PoolStats stats();

  // True for exceptions that mean "this connection is gone".
  static bool is_connection_failure(const std::exception_ptr& e);

 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> conn;
    bool busy = false;
  };

  std::unique_ptr<pqxx::connection> connect();
  void release(std::size_t slot, bool broken);
  static bool looks_alive(pqxx::connection& c);

  PoolOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  std::chrono::steady_clock::time_point last_connect_failure_{};
  std::string last_connect_error_;
  std::chrono::milliseconds current_backoff_{0};
};

}  // namespace techmart::api
