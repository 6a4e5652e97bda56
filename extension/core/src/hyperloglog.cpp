#include "techmart/core/hyperloglog.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
}

namespace {
constexpr std::uint32_t entry(std::size_t idx, std::uint8_t rank) {
  return (static_cast<std::uint32_t>(idx) << 8) | rank;
}
constexpr std::size_t entry_index(std::uint32_t e) { return e >> 8; }
constexpr std::uint8_t entry_rank(std::uint32_t e) { return static_cast<std::uint8_t>(e & 0xFF); }
constexpr std::size_t kMinLimit = 64;

// a[i] = max(a[i], b[i]) over n bytes: 16 at a time with SSE2 (pmaxub; GCC's -O2 does not
// vectorise the loop itself), the rest byte by byte
void max_into(std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(a + i), _mm_max_epu8(x, y));
  }
#endif
  for (; i < n; ++i) a[i] = std::max(a[i], b[i]);
}

// the largest of n bytes (SSE2, 16 at a time)
std::uint8_t max_byte(const std::uint8_t* a, std::size_t n) {
  std::size_t i = 0;
  std::uint8_t m = 0;
#if defined(__SSE2__)
  __m128i acc = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    acc = _mm_max_epu8(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
  }
  alignas(16) std::uint8_t lanes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), acc);
  for (std::uint8_t v : lanes) m = std::max(m, v);
#endif
  for (; i < n; ++i) m = std::max(m, a[i]);
  return m;
}

// the number of non-zero bytes among n
std::size_t count_nonzero(const std::uint8_t* a, std::size_t n) {
  std::size_t i = 0, zeros = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i eq =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)), zero);
    zeros +=
        static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(eq))));
  }
#endif
  for (; i < n; ++i) zeros += (a[i] == 0);
  return n - zeros;
}

// histogram of n register values (< 64) into hist: four interleaved tables, so that runs of equal
// values do not wait on one counter
void histogram(const std::uint8_t* a, std::size_t n, std::uint32_t* hist, std::size_t size) {
  std::uint32_t h[4][66] = {};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++h[0][a[i]];
    ++h[1][a[i + 1]];
    ++h[2][a[i + 2]];
    ++h[3][a[i + 3]];
  }
  for (; i < n; ++i) ++h[0][a[i]];
  for (std::size_t k = 0; k < size && k < 66; ++k) hist[k] += h[0][k] + h[1][k] + h[2][k] + h[3][k];
}
}  // namespace

void HyperLogLog::compact() const {
  if (sorted_ == sparse_.size()) return;
  std::sort(sparse_.begin(), sparse_.end());
  // equal indexes are adjacent, in increasing value: keep the last of each run
  std::size_t out = 0;
  for (std::size_t i = 0; i < sparse_.size(); ++i) {
    if (i + 1 < sparse_.size() && entry_index(sparse_[i + 1]) == entry_index(sparse_[i])) continue;
    sparse_[out++] = sparse_[i];
  }
  sparse_.resize(out);
  sorted_ = out;
}

void HyperLogLog::densify() {
  std::vector<std::uint8_t> reg(registers(), 0);
  for (std::uint32_t e : sparse_) {
    const std::size_t idx = entry_index(e);
    if (entry_rank(e) > reg[idx]) reg[idx] = entry_rank(e);
  }
  reg_.swap(reg);
  std::vector<std::uint32_t>().swap(sparse_);
  sorted_ = 0;
}

void HyperLogLog::sparse_grown() {
  compact();
  if (sparse_.size() > registers() / 4) {
    densify();
  } else {
    limit_ = std::max(kMinLimit, 2 * sparse_.size());
  }
}

void HyperLogLog::add_hash(std::uint64_t hash) {
  const std::size_t idx = static_cast<std::size_t>(hash >> (64 - p_));
  // remaining 64 - p bits; a sentinel bit bounds the rank at 64 - p + 1
  const std::uint64_t w = (hash << p_) | (std::uint64_t{1} << (p_ - 1));
  const auto rank = static_cast<std::uint8_t>(__builtin_clzll(w) + 1);
  if (!reg_.empty()) {
    if (rank > reg_[idx]) reg_[idx] = rank;
    return;
  }
  sparse_.push_back(entry(idx, rank));
  if (sparse_.size() >= std::max(limit_, kMinLimit)) sparse_grown();
}

