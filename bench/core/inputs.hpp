#pragma once
// Deterministic inputs of the core micro-benchmarks (bench/core): every generator takes a fixed
// seed, so two runs (and two machines) measure the same work.
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "techmart/core/fraud_state.hpp"
#include "techmart/core/online_retail.hpp"
#include "techmart/core/scoring.hpp"

namespace techmart::bench {

// The fraud engine as the trigger builds it from a freshly installed extension: the rules of
// rule_config with their default weights, thresholds and params (sql/techmart--0.1.sql and
// sql/upgrades/0.1--0.2/10-fraud.sql; the entity rules are disabled by default, so build() skips
// them), the EvidenceCombiner with bias -4, and an environment as techmart.refresh_priors()
// leaves it on a shop's history (population and category priors, the shop's hour shares) with the
// default risk list (payment method crypto).
struct Engine {
  core::Scorer scorer;
  core::ScoringEnv env;
  core::StateParams params;
  double min_contribution = 1.0;  // settings.reason_min_contribution
};
std::unique_ptr<Engine> default_engine();
std::vector<core::RuleConfig> default_rule_configs();

// A customer: its state after `history` transactions (each scored by the engine and folded with
// its score, as the trigger does row by row) and `candidates` possible next transactions, each
// later than the history (mostly ordinary purchases; about one in six unusual: a large amount, a
// foreign country minutes after a purchase at home, a new or high-risk payment method, a burst of
// small amounts).
struct Customer {
  core::CustomerState state;
  std::vector<core::TransactionInput> candidates;
  int history = 0;
};
Customer make_customer(const Engine& engine, int history, int candidates, std::uint64_t seed);

// What fold() takes for a scored transaction.
core::FoldInput fold_input(const core::TransactionInput& tx, double score);

// log1p(amount) of n purchase amounts (log-normal, median ~45) and the amounts themselves.
std::vector<double> amounts(std::size_t n, std::uint64_t seed);

// Online Retail lines as the file has them (InvoiceNo ... Country), one std::string per line
// without the newline: invoices of 1-30 lines, ~1/3 guest lines (empty CustomerID), ~2%
// cancellations, ~1% non-product codes (POST, M, DOT), a few quoted descriptions with commas,
// ~90% United Kingdom. Plus the import's rules (import.country, import.special_code) and hooks.
std::vector<std::string> online_retail_csv(std::size_t n, std::uint64_t seed);
// Splits CSV lines into their 8 fields ("" unquoted, "" doubled inside quotes).
std::vector<std::array<std::string, core::online_retail::kFields>> split_csv(
    const std::vector<std::string>& lines);
core::online_retail::Rules online_retail_rules();
core::online_retail::Hooks online_retail_hooks();

}  // namespace techmart::bench
