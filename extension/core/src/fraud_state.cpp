#include "techmart/core/fraud_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "techmart/core/errors.hpp"

namespace techmart::core {
namespace {
constexpr double kEarthRadiusKm = 6371.0088;
constexpr double kPi = 3.14159265358979323846;

void check_lat_lon(double lat, double lon) {
  require_finite(lat, "latitude");
  require_finite(lon, "longitude");
  if (lat < -90 || lat > 90) throw std::invalid_argument("latitude must be in [-90, 90]");
  if (lon < -180 || lon > 180) throw std::invalid_argument("longitude must be in [-180, 180]");
}

// The later of two (time, tie-breaker) positions: with equal times the larger key wins, so the
// result does not depend on arrival order.
bool later(double t1, double a1, double t2, double a2) { return t1 > t2 || (t1 == t2 && a1 > a2); }
}  // namespace

void StateParams::validate() const {
  require_finite(hour_half_life_days, "hour_half_life_days");
  require_finite(risk_half_life_days, "risk_half_life_days");
  require_finite(risk_floor, "risk_floor");
  if (!(hour_half_life_days > 0)) throw std::invalid_argument("hour_half_life_days must be > 0");
  if (!(risk_half_life_days > 0)) throw std::invalid_argument("risk_half_life_days must be > 0");
  if (risk_floor < 0 || risk_floor >= 100) {
    throw std::invalid_argument("risk_floor must be in [0, 100)");
  }
}

double haversine_km(double lat1, double lon1, double lat2, double lon2) {
  check_lat_lon(lat1, lon1);
  check_lat_lon(lat2, lon2);
  const double r = kPi / 180.0;
  const double dlat = (lat2 - lat1) * r;
  const double dlon = (lon2 - lon1) * r;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * r) * std::cos(lat2 * r) * std::sin(dlon / 2) * std::sin(dlon / 2);
  const double c = 2.0 * std::asin(std::min(1.0, std::sqrt(a)));
  return kEarthRadiusKm * c;
}

int hist_bin(double amount) {
  require_finite(amount, "amount");
  if (amount < 0) throw std::invalid_argument("amount must be >= 0");
  const double b = std::floor(std::log1p(amount) / kHistWidth);
  if (!(b >= 0)) return 0;
  return b >= kHistBins - 1 ? kHistBins - 1 : static_cast<int>(b);
}

RobustEstimate robust_from_hist(const std::int32_t (&hist)[kHistBins]) {
  std::int64_t n = 0;
  for (int i = 0; i < kHistBins; ++i) n += hist[i];
  RobustEstimate e{n, 0.0, 0.0};
  if (n == 0) return e;
  // median: the point where the cumulative count reaches n/2, interpolated inside its bin
  const double half = static_cast<double>(n) / 2.0;
  double cum = 0;
  for (int i = 0; i < kHistBins; ++i) {
    if (hist[i] == 0) continue;
    if (cum + hist[i] >= half) {
      e.median = (i + (half - cum) / hist[i]) * kHistWidth;
      break;
    }
    cum += hist[i];
  }
  // MAD: weighted median of |centre_i - median|
  struct Dev {
    double d;
    std::int32_t w;
  };
  Dev devs[kHistBins];
  int m = 0;
  for (int i = 0; i < kHistBins; ++i) {
    if (hist[i] > 0) devs[m++] = Dev{std::fabs((i + 0.5) * kHistWidth - e.median), hist[i]};
  }
  std::sort(devs, devs + m, [](const Dev& a, const Dev& b) { return a.d < b.d; });
  cum = 0;
  for (int i = 0; i < m; ++i) {
    cum += devs[i].w;
    if (cum >= half) {
      e.mad = devs[i].d;
      break;
    }
  }
  e.mad = std::max(e.mad, kHistWidth / 2);
  return e;
}

double decay_factor(double dt_seconds, double half_life_days) {
  require_finite(dt_seconds, "dt");
  if (!(half_life_days > 0) || !std::isfinite(half_life_days)) {
    throw std::invalid_argument("half life must be finite and > 0");
  }
  if (dt_seconds <= 0) return 1.0;
  return std::exp2(-dt_seconds / (half_life_days * kSecondsPerDay));
}

