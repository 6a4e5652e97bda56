// The Online Retail import's line parser (core::online_retail: validation, numbering and
// classification of the staged lines, docs/import.md), per line. The CSV itself is split by
// COPY into the staging table before the core sees it; here the lines are split once in the
// setup, and the hooks are pure functions (the database's uk_time() converts Europe/London time,
// a cost outside the core).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "inputs.hpp"
#include "techmart/core/online_retail.hpp"

namespace core = techmart::core;
namespace orr = techmart::core::online_retail;
namespace tb = techmart::bench;

namespace {

struct Lines {
  std::vector<std::string> csv;
  std::vector<std::array<std::string, orr::kFields>> fields;
  std::vector<orr::RawLine> raw;
};

void make_raw(Lines& l) {
  l.fields = tb::split_csv(l.csv);
  l.raw.resize(l.csv.size());
  for (std::size_t i = 0; i < l.csv.size(); ++i) {
    for (int f = 0; f < orr::kFields; ++f) {
      l.raw[i].field[f] = l.fields[i][static_cast<std::size_t>(f)];
    }
  }
}

Lines lines(std::size_t n) {
  Lines l;
  l.csv = tb::online_retail_csv(n, 2010);
  make_raw(l);
  return l;
}

// The whole of parse() on a staged file of n lines: per line its fields, and per file the
// numbering within invoices, the classification and the sort by (time, line).
void BM_OnlineRetailParse(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const Lines l = lines(n);
  const orr::Rules rules = tb::online_retail_rules();
  const orr::Hooks hooks = tb::online_retail_hooks();
  {
    const orr::Parsed p = orr::parse(l.raw, rules, hooks);
    if (p.lines.size() != n || p.invalid != 0) {
      state.SkipWithError("the generated lines should all be valid");
      return;
    }
    std::size_t sales = 0;
    for (const orr::ParsedLine& x : p.lines) sales += x.outcome == "sale";
    state.SetLabel(std::to_string(100 * sales / n) + "% sales");
  }
  for (auto _ : state) {
    orr::Parsed p = orr::parse(l.raw, rules, hooks);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  std::int64_t bytes = 0;
  for (const std::string& s : l.csv) bytes += static_cast<std::int64_t>(s.size() + 1);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_OnlineRetailParse)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

// The per-field checks of one line alone (what parse() does for every line before the per-file
// work): InvoiceNo, Quantity, InvoiceDate, UnitPrice, CustomerID.
void BM_OnlineRetailFields(benchmark::State& state) {
  const Lines l = lines(4096);
  std::size_t i = 0;
  for (auto _ : state) {
    const orr::RawLine& r = l.raw[i];
    i = (i + 1) & 4095;
    bool inv = orr::invoice_valid(orr::trim_spaces(r.field[orr::kInvoiceNo]));
    auto qty = orr::parse_quantity(r.field[orr::kQuantity]);
    auto date = orr::parse_invoice_date(r.field[orr::kInvoiceDate]);
    auto price = orr::parse_price(r.field[orr::kUnitPrice]);
    auto cust = orr::parse_customer_id(r.field[orr::kCustomerId]);
    benchmark::DoNotOptimize(inv);
    benchmark::DoNotOptimize(qty);
    benchmark::DoNotOptimize(date);
    benchmark::DoNotOptimize(price);
    benchmark::DoNotOptimize(cust);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OnlineRetailFields);

// parse() of a real file, when TECHMART_ONLINE_RETAIL names one (bench/core/run.sh sets it to the
// shared three months when it finds them): the same work on the real mix of lines.
void BM_OnlineRetailParseFile(benchmark::State& state, const std::string& path) {
  static std::unique_ptr<Lines> file;  // read once
  if (!file) {
    file = std::make_unique<Lines>();
    std::ifstream in(path);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!header) file->csv.push_back(line);
      header = false;
    }
    make_raw(*file);
  }
  const Lines& l = *file;
  if (l.raw.empty()) {
    state.SkipWithError("no lines read from TECHMART_ONLINE_RETAIL");
    return;
  }
  const orr::Rules rules = tb::online_retail_rules();
  const orr::Hooks hooks = tb::online_retail_hooks();
  {
    const orr::Parsed p = orr::parse(l.raw, rules, hooks);
    std::size_t sales = 0;
    for (const orr::ParsedLine& x : p.lines) sales += x.outcome == "sale";
    state.SetLabel(std::to_string(l.raw.size()) + " lines, " + std::to_string(p.invalid) +
                   " invalid, " + std::to_string(100 * sales / l.raw.size()) + "% sales");
  }
  for (auto _ : state) {
    orr::Parsed p = orr::parse(l.raw, rules, hooks);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(l.raw.size()));
}

const bool registered_file = [] {
  const char* path = std::getenv("TECHMART_ONLINE_RETAIL");
  if (path == nullptr || *path == '\0' || !std::ifstream(path).good()) return false;
  benchmark::RegisterBenchmark("BM_OnlineRetailParseFile", BM_OnlineRetailParseFile,
                               std::string(path))
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
