#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "techmart/core/fraud_state.hpp"
#include "techmart/core/stats.hpp"
#include "techmart/core/welford.hpp"

namespace techmart::core {

struct EntityInput;  // entity.hpp: verdict counters of the transaction's entities

// ----------------------------------------------------------------------------------- inputs
// What is known about the transaction being scored. Rules read what they need; a rule whose
// input is unknown (NaN, empty, -1) stays silent.
struct TransactionInput {
  double amount = 0.0;  // quantity * unit_price, >= 0
  double unit_price = std::numeric_limits<double>::quiet_NaN();
  double list_price = std::numeric_limits<double>::quiet_NaN();  // the product's list price
  std::int64_t category_id = -1;                                 // -1: unknown
  double time = 0.0;                                             // epoch seconds (UTC)
  char country[3] = {0, 0, 0};                                   // "" when unknown
  bool has_location = false;
  double lat = 0.0, lon = 0.0;
  int method = -1;  // payment_method_bit()
  char home_country[3] = {0, 0, 0};
  double account_age_days = std::numeric_limits<double>::quiet_NaN();
  const EntityInput* entities = nullptr;  // entity risk (entity.hpp); nullptr: rules silent
};

// The customer's state *before* this transaction.
using CustomerHistory = CustomerState;

// Shop-wide context, read once per statement: priors refreshed by techmart.refresh_priors()
// and the configured risk lists.
struct ScoringEnv {
  bool has_population = false;
  Prior population;  // log1p(amount) over all transactions
  std::int64_t population_n = 0;
  std::map<std::int64_t, std::pair<Prior, std::int64_t>> categories;  // prior and its n
  bool has_shop_hours = false;
  double shop_hours[24] = {};  // shares, sum 1
  std::vector<std::array<char, 2>> high_risk_countries;
  std::uint32_t high_risk_methods = 0;  // bits of payment_method_bit()

  bool is_high_risk_country(const char* cc) const;
};

struct ScoringContext {
  const TransactionInput& tx;
  const CustomerHistory& history;
  const ScoringEnv* env = nullptr;
};

// ----------------------------------------------------------------------------- configuration
// One row of techmart.rule_config.
struct RuleConfig {
  std::string rule;
  bool enabled = true;
  double weight = 1.0;     // finite, >= 0
  double threshold = 0.0;  // finite
  std::map<std::string, double> params;

  // Throws std::invalid_argument when weight/threshold/params are out of range.
  void validate() const;
  // The named parameter, or `fallback` when absent.
  double param(const std::string& name, double fallback) const;

  // When set, param() notes the name of every parameter asked for (RuleRegistry::diagnose).
  std::vector<std::string>* read_log = nullptr;
};

// ---------------------------------------------------------------------------------- features
// What a rule observed. Each feature enters the combined score as the logit term
// weight * (observed - threshold); `neutral` is the observed value that means "nothing unusual"
// (e.g. z = 0) and is used to attribute the score to rules.
struct Feature {
  // The producing rule's name: a view of its Rule::name() (or of a literal), valid while the rule
  // lives -- features are transient (Scorer::score copies the name into the Reason it lists), and
  // a rule evaluated for every row need not copy its name each time.
  std::string_view rule;
  double observed = 0.0;
  double threshold = 0.0;
  double weight = 0.0;
  double neutral = 0.0;
  std::string detail;  // human-readable explanation (may be filled lazily by Rule::describe)
  double aux[3] = {0.0, 0.0, 0.0};  // what describe() needs
};

// A rule turns a transaction and the customer's history into at most one feature.
class Rule {
 public:
  virtual ~Rule() = default;
  virtual const std::string& name() const = 0;
  // std::nullopt when the rule has nothing to say about this transaction.
  virtual std::optional<Feature> evaluate(const ScoringContext& ctx) const = 0;
  // The detail of a reported feature; called only for features that are listed as reasons.
  virtual std::string describe(const Feature& f, const ScoringContext& ctx) const {
    (void)ctx;
    return f.detail;
  }
};

// Amount anomaly: z-score of log1p(amount) against the customer's running mean/variance of
// log1p(amount), shrunk toward a population prior (params prior_mean, prior_sd, prior_weight).
class AmountZScoreRule final : public Rule {
 public:
  static constexpr const char* kName = "amount_zscore";
  static constexpr double kDefaultPriorMean = 4.0;  // log1p(~55)
  static constexpr double kDefaultPriorSd = 1.2;
  static constexpr double kDefaultPriorWeight = 5.0;
  static constexpr double kDefaultMinPriorN = 30.0;

