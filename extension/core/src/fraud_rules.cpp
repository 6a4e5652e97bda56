// The rules of the fraud engine (docs/fraud.md lists each one, its math and its parameters).
// One class, FraudRule, parameterised by kind: every rule turns the transaction and the state
// before it into one observed number; the combiner adds weight * max(0, observed - threshold).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "detail_text.hpp"
#include "techmart/core/errors.hpp"
#include "techmart/core/scoring.hpp"

namespace techmart::core {

bool ScoringEnv::is_high_risk_country(const char* cc) const {
  if (cc == nullptr || cc[0] == 0 || cc[1] == 0) return false;
  for (const auto& c : high_risk_countries) {
    if (c[0] == cc[0] && c[1] == cc[1]) return true;
  }
  return false;
}

namespace {

enum class Kind {
  kVelocity,
  kSpend24h,
  kCardTesting,
  kAmountRobust,
  kAmountVsList,
  kForeignCountry,
  kImpossibleTravel,
  kHighRiskCountry,
  kRareHourCustomer,
  kRareHourShop,
  kYoungAccount,
  kNewPaymentMethod,
  kHighRiskMethod,
};

struct Spec {
  const char* name;
  Kind kind;
  double default_window;  // seconds (velocity rules)
};

constexpr Spec kSpecs[] = {
    {"velocity_10m", Kind::kVelocity, 600},
    {"velocity_1h", Kind::kVelocity, 3600},
    {"velocity_24h", Kind::kVelocity, 86400},
    {"spend_24h", Kind::kSpend24h, 86400},
    {"card_testing", Kind::kCardTesting, 600},
    {"amount_robust", Kind::kAmountRobust, 0},
    {"amount_vs_list", Kind::kAmountVsList, 0},
    {"foreign_country", Kind::kForeignCountry, 0},
    {"impossible_travel", Kind::kImpossibleTravel, 0},
    {"high_risk_country", Kind::kHighRiskCountry, 0},
    {"rare_hour_customer", Kind::kRareHourCustomer, 0},
    {"rare_hour_shop", Kind::kRareHourShop, 0},
    {"young_account", Kind::kYoungAccount, 0},
    {"new_payment_method", Kind::kNewPaymentMethod, 0},
    {"high_risk_method", Kind::kHighRiskMethod, 0},
};

double positive_param(const RuleConfig& c, const char* name, double fallback) {
  const double v = c.param(name, fallback);
  if (!(v > 0)) throw std::invalid_argument(c.rule + ": " + name + " must be > 0");
  return v;
}

// Count and sum of the recent transactions in (t - window, t], this one included.
void window_of(const CustomerState& s, double t, double window, double small, double* count,
               double* sum, double* small_count) {
  *count = 0;
  *sum = 0;
  *small_count = 0;
  for (int i = s.recent_len - 1; i >= 0; --i) {
    const RecentTx& r = s.recent[i];
    if (r.time > t) continue;
    if (r.time <= t - window) break;  // ascending by time: all earlier ones are older
    *count += 1;
    *sum += r.amount;
    if (r.amount <= small) *small_count += 1;
  }
}

class FraudRule final : public Rule {
 public:
  FraudRule(const Spec& spec, const RuleConfig& c)
      : name_(c.rule), kind_(spec.kind), weight_(c.weight), threshold_(c.threshold) {
    c.validate();
    switch (kind_) {
      case Kind::kVelocity:
      case Kind::kSpend24h:
        window_ = positive_param(c, "window_s", spec.default_window);
        break;
      case Kind::kCardTesting:
        window_ = positive_param(c, "window_s", spec.default_window);
        small_ = positive_param(c, "small_amount", 5.0);
        break;
      case Kind::kAmountRobust:
        prior_.mean = c.param("prior_mean", 4.0);
        prior_.sd = c.param("prior_sd", 1.2);
        prior_.weight = c.param("prior_weight", 5.0);
        prior_.validate();
        min_n_ = c.param("min_history", 5);
        break;
      case Kind::kImpossibleTravel:
        max_kmh_ = positive_param(c, "max_kmh", 900);
        min_km_ = c.param("min_km", 100);
        min_dt_ = positive_param(c, "min_elapsed_s", 60);
        cap_ = positive_param(c, "cap", 10);
        break;
      case Kind::kRareHourCustomer:
        smoothing_ = positive_param(c, "smoothing", 4);
        min_n_ = c.param("min_history", 5);
        spread_ = c.param("spread", 0.5);
        if (!(spread_ >= 0 && spread_ <= 1)) {
          throw std::invalid_argument("rule rare_hour_customer: spread must be in [0, 1]");
        }
        break;
      case Kind::kYoungAccount:
        young_days_ = positive_param(c, "young_days", 30);
        large_ = positive_param(c, "large_amount", 500);
        cap_ = positive_param(c, "cap", 20);
        break;
      case Kind::kNewPaymentMethod:
        min_n_ = c.param("min_history", 3);
        break;
      default:
        break;
    }
    if (min_n_ < 0) throw std::invalid_argument(c.rule + ": min_history must be >= 0");
    if (min_km_ < 0) throw std::invalid_argument(c.rule + ": min_km must be >= 0");
  }

