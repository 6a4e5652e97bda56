#include "read_failover.h"

#include <pqxx/nontransaction>

#include "log.h"

namespace techmart::api {

ReadFailover::ReadFailover(Pool& replica, std::chrono::milliseconds retry)
    : replica_(replica), retry_(retry), probe_([this] { probe_loop(); }) {}

ReadFailover::~ReadFailover() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  probe_.join();
}

bool ReadFailover::is_unreachable(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const PoolExhausted&) {
    return false;  // up but busy: the primary is no remedy for our own pool size
  } catch (const DatabaseUnavailable&) {
    return true;
  } catch (...) {
    return Pool::is_connection_failure(e);
  }
}

void ReadFailover::failed(const std::string& error) {
  bool was_up = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_up = up_.exchange(false, std::memory_order_acq_rel);
  }
  if (was_up) {
    log::warn("read database unavailable; reads fall back to the primary",
              {{"error", error}, {"retry_ms", static_cast<long long>(retry_.count())}});
    cv_.notify_all();
  }
}

void ReadFailover::probe_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    // sleep until marked down (or stopped), then probe every retry_ while down
    cv_.wait(lock, [this] { return stop_ || !up_.load(std::memory_order_acquire); });
    if (stop_) break;
    if (cv_.wait_for(lock, retry_, [this] { return stop_; })) break;
    lock.unlock();
    bool ok = false;
    std::string error;
    try {
      replica_.with_connection(std::chrono::milliseconds(1000), [](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec("SELECT 1");
        return 0;
      });
      ok = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (ok && !up_.load(std::memory_order_acquire)) {
      up_.store(true, std::memory_order_release);
      log::info("read database reachable again; reads go back to it",
                {{"fallback_reads", static_cast<long long>(fallbacks())}});
    }
  }
}

}  // namespace techmart::api
