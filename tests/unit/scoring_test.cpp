#include "techmart/core/scoring.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace techmart::core;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RuleConfig amount_config(double weight = 1.5, double threshold = 3.0) {
  RuleConfig c;
  c.rule = AmountZScoreRule::kName;
  c.weight = weight;
  c.threshold = threshold;
  c.params = {{"prior_mean", 4.0}, {"prior_sd", 1.0}, {"prior_weight", 5.0}};
  return c;
}

CustomerHistory history_of(const std::vector<double>& amounts) {
  CustomerHistory h;
  for (double a : amounts) h.log_amount.add(log_amount(a));
  return h;
}

// A rule with a fixed observation, to test combination independently of statistics.
class FixedRule final : public Rule {
 public:
  FixedRule(std::string name, double observed, double threshold, double weight)
      : name_(std::move(name)), observed_(observed), threshold_(threshold), weight_(weight) {}
  const std::string& name() const override { return name_; }
  std::optional<Feature> evaluate(const ScoringContext&) const override {
    return Feature{name_, observed_, threshold_, weight_, 0.0, "fixed"};
  }

 private:
  std::string name_;
  double observed_, threshold_, weight_;
};

Scorer scorer_of(std::vector<std::unique_ptr<Rule>> rules) {
  return Scorer(std::move(rules), std::make_unique<LogisticCombiner>());
}

}  // namespace

TEST(RuleConfig, Validation) {
  EXPECT_NO_THROW(amount_config().validate());
  RuleConfig c = amount_config();
  c.weight = -1;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = amount_config();
  c.weight = kNaN;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = amount_config();
  c.threshold = std::numeric_limits<double>::infinity();
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = amount_config();
  c.params["prior_sd"] = kNaN;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = amount_config();
  c.rule.clear();
  EXPECT_THROW(c.validate(), std::invalid_argument);
  EXPECT_DOUBLE_EQ(amount_config().param("prior_mean", 0), 4.0);
  EXPECT_DOUBLE_EQ(amount_config().param("missing", 7.5), 7.5);
}

TEST(AmountZScoreRule, ParamsAndDefaults) {
  const AmountZScoreRule r(amount_config());
  EXPECT_EQ(r.name(), "amount_zscore");
  EXPECT_DOUBLE_EQ(r.prior().mean, 4.0);
  RuleConfig bare = amount_config();
  bare.params.clear();
  const AmountZScoreRule d(bare);
  EXPECT_DOUBLE_EQ(d.prior().mean, AmountZScoreRule::kDefaultPriorMean);
  EXPECT_DOUBLE_EQ(d.prior().sd, AmountZScoreRule::kDefaultPriorSd);
  EXPECT_DOUBLE_EQ(d.prior().weight, AmountZScoreRule::kDefaultPriorWeight);
  RuleConfig bad = amount_config();
  bad.params["prior_sd"] = 0;
  EXPECT_THROW(AmountZScoreRule{bad}, std::invalid_argument);
  bad = amount_config();
  bad.params["prior_weight"] = -1;
  EXPECT_THROW(AmountZScoreRule{bad}, std::invalid_argument);
}

TEST(AmountZScoreRule, ObservesShrunkZOfLogAmount) {
  const AmountZScoreRule r(amount_config());
  const CustomerHistory h = history_of({50, 60, 55, 52});
  const TransactionInput tx{500};
  const auto f = r.evaluate({tx, h});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->observed, shrunk_zscore(std::log1p(500.0), h.log_amount, r.prior()), 1e-12);
  EXPECT_DOUBLE_EQ(f->threshold, 3.0);
  EXPECT_DOUBLE_EQ(f->weight, 1.5);
  EXPECT_EQ(f->neutral, 0.0);
  const std::string detail = r.describe(*f, {tx, h});  // details are built only when reported
  EXPECT_NE(detail.find("500.00"), std::string::npos) << detail;
}

TEST(AmountZScoreRule, RejectsBadAmounts) {
  const AmountZScoreRule r(amount_config());
  const CustomerHistory h;
  EXPECT_THROW(r.evaluate({TransactionInput{-1}, h}), std::invalid_argument);
  EXPECT_THROW(r.evaluate({TransactionInput{kNaN}, h}), std::invalid_argument);
}

