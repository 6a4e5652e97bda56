// The fraud engine's insert path (extension/pg/trigger.cpp, fraud_glue.cpp score_row): a row's
// customer state is decoded from the statement's cache (compact form), scored by the full rule
// set, copied and folded with the row, and encoded back. Each piece alone, then the whole, and
// two baselines for the ratios of bench/core/run.sh: a plain memcpy of the state's bytes and of
// the compact row.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inputs.hpp"

namespace core = techmart::core;
namespace tb = techmart::bench;

namespace {

constexpr int kLittle = 3;        // a customer's 4th purchase
constexpr int kFull = 400;        // ~21 months of purchases: recent window full, all 24 hours
constexpr int kCandidates = 256;  // next transactions, cycled through (a power of 2)

struct Fixture {
  std::unique_ptr<tb::Engine> engine;
  tb::Customer customer;
  std::vector<core::FoldInput> folds;  // the candidates with the score they get
  std::vector<unsigned char> compact;  // the state's compact form
  std::string label;
};

// Built once per history length (the setup is not measured).
const Fixture& fixture(int history) {
  static std::map<int, std::unique_ptr<Fixture>> built;
  std::unique_ptr<Fixture>& f = built[history];
  if (f) return *f;
  f = std::make_unique<Fixture>();
  f->engine = tb::default_engine();
  f->customer = tb::make_customer(*f->engine, history, kCandidates, 20261207 + history);
  int suspicious = 0;
  std::size_t reasons = 0;
  for (const core::TransactionInput& tx : f->customer.candidates) {
    const core::ScoreResult r = f->engine->scorer.score({tx, f->customer.state, &f->engine->env},
                                                        f->engine->min_contribution);
    const double score = std::round(r.score * 100.0) / 100.0;
    suspicious += score >= 70.0;  // settings.suspicious_threshold
    reasons += r.reasons.size();
    f->folds.push_back(tb::fold_input(tx, score));
  }
  f->compact.resize(core::compact_size(f->customer.state));
  core::compact_encode(f->customer.state, f->compact.data());
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d rules, %d tx, %zu B compact, %d%% suspicious, %.1f reasons",
                static_cast<int>(f->engine->scorer.rule_count()), history, f->compact.size(),
                100 * suspicious / kCandidates, static_cast<double>(reasons) / kCandidates);
  f->label = buf;
  return *f;
}

// The inputs are what the benchmark says they are, or it reports an error instead of a figure.
bool check(benchmark::State& state, const Fixture& f, int history) {
  const core::CustomerState& s = f.customer.state;
  const char* problem = nullptr;
  if (f.engine->scorer.rule_count() != 16) problem = "expected the 16 default rules";
  if (s.log_amount.count() != history) problem = "history not folded";
  if (history == kFull && s.recent_len != core::kRecent) problem = "full history: recent not full";
  if (problem != nullptr) {
    state.SkipWithError(problem);
    return false;
  }
  state.SetLabel(f.label);
  return true;
}

// Scoring one transaction against the customer's state: every rule, the combination, the reasons
// with their detail texts (Scorer::score, as score_row calls it).
void BM_Score(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  if (!check(state, f, history)) return;
  const tb::Engine& e = *f.engine;
  std::size_t i = 0;
  for (auto _ : state) {
    const core::TransactionInput& tx = f.customer.candidates[i];
    i = (i + 1) & (kCandidates - 1);
    core::ScoreResult r = e.scorer.score({tx, f.customer.state, &e.env}, e.min_contribution);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Score, little, kLittle);
BENCHMARK_CAPTURE(BM_Score, full, kFull);

// Folding the scored transaction into a copy of the state (score_row: next = state; fold()).
void BM_Fold(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  if (!check(state, f, history)) return;
  std::size_t i = 0;
  for (auto _ : state) {
    core::CustomerState next = f.customer.state;
    core::fold(next, f.folds[i], f.engine->params);
    i = (i + 1) & (kCandidates - 1);
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_Fold, little, kLittle);
BENCHMARK_CAPTURE(BM_Fold, full, kFull);

// The compact form the trigger caches per customer: encoded after each row, decoded before.
void BM_CompactEncode(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  if (!check(state, f, history)) return;
  unsigned char buf[core::kCompactMaxBytes];
  unsigned char* out = buf;
  for (auto _ : state) {
    benchmark::DoNotOptimize(out);  // out escapes: the bytes written to it count
    std::size_t n = core::compact_encode(f.customer.state, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.compact.size()));
}
BENCHMARK_CAPTURE(BM_CompactEncode, little, kLittle);
BENCHMARK_CAPTURE(BM_CompactEncode, full, kFull);

void BM_CompactDecode(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  if (!check(state, f, history)) return;
  core::CustomerState s;
  for (auto _ : state) {
    core::compact_decode(f.compact.data(), s);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.compact.size()));
}
BENCHMARK_CAPTURE(BM_CompactDecode, little, kLittle);
BENCHMARK_CAPTURE(BM_CompactDecode, full, kFull);

// The core's share of one inserted row, as the trigger runs it: decode the cached state, score,
// copy and fold, encode (without the glue: reading the tuple, building fraud_reasons as jsonb,
// the statement's cache, the write-back).
void BM_TriggerRow(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  if (!check(state, f, history)) return;
  const tb::Engine& e = *f.engine;
  core::CustomerState cur, next;
  unsigned char buf[core::kCompactMaxBytes];
  unsigned char* out = buf;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(out);
    const core::TransactionInput& tx = f.customer.candidates[i];
    i = (i + 1) & (kCandidates - 1);
    core::compact_decode(f.compact.data(), cur);
    core::ScoreResult r = e.scorer.score({tx, cur, &e.env}, e.min_contribution);
    next = cur;
    core::fold(next, tb::fold_input(tx, std::round(r.score * 100.0) / 100.0), e.params);
    std::size_t n = core::compact_encode(next, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_TriggerRow, little, kLittle);
BENCHMARK_CAPTURE(BM_TriggerRow, full, kFull);

// Baselines: copying bytes, no logic. The state struct (what `next = state` copies) and the
// compact row (the bytes the trigger keeps per customer).
void BM_BaselineMemcpyState(benchmark::State& state) {
  const Fixture& f = fixture(kFull);
  const core::CustomerState* src = &f.customer.state;
  core::CustomerState dst;
  for (auto _ : state) {
    benchmark::DoNotOptimize(src);
    std::memcpy(static_cast<void*>(&dst), src, sizeof dst);
    benchmark::DoNotOptimize(dst);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(sizeof dst));
  state.SetLabel(std::to_string(sizeof dst) + " B");
}
BENCHMARK(BM_BaselineMemcpyState);

void BM_BaselineMemcpyRow(benchmark::State& state, int history) {
  const Fixture& f = fixture(history);
  const unsigned char* src = f.compact.data();
  std::size_t size = f.compact.size();
  unsigned char buf[core::kCompactMaxBytes];
  unsigned char* dst = buf;
  for (auto _ : state) {
    benchmark::DoNotOptimize(src);
    benchmark::DoNotOptimize(size);
    benchmark::DoNotOptimize(dst);  // dst escapes: the copy is kept
    std::memcpy(dst, src, size);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.SetLabel(std::to_string(size) + " B");
}
BENCHMARK_CAPTURE(BM_BaselineMemcpyRow, full, kFull);

}  // namespace
