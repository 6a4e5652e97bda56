#include "fraud_glue.hpp"

#include <algorithm>
#include <memory>

#include "jsonb_writer.hpp"
#include "numeric_conv.hpp"

extern "C" {
#include "access/toast_internals.h"
#if defined(USE_LZ4) && defined(TECHMART_HAVE_LZ4)
#include <lz4.h>
#endif
#include "catalog/partition.h"
#include "funcapi.h"
#include "parser/parse_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
}

namespace core = techmart::core;
namespace jsonb = techmart::pg::jsonb;

namespace techmart::pg::fraud {

namespace {
constexpr int64 kUnixEpochUs = INT64CONST(946684800) * 1000000;

double float8_datum(Datum d) { return DatumGetFloat8(d); }

// Copies a float8[] into dst (up to cap elements); returns the length. Plain C.
int float8_array(Datum d, double* dst, int cap, const char* what) {
  ArrayType* a = DatumGetArrayTypeP(d);
  if (ARR_NDIM(a) > 1 || ARR_ELEMTYPE(a) != FLOAT8OID || ARR_HASNULL(a)) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.customer_state.%s must be a one-dimensional float8[] "
                           "without NULLs",
                           what)));
  }
  const int n = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
  if (n > cap) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.customer_state.%s has %d elements, at most %d allowed", what,
                           n, cap)));
  }
  if (n > 0) memcpy(dst, ARR_DATA_PTR(a), sizeof(double) * n);
  return n;
}

int int4_array(Datum d, int32* dst, int cap, const char* what) {
  ArrayType* a = DatumGetArrayTypeP(d);
  if (ARR_NDIM(a) > 1 || ARR_ELEMTYPE(a) != INT4OID || ARR_HASNULL(a)) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.customer_state.%s must be a one-dimensional int4[] "
                           "without NULLs",
                           what)));
  }
  const int n = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
  if (n > cap) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.customer_state.%s has %d elements, at most %d allowed", what,
                           n, cap)));
  }
  if (n > 0) memcpy(dst, ARR_DATA_PTR(a), sizeof(int32) * n);
  return n;
}

// The one-dimensional array without NULLs of n elements of elem_size bytes that construct_array()
// makes (the same bytes: header, dimension n, lower bound 1, the elements after the MAXALIGNed
// overhead), copied from v in one memcpy instead of one Datum per element; an empty array for n 0.
Datum make_plain_array(const void* v, int n, Oid elemtype, int elem_size) {
  if (n <= 0) return PointerGetDatum(construct_empty_array(elemtype));
  const Size nbytes = ARR_OVERHEAD_NONULLS(1) + static_cast<Size>(n) * elem_size;
  ArrayType* a = static_cast<ArrayType*>(palloc0(nbytes));
  SET_VARSIZE(a, nbytes);
  a->ndim = 1;
  a->dataoffset = 0;  // no NULL bitmap
  a->elemtype = elemtype;
  ARR_DIMS(a)[0] = n;
  ARR_LBOUND(a)[0] = 1;
  memcpy(ARR_DATA_PTR(a), v, static_cast<Size>(n) * elem_size);
  return PointerGetDatum(a);
}

// float8_numeric(x) -- numeric_in of snprintf("%.15g", x) -- for an amount: when x is the double
// nearest to m / 1000 (m an integer, checked by dividing back: IEEE division rounds correctly, as
// strtod does) and |x| < 1e11 (at most 14 significant digits, which "%.15g" prints back exactly,
// trailing zeros dropped), the same numeric (value and scale) from the integer.
Datum float8_to_numeric(double x) {
  const double r = std::nearbyint(x * 1000.0);
  if (std::fabs(x) < 1e11 && r / 1000.0 == x) {
    int64 m = static_cast<int64>(r);
    int scale = 3;
    while (scale > 0 && m % 10 == 0) {  // "%g" drops trailing zeros (and 0 is "0")
      m /= 10;
      --scale;
    }
    return NumericGetDatum(int64_div_fast_to_numeric(m, scale));
  }
  return DirectFunctionCall1(float8_numeric, Float8GetDatum(x));
}