int utc_hour(double t) {
  require_finite(t, "time");
  // fmod is exact for every finite t (t - floor(t / d) * d overflows to inf near DBL_MAX); the
  // hour is compared as a double before any conversion, so no value reaches an int out of range
  double sod = std::fmod(t, kSecondsPerDay);  // (-86400, 86400)
  if (sod < 0) sod += kSecondsPerDay;
  const double h = std::floor(sod / 3600.0);
  if (!(h >= 0)) return 0;  // also NaN (cannot happen for a finite t)
  return h >= 23 ? 23 : static_cast<int>(h);
}

int local_hour(double t, double lon) {
  const int h = utc_hour(t);
  if (!std::isfinite(lon)) return h;
  double l = std::fmod(lon, 360.0);  // (-360, 360)
  if (l > 180.0) l -= 360.0;
  if (l < -180.0) l += 360.0;
  const int shift = static_cast<int>(std::floor(l / 15.0 + 0.5));  // -12..12
  return ((h + shift) % 24 + 24) % 24;
}

double hour_share(const double (&profile)[24], int hour, const double* prior, double a,
                  double spread) {
  if (hour < 0 || hour > 23) throw std::invalid_argument("hour must be in 0..23");
  if (!(a > 0) || !std::isfinite(a)) throw std::invalid_argument("smoothing must be > 0");
  if (!(spread >= 0 && spread <= 1)) throw std::invalid_argument("spread must be in [0, 1]");
  double total = 0;
  for (double w : profile) total += w;
  const double s2 = spread * spread;
  const double k =
      (profile[hour] + spread * (profile[(hour + 1) % 24] + profile[(hour + 23) % 24]) +
       s2 * (profile[(hour + 2) % 24] + profile[(hour + 22) % 24])) /
      (1.0 + 2.0 * spread + 2.0 * s2);
  const double p = prior ? prior[hour] : 1.0 / 24.0;
  return (k + a * p) / (total + a);
}

int payment_method_bit(const char* name) {
  static const char* const kKnown[] = {
      "credit_card", "debit_card", "paypal", "bank_transfer",    "apple_pay",
      "google_pay",  "gift_card",  "crypto", "cash_on_delivery", "unknown"};
  if (name == nullptr) return -1;
  for (int i = 0; i < static_cast<int>(sizeof kKnown / sizeof kKnown[0]); ++i) {
    if (std::strcmp(name, kKnown[i]) == 0) return i;
  }
  return kMethodBits - 1;
}

double risk_score(const CustomerState& s, double now, const StateParams& p) {
  const double r = s.risk * decay_factor(now - s.risk_time, p.risk_half_life_days);
  return 100.0 * (1.0 - std::exp(-r));
}

void validate_state(const CustomerState& s) {
  (void)Welford::from_state(s.log_amount.count(), s.log_amount.mean(), s.log_amount.m2());
  // only states log1p(amount >= 0) can produce: 0 <= mean <= log1p(DBL_MAX) and the sum of
  // squared deviations at most n * max^2 (else one more fold overflows m2 to inf)
  constexpr double kMaxLog = 710.0;
  const double n = static_cast<double>(s.log_amount.count());
  if (s.log_amount.mean() < 0 || s.log_amount.mean() > kMaxLog) {
    throw std::invalid_argument("mean of log1p(amount) must be in [0, 710]");
  }
  if (s.log_amount.m2() > n * kMaxLog * kMaxLog) {
    throw std::invalid_argument("m2 of log1p(amount) out of range");
  }
  std::int64_t hn = 0;
  for (int i = 0; i < kHistBins; ++i) {
    if (s.hist[i] < 0) throw std::invalid_argument("histogram counts must be >= 0");
    hn += s.hist[i];
  }
  if (hn > s.log_amount.count()) {
    throw std::invalid_argument("histogram holds more values than the count");
  }
  if (s.recent_len < 0 || s.recent_len > kRecent) {
    throw std::invalid_argument("recent list length out of range");
  }
  for (int i = 0; i < s.recent_len; ++i) {
    require_finite(s.recent[i].time, "recent time");
    require_finite(s.recent[i].amount, "recent amount");
    if (i > 0 && s.recent[i].time < s.recent[i - 1].time) {
      throw std::invalid_argument("recent transactions must be in time order");
    }
  }
  for (double w : s.hour_profile) {
    require_finite(w, "hour profile");
    if (w < 0) throw std::invalid_argument("hour profile weights must be >= 0");
  }
  require_finite(s.profile_time, "profile_time");
  require_finite(s.last_time, "last_time");
  require_finite(s.risk, "risk");
  require_finite(s.risk_time, "risk_time");
  if (s.risk < 0) throw std::invalid_argument("risk must be >= 0");
  if (s.has_last_loc) check_lat_lon(s.last_lat, s.last_lon);
}

