// GoogleTest: the math of the fraud engine (state, rules, combination, logistic fit, metrics).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "techmart/core/fraud_state.hpp"
#include "techmart/core/logistic_fit.hpp"
#include "techmart/core/scoring.hpp"

using namespace techmart::core;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kT0 = 1.7e9;  // an epoch time (2023-11-14 22:13:20 UTC)

FoldInput tx_at(double t, double amount, const char* country = "DE", int method = 0) {
  return FoldInput{amount, t, country, false, 0, 0, method, kNaN};
}

RuleConfig cfg(const char* rule, double weight, double threshold,
               std::map<std::string, double> params = {}) {
  RuleConfig c;
  c.rule = rule;
  c.weight = weight;
  c.threshold = threshold;
  c.params = std::move(params);
  return c;
}

std::unique_ptr<Rule> build(const RuleConfig& c) {
  auto rules = RuleRegistry::builtin().build({c});
  EXPECT_EQ(rules.size(), 1u);
  return std::move(rules.at(0));
}

bool same_state(const CustomerState& a, const CustomerState& b, double tol) {
  if (a.log_amount.count() != b.log_amount.count()) return false;
  if (std::fabs(a.log_amount.mean() - b.log_amount.mean()) > tol) return false;
  if (std::fabs(a.log_amount.m2() - b.log_amount.m2()) > tol) return false;
  if (std::memcmp(a.hist, b.hist, sizeof a.hist) != 0) return false;
  if (a.recent_len != b.recent_len) return false;
  for (int i = 0; i < a.recent_len; ++i) {
    if (a.recent[i].time != b.recent[i].time || a.recent[i].amount != b.recent[i].amount)
      return false;
  }
  for (int h = 0; h < 24; ++h) {
    if (std::fabs(a.hour_profile[h] - b.hour_profile[h]) > tol) return false;
  }
  return a.last_amount == b.last_amount && a.profile_time == b.profile_time &&
         a.last_time == b.last_time && std::strcmp(a.last_country, b.last_country) == 0 &&
         a.methods == b.methods && std::fabs(a.risk - b.risk) <= tol && a.risk_time == b.risk_time;
}
}  // namespace

// ------------------------------------------------------------------------------ haversine
TEST(Haversine, KnownDistances) {
  EXPECT_NEAR(haversine_km(48.8566, 2.3522, 51.5074, -0.1278), 343.5, 1.0);   // Paris-London
  EXPECT_NEAR(haversine_km(40.7128, -74.0060, 34.0522, -118.2437), 3936, 5);  // NYC-LA
  EXPECT_DOUBLE_EQ(haversine_km(10, 20, 10, 20), 0.0);
  EXPECT_NEAR(haversine_km(0, 0, 0, 180), 3.14159265358979 * 6371.0088, 1e-6);  // antipodes
  EXPECT_NEAR(haversine_km(90, 0, -90, 0), 3.14159265358979 * 6371.0088, 1e-6);
  EXPECT_NEAR(haversine_km(0, 179.9, 0, -179.9), haversine_km(0, 0, 0, 0.2), 1e-9);  // dateline
  EXPECT_DOUBLE_EQ(haversine_km(1, 2, 3, 4), haversine_km(3, 4, 1, 2));
}