void HyperLogLog::merge(const HyperLogLog& other) {
  if (&other == this) return;
  if (other.p_ != p_)
    throw std::invalid_argument("cannot merge hyperloglogs of different precision");
  if (other.reg_.empty()) {
    if (reg_.empty()) {
      sparse_.reserve(sparse_.size() + other.sparse_.size());
      sparse_.insert(sparse_.end(), other.sparse_.begin(), other.sparse_.end());
      if (sparse_.size() >= std::max(limit_, kMinLimit)) sparse_grown();
    } else {
      for (std::uint32_t e : other.sparse_) {
        const std::size_t idx = entry_index(e);
        if (entry_rank(e) > reg_[idx]) reg_[idx] = entry_rank(e);
      }
    }
    return;
  }
  if (reg_.empty()) densify();
  max_into(reg_.data(), other.reg_.data(), reg_.size());
}

void HyperLogLog::merge_registers(const std::uint8_t* reg, std::size_t count) {
  if (count != registers())
    throw std::invalid_argument("cannot merge hyperloglogs of different precision");
  if (reg_.empty()) densify();
  max_into(reg_.data(), reg, count);
}

void HyperLogLog::copy_registers(std::uint8_t* out) const {
  if (!reg_.empty()) {
    std::copy(reg_.begin(), reg_.end(), out);
    return;
  }
  std::fill(out, out + registers(), std::uint8_t{0});
  for (std::uint32_t e : sparse_) {
    const std::size_t idx = entry_index(e);
    if (entry_rank(e) > out[idx]) out[idx] = entry_rank(e);
  }
}

namespace {
struct Parsed {
  int p;
  bool dense;
  const unsigned char* body;
  std::size_t len;
};

// Validates a serialised sketch completely (the checks of deserialize()).
Parsed parse(const void* data, std::size_t size) {
  if (size < 3 || data == nullptr) bad("truncated");
  const auto* b = static_cast<const unsigned char*>(data);
  if (b[0] != HyperLogLog::kFormatVersion) bad("unknown format version");
  const int p = b[1];
  if (p < HyperLogLog::kMinPrecision || p > HyperLogLog::kMaxPrecision)
    bad("precision out of range");
  const std::size_t m = std::size_t{1} << p;
  const auto max_rank = static_cast<std::uint8_t>(64 - p + 1);
  const unsigned char* body = b + 3;
  const std::size_t len = size - 3;
  if (b[2] == kDense) {
    if (len != m) bad("wrong register count");
    if (max_byte(body, m) > max_rank) bad("register value out of range");
    return {p, true, body, len};
  }
  if (b[2] == kSparse) {
    if (len % 3 != 0 || len / 3 > m) bad("malformed sparse registers");
    long prev = -1;
    for (std::size_t k = 0; k < len; k += 3) {
      const long idx = static_cast<long>(body[k]) | (static_cast<long>(body[k + 1]) << 8);
      const std::uint8_t v = body[k + 2];
      if (idx <= prev || static_cast<std::size_t>(idx) >= m)
        bad("sparse index out of order or range");
      if (v == 0 || v > max_rank) bad("register value out of range");
      prev = idx;
    }
    return {p, false, body, len};
  }
  bad("unknown encoding");
}
}  // namespace

void HyperLogLog::merge_serialized(const void* data, std::size_t size) {
  const Parsed in = parse(data, size);
  if (in.p != p_) throw std::invalid_argument("cannot merge hyperloglogs of different precision");
  if (in.dense) {
    if (reg_.empty()) densify();
    max_into(reg_.data(), in.body, in.len);
    return;
  }
  const std::size_t n = in.len / 3;
  if (reg_.empty()) {
    // beyond the sparse limit anyway: registers now (no sort of the entries)
    if (sparse_.size() + n > registers() / 4) {
      densify();
    } else {
      sparse_.reserve(sparse_.size() + n);
    }
  }
  for (std::size_t k = 0; k < in.len; k += 3) {
    const std::size_t idx =
        static_cast<std::size_t>(in.body[k]) | (static_cast<std::size_t>(in.body[k + 1]) << 8);
    const std::uint8_t v = in.body[k + 2];
    if (!reg_.empty()) {
      if (v > reg_[idx]) reg_[idx] = v;
    } else {
      sparse_.push_back(entry(idx, v));
    }
  }
  if (reg_.empty() && sparse_.size() >= std::max(limit_, kMinLimit)) sparse_grown();
}

