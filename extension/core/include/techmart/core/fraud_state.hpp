#pragma once
// Per-customer state of the fraud engine and the math it is built from. Plain data (trivially
// copyable) so that the Postgres glue can keep it in palloc'd memory and copy it atomically.
//
// Every part of the state is a function of the *set* of the customer's transactions (and their
// stored scores), not of the order they arrived in (up to floating-point rounding of Welford):
// integer histogram counts, a time-decayed hour profile anchored at the latest time, the
// kRecent latest transactions by time, the latest location by time, a bitmask of methods and a
// time-decayed risk. That is what makes rebuild_state() equal to scoring row by row, and a
// recomputation after concurrent writers equal to the live state.
#include <cstddef>
#include <cstdint>

#include "techmart/core/welford.hpp"

namespace techmart::core {

inline constexpr int kRecent = 32;          // latest transactions kept for the windows
inline constexpr int kHistBins = 64;        // histogram of log1p(amount)
inline constexpr double kHistWidth = 0.25;  // bin width on the log1p scale (e^0.25 = 1.28x)
inline constexpr int kMethodBits = 32;      // payment methods as bits (31 = any other)
inline constexpr double kSecondsPerDay = 86400.0;

struct RecentTx {
  double time;    // epoch seconds (UTC)
  double amount;  // >= 0
};

struct CustomerState {
  Welford log_amount;                 // n, mean, m2 of log1p(amount)
  std::int32_t hist[kHistBins] = {};  // counts of log1p(amount) per bin (robust median/MAD)
  int recent_len = 0;                 // 0..kRecent
  RecentTx recent[kRecent] = {};      // the latest transactions by time, ascending
  double hour_profile[24] = {};       // weights of UTC hours, decayed to profile_time
  double profile_time = 0.0;          // epoch seconds the profile is decayed to
  bool has_last = false;              // the latest transaction by time:
  double last_time = 0.0;
  double last_amount = 0.0;
  bool has_last_loc = false;  //   its location, when it had one
  double last_lat = 0.0, last_lon = 0.0;
  char last_country[3] = {0, 0, 0};  //   its country ("" when unknown)
  std::uint32_t methods = 0;         // bit i: payment method i seen
  double risk = 0.0;                 // decayed cumulative excess score, at risk_time
  double risk_time = 0.0;
};

// Parameters of the state's own dynamics (settings table).
struct StateParams {
  double hour_half_life_days = 90.0;  // weight of a past hour halves every this many days
  double risk_half_life_days = 30.0;  // customer risk halves every this many days
  double risk_floor = 50.0;           // scores above this add (score - floor) / (100 - floor)

  void validate() const;  // throws std::invalid_argument
};

// What fold() needs to know about one transaction.
struct FoldInput {
  double amount;        // finite, >= 0
  double time;          // epoch seconds, finite
  const char* country;  // 2 letters or nullptr/"" when unknown
  bool has_location;
  double lat, lon;
  int method;    // 0..31 or -1 when unknown
  double score;  // the stored score 0..100 (NaN: not scored, adds no risk)
};

// Folds one transaction into the state. Throws std::invalid_argument on non-finite input.
void fold(CustomerState& s, const FoldInput& tx, const StateParams& p);

// Checks invariants of a state read back from storage; throws std::invalid_argument.
void validate_state(const CustomerState& s);

// ------------------------------------------------------------------ compact in-memory form
// A CustomerState in fewer bytes for in-memory caches (the scoring trigger keeps one per customer
// a statement touched): the fixed fields, then only the non-zero histogram bins and hour weights
// and the recent_len latest transactions. The round trip is exact, bit for bit. Not a storage
// format (the layout may change with any build).
inline constexpr std::size_t kCompactHeaderBytes = 104;
inline constexpr std::size_t kCompactMaxBytes = kCompactHeaderBytes +
                                                kHistBins * sizeof(std::int32_t) +
                                                24 * sizeof(double) + kRecent * 2 * sizeof(double);
// Bytes compact_encode(s) writes (<= kCompactMaxBytes).
std::size_t compact_size(const CustomerState& s) noexcept;
// Writes the compact form of s to out (room for compact_size(s) bytes); returns its size.
std::size_t compact_encode(const CustomerState& s, unsigned char* out) noexcept;
// Reads what compact_encode wrote.
void compact_decode(const unsigned char* in, CustomerState& s) noexcept;

// ------------------------------------------------------------------------------ pieces
// Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). Latitudes in
// [-90, 90], longitudes in [-180, 180]; throws std::invalid_argument otherwise.
double haversine_km(double lat1, double lon1, double lat2, double lon2);

// Histogram bin of log1p(amount): floor(log1p(amount) / kHistWidth), clamped to the last bin.
int hist_bin(double amount);

// Median and MAD of log1p(amount) read from the histogram (linear interpolation inside a bin;
// the MAD is the median of |bin centre - median|, at least half a bin width). count = 0 when
// the histogram is empty.
struct RobustEstimate {
  std::int64_t count;
  double median;
  double mad;
};
RobustEstimate robust_from_hist(const std::int32_t (&hist)[kHistBins]);

// 2^(-dt / half_life) for dt >= 0 (1 for dt <= 0).
double decay_factor(double dt_seconds, double half_life_days);

// UTC hour 0..23 of an epoch time.
int utc_hour(double epoch_seconds);

// Local solar hour 0..23: the UTC hour shifted by round(lon / 15) hours (the time zone the
// longitude lies in, without political borders or DST). A non-finite lon (no location): the UTC
// hour. lon outside [-180, 180] is wrapped.
int local_hour(double epoch_seconds, double lon);

// Smoothed share of `hour` in a profile: (k_h + a * prior_h) / (W + a), prior a 24-vector of
// shares summing to 1 (nullptr: uniform), a > 0, k the profile spread over the neighbouring hours
// with a circular kernel (1, s, s^2 for +-1, +-2 hours, normalised so that it keeps W): a customer
// who buys at 20:00 and 22:00 is not surprising at 21:00. spread s in [0, 1]; 0: k_h = w_h.
double hour_share(const double (&profile)[24], int hour, const double* prior, double a,
                  double spread = 0.0);

// Payment method name -> bit (0..30 for the known ones, 31 for anything else).
int payment_method_bit(const char* name);

// Customer risk 0..100 from the decayed cumulative excess: 100 * (1 - exp(-risk)), decayed to
// `now` (>= risk_time, else risk_time).
double risk_score(const CustomerState& s, double now, const StateParams& p);

}  // namespace techmart::core