Datum make_float8_array(const double* v, int n) {
  static_assert(sizeof(double) == 8, "float8");
  return make_plain_array(v, n, FLOAT8OID, 8);
}

Datum make_int4_array(const int32* v, int n) { return make_plain_array(v, n, INT4OID, 4); }
}  // namespace

double ts_to_epoch(TimestampTz ts) { return static_cast<double>(ts + kUnixEpochUs) / 1e6; }
TimestampTz epoch_to_ts(double t) {
  // clamped to timestamptz's range (about +-9.2e12 s) before any conversion to an integer
  const double us = std::round(t * 1e6);
  constexpr double kMaxUs = 9.2e18;
  if (!(us > -kMaxUs)) return DT_NOBEGIN;
  if (!(us < kMaxUs)) return DT_NOEND;
  return static_cast<TimestampTz>(us) - kUnixEpochUs;
}

bool is_transactions_table(Relation rel) {
  if (strcmp(RelationGetRelationName(rel), "transactions") == 0) return true;
  if (!rel->rd_rel->relispartition) return false;
  static Oid cached_relid = InvalidOid;  // one lookup per partition met, not per row
  static bool cached = false;
  if (cached_relid != RelationGetRelid(rel)) {
    List* ancestors = get_partition_ancestors(RelationGetRelid(rel));
    const Oid root = ancestors != NIL ? llast_oid(ancestors) : InvalidOid;
    const char* name = OidIsValid(root) ? get_rel_name(root) : nullptr;
    cached = name != nullptr && strcmp(name, "transactions") == 0 &&
             get_rel_namespace(root) == RelationGetNamespace(rel);
    list_free(ancestors);
    cached_relid = RelationGetRelid(rel);
  }
  return cached;
}

SPIPlanPtr prepare_kept(const char* sql, int nargs, Oid* argtypes, bool generic) {
  SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, argtypes, generic ? CURSOR_OPT_GENERIC_PLAN : 0);
  if (plan == nullptr) {
    elog(ERROR, "techmart: SPI_prepare failed (%s): %s", SPI_result_code_string(SPI_result), sql);
  }
  if (SPI_keepplan(plan) != 0) elog(ERROR, "techmart: SPI_keepplan failed: %s", sql);
  return plan;
}

void decode_state(HeapTuple tup, TupleDesc desc, int first, RawState* out) {
  bool isnull[kStateColumns];
  Datum d[kStateColumns];
  for (int i = 0; i < kStateColumns; ++i) d[i] = SPI_getbinval(tup, desc, first + i, &isnull[i]);
  decode_state_values(d, isnull, out);
}

void decode_state_values(const Datum* d, const bool* isnull, RawState* out) {
  memset(out, 0, sizeof *out);
  const int required[] = {0, 1, 2, 3, 4, 5, 6, 7, 13, 14, 15};
  for (int i : required) {
    if (isnull[i]) {
      ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                      errmsg("techmart.customer_state has a NULL in a required column")));
    }
  }
  out->n = DatumGetInt64(d[0]);
  out->mean = float8_datum(d[1]);
  out->m2 = float8_datum(d[2]);
  out->hist_len = int4_array(d[3], out->hist, core::kHistBins, "amount_hist");
  out->recent_len = float8_array(d[4], out->recent_t, core::kRecent, "recent_t");
  const int ra = float8_array(d[5], out->recent_a, core::kRecent, "recent_a");
  if (ra != out->recent_len) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.customer_state.recent_t and recent_a differ in length")));
  }
  out->hours_len = float8_array(d[6], out->hours, 24, "hour_profile");
  out->profile_time = float8_datum(d[7]);
  out->has_last = !isnull[8] && out->n > 0;
  out->last_time = out->has_last ? ts_to_epoch(DatumGetTimestampTz(d[8])) : 0.0;
  out->last_amount = isnull[9] ? 0.0 : numeric_to_float8(d[9]);
  out->has_last_loc = !isnull[10] && !isnull[11];
  out->last_lat = out->has_last_loc ? float8_datum(d[10]) : 0.0;
  out->last_lon = out->has_last_loc ? float8_datum(d[11]) : 0.0;
  if (!isnull[12]) {
    const char* c = TextDatumGetCString(d[12]);
    strlcpy(out->last_country, c, sizeof out->last_country);
  }
  out->methods = static_cast<uint32>(DatumGetInt32(d[13]));
  out->risk = float8_datum(d[14]);
  out->risk_time = float8_datum(d[15]);
}

