// GoogleTest: the detail texts of the fraud rules (FraudRule::describe, written piece by piece
// by DetailText) are byte for byte what snprintf wrote into a 320-byte buffer with the rules'
// former printf formats and the same arguments -- over random values of every magnitude and
// sign, exact binary ties at each number of decimals, values of 1e9 and more (printf's digits),
// texts longer than the buffer (truncated as snprintf truncates), NaN, +-Infinity and -0.0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "techmart/core/scoring.hpp"

using namespace techmart::core;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The detail texts as the former describe() wrote them: snprintf into char[320].
template <typename... A>
std::string printf_text(const char* format, A... args) {
  char buf[320];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

std::unique_ptr<Rule> make_rule(const char* name, std::map<std::string, double> params = {}) {
  RuleConfig c;
  c.rule = name;
  c.weight = 1.0;
  c.threshold = 0.5;
  c.params = std::move(params);
  auto rules = RuleRegistry::builtin().build({c});
  EXPECT_EQ(rules.size(), 1u) << name;
  return std::move(rules.at(0));
}

// Values a detail text may show: special ones, then random ones of every magnitude and sign and
// near-ties, drawn by a fixed LCG.
class Values {
 public:
  explicit Values(std::uint64_t seed) : seed_(seed) {}

  static const std::vector<double>& special() {
    static const std::vector<double> v = {0.0,
                                          -0.0,
                                          0.5,
                                          1.5,
                                          2.5,
                                          -0.5,
                                          -2.5,
                                          3.5,  // ties at 0 decimals
                                          0.25,
                                          0.75,
                                          1.25,
                                          -0.25,
                                          0.05,
                                          2.675,  // at 1 and 2 decimals (exact or not)
                                          0.125,
                                          0.375,
                                          1.125,
                                          -0.125,
                                          1.005,
                                          99999.995,  // at 2 decimals
                                          0.0625,
                                          0.1875,
                                          1.0625,
                                          -0.0625,
                                          0.0005,
                                          2.0005,  // at 3 decimals
                                          0.0001,
                                          -0.001,
                                          -0.0004,
                                          1e-9,
                                          -1e-300,
                                          4.9e-324,  // rounding to (-)0
                                          23.0,
                                          23.5,
                                          24.0,
                                          -1.0,
                                          7.0,
                                          12.49999999,  // hours and around
                                          999999999.0,
                                          999999999.5,
                                          1e9,
                                          1e9 + 0.5,
                                          99999999.995,
                                          1e8 + 0.5,
                                          1e12,
                                          -1e15,
                                          1e300,
                                          -1e308,
                                          std::numeric_limits<double>::max(),
                                          -std::numeric_limits<double>::max(),
                                          kInf,
                                          -kInf,
                                          kNaN,
                                          -kNaN};
    return v;
  }

  double next() {
    const std::uint64_t r = step();
    switch (r % 8) {
      case 0: {
        const auto& s = special();
        return s[(r >> 8) % s.size()];
      }
      case 1:  // an exact tie at 0..3 decimals: k / 2 / 10^d
        return static_cast<double>((r >> 8) % 200001) / 2.0 / std::pow(10.0, (r >> 40) % 4) *
               ((r >> 50) & 1 ? -1 : 1);
      case 2:  // near a tie at 3 decimals
        return std::round(unit() * 1e5) / 1e3 + 0.0005 * ((r >> 3) & 1);
      case 3:  // an hour
        return static_cast<double>((r >> 8) % 24);
      default: {  // any magnitude from 1e-6 to 1e14
        const double magnitude = std::pow(10.0, static_cast<int>((r >> 8) % 21) - 6);
        return ((r >> 60) & 1 ? -1 : 1) * unit() * magnitude;
      }
    }
  }

  // a valid rule parameter (finite, > 0)
  double positive() {
    const double v = std::fabs(next());
    return std::isfinite(v) && v > 0 ? v : 1.0 + static_cast<double>(step() % 1000);
  }

 private:
  std::uint64_t step() { return seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL; }
  double unit() { return static_cast<double>(step() >> 11) / 9007199254740992.0; }
  std::uint64_t seed_;
};

constexpr int kConfigs = 40;      // rule parameters per rule kind
constexpr int kPerConfig = 2500;  // feature values per rule parameters

}  // namespace

