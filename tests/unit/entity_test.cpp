// Entity risk math (techmart/core/entity.hpp): shrinkage, lift, the rule, buckets, top-k.
#include "techmart/core/entity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "techmart/core/logistic_fit.hpp"

using namespace techmart::core;

namespace {

RuleConfig entity_config(const std::string& rule, double weight = 1.0, double threshold = 0.0) {
  RuleConfig c;
  c.rule = rule;
  c.weight = weight;
  c.threshold = threshold;
  c.params = {{"window_days", 30}, {"prior_strength", 5}, {"min_labelled", 1}};
  return c;
}

EntityCounts counts(std::int64_t f, std::int64_t n) {
  EntityCounts c;
  c.frauds = f;
  c.labelled = n;
  return c;
}

double logit(double p) { return std::log(p / (1 - p)); }

}  // namespace

TEST(EntityRates, ShopRateIsLaplaceSmoothed) {
  EXPECT_DOUBLE_EQ(shop_fraud_rate(counts(0, 0)), 0.5);
  EXPECT_DOUBLE_EQ(shop_fraud_rate(counts(9, 98)), 0.1);
  EXPECT_THROW(shop_fraud_rate(counts(3, 2)), std::invalid_argument);
  EXPECT_THROW(shop_fraud_rate(counts(-1, 2)), std::invalid_argument);
}

TEST(EntityRates, ShrinkageTowardThePrior) {
  // (f + m p0) / (n + m)
  EXPECT_DOUBLE_EQ(smoothed_fraud_rate(counts(3, 4), 0.05, 5), (3 + 0.25) / 9.0);
  // no labels: exactly the prior; one fraud of one label: far from 100 %
  EXPECT_DOUBLE_EQ(smoothed_fraud_rate(counts(0, 0), 0.05, 5), 0.05);
  EXPECT_LT(smoothed_fraud_rate(counts(1, 1), 0.05, 5), 0.25);
  // many labels: the entity's own rate wins
  EXPECT_NEAR(smoothed_fraud_rate(counts(800, 1000), 0.05, 5), 0.8, 0.005);
  EXPECT_THROW(smoothed_fraud_rate(counts(1, 1), 0.0, 5), std::invalid_argument);
  EXPECT_THROW(smoothed_fraud_rate(counts(1, 1), 0.1, 0), std::invalid_argument);
}

TEST(EntityRates, LiftIsLogOddsOverTheShop) {
  const EntityCounts shop = counts(9, 98);  // p0 = 0.1
  EXPECT_NEAR(entity_lift(counts(0, 0), shop, 5), 0.0, 1e-12);
  const double rate = (3 + 0.5) / 9.0;
  EXPECT_NEAR(entity_lift(counts(3, 4), shop, 5), logit(rate) - logit(0.1), 1e-12);
  EXPECT_LT(entity_lift(counts(0, 20), shop, 5), 0.0);  // cleaner than the shop
  EXPECT_GT(entity_lift(counts(5, 6), shop, 5), entity_lift(counts(2, 3), shop, 5));
}

TEST(EntityKinds, NamesRoundTrip) {
  for (int i = 0; i < kEntityKinds; ++i) {
    const auto k = static_cast<EntityKind>(i);
    EXPECT_EQ(entity_kind_of(entity_rule_name(k)), k);
    EXPECT_EQ(entity_kind_of(entity_kind_name(k)), k);
  }
  EXPECT_FALSE(entity_kind_of("entity_nothing").has_value());
  EXPECT_TRUE(entity_excludes_own(EntityKind::kDevice));
  EXPECT_FALSE(entity_excludes_own(EntityKind::kCustomer));
  EXPECT_FALSE(entity_excludes_own(EntityKind::kCountry));
}

TEST(EntityRule, ParamsAreValidated) {
  EXPECT_NO_THROW(entity_rule_params(entity_config("entity_device")));
  auto c = entity_config("entity_device");
  c.params["window_days"] = 0;
  EXPECT_THROW(entity_rule_params(c), std::invalid_argument);
  c.params["window_days"] = 7.5;
  EXPECT_THROW(entity_rule_params(c), std::invalid_argument);
  c = entity_config("entity_device");
  c.params["prior_strength"] = -1;
  EXPECT_THROW(entity_rule_params(c), std::invalid_argument);
  c = entity_config("entity_device");
  c.params["surprise"] = 1;
  EXPECT_THROW(entity_rule_params(c), std::invalid_argument);
  EXPECT_TRUE(RuleRegistry::builtin().knows("entity_ip24"));
}

TEST(EntityRule, SilentWithoutInputOrLabels) {
  EntityRule rule(EntityKind::kDevice, entity_config("entity_device"));
  TransactionInput tx;
  CustomerHistory h;
  EXPECT_FALSE(rule.evaluate({tx, h, nullptr}).has_value());  // no entity input
  EntityInput in;
  tx.entities = &in;
  EXPECT_FALSE(rule.evaluate({tx, h, nullptr}).has_value());  // no device on the row
  in.kinds[static_cast<int>(EntityKind::kDevice)].present = true;
  EXPECT_FALSE(rule.evaluate({tx, h, nullptr}).has_value());  // no verdicts yet
}

