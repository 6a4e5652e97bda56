// Entity risk rules (techmart/core/entity.hpp, docs/entity-risk.md).
#include "techmart/core/entity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace techmart::core {

namespace {
constexpr const char* kKindNames[kEntityKinds] = {"customer", "product", "device", "ip",
                                                  "ip24",     "payment", "country"};
constexpr const char* kKindLabels[kEntityKinds] = {
    "customer", "product", "device", "IP", "network", "payment fingerprint", "country"};

void check_counts(const EntityCounts& c, const char* what) {
  if (c.frauds < 0 || c.labelled < 0 || c.frauds > c.labelled) {
    throw std::invalid_argument(std::string(what) +
                                ": counts must satisfy 0 <= frauds <= labelled");
  }
}

double logit(double p) { return std::log(p) - std::log1p(-p); }
}  // namespace

const char* entity_kind_name(EntityKind k) {
  const int i = static_cast<int>(k);
  if (i < 0 || i >= kEntityKinds) throw std::invalid_argument("unknown entity kind");
  return kKindNames[i];
}

std::string entity_rule_name(EntityKind k) { return std::string("entity_") + entity_kind_name(k); }

std::optional<EntityKind> entity_kind_of(const std::string& name) {
  const std::string n = name.rfind("entity_", 0) == 0 ? name.substr(7) : name;
  for (int i = 0; i < kEntityKinds; ++i) {
    if (n == kKindNames[i]) return static_cast<EntityKind>(i);
  }
  return std::nullopt;
}

bool entity_excludes_own(EntityKind k) {
  return k == EntityKind::kDevice || k == EntityKind::kIp || k == EntityKind::kIpNet24 ||
         k == EntityKind::kPayment;
}

EntityCounts entity_other_counts(EntityKind k, const EntityObservation& o) {
  if (!entity_excludes_own(k)) return o.entity;
  EntityCounts c;
  c.labelled = std::max<std::int64_t>(0, o.entity.labelled - o.own.labelled);
  c.frauds = std::min(c.labelled, std::max<std::int64_t>(0, o.entity.frauds - o.own.frauds));
  return c;
}

double shop_fraud_rate(const EntityCounts& shop) {
  check_counts(shop, "shop-wide entity counts");
  return (static_cast<double>(shop.frauds) + 1.0) / (static_cast<double>(shop.labelled) + 2.0);
}

double smoothed_fraud_rate(const EntityCounts& c, double p0, double m) {
  check_counts(c, "entity counts");
  if (!(p0 > 0 && p0 < 1)) throw std::invalid_argument("the prior fraud rate must be in (0, 1)");
  if (!(m > 0) || !std::isfinite(m)) throw std::invalid_argument("prior_strength must be > 0");
  return (static_cast<double>(c.frauds) + m * p0) / (static_cast<double>(c.labelled) + m);
}

double entity_lift(const EntityCounts& c, const EntityCounts& shop, double m) {
  const double p0 = shop_fraud_rate(shop);
  return logit(smoothed_fraud_rate(c, p0, m)) - logit(p0);
}

EntityRuleParams entity_rule_params(const RuleConfig& c) {
  c.validate();
  EntityRuleParams p;
  const double w = c.param("window_days", 30);
  if (!(w >= 1 && w <= 365) || w != std::floor(w)) {
    throw std::invalid_argument(c.rule + ": window_days must be a whole number of days in 1..365");
  }
  p.window_days = static_cast<int>(w);
  p.prior_strength = c.param("prior_strength", 5);
  if (!(p.prior_strength > 0 && p.prior_strength <= 1e6)) {
    throw std::invalid_argument(c.rule + ": prior_strength must be in (0, 1e6]");
  }
  p.min_labelled = c.param("min_labelled", 1);
  if (!(p.min_labelled >= 0)) throw std::invalid_argument(c.rule + ": min_labelled must be >= 0");
  for (const auto& kv : c.params) {
    if (kv.first != "window_days" && kv.first != "prior_strength" && kv.first != "min_labelled") {
      throw std::invalid_argument(c.rule + ": unknown parameter " + kv.first);
    }
  }
  return p;
}

EntityRule::EntityRule(EntityKind kind, const RuleConfig& c)
    : name_(c.rule),
      kind_(kind),
      weight_(c.weight),
      threshold_(c.threshold),
      params_(entity_rule_params(c)) {}