TEST(Scorer, SpikeAfterNormalHistoryScoresHigh) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<AmountZScoreRule>(amount_config()));
  const Scorer s = scorer_of(std::move(rules));
  std::vector<double> amounts;
  for (int i = 0; i < 30; ++i) amounts.push_back(40 + (i % 5) * 3);
  const CustomerHistory h = history_of(amounts);

  const ScoreResult spike = s.score({TransactionInput{5000}, h});
  EXPECT_GT(spike.score, 95.0);
  ASSERT_EQ(spike.reasons.size(), 1u);
  EXPECT_EQ(spike.reasons[0].rule, "amount_zscore");
  EXPECT_GT(spike.reasons[0].observed, 3.0);
  EXPECT_GT(spike.reasons[0].contribution, 90.0);

  const ScoreResult normal = s.score({TransactionInput{46}, h});
  EXPECT_LT(normal.score, 5.0);
  EXPECT_TRUE(normal.reasons.empty());  // contribution below 1 point
}

TEST(Scorer, SingleFeatureEqualsCalibratedScore) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<FixedRule>("a", 4.2, 3.0, 1.5));
  const Scorer s = scorer_of(std::move(rules));
  const CustomerHistory h;
  const ScoreResult r = s.score({TransactionInput{1}, h}, 0.0);
  EXPECT_DOUBLE_EQ(r.score, calibrated_score(4.2, 3.0, 1.5));
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_NEAR(r.reasons[0].contribution, r.score - calibrated_score(0.0, 3.0, 1.5), 1e-12);
}

TEST(Scorer, ReasonsSortedByContributionAndFiltered) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<FixedRule>("small", 0.2, 0.0, 1.0));
  rules.push_back(std::make_unique<FixedRule>("big", 5.0, 1.0, 1.0));
  rules.push_back(std::make_unique<FixedRule>("none", 0.0, 1.0, 1.0));
  const Scorer s = scorer_of(std::move(rules));
  const CustomerHistory h;
  const ScoreResult all = s.score({TransactionInput{1}, h}, 0.0);
  ASSERT_EQ(all.reasons.size(), 3u);
  EXPECT_EQ(all.reasons[0].rule, "big");
  for (std::size_t i = 1; i < all.reasons.size(); ++i) {
    EXPECT_GE(all.reasons[i - 1].contribution, all.reasons[i].contribution);
  }
  const ScoreResult filtered = s.score({TransactionInput{1}, h}, 1.0);
  for (const Reason& r : filtered.reasons) EXPECT_GE(std::fabs(r.contribution), 1.0);
  EXPECT_LT(filtered.reasons.size(), 3u);  // "none" is at its neutral value: 0 points
}

TEST(Combiner, NoEvidenceScoresZero) {
  const LogisticCombiner c;
  EXPECT_EQ(c.combine({}), 0.0);
  EXPECT_EQ(c.combine({Feature{"w0", 100, 0, 0, 0, ""}}), 0.0);
  EXPECT_THROW(c.combine({Feature{"bad", kNaN, 0, 1, 0, ""}}), std::invalid_argument);
  EXPECT_THROW(c.combine({Feature{"neg", 1, 0, -1, 0, ""}}), std::invalid_argument);
  EXPECT_THROW(LogisticCombiner{kNaN}, std::invalid_argument);
}

TEST(Combiner, SumsLogitTerms) {
  const LogisticCombiner c(0.5);
  const std::vector<Feature> fs{{"a", 2, 1, 1.0, 0, ""}, {"b", 0, 3, 0.5, 0, ""}};
  EXPECT_NEAR(c.combine(fs), 100.0 * logistic(0.5 + 1.0 - 1.5), 1e-12);
}