void fold(CustomerState& s, const FoldInput& tx, const StateParams& p) {
  require_finite(tx.time, "time");
  const double x = std::log1p(tx.amount);  // amount validated by hist_bin below
  const int bin = hist_bin(tx.amount);
  if (tx.has_location) check_lat_lon(tx.lat, tx.lon);

  s.log_amount.add(x);
  ++s.hist[bin];

  // the kRecent latest by (time, amount): insert in order, drop the oldest when full
  const RecentTx r{tx.time, tx.amount};
  int pos = s.recent_len;
  while (pos > 0 && later(s.recent[pos - 1].time, s.recent[pos - 1].amount, r.time, r.amount)) {
    --pos;
  }
  if (s.recent_len < kRecent) {
    std::memmove(&s.recent[pos + 1], &s.recent[pos], sizeof(RecentTx) * (s.recent_len - pos));
    s.recent[pos] = r;
    ++s.recent_len;
  } else if (pos > 0) {  // older than all kept ones: pos == 0, dropped
    std::memmove(&s.recent[0], &s.recent[1], sizeof(RecentTx) * (pos - 1));
    s.recent[pos - 1] = r;
  }

  // hour profile decayed to the latest time: sum_i 2^(-(T - t_i)/hl) e_hour(i)
  const int h = local_hour(tx.time, tx.has_location ? tx.lon : std::nan(""));
  if (s.log_amount.count() == 1 || tx.time > s.profile_time) {
    const double f = s.log_amount.count() == 1
                         ? 1.0
                         : decay_factor(tx.time - s.profile_time, p.hour_half_life_days);
    for (double& w : s.hour_profile) w *= f;
    s.profile_time = tx.time;
    s.hour_profile[h] += 1.0;
  } else {
    s.hour_profile[h] += decay_factor(s.profile_time - tx.time, p.hour_half_life_days);
  }

  // the latest transaction by time (on equal times the later arrival)
  if (!s.has_last || tx.time >= s.last_time) {
    s.has_last = true;
    s.last_time = tx.time;
    s.last_amount = tx.amount;
    s.has_last_loc = tx.has_location;
    s.last_lat = tx.has_location ? tx.lat : 0.0;
    s.last_lon = tx.has_location ? tx.lon : 0.0;
    s.last_country[0] = s.last_country[1] = s.last_country[2] = 0;
    if (tx.country && tx.country[0] && tx.country[1]) {
      s.last_country[0] = tx.country[0];
      s.last_country[1] = tx.country[1];
    }
  }

  if (tx.method >= 0 && tx.method < kMethodBits) s.methods |= (1u << tx.method);
  // (a method outside 0..31 is simply not recorded: no shift by an out-of-range amount)

  // decayed cumulative excess score: sum_i 2^(-(T - t_i)/hl) * excess_i
  if (std::isfinite(tx.score) && tx.score > p.risk_floor) {
    const double excess = (std::min(tx.score, 100.0) - p.risk_floor) / (100.0 - p.risk_floor);
    if (s.risk == 0.0 && s.risk_time == 0.0) {
      s.risk = excess;
      s.risk_time = tx.time;
    } else if (tx.time > s.risk_time) {
      s.risk = s.risk * decay_factor(tx.time - s.risk_time, p.risk_half_life_days) + excess;
      s.risk_time = tx.time;
    } else {
      s.risk += excess * decay_factor(s.risk_time - tx.time, p.risk_half_life_days);
    }
  }
}

