#include "techmart/core/qsketch.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace techmart::core {

namespace {

constexpr std::uint8_t kFlagPosCollapsed = 1;
constexpr std::uint8_t kFlagNegCollapsed = 2;

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_f64(std::string& out, double d) {
  std::uint64_t v;
  std::memcpy(&v, &d, sizeof v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

[[noreturn]] void bad(const char* what) {
  throw std::invalid_argument(std::string("invalid quantile sketch: ") + what);
}

std::uint8_t get_u8(const unsigned char*& p, const unsigned char* end) {
  if (end - p < 1) bad("truncated");
  return *p++;
}

std::uint32_t get_u32(const unsigned char*& p, const unsigned char* end) {
  if (end - p < 4) bad("truncated");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  p += 4;
  return v;
}

double get_f64(const unsigned char*& p, const unsigned char* end) {
  if (end - p < 8) bad("truncated");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  p += 8;
  double d;
  std::memcpy(&d, &v, sizeof d);
  return d;
}

std::uint64_t get_varint(const unsigned char*& p, const unsigned char* end) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) bad("truncated varint");
    const std::uint8_t b = *p++;
    if (shift == 63 && (b & 0x7E) != 0) bad("varint overflow");
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  bad("varint too long");
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace

QSketch::QSketch(double alpha, std::uint32_t max_buckets)
    : alpha_(alpha), max_buckets_(max_buckets) {
  if (!(alpha >= 1e-4 && alpha <= 0.2))
    throw std::invalid_argument("sketch alpha must be in [1e-4, 0.2]");
  if (max_buckets < 16 || max_buckets > kMaxMaxBuckets) {
    throw std::invalid_argument("sketch bucket limit must be in [16, 65536]");
  }
  gamma_ = (1.0 + alpha) / (1.0 - alpha);
  log_gamma_ = std::log(gamma_);
  inv_log_gamma_ = 1.0 / log_gamma_;
}

std::int32_t QSketch::index_of(double magnitude) const {
  return static_cast<std::int32_t>(std::ceil(std::log(magnitude) * inv_log_gamma_));
}

double QSketch::value_of(std::int32_t index) const {
  return std::exp(static_cast<double>(index) * log_gamma_) * (2.0 / (gamma_ + 1.0));
}

void QSketch::Store::add(std::int32_t index, std::uint64_t c, std::uint32_t max_buckets) {
  if (counts.empty()) {
    offset = index;
    counts.assign(1, c);
    return;
  }
  const std::int64_t lo = offset;
  const std::int64_t hi = lo + static_cast<std::int64_t>(counts.size()) - 1;
  const std::int64_t idx = index;
  if (idx < lo) {
    const std::int64_t floor = hi - static_cast<std::int64_t>(max_buckets) + 1;
    std::int64_t target = idx;
    if (idx < floor) {
      target = floor;
      collapsed = true;
    }
    if (target < lo) {
      counts.insert(counts.begin(), static_cast<std::size_t>(lo - target), 0);
      offset = static_cast<std::int32_t>(target);
    }
    counts[static_cast<std::size_t>(target - offset)] += c;
  } else if (idx > hi) {
    const std::int64_t new_lo = idx - static_cast<std::int64_t>(max_buckets) + 1;
    if (new_lo > lo) {
      collapsed = true;
      if (new_lo > hi) {
        const std::uint64_t s = total();
        counts.assign(1, s);
      } else {
        const std::size_t drop = static_cast<std::size_t>(new_lo - lo);
        std::uint64_t s = 0;
        for (std::size_t i = 0; i < drop; ++i) s += counts[i];
        counts.erase(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(drop));
        counts[0] += s;
      }
      offset = static_cast<std::int32_t>(new_lo);
    }
    counts.resize(static_cast<std::size_t>(idx - offset + 1), 0);
    counts.back() += c;
  } else {
    counts[static_cast<std::size_t>(idx - lo)] += c;
  }
}

std::uint64_t QSketch::Store::total() const {
  std::uint64_t s = 0;
  for (std::uint64_t c : counts) s += c;
  return s;
}

bool QSketch::Store::operator==(const Store& o) const {
  return collapsed == o.collapsed && counts == o.counts && (counts.empty() || offset == o.offset);
}

void QSketch::add(double x) {
  if (!std::isfinite(x)) throw std::invalid_argument("sketch values must be finite");
  if (count_ == 0) {
    min_ = max_ = x;
  } else {
    if (x < min_) min_ = x;
    if (x > max_) max_ = x;
  }
  ++count_;
  if (x >= kMinIndexable) {
    pos_.add(index_of(x), 1, max_buckets_);
  } else if (x <= -kMinIndexable) {
    neg_.add(index_of(-x), 1, max_buckets_);
  } else {
    ++zero_count_;
  }
}

void QSketch::merge(const QSketch& other) {
  if (other.alpha_ != alpha_ || other.max_buckets_ != max_buckets_) {
    throw std::invalid_argument("cannot merge quantile sketches with different accuracy settings");
  }
  if (other.count_ == 0) return;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  if (count_ > std::numeric_limits<std::uint64_t>::max() - other.count_) {
    throw std::invalid_argument("quantile sketch count overflow");
  }
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  auto merge_store = [this](Store& dst, const Store& src) {
    // highest buckets first: the range grows upward first, lower ones collapse as they arrive
    for (std::size_t k = src.counts.size(); k-- > 0;) {
      if (src.counts[k] != 0) {
        dst.add(static_cast<std::int32_t>(src.offset + static_cast<std::int64_t>(k)), src.counts[k],
                max_buckets_);
      }
    }
    dst.collapsed = dst.collapsed || src.collapsed;
  };
  merge_store(pos_, other.pos_);
  merge_store(neg_, other.neg_);
}

double QSketch::value_at_rank(std::uint64_t rank) const {
  if (rank == 0) return min_;
  if (rank + 1 >= count_) return max_;
  std::uint64_t cum = 0;
  double v = max_;
  bool found = false;
  for (std::size_t k = neg_.counts.size(); k-- > 0 && !found;) {
    cum += neg_.counts[k];
    if (rank < cum) {
      v = -value_of(static_cast<std::int32_t>(neg_.offset + static_cast<std::int64_t>(k)));
      found = true;
    }
  }
  if (!found) {
    cum += zero_count_;
    if (rank < cum) {
      v = 0.0;
      found = true;
    }
  }
  for (std::size_t k = 0; k < pos_.counts.size() && !found; ++k) {
    cum += pos_.counts[k];
    if (rank < cum) {
      v = value_of(static_cast<std::int32_t>(pos_.offset + static_cast<std::int64_t>(k)));
      found = true;
    }
  }
  return std::min(std::max(v, min_), max_);
}

double QSketch::quantile(double q) const {
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile must be between 0 and 1");
  if (count_ == 0) throw std::invalid_argument("quantile of an empty sketch");
  const double rank = q * static_cast<double>(count_ - 1);
  const double lo_rank = std::floor(rank);
  // count_ - 1 near 2^64 rounds up to 2^64 as a double: clamp before converting (a stored
  // sketch may hold counts summing to 2^64 - 1; converting 2^64 to uint64 is undefined)
  const std::uint64_t lo = lo_rank >= 18446744073709551616.0
                               ? count_ - 1
                               : std::min(static_cast<std::uint64_t>(lo_rank), count_ - 1);
  const double frac = rank - lo_rank;
  const double v_lo = value_at_rank(lo);
  if (frac <= 0.0 || lo + 1 >= count_) return v_lo;
  const double v_hi = value_at_rank(lo + 1);
  return v_lo + frac * (v_hi - v_lo);
}

double QSketch::cdf(double x) const {
  if (std::isnan(x)) throw std::invalid_argument("cdf argument must not be NaN");
  if (count_ == 0) throw std::invalid_argument("cdf of an empty sketch");
  if (x < min_) return 0.0;
  if (x >= max_) return 1.0;
  std::uint64_t below = 0;  // estimated number of values <= x
  if (x <= -kMinIndexable) {
    const std::int64_t ix = index_of(-x);
    for (std::size_t k = 0; k < neg_.counts.size(); ++k) {
      const std::int64_t idx = neg_.offset + static_cast<std::int64_t>(k);
      if (idx > ix || (idx == ix && value_of(static_cast<std::int32_t>(idx)) >= -x)) {
        below += neg_.counts[k];
      }
    }
  } else {
    below = neg_.total();
    if (x >= 0.0 || x > -kMinIndexable) below += zero_count_;
    if (x >= kMinIndexable) {
      const std::int64_t ix = index_of(x);
      for (std::size_t k = 0; k < pos_.counts.size(); ++k) {
        const std::int64_t idx = pos_.offset + static_cast<std::int64_t>(k);
        if (idx < ix || (idx == ix && value_of(static_cast<std::int32_t>(idx)) <= x)) {
          below += pos_.counts[k];
        }
      }
    }
  }
  return static_cast<double>(below) / static_cast<double>(count_);
}

void QSketch::serialize_to(std::string& out) const {
  put_u8(out, kFormatVersion);
  put_u8(out, static_cast<std::uint8_t>((pos_.collapsed ? kFlagPosCollapsed : 0) |
                                        (neg_.collapsed ? kFlagNegCollapsed : 0)));
  put_f64(out, alpha_);
  put_u32(out, max_buckets_);
  put_varint(out, zero_count_);
  put_f64(out, min_);
  put_f64(out, max_);
  for (const Store* s : {&pos_, &neg_}) {
    put_varint(out, zigzag(s->counts.empty() ? 0 : s->offset));
    put_varint(out, s->counts.size());
    for (std::uint64_t c : s->counts) put_varint(out, c);
  }
}

std::string QSketch::serialize() const {
  std::string out;
  out.reserve(40 + 2 * (pos_.counts.size() + neg_.counts.size()));
  serialize_to(out);
  return out;
}

void QSketch::parse_store(const unsigned char*& p, const unsigned char* end, Store& s) {
  const std::int64_t offset = unzigzag(get_varint(p, end));
  const std::uint64_t n = get_varint(p, end);
  if (n > max_buckets_) bad("too many buckets");
  if (n > static_cast<std::uint64_t>(end - p)) bad("truncated bucket counts");  // >= 1 byte each
  // every representable index: |x| between kMinIndexable and DBL_MAX
  const std::int64_t min_index =
      static_cast<std::int64_t>(std::floor(std::log(kMinIndexable) * inv_log_gamma_)) - 1;
  const std::int64_t max_index =
      static_cast<std::int64_t>(std::ceil(std::log(DBL_MAX) * inv_log_gamma_)) + 1;
  if (n == 0) {
    if (offset != 0) bad("empty store with an offset");
    s.counts.clear();
    s.offset = 0;
    return;
  }
  if (offset < min_index || offset + static_cast<std::int64_t>(n) - 1 > max_index)
    bad("bucket index out of range");
  s.offset = static_cast<std::int32_t>(offset);
  s.counts.assign(static_cast<std::size_t>(n), 0);
  for (std::size_t k = 0; k < n; ++k) s.counts[k] = get_varint(p, end);
  if (s.counts.front() == 0 || s.counts.back() == 0) bad("non-canonical bucket range");
}

QSketch QSketch::deserialize(const void* data, std::size_t size) {
  if (data == nullptr && size != 0) bad("null data");
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* end = p + size;
  const std::uint8_t version = get_u8(p, end);
  if (version != kFormatVersion) bad("unknown format version");
  const std::uint8_t flags = get_u8(p, end);
  if ((flags & ~(kFlagPosCollapsed | kFlagNegCollapsed)) != 0) bad("unknown flags");
  const double alpha = get_f64(p, end);
  const std::uint32_t max_buckets = get_u32(p, end);
  if (!(alpha >= 1e-4 && alpha <= 0.2) || max_buckets < 16 || max_buckets > kMaxMaxBuckets) {
    bad("accuracy settings out of range");
  }
  QSketch s(alpha, max_buckets);
  s.zero_count_ = get_varint(p, end);
  s.min_ = get_f64(p, end);
  s.max_ = get_f64(p, end);
  s.parse_store(p, end, s.pos_);
  s.parse_store(p, end, s.neg_);
  if (p != end) bad("trailing bytes");
  s.pos_.collapsed = (flags & kFlagPosCollapsed) != 0;
  s.neg_.collapsed = (flags & kFlagNegCollapsed) != 0;
  std::uint64_t total = s.zero_count_;
  for (const Store* st : {&s.pos_, &s.neg_}) {
    for (std::uint64_t c : st->counts) {
      if (total > std::numeric_limits<std::uint64_t>::max() - c) bad("count overflow");
      total += c;
    }
  }
  s.count_ = total;
  if (total == 0) {
    if (s.min_ != 0.0 || s.max_ != 0.0) bad("empty sketch with a range");
  } else {
    if (!std::isfinite(s.min_) || !std::isfinite(s.max_) || s.min_ > s.max_) bad("invalid min/max");
    if (!s.neg_.counts.empty() && !(s.min_ < 0.0)) bad("negative values but min >= 0");
    if (!s.pos_.counts.empty() && !(s.max_ > 0.0)) bad("positive values but max <= 0");
  }
  return s;
}

bool QSketch::operator==(const QSketch& o) const {
  return alpha_ == o.alpha_ && max_buckets_ == o.max_buckets_ && count_ == o.count_ &&
         zero_count_ == o.zero_count_ && min_ == o.min_ && max_ == o.max_ && pos_ == o.pos_ &&
         neg_ == o.neg_;
}

}  // namespace techmart::core