core::CustomerState to_core(const RawState& r, int64 customer_id) {
  core::CustomerState s;
  try {
    s.log_amount = core::Welford::from_state(r.n, r.mean, r.m2);
    if (r.hist_len != 0 && r.hist_len != core::kHistBins) {
      throw std::invalid_argument("amount_hist must have 0 or 64 elements");
    }
    if (r.hours_len != 0 && r.hours_len != 24) {
      throw std::invalid_argument("hour_profile must have 0 or 24 elements");
    }
    for (int i = 0; i < r.hist_len; ++i) s.hist[i] = r.hist[i];
    s.recent_len = r.recent_len;
    for (int i = 0; i < r.recent_len; ++i)
      s.recent[i] = core::RecentTx{r.recent_t[i], r.recent_a[i]};
    for (int i = 0; i < r.hours_len; ++i) s.hour_profile[i] = r.hours[i];
    s.profile_time = r.profile_time;
    s.has_last = r.has_last;
    s.last_time = r.last_time;
    s.last_amount = r.last_amount;
    s.has_last_loc = r.has_last_loc;
    s.last_lat = r.last_lat;
    s.last_lon = r.last_lon;
    std::memcpy(s.last_country, r.last_country, 3);
    s.methods = r.methods;
    s.risk = r.risk;
    s.risk_time = r.risk_time;
    core::validate_state(s);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("techmart.customer_state of customer " + std::to_string(customer_id) +
                             " is corrupt: " + e.what());
  }
  return s;
}

const char* const kStateSetList =
    "n = $2, mean = $3, m2 = $4, amount_hist = $5, recent_t = $6, recent_a = $7, "
    "hour_profile = $8, profile_time = $9, last_transaction_time = $10, last_amount = $11, "
    "last_lat = $12, last_lon = $13, last_country = $14, methods = $15, risk = $16, "
    "risk_time = $17, updated_at = now()";
const char* const kStateColumnList =
    "customer_id, n, mean, m2, amount_hist, recent_t, recent_a, hour_profile, profile_time, "
    "last_transaction_time, last_amount, last_lat, last_lon, last_country, methods, risk, "
    "risk_time, updated_at";
const char* const kStateValueList =
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now()";

void encode_state(const core::CustomerState& s, Datum* v, char* nulls) {
  for (int i = 0; i < kStateParams; ++i) nulls[i] = ' ';
  v[0] = Int64GetDatum(s.log_amount.count());
  v[1] = Float8GetDatum(s.log_amount.mean());
  v[2] = Float8GetDatum(s.log_amount.m2());
  v[3] = make_int4_array(s.hist, core::kHistBins);
  double t[core::kRecent], a[core::kRecent];
  for (int i = 0; i < s.recent_len; ++i) {
    t[i] = s.recent[i].time;
    a[i] = s.recent[i].amount;
  }
  v[4] = make_float8_array(t, s.recent_len);
  v[5] = make_float8_array(a, s.recent_len);
  v[6] = make_float8_array(s.hour_profile, 24);
  v[7] = Float8GetDatum(s.profile_time);
  if (s.has_last) {
    v[8] = TimestampTzGetDatum(epoch_to_ts(s.last_time));
    v[9] = float8_to_numeric(s.last_amount);
  } else {
    v[8] = v[9] = 0;
    nulls[8] = nulls[9] = 'n';
  }
  if (s.has_last_loc) {
    v[10] = Float8GetDatum(s.last_lat);
    v[11] = Float8GetDatum(s.last_lon);
  } else {
    v[10] = v[11] = 0;
    nulls[10] = nulls[11] = 'n';
  }
  if (s.last_country[0]) {
    v[12] = CStringGetTextDatum(s.last_country);
  } else {
    v[12] = 0;
    nulls[12] = 'n';
  }
  v[13] = Int32GetDatum(static_cast<int32>(s.methods));
  v[14] = Float8GetDatum(s.risk);
  v[15] = Float8GetDatum(s.risk_time);
}

