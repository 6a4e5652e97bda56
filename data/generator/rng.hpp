// Portable, deterministic random numbers for techmart-gen.
//
// Everything here uses only integer arithmetic and IEEE-754 +, -, *, /, sqrt, floor, frexp and
// ldexp, which are exactly specified, so the same seed yields the same bits with any conforming
// compiler and standard library (the build also turns floating-point contraction off). The
// standard <random> distributions and libm's exp/log are deliberately not used: their results
// differ between implementations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace techmart::gen {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stable hash of a seed and a list of integers (used to derive independent streams and
// stable per-entity values such as device ids, IP addresses and payment fingerprints).
template <typename... T>
uint64_t hash_of(uint64_t seed, T... values) {
  uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  ((h = mix64(h ^ mix64(static_cast<uint64_t>(values) + 0x632be59bd9b4e019ULL))), ...);
  return h;
}

// Deterministic elementary functions (see the header comment).
double det_exp(double x);
double det_log(double x);  // x > 0

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      w = mix64(seed);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // uniform in [0, 1)
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // uniform in (0, 1)
  double uniform_pos() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection)
  uint64_t below(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // uniform integer in [lo, hi]
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool chance(double p) { return uniform() < p; }
  // standard normal (Marsaglia's polar method)
  double normal();
  double lognormal(double median, double sigma) { return median * det_exp(sigma * normal()); }
  // Pareto with scale xm and shape alpha
  double pareto(double xm, double alpha) { return xm * det_exp(-det_log(uniform_pos()) / alpha); }
  // index drawn from non-negative weights (linear scan; for short lists)
  size_t pick(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    double u = uniform() * total;
    size_t last = 0;
    for (size_t i = 0; i < n; ++i) {
      if (weights[i] <= 0) continue;
      if (u < weights[i]) return i;
      u -= weights[i];
      last = i;
    }
    return last;  // rounding: the last positive weight
  }
  template <size_t N>
  size_t pick(const double (&weights)[N]) {
    return pick(weights, N);
  }
  size_t pick(const std::vector<double>& weights) { return pick(weights.data(), weights.size()); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Walker/Vose alias table: O(1) sampling from a fixed discrete distribution.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  size_t size() const { return prob_.size(); }
  size_t sample(Rng& rng) const {
    const size_t i = static_cast<size_t>(rng.below(prob_.size()));
    return rng.uniform() < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

// Splits `total` into integer parts proportional to `weights` (largest remainder, ties by index).
std::vector<uint64_t> apportion(uint64_t total, const std::vector<double>& weights);

}  // namespace techmart::gen
