// The fraud engine's per-customer state as it is read back from storage (any values a DBA or a
// damaged row could hold) and folded with arbitrary transactions. Properties: validate_state()
// either refuses a state (std::invalid_argument) or the state is safe to use: fold() of a valid
// state with an accepted transaction yields a state that validates again, and the derived figures
// (robust median/MAD, customer risk) are finite and in range. No crash or UB in any case.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common.h"
#include "techmart/core/fraud_state.hpp"

using namespace techmart::core;

namespace {

double any_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return in.ConsumeFloatingPoint<double>();                       // anything, incl. huge
    case 1: return in.ConsumeFloatingPointInRange<double>(0.0, 1e4);        // amounts
    case 2: return in.ConsumeFloatingPointInRange<double>(1.6e9, 1.9e9);    // epoch seconds
    case 3: return std::nan("");
    case 4: return in.ConsumeBool() ? INFINITY : -INFINITY;
    case 5: return in.ConsumeFloatingPointInRange<double>(-200.0, 200.0);   // coordinates
    case 6: return static_cast<double>(in.ConsumeIntegral<std::int32_t>());
    default: return 0.0;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  CustomerState s;
  try {
    const auto n = in.ConsumeIntegralInRange<std::int64_t>(-2, 1000000);
    const double mean = any_double(in), m2 = any_double(in);
    s.log_amount = Welford::from_state(n, mean, m2);
  } catch (const std::invalid_argument&) {
    return 0;  // refused when read back (documented contract of from_state)
  }
  for (auto& h : s.hist) h = in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::int32_t>();
  s.recent_len = in.ConsumeIntegralInRange<int>(-2, kRecent + 2);
  for (auto& r : s.recent) r = {any_double(in), any_double(in)};
  for (auto& h : s.hour_profile) h = in.ConsumeBool() ? 0.0 : any_double(in);
  s.profile_time = any_double(in);
  s.has_last = in.ConsumeBool();
  s.last_time = any_double(in);
  s.last_amount = any_double(in);
  s.has_last_loc = in.ConsumeBool();
  s.last_lat = any_double(in);
  s.last_lon = any_double(in);
  const std::string c = in.ConsumeBytesAsString(2);
  for (std::size_t i = 0; i < 2; ++i) s.last_country[i] = i < c.size() ? c[i] : 0;
  s.last_country[2] = in.ConsumeBool() ? 0 : 'X';
  s.methods = in.ConsumeIntegral<std::uint32_t>();
  s.risk = any_double(in);
  s.risk_time = any_double(in);

  StateParams p;
  try {
    validate_state(s);
  } catch (const std::invalid_argument&) {
    return 0;  // refused: the glue raises an SQL error, nothing is used
  }
  const RobustEstimate est = robust_from_hist(s.hist);
  FUZZ_CHECK(est.count >= 0, "histogram count");
  if (est.count > 0) FUZZ_CHECK(std::isfinite(est.median) && std::isfinite(est.mad) && est.mad > 0, "median/MAD");
  const double now = any_double(in);
  if (std::isfinite(now)) {
    try {
      const double r = risk_score(s, now, p);
      FUZZ_CHECK(std::isfinite(r) && r >= 0 && r <= 100, "risk score in [0, 100]");
    } catch (const std::invalid_argument&) {
      // refused (e.g. now - risk_time overflows): an SQL error in the glue, not a crash
    }
  }

  for (int k = 0; k < 4 && in.remaining_bytes() > 0; ++k) {
    FoldInput tx{};
    tx.amount = any_double(in);
    tx.time = any_double(in);
    const std::string cc = in.ConsumeBytesAsString(2);
    tx.country = cc.c_str();
    tx.has_location = in.ConsumeBool();
    tx.lat = any_double(in);
    tx.lon = any_double(in);
    tx.method = in.ConsumeIntegralInRange<int>(-3, 40);
    tx.score = any_double(in);
    try {
      fold(s, tx, p);
    } catch (const std::invalid_argument&) {
      continue;  // refused input
    }
    try {
      validate_state(s);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "state invalid after fold: %s\n", e.what());
      FUZZ_CHECK(false, "fold of a valid state with accepted input keeps the state valid");
    }
  }
  return 0;
}