const char* const kStateSetFromList =
    "n = u.n, mean = u.mean, m2 = u.m2, amount_hist = u.amount_hist, recent_t = u.recent_t, "
    "recent_a = u.recent_a, hour_profile = u.hour_profile, profile_time = u.profile_time, "
    "last_transaction_time = u.last_transaction_time, last_amount = u.last_amount, "
    "last_lat = u.last_lat, last_lon = u.last_lon, last_country = u.last_country, "
    "methods = u.methods, risk = u.risk, risk_time = u.risk_time, updated_at = now()";

Oid state_array_type(Oid* element_type) {
  Oid array_type = InvalidOid;
  int32 typmod = -1;
  parseTypeString("techmart.customer_state[]", &array_type, &typmod, false);
  *element_type = get_element_type(array_type);
  if (!OidIsValid(*element_type)) elog(ERROR, "techmart: techmart.customer_state[] is no array");
  return array_type;
}

Datum make_state_array(Oid element_type, int n, const int64* ids,
                       const core::CustomerState* const* states) {
  // column name -> index in the parameters of one state: customer_id, then encode_state's
  static const char* const names[kStateParams + 1] = {
      "customer_id", "n",        "mean",         "m2",           "amount_hist",
      "recent_t",    "recent_a", "hour_profile", "profile_time", "last_transaction_time",
      "last_amount", "last_lat", "last_lon",     "last_country", "methods",
      "risk",        "risk_time"};
  TupleDesc td = lookup_rowtype_tupdesc_copy(element_type, -1);
  const int natts = td->natts;
  int* map = static_cast<int*>(palloc(sizeof(int) * natts));
  int mapped = 0;
  for (int a = 0; a < natts; ++a) {
    map[a] = -1;
    Form_pg_attribute att = TupleDescAttr(td, a);
    if (att->attisdropped) continue;
    for (int k = 0; k <= kStateParams; ++k) {
      if (strcmp(NameStr(att->attname), names[k]) == 0) {
        map[a] = k;
        ++mapped;
        break;
      }
    }
  }
  if (mapped != kStateParams + 1) {
    elog(ERROR, "techmart: techmart.customer_state lacks columns the engine writes");
  }
  Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
  Datum* vals = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
  bool* isnull = static_cast<bool*>(palloc(sizeof(bool) * natts));
  for (int i = 0; i < n; ++i) {
    Datum p[kStateParams + 1];
    char pn[kStateParams + 1];
    p[0] = Int64GetDatum(ids[i]);
    pn[0] = ' ';
    encode_state(*states[i], &p[1], &pn[1]);
    for (int a = 0; a < natts; ++a) {
      isnull[a] = map[a] < 0 || pn[map[a]] == 'n';
      vals[a] = isnull[a] ? 0 : p[map[a]];
    }
    elems[i] = HeapTupleGetDatum(heap_form_tuple(td, vals, isnull));
  }
  int16 typlen;
  bool typbyval;
  char typalign;
  get_typlenbyvalalign(element_type, &typlen, &typbyval, &typalign);
  return PointerGetDatum(construct_array(elems, n, element_type, typlen, typbyval, typalign));
}

void risk_text(const core::CustomerState& s, const core::StateParams& p, char* buf, size_t n) {
  double r = 0;
  ErrorInfo err;
  guarded(err, nullptr, [&] { r = core::risk_score(s, s.risk_time, p); });
  if (err.failed || !std::isfinite(r)) r = 0;
  r = std::min(100.0, std::max(0.0, r));
  core::format_fixed(buf, n, r, 2);  // the text of snprintf("%.2f"), mostly without printf
}