TEST(Haversine, RejectsOutOfRange) {
  EXPECT_THROW(haversine_km(91, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(haversine_km(0, 181, 0, 0), std::invalid_argument);
  EXPECT_THROW(haversine_km(kNaN, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(haversine_km(0, 0, 0, std::numeric_limits<double>::infinity()),
               std::invalid_argument);
}

// -------------------------------------------------------------------------- robust stats
TEST(Robust, HistogramMedianAndMad) {
  std::int32_t hist[kHistBins] = {};
  EXPECT_EQ(robust_from_hist(hist).count, 0);
  for (double a : {50.0, 55.0, 60.0, 52.0, 58.0}) ++hist[hist_bin(a)];
  const RobustEstimate e = robust_from_hist(hist);
  EXPECT_EQ(e.count, 5);
  EXPECT_NEAR(e.median, std::log1p(55.0), kHistWidth);
  EXPECT_GE(e.mad, kHistWidth / 2);
  EXPECT_LE(e.mad, kHistWidth * 1.5);
}

TEST(Robust, OneHugeOutlierCannotInflateTheScale) {
  std::int32_t hist[kHistBins] = {};
  Welford w;
  for (int i = 0; i < 30; ++i) {
    const double a = 40 + (i % 7) * 3;
    ++hist[hist_bin(a)];
    w.add(std::log1p(a));
  }
  const RobustEstimate before = robust_from_hist(hist);
  const double sd_before = std::sqrt(w.sample_variance());
  ++hist[hist_bin(1e9)];
  w.add(std::log1p(1e9));
  const RobustEstimate after = robust_from_hist(hist);
  EXPECT_NEAR(after.median, before.median, kHistWidth);
  EXPECT_NEAR(after.mad, before.mad, kHistWidth);
  EXPECT_GT(std::sqrt(w.sample_variance()), 10 * sd_before);  // the plain sd is inflated
}

TEST(Robust, BinsClampAndRefuse) {
  EXPECT_EQ(hist_bin(0), 0);
  EXPECT_EQ(hist_bin(1e300), kHistBins - 1);
  EXPECT_THROW(hist_bin(-1), std::invalid_argument);
  EXPECT_THROW(hist_bin(kNaN), std::invalid_argument);
}

// ------------------------------------------------------------------- time, hours, decay
TEST(Decay, HalvesPerHalfLife) {
  EXPECT_DOUBLE_EQ(decay_factor(0, 30), 1.0);
  EXPECT_DOUBLE_EQ(decay_factor(-5, 30), 1.0);
  EXPECT_NEAR(decay_factor(30 * 86400.0, 30), 0.5, 1e-15);
  EXPECT_NEAR(decay_factor(60 * 86400.0, 30), 0.25, 1e-15);
  EXPECT_THROW(decay_factor(1, 0), std::invalid_argument);
  EXPECT_THROW(decay_factor(kNaN, 1), std::invalid_argument);
}

TEST(Hours, UtcHourAndSmoothedShare) {
  EXPECT_EQ(utc_hour(0), 0);
  EXPECT_EQ(utc_hour(3600 * 5 + 59), 5);
  EXPECT_EQ(utc_hour(-1), 23);  // before 1970 still maps into 0..23
  EXPECT_EQ(utc_hour(kT0), 22);
  double profile[24] = {};
  EXPECT_NEAR(hour_share(profile, 3, nullptr, 4), 1.0 / 24, 1e-15);  // no data: the prior
  profile[10] = 20;
  EXPECT_NEAR(hour_share(profile, 10, nullptr, 4), (20 + 4.0 / 24) / 24, 1e-15);
  EXPECT_NEAR(hour_share(profile, 3, nullptr, 4), (4.0 / 24) / 24, 1e-15);
  double prior[24];
  std::fill(prior, prior + 24, 0.0);
  prior[3] = 1.0;
  EXPECT_NEAR(hour_share(profile, 3, prior, 4), 4.0 / 24, 1e-15);
  double sum = 0;
  for (int h = 0; h < 24; ++h) sum += hour_share(profile, h, nullptr, 4);
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_THROW(hour_share(profile, 24, nullptr, 4), std::invalid_argument);
  EXPECT_THROW(hour_share(profile, 1, nullptr, 0), std::invalid_argument);
}

TEST(Hours, LocalSolarHour) {
  // 2023-11-14T22:13:20Z
  EXPECT_EQ(local_hour(kT0, kNaN), 22);        // no location: the UTC hour
  EXPECT_EQ(local_hour(kT0, 0.0), 22);         // Greenwich
  EXPECT_EQ(local_hour(kT0, 13.4), 23);        // Berlin: +1
  EXPECT_EQ(local_hour(kT0, 139.7), 7);        // Tokyo: +9, past midnight
  EXPECT_EQ(local_hour(kT0, -74.0), 17);       // New York: -5
  EXPECT_EQ(local_hour(kT0, -122.4), 14);      // San Francisco: -8
  EXPECT_EQ(local_hour(kT0, 7.49), 22);        // rounds to the nearest 15 degrees
  EXPECT_EQ(local_hour(kT0, 7.5), 23);         // half way: up, as floor(lon / 15 + 0.5) in SQL
  EXPECT_EQ(local_hour(kT0, 180.0), 10);       // +12
  EXPECT_EQ(local_hour(kT0, -180.0), 10);      // -12: the same clock hour
  EXPECT_EQ(local_hour(kT0, 13.4 + 360), 23);  // wrapped
  EXPECT_EQ(local_hour(kT0, std::numeric_limits<double>::infinity()),
            22);  // not finite: treated as no location
  for (double lon = -180; lon <= 180; lon += 0.7) {
    const int h = local_hour(kT0, lon);
    EXPECT_GE(h, 0);
    EXPECT_LE(h, 23);
  }
  EXPECT_THROW(local_hour(kNaN, 0.0), std::invalid_argument);
}

TEST(Hours, SpreadOverNeighbouringHours) {
  double profile[24] = {};
  profile[20] = 5;
  profile[22] = 5;
  // without spread 21:00 looks as rare as 03:00; with it, it sits between two habits
  EXPECT_NEAR(hour_share(profile, 21, nullptr, 4, 0.0), hour_share(profile, 3, nullptr, 4, 0.0),
              1e-15);
  EXPECT_GT(hour_share(profile, 21, nullptr, 4, 0.5), 5 * hour_share(profile, 3, nullptr, 4, 0.5));
  // kernel (1, s, s^2) normalised: spread keeps the total, so shares still sum to 1
  for (double s : {0.0, 0.25, 0.5, 1.0}) {
    double sum = 0;
    for (int h = 0; h < 24; ++h) sum += hour_share(profile, h, nullptr, 4, s);
    EXPECT_NEAR(sum, 1.0, 1e-12) << s;
  }
  // 21:00 with s = 0.5: (0.5 * 5 + 0.5 * 5) / 2.5 = 2 of the 10 purchases
  EXPECT_NEAR(hour_share(profile, 21, nullptr, 4, 0.5), (2.0 + 4.0 / 24) / 14, 1e-15);
  // wraps around midnight
  double late[24] = {};
  late[23] = 10;
  EXPECT_GT(hour_share(late, 0, nullptr, 1, 0.5), hour_share(late, 12, nullptr, 1, 0.5));
  EXPECT_THROW(hour_share(profile, 1, nullptr, 4, -0.1), std::invalid_argument);
  EXPECT_THROW(hour_share(profile, 1, nullptr, 4, 1.5), std::invalid_argument);
  EXPECT_THROW(hour_share(profile, 1, nullptr, 4, kNaN), std::invalid_argument);
}

TEST(Methods, Bits) {
  EXPECT_EQ(payment_method_bit("credit_card"), 0);
  EXPECT_EQ(payment_method_bit("crypto"), 7);
  EXPECT_EQ(payment_method_bit("barter"), kMethodBits - 1);
  EXPECT_EQ(payment_method_bit(nullptr), -1);
}

// ----------------------------------------------------------------------------- the state
TEST(State, FoldKeepsLatestByTimeAndCounts) {
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 40; ++i) fold(s, tx_at(kT0 + i * 60, 10 + i), p);
  EXPECT_EQ(s.log_amount.count(), 40);
  EXPECT_EQ(s.recent_len, kRecent);
  EXPECT_EQ(s.recent[0].time, kT0 + 8 * 60);  // the 32 latest
  EXPECT_EQ(s.recent[kRecent - 1].time, kT0 + 39 * 60);
  std::int64_t hn = 0;
  for (int b = 0; b < kHistBins; ++b) hn += s.hist[b];
  EXPECT_EQ(hn, 40);
  EXPECT_EQ(s.last_time, kT0 + 39 * 60);
  EXPECT_EQ(s.methods, 1u);
  // an older transaction than all kept ones is counted but not kept in the window list
  fold(s, tx_at(kT0 - 3600, 5), p);
  EXPECT_EQ(s.recent[0].time, kT0 + 8 * 60);
  EXPECT_EQ(s.last_time, kT0 + 39 * 60);
  EXPECT_NO_THROW(validate_state(s));
}

TEST(State, IndependentOfArrivalOrder) {
  std::vector<FoldInput> txs;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 60; ++i) {
    FoldInput t = tx_at(kT0 + static_cast<double>(rng() % 2000000), 1 + (rng() % 50000) / 100.0,
                        (rng() % 3) ? "DE" : "FR", static_cast<int>(rng() % 4));
    t.score = static_cast<double>(rng() % 10000) / 100.0;
    txs.push_back(t);
  }
  const StateParams p;
  CustomerState a, b;
  for (const auto& t : txs) fold(a, t, p);
  std::shuffle(txs.begin(), txs.end(), rng);
  for (const auto& t : txs) fold(b, t, p);
  EXPECT_TRUE(same_state(a, b, 1e-9));
}

TEST(State, RiskDecaysAndSaturates) {
  CustomerState s;
  StateParams p;
  p.risk_half_life_days = 10;
  p.risk_floor = 50;
  FoldInput t = tx_at(kT0, 10);
  t.score = 30;  // below the floor: no risk
  fold(s, t, p);
  EXPECT_EQ(s.risk, 0.0);
  t.score = 100;
  fold(s, t, p);
  EXPECT_DOUBLE_EQ(s.risk, 1.0);
  EXPECT_NEAR(risk_score(s, s.risk_time, p), 100 * (1 - std::exp(-1.0)), 1e-12);
  EXPECT_NEAR(risk_score(s, s.risk_time + 10 * 86400.0, p), 100 * (1 - std::exp(-0.5)), 1e-12);
  t.time = kT0 + 10 * 86400.0;
  t.score = 75;  // excess 0.5
  fold(s, t, p);
  EXPECT_NEAR(s.risk, 1.0, 1e-12);
  for (int i = 0; i < 100; ++i) {
    t.score = 100;
    fold(s, t, p);
  }
  EXPECT_LE(risk_score(s, s.risk_time, p), 100.0);
  EXPECT_GT(risk_score(s, s.risk_time, p), 99.0);
}

TEST(State, RefusesBadInputAndCorruptState) {
  CustomerState s;
  const StateParams p;
  EXPECT_THROW(fold(s, tx_at(kNaN, 1), p), std::invalid_argument);
  EXPECT_THROW(fold(s, tx_at(kT0, -1), p), std::invalid_argument);
  EXPECT_THROW(fold(s, tx_at(kT0, std::numeric_limits<double>::infinity()), p),
               std::invalid_argument);
  EXPECT_EQ(s.log_amount.count(), 0);  // nothing half-folded
  CustomerState bad;
  bad.recent_len = kRecent + 1;
  EXPECT_THROW(validate_state(bad), std::invalid_argument);
  CustomerState bad2;
  bad2.hist[3] = 2;  // more histogram values than n
  EXPECT_THROW(validate_state(bad2), std::invalid_argument);
  StateParams q;
  q.risk_floor = 100;
  EXPECT_THROW(q.validate(), std::invalid_argument);
}

// ----------------------------------------------------------------------------- the rules
TEST(Rules, VelocityCountsTheWindow) {
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 5; ++i) fold(s, tx_at(kT0 + i * 60, 20), p);
  const auto r = build(cfg("velocity_10m", 1, 4));
  TransactionInput tx;
  tx.amount = 20;
  tx.time = kT0 + 5 * 60;
  EXPECT_EQ(r->evaluate({tx, s})->observed, 6.0);  // 5 earlier + this one
  tx.time = kT0 + 4 * 60 + 601;                    // only the last one... none within 10 min
  EXPECT_EQ(r->evaluate({tx, s})->observed, 1.0);
}

TEST(Rules, CardTestingOnlySmallAmounts) {
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 4; ++i) fold(s, tx_at(kT0 + i * 20, 1.5), p);
  fold(s, tx_at(kT0 + 90, 200), p);
  const auto r = build(cfg("card_testing", 1, 3, {{"small_amount", 5}}));
  TransactionInput tx;
  tx.amount = 2;
  tx.time = kT0 + 100;
  EXPECT_EQ(r->evaluate({tx, s})->observed, 5.0);
  tx.amount = 50;  // a large amount is not card testing
  EXPECT_FALSE(r->evaluate({tx, s}).has_value());
}