// ------------------------------------------------------------------ compact in-memory form
namespace {
struct CompactHeader {
  std::int64_t n;
  double mean, m2, profile_time, last_time, last_amount, last_lat, last_lon, risk, risk_time;
  std::uint64_t hist_mask;  // bit i: hist[i] != 0, stored
  std::uint32_t methods;
  std::uint32_t hour_mask;  // bit h: hour_profile[h] is not +0.0, stored
  std::uint8_t recent_len;
  std::uint8_t flags;  // 1: has_last, 2: has_last_loc
  char last_country[3];
};
static_assert(sizeof(CompactHeader) == kCompactHeaderBytes, "kCompactHeaderBytes");
static_assert(std::is_trivially_copyable<CompactHeader>::value, "memcpy'd");

bool positive_zero(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits == 0;
}

int clamped_recent(int len) { return len < 0 ? 0 : (len > kRecent ? kRecent : len); }
}  // namespace

std::size_t compact_size(const CustomerState& s) noexcept {
  std::size_t n = sizeof(CompactHeader);
  for (const std::int32_t c : s.hist) n += c != 0 ? sizeof(std::int32_t) : 0;
  for (const double h : s.hour_profile) n += positive_zero(h) ? 0 : sizeof(double);
  return n + static_cast<std::size_t>(clamped_recent(s.recent_len)) * sizeof(RecentTx);
}

std::size_t compact_encode(const CustomerState& s, unsigned char* out) noexcept {
  CompactHeader h{};
  h.n = s.log_amount.count();
  h.mean = s.log_amount.mean();
  h.m2 = s.log_amount.m2();
  h.profile_time = s.profile_time;
  h.last_time = s.last_time;
  h.last_amount = s.last_amount;
  h.last_lat = s.last_lat;
  h.last_lon = s.last_lon;
  h.risk = s.risk;
  h.risk_time = s.risk_time;
  h.methods = s.methods;
  h.recent_len = static_cast<std::uint8_t>(clamped_recent(s.recent_len));
  h.flags = static_cast<std::uint8_t>((s.has_last ? 1 : 0) | (s.has_last_loc ? 2 : 0));
  std::memcpy(h.last_country, s.last_country, sizeof h.last_country);
  unsigned char* p = out + sizeof h;
  for (int i = 0; i < kHistBins; ++i) {
    if (s.hist[i] == 0) continue;
    h.hist_mask |= std::uint64_t{1} << i;
    std::memcpy(p, &s.hist[i], sizeof(std::int32_t));
    p += sizeof(std::int32_t);
  }
  for (int i = 0; i < 24; ++i) {
    if (positive_zero(s.hour_profile[i])) continue;
    h.hour_mask |= std::uint32_t{1} << i;
    std::memcpy(p, &s.hour_profile[i], sizeof(double));
    p += sizeof(double);
  }
  const std::size_t recent = h.recent_len * sizeof(RecentTx);
  if (recent > 0) std::memcpy(p, s.recent, recent);
  p += recent;
  std::memcpy(out, &h, sizeof h);
  return static_cast<std::size_t>(p - out);
}

void compact_decode(const unsigned char* in, CustomerState& s) noexcept {
  CompactHeader h;
  std::memcpy(&h, in, sizeof h);
  s = CustomerState{};
  s.log_amount = Welford::restore(h.n, h.mean, h.m2);
  s.profile_time = h.profile_time;
  s.last_time = h.last_time;
  s.last_amount = h.last_amount;
  s.last_lat = h.last_lat;
  s.last_lon = h.last_lon;
  s.risk = h.risk;
  s.risk_time = h.risk_time;
  s.methods = h.methods;
  s.recent_len = h.recent_len;
  s.has_last = (h.flags & 1) != 0;
  s.has_last_loc = (h.flags & 2) != 0;
  std::memcpy(s.last_country, h.last_country, sizeof s.last_country);
  const unsigned char* p = in + sizeof h;
  for (int i = 0; i < kHistBins; ++i) {
    if ((h.hist_mask >> i & 1) == 0) continue;
    std::memcpy(&s.hist[i], p, sizeof(std::int32_t));
    p += sizeof(std::int32_t);
  }
  for (int i = 0; i < 24; ++i) {
    if ((h.hour_mask >> i & 1) == 0) continue;
    std::memcpy(&s.hour_profile[i], p, sizeof(double));
    p += sizeof(double);
  }
  if (h.recent_len > 0) std::memcpy(s.recent, p, h.recent_len * sizeof(RecentTx));
}

}  // namespace techmart::core