// ------------------------------------------------------------------------- configuration
void load_config(ConfigSnapshot* cfg) {
  static SPIPlanPtr plan = nullptr;
  if (plan == nullptr) {
    plan = prepare_kept(
        "SELECT 'r'::text AS k, rule AS name, enabled, weight AS a, threshold AS b, "
        "       0::float8 AS c, params FROM techmart.rule_config "
        "UNION ALL SELECT 's', name, true, value, 0, 0, NULL FROM techmart.settings "
        "UNION ALL SELECT 'l' || kind, value, true, 0, 0, 0, NULL FROM techmart.risk_list "
        "UNION ALL SELECT 'p', category_id::text, true, mean, sd, n, NULL "
        "  FROM techmart.amount_prior "
        "UNION ALL SELECT 'h', hour::text, true, share, 0, 0, NULL FROM techmart.hour_prior "
        "ORDER BY 1, 2",
        0, nullptr);
  }
  if (SPI_execute_plan(plan, nullptr, nullptr, true, 0) != SPI_OK_SELECT) {
    elog(ERROR, "techmart: could not read the configuration");
  }
  memset(cfg, 0, sizeof *cfg);
  cfg->suspicious_threshold = 70;
  cfg->reason_min_contribution = 1;
  cfg->bias = -4;
  cfg->hour_half_life_days = 90;
  cfg->risk_half_life_days = 30;
  cfg->risk_floor = 50;
  const int n = static_cast<int>(SPI_processed);
  cfg->rules = static_cast<ConfigRow*>(palloc0(sizeof(ConfigRow) * (n + 1)));
  cfg->countries = static_cast<char(*)[3]>(palloc0(3 * (n + 1)));
  cfg->cat_ids = static_cast<int64*>(palloc0(sizeof(int64) * (n + 1)));
  cfg->cat_mean = static_cast<double*>(palloc0(sizeof(double) * (n + 1)));
  cfg->cat_sd = static_cast<double*>(palloc0(sizeof(double) * (n + 1)));
  cfg->cat_n = static_cast<int64*>(palloc0(sizeof(int64) * (n + 1)));
  double hour_sum = 0;
  for (int i = 0; i < n; ++i) {
    HeapTuple t = SPI_tuptable->vals[i];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool nulls[7];
    Datum v[7];
    for (int a = 0; a < 7; ++a) v[a] = SPI_getbinval(t, d, a + 1, &nulls[a]);
    const char* kind = TextDatumGetCString(v[0]);
    const char* name = TextDatumGetCString(v[1]);
    const double a = DatumGetFloat8(v[3]), b = DatumGetFloat8(v[4]), c = DatumGetFloat8(v[5]);
    if (strcmp(kind, "r") == 0) {
      ConfigRow& r = cfg->rules[cfg->nrules++];
      r.rule = name;
      r.enabled = DatumGetBool(v[2]);
      r.weight = a;
      r.threshold = b;
      const char* problem = nullptr;
      if (!techmart::pg::collect_numeric_params(v[6], &r.params, &problem)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid params of rule \"%s\" in techmart.rule_config: %s", r.rule,
                               problem)));
      }
    } else if (strcmp(kind, "s") == 0) {
      if (strcmp(name, "suspicious_threshold") == 0) cfg->suspicious_threshold = a;
      if (strcmp(name, "reason_min_contribution") == 0) cfg->reason_min_contribution = a;
      if (strcmp(name, "bias") == 0) cfg->bias = a;
      if (strcmp(name, "hour_half_life_days") == 0) cfg->hour_half_life_days = a;
      if (strcmp(name, "risk_half_life_days") == 0) cfg->risk_half_life_days = a;
      if (strcmp(name, "risk_floor") == 0) cfg->risk_floor = a;
    } else if (strcmp(kind, "lcountry") == 0) {
      strlcpy(cfg->countries[cfg->ncountries++], name, 3);
    } else if (strcmp(kind, "lpayment_method") == 0) {
      const int bit = core::payment_method_bit(name);
      if (bit >= 0) cfg->high_risk_methods |= (1u << bit);
    } else if (strcmp(kind, "p") == 0) {
      const int64 id = strtoll(name, nullptr, 10);
      if (id == 0) {
        cfg->has_population = true;
        cfg->pop_mean = a;
        cfg->pop_sd = b;
        cfg->pop_n = c >= 0 && c < 9.2e18 ? static_cast<int64>(c) : 0;
      } else {
        cfg->cat_ids[cfg->ncats] = id;
        cfg->cat_mean[cfg->ncats] = a;
        cfg->cat_sd[cfg->ncats] = b;
        cfg->cat_n[cfg->ncats] = c >= 0 && c < 9.2e18 ? static_cast<int64>(c) : 0;
        ++cfg->ncats;
      }
    } else if (strcmp(kind, "h") == 0) {
      const int h = atoi(name);
      if (h >= 0 && h < 24) {
        cfg->hours[h] = a;
        hour_sum += a;
      }
    }
  }
  if (hour_sum > 0) {
    cfg->has_hours = true;
    for (double& h : cfg->hours) h /= hour_sum;
  }
}

