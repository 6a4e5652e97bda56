// bench/fraud/histogram_overhead.sh: ns per observation of the scoring latency histogram's hot path
// (extension/pg/metrics.cpp): two CLOCK_MONOTONIC reads, bucket_of(), two atomic adds on shared
// counters; 1 thread, and 2 threads adding to the same counters in a tight loop (worst case).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include "techmart/core/latency_histogram.hpp"
namespace lat = techmart::core::latency;
static std::atomic<unsigned long long> counts[lat::kBuckets], sum_ns;
static unsigned long long clock_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static void work(long n) {
  for (long i = 0; i < n; ++i) {
    const auto t0 = clock_ns();
    const auto d = clock_ns() - t0;
    counts[lat::bucket_of(d)].fetch_add(1);
    sum_ns.fetch_add(d);
  }
}
int main() {
  const long n = 5000000;
  for (int threads : {1, 2}) {
    const auto a = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back(work, n);
    for (auto& t : ts) t.join();
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - a).count() / n;
    std::printf("%d thread(s): %.1f ns per observation (wall per thread's observation)\n", threads,
                ns);
  }
}