  explicit AmountZScoreRule(const RuleConfig& config);
  const std::string& name() const override { return name_; }
  std::optional<Feature> evaluate(const ScoringContext& ctx) const override;
  const Prior& prior() const { return prior_; }
  // The prior used for this transaction: the category's (n >= min_prior_n), else the
  // population's, from the environment when use_priors = 1; else the configured one.
  Prior prior_for(const ScoringContext& ctx, const char** source) const;
  std::string describe(const Feature& f, const ScoringContext& ctx) const override;

 private:
  std::string name_;
  double weight_;
  double threshold_;
  Prior prior_;
  bool use_priors_;
  double min_prior_n_;
};

// ------------------------------------------------------------------------------ combination
// One entry of fraud_reasons.
struct Reason {
  std::string rule;
  double observed;
  double threshold;
  double contribution;  // points of the 0..100 score attributable to this rule
  std::string detail;
  double weight = std::numeric_limits<double>::quiet_NaN();  // the rule's weight (NaN: not shown)
};

struct ScoreResult {
  double score = 0.0;           // 0..100
  std::vector<Reason> reasons;  // highest contribution first
};

// Combines features into a score in [0, 100].
class Combiner {
 public:
  virtual ~Combiner() = default;
  virtual double combine(const std::vector<Feature>& features) const = 0;
  // Points of `score` attributable to each feature: score - score(feature set to neutral).
  virtual std::vector<double> contributions(const std::vector<Feature>& features,
                                            double score) const;
};

// score = 100 * logistic(bias + sum_i weight_i * (observed_i - threshold_i)).
// Features with weight 0 carry no evidence and are ignored; with no evidence at all the score
// is 0. With one feature and bias 0 this is calibrated_score(observed, threshold, weight).
class LogisticCombiner final : public Combiner {
 public:
  explicit LogisticCombiner(double bias = 0.0);
  double combine(const std::vector<Feature>& features) const override;

 private:
  double bias_;
};

// The combiner of the fraud engine (0.2): evidence above the thresholds only,
//   score = 100 * logistic(bias + sum_i weight_i * max(0, observed_i - threshold_i)),
// so a rule below its threshold neither raises nor lowers the score and the score with no
// evidence is 100 * logistic(bias). The features x_i = max(0, observed_i - threshold_i) are
// what fit_logistic() learns the weights and bias from. A rule's contribution is its share of
// the points above 100 * logistic(bias), in proportion to its evidence.
class EvidenceCombiner final : public Combiner {
 public:
  explicit EvidenceCombiner(double bias);
  double combine(const std::vector<Feature>& features) const override;
  std::vector<double> contributions(const std::vector<Feature>& features,
                                    double score) const override;
  static double evidence(const Feature& f);  // weight * max(0, observed - threshold)

 private:
  double bias_;
};

// Evaluates a set of rules and explains the result. A rule's contribution is
// score - score(with that rule's observation replaced by its neutral value), i.e. how many
// points the rule's observation moved the score away from "nothing unusual".
class Scorer {
 public:
  Scorer(std::vector<std::unique_ptr<Rule>> rules, std::unique_ptr<Combiner> combiner);

  // Reasons whose |contribution| is below min_contribution points are left out.
  ScoreResult score(const ScoringContext& ctx, double min_contribution = 1.0) const;
  std::size_t rule_count() const { return rules_.size(); }
  const Rule& rule(std::size_t i) const { return *rules_[i]; }
  // Unique among the scorers of this process (never reused): lets a caller keep something it
  // derived from this scorer's rules exactly as long as the scorer is the same one.
  std::uint64_t id() const { return id_; }

 private:
  std::vector<std::unique_ptr<Rule>> rules_;
  std::unique_ptr<Combiner> combiner_;
  std::uint64_t id_;
};

// Maps rule names to factories. Unknown names (rows for rules of a newer version) and
// disabled rules are skipped by build(); invalid configuration throws std::invalid_argument.
class RuleRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Rule>(const RuleConfig&)>;