Engine* build_engine(const ConfigSnapshot& cfg) {
  std::vector<core::RuleConfig> configs;
  configs.reserve(static_cast<size_t>(cfg.nrules));
  for (int i = 0; i < cfg.nrules; ++i) {
    core::RuleConfig c;
    c.rule = cfg.rules[i].rule;
    c.enabled = cfg.rules[i].enabled;
    c.weight = cfg.rules[i].weight;
    c.threshold = cfg.rules[i].threshold;
    for (int p = 0; p < cfg.rules[i].params.count; ++p) {
      c.params[cfg.rules[i].params.keys[p]] = cfg.rules[i].params.values[p];
    }
    configs.push_back(std::move(c));
  }
  auto e = std::unique_ptr<Engine>(
      new Engine{core::Scorer(core::RuleRegistry::builtin().build(configs),
                              std::make_unique<core::EvidenceCombiner>(cfg.bias)),
                 core::ScoringEnv{}, core::StateParams{}, cfg.suspicious_threshold,
                 std::max(cfg.reason_min_contribution, 0.005)});
  e->params.hour_half_life_days = cfg.hour_half_life_days;
  e->params.risk_half_life_days = cfg.risk_half_life_days;
  e->params.risk_floor = cfg.risk_floor;
  e->params.validate();
  for (int i = 0; i < cfg.ncountries; ++i) {
    e->env.high_risk_countries.push_back({cfg.countries[i][0], cfg.countries[i][1]});
  }
  e->env.high_risk_methods = cfg.high_risk_methods;
  if (cfg.has_population && cfg.pop_sd > 0) {
    e->env.has_population = true;
    e->env.population = core::Prior{cfg.pop_mean, cfg.pop_sd, 1.0};
    e->env.population_n = cfg.pop_n;
  }
  for (int i = 0; i < cfg.ncats; ++i) {
    if (cfg.cat_sd[i] > 0) {
      e->env.categories[cfg.cat_ids[i]] = {core::Prior{cfg.cat_mean[i], cfg.cat_sd[i], 1.0},
                                           cfg.cat_n[i]};
    }
  }
  if (cfg.has_hours) {
    e->env.has_shop_hours = true;
    for (int h = 0; h < 24; ++h) e->env.shop_hours[h] = cfg.hours[h];
  }
  return e.release();
}