TEST(Rules, ImpossibleTravel) {
  CustomerState s;
  const StateParams p;
  FoldInput paris = tx_at(kT0, 30);
  paris.has_location = true;
  paris.lat = 48.8566;
  paris.lon = 2.3522;
  fold(s, paris, p);
  const auto r = build(cfg("impossible_travel", 3, 1, {{"max_kmh", 900}}));
  TransactionInput tx;
  tx.amount = 30;
  tx.has_location = true;
  tx.lat = 40.7128;  // New York, one hour later: ~5837 km/h
  tx.lon = -74.0060;
  tx.time = kT0 + 3600;
  const auto f = r->evaluate({tx, s});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->observed, haversine_km(48.8566, 2.3522, 40.7128, -74.0060) / 900.0, 1e-9);
  tx.time = kT0 + 20 * 3600;  // 20 hours later: a plane can do it
  EXPECT_LT(r->evaluate({tx, s})->observed, 1.0);
  tx.lat = 48.86;  // next door, 1 second later: below min_km, no travel
  tx.lon = 2.35;
  tx.time = kT0 + 1;
  EXPECT_EQ(r->evaluate({tx, s})->observed, 0.0);
  tx.has_location = false;
  EXPECT_FALSE(r->evaluate({tx, s}).has_value());
}