  // A registry knowing every rule of this version (built once, shared).
  static const RuleRegistry& builtin();
  static RuleRegistry with_builtin_rules();

  void add(const std::string& name, Factory factory);
  bool knows(const std::string& name) const;
  std::vector<std::unique_ptr<Rule>> build(const std::vector<RuleConfig>& configs) const;

  // What a DBA's row of rule_config means to this version. `problem`: why the rule cannot be
  // built (the message build() would throw; empty when valid). For a rule this registry knows:
  // `reads`, the parameters the rule reads, and `unread`, the given parameters it does not read
  // (a misspelt name: it has no effect), both in name order. An unknown rule (one of a later
  // version) only has its numbers checked.
  struct Diagnosis {
    bool known = false;
    std::string problem;
    std::vector<std::string> reads;
    std::vector<std::string> unread;
  };
  Diagnosis diagnose(const RuleConfig& config) const;

 private:
  std::map<std::string, Factory> factories_;
};

// Registers the rules of the fraud engine (fraud_rules.cpp) in a registry.
void register_fraud_rules(RuleRegistry& registry);
// Registers the entity risk rules entity_<kind> (entity.cpp).
void register_entity_rules(RuleRegistry& registry);

// Serialises reasons as a JSON array of {rule, observed, threshold, contribution, detail} plus
// "weight" when the reason has a finite weight.
std::string reasons_to_json(const std::vector<Reason>& reasons);
// The JSON number reasons_to_json writes for x with at most `decimals` decimals (trailing zeros
// trimmed) into buf; false (nothing written) when x is not finite (written as null).
bool format_json_number(double x, int decimals, char* buf, std::size_t size);
inline constexpr std::size_t kJsonNumberBytes = 512;  // room for any finite double, 4 decimals
// The same number as an integer and a scale: the value format_json_number writes is
// *mantissa / 10^*scale with exactly *scale decimals (0 <= *scale <= decimals). Only where that is
// certain without printing -- |x| * 10^decimals below 1e9, decimals <= 9, and x * 10^decimals not
// within 1e-6 of a rounding tie --, false otherwise (then format_json_number decides).
bool json_number_fixed(double x, int decimals, std::int64_t* mantissa, int* scale);
// What std::snprintf(buf, size, "%.*f", decimals, x) writes and returns, byte for byte, without
// printf where the digits are certain (|x| * 10^decimals below 1e9, decimals <= 9, not within 1e-6
// of a rounding tie; the sign of -0.0 and of negatives rounding to 0 kept, as printf does), by
// snprintf otherwise. The reasons' detail texts are made of such numbers (one row of the fraud
// engine's single-row benchmark formats about ten).
int format_fixed(char* buf, std::size_t size, double x, int decimals);
// What std::snprintf writes for x with "%.<decimals>f" (width > 0: "%<width>.<decimals>f", or with
// zero_pad "%0<width>.<decimals>f", e.g. "%02.0f"), byte for byte, into out (kFixedTextBytes of
// room; not necessarily NUL-terminated); returns its length. Digits as format_fixed: without printf
// where they are certain, by snprintf otherwise. For 0 <= decimals <= 9 and 0 <= width <= 64 the
// whole text always fits (a finite double has at most 309 integer digits).
std::size_t fixed_text(char* out, double x, int decimals, int width = 0, bool zero_pad = false);
inline constexpr std::size_t kFixedTextBytes = 384;
// What std::snprintf(buf, size, f, args[0], args[1], ...) writes and returns, for a format whose
// conversions are all "%.<N>f" with an optional '0' flag and width (e.g. "%02.0f") or "%%", each
// taking the next of the nargs doubles; any other format (or too few args) goes to snprintf whole.
int format_doubles(char* buf, std::size_t size, const char* f, const double* args, int nargs);
// The decimals reasons_to_json uses for observed/threshold/weight and for contribution.
inline constexpr int kReasonValueDecimals = 4;
inline constexpr int kReasonContributionDecimals = 2;

}  // namespace techmart::core