void score_row(const Engine& e, const core::CustomerState& state, const core::TransactionInput& tx,
               core::CustomerState& next, ScoreOutput& out, MemoryContext result_ctx,
               ReasonsText text) {
  const core::ScoreResult r = e.scorer.score({tx, state, &e.env}, e.min_contribution);
  out.score = std::round(r.score * 100.0) / 100.0;
  out.suspicious = out.score >= e.suspicious_threshold;
  next = state;
  core::FoldInput f{tx.amount, tx.time, tx.country, tx.has_location,
                    tx.lat,    tx.lon,  tx.method,  out.score};
  core::fold(next, f, e.params);
  out.top_rules[0] = '\0';
  std::string top;
  for (size_t i = 0; i < r.reasons.size() && i < 3; ++i) {
    if (i > 0) top += ", ";
    top += r.reasons[i].rule;
  }
  strlcpy(out.top_rules, top.c_str(), sizeof out.top_rules);
  const bool no_json =
      text == ReasonsText::kNever || (text == ReasonsText::kIfSuspicious && !out.suspicious);
  const std::string json = no_json ? std::string() : core::reasons_to_json(r.reasons);
  // one block: the JSON text, the reasons, their strings
  const size_t n = r.reasons.size();
  size_t bytes = json.size() + 1 + MAXALIGN(sizeof(PlainReason)) * n + MAXIMUM_ALIGNOF;
  for (const core::Reason& reason : r.reasons)
    bytes += reason.rule.size() + reason.detail.size() + 2;
  char* buf = nullptr;
  pg_call([&] { buf = static_cast<char*>(MemoryContextAlloc(result_ctx, bytes)); });
  PlainReason* plain = reinterpret_cast<PlainReason*>(buf);
  char* p = buf + MAXALIGN(sizeof(PlainReason)) * n;
  auto copy = [&p](const std::string& str) {
    char* dst = p;
    std::memcpy(dst, str.c_str(), str.size() + 1);
    p += str.size() + 1;
    return dst;
  };
  for (size_t i = 0; i < n; ++i) {
    const core::Reason& reason = r.reasons[i];
    plain[i].rule = copy(reason.rule);
    plain[i].detail = copy(reason.detail);
    plain[i].observed = reason.observed;
    plain[i].threshold = reason.threshold;
    plain[i].contribution = reason.contribution;
    plain[i].weight = reason.weight;
  }
  out.reasons_json = no_json ? nullptr : copy(json);
  out.nreasons = static_cast<int>(n);
  out.reasons = plain;
}

