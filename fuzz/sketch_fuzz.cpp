// The core's sketch deserialisation: the bytes of a bytea handed to qsketch_quantile(s),
// qsketch_cdf, qsketch_count, qsketch_merge_agg, hll_cardinality, hll_union(_agg) and hll_add go
// through QSketch::deserialize / HyperLogLog::deserialize. Any input either throws
// std::invalid_argument (the glue turns it into SQLSTATE 22023) or yields a sketch that
//   * re-serialises to bytes that deserialise to an equal sketch (and serialise identically),
//   * answers quantile/cdf/estimate with finite, ordered, in-range figures, and
//   * merges with itself (QSketch: count doubles unless it would overflow, which must throw).
// Any other exception, a crash or a sanitizer report is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "common.h"
#include "techmart/core/hyperloglog.hpp"
#include "techmart/core/qsketch.hpp"

using techmart::core::HyperLogLog;
using techmart::core::QSketch;

namespace {

void check_qsketch(const std::uint8_t* data, std::size_t size) {
  QSketch s;
  try {
    s = QSketch::deserialize(data, size);
  } catch (const std::invalid_argument&) {
    return;  // refused cleanly
  }
  const std::string bytes = s.serialize();
  const QSketch back = QSketch::deserialize(bytes.data(), bytes.size());
  FUZZ_CHECK(back == s, "qsketch: deserialize(serialize(s)) == s");
  FUZZ_CHECK(back.serialize() == bytes, "qsketch: serialisation is stable");
  if (s.empty()) return;
  FUZZ_CHECK(std::isfinite(s.min()) && std::isfinite(s.max()) && s.min() <= s.max(),
             "qsketch: min <= max");
  double prev = -std::numeric_limits<double>::infinity();
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0}) {
    const double v = s.quantile(q);
    FUZZ_CHECK(std::isfinite(v), "qsketch: finite quantile");
    FUZZ_CHECK(v >= prev, "qsketch: quantiles ordered");
    FUZZ_CHECK(v >= s.min() && v <= s.max(), "qsketch: quantile within [min, max]");
    prev = v;
  }
  for (double x : {s.min(), s.max(), 0.0, -1.0, 1.0, (s.min() + s.max()) / 2}) {
    const double c = s.cdf(x);
    FUZZ_CHECK(c >= 0.0 && c <= 1.0, "qsketch: cdf in [0, 1]");
  }
  FUZZ_CHECK(s.cdf(s.max()) == 1.0, "qsketch: cdf(max) = 1");
  QSketch m = s;
  try {
    m.merge(s);
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(s.count() > std::numeric_limits<std::uint64_t>::max() / 2,
               "qsketch: merge refused only on overflow");
    return;
  }
  FUZZ_CHECK(s.count() <= std::numeric_limits<std::uint64_t>::max() / 2,
             "qsketch: overflowing merge refused");
  FUZZ_CHECK(m.count() == 2 * s.count(), "qsketch: merge with itself doubles the count");
  FUZZ_CHECK(m.min() == s.min() && m.max() == s.max(), "qsketch: merge keeps min/max");
}

void check_hll(const std::uint8_t* data, std::size_t size) {
  HyperLogLog h;
  try {
    h = HyperLogLog::deserialize(data, size);
  } catch (const std::invalid_argument&) {
    return;
  }
  const std::string bytes = h.serialize();
  const HyperLogLog back = HyperLogLog::deserialize(bytes.data(), bytes.size());
  FUZZ_CHECK(back == h, "hll: deserialize(serialize(h)) == h");
  FUZZ_CHECK(back.serialize() == bytes, "hll: serialisation is stable");
  const double e = h.estimate();
  FUZZ_CHECK(std::isfinite(e) && e >= 0.0, "hll: finite non-negative estimate");
  HyperLogLog m = h;
  m.merge(h);
  FUZZ_CHECK(m == h, "hll: merge with itself is idempotent");
  HyperLogLog empty(h.precision());
  empty.merge(h);
  FUZZ_CHECK(empty == h, "hll: empty merged with h is h");
  HyperLogLog other(h.precision() == HyperLogLog::kMaxPrecision ? HyperLogLog::kMinPrecision
                                                                : h.precision() + 1);
  bool refused = false;
  try {
    other.merge(h);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  FUZZ_CHECK(refused, "hll: merge of different precisions refused");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // the same bytes as either sketch (a bytea can be handed to any of the functions)
  check_qsketch(data, size);
  check_hll(data, size);
  return 0;
}
