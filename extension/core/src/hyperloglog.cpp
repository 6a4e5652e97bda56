#include "techmart/core/hyperloglog.hpp"

#include <cmath>
#include <stdexcept>

namespace techmart::core {

std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

namespace {
constexpr std::uint8_t kDense = 1;
constexpr std::uint8_t kSparse = 2;

[[noreturn]] void bad(const char* what) {
  throw std::invalid_argument(std::string("invalid hyperloglog: ") + what);
}

double sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, z_old;
  do {
    x *= x;
    z_old = z;
    z += x * y;
    y += y;
  } while (z != z_old);
  return z;
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, z_old;
  do {
    x = std::sqrt(x);
    z_old = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != z_old);
  return z / 3.0;
}
}  // namespace

HyperLogLog::HyperLogLog(int precision) : p_(precision) {
  if (precision < kMinPrecision || precision > kMaxPrecision) {
    throw std::invalid_argument("hyperloglog precision must be between 4 and 16");
  }
  reg_.assign(std::size_t{1} << precision, 0);
}

void HyperLogLog::add_hash(std::uint64_t hash) noexcept {
  const std::size_t idx = static_cast<std::size_t>(hash >> (64 - p_));
  // remaining 64 - p bits; a sentinel bit bounds the rank at 64 - p + 1
  const std::uint64_t w = (hash << p_) | (std::uint64_t{1} << (p_ - 1));
  const auto rank = static_cast<std::uint8_t>(__builtin_clzll(w) + 1);
  if (rank > reg_[idx]) reg_[idx] = rank;
}

void HyperLogLog::merge(const HyperLogLog& other) {
  if (other.p_ != p_)
    throw std::invalid_argument("cannot merge hyperloglogs of different precision");
  for (std::size_t i = 0; i < reg_.size(); ++i) {
    if (other.reg_[i] > reg_[i]) reg_[i] = other.reg_[i];
  }
}

double HyperLogLog::estimate() const {
  const int q = 64 - p_;
  std::vector<std::uint32_t> hist(static_cast<std::size_t>(q) + 2, 0);
  for (std::uint8_t r : reg_) ++hist[r];
  const double m = static_cast<double>(reg_.size());
  if (hist[0] == reg_.size()) return 0.0;
  double z = m * tau(1.0 - hist[static_cast<std::size_t>(q) + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + hist[static_cast<std::size_t>(k)]);
  z += m * sigma(hist[0] / m);
  const double alpha_inf = 1.0 / (2.0 * std::log(2.0));
  return alpha_inf * m * m / z;
}

std::string HyperLogLog::serialize() const {
  std::size_t nonzero = 0;
  for (std::uint8_t r : reg_) nonzero += (r != 0);
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(p_));
  if (nonzero * 3 < reg_.size()) {
    out.push_back(static_cast<char>(kSparse));
    out.reserve(3 + 3 * nonzero);
    for (std::size_t i = 0; i < reg_.size(); ++i) {
      if (reg_[i] == 0) continue;
      out.push_back(static_cast<char>(i & 0xFF));
      out.push_back(static_cast<char>((i >> 8) & 0xFF));
      out.push_back(static_cast<char>(reg_[i]));
    }
  } else {
    out.push_back(static_cast<char>(kDense));
    out.append(reinterpret_cast<const char*>(reg_.data()), reg_.size());
  }
  return out;
}

HyperLogLog HyperLogLog::deserialize(const void* data, std::size_t size) {
  if (size < 3 || data == nullptr) bad("truncated");
  const auto* b = static_cast<const unsigned char*>(data);
  if (b[0] != kFormatVersion) bad("unknown format version");
  const int p = b[1];
  if (p < kMinPrecision || p > kMaxPrecision) bad("precision out of range");
  HyperLogLog h(p);
  const std::size_t m = h.reg_.size();
  const auto max_rank = static_cast<std::uint8_t>(64 - p + 1);
  const unsigned char* body = b + 3;
  const std::size_t len = size - 3;
  if (b[2] == kDense) {
    if (len != m) bad("wrong register count");
    for (std::size_t i = 0; i < m; ++i) {
      if (body[i] > max_rank) bad("register value out of range");
      h.reg_[i] = body[i];
    }
  } else if (b[2] == kSparse) {
    if (len % 3 != 0 || len / 3 > m) bad("malformed sparse registers");
    long prev = -1;
    for (std::size_t k = 0; k < len; k += 3) {
      const long idx = static_cast<long>(body[k]) | (static_cast<long>(body[k + 1]) << 8);
      const std::uint8_t v = body[k + 2];
      if (idx <= prev || static_cast<std::size_t>(idx) >= m)
        bad("sparse index out of order or range");
      if (v == 0 || v > max_rank) bad("register value out of range");
      h.reg_[static_cast<std::size_t>(idx)] = v;
      prev = idx;
    }
  } else {
    bad("unknown encoding");
  }
  return h;
}

}  // namespace techmart::core