namespace {
// The number as reasons_to_json writes it, read back as jsonb_in would (numeric_in: same scale),
// written as a jbvNumeric holding that numeric; null (JENTRY_ISNULL, no bytes) when not finite.
uint32 write_number(StringInfo buf, double x, int decimals) {
  std::int64_t mantissa = 0;
  int scale = 0;
  if (core::json_number_fixed(x, decimals, &mantissa, &scale)) {
    // the same numeric (value and scale) without printing and parsing the text, nor making it
    return jsonb::write_scaled_numeric(buf, mantissa, scale);
  }
  char text[core::kJsonNumberBytes];
  if (!core::format_json_number(x, decimals, text, sizeof text)) return JENTRY_ISNULL;
  Numeric num = DatumGetNumeric(DirectFunctionCall3(
      numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
  const uint32 e = jsonb::write_numeric_as_is(buf, num);
  pfree(num);
  return e;
}

// A reason's object without its strings and numbers: padding, header, 12 JEntries, the keys (45
// bytes); each of its 4 numbers at most ~20 bytes with its padding (the mantissa of
// json_number_fixed is below 1e9 -- numeric_in's fallback may take more: the buffer then grows).
constexpr int kReasonFixedBytes = 3 + 4 + 12 * 4 + 45 + 4 * 24;
}  // namespace

#if defined(USE_LZ4) && defined(TECHMART_HAVE_LZ4)
namespace {
// One LZ4 stream for the backend, reset for each value (LZ4_resetStream_fast: each value is an
// independent block, as LZ4_compress_default writes it) instead of the 16 kB state that
// LZ4_compress_default -- PostgreSQL's lz4_compress_datum() -- clears for every value.
LZ4_stream_t lz4_stream;
bool lz4_ready = false;
}  // namespace
#endif

Datum compress_inline(Datum d) {
  const struct varlena* v = reinterpret_cast<const struct varlena*>(DatumGetPointer(d));
  if (!VARATT_IS_4B_U(v) || VARSIZE(v) < kCompressMinBytes) return d;
#if defined(USE_LZ4) && defined(TECHMART_HAVE_LZ4)
  // a value in the format toast_compress_datum(d, TOAST_LZ4_COMPRESSION) returns (varlena header,
  // raw size and method, one LZ4 block) that PostgreSQL's lz4_decompress_datum() reads
  const int32 valsize = static_cast<int32>(VARSIZE(v) - VARHDRSZ);
  const int bound = LZ4_compressBound(valsize);
  struct varlena* tmp = static_cast<struct varlena*>(palloc(bound + VARHDRSZ_COMPRESSED));
  if (!lz4_ready) {
    LZ4_initStream(&lz4_stream, sizeof lz4_stream);
    lz4_ready = true;
  }
  LZ4_resetStream_fast(&lz4_stream);
  const int len = LZ4_compress_fast_continue(&lz4_stream, VARDATA(v),
                                             reinterpret_cast<char*>(tmp) + VARHDRSZ_COMPRESSED,
                                             valsize, bound, 1);
  if (len <= 0 || len + static_cast<int32>(VARHDRSZ_COMPRESSED) >= valsize - 2) {
    pfree(tmp);  // failed or not smaller (toast_compress_datum's rule)
    return d;
  }
  SET_VARSIZE_COMPRESSED(tmp, len + VARHDRSZ_COMPRESSED);
  TOAST_COMPRESS_SET_SIZE_AND_COMPRESS_METHOD(tmp, valsize, TOAST_LZ4_COMPRESSION_ID);
  return PointerGetDatum(tmp);
#elif defined(USE_LZ4)
  const Datum c = toast_compress_datum(d, TOAST_LZ4_COMPRESSION);
  return DatumGetPointer(c) != nullptr ? c : d;  // NULL: not smaller
#else
  const Datum c = toast_compress_datum(d, TOAST_PGLZ_COMPRESSION);
  return DatumGetPointer(c) != nullptr ? c : d;
#endif
}

Datum reasons_jsonb(const ScoreOutput& out) {
  // The Jsonb bytes written directly (jsonb_writer.hpp), as JsonbValueToJsonb() would write the
  // tree of the parsed text: an array of objects, each object's keys in jsonb's order -- shorter
  // first, then bytewise, as jsonb_in sorts them: rule, detail, weight (only when finite),
  // observed, threshold, contribution.
  const int n = out.nreasons;
  int size = VARHDRSZ + 4 + 4 * n + 3;  // the array: header, JEntries, padding
  for (int i = 0; i < n; ++i) {
    size += kReasonFixedBytes +
            static_cast<int>(strlen(out.reasons[i].rule) + strlen(out.reasons[i].detail));
  }
  StringInfoData buf;
  jsonb::begin(&buf, size);
  const int root_base = buf.len;
  int root_jentry = jsonb::begin_container(&buf, n, JB_FARRAY, n);
  int64 root_total = 0;
  for (int i = 0; i < n; ++i) {
    const PlainReason& r = out.reasons[i];
    const bool has_weight = std::isfinite(r.weight);
    const int npairs = has_weight ? 6 : 5;
    const int base = buf.len;
    const int jentry = jsonb::begin_container(&buf, npairs, JB_FOBJECT, 2 * npairs);
    uint32 meta[12];
    int k = 0;
    meta[k++] = jsonb::write_string(&buf, "rule", 4);
    meta[k++] = jsonb::write_string(&buf, "detail", 6);
    if (has_weight) meta[k++] = jsonb::write_string(&buf, "weight", 6);
    meta[k++] = jsonb::write_string(&buf, "observed", 8);
    meta[k++] = jsonb::write_string(&buf, "threshold", 9);
    meta[k++] = jsonb::write_string(&buf, "contribution", 12);
    meta[k++] = jsonb::write_string(&buf, r.rule, static_cast<int>(strlen(r.rule)));
    meta[k++] = jsonb::write_string(&buf, r.detail, static_cast<int>(strlen(r.detail)));
    if (has_weight) meta[k++] = write_number(&buf, r.weight, core::kReasonValueDecimals);
    meta[k++] = write_number(&buf, r.observed, core::kReasonValueDecimals);
    meta[k++] = write_number(&buf, r.threshold, core::kReasonValueDecimals);
    meta[k++] = write_number(&buf, r.contribution, core::kReasonContributionDecimals);
    jsonb::write_jentries(&buf, jentry, meta, k, "object");
    const uint32 e = jsonb::end_container(&buf, base, "object");
    jsonb::put_uint32(&buf, root_jentry, jsonb::stored_jentry(e, i, &root_total, "array"));
    root_jentry += static_cast<int>(sizeof(JEntry));
  }
  jsonb::end_container(&buf, root_base, "array");
  return JsonbPGetDatum(jsonb::finish(&buf));
}

}  // namespace techmart::pg::fraud