TEST(Rules, CountryAccountAndMethod) {
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 5; ++i) fold(s, tx_at(kT0 + i, 20, "DE", 0), p);
  ScoringEnv env;
  env.high_risk_countries.push_back({'K', 'P'});
  env.high_risk_methods = 1u << payment_method_bit("crypto");
  TransactionInput tx;
  tx.amount = 800;
  tx.time = kT0 + 10;
  std::strcpy(tx.country, "KP");
  std::strcpy(tx.home_country, "DE");
  tx.method = payment_method_bit("crypto");
  tx.account_age_days = 3;
  const ScoringContext ctx{tx, s, &env};
  EXPECT_EQ(build(cfg("foreign_country", 1, 0.5))->evaluate(ctx)->observed, 1.0);
  EXPECT_EQ(build(cfg("high_risk_country", 1, 0.5))->evaluate(ctx)->observed, 1.0);
  EXPECT_EQ(build(cfg("high_risk_method", 1, 0.5))->evaluate(ctx)->observed, 1.0);
  EXPECT_EQ(build(cfg("new_payment_method", 1, 0.5))->evaluate(ctx)->observed, 1.0);
  EXPECT_DOUBLE_EQ(
      build(cfg("young_account", 1, 1, {{"large_amount", 400}}))->evaluate(ctx)->observed, 2.0);
  std::strcpy(tx.country, "DE");
  tx.method = 0;
  tx.account_age_days = 400;
  EXPECT_EQ(build(cfg("foreign_country", 1, 0.5))->evaluate(ctx)->observed, 0.0);
  EXPECT_EQ(build(cfg("high_risk_country", 1, 0.5))->evaluate(ctx)->observed, 0.0);
  EXPECT_EQ(build(cfg("high_risk_method", 1, 0.5))->evaluate(ctx)->observed, 0.0);
  EXPECT_EQ(build(cfg("new_payment_method", 1, 0.5))->evaluate(ctx)->observed, 0.0);
  EXPECT_EQ(build(cfg("young_account", 1, 1))->evaluate(ctx)->observed, 0.0);
}