TEST(DetailText, FixedTextEqualsPrintf) {
  static const std::pair<int, bool> kWidths[] = {{0, false}, {2, true}, {7, false}, {12, true}};
  Values v(11);
  std::vector<double> xs = Values::special();
  for (int i = 0; i < 50000; ++i) xs.push_back(v.next());
  for (const double x : xs) {
    for (int decimals = 0; decimals <= 9; ++decimals) {
      for (const auto& [width, zero_pad] : kWidths) {
        char want[kFixedTextBytes], got[kFixedTextBytes];
        const int nw =
            std::snprintf(want, sizeof want, zero_pad ? "%0*.*f" : "%*.*f", width, decimals, x);
        const std::size_t ng = fixed_text(got, x, decimals, width, zero_pad);
        ASSERT_EQ(static_cast<int>(ng), nw) << x << " at " << decimals << ", width " << width;
        ASSERT_EQ(std::string(got, ng), std::string(want)) << x << " at " << decimals;
      }
    }
  }
}

TEST(DetailText, EveryFraudRuleEqualsItsPrintfFormat) {
  Values v(20261207);
  const CustomerState history;
  int checked = 0;
  const auto check = [&](const Rule& rule, const Feature& f, const TransactionInput& tx,
                         const std::string& want) {
    const std::string got = rule.describe(f, {tx, history, nullptr});
    ASSERT_EQ(got, want) << rule.name();
    ++checked;
  };
  for (int c = 0; c < kConfigs; ++c) {
    const double window = v.positive(), other = v.positive();
    const auto velocity = make_rule(c % 3 == 0   ? "velocity_10m"
                                    : c % 3 == 1 ? "velocity_1h"
                                                 : "velocity_24h",
                                    {{"window_s", window}});
    const auto spend = make_rule("spend_24h", {{"window_s", window}});
    const auto card = make_rule("card_testing", {{"window_s", window}, {"small_amount", other}});
    const auto robust = make_rule("amount_robust");
    const auto vs_list = make_rule("amount_vs_list");
    const auto travel = make_rule("impossible_travel", {{"max_kmh", other}});
    const auto hour_customer = make_rule("rare_hour_customer");
    const auto hour_shop = make_rule("rare_hour_shop");
    const auto young = make_rule("young_account", {{"large_amount", other}});
    const auto method = make_rule("new_payment_method");
    for (int i = 0; i < kPerConfig; ++i) {
      Feature f;
      f.observed = v.next();
      f.aux[0] = v.next();
      f.aux[1] = v.next();
      f.aux[2] = v.next();
      TransactionInput tx;
      tx.amount = v.next();
      check(
          *velocity, f, tx,
          printf_text("%.0f transactions of this customer within %.0f minutes (this one included)",
                      f.observed, window / 60.0));
      check(*spend, f, tx,
            printf_text(
                "%.2f spent in %.0f transactions within %.0f h, %.1f times the typical amount",
                f.aux[0], f.aux[2], window / 3600.0, f.observed));
      check(*card, f, tx,
            printf_text("%.0f amounts of at most %.2f within %.0f minutes (card testing)",
                        f.observed, other, window / 60.0));
      check(
          *robust, f, tx,
          printf_text("amount %.2f vs median %.2f (robust z with MAD scale %.3f over %.0f amounts)",
                      tx.amount, std::expm1(f.aux[0]), f.aux[1], f.aux[2]));
      check(*vs_list, f, tx, printf_text("unit price %.2f vs list price %.2f", f.aux[0], f.aux[1]));
      check(*travel, f, tx,
            printf_text("%.0f km from the previous transaction in %.0f s: %.0f km/h (limit %.0f)",
                        f.aux[0], f.aux[1], f.aux[2], other));
      check(
          *hour_customer, f, tx,
          printf_text("local hour %02.0f has share %.3f in this customer's profile (uniform 0.042)",
                      f.aux[1], f.aux[0]));
      check(*hour_shop, f, tx,
            printf_text("local hour %02.0f has share %.3f of the shop's transactions", f.aux[1],
                        f.aux[0]));
      check(*young, f, tx,
            printf_text("account %.1f days old, amount %.2f (large: %.2f)", f.aux[0], tx.amount,
                        other));
      check(*method, f, tx,
            printf_text("payment method never used in %.0f earlier transactions", f.aux[0]));
    }
  }
  // the defaults of the parameters, and every hour with the texts' %02.0f
  for (int h = 0; h < 24; ++h) {
    Feature f;
    f.aux[0] = 0.0125 * h;
    f.aux[1] = h;
    TransactionInput tx;
    check(*make_rule("rare_hour_shop"), f, tx,
          printf_text("local hour %02.0f has share %.3f of the shop's transactions", f.aux[1],
                      f.aux[0]));
    check(*make_rule("velocity_10m"), f, tx,
          printf_text("%.0f transactions of this customer within %.0f minutes (this one included)",
                      f.observed, 600 / 60.0));
    check(*make_rule("impossible_travel"), f, tx,
          printf_text("%.0f km from the previous transaction in %.0f s: %.0f km/h (limit %.0f)",
                      f.aux[0], f.aux[1], f.aux[2], 900.0));
  }
  EXPECT_EQ(checked, kConfigs * kPerConfig * 10 + 24 * 3);
}