std::optional<Feature> EntityRule::evaluate(const ScoringContext& ctx) const {
  const EntityInput* in = ctx.tx.entities;
  if (in == nullptr) return std::nullopt;
  const EntityObservation& o = in->kinds[static_cast<int>(kind_)];
  if (!o.present) return std::nullopt;
  const EntityCounts c = entity_other_counts(kind_, o);
  if (c.labelled == 0 || static_cast<double>(c.labelled) < params_.min_labelled) {
    return std::nullopt;
  }
  Feature f;
  f.rule = name_;
  f.observed = entity_lift(c, o.shop, params_.prior_strength);
  f.threshold = threshold_;
  f.weight = weight_;
  f.neutral = 0.0;
  f.aux[0] = smoothed_fraud_rate(c, shop_fraud_rate(o.shop), params_.prior_strength);
  f.aux[1] = shop_fraud_rate(o.shop);
  return f;
}

std::string EntityRule::describe(const Feature& f, const ScoringContext& ctx) const {
  const EntityObservation& o = ctx.tx.entities->kinds[static_cast<int>(kind_)];
  return entity_reason_text(kind_, o.key, entity_other_counts(kind_, o), params_.window_days,
                            f.aux[0], f.aux[1]);
}

std::string entity_reason_text(EntityKind k, const char* key, const EntityCounts& c,
                               int window_days, double rate, double p0) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%s %.64s: %lld confirmed fraud%s of %lld labelled in %d days%s (smoothed rate "
                "%.1f%% vs %.1f%% shop-wide)",
                kKindLabels[static_cast<int>(k)], key, static_cast<long long>(c.frauds),
                c.frauds == 1 ? "" : "s", static_cast<long long>(c.labelled), window_days,
                entity_excludes_own(k) ? " by other customers" : "", 100.0 * rate, 100.0 * p0);
  return buf;
}

void register_entity_rules(RuleRegistry& registry) {
  for (int i = 0; i < kEntityKinds; ++i) {
    const auto kind = static_cast<EntityKind>(i);
    registry.add(entity_rule_name(kind), [kind](const RuleConfig& c) {
      return std::unique_ptr<Rule>(new EntityRule(kind, c));
    });
  }
}

namespace {
std::string bucket_key(int kind, const std::string& key) {
  return std::to_string(kind) + '\x1f' + key;
}
}  // namespace

void EntityBuckets::add(int kind, const std::string& key, std::int32_t day, std::int64_t dl,
                        std::int64_t df) {
  EntityCounts& c = buckets_[bucket_key(kind, key)][day];
  c.labelled += dl;
  c.frauds += df;
  check_counts(c, "entity bucket");
}

EntityCounts EntityBuckets::window(int kind, const std::string& key, std::int32_t day,
                                   int window_days) const {
  EntityCounts sum;
  const auto it = buckets_.find(bucket_key(kind, key));
  if (it == buckets_.end()) return sum;
  for (auto b = it->second.upper_bound(day - window_days); b != it->second.end() && b->first <= day;
       ++b) {
    sum.labelled += b->second.labelled;
    sum.frauds += b->second.frauds;
  }
  return sum;
}

TopKResult top_k_per_day(const std::vector<double>& scores, const std::vector<int>& is_fraud,
                         const std::vector<std::int32_t>& days, int k) {
  if (scores.size() != is_fraud.size() || scores.size() != days.size()) {
    throw std::invalid_argument("top_k_per_day: scores, labels and days differ in length");
  }
  if (k < 1) throw std::invalid_argument("top_k_per_day: k must be >= 1");
  std::vector<std::size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    if (days[a] != days[b]) return days[a] < days[b];
    return scores[a] > scores[b];
  });
  TopKResult r;
  int rank = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const std::size_t j = idx[i];
    if (!std::isfinite(scores[j])) throw std::invalid_argument("top_k_per_day: non-finite score");
    rank = (i > 0 && days[idx[i - 1]] == days[j]) ? rank + 1 : 0;
    if (is_fraud[j]) ++r.frauds;
    if (rank < k) {
      ++r.reviewed;
      if (is_fraud[j]) ++r.caught;
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.share = r.frauds > 0 ? static_cast<double>(r.caught) / static_cast<double>(r.frauds) : nan;
  r.precision =
      r.reviewed > 0 ? static_cast<double>(r.caught) / static_cast<double>(r.reviewed) : nan;
  return r;
}

}  // namespace techmart::core