TEST(Registry, BuildsKnownEnabledRulesOnly) {
  const RuleRegistry reg = RuleRegistry::with_builtin_rules();
  EXPECT_TRUE(reg.knows("amount_zscore"));
  EXPECT_FALSE(reg.knows("velocity"));
  RuleConfig future;
  future.rule = "velocity";  // a rule of a later version: ignored
  RuleConfig disabled = amount_config();
  disabled.enabled = false;
  EXPECT_EQ(reg.build({amount_config(), future}).size(), 1u);
  EXPECT_EQ(reg.build({disabled, future}).size(), 0u);
  RuleConfig invalid = amount_config();
  invalid.weight = -3;
  EXPECT_THROW(reg.build({invalid}), std::invalid_argument);
}

TEST(Registry, DiagnoseNamesTheProblemAndUnreadParams) {
  const RuleRegistry reg = RuleRegistry::with_builtin_rules();
  RuleConfig c = amount_config();
  c.params["prior_sdd"] = 1;  // a typo: no effect
  RuleRegistry::Diagnosis d = reg.diagnose(c);
  EXPECT_TRUE(d.known);
  EXPECT_EQ(d.problem, "");
  EXPECT_EQ(d.reads, (std::vector<std::string>{"min_prior_n", "prior_mean", "prior_sd",
                                               "prior_weight", "use_priors"}));
  EXPECT_EQ(d.unread, std::vector<std::string>{"prior_sdd"});
  c.params["prior_sd"] = 0;
  d = reg.diagnose(c);
  EXPECT_NE(d.problem, "");  // what build() throws
  EXPECT_THROW(reg.build({c}), std::invalid_argument);
  RuleConfig velocity;
  velocity.rule = "velocity_1h";
  velocity.params = {{"window_s", 600}, {"window", 5}};
  d = reg.diagnose(velocity);
  EXPECT_EQ(d.reads, std::vector<std::string>{"window_s"});
  EXPECT_EQ(d.unread, std::vector<std::string>{"window"});
  velocity.enabled = false;  // a disabled rule is diagnosed all the same
  EXPECT_EQ(reg.diagnose(velocity).unread, std::vector<std::string>{"window"});
  RuleConfig future;
  future.rule = "velocity";  // unknown to this version: only its numbers are checked
  future.params = {{"anything", 1}};
  d = reg.diagnose(future);
  EXPECT_FALSE(d.known);
  EXPECT_EQ(d.problem, "");
  EXPECT_TRUE(d.unread.empty());
  future.weight = -1;
  EXPECT_NE(reg.diagnose(future).problem, "");
  EXPECT_EQ(c.read_log, nullptr);  // the caller's config is not touched
}

TEST(Registry, CustomRulesPlugIn) {
  RuleRegistry reg;
  reg.add("fixed", [](const RuleConfig& c) {
    return std::make_unique<FixedRule>(c.rule, c.param("value", 0), c.threshold, c.weight);
  });
  RuleConfig c;
  c.rule = "fixed";
  c.threshold = 1;
  c.weight = 2;
  c.params = {{"value", 3}};
  const Scorer s = scorer_of(reg.build({c}));
  EXPECT_EQ(s.rule_count(), 1u);
  const CustomerHistory h;
  EXPECT_DOUBLE_EQ(s.score({TransactionInput{1}, h}).score, calibrated_score(3, 1, 2));
  EXPECT_THROW(reg.add("", nullptr), std::invalid_argument);
}

TEST(Scorer, RejectsNullParts) {
  EXPECT_THROW(Scorer({}, nullptr), std::invalid_argument);
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(nullptr);
  EXPECT_THROW(Scorer(std::move(rules), std::make_unique<LogisticCombiner>()),
               std::invalid_argument);
}

TEST(ReasonsJson, FormatAndEscaping) {
  EXPECT_EQ(reasons_to_json({}), "[]");
  const std::string j =
      reasons_to_json({Reason{"amount_zscore", 4.123456, 3, 87.456, "say \"hi\"\\\n\x01"}});
  EXPECT_EQ(j,
            "[{\"rule\": \"amount_zscore\", \"observed\": 4.1235, \"threshold\": 3, "
            "\"contribution\": 87.46, \"detail\": \"say \\\"hi\\\"\\\\\\n\\u0001\"}]");
  const std::string nonfinite = reasons_to_json({Reason{"r", kNaN, -0.0, 1, ""}});
  EXPECT_NE(nonfinite.find("\"observed\": null"), std::string::npos) << nonfinite;
  EXPECT_NE(nonfinite.find("\"threshold\": 0,"), std::string::npos) << nonfinite;
}