TEST(Rules, RareHourForTheCustomer) {
  CustomerState s;
  const StateParams p;
  const double day = 86400;
  for (int i = 0; i < 30; ++i) fold(s, tx_at(kT0 - 22 * 3600 + 14 * 3600 + i * day, 20), p);  // 14h
  const auto r = build(cfg("rare_hour_customer", 1, std::log(4.0)));
  TransactionInput tx;
  tx.amount = 20;
  tx.time = kT0 - 22 * 3600 + 31 * day + 3 * 3600;  // 03h UTC
  EXPECT_GT(r->evaluate({tx, s})->observed, std::log(4.0));
  tx.time = kT0 - 22 * 3600 + 31 * day + 14 * 3600;  // 14h UTC: the usual hour
  EXPECT_LT(r->evaluate({tx, s})->observed, 0.0);
}

TEST(Rules, AmountVsListPriceAndRobust) {
  TransactionInput tx;
  tx.amount = 100;
  tx.unit_price = 100;
  tx.list_price = 20;
  CustomerState s;
  EXPECT_NEAR(build(cfg("amount_vs_list", 1, 0.4))->evaluate({tx, s})->observed,
              std::log(100.01 / 20.01), 1e-12);
  tx.list_price = kNaN;
  EXPECT_FALSE(build(cfg("amount_vs_list", 1, 0.4))->evaluate({tx, s}).has_value());
  const StateParams p;
  for (int i = 0; i < 30; ++i) fold(s, tx_at(kT0 + i, 40 + i % 5), p);
  fold(s, tx_at(kT0 + 100, 1e7), p);  // one huge outlier in the history
  const auto robust = build(cfg("amount_robust", 1, 3.5));
  const auto plain = build(cfg("amount_zscore", 1.5, 3));
  tx.amount = 2000;                                     // a spike after the outlier
  EXPECT_GT(robust->evaluate({tx, s})->observed, 3.5);  // still seen by the robust rule
  EXPECT_LT(plain->evaluate({tx, s})->observed, 3.0);   // masked for the plain z-score
}