TEST(EntityRule, OwnVerdictsAreLeftOutForSharedThings) {
  EntityRule rule(EntityKind::kDevice, entity_config("entity_device", 2.0, 0.5));
  EntityInput in;
  EntityObservation& o = in.kinds[static_cast<int>(EntityKind::kDevice)];
  o.present = true;
  std::snprintf(o.key, sizeof o.key, "d-123");
  o.entity = counts(3, 4);
  o.shop = counts(9, 98);
  TransactionInput tx;
  tx.entities = &in;
  CustomerHistory h;
  const auto f = rule.evaluate({tx, h, nullptr});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->observed, entity_lift(counts(3, 4), counts(9, 98), 5), 1e-12);
  EXPECT_EQ(rule.describe(*f, {tx, h, nullptr}),
            "device d-123: 3 confirmed frauds of 4 labelled in 30 days by other customers "
            "(smoothed rate 38.9% vs 10.0% shop-wide)");
  // the customer's own verdicts on the device are not evidence against the device
  o.own = counts(3, 4);
  EXPECT_FALSE(rule.evaluate({tx, h, nullptr}).has_value());
  o.own = counts(1, 1);
  const auto g = rule.evaluate({tx, h, nullptr});
  ASSERT_TRUE(g.has_value());
  EXPECT_NEAR(g->observed, entity_lift(counts(2, 3), counts(9, 98), 5), 1e-12);
  // the customer kind keeps its own verdicts
  EXPECT_EQ(entity_other_counts(EntityKind::kCustomer, o).labelled, 4);
}

TEST(EntityRule, CombinedWithTheOtherRules) {
  RuleConfig dev = entity_config("entity_device", 2.0, 0.5);
  std::vector<RuleConfig> configs = {dev};
  Scorer scorer(RuleRegistry::builtin().build(configs), std::make_unique<EvidenceCombiner>(-4));
  EntityInput in;
  EntityObservation& o = in.kinds[static_cast<int>(EntityKind::kDevice)];
  o.present = true;
  o.entity = counts(5, 6);
  o.shop = counts(9, 98);
  TransactionInput tx;
  CustomerHistory h;
  const double base = scorer.score({tx, h, nullptr}).score;
  tx.entities = &in;
  const ScoreResult r = scorer.score({tx, h, nullptr});
  const double lift = entity_lift(counts(5, 6), counts(9, 98), 5);
  EXPECT_NEAR(r.score, 100.0 / (1 + std::exp(-(-4 + 2.0 * (lift - 0.5)))), 1e-9);
  EXPECT_GT(r.score, base);
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_EQ(r.reasons[0].rule, "entity_device");
}

TEST(EntityBuckets, WindowSumsTheTrailingDays) {
  EntityBuckets b;
  b.add(2, "d", 100, 1, 1);
  b.add(2, "d", 105, 2, 0);
  b.add(2, "d", 131, 1, 1);
  b.add(-1, "*", 105, 4, 1);
  EXPECT_EQ(b.window(2, "d", 130, 30).labelled, 2);  // days 101..130
  EXPECT_EQ(b.window(2, "d", 130, 31).labelled, 3);  // days 100..130
  EXPECT_EQ(b.window(2, "d", 131, 30).frauds, 1);    // 102..131: 105 and 131
  EXPECT_EQ(b.window(2, "e", 131, 30).labelled, 0);
  EXPECT_EQ(b.window(-1, "*", 105, 1).labelled, 4);
  // a verdict change moves the counts
  b.add(2, "d", 105, -1, 0);
  b.add(2, "d", 105, 1, 1);
  EXPECT_EQ(b.window(2, "d", 105, 1).frauds, 1);
  EXPECT_THROW(b.add(2, "d", 100, -2, -1), std::invalid_argument);
}

TEST(TopK, PerDayShareAndPrecision) {
  const std::vector<double> s = {90, 80, 10, 5, 50, 40};
  const std::vector<int> y = {1, 0, 1, 0, 0, 1};
  const std::vector<std::int32_t> d = {1, 1, 1, 2, 3, 3};
  const TopKResult r = top_k_per_day(s, y, d, 1);
  EXPECT_EQ(r.frauds, 3);
  EXPECT_EQ(r.caught, 1);    // day 1: 90; day 3: 50 is legitimate
  EXPECT_EQ(r.reviewed, 3);  // one per day
  EXPECT_DOUBLE_EQ(r.share, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.precision, 1.0 / 3);
  const TopKResult all = top_k_per_day(s, y, d, 10);
  EXPECT_EQ(all.caught, 3);
  EXPECT_DOUBLE_EQ(all.share, 1.0);
  EXPECT_THROW(top_k_per_day(s, y, d, 0), std::invalid_argument);
  EXPECT_THROW(top_k_per_day(s, y, {1}, 1), std::invalid_argument);
  // agrees with the shared metrics on a single day holding everything
  const TopKResult one = top_k_per_day({3, 2, 1}, {1, 0, 1}, {0, 0, 0}, 2);
  EXPECT_EQ(one.caught, 1);
  EXPECT_NEAR(average_precision({3, 2, 1}, {1, 0, 1}), (1.0 + 2.0 / 3) / 2, 1e-12);
}
