// The detail texts of the fraud rules alone (Rule::describe, no database): each rule kind's
// describe() on a typical feature of bench/fraud/speed.sh's single-row INSERTs, ITER times.
//   describe_micro ITER [K]   K: only the K-th rule of the list below (default: all of them);
//                             K = score: Scorer::score of the engine's default rules and
//                             combination (sql/upgrades/0.1--0.2/10-fraud.sql) on a row like
//                             speed.sh's (19.99, paypal) of a customer with 19 card
//                             transactions (7 in the last hour), in the shop's quiet hour: 5
//                             reasons (velocity_1h, spend_24h, amount_vs_list, rare_hour_shop,
//                             new_payment_method)
// Prints ns per describe() of each kind (K omitted) or nothing (K given: for callgrind, see
// describe_micro.sh, which counts the instructions per call as (Ir(2 ITER) - Ir(ITER)) / ITER).
// Uses only the public core API, so it builds against the core of any revision.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "techmart/core/scoring.hpp"

using namespace techmart::core;

namespace {
struct Case {
  const char* rule;
  double observed, aux0, aux1, aux2;
};

// observed and aux[] as evaluate() leaves them for a row like the benchmark's (19.99, paypal)
constexpr Case kCases[] = {
    {"velocity_10m", 3, 0, 0, 0},
    {"velocity_1h", 4, 0, 0, 0},
    {"velocity_24h", 7, 0, 0, 0},
    {"spend_24h", 6.4302, 139.93, 21.861, 7},
    {"card_testing", 3, 0, 0, 0},
    {"amount_robust", 4.1717, 3.1347, 0.40711, 23},
    {"amount_vs_list", 1.7346, 19.99, 113.49, 0},
    {"foreign_country", 1, 0, 0, 0},
    {"impossible_travel", 10, 1234.5678, 312.25, 14234.7},
    {"high_risk_country", 1, 0, 0, 0},
    {"rare_hour_customer", 3.1781, 0.0017361, 4, 0},
    {"rare_hour_shop", 2.4849, 0.0034722, 4, 0},
    {"young_account", 0.04, 12.5, 0, 0},
    {"new_payment_method", 1, 14, 0, 0},
    {"high_risk_method", 1, 0, 0, 0},
};
constexpr int kKinds = sizeof kCases / sizeof kCases[0];
}  // namespace

// The engine's default rule_config rows and bias; min_contribution 1 (settings)
int score_rows(long iter) {
  struct Row {
    const char* rule;
    double weight, threshold;
  };
  const Row rows[] = {
      {"amount_zscore", 1.2, 2.5},      {"velocity_10m", 1.5, 3},
      {"velocity_1h", 0.8, 6},          {"velocity_24h", 0.3, 15},
      {"spend_24h", 0.3, 10},           {"card_testing", 2.0, 2},
      {"amount_robust", 1.0, 3},        {"amount_vs_list", 2.0, 0.4},
      {"foreign_country", 1.5, 0.5},    {"impossible_travel", 3.0, 1},
      {"high_risk_country", 4.0, 0.5},  {"rare_hour_customer", 1.5, 1.4},
      {"rare_hour_shop", 0.5, 1.4},     {"young_account", 1.0, 1},
      {"new_payment_method", 2.0, 0.5}, {"high_risk_method", 2.0, 0.5},
  };
  std::vector<RuleConfig> configs;
  for (const Row& r : rows) {
    RuleConfig c;
    c.rule = r.rule;
    c.weight = r.weight;
    c.threshold = r.threshold;
    configs.push_back(c);
  }
  const Scorer scorer(RuleRegistry::builtin().build(configs),
                      std::make_unique<EvidenceCombiner>(-4));
  const double now = 1765100000;  // 2025-12-07 09:33 UTC
  CustomerState s;
  const StateParams p;
  for (int i = 0; i < 12; ++i) {  // by card (bit 0), 13:00 UTC, then the last hour
    fold(s, FoldInput{80.0 + i, now - 86400.0 * (12 - i) + 12600, "DE", false, 0, 0, 0, 10}, p);
  }
  for (int i = 0; i < 7; ++i)
    fold(s, FoldInput{150.0, now - 3500 + 60 * i, "DE", false, 0, 0, 0, 10}, p);
  TransactionInput tx;
  tx.amount = 19.99;
  tx.unit_price = 19.99;
  tx.list_price = 64.5;
  tx.time = now;
  std::memcpy(tx.country, "DE", 2);
  std::memcpy(tx.home_country, "DE", 2);
  tx.method = payment_method_bit("paypal");
  tx.account_age_days = 400;
  ScoringEnv env;
  env.has_shop_hours = true;
  for (double& h : env.shop_hours) h = (1.0 - 0.005) / 23;
  env.shop_hours[9] = 0.005;  // the shop's quiet hour
  std::size_t sink = 0, reasons = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iter; ++i) {
    const ScoreResult r = scorer.score({tx, s, &env}, 1.0);
    reasons = r.reasons.size();
    for (const Reason& x : r.reasons) sink += x.detail.size() + x.rule.size();
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "score: %.1f ns per row, %zu reasons\n",
               std::chrono::duration<double, std::nano>(t1 - t0).count() / iter, reasons);
  if (iter == 1) {
    for (const Reason& x : scorer.score({tx, s, &env}, 1.0).reasons)
      std::fprintf(stderr, "  %s %.2f: %s\n", x.rule.c_str(), x.contribution, x.detail.c_str());
  }
  return sink == 0 ? 1 : 0;
}

int main(int argc, char** argv) {
  const long iter = argc > 1 ? std::atol(argv[1]) : 200000;
  if (argc > 2 && std::strcmp(argv[2], "score") == 0) return score_rows(iter);
  const int only = argc > 2 ? std::atoi(argv[2]) : -1;
  TransactionInput tx;
  tx.amount = 19.99;
  std::memcpy(tx.country, "DE", 2);
  std::memcpy(tx.home_country, "FR", 2);
  const CustomerState history;
  const ScoringContext ctx{tx, history, nullptr};
  std::vector<std::unique_ptr<Rule>> rules;
  std::vector<Feature> features;
  for (const Case& c : kCases) {
    RuleConfig config;
    config.rule = c.rule;
    auto built = RuleRegistry::builtin().build({config});
    if (built.size() != 1) {
      std::fprintf(stderr, "no rule %s\n", c.rule);
      return 1;
    }
    rules.push_back(std::move(built[0]));
    Feature f;
    f.rule = c.rule;
    f.observed = c.observed;
    f.aux[0] = c.aux0;
    f.aux[1] = c.aux1;
    f.aux[2] = c.aux2;
    features.push_back(f);
  }
  std::size_t sink = 0;
  for (int k = 0; k < kKinds; ++k) {
    if (only >= 0 && k != only) continue;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iter; ++i) sink += rules[k]->describe(features[k], ctx).size();
    const auto t1 = std::chrono::steady_clock::now();
    if (only < 0) {
      const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / iter;
      std::printf("%-20s %7.1f ns  %s\n", kCases[k].rule, ns,
                  rules[k]->describe(features[k], ctx).c_str());
    }
  }
  return sink == 0 ? 1 : 0;
}