TEST(DetailText, CountryAndMethodTexts) {
  const CustomerState history;
  const Feature f;
  const auto foreign = make_rule("foreign_country");
  const auto risky_country = make_rule("high_risk_country");
  const auto risky_method = make_rule("high_risk_method");
  // two bytes each, as std::string(tx.country, 2) took them (a one-letter code keeps its NUL)
  for (const char* cc : {"DE", "US", "X", "\xC3\xA9"}) {
    TransactionInput tx;
    std::memcpy(tx.country, cc, std::strlen(cc));
    std::memcpy(tx.home_country, "FR", 2);
    const ScoringContext ctx{tx, history, nullptr};
    EXPECT_EQ(foreign->describe(f, ctx),
              std::string("purchase country ") + std::string(tx.country, 2) +
                  " differs from home country " + std::string(tx.home_country, 2));
    EXPECT_EQ(risky_country->describe(f, ctx),
              std::string("country ") + std::string(tx.country, 2) + " is on the high-risk list");
    EXPECT_EQ(risky_method->describe(f, ctx), "payment method is on the high-risk list");
  }
}

// Scorer::score moves each listed feature's rule name and detail into its reason: the reasons
// keep them (names longer than a short string's inline room included).
TEST(ScorerReasons, CarryNamesAndDetails) {
  class Fixed final : public Rule {
   public:
    Fixed(std::string name, double observed, std::string detail)
        : name_(std::move(name)), observed_(observed), detail_(std::move(detail)) {}
    const std::string& name() const override { return name_; }
    std::optional<Feature> evaluate(const ScoringContext&) const override {
      return Feature{name_, observed_, 0.0, 1.0, 0.0, detail_};
    }

   private:
    std::string name_;
    double observed_;
    std::string detail_;
  };
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(
      std::make_unique<Fixed>("a_rule_with_a_long_name_one", 2.0, std::string(100, 'x')));
  rules.push_back(std::make_unique<Fixed>("quiet", -1.0, "never listed"));
  rules.push_back(std::make_unique<Fixed>("a_rule_with_a_long_name_two", 3.0, "short"));
  rules.push_back(make_rule("new_payment_method", {{"min_history", 0}}));
  const Scorer s(std::move(rules), std::make_unique<EvidenceCombiner>(-3.0));
  const CustomerState history;
  TransactionInput tx;
  tx.method = 1;
  for (int round = 0; round < 2; ++round) {  // the rules' own strings are left as they were
    const ScoreResult r = s.score({tx, history, nullptr}, 0.5);
    ASSERT_EQ(r.reasons.size(), 3u);
    EXPECT_EQ(r.reasons[0].rule, "a_rule_with_a_long_name_two");
    EXPECT_EQ(r.reasons[0].detail, "short");
    EXPECT_EQ(r.reasons[1].rule, "a_rule_with_a_long_name_one");
    EXPECT_EQ(r.reasons[1].detail, std::string(100, 'x'));
    EXPECT_EQ(r.reasons[2].rule, "new_payment_method");
    EXPECT_EQ(r.reasons[2].detail, "payment method never used in 0 earlier transactions");
  }
}

// The reasons come highest contribution first and, among equal contributions, in the order of
// the rules -- a stable sort -- for a row's few reasons (insertion) as for many (std::stable_sort).
TEST(ScorerReasons, StableByContribution) {
  class Fixed final : public Rule {
   public:
    Fixed(std::string name, double observed) : name_(std::move(name)), observed_(observed) {}
    const std::string& name() const override { return name_; }
    std::optional<Feature> evaluate(const ScoringContext&) const override {
      return Feature{name_, observed_, 0.0, 1.0, 0.0, "d"};
    }

   private:
    std::string name_;
    double observed_;
  };
  for (const int n : {1, 2, 5, 12, 32, 33, 80}) {
    std::vector<std::unique_ptr<Rule>> rules;
    std::vector<std::pair<double, std::string>> want;
    for (int i = 0; i < n; ++i) {
      const double observed = 1.0 + (i * 7) % 5;  // 1..5, each repeated
      rules.push_back(std::make_unique<Fixed>("rule_" + std::to_string(i), observed));
      want.emplace_back(observed, "rule_" + std::to_string(i));
    }
    std::stable_sort(want.begin(), want.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    const Scorer s(std::move(rules), std::make_unique<EvidenceCombiner>(-3.0));
    const CustomerState history;
    const TransactionInput tx;
    const ScoreResult r = s.score({tx, history, nullptr}, 0.0);
    ASSERT_EQ(r.reasons.size(), want.size()) << n;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(r.reasons[i].rule, want[i].second) << n << " rules, reason " << i;
      EXPECT_EQ(r.reasons[i].observed, want[i].first);
    }
  }
}