std::vector<std::uint8_t> HyperLogLog::dense_copy() const {
  if (!reg_.empty()) return reg_;
  std::vector<std::uint8_t> reg(registers(), 0);
  for (std::uint32_t e : sparse_) {
    const std::size_t idx = entry_index(e);
    if (entry_rank(e) > reg[idx]) reg[idx] = entry_rank(e);
  }
  return reg;
}

bool HyperLogLog::operator==(const HyperLogLog& o) const {
  if (p_ != o.p_) return false;
  if (reg_.empty() && o.reg_.empty()) {
    compact();
    o.compact();
    return sparse_ == o.sparse_;
  }
  return dense_copy() == o.dense_copy();
}

double HyperLogLog::estimate() const {
  const int q = 64 - p_;
  const std::size_t m_regs = registers();
  std::vector<std::uint32_t> hist(static_cast<std::size_t>(q) + 2, 0);
  if (reg_.empty()) {
    compact();
    hist[0] = static_cast<std::uint32_t>(m_regs - sparse_.size());
    for (std::uint32_t e : sparse_) ++hist[entry_rank(e)];
  } else {
    histogram(reg_.data(), reg_.size(), hist.data(), hist.size());  // values <= q + 1 < 66
  }
  const double m = static_cast<double>(m_regs);
  if (hist[0] == m_regs) return 0.0;
  double z = m * tau(1.0 - hist[static_cast<std::size_t>(q) + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + hist[static_cast<std::size_t>(k)]);
  z += m * sigma(hist[0] / m);
  const double alpha_inf = 1.0 / (2.0 * std::log(2.0));
  return alpha_inf * m * m / z;
}

std::string HyperLogLog::serialize() const {
  const std::size_t m = registers();
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(p_));
  if (reg_.empty()) {
    compact();
    if (sparse_.size() * 3 < m) {
      out.push_back(static_cast<char>(kSparse));
      out.reserve(3 + 3 * sparse_.size());
      for (std::uint32_t e : sparse_) {
        const std::size_t i = entry_index(e);
        out.push_back(static_cast<char>(i & 0xFF));
        out.push_back(static_cast<char>((i >> 8) & 0xFF));
        out.push_back(static_cast<char>(entry_rank(e)));
      }
    } else {
      const std::vector<std::uint8_t> reg = dense_copy();
      out.push_back(static_cast<char>(kDense));
      out.append(reinterpret_cast<const char*>(reg.data()), reg.size());
    }
    return out;
  }
  const std::size_t nonzero = count_nonzero(reg_.data(), reg_.size());
  if (nonzero * 3 < m) {
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
  const Parsed in = parse(data, size);
  HyperLogLog h(in.p);
  if (in.dense) {
    h.reg_.assign(in.body, in.body + in.len);
    return h;
  }
  const std::size_t n = in.len / 3;
  if (n > h.registers() / 4) {  // as a sketch that grew to this size would be
    h.reg_.assign(h.registers(), 0);
    for (std::size_t k = 0; k < in.len; k += 3) {
      const std::size_t idx =
          static_cast<std::size_t>(in.body[k]) | (static_cast<std::size_t>(in.body[k + 1]) << 8);
      h.reg_[idx] = in.body[k + 2];
    }
    return h;
  }
  h.sparse_.reserve(n);
  for (std::size_t k = 0; k < in.len; k += 3) {
    const std::size_t idx =
        static_cast<std::size_t>(in.body[k]) | (static_cast<std::size_t>(in.body[k + 1]) << 8);
    h.sparse_.push_back(entry(idx, in.body[k + 2]));
  }
  h.sorted_ = n;  // validated: increasing indexes
  h.limit_ = std::max(kMinLimit, 2 * n);
  return h;
}

}  // namespace techmart::core