TEST(Rules, RegistryRefusesBadParams) {
  EXPECT_THROW(build(cfg("impossible_travel", 1, 1, {{"max_kmh", 0}})), std::invalid_argument);
  EXPECT_THROW(RuleRegistry::builtin().build({cfg("velocity_10m", 1, 1, {{"window_s", -5}})}),
               std::invalid_argument);
  EXPECT_THROW(RuleRegistry::builtin().build({cfg("amount_zscore", 1, 1, {{"use_priors", 2}})}),
               std::invalid_argument);
  EXPECT_TRUE(RuleRegistry::builtin().knows("card_testing"));
}

// ------------------------------------------------------------------------- combination
TEST(EvidenceCombiner, HingeAndContributions) {
  const EvidenceCombiner c(-4);
  std::vector<Feature> f(2);
  f[0].observed = 5;
  f[0].threshold = 3;
  f[0].weight = 2;  // evidence 4
  f[1].observed = 1;
  f[1].threshold = 3;
  f[1].weight = 2;  // below threshold: 0, does not lower the score
  const double s = c.combine(f);
  EXPECT_NEAR(s, 100 * logistic(0.0), 1e-12);
  const auto contrib = c.contributions(f, s);
  EXPECT_NEAR(contrib[0], 50 - 100 * logistic(-4), 1e-12);
  EXPECT_EQ(contrib[1], 0.0);
  EXPECT_NEAR(c.combine({}), 100 * logistic(-4), 1e-12);
  f[0].observed = kNaN;
  EXPECT_THROW(c.combine(f), std::invalid_argument);
}

TEST(EvidenceCombiner, ScorerListsReasonsWithWeights) {
  std::vector<RuleConfig> configs = {cfg("velocity_10m", 1.5, 3), cfg("foreign_country", 2, 0.5)};
  Scorer scorer(RuleRegistry::builtin().build(configs), std::make_unique<EvidenceCombiner>(-4));
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 6; ++i) fold(s, tx_at(kT0 + i * 30, 10), p);
  TransactionInput tx;
  tx.amount = 10;
  tx.time = kT0 + 200;
  std::strcpy(tx.country, "DE");
  std::strcpy(tx.home_country, "DE");
  const ScoreResult r = scorer.score({tx, s}, 0.01);
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_EQ(r.reasons[0].rule, "velocity_10m");
  EXPECT_DOUBLE_EQ(r.reasons[0].weight, 1.5);
  EXPECT_NEAR(r.score, 100 * logistic(-4 + 1.5 * (7 - 3)), 1e-9);
  EXPECT_NE(r.reasons[0].detail.find("7 transactions"), std::string::npos) << r.reasons[0].detail;
  EXPECT_NE(reasons_to_json(r.reasons).find("\"weight\": 1.5"), std::string::npos);
}

