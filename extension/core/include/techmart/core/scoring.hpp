#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "techmart/core/stats.hpp"
#include "techmart/core/welford.hpp"

namespace techmart::core {

// ----------------------------------------------------------------------------------- inputs
// What is known about the transaction being scored. Rules read what they need; later rules
// (velocity, geography, time of day, account and method) add fields here.
struct TransactionInput {
  double amount = 0.0;  // quantity * unit_price, >= 0
};

// The customer's state *before* this transaction.
struct CustomerHistory {
  Welford log_amount;  // running statistics of log1p(amount)
};

struct ScoringContext {
  const TransactionInput& tx;
  const CustomerHistory& history;
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
};

// ---------------------------------------------------------------------------------- features
// What a rule observed. Each feature enters the combined score as the logit term
// weight * (observed - threshold); `neutral` is the observed value that means "nothing unusual"
// (e.g. z = 0) and is used to attribute the score to rules.
struct Feature {
  std::string rule;
  double observed = 0.0;
  double threshold = 0.0;
  double weight = 0.0;
  double neutral = 0.0;
  std::string detail;  // human-readable explanation
};

// A rule turns a transaction and the customer's history into at most one feature.
class Rule {
 public:
  virtual ~Rule() = default;
  virtual const std::string& name() const = 0;
  // std::nullopt when the rule has nothing to say about this transaction.
  virtual std::optional<Feature> evaluate(const ScoringContext& ctx) const = 0;
};

// Amount anomaly: z-score of log1p(amount) against the customer's running mean/variance of
// log1p(amount), shrunk toward a population prior (params prior_mean, prior_sd, prior_weight).
class AmountZScoreRule final : public Rule {
 public:
  static constexpr const char* kName = "amount_zscore";
  static constexpr double kDefaultPriorMean = 4.0;  // log1p(~55)
  static constexpr double kDefaultPriorSd = 1.2;
  static constexpr double kDefaultPriorWeight = 5.0;

  explicit AmountZScoreRule(const RuleConfig& config);
  const std::string& name() const override { return name_; }
  std::optional<Feature> evaluate(const ScoringContext& ctx) const override;
  const Prior& prior() const { return prior_; }

 private:
  std::string name_;
  double weight_;
  double threshold_;
  Prior prior_;
};

// ------------------------------------------------------------------------------ combination
// One entry of fraud_reasons.
struct Reason {
  std::string rule;
  double observed;
  double threshold;
  double contribution;  // points of the 0..100 score attributable to this rule
  std::string detail;
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

// Evaluates a set of rules and explains the result. A rule's contribution is
// score - score(with that rule's observation replaced by its neutral value), i.e. how many
// points the rule's observation moved the score away from "nothing unusual".
class Scorer {
 public:
  Scorer(std::vector<std::unique_ptr<Rule>> rules, std::unique_ptr<Combiner> combiner);

  // Reasons whose |contribution| is below min_contribution points are left out.
  ScoreResult score(const ScoringContext& ctx, double min_contribution = 1.0) const;
  std::size_t rule_count() const { return rules_.size(); }

 private:
  std::vector<std::unique_ptr<Rule>> rules_;
  std::unique_ptr<Combiner> combiner_;
};

// Maps rule names to factories. Unknown names (rows for rules of a newer version) and
// disabled rules are skipped by build(); invalid configuration throws std::invalid_argument.
class RuleRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Rule>(const RuleConfig&)>;

  // A registry knowing every rule of this version.
  static RuleRegistry with_builtin_rules();

  void add(const std::string& name, Factory factory);
  bool knows(const std::string& name) const;
  std::vector<std::unique_ptr<Rule>> build(const std::vector<RuleConfig>& configs) const;

 private:
  std::map<std::string, Factory> factories_;
};

// Serialises reasons as a JSON array of {rule, observed, threshold, contribution, detail}.
std::string reasons_to_json(const std::vector<Reason>& reasons);

}  // namespace techmart::core
