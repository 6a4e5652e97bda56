#include "rate_limit.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace techmart::api {

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)), shards_(16) {}

RateLimiter::Decision RateLimiter::take(const std::string& client) {
  Decision d;
  d.limit = static_cast<long>(burst_);
  if (!enabled()) {
    d.remaining = d.limit;
    return d;
  }
  const auto now = std::chrono::steady_clock::now();
  Shard& s = shards_[std::hash<std::string>{}(client) % shards_.size()];
  std::lock_guard<std::mutex> lock(s.mutex);
  // Forget buckets that have been full for a while (bounded memory under many clients).
  if (now - s.last_sweep > std::chrono::seconds(60)) {
    s.last_sweep = now;
    const double full_after = burst_ / rate_;
    for (auto it = s.buckets.begin(); it != s.buckets.end();) {
      if (std::chrono::duration<double>(now - it->second.at).count() > full_after + 60) {
        it = s.buckets.erase(it);
      } else {
        ++it;
      }
    }
  }
  auto [it, inserted] = s.buckets.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_s = std::max(1L, static_cast<long>(std::ceil((1.0 - b.tokens) / rate_)));
  }
  d.remaining = static_cast<long>(std::floor(b.tokens));
  d.reset_s = static_cast<long>(std::ceil((burst_ - b.tokens) / rate_));
  return d;
}

}  // namespace techmart::api