// json_number_fixed (the trigger builds fraud_reasons' numerics from it) must say exactly what
// format_json_number prints, or decline: checked on values of every magnitude it accepts, on
// exact ties of the binary value (0.125 at 2 decimals: printf rounds half to even) and next to
// them, negative values and values that round to zero.
TEST(ReasonsJson, FixedNumbersEqualThePrintedOnes) {
  auto printed = [](std::int64_t m, int scale) {
    std::string digits = std::to_string(m < 0 ? -m : m);
    if (scale > 0) {
      if (digits.size() <= static_cast<std::size_t>(scale))
        digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
      digits.insert(digits.size() - static_cast<std::size_t>(scale), ".");
    }
    return (m < 0 ? "-" : "") + digits;
  };
  std::vector<double> xs = {0.0,         -0.0, 1.5, -0.00001,   12.0,       0.125,     0.375,
                            2.5,         -2.5, 0.5, 1e-5,       5e-5,       4.99995,   56.055,
                            99999.99995, 3.25, 1e8, 123456.789, -987.65432, 0.1 + 0.2, 1.0 / 3.0};
  std::uint64_t seed = 12345;
  for (int i = 0; i < 200000; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(seed >> 11) / 9007199254740992.0;  // [0, 1)
    const double magnitude = std::pow(10.0, static_cast<int>(seed % 13) - 6);
    xs.push_back((seed & 1 ? -1 : 1) * u * magnitude);
    xs.push_back(std::round(u * 1e6) / 1e4 + 0.00005 * ((seed >> 3) & 1));  // near ties
  }
  int fixed = 0;
  for (double x : xs) {
    for (int decimals : {0, 2, 4, 6, 9}) {
      std::int64_t m = 0;
      int scale = -1;
      char buf[kJsonNumberBytes];
      ASSERT_TRUE(format_json_number(x, decimals, buf, sizeof buf));
      if (!json_number_fixed(x, decimals, &m, &scale)) continue;
      ++fixed;
      ASSERT_GE(scale, 0);
      ASSERT_LE(scale, decimals);
      ASSERT_EQ(printed(m, scale), std::string(buf)) << x << " at " << decimals << " decimals";
    }
  }
  EXPECT_GT(fixed, 1500000);  // almost every value takes the fixed path
  std::int64_t m;
  int scale;
  EXPECT_FALSE(json_number_fixed(0.125, 2, &m, &scale));  // an exact tie: printf decides
  EXPECT_FALSE(json_number_fixed(1e300, 4, &m, &scale));
  EXPECT_FALSE(json_number_fixed(std::numeric_limits<double>::quiet_NaN(), 4, &m, &scale));
  ASSERT_TRUE(json_number_fixed(-0.00001, 4, &m, &scale));
  EXPECT_EQ(m, 0);
  EXPECT_EQ(scale, 0);
  ASSERT_TRUE(json_number_fixed(56.05, 2, &m, &scale));
  EXPECT_EQ(m, 5605);
  EXPECT_EQ(scale, 2);
}

TEST(ReasonsJson, NumbersAsWrittenByReasonsToJson) {
  char buf[kJsonNumberBytes];
  ASSERT_TRUE(format_json_number(1.5, 4, buf, sizeof buf));
  EXPECT_STREQ(buf, "1.5");
  ASSERT_TRUE(format_json_number(-0.00001, 4, buf, sizeof buf));
  EXPECT_STREQ(buf, "0");
  ASSERT_TRUE(format_json_number(12.0, 2, buf, sizeof buf));
  EXPECT_STREQ(buf, "12");
  ASSERT_TRUE(format_json_number(1e300, 4, buf, sizeof buf));  // every digit, never truncated
  EXPECT_EQ(std::strlen(buf), 301u);
  EXPECT_FALSE(format_json_number(std::numeric_limits<double>::quiet_NaN(), 4, buf, sizeof buf));
  EXPECT_FALSE(format_json_number(std::numeric_limits<double>::infinity(), 2, buf, sizeof buf));
  std::vector<Reason> reasons{{"amount_zscore", 3.25, 3, 12.5, "detail", 1.5}};
  EXPECT_EQ(
      reasons_to_json(reasons),
      "[{\"rule\": \"amount_zscore\", \"observed\": 3.25, \"threshold\": 3, \"contribution\": "
      "12.5, \"weight\": 1.5, \"detail\": \"detail\"}]");
}