  const std::string& name() const override { return name_; }

  std::optional<Feature> evaluate(const ScoringContext& ctx) const override {
    const TransactionInput& tx = ctx.tx;
    const CustomerState& s = ctx.history;
    Feature f;
    f.rule = name_;
    f.threshold = threshold_;
    f.weight = weight_;
    f.neutral = 0.0;
    const double n = static_cast<double>(s.log_amount.count());
    switch (kind_) {
      case Kind::kVelocity: {
        double count, sum, small;
        window_of(s, tx.time, window_, 0, &count, &sum, &small);
        f.observed = count + 1;
        break;
      }
      case Kind::kSpend24h: {
        double count, sum, small;
        window_of(s, tx.time, window_, 0, &count, &sum, &small);
        const Prior p{4.0, 1.2, 5.0};
        const ShrunkEstimate est = shrink(s.log_amount, p);
        const double typical = std::max(1.0, std::expm1(est.mean));
        f.observed = (sum + tx.amount) / typical;
        f.aux[0] = sum + tx.amount;
        f.aux[1] = typical;
        f.aux[2] = count + 1;
        break;
      }
      case Kind::kCardTesting: {
        if (tx.amount > small_) return std::nullopt;
        double count, sum, small;
        window_of(s, tx.time, window_, small_, &count, &sum, &small);
        f.observed = small + 1;
        break;
      }
      case Kind::kAmountRobust: {
        const RobustEstimate r = robust_from_hist(s.hist);
        if (static_cast<double>(r.count) < min_n_) return std::nullopt;
        const double k = prior_.weight;
        const double m = static_cast<double>(r.count);
        const double centre = (m * r.median + k * prior_.mean) / (m + k);
        const double scale_c = 1.4826 * r.mad;
        const double scale =
            std::sqrt((m * scale_c * scale_c + k * prior_.sd * prior_.sd) / (m + k));
        f.observed = (std::log1p(tx.amount) - centre) / scale;
        f.aux[0] = centre;
        f.aux[1] = scale;
        f.aux[2] = m;
        break;
      }
      case Kind::kAmountVsList: {
        if (!(tx.list_price > 0) || !(tx.unit_price >= 0)) return std::nullopt;
        f.observed = std::fabs(std::log((tx.unit_price + 0.01) / (tx.list_price + 0.01)));
        f.aux[0] = tx.unit_price;
        f.aux[1] = tx.list_price;
        break;
      }
      case Kind::kForeignCountry: {
        if (!tx.country[0] || !tx.home_country[0]) return std::nullopt;
        f.observed = std::strncmp(tx.country, tx.home_country, 2) != 0 ? 1.0 : 0.0;
        break;
      }
      case Kind::kImpossibleTravel: {
        if (!tx.has_location || !s.has_last || !s.has_last_loc) return std::nullopt;
        const double km = haversine_km(s.last_lat, s.last_lon, tx.lat, tx.lon);
        const double dt = std::max(std::fabs(tx.time - s.last_time), min_dt_);
        const double kmh = km / (dt / 3600.0);
        f.observed = km < min_km_ ? 0.0 : std::min(cap_, kmh / max_kmh_);
        f.aux[0] = km;
        f.aux[1] = std::fabs(tx.time - s.last_time);
        f.aux[2] = kmh;
        break;
      }
      case Kind::kHighRiskCountry: {
        if (!tx.country[0] || ctx.env == nullptr) return std::nullopt;
        f.observed = ctx.env->is_high_risk_country(tx.country) ? 1.0 : 0.0;
        break;
      }
      case Kind::kRareHourCustomer: {
        if (n < min_n_) return std::nullopt;
        const int h = local_hour(tx.time, tx.has_location ? tx.lon : std::nan(""));
        const double* prior = ctx.env && ctx.env->has_shop_hours ? ctx.env->shop_hours : nullptr;
        // decay the profile to this time before reading it (shares are what matter)
        const double share =
            std::max(hour_share(s.hour_profile, h, prior, smoothing_, spread_), 1e-6);
        f.observed = -std::log(24.0 * share);
        f.aux[0] = share;
        f.aux[1] = h;
        break;
      }
      case Kind::kRareHourShop: {
        if (ctx.env == nullptr || !ctx.env->has_shop_hours) return std::nullopt;
        const int h = local_hour(tx.time, tx.has_location ? tx.lon : std::nan(""));
        const double share = std::max(ctx.env->shop_hours[h], 1e-6);
        f.observed = -std::log(24.0 * share);
        f.aux[0] = share;
        f.aux[1] = h;
        break;
      }
      case Kind::kYoungAccount: {
        if (!std::isfinite(tx.account_age_days)) return std::nullopt;
        f.observed = tx.account_age_days < young_days_ ? std::min(cap_, tx.amount / large_) : 0.0;
        f.aux[0] = tx.account_age_days;
        break;
      }
      case Kind::kNewPaymentMethod: {
        if (tx.method < 0 || tx.method >= kMethodBits || n < min_n_) return std::nullopt;
        f.observed = (s.methods & (1u << tx.method)) ? 0.0 : 1.0;
        f.aux[0] = n;
        break;
      }
      case Kind::kHighRiskMethod: {
        if (tx.method < 0 || tx.method >= kMethodBits || ctx.env == nullptr) return std::nullopt;
        f.observed = (ctx.env->high_risk_methods & (1u << tx.method)) ? 1.0 : 0.0;
        break;
      }
      default:
        return std::nullopt;
    }
    require_finite(f.observed, name_.c_str());
    return f;
  }

