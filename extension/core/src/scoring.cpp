#include "techmart/core/scoring.hpp"

#include <algorithm>
#include <atomic>
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
  if (read_log != nullptr) read_log->push_back(name);
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
  const double use = config.param("use_priors", 1.0);
  if (use != 0.0 && use != 1.0) throw std::invalid_argument("use_priors must be 0 or 1");
  use_priors_ = use == 1.0;
  min_prior_n_ = config.param("min_prior_n", kDefaultMinPriorN);
  if (min_prior_n_ < 2) throw std::invalid_argument("min_prior_n must be >= 2");
}

Prior AmountZScoreRule::prior_for(const ScoringContext& ctx, const char** source) const {
  *source = "the configured prior";
  if (!use_priors_ || ctx.env == nullptr) return prior_;
  Prior p = prior_;
  if (ctx.tx.category_id >= 0) {
    const auto it = ctx.env->categories.find(ctx.tx.category_id);
    if (it != ctx.env->categories.end() && static_cast<double>(it->second.second) >= min_prior_n_) {
      p.mean = it->second.first.mean;
      p.sd = it->second.first.sd;
      *source = "the product category";
      return p;
    }
  }
  if (ctx.env->has_population && static_cast<double>(ctx.env->population_n) >= min_prior_n_) {
    p.mean = ctx.env->population.mean;
    p.sd = ctx.env->population.sd;
    *source = "the population";
  }
  return p;
}

std::optional<Feature> AmountZScoreRule::evaluate(const ScoringContext& ctx) const {
  const double x = log_amount(ctx.tx.amount);
  const char* source = nullptr;
  const Prior prior = prior_for(ctx, &source);
  const ShrunkEstimate est = shrink(ctx.history.log_amount, prior);
  const double z = zscore(x, est.mean, est.sd);
  Feature f;
  f.rule = name_;
  f.observed = z;
  f.threshold = threshold_;
  f.weight = weight_;
  f.neutral = 0.0;
  f.aux[0] = est.mean;
  return f;
}

std::string AmountZScoreRule::describe(const Feature& f, const ScoringContext& ctx) const {
  const char* source = nullptr;
  (void)prior_for(ctx, &source);
  char detail[320];
  std::snprintf(detail, sizeof detail,
                "amount %.2f vs typical %.2f for this customer (z of log1p(amount) over %lld "
                "earlier transactions, shrunk toward %s with weight %g)",
                ctx.tx.amount, std::expm1(f.aux[0]),
                static_cast<long long>(ctx.history.log_amount.count()), source, prior_.weight);
  return detail;
}

// ------------------------------------------------------------------------------- Combiner
std::vector<double> Combiner::contributions(const std::vector<Feature>& features,
                                            double score) const {
  std::vector<double> out(features.size());
  for (std::size_t i = 0; i < features.size(); ++i) {
    std::vector<Feature> neutralised = features;
    neutralised[i].observed = neutralised[i].neutral;
    out[i] = score - combine(neutralised);
  }
  return out;
}

// ----------------------------------------------------------------------- EvidenceCombiner
EvidenceCombiner::EvidenceCombiner(double bias) : bias_(bias) { require_finite(bias, "bias"); }

double EvidenceCombiner::evidence(const Feature& f) {
  require_finite(f.observed, "observed");
  require_finite(f.threshold, "threshold");
  require_finite(f.weight, "weight");
  if (f.weight < 0) throw std::invalid_argument("weight must be >= 0");
  const double x = f.observed - f.threshold;
  return x > 0 ? f.weight * x : 0.0;
}

double EvidenceCombiner::combine(const std::vector<Feature>& features) const {
  double logit = bias_;
  for (const Feature& f : features) logit += evidence(f);
  if (std::isnan(logit)) throw std::invalid_argument("combined evidence is not a number");
  return 100.0 * logistic(logit);
}

std::vector<double> EvidenceCombiner::contributions(const std::vector<Feature>& features,
                                                    double score) const {
  // The points above the no-evidence score, shared in proportion to each rule's evidence
  // (its term of the logit): they add up to score - 100 * logistic(bias), and when several
  // rules saturate the score each still shows its share (a marginal "score without this rule"
  // would show ~0 for all of them).
  double total = 0;
  std::vector<double> out(features.size());  // each feature's evidence, then its share
  for (std::size_t i = 0; i < features.size(); ++i) total += (out[i] = evidence(features[i]));
  const double above = score - 100.0 * logistic(bias_);
  for (std::size_t i = 0; i < features.size(); ++i)
    out[i] = total > 0 ? above * out[i] / total : 0.0;
  return out;
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
  static std::atomic<std::uint64_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  if (!combiner_) throw std::invalid_argument("a scorer needs a combiner");
  for (const auto& r : rules_) {
    if (!r) throw std::invalid_argument("null rule");
  }
}

