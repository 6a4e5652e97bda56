#include "db_pool.h"

#include <poll.h>

#include <algorithm>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "log.h"

namespace techmart::api {

Pool::Lease::~Lease() {
  if (pool_) pool_->release(slot_, broken_);
}

pqxx::connection& Pool::Lease::conn() { return *pool_->slots_[slot_].conn; }

Pool::Pool(PoolOptions options) : options_(std::move(options)), slots_(options_.size) {}

Pool::~Pool() = default;

bool Pool::is_connection_failure(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::broken_connection&) {
    return true;
  } catch (const pqxx::sql_error& s) {
    const std::string& st = s.sqlstate();
    // 08: connection exception; 57P01..03: admin/crash shutdown, cannot connect now
    return st.rfind("08", 0) == 0 || st == "57P01" || st == "57P02" || st == "57P03";
  } catch (...) {
    return false;
  }
}

// An idle pooled connection has nothing to read. If its socket is readable or hung up, the
// server has closed it (typically after a restart: FATAL 57P01 followed by EOF).
bool Pool::looks_alive(pqxx::connection& c) {
  if (!c.is_open()) return false;
  const int fd = c.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const int r = ::poll(&p, 1, 0);
  if (r < 0) return false;
  return r == 0;
}

std::unique_ptr<pqxx::connection> Pool::connect() {
  auto c = std::make_unique<pqxx::connection>(options_.conninfo);
  for (const auto& [name, sql] : options_.statements) c->prepare(name, sql);
  if (!options_.session_setup.empty()) {
    pqxx::nontransaction tx(*c);
    for (const std::string& sql : options_.session_setup) tx.exec(sql);
  }
  return c;
}

Pool::Lease Pool::acquire(std::chrono::milliseconds timeout) {
  std::size_t slot = 0;
  bool need_connect = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Prefer a free slot that is already connected, else any free slot.
    auto find_free = [&]() -> bool {
      bool found = false;
      for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].busy) continue;
        if (slots_[i].conn) {
          slot = i;
          return true;
        }
        if (!found) {
          slot = i;
          found = true;
        }
      }
      return found;
    };
    if (!cv_.wait_for(lock, timeout, find_free)) {
      throw PoolExhausted("no database connection became free within " +
                          std::to_string(timeout.count()) + " ms");
    }
    slots_[slot].busy = true;
    need_connect = !slots_[slot].conn;
    if (need_connect &&
        std::chrono::steady_clock::now() - last_connect_failure_ < options_.reconnect_backoff) {
      slots_[slot].busy = false;
      cv_.notify_one();
      throw DatabaseUnavailable("database unreachable (retrying shortly): " + last_connect_error_);
    }
  }
  Lease lease(this, slot);
  // The slot is ours: check or (re)connect outside the lock.
  Slot& s = slots_[slot];
  if (!need_connect && !looks_alive(*s.conn)) {
    log::warn("database connection lost; reconnecting", {{"slot", slot}});
    s.conn.reset();
    need_connect = true;
  }
  if (need_connect) {
    try {
      s.conn = connect();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        current_backoff_ = std::chrono::milliseconds(0);
      }
      log::info("database connection established", {{"slot", slot}});
    } catch (const std::exception& e) {
      std::string msg = e.what();
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        const bool first =
            last_connect_error_ != msg ||
            std::chrono::steady_clock::now() - last_connect_failure_ > std::chrono::seconds(10);
        last_connect_failure_ = std::chrono::steady_clock::now();
        current_backoff_ = current_backoff_.count() == 0
                               ? options_.reconnect_backoff
                               : std::min(current_backoff_ * 2, options_.reconnect_backoff_max);
        last_connect_error_ = msg;
        if (first) log::warn("database connect failed", {{"slot", slot}, {"error", msg}});
      }
      s.conn.reset();
      throw DatabaseUnavailable("database unreachable: " + msg);
    }
  }
  return lease;
}

void Pool::release(std::size_t slot, bool broken) {
  std::unique_ptr<pqxx::connection> dead;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot& s = slots_[slot];
    if (broken || (s.conn && !s.conn->is_open())) dead = std::move(s.conn);
    s.busy = false;
  }
  cv_.notify_one();
  // `dead` closes outside the lock.
}

void Pool::warm_up() {
  std::vector<Lease> leases;
  try {
    for (std::size_t i = 0; i < slots_.size(); ++i)
      leases.push_back(acquire(std::chrono::seconds(1)));
  } catch (const DatabaseUnavailable&) {
    // logged by acquire(); the slots connect lazily later
  }
}

PoolStats Pool::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  PoolStats st;
  st.size = slots_.size();
  for (const Slot& s : slots_) {
    if (s.busy) {
      ++st.in_use;  // a busy slot's connection belongs to its lease; do not look at it
    } else if (s.conn) {
      ++st.idle_connected;
    }
  }
  return st;
}

}  // namespace techmart::api
