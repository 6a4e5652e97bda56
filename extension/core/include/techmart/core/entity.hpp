#pragma once
// Entity risk (docs/entity-risk.md): the analysts' verdicts on the transactions that share an
// entity with the one being scored -- its customer, product, device, IP address, IP /24 network,
// payment fingerprint or country -- turned into one rule input per entity kind.
//
// For an entity e of kind k with window W days, counted over the verdicts known before the
// transaction (per-day buckets of the labelled transactions' days, day(t) - W < d <= day(t)):
//   n = labelled transactions, f = of them confirmed fraud, p0 = the shop-wide fraud rate of the
//   labelled transactions in the same window (Laplace-smoothed: (F + 1) / (N + 2)),
//   rate = (f + m * p0) / (n + m)   (Bayesian shrinkage with prior strength m > 0)
// and the rule observes the log-odds lift of the entity over the shop:
//   observed = logit(rate) - logit(p0)   (0 with no labels; > 0 riskier than the shop).
// The combiner adds weight * max(0, observed - threshold) like for every other rule.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "techmart/core/scoring.hpp"

namespace techmart::core {

enum class EntityKind : int {
  kCustomer = 0,
  kProduct,
  kDevice,
  kIp,
  kIpNet24,
  kPayment,
  kCountry,
  kCount
};
inline constexpr int kEntityKinds = static_cast<int>(EntityKind::kCount);

// "customer", "product", "device", "ip", "ip24", "payment", "country"
const char* entity_kind_name(EntityKind k);
// The rule of a kind: "entity_" + name.
std::string entity_rule_name(EntityKind k);
// The kind of a rule name or a kind name; std::nullopt when neither.
std::optional<EntityKind> entity_kind_of(const std::string& name);

// Counters of one entity (or of the shop) over a window.
struct EntityCounts {
  std::int64_t frauds = 0;    // confirmed fraud
  std::int64_t labelled = 0;  // fraud + legitimate
};

// What the glue found for one transaction: per kind, whether the transaction has that entity,
// its key (for the reason's text) and the counters; the shop-wide counters of each kind's window.
struct EntityObservation {
  bool present = false;
  char key[64] = {};  // shown in the reason (truncated)
  EntityCounts entity;
  EntityCounts own;  // of them, the verdicts on this customer's own transactions (excluded for
                     // the kinds of entity_excludes_own(): "confirmed by other customers")
  EntityCounts shop;
};
struct EntityInput {
  EntityObservation kinds[kEntityKinds];
};

// device, ip, ip24, payment: a customer's own verdicts on the entity are left out (the customer
// rule has them), so the entity speaks only for what other customers did with it.
bool entity_excludes_own(EntityKind k);
// entity - own for those kinds (clamped to valid counts), else entity.
EntityCounts entity_other_counts(EntityKind k, const EntityObservation& o);

// Rates. Throw std::invalid_argument on negative counts, frauds > labelled or m <= 0 / p0
// outside (0, 1).
double shop_fraud_rate(const EntityCounts& shop);  // (F + 1) / (N + 2)
double smoothed_fraud_rate(const EntityCounts& c, double p0, double prior_strength);
double entity_lift(const EntityCounts& c, const EntityCounts& shop, double prior_strength);

// Parameters of an entity rule (rule_config.params): window_days (1..365, integer), prior_strength
// (m > 0), min_labelled (>= 0: silent below this many labelled transactions).
struct EntityRuleParams {
  int window_days = 30;
  double prior_strength = 5.0;
  double min_labelled = 1.0;
};
EntityRuleParams entity_rule_params(const RuleConfig& c);  // validates; throws

// The rule entity_<kind>: reads tx.entities (silent when null or the entity is absent).
class EntityRule final : public Rule {
 public:
  EntityRule(EntityKind kind, const RuleConfig& c);
  const std::string& name() const override { return name_; }
  std::optional<Feature> evaluate(const ScoringContext& ctx) const override;
  std::string describe(const Feature& f, const ScoringContext& ctx) const override;
  EntityKind kind() const { return kind_; }
  const EntityRuleParams& params() const { return params_; }

 private:
  std::string name_;
  EntityKind kind_;
  double weight_, threshold_;
  EntityRuleParams params_;
};

// Registers entity_customer, entity_product, ... in a registry.
void register_entity_rules(RuleRegistry& registry);

// Human text of a reason: "device d-123: 3 confirmed frauds of 4 labelled in 30 days (smoothed
// rate 36.1% vs 5.0% shop-wide)".
std::string entity_reason_text(EntityKind k, const char* key, const EntityCounts& c,
                               int window_days, double rate, double p0);

// In-memory per-day buckets, as techmart.entity_counts keeps them, for replays (backtest):
// add() moves counts, window() sums the buckets day - window_days < d <= day.
class EntityBuckets {
 public:
  // kind: 0..kEntityKinds-1, or -1 for the shop ('*'). Throws when a bucket would go negative.
  void add(int kind, const std::string& key, std::int32_t day, std::int64_t dlabelled,
           std::int64_t dfrauds);
  EntityCounts window(int kind, const std::string& key, std::int32_t day, int window_days) const;

 private:
  std::unordered_map<std::string, std::map<std::int32_t, EntityCounts>> buckets_;
};

// Ranking quality per day: on each day the k highest scores (ties by position) are "reviewed";
// caught = labelled frauds among them, frauds = all labelled frauds of the day,
// reviewed = min(k, rows of the day). share = caught / frauds, precision = caught / reviewed
// (NaN when the denominator is 0).
struct TopKResult {
  std::int64_t caught = 0, frauds = 0, reviewed = 0;
  double share = 0, precision = 0;
};
TopKResult top_k_per_day(const std::vector<double>& scores, const std::vector<int>& is_fraud,
                         const std::vector<std::int32_t>& days, int k);

}  // namespace techmart::core