// -------------------------------------------------------------------------- logistic fit
TEST(LogisticFit, RecoversKnownWeights) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 3);
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  const double w0 = 1.5, w1 = 0.0, b = -3;
  for (int i = 0; i < 20000; ++i) {
    const double a = u(rng), c = u(rng);
    const double p = logistic(b + w0 * a + w1 * c);
    x.push_back({a, c});
    y.push_back(std::uniform_real_distribution<double>(0, 1)(rng) < p ? 1 : 0);
  }
  FitOptions o;
  o.l2 = 1e-3;
  const FitResult r = fit_logistic(x, y, o);
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.weights[0], w0, 0.1);
  EXPECT_NEAR(r.weights[1], w1, 0.1);
  EXPECT_NEAR(r.bias, b, 0.15);
  const FitResult again = fit_logistic(x, y, o);  // deterministic, bit for bit
  EXPECT_EQ(again.weights, r.weights);
  EXPECT_EQ(again.bias, r.bias);
}

TEST(LogisticFit, SeparableDataStaysFiniteAndRegularisationShrinks) {
  std::vector<std::vector<double>> x = {{0}, {0}, {0}, {1}, {1}, {1}};
  std::vector<int> y = {0, 0, 0, 1, 1, 1};
  FitOptions weak, strong;
  weak.l2 = 0.01;
  strong.l2 = 10;
  const FitResult a = fit_logistic(x, y, weak), b = fit_logistic(x, y, strong);
  EXPECT_TRUE(std::isfinite(a.weights[0]));
  EXPECT_GT(a.weights[0], b.weights[0]);
  EXPECT_GT(b.weights[0], 0);
}

TEST(LogisticFit, NonNegativeAndValidation) {
  std::vector<std::vector<double>> x = {{1}, {1}, {0}, {0}};
  std::vector<int> y = {0, 0, 1, 1};  // the feature predicts the negative class
  FitOptions o;
  EXPECT_EQ(fit_logistic(x, y, o).weights[0], 0.0);
  o.non_negative = false;
  EXPECT_LT(fit_logistic(x, y, o).weights[0], 0.0);
  EXPECT_THROW(fit_logistic({}, {}, o), std::invalid_argument);
  EXPECT_THROW(fit_logistic({{1}}, {2}, o), std::invalid_argument);
  EXPECT_THROW(fit_logistic({{1}, {1, 2}}, {0, 1}, o), std::invalid_argument);
  EXPECT_THROW(fit_logistic({{kNaN}}, {1}, o), std::invalid_argument);
  FitOptions zero;
  zero.l2 = 0;
  EXPECT_THROW(fit_logistic(x, y, zero), std::invalid_argument);
  const FitResult one_class = fit_logistic({{1}, {2}}, {1, 1}, FitOptions{});
  EXPECT_TRUE(std::isfinite(one_class.bias));
}

// ------------------------------------------------------------------------------- metrics
TEST(Metrics, ConfusionAucAp) {
  const std::vector<double> s = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  const std::vector<int> y = {1, 0, 1, 0, 0, 0};
  const Confusion c = confusion_at(s, y, 0.65);
  EXPECT_EQ(c.tp, 2u);
  EXPECT_EQ(c.fp, 1u);
  EXPECT_EQ(c.fn, 0u);
  EXPECT_NEAR(c.precision(), 2.0 / 3, 1e-15);
  EXPECT_EQ(c.recall(), 1.0);
  // positives at ranks 1 and 3: pairs above negatives 4 + 3 of 8
  EXPECT_NEAR(roc_auc(s, y), 7.0 / 8, 1e-15);
  EXPECT_NEAR(average_precision(s, y), 0.5 * (1.0 + 2.0 / 3), 1e-15);
  EXPECT_NEAR(roc_auc({1, 1, 1, 1}, {1, 0, 1, 0}), 0.5, 1e-15);  // all tied
  EXPECT_TRUE(std::isnan(roc_auc({1, 2}, {1, 1})));
  EXPECT_EQ(confusion_at({}, {}, 0).precision(), 0.0);
  EXPECT_THROW(roc_auc({kNaN}, {1}), std::invalid_argument);
}

