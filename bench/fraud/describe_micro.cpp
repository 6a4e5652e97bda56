// The detail texts of the fraud rules alone (Rule::describe, no database): each rule kind's
// describe() on a typical feature of bench/fraud/speed.sh's single-row INSERTs, ITER times.
//   describe_micro ITER [K]   K: only the K-th rule of the list below (default: all of them)
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

int main(int argc, char** argv) {
  const long iter = argc > 1 ? std::atol(argv[1]) : 200000;
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
