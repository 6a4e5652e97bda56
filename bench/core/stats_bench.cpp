// The statistics of the aggregates and of the fraud state: Welford and moments updates and
// merges (per row / per partial state), HyperLogLog add and merge (distinct counts of the
// rollups and the dashboard), the quantile sketch (techmart.percentile, qsketch_agg) and the
// logistic fit of techmart.fit_weights().
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "inputs.hpp"
#include "techmart/core/hyperloglog.hpp"
#include "techmart/core/logistic_fit.hpp"
#include "techmart/core/moments.hpp"
#include "techmart/core/qsketch.hpp"
#include "techmart/core/welford.hpp"

namespace core = techmart::core;
namespace tb = techmart::bench;

namespace {

constexpr std::size_t kBatch = 4096;  // values per iteration of the per-value benchmarks

const std::vector<double>& log_amounts() {
  static const std::vector<double> v = [] {
    std::vector<double> a = tb::amounts(kBatch, 11);
    for (double& x : a) x = std::log1p(x);
    return a;
  }();
  return v;
}

// ------------------------------------------------------------------------- Welford, moments
void BM_WelfordAdd(benchmark::State& state) {
  const std::vector<double>& v = log_amounts();
  for (auto _ : state) {
    core::Welford w;
    for (double x : v) w.add(x);
    benchmark::DoNotOptimize(w);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(v.size()));
}
BENCHMARK(BM_WelfordAdd);

// Partial states of 64 values each merged into one (a parallel aggregate's combine).
template <class Acc>
std::vector<Acc> partials() {
  const std::vector<double>& v = log_amounts();
  std::vector<Acc> p(v.size() / 64);
  for (std::size_t i = 0; i < v.size(); ++i) p[i / 64].add(v[i]);
  return p;
}

void BM_WelfordMerge(benchmark::State& state) {
  const std::vector<core::Welford> p = partials<core::Welford>();
  for (auto _ : state) {
    core::Welford w;
    for (const core::Welford& x : p) w.merge(x);
    benchmark::DoNotOptimize(w);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(p.size()));
}
BENCHMARK(BM_WelfordMerge);

void BM_MomentsAdd(benchmark::State& state) {
  const std::vector<double>& v = log_amounts();
  for (auto _ : state) {
    core::Moments m;
    for (double x : v) m.add(x);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(v.size()));
}
BENCHMARK(BM_MomentsAdd);

void BM_MomentsMerge(benchmark::State& state) {
  const std::vector<core::Moments> p = partials<core::Moments>();
  for (auto _ : state) {
    core::Moments m;
    for (const core::Moments& x : p) m.merge(x);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(p.size()));
}
BENCHMARK(BM_MomentsMerge);

// ------------------------------------------------------------------------------ HyperLogLog
core::HyperLogLog hll_of(std::int64_t first, std::int64_t count) {
  core::HyperLogLog h;
  for (std::int64_t v = first; v < first + count; ++v) h.add(v);
  return h;
}

// A small group's sketch (a customer's or an hour's distinct products): 256 values into a fresh
// sketch, which stays sparse.
void BM_HllAddSparse(benchmark::State& state) {
  constexpr std::int64_t kValues = 256;
  if (!hll_of(0, kValues).is_sparse()) {
    state.SkipWithError("expected a sparse sketch");
    return;
  }
  std::int64_t next = 0;
  for (auto _ : state) {
    core::HyperLogLog h;
    for (std::int64_t k = 0; k < kValues; ++k) h.add(next++);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * kValues);
}
BENCHMARK(BM_HllAddSparse);

// A large group's sketch (dense, 2^14 registers): new values added to it.
void BM_HllAddDense(benchmark::State& state) {
  core::HyperLogLog h = hll_of(0, 100000);
  if (h.is_sparse()) {
    state.SkipWithError("expected a dense sketch");
    return;
  }
  std::int64_t next = 100000;
  for (auto _ : state) {
    for (std::size_t k = 0; k < kBatch; ++k) h.add(next++);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
}
BENCHMARK(BM_HllAddDense);

// Merges into a dense sketch: of another dense one (16 KiB of registers), of a sparse one
// (256 values), and of a dense one's serialized bytes (what a combine of stored sketches reads).
void BM_HllMergeDense(benchmark::State& state) {
  core::HyperLogLog acc = hll_of(0, 100000);
  const core::HyperLogLog other = hll_of(50000, 100000);
  for (auto _ : state) {
    acc.merge(other);
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (std::int64_t{1} << acc.precision()));
}
BENCHMARK(BM_HllMergeDense);

void BM_HllMergeSparse(benchmark::State& state) {
  core::HyperLogLog acc = hll_of(0, 100000);
  const core::HyperLogLog other = hll_of(1000000, 256);
  if (!other.is_sparse() || acc.is_sparse()) {
    state.SkipWithError("expected a sparse sketch merged into a dense one");
    return;
  }
  for (auto _ : state) {
    acc.merge(other);
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HllMergeSparse);

void BM_HllMergeSerialized(benchmark::State& state) {
  core::HyperLogLog acc = hll_of(0, 100000);
  const std::string bytes = hll_of(50000, 100000).serialize();
  for (auto _ : state) {
    acc.merge_serialized(bytes.data(), bytes.size());
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_HllMergeSerialized);

void BM_HllEstimate(benchmark::State& state) {
  const core::HyperLogLog h = hll_of(0, 100000);
  for (auto _ : state) {
    double e = h.estimate();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HllEstimate);

// ------------------------------------------------------------------------- quantile sketch
core::QSketch qsketch_of(std::size_t n, std::uint64_t seed) {
  core::QSketch q;
  for (double x : tb::amounts(n, seed)) q.add(x);
  return q;
}

void BM_QSketchAdd(benchmark::State& state) {
  const std::vector<double> v = tb::amounts(kBatch, 12);
  core::QSketch q = qsketch_of(10000, 13);  // its buckets already spread over the amounts
  for (auto _ : state) {
    for (double x : v) q.add(x);
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(v.size()));
}
BENCHMARK(BM_QSketchAdd);

// Two sketches of 10,000 purchase amounts each.
void BM_QSketchMerge(benchmark::State& state) {
  core::QSketch acc = qsketch_of(10000, 14);
  const core::QSketch other = qsketch_of(10000, 15);
  for (auto _ : state) {
    acc.merge(other);
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QSketchMerge);

void BM_QSketchSerialize(benchmark::State& state) {
  const core::QSketch q = qsketch_of(10000, 14);
  std::string out;
  for (auto _ : state) {
    out.clear();
    q.serialize_to(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
  state.SetLabel(std::to_string(out.size()) + " B");
}
BENCHMARK(BM_QSketchSerialize);

void BM_QSketchDeserialize(benchmark::State& state) {
  const std::string bytes = qsketch_of(10000, 14).serialize();
  for (auto _ : state) {
    core::QSketch q = core::QSketch::deserialize(bytes.data(), bytes.size());
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_QSketchDeserialize);

void BM_QSketchQuantile(benchmark::State& state) {
  const core::QSketch q = qsketch_of(10000, 14);
  const double qs[] = {0.5, 0.9, 0.95, 0.99};
  std::size_t i = 0;
  for (auto _ : state) {
    double v = q.quantile(qs[i++ & 3]);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QSketchQuantile);

// ---------------------------------------------------------------------------- logistic fit
// fit_weights() on analysts' labels: one row per labelled transaction, one column per enabled
// rule (16), features max(0, observed - threshold) -- zero for most rules of most rows --, labels
// drawn from a known logistic model (~8% fraud).
void BM_LogisticFit(benchmark::State& state) {
  const std::size_t rows = static_cast<std::size_t>(state.range(0));
  constexpr int kCols = 16;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::vector<double>> x(rows, std::vector<double>(kCols, 0.0));
  std::vector<int> y(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    double t = -3.5;
    for (int c = 0; c < kCols; ++c) {
      if (u(rng) < 0.12) x[r][static_cast<std::size_t>(c)] = -std::log(1.0 - u(rng)) * 1.5;
      t += (0.2 + 0.15 * (c % 5)) * x[r][static_cast<std::size_t>(c)];
    }
    y[r] = u(rng) < 1.0 / (1.0 + std::exp(-t)) ? 1 : 0;
  }
  const core::FitOptions options;
  int iterations = 0;
  bool converged = true;
  for (auto _ : state) {
    core::FitResult fit = core::fit_logistic(x, y, options);
    converged = converged && fit.converged;
    iterations = fit.iterations;
    benchmark::DoNotOptimize(fit);
  }
  if (!converged) state.SkipWithError("the fit did not converge");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rows));
  state.SetLabel(std::to_string(kCols) + " columns, " + std::to_string(iterations) +
                 " Newton steps");
}
BENCHMARK(BM_LogisticFit)->Arg(3000)->Unit(benchmark::kMillisecond);

}  // namespace