// ------------------------------------------------------------------ compact in-memory form
namespace {
bool same_bits(const CustomerState& a, const CustomerState& b) {
  // field by field (the struct has padding): every value bit for bit
  auto eq = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  if (a.log_amount.count() != b.log_amount.count() ||
      !eq(a.log_amount.mean(), b.log_amount.mean()) || !eq(a.log_amount.m2(), b.log_amount.m2()))
    return false;
  if (std::memcmp(a.hist, b.hist, sizeof a.hist) != 0 || a.recent_len != b.recent_len) return false;
  for (int i = 0; i < a.recent_len; ++i) {
    if (!eq(a.recent[i].time, b.recent[i].time) || !eq(a.recent[i].amount, b.recent[i].amount))
      return false;
  }
  for (int h = 0; h < 24; ++h) {
    if (!eq(a.hour_profile[h], b.hour_profile[h])) return false;
  }
  return eq(a.profile_time, b.profile_time) && a.has_last == b.has_last &&
         eq(a.last_time, b.last_time) && eq(a.last_amount, b.last_amount) &&
         a.has_last_loc == b.has_last_loc && eq(a.last_lat, b.last_lat) &&
         eq(a.last_lon, b.last_lon) && std::memcmp(a.last_country, b.last_country, 3) == 0 &&
         a.methods == b.methods && eq(a.risk, b.risk) && eq(a.risk_time, b.risk_time);
}
}  // namespace

TEST(Compact, RoundTripIsExactAndSmallerForYoungStates) {
  const StateParams p;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> amount(0.5, 5000.0), lat(-60, 60), lon(-170, 170);
  CustomerState s;
  std::vector<unsigned char> buf(kCompactMaxBytes);
  std::size_t prev = 0;
  for (int i = 0; i <= 60; ++i) {
    const std::size_t n = compact_encode(s, buf.data());
    EXPECT_EQ(n, compact_size(s));
    EXPECT_LE(n, kCompactMaxBytes);
    CustomerState back;
    back.risk = 123;  // overwritten
    compact_decode(buf.data(), back);
    EXPECT_TRUE(same_bits(s, back)) << "after " << i << " transactions";
    if (i > 0 && i <= kRecent) {
      EXPECT_GT(n, prev);  // grows by the recent transaction at least
    }
    prev = n;
    FoldInput t = tx_at(kT0 + i * 3517.0, amount(rng), i % 3 ? "DE" : "FR", i % 4);
    if (i % 2) {
      t.has_location = true;
      t.lat = lat(rng);
      t.lon = lon(rng);
    }
    t.score = 40 + i % 60;
    fold(s, t, p);
  }
  CustomerState empty;
  EXPECT_EQ(compact_size(empty), kCompactHeaderBytes);
  EXPECT_LT(compact_size(s), sizeof(CustomerState));
}

TEST(Compact, NegativeZeroAndFullArraysSurvive) {
  CustomerState s;
  for (int i = 0; i < kHistBins; ++i) s.hist[i] = i + 1;
  for (int h = 0; h < 24; ++h) s.hour_profile[h] = h % 2 ? -0.0 : 0.25 * h;  // +0.0 at h = 0
  s.recent_len = kRecent;
  for (int i = 0; i < kRecent; ++i) s.recent[i] = RecentTx{kT0 + i, 1.0 + i};
  std::vector<unsigned char> buf(kCompactMaxBytes);
  EXPECT_EQ(compact_encode(s, buf.data()), kCompactMaxBytes - sizeof(double));  // hour 0 omitted
  CustomerState back;
  compact_decode(buf.data(), back);
  EXPECT_TRUE(same_bits(s, back));
  EXPECT_TRUE(std::signbit(back.hour_profile[1]));
}
