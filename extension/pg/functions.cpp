// SQL-callable pure functions of the core. Each entry point: read arguments (plain C), run the
// core under guarded(), then -- after the catch -- either ereport or return the result.
#include "boundary.hpp"
#include "params.hpp"
#include "techmart/core/scoring.hpp"
#include "techmart/core/stats.hpp"
#include "techmart/core/version.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(techmart_version);
PG_FUNCTION_INFO_V1(techmart_zscore);
PG_FUNCTION_INFO_V1(techmart_shrunk_zscore);
PG_FUNCTION_INFO_V1(techmart_log_amount);
PG_FUNCTION_INFO_V1(techmart_calibrated_score);
PG_FUNCTION_INFO_V1(techmart_rule_config_is_valid);
PG_FUNCTION_INFO_V1(techmart_rule_config_diagnose);
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::raise;

// techmart.version() → text
extern "C" PGDLLEXPORT Datum techmart_version(PG_FUNCTION_ARGS) {
  PG_RETURN_TEXT_P(cstring_to_text(core::kVersion));
}

// techmart.zscore(x float8, mean float8, sd float8) → float8
extern "C" PGDLLEXPORT Datum techmart_zscore(PG_FUNCTION_ARGS) {
  const double x = PG_GETARG_FLOAT8(0);
  const double mean = PG_GETARG_FLOAT8(1);
  const double sd = PG_GETARG_FLOAT8(2);
  double z = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { z = core::zscore(x, mean, sd); })) raise(err);
  PG_RETURN_FLOAT8(z);
}

// techmart.shrunk_zscore(x, n bigint, mean, m2, prior_mean, prior_sd, prior_weight) → float8
extern "C" PGDLLEXPORT Datum techmart_shrunk_zscore(PG_FUNCTION_ARGS) {
  const double x = PG_GETARG_FLOAT8(0);
  const int64 n = PG_GETARG_INT64(1);
  const double mean = PG_GETARG_FLOAT8(2);
  const double m2 = PG_GETARG_FLOAT8(3);
  const double prior_mean = PG_GETARG_FLOAT8(4);
  const double prior_sd = PG_GETARG_FLOAT8(5);
  const double prior_weight = PG_GETARG_FLOAT8(6);
  double z = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        const core::Welford state = core::Welford::from_state(n, mean, m2);
        z = core::shrunk_zscore(x, state, core::Prior{prior_mean, prior_sd, prior_weight});
      })) {
    raise(err);
  }
  PG_RETURN_FLOAT8(z);
}

// techmart.log_amount(amount float8) → float8 (log1p; 2201E for a negative amount)
extern "C" PGDLLEXPORT Datum techmart_log_amount(PG_FUNCTION_ARGS) {
  const double amount = PG_GETARG_FLOAT8(0);
  double y = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { y = core::log_amount(amount); })) raise(err);
  PG_RETURN_FLOAT8(y);
}

// techmart.calibrated_score(observed, threshold, weight) → float8 in [0, 100]
extern "C" PGDLLEXPORT Datum techmart_calibrated_score(PG_FUNCTION_ARGS) {
  const double observed = PG_GETARG_FLOAT8(0);
  const double threshold = PG_GETARG_FLOAT8(1);
  const double weight = PG_GETARG_FLOAT8(2);
  double s = 0;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] { s = core::calibrated_score(observed, threshold, weight); })) {
    raise(err);
  }
  PG_RETURN_FLOAT8(s);
}

// techmart.rule_config_is_valid(rule text, weight float8, threshold float8, params jsonb) → bool
// Used by the CHECK constraint of techmart.rule_config: the core decides what is valid (for a
// known rule it builds the rule, which validates its parameters).
extern "C" PGDLLEXPORT Datum techmart_rule_config_is_valid(PG_FUNCTION_ARGS) {
  const char* rule = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const double weight = PG_GETARG_FLOAT8(1);
  const double threshold = PG_GETARG_FLOAT8(2);
  techmart::pg::NumericParams params;
  const char* problem = nullptr;
  if (!techmart::pg::collect_numeric_params(PG_GETARG_DATUM(3), &params, &problem)) {
    PG_RETURN_BOOL(false);
  }
  bool valid = false;
  ErrorInfo err;
  if (!guarded(err, nullptr, [&] {
        core::RuleConfig config;
        config.rule = rule;
        config.enabled = true;
        config.weight = weight;
        config.threshold = threshold;
        for (int i = 0; i < params.count; ++i) config.params[params.keys[i]] = params.values[i];
        try {
          (void)core::RuleRegistry::with_builtin_rules().build({config});
          valid = true;
        } catch (const std::invalid_argument&) {
          valid = false;
        }
      })) {
    raise(err);
  }
  PG_RETURN_BOOL(valid);
}

