#include "techmart/core/scoring.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "techmart/core/errors.hpp"

namespace techmart::core {

// ----------------------------------------------------------------------------- RuleConfig
void RuleConfig::validate() const {
  if (rule.empty()) throw std::invalid_argument("rule name must not be empty");
  require_finite(weight, "weight");
  if (weight < 0) throw std::invalid_argument("weight of rule " + rule + " must be >= 0");
  require_finite(threshold, "threshold");
  for (const auto& [key, value] : params) require_finite(value, key.c_str());
}

double RuleConfig::param(const std::string& name, double fallback) const {
  const auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

// ----------------------------------------------------------------------- AmountZScoreRule
AmountZScoreRule::AmountZScoreRule(const RuleConfig& config)
    : name_(config.rule), weight_(config.weight), threshold_(config.threshold) {
  config.validate();
  prior_.mean = config.param("prior_mean", kDefaultPriorMean);
  prior_.sd = config.param("prior_sd", kDefaultPriorSd);
  prior_.weight = config.param("prior_weight", kDefaultPriorWeight);
  prior_.validate();
}

std::optional<Feature> AmountZScoreRule::evaluate(const ScoringContext& ctx) const {
  const double x = log_amount(ctx.tx.amount);
  const ShrunkEstimate est = shrink(ctx.history.log_amount, prior_);
  const double z = zscore(x, est.mean, est.sd);
  char detail[256];
  std::snprintf(detail, sizeof detail,
                "amount %.2f vs typical %.2f for this customer (z of log1p(amount) over %lld "
                "earlier transactions, shrunk toward the population with weight %g)",
                ctx.tx.amount, std::expm1(est.mean),
                static_cast<long long>(ctx.history.log_amount.count()), prior_.weight);
  Feature f;
  f.rule = name_;
  f.observed = z;
  f.threshold = threshold_;
  f.weight = weight_;
  f.neutral = 0.0;
  f.detail = detail;
  return f;
}

// ----------------------------------------------------------------------- LogisticCombiner
LogisticCombiner::LogisticCombiner(double bias) : bias_(bias) { require_finite(bias, "bias"); }

double LogisticCombiner::combine(const std::vector<Feature>& features) const {
  double logit = bias_;
  bool any = false;
  for (const Feature& f : features) {
    require_finite(f.observed, "observed");
    require_finite(f.threshold, "threshold");
    require_finite(f.weight, "weight");
    if (f.weight < 0) throw std::invalid_argument("weight must be >= 0");
    if (f.weight == 0) continue;
    logit += f.weight * (f.observed - f.threshold);
    any = true;
  }
  if (!any) return 0.0;
  if (std::isnan(logit)) throw std::invalid_argument("combined evidence is not a number");
  return 100.0 * logistic(logit);  // +-inf saturate to 100 / 0
}

// --------------------------------------------------------------------------------- Scorer
Scorer::Scorer(std::vector<std::unique_ptr<Rule>> rules, std::unique_ptr<Combiner> combiner)
    : rules_(std::move(rules)), combiner_(std::move(combiner)) {
  if (!combiner_) throw std::invalid_argument("a scorer needs a combiner");
  for (const auto& r : rules_) {
    if (!r) throw std::invalid_argument("null rule");
  }
}

ScoreResult Scorer::score(const ScoringContext& ctx, double min_contribution) const {
  require_finite(min_contribution, "min_contribution");
  std::vector<Feature> features;
  features.reserve(rules_.size());
  for (const auto& rule : rules_) {
    if (auto f = rule->evaluate(ctx)) features.push_back(std::move(*f));
  }
  ScoreResult result;
  result.score = combiner_->combine(features);
  for (std::size_t i = 0; i < features.size(); ++i) {
    std::vector<Feature> neutralised = features;
    neutralised[i].observed = neutralised[i].neutral;
    const double contribution = result.score - combiner_->combine(neutralised);
    if (std::fabs(contribution) < min_contribution) continue;
    const Feature& f = features[i];
    result.reasons.push_back(Reason{f.rule, f.observed, f.threshold, contribution, f.detail});
  }
  std::stable_sort(
      result.reasons.begin(), result.reasons.end(),
      [](const Reason& a, const Reason& b) { return a.contribution > b.contribution; });
  return result;
}

// --------------------------------------------------------------------------- RuleRegistry
RuleRegistry RuleRegistry::with_builtin_rules() {
  RuleRegistry reg;
  reg.add(AmountZScoreRule::kName,
          [](const RuleConfig& c) { return std::make_unique<AmountZScoreRule>(c); });
  return reg;
}

void RuleRegistry::add(const std::string& name, Factory factory) {
  if (name.empty() || !factory) throw std::invalid_argument("a rule needs a name and a factory");
  factories_[name] = std::move(factory);
}

bool RuleRegistry::knows(const std::string& name) const { return factories_.count(name) > 0; }

std::vector<std::unique_ptr<Rule>> RuleRegistry::build(
    const std::vector<RuleConfig>& configs) const {
  std::vector<std::unique_ptr<Rule>> rules;
  for (const RuleConfig& c : configs) {
    c.validate();
    if (!c.enabled) continue;
    const auto it = factories_.find(c.rule);
    if (it == factories_.end()) continue;
    rules.push_back(it->second(c));
  }
  return rules;
}

}  // namespace techmart::core
