// Per-client token buckets (in memory, sharded). A client is the authenticated user if there
// is one, else the remote address.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace techmart::api {

class RateLimiter {
 public:
  // rate tokens per second, burst = bucket size; rate <= 0 disables the limiter
  RateLimiter(double rate, double burst);

  struct Decision {
    bool allowed = true;
    long limit = 0;          // bucket size
    long remaining = 0;      // whole tokens left after this request
    long reset_s = 0;        // seconds until the bucket is full again
    long retry_after_s = 0;  // when refused: seconds until one token is there
  };

  bool enabled() const { return rate_ > 0; }
  Decision take(const std::string& client);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    std::chrono::steady_clock::time_point last_sweep{};
  };
  double rate_;
  double burst_;
  std::vector<Shard> shards_;
};

}  // namespace techmart::api