// techmart.rule_config_diagnose(rule, weight, threshold, params, OUT known, OUT problem,
// OUT reads text[], OUT unread text[]) (extension 0.6): what the CHECK rule_config_valid decides,
// with the reason (the core's message) instead of a bare "violates check constraint", and the
// parameters the rule reads / the given ones it does not read (core RuleRegistry::diagnose). Used
// by the trigger rule_config_diagnose on techmart.rule_config.
extern "C" PGDLLEXPORT Datum techmart_rule_config_diagnose(PG_FUNCTION_ARGS) {
  constexpr int kMaxReads = 32;
  constexpr int kNameBytes = 64;
  const char* rule = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const double weight = PG_GETARG_FLOAT8(1);
  const double threshold = PG_GETARG_FLOAT8(2);
  TupleDesc rdesc;
  if (get_call_result_type(fcinfo, nullptr, &rdesc) != TYPEFUNC_COMPOSITE) {
    elog(ERROR, "techmart: rule_config_diagnose must return a record");
  }
  rdesc = BlessTupleDesc(rdesc);
  techmart::pg::NumericParams params;
  const char* params_problem = nullptr;
  const bool numeric =
      techmart::pg::collect_numeric_params(PG_GETARG_DATUM(3), &params, &params_problem);
  // plain results, filled by the core below
  bool known = false;
  char problem[512] = {0};
  char reads[kMaxReads][kNameBytes];
  int nreads = 0;
  bool* unread = static_cast<bool*>(palloc0(sizeof(bool) * (numeric ? params.count + 1 : 1)));
  if (!numeric) {
    strlcpy(problem, params_problem, sizeof problem);
    ErrorInfo err;
    if (!guarded(err, nullptr, [&] { known = core::RuleRegistry::builtin().knows(rule); }))
      raise(err);
  } else {
    ErrorInfo err;
    if (!guarded(err, nullptr, [&] {
          core::RuleConfig config;
          config.rule = rule;
          config.weight = weight;
          config.threshold = threshold;
          for (int i = 0; i < params.count; ++i) config.params[params.keys[i]] = params.values[i];
          const core::RuleRegistry::Diagnosis d = core::RuleRegistry::builtin().diagnose(config);
          known = d.known;
          strlcpy(problem, d.problem.c_str(), sizeof problem);
          for (const std::string& r : d.reads) {
            if (nreads < kMaxReads) strlcpy(reads[nreads++], r.c_str(), kNameBytes);
          }
          for (const std::string& u : d.unread) {
            for (int i = 0; i < params.count; ++i) {
              if (u == params.keys[i]) unread[i] = true;
            }
          }
        })) {
      raise(err);
    }
  }
  Datum values[4];
  bool nulls[4] = {false, problem[0] == '\0', false, false};
  values[0] = BoolGetDatum(known);
  values[1] = nulls[1] ? Datum(0) : CStringGetTextDatum(problem);
  Datum* rd = static_cast<Datum*>(palloc(sizeof(Datum) * (nreads + 1)));
  for (int i = 0; i < nreads; ++i) rd[i] = CStringGetTextDatum(reads[i]);
  values[2] = PointerGetDatum(construct_array(rd, nreads, TEXTOID, -1, false, TYPALIGN_INT));
  int nunread = 0;
  Datum* ud = static_cast<Datum*>(palloc(sizeof(Datum) * (numeric ? params.count + 1 : 1)));
  if (numeric) {
    for (int i = 0; i < params.count; ++i) {
      if (unread[i]) ud[nunread++] = CStringGetTextDatum(params.keys[i]);
    }
  }
  values[3] = PointerGetDatum(construct_array(ud, nunread, TEXTOID, -1, false, TYPALIGN_INT));
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rdesc, values, nulls)));
}