  // The texts are those of snprintf with the format in the comment above each case (the
  // arguments in order), written piece by piece (detail_text.hpp; tested against snprintf).
  std::string describe(const Feature& f, const ScoringContext& ctx) const override {
    const TransactionInput& tx = ctx.tx;
    DetailText t;
    switch (kind_) {
      case Kind::kVelocity:
        // "%.0f transactions of this customer within %.0f minutes (this one included)"
        t.fixed(f.observed, 0) << " transactions of this customer within ";
        t.fixed(window_ / 60.0, 0) << " minutes (this one included)";
        break;
      case Kind::kSpend24h:
        // "%.2f spent in %.0f transactions within %.0f h, %.1f times the typical amount"
        t.fixed(f.aux[0], 2) << " spent in ";
        t.fixed(f.aux[2], 0) << " transactions within ";
        t.fixed(window_ / 3600.0, 0) << " h, ";
        t.fixed(f.observed, 1) << " times the typical amount";
        break;
      case Kind::kCardTesting:
        // "%.0f amounts of at most %.2f within %.0f minutes (card testing)"
        t.fixed(f.observed, 0) << " amounts of at most ";
        t.fixed(small_, 2) << " within ";
        t.fixed(window_ / 60.0, 0) << " minutes (card testing)";
        break;
      case Kind::kAmountRobust:
        // "amount %.2f vs median %.2f (robust z with MAD scale %.3f over %.0f amounts)"
        t << "amount ";
        t.fixed(tx.amount, 2) << " vs median ";
        t.fixed(std::expm1(f.aux[0]), 2) << " (robust z with MAD scale ";
        t.fixed(f.aux[1], 3) << " over ";
        t.fixed(f.aux[2], 0) << " amounts)";
        break;
      case Kind::kAmountVsList:
        // "unit price %.2f vs list price %.2f"
        t << "unit price ";
        t.fixed(f.aux[0], 2) << " vs list price ";
        t.fixed(f.aux[1], 2);
        break;
      case Kind::kForeignCountry:
        // "purchase country " + 2 bytes + " differs from home country " + 2 bytes
        t << "purchase country ";
        t.put(tx.country, 2) << " differs from home country ";
        t.put(tx.home_country, 2);
        break;
      case Kind::kImpossibleTravel:
        // "%.0f km from the previous transaction in %.0f s: %.0f km/h (limit %.0f)"
        t.fixed(f.aux[0], 0) << " km from the previous transaction in ";
        t.fixed(f.aux[1], 0) << " s: ";
        t.fixed(f.aux[2], 0) << " km/h (limit ";
        t.fixed(max_kmh_, 0) << ")";
        break;
      case Kind::kHighRiskCountry:
        // "country " + 2 bytes + " is on the high-risk list"
        t << "country ";
        t.put(tx.country, 2) << " is on the high-risk list";
        break;
      case Kind::kRareHourCustomer:
        // "local hour %02.0f has share %.3f in this customer's profile (uniform 0.042)"
        t << "local hour ";
        t.hour(f.aux[1]) << " has share ";
        t.fixed(f.aux[0], 3) << " in this customer's profile (uniform 0.042)";
        break;
      case Kind::kRareHourShop:
        // "local hour %02.0f has share %.3f of the shop's transactions"
        t << "local hour ";
        t.hour(f.aux[1]) << " has share ";
        t.fixed(f.aux[0], 3) << " of the shop's transactions";
        break;
      case Kind::kYoungAccount:
        // "account %.1f days old, amount %.2f (large: %.2f)"
        t << "account ";
        t.fixed(f.aux[0], 1) << " days old, amount ";
        t.fixed(tx.amount, 2) << " (large: ";
        t.fixed(large_, 2) << ")";
        break;
      case Kind::kNewPaymentMethod:
        // "payment method never used in %.0f earlier transactions"
        t << "payment method never used in ";
        t.fixed(f.aux[0], 0) << " earlier transactions";
        break;
      case Kind::kHighRiskMethod:
        t << "payment method is on the high-risk list";
        break;
      default:
        break;
    }
    return t.str();
  }

 private:
  std::string name_;
  Kind kind_;
  double weight_;
  double threshold_;
  double window_ = 0;
  double small_ = 0;
  Prior prior_;
  double min_n_ = 0;
  double max_kmh_ = 900, min_km_ = 0, min_dt_ = 60, cap_ = 10;
  double smoothing_ = 4;
  double spread_ = 0.5;
  double young_days_ = 30, large_ = 500;
};

}  // namespace

void register_fraud_rules(RuleRegistry& registry) {
  for (const Spec& spec : kSpecs) {
    registry.add(spec.name, [spec](const RuleConfig& c) {
      return std::unique_ptr<Rule>(new FraudRule(spec, c));
    });
  }
}

}  // namespace techmart::core