ScoreResult Scorer::score(const ScoringContext& ctx, double min_contribution) const {
  require_finite(min_contribution, "min_contribution");
  std::vector<Feature> features;
  features.reserve(rules_.size());
  // the rule of each feature: on the stack for up to 64 rules (one allocation less per row)
  const Rule* inline_sources[64];
  std::vector<const Rule*> heap_sources(rules_.size() > 64 ? rules_.size() : 0);
  const Rule** sources = rules_.size() > 64 ? heap_sources.data() : inline_sources;
  for (const auto& rule : rules_) {
    if (auto f = rule->evaluate(ctx)) {
      sources[features.size()] = rule.get();
      features.push_back(std::move(*f));
    }
  }
  ScoreResult result;
  result.score = combiner_->combine(features);
  const std::vector<double> contributions = combiner_->contributions(features, result.score);
  std::size_t listed = 0;
  for (const double c : contributions) listed += std::fabs(c) < min_contribution ? 0 : 1;
  if (listed > 0) result.reasons.reserve(listed);  // one allocation, none for a row without any
  for (std::size_t i = 0; i < features.size(); ++i) {
    const double contribution = contributions[i];
    if (std::fabs(contribution) < min_contribution) continue;
    Feature& f = features[i];  // not read again: its detail moves into the reason
    std::string detail = f.detail.empty() ? sources[i]->describe(f, ctx) : std::move(f.detail);
    result.reasons.push_back(Reason{std::string(f.rule), f.observed, f.threshold, contribution,
                                    std::move(detail), f.weight});
  }
  // highest contribution first, ties in rule order: a stable sort. The few reasons of a row by
  // insertion (std::stable_sort would allocate a buffer for them each time).
  const auto higher = [](const Reason& a, const Reason& b) {
    return a.contribution > b.contribution;
  };
  auto& reasons = result.reasons;
  if (reasons.size() <= 32) {
    for (std::size_t i = 1; i < reasons.size(); ++i) {
      if (!higher(reasons[i], reasons[i - 1])) continue;
      Reason moving = std::move(reasons[i]);
      std::size_t j = i;
      for (; j > 0 && higher(moving, reasons[j - 1]); --j) reasons[j] = std::move(reasons[j - 1]);
      reasons[j] = std::move(moving);
    }
  } else {
    std::stable_sort(reasons.begin(), reasons.end(), higher);
  }
  return result;
}

// --------------------------------------------------------------------------- RuleRegistry
RuleRegistry RuleRegistry::with_builtin_rules() {
  RuleRegistry reg;
  reg.add(AmountZScoreRule::kName,
          [](const RuleConfig& c) { return std::make_unique<AmountZScoreRule>(c); });
  register_fraud_rules(reg);
  register_entity_rules(reg);  // entity.cpp
  return reg;
}

const RuleRegistry& RuleRegistry::builtin() {
  static const RuleRegistry reg = with_builtin_rules();
  return reg;
}

void RuleRegistry::add(const std::string& name, Factory factory) {
  if (name.empty() || !factory) throw std::invalid_argument("a rule needs a name and a factory");
  factories_[name] = std::move(factory);
}

bool RuleRegistry::knows(const std::string& name) const { return factories_.count(name) > 0; }

RuleRegistry::Diagnosis RuleRegistry::diagnose(const RuleConfig& config) const {
  Diagnosis d;
  const auto it = factories_.find(config.rule);
  d.known = it != factories_.end();
  std::vector<std::string> read;
  RuleConfig probe = config;
  probe.enabled = true;
  probe.read_log = &read;
  try {
    probe.validate();
    if (d.known) (void)it->second(probe);
  } catch (const std::invalid_argument& e) {
    d.problem = e.what();
    if (d.problem.empty()) d.problem = "invalid configuration";
    return d;
  }
  std::sort(read.begin(), read.end());
  read.erase(std::unique(read.begin(), read.end()), read.end());
  if (d.known) {
    d.reads = read;
    for (const auto& kv : config.params) {  // std::map: name order
      if (!std::binary_search(read.begin(), read.end(), kv.first)) d.unread.push_back(kv.first);
    }
  }
  return d;
}

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