// format_fixed / format_doubles (the reasons' detail texts) must write exactly what snprintf
// writes: values of every magnitude, exact binary ties (0.125 at 2 decimals), near ties, negative
// values rounding to zero ("-0.00"), -0.0, widths with zero padding, non-finite values and
// formats they leave to printf.
TEST(DetailText, FixedEqualsPrintf) {
  std::vector<double> xs = {0.0,
                            -0.0,
                            0.5,
                            1.5,
                            2.5,
                            -2.5,
                            0.125,
                            0.375,
                            -0.001,
                            1e-9,
                            23.0,
                            3.25,
                            99999.995,
                            1e8 + 0.5,
                            1e9,
                            1e12,
                            -1e15,
                            1e300,
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN()};
  std::uint64_t seed = 987654321;
  for (int i = 0; i < 100000; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(seed >> 11) / 9007199254740992.0;
    const double magnitude = std::pow(10.0, static_cast<int>(seed % 15) - 6);
    xs.push_back((seed & 1 ? -1 : 1) * u * magnitude);
    xs.push_back(std::round(u * 1e5) / 1e3 + 0.0005 * ((seed >> 3) & 1));  // near ties
  }
  for (double x : xs) {
    for (int decimals : {0, 1, 2, 3, 4, 9, 12}) {
      char want[512], got[512];
      const int nw = std::snprintf(want, sizeof want, "%.*f", decimals, x);
      const int ng = format_fixed(got, sizeof got, x, decimals);
      ASSERT_EQ(ng, nw) << x << " at " << decimals;
      ASSERT_STREQ(got, want) << x << " at " << decimals;
    }
  }
  char small[4];
  EXPECT_EQ(format_fixed(small, sizeof small, 1234.5678, 2), 7);  // the length snprintf returns
  EXPECT_STREQ(small, "123");                                     // truncated as snprintf does
}

TEST(DetailText, FormatsEqualPrintf) {
  const char* formats[] = {
      "%.0f transactions of this customer within %.0f minutes (this one included)",
      "%.2f spent in %.0f transactions within %.0f h, %.1f times the typical amount",
      "amount %.2f vs median %.2f (robust z with MAD scale %.3f over %.0f amounts)",
      "local hour %02.0f has share %.3f in this customer's profile (uniform 0.042)",
      "100%% of %5.1f and %010.2f",
      // left to printf: other conversions and flags
      "%g and %.2f",
      "%-8.2f|%+.1f",
      "%e %.0f",
      "%f %.1f",
  };
  std::uint64_t seed = 42;
  for (const char* f : formats) {
    for (int i = 0; i < 20000; ++i) {
      double a[4];
      for (double& v : a) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = static_cast<double>(seed >> 11) / 9007199254740992.0;
        v = (seed & 1 ? -1 : 1) * u * std::pow(10.0, static_cast<int>(seed % 12) - 4);
        if (seed % 97 == 0) v = std::round(v * 2) / 2;  // exact halves
      }
      char want[400], got[400];
      const int nw = std::snprintf(want, sizeof want, f, a[0], a[1], a[2], a[3]);
      const int ng = format_doubles(got, sizeof got, f, a, 4);
      ASSERT_EQ(ng, nw) << f;
      ASSERT_STREQ(got, want) << f;
    }
  }
  char buf[64];
  const double one[1] = {3.14159};
  // fewer arguments than conversions: printf's text with the missing ones as 0
  EXPECT_EQ(format_doubles(buf, sizeof buf, "%.2f and %.2f", one, 1), 13);
  EXPECT_STREQ(buf, "3.14 and 0.00");
}
