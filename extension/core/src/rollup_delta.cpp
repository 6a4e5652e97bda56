#include "techmart/core/rollup_delta.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "techmart/core/hyperloglog.hpp"

namespace techmart::core::rollup {

Status parse_status(const char* s, std::size_t len) noexcept {
  const auto is = [&](const char* w) {
    return std::strlen(w) == len && std::memcmp(s, w, len) == 0;
  };
  if (is("completed")) return Status::kCompleted;
  if (is("refunded")) return Status::kRefunded;
  if (is("blocked")) return Status::kBlocked;
  if (is("failed")) return Status::kFailed;
  if (is("pending")) return Status::kPending;
  return Status::kOther;
}

const char* dim_name(Dim d) noexcept {
  switch (d) {
    case Dim::kAll:
      return "all";
    case Dim::kCategory:
      return "category";
    case Dim::kCountry:
      return "country";
    case Dim::kMinute:
      return "minute";
    case Dim::kPaymentMethod:
      return "payment_method";
    case Dim::kPlatform:
      return "platform";
    case Dim::kProduct:
      return "product";
  }
  return "all";
}

std::int64_t hour_floor_us(std::int64_t t) noexcept {
  constexpr std::int64_t kHour = 3600LL * 1000000LL;
  std::int64_t q = t / kHour;
  if (t % kHour != 0 && t < 0) --q;
  return q * kHour;
}

namespace {
constexpr int kDims = 7;
constexpr Dim kAllDims[kDims] = {Dim::kAll,           Dim::kCategory, Dim::kCountry, Dim::kMinute,
                                 Dim::kPaymentMethod, Dim::kPlatform, Dim::kProduct};
constexpr const char* kMinuteKeys[60] = {
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
    "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
    "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44",
    "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59"};

std::string_view key_of(const Line& l, Dim d, std::int64_t hour) {
  switch (d) {
    case Dim::kAll:
      return std::string_view();
    case Dim::kCategory:
      return l.category;
    case Dim::kCountry:
      return l.country;
    case Dim::kMinute:
      return std::string_view(kMinuteKeys[(l.time_us - hour) / (60LL * 1000000LL)], 2);
    case Dim::kPaymentMethod:
      return l.payment_method;
    case Dim::kPlatform:
      return l.platform;
    case Dim::kProduct:
      return l.product;
  }
  return std::string_view();
}

struct BucketKey {
  std::int64_t hour;
  std::uint32_t key;  // interned key string (per dimension)
  std::uint8_t dim;
  bool operator==(const BucketKey& o) const {
    return hour == o.hour && key == o.key && dim == o.dim;
  }
};
struct BucketHash {
  std::size_t operator()(const BucketKey& k) const noexcept {
    std::uint64_t h = static_cast<std::uint64_t>(k.hour) * 0x9E3779B97F4A7C15ULL;
    h ^= (static_cast<std::uint64_t>(k.key) << 3 | k.dim) * 0xC2B2AE3D27D4EB4FULL;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

struct Acc {
  Dim dim;
  std::int64_t hour;
  std::string_view key;
  std::uint32_t key_id;  // interned key of its dimension
  __int128 revenue = 0, refunded_amount = 0;
  int revenue_scale = -1, refunded_amount_scale = -1;
  std::int64_t orders = 0, units = 0, transactions = 0, completed = 0, refunded = 0, blocked = 0,
               failed = 0, pending = 0, suspicious = 0;
};

struct Presence {
  std::uint32_t bucket;
  std::uint32_t order;
  unsigned bits;  // 1: present after (completed, sign >= 0), 2: present before (sign <= 0)
};
}  // namespace

std::vector<Delta> deltas(const std::vector<Line>& lines) {
  // order numbers interned; line versions per order
  std::unordered_map<std::string_view, std::uint32_t> order_ids;
  std::vector<std::uint32_t> line_order(lines.size(), 0);
  std::vector<std::uint32_t> versions;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].has_order) continue;
    const auto [it, fresh] =
        order_ids.try_emplace(lines[i].order_number, static_cast<std::uint32_t>(versions.size()));
    if (fresh) versions.push_back(0);
    line_order[i] = it->second;
    ++versions[it->second];
  }
  // key strings interned per dimension (their bytes live in lines or kMinuteKeys)
  std::unordered_map<std::string_view, std::uint32_t> key_ids[kDims];
  std::unordered_map<BucketKey, std::uint32_t, BucketHash> index;
  index.reserve(lines.size() * 3);
  std::vector<Acc> acc;
  acc.reserve(lines.size() * 3);
  std::vector<std::pair<std::uint32_t, std::int64_t>> customers;  // (bucket, customer)
  std::vector<Presence> presence;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const bool c = l.status == Status::kCompleted;
    const bool solo = !l.has_order || versions[line_order[i]] <= 1;
    const std::int64_t hour = hour_floor_us(l.time_us);
    for (int di = 0; di < kDims; ++di) {
      const Dim dim = kAllDims[di];
      const std::string_view key = key_of(l, dim, hour);
      // the key's id: "" for all, the minute itself for minute (ids in byte order of the keys
      // both), else interned
      std::uint32_t key_id = 0;
      if (dim == Dim::kMinute) {
        key_id = static_cast<std::uint32_t>((l.time_us - hour) / (60LL * 1000000LL));
      } else if (dim != Dim::kAll) {
        key_id = key_ids[di]
                     .try_emplace(key, static_cast<std::uint32_t>(key_ids[di].size()))
                     .first->second;
      }
      const auto [bit, fresh] =
          index.try_emplace(BucketKey{hour, key_id, static_cast<std::uint8_t>(di)},
                            static_cast<std::uint32_t>(acc.size()));
      if (fresh) {
        acc.push_back(Acc{});
        acc.back().dim = dim;
        acc.back().hour = hour;
        acc.back().key = key;
        acc.back().key_id = key_id;
      }
      const std::uint32_t b = bit->second;
      Acc& d = acc[b];
      if (c) {
        d.revenue += static_cast<__int128>(l.sign) * l.amount_milli;
        d.units += l.sign * l.quantity;
        d.completed += l.sign;
        if (solo) d.orders += l.sign;
      }
      if (l.refund_kind) {
        d.revenue -= static_cast<__int128>(l.sign) * l.amount_milli;
        d.units -= l.sign * l.quantity;
      }
      if (c || l.refund_kind) d.revenue_scale = std::max(d.revenue_scale, l.amount_scale);
      d.transactions += l.sign;
      switch (l.status) {
        case Status::kRefunded:
          d.refunded += l.sign;
          d.refunded_amount += static_cast<__int128>(l.sign) * l.amount_milli;
          d.refunded_amount_scale = std::max(d.refunded_amount_scale, l.amount_scale);
          break;
        case Status::kBlocked:
          d.blocked += l.sign;
          break;
        case Status::kFailed:
          d.failed += l.sign;
          break;
        case Status::kPending:
          d.pending += l.sign;
          break;
        default:
          break;
      }
      if (l.suspicious) d.suspicious += l.sign;
      if (l.sign == 1 && l.has_customer) customers.emplace_back(b, l.customer);
      if (!solo) {
        presence.push_back(Presence{b, line_order[i],
                                    (c && l.sign >= 0 ? 1U : 0U) | (c && l.sign <= 0 ? 2U : 0U)});
      }
    }
  }
  // orders of multi-version orders: per (bucket, order) present after minus present before
  std::sort(presence.begin(), presence.end(), [](const Presence& x, const Presence& y) {
    return x.bucket != y.bucket ? x.bucket < y.bucket : x.order < y.order;
  });
  for (std::size_t i = 0; i < presence.size();) {
    unsigned bits = 0;
    std::size_t j = i;
    for (; j < presence.size() && presence[j].bucket == presence[i].bucket &&
           presence[j].order == presence[i].order;
         ++j)
      bits |= presence[j].bits;
    acc[presence[i].bucket].orders +=
        static_cast<int>((bits & 1U) != 0) - static_cast<int>((bits & 2U) != 0);
    i = j;
  }
  // the buckets with a non-zero metric, in (dim, hour, key) byte order
  std::vector<std::uint32_t> keep;
  keep.reserve(acc.size());
  for (std::uint32_t b = 0; b < acc.size(); ++b) {
    const Acc& d = acc[b];
    if (d.revenue != 0 || d.orders != 0 || d.units != 0 || d.transactions != 0 ||
        d.completed != 0 || d.refunded != 0 || d.refunded_amount != 0 || d.blocked != 0 ||
        d.failed != 0 || d.pending != 0 || d.suspicious != 0)
      keep.push_back(b);
  }
  // the rank of each interned key in byte order of its dimension's keys (minute and all: the id)
  std::vector<std::uint32_t> rank[kDims];
  for (int di = 0; di < kDims; ++di) {
    if (key_ids[di].empty()) continue;
    std::vector<std::pair<std::string_view, std::uint32_t>> keys(key_ids[di].begin(),
                                                                 key_ids[di].end());
    // string_view compares as unsigned bytes (char_traits<char>)
    std::sort(keys.begin(), keys.end());
    rank[di].resize(keys.size());
    for (std::uint32_t r = 0; r < keys.size(); ++r) rank[di][keys[r].second] = r;
  }
  const auto key_rank = [&](const Acc& a) {
    const auto di = static_cast<std::size_t>(a.dim);  // kAllDims is in enum order
    return rank[di].empty() ? a.key_id : rank[di][a.key_id];
  };
  std::sort(keep.begin(), keep.end(), [&](std::uint32_t x, std::uint32_t y) {
    const Acc& a = acc[x];
    const Acc& b = acc[y];
    if (a.dim != b.dim) return a.dim < b.dim;
    if (a.hour != b.hour) return a.hour < b.hour;
    return key_rank(a) < key_rank(b);
  });
  // customers per bucket (a counting sort by bucket: a sketch does not depend on the order of its
  // values)
  std::vector<std::uint32_t> cust_begin(acc.size() + 1, 0);
  for (const auto& bc : customers) ++cust_begin[bc.first + 1];
  std::partial_sum(cust_begin.begin(), cust_begin.end(), cust_begin.begin());
  std::vector<std::int64_t> cust(customers.size());
  {
    std::vector<std::uint32_t> fill(cust_begin.begin(), cust_begin.end() - 1);
    for (const auto& bc : customers) cust[fill[bc.first]++] = bc.second;
  }

  std::vector<Delta> out(keep.size());
  for (std::size_t k = 0; k < keep.size(); ++k) {
    const std::uint32_t b = keep[k];
    const Acc& a = acc[b];
    Delta& d = out[k];
    d.dim = a.dim;
    d.hour_us = a.hour;
    d.key.assign(a.key.data(), a.key.size());
    d.revenue_milli = a.revenue;
    d.revenue_scale = a.revenue_scale;
    d.orders = a.orders;
    d.units = a.units;
    d.transactions = a.transactions;
    d.completed = a.completed;
    d.refunded = a.refunded;
    d.refunded_amount_milli = a.refunded_amount;
    d.refunded_amount_scale = a.refunded_amount_scale;
    d.blocked = a.blocked;
    d.failed = a.failed;
    d.pending = a.pending;
    d.suspicious = a.suspicious;
    if (cust_begin[b] < cust_begin[b + 1]) {
      HyperLogLog h;
      for (std::uint32_t j = cust_begin[b]; j < cust_begin[b + 1]; ++j) h.add(cust[j]);
      d.customers_hll = h.serialize();
    }
  }
  return out;
}

}  // namespace techmart::core::rollup
