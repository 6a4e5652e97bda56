// techmart._replay(): the engine of techmart.backtest() (docs/entity-risk.md, "Backtests").
//
// Replays public.transactions with time < to_time in time order with a given configuration:
// every customer's state is rebuilt from scratch (rows before from_time are folded with their
// stored score, rows in [from_time, to_time) are scored with the configuration and folded with
// that score), and the entity counters are rebuilt from the label events in labelled_at order,
// applying to a row at time t only the events with labelled_at < t. Nothing is written. The
// metrics compare the replayed scores (and the stored ones) of [from_time, to_time) with the
// current verdicts.
//
// Boundary: the whole C++ part runs under guarded(); every Postgres call inside it goes through
// pg_call() (errors become exceptions, destructors run); ereport only after guarded() returns.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "entity_glue.hpp"
#include "techmart/core/logistic_fit.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
PG_FUNCTION_INFO_V1(techmart_replay);
PG_FUNCTION_INFO_V1(techmart_replay_scores);
PG_FUNCTION_INFO_V1(techmart_ranking_metrics);
}

namespace core = techmart::core;
namespace fraud = techmart::pg::fraud;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::pg_call;

namespace {

constexpr int kMetrics = 11;
constexpr int kOwn = 100;  // bucket kinds of <kind>/customer
// The columns of a transaction in the replay's queries (1-based), as stored (converted in C): 1 id,
// 2 customer_id, 3 product_id, 4 amount, 5 unit_price, 6 transaction_time, 7 country, 8 latitude,
// 9 longitude, 10 payment_method, 11 fraud_score; then the entity keys' parts, as
// techmart.entity_keys() makes them: 12 device_id, 13 host(ip_address), 14 its /24 (IPv6: /64)
// network, 15 payment_fingerprint, 16 the country or NULL. The customers' and products' columns
// come from their own queries (no join: a narrower sort).
#define TECHMART_REPLAY_COLUMNS(WHEN)                                                      \
  "SELECT t.id, t.customer_id, t.product_id, t.amount, t.unit_price, t.transaction_time, " \
  "       t.country, t.latitude, t.longitude, t.payment_method, t.fraud_score, "           \
  "       CASE WHEN " WHEN                                                                 \
  " THEN t.device_id END, "                                                                \
  "       CASE WHEN " WHEN                                                                 \
  " THEN host(t.ip_address) END, "                                                         \
  "       CASE WHEN " WHEN                                                                 \
  " THEN CASE WHEN family(t.ip_address) = 4 "                                              \
  "         THEN network(set_masklen(t.ip_address, 24))::text "                            \
  "         ELSE network(set_masklen(t.ip_address, 64))::text END END, "                   \
  "       CASE WHEN " WHEN                                                                 \
  " THEN t.payment_fingerprint END, "                                                      \
  "       CASE WHEN " WHEN                                                                 \
  " THEN nullif(btrim(t.country::text), '') END "                                          \
  "  FROM public.transactions t "
// the customers with a transaction in [from_time, to_time) ($2, $1)
#define TECHMART_REPLAY_CUSTOMERS                     \
  "(SELECT s.customer_id FROM public.transactions s " \
  "  WHERE s.transaction_time >= $2 AND s.transaction_time < $1)"
// $1 to_time, $2 from_time, $3 whether the keys are needed (entity rules): every transaction before
// to_time of the customers with one in [from_time, to_time) (no other customer's state is read), in
// time order, read through a cursor; the keys only for the rows scored.
const char* const kTxQuery = TECHMART_REPLAY_COLUMNS("$3 AND t.transaction_time >= $2")
    " WHERE t.transaction_time < $1 AND t.customer_id IN " TECHMART_REPLAY_CUSTOMERS
    " ORDER BY t.transaction_time, t.id";
// The transactions before to_time that a verdict known before to_time names, with their keys.
const char* const kLabelledQuery = TECHMART_REPLAY_COLUMNS("true")
    " WHERE t.transaction_time < $1 AND t.id IN (SELECT l.transaction_id "
    "   FROM public.transaction_labels l WHERE l.labelled_at < $1)";
// The home country and registration of the customers replayed, the list price and category of
// every product.
const char* const kCustomerQuery =
    "SELECT c.id, coalesce(c.country::text, ''), extract(epoch FROM c.registration_date)::float8 "
    "  FROM public.customers c WHERE c.id IN " TECHMART_REPLAY_CUSTOMERS;
const char* const kProductQuery =
    "SELECT p.id, p.price::float8, p.category_id FROM public.products p";
const char* const kEventQuery =
    "SELECT l.transaction_id, l.label, extract(epoch FROM l.labelled_at)::float8 "
    "  FROM public.transaction_labels l WHERE l.labelled_at < $1 ORDER BY l.labelled_at, l.id";
// The current verdict (the latest label) of each transaction in [from_time, to_time).
const char* const kTruthQuery =
    "SELECT DISTINCT ON (l.transaction_id) l.transaction_id, l.label "
    "  FROM public.transaction_labels l JOIN public.transactions t ON t.id = l.transaction_id "
    " WHERE t.transaction_time >= $2 AND t.transaction_time < $1 "
    " ORDER BY l.transaction_id, l.labelled_at DESC, l.id DESC";
constexpr long kBatch = 10000;  // rows per cursor fetch

struct Row {
  int64 id, customer, product;
  double amount, unit_price, time;
  char country[3];
  bool has_loc;
  double lat, lon;
  int method;
  double stored;  // NaN: not scored
  char home[3];
  double registered, list_price;
  int64 category;
  int truth;  // 1 fraud, 0 legitimate, -1 no verdict
  int32 day;
  std::vector<std::pair<int, std::string>> keys;  // kind (-1 shop), key
};

struct Event {
  int64 tx;
  double at;
  int label;  // 1 fraud, 0 legitimate, -1 unknown
};

int label_code(const char* s) {
  if (s == nullptr) return -1;
  if (strcmp(s, "fraud") == 0) return 1;
  if (strcmp(s, "legitimate") == 0) return 0;
  return -1;
}

void copy2(char* dst, const char* src) {
  dst[0] = dst[1] = dst[2] = 0;
  if (src != nullptr && strlen(src) >= 2) {
    dst[0] = src[0];
    dst[1] = src[1];
  }
}

int32 day_of(double t) { return static_cast<int32>(std::floor(t / core::kSecondsPerDay)); }

void metrics(const std::vector<double>& scores, const std::vector<int>& truth,
             const std::vector<int32>& days, double threshold, int k, double* out) {
  std::vector<double> s;
  std::vector<int> y;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (truth[i] >= 0 && std::isfinite(scores[i])) {
      s.push_back(scores[i]);
      y.push_back(truth[i]);
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int64 suspicious = 0;
  for (double v : scores) suspicious += std::isfinite(v) && v >= threshold;
  out[0] = static_cast<double>(scores.size());
  out[1] = static_cast<double>(s.size());
  out[2] = static_cast<double>(std::count(y.begin(), y.end(), 1));
  const core::Confusion c = core::confusion_at(s, y, threshold);
  out[3] = c.tp + c.fp > 0 ? c.precision() : nan;
  out[4] = c.tp + c.fn > 0 ? c.recall() : nan;
  out[5] = c.tp + c.fp > 0 && c.tp + c.fn > 0 ? c.f1() : nan;
  out[6] = s.empty() ? nan : core::roc_auc(s, y);
  out[7] = s.empty() ? nan : core::average_precision(s, y);
  std::vector<double> sk;
  std::vector<int> fk;
  std::vector<int32> dk;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) continue;
    sk.push_back(scores[i]);
    fk.push_back(truth[i] == 1);
    dk.push_back(days[i]);
  }
  const core::TopKResult t = core::top_k_per_day(sk, fk, dk, k);
  out[8] = t.share;
  out[9] = t.precision;
  out[10] = static_cast<double>(suspicious);
}

double getf(HeapTuple t, TupleDesc d, int col, double fallback) {
  bool isnull;
  const Datum v = SPI_getbinval(t, d, col, &isnull);
  return isnull ? fallback : DatumGetFloat8(v);
}
int64 geti(HeapTuple t, TupleDesc d, int col, int64 fallback) {
  bool isnull;
  const Datum v = SPI_getbinval(t, d, col, &isnull);
  return isnull ? fallback : DatumGetInt64(v);
}
const char* gets(HeapTuple t, TupleDesc d, int col) {
  bool isnull;
  const Datum v = SPI_getbinval(t, d, col, &isnull);
  return isnull ? nullptr : TextDatumGetCString(v);
}

struct ReplayResult {
  std::vector<int64> ids;
  std::vector<double> replayed, stored;
  std::vector<int> truth;
  std::vector<int32> days;
  double threshold = 0;
};

// The configuration of a replay: the tables (priors, lists, state settings), then the given
// rules (arguments 0..4), bias and threshold. Plain C, SPI connected.
fraud::ConfigSnapshot* replay_config(FunctionCallInfo fcinfo, int bias_arg, int threshold_arg) {
  for (int i = 0; i < 5; ++i) {
    if (PG_ARGISNULL(i)) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("techmart replay: the rule arrays must not be NULL")));
    }
  }
  const double bias = PG_GETARG_FLOAT8(bias_arg);
  const double threshold = PG_GETARG_FLOAT8(threshold_arg);
  if (!std::isfinite(bias) || !std::isfinite(threshold)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("techmart replay: bias and threshold must be finite")));
  }
  Datum *rules, *enabled, *weights, *thresholds, *params;
  bool *n1, *n2, *n3, *n4, *n5;
  int nr, ne, nw, nt, np;
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &rules, &n1, &nr);
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), BOOLOID, 1, true, TYPALIGN_CHAR, &enabled, &n2, &ne);
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                    &weights, &n3, &nw);
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                    &thresholds, &n4, &nt);
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), JSONBOID, -1, false, TYPALIGN_INT, &params, &n5, &np);
  if (nr != ne || nr != nw || nr != nt || nr != np) {
    ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                    errmsg("techmart replay: the rule arrays differ in length")));
  }
  fraud::ConfigSnapshot* cfg =
      static_cast<fraud::ConfigSnapshot*>(palloc0(sizeof(fraud::ConfigSnapshot)));
  fraud::load_config(cfg);
  cfg->rules = static_cast<fraud::ConfigRow*>(palloc0(sizeof(fraud::ConfigRow) * (nr + 1)));
  cfg->nrules = nr;
  for (int i = 0; i < nr; ++i) {
    if (n1[i] || n2[i] || n3[i] || n4[i] || n5[i]) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("techmart replay: NULL in the rule arrays")));
    }
    fraud::ConfigRow& r = cfg->rules[i];
    r.rule = TextDatumGetCString(rules[i]);
    r.enabled = DatumGetBool(enabled[i]);
    r.weight = DatumGetFloat8(weights[i]);
    r.threshold = DatumGetFloat8(thresholds[i]);
    const char* problem = nullptr;
    if (!techmart::pg::collect_numeric_params(params[i], &r.params, &problem)) {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("invalid params of rule \"%s\": %s", r.rule, problem)));
    }
  }
  cfg->bias = bias;
  cfg->suspicious_threshold = threshold;
  return cfg;
}

void check_period(TimestampTz from_ts, TimestampTz to_ts) {
  if (TIMESTAMP_NOT_FINITE(from_ts) || TIMESTAMP_NOT_FINITE(to_ts) || from_ts >= to_ts) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("a replay needs finite from_time < to_time")));
  }
}

// A row of the replay's queries (the columns above) into r; its keys (the same texts as
// techmart.entity_keys(): kind, or kOwn + kind for the customer's own share, -1 the shop) when the
// query gave them. Plain Postgres calls: run under pg_call, in a memory context reset per batch.
struct RowText {
  char country[3], method[32];
  const char *device, *ip, *ip24, *payment, *country_key;
  bool has_product;
};
// A text (or character) value's first bytes, without its trailing blanks, into buf ("" when NULL).
void text_into(Datum v, bool isnull, char* buf, std::size_t size) {
  buf[0] = 0;
  if (isnull) return;
  const text* x = DatumGetTextPP(v);
  std::size_t n = VARSIZE_ANY_EXHDR(x);
  const char* p = VARDATA_ANY(x);
  while (n > 0 && p[n - 1] == ' ') --n;
  if (n >= size) n = size - 1;
  std::memcpy(buf, p, n);
  buf[n] = 0;
}
constexpr int kColumns = 16;
// A row of the replay's transaction queries (the columns above), deformed once.
void read_row(HeapTuple t, TupleDesc d, Row& r, RowText& x) {
  Datum v[kColumns];
  bool null[kColumns];
  if (d->natts != kColumns) elog(ERROR, "techmart replay: %d columns, not %d", d->natts, kColumns);
  heap_deform_tuple(t, d, v, null);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto num = [&](int i, double fallback) {
    return null[i] ? fallback : DatumGetFloat8(DirectFunctionCall1(numeric_float8, v[i]));
  };
  auto str = [&](int i) -> const char* { return null[i] ? nullptr : TextDatumGetCString(v[i]); };
  r.id = null[0] ? 0 : DatumGetInt64(v[0]);
  r.customer = null[1] ? 0 : DatumGetInt64(v[1]);
  x.has_product = !null[2];
  r.product = null[2] ? -1 : DatumGetInt64(v[2]);
  r.amount = num(3, 0);
  r.unit_price = num(4, 0);
  r.time = null[5] ? 0 : fraud::ts_to_epoch(DatumGetTimestampTz(v[5]));
  text_into(v[6], null[6], x.country, sizeof x.country);
  r.has_loc = !null[7] && !null[8];
  r.lat = r.has_loc ? DatumGetFloat8(v[7]) : 0;
  r.lon = r.has_loc ? DatumGetFloat8(v[8]) : 0;
  text_into(v[9], null[9], x.method, sizeof x.method);
  r.stored = num(10, nan);
  x.device = str(11);
  x.ip = str(12);
  x.ip24 = str(13);
  x.payment = str(14);
  x.country_key = str(15);
}

// The C++ half of a row (throws): the copies, the day and the keys.
void finish_row(Row& r, const RowText& x, bool keys) {
  copy2(r.country, x.country);
  r.method = x.method[0] ? core::payment_method_bit(x.method) : -1;
  r.day = day_of(r.time);
  r.truth = -1;
  r.keys.clear();
  if (!keys) return;
  const std::string customer = std::to_string(r.customer);
  r.keys.emplace_back(-1, "*");
  r.keys.emplace_back(static_cast<int>(core::EntityKind::kCustomer), customer);
  if (x.has_product) {
    r.keys.emplace_back(static_cast<int>(core::EntityKind::kProduct), std::to_string(r.product));
  }
  const std::pair<core::EntityKind, const char*> parts[] = {
      {core::EntityKind::kDevice, x.device},
      {core::EntityKind::kIp, x.ip},
      {core::EntityKind::kIpNet24, x.ip24},
      {core::EntityKind::kPayment, x.payment},
      {core::EntityKind::kCountry, x.country_key}};
  for (const auto& [kind, value] : parts) {
    if (value == nullptr) continue;
    r.keys.emplace_back(static_cast<int>(kind), value);
    if (core::entity_excludes_own(kind)) {
      r.keys.emplace_back(kOwn + static_cast<int>(kind), std::string(value) + "/" + customer);
    }
  }
}

// C++ (throws; Postgres calls under pg_call). SPI connected.
void run_replay(const fraud::ConfigSnapshot& cfg, TimestampTz from_ts, TimestampTz to_ts,
                ReplayResult& res) {
  Datum args[3] = {TimestampTzGetDatum(to_ts), TimestampTzGetDatum(from_ts), BoolGetDatum(false)};
  Oid types[3] = {TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
  const double from_epoch = fraud::ts_to_epoch(from_ts);
  std::unique_ptr<fraud::Engine> engine(fraud::build_engine(cfg));
  res.threshold = engine->suspicious_threshold;
  std::vector<const core::EntityRule*> entity_rules;
  for (std::size_t i = 0; i < engine->scorer.rule_count(); ++i) {
    if (const auto* r = dynamic_cast<const core::EntityRule*>(&engine->scorer.rule(i))) {
      entity_rules.push_back(r);
    }
  }
  const bool keys = !entity_rules.empty();
  args[2] = BoolGetDatum(keys);
  // the texts of a batch of rows live in their own context, reset after the batch
  MemoryContext batch_cxt = nullptr;
  pg_call([&] {
    batch_cxt =
        AllocSetContextCreate(CurrentMemoryContext, "techmart replay", ALLOCSET_DEFAULT_SIZES);
  });
  auto in_batch = [&](auto&& fn) {
    pg_call([&] {
      MemoryContext old = MemoryContextSwitchTo(batch_cxt);
      fn();
      MemoryContextSwitchTo(old);
    });
  };
  Row r;
  RowText x;

  // Runs a read-only query with the first nargs of args; per row, read(tuple, desc) as a Postgres
  // call in the batch context (reset every kBatch rows), then use() in C++ (it may throw).
  auto each_row = [&](const char* sql, int nargs, const char* what, auto&& read, auto&& use) {
    uint64 rows = 0;
    pg_call([&] {
      if (SPI_execute_with_args(sql, nargs, types, args, nullptr, true, 0) != SPI_OK_SELECT) {
        elog(ERROR, "techmart replay: could not read %s", what);
      }
      rows = SPI_processed;
    });
    for (uint64 i = 0; i < rows; ++i) {
      in_batch([&] { read(SPI_tuptable->vals[i], SPI_tuptable->tupdesc); });
      use();
      if ((i + 1) % kBatch == 0) pg_call([&] { MemoryContextReset(batch_cxt); });
    }
    pg_call([&] {
      SPI_freetuptable(SPI_tuptable);
      MemoryContextReset(batch_cxt);
    });
  };
  int64 id = 0;
  const char* label = nullptr;
  auto read_label = [&](HeapTuple t, TupleDesc d) {
    id = geti(t, d, 1, 0);
    label = gets(t, d, 2);
  };

  // ---- the verdicts: their events before to_time (for the entity counters: only with entity
  // rules), the transactions they name with their keys, and the current verdict of the rows scored
  std::vector<Event> events;
  std::unordered_map<int64, Row> labelled;  // transaction id -> its day and keys
  std::unordered_map<int64, int> truth;
  if (keys) {
    double at = 0;
    each_row(
        kEventQuery, 1, "the verdicts",
        [&](HeapTuple t, TupleDesc d) {
          read_label(t, d);
          at = getf(t, d, 3, 0);
        },
        [&] {
          events.push_back(Event{id, at, label_code(label)});
        });
    each_row(
        kLabelledQuery, 1, "the labelled transactions",
        [&](HeapTuple t, TupleDesc d) { read_row(t, d, r, x); },
        [&] {
          finish_row(r, x, true);
          Row& kept = labelled[r.id];
          kept.day = r.day;
          kept.keys = std::move(r.keys);
          r.keys = {};
        });
  }
  each_row(kTruthQuery, 2, "the verdicts of the period", read_label,
           [&] { truth[id] = label_code(label); });

  // the replayed customers' home country and registration, every product's list price and category
  struct Home {
    char country[3];
    double registered;
  };
  struct Listing {
    double price;
    int64 category;
  };
  std::unordered_map<int64, Home> homes;
  std::unordered_map<int64, Listing> listings;
  Home h;
  Listing l;
  each_row(
      kCustomerQuery, 2, "the customers",
      [&](HeapTuple t, TupleDesc d) {
        id = geti(t, d, 1, 0);
        bool isnull;
        const Datum country = SPI_getbinval(t, d, 2, &isnull);
        text_into(country, isnull, x.country, sizeof x.country);
        h.registered = getf(t, d, 3, std::numeric_limits<double>::quiet_NaN());
      },
      [&] {
        copy2(h.country, x.country);
        homes[id] = h;
      });
  each_row(
      kProductQuery, 0, "the products",
      [&](HeapTuple t, TupleDesc d) {
        id = geti(t, d, 1, 0);
        l.price = getf(t, d, 2, std::numeric_limits<double>::quiet_NaN());
        l.category = geti(t, d, 3, -1);
      },
      [&] { listings[id] = l; });

  // ---- replay in time order, the transactions read through a cursor in batches
  std::unordered_map<int64, core::CustomerState> states;
  std::unordered_map<int64, int> verdict;  // the verdict counted for a transaction
  core::EntityBuckets buckets;
  std::size_t next_event = 0;
  core::EntityInput ent;
  Portal portal = nullptr;
  pg_call([&] {
    // planned without JIT (compiling the sort's and the scan's expressions took seconds, on every
    // call); undone at the end of the nest level, or by the abort of an error
    const int level = NewGUCNestLevel();
    (void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    portal = SPI_cursor_open_with_args(nullptr, kTxQuery, 3, types, args, nullptr, true, 0);
    AtEOXact_GUC(true, level);
  });
  for (uint64 n = 0;;) {
    pg_call([&] {
      MemoryContextReset(batch_cxt);
      SPI_cursor_fetch(portal, true, kBatch);
      n = SPI_processed;
    });
    if (n == 0) break;
    for (uint64 i = 0; i < n; ++i) {
      in_batch([&] { read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, r, x); });
      const bool scored = r.time >= from_epoch;
      finish_row(r, x, keys && scored);
      const auto home = homes.find(r.customer);
      if (home != homes.end()) {
        std::memcpy(r.home, home->second.country, 3);
        r.registered = home->second.registered;
      } else {  // not replayed (cannot happen: the same customers), as with no customer
        r.home[0] = r.home[1] = r.home[2] = 0;
        r.registered = std::numeric_limits<double>::quiet_NaN();
      }
      const auto listing = x.has_product ? listings.find(r.product) : listings.end();
      r.list_price = listing != listings.end() ? listing->second.price
                                               : std::numeric_limits<double>::quiet_NaN();
      r.category = listing != listings.end() ? listing->second.category : -1;
      // the verdicts known before this transaction (labelled_at < its time)
      while (next_event < events.size() && events[next_event].at < r.time) {
        const Event& e = events[next_event++];
        const auto it = labelled.find(e.tx);
        if (it == labelled.end()) continue;
        const Row& l = it->second;
        const auto v = verdict.find(e.tx);
        const int before = v == verdict.end() ? -1 : v->second;
        if (before == e.label) continue;
        for (const auto& key : l.keys) {
          if (before >= 0) buckets.add(key.first, key.second, l.day, -1, -(before == 1));
          if (e.label >= 0) buckets.add(key.first, key.second, l.day, 1, e.label == 1);
        }
        verdict[e.tx] = e.label;
      }
      core::CustomerState& state = states[r.customer];
      core::TransactionInput tx;
      tx.amount = r.amount;
      tx.unit_price = r.unit_price;
      tx.list_price = r.list_price;
      tx.category_id = r.category;
      tx.time = r.time;
      std::memcpy(tx.country, r.country, 3);
      tx.has_location = r.has_loc;
      tx.lat = r.lat;
      tx.lon = r.lon;
      tx.method = r.method;
      std::memcpy(tx.home_country, r.home, 3);
      if (std::isfinite(r.registered)) tx.account_age_days = (r.time - r.registered) / 86400.0;
      double score = r.stored;
      if (scored) {
        if (keys) {
          for (auto& o : ent.kinds) o = core::EntityObservation{};
          for (const core::EntityRule* er : entity_rules) {
            const int k = static_cast<int>(er->kind());
            const int w = er->params().window_days;
            for (const auto& key : r.keys) {
              core::EntityObservation& o = ent.kinds[k];
              if (key.first == k) {
                o.present = true;
                snprintf(o.key, sizeof o.key, "%s", key.second.c_str());
                o.entity = buckets.window(k, key.second, r.day, w);
                o.shop = buckets.window(-1, "*", r.day, w);
              } else if (key.first == kOwn + k) {
                o.own = buckets.window(kOwn + k, key.second, r.day, w);
              }
            }
          }
          tx.entities = &ent;
        }
        const core::ScoreResult s = engine->scorer.score({tx, state, &engine->env}, 1e9);
        score = std::round(s.score * 100.0) / 100.0;
        const auto t = truth.find(r.id);
        res.ids.push_back(r.id);
        res.replayed.push_back(score);
        res.stored.push_back(r.stored);
        res.truth.push_back(t == truth.end() ? -1 : t->second);
        res.days.push_back(r.day);
      }
      core::FoldInput f{tx.amount, tx.time, tx.country, tx.has_location,
                        tx.lat,    tx.lon,  tx.method,  score};
      core::fold(state, f, engine->params);
    }
    pg_call([&] { SPI_freetuptable(SPI_tuptable); });
  }
  pg_call([&] {
    SPI_cursor_close(portal);
    MemoryContextDelete(batch_cxt);
  });
}

Datum float8_array(const double* v, int n) {
  Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * n));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * n));
  for (int i = 0; i < n; ++i) {
    nulls[i] = !std::isfinite(v[i]);
    d[i] = Float8GetDatum(nulls[i] ? 0.0 : v[i]);
  }
  int dims[1] = {n};
  int lbs[1] = {1};
  return PointerGetDatum(
      construct_md_array(d, nulls, 1, dims, lbs, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

}  // namespace

// techmart._replay(rules text[], enabled bool[], weights float8[], thresholds float8[],
//                  params jsonb[], from_time, to_time, top_k int, bias float8,
//                  suspicious_threshold float8) -> float8[22]: the metrics of the replayed scores
// then of the stored scores (transactions, labelled, frauds, precision, recall, f1, roc_auc,
// average_precision, top-k share, top-k precision, suspicious).
extern "C" PGDLLEXPORT Datum techmart_replay(PG_FUNCTION_ARGS) {
  for (int i = 5; i < 10; ++i) {
    if (PG_ARGISNULL(i)) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("techmart._replay: argument %d is NULL", i + 1)));
    }
  }
  const TimestampTz from_ts = PG_GETARG_TIMESTAMPTZ(5);
  const TimestampTz to_ts = PG_GETARG_TIMESTAMPTZ(6);
  const int32 top_k = PG_GETARG_INT32(7);
  check_period(from_ts, to_ts);
  if (top_k < 1) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("top_k must be >= 1")));
  }
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  fraud::ConfigSnapshot* cfg = replay_config(fcinfo, 8, 9);
  double out[2 * kMetrics];
  ErrorInfo err;
  guarded(err, "techmart.backtest", [&] {
    ReplayResult r;
    run_replay(*cfg, from_ts, to_ts, r);
    metrics(r.replayed, r.truth, r.days, r.threshold, top_k, out);
    metrics(r.stored, r.truth, r.days, r.threshold, top_k, out + kMetrics);
  });
  if (err.failed) techmart::pg::raise(err);
  SPI_finish();
  PG_RETURN_DATUM(float8_array(out, 2 * kMetrics));
}

// techmart._replay_scores(rules..., params, from_time, to_time, bias, suspicious_threshold)
//   -> SETOF (transaction_id bigint, score float8, stored_score float8), in time order.
extern "C" PGDLLEXPORT Datum techmart_replay_scores(PG_FUNCTION_ARGS) {
  for (int i = 5; i < 9; ++i) {
    if (PG_ARGISNULL(i)) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("techmart._replay_scores: argument %d is NULL", i + 1)));
    }
  }
  const TimestampTz from_ts = PG_GETARG_TIMESTAMPTZ(5);
  const TimestampTz to_ts = PG_GETARG_TIMESTAMPTZ(6);
  check_period(from_ts, to_ts);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  fraud::ConfigSnapshot* cfg = replay_config(fcinfo, 7, 8);
  ErrorInfo err;
  guarded(err, "techmart.backtest_scores", [&] {
    ReplayResult r;
    run_replay(*cfg, from_ts, to_ts, r);
    for (std::size_t i = 0; i < r.ids.size(); ++i) {
      Datum v[3] = {Int64GetDatum(r.ids[i]), Float8GetDatum(r.replayed[i]),
                    Float8GetDatum(r.stored[i])};
      bool nulls[3] = {false, false, !std::isfinite(r.stored[i])};
      pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls); });
    }
  });
  if (err.failed) techmart::pg::raise(err);
  SPI_finish();
  return static_cast<Datum>(0);
}

// techmart.ranking_metrics(scores float8[], is_fraud boolean[], days int4[], top_k int,
//                          threshold float8) -> float8[11] (the metrics of techmart._replay).
extern "C" PGDLLEXPORT Datum techmart_ranking_metrics(PG_FUNCTION_ARGS) {
  ArrayType* a_scores = PG_GETARG_ARRAYTYPE_P(0);
  ArrayType* a_fraud = PG_GETARG_ARRAYTYPE_P(1);
  ArrayType* a_days = PG_GETARG_ARRAYTYPE_P(2);
  const int32 top_k = PG_GETARG_INT32(3);
  const double threshold = PG_GETARG_FLOAT8(4);
  Datum *sd, *fd, *dd;
  bool *sn, *fn, *dn;
  int ns, nf, nd;
  deconstruct_array(a_scores, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &sd, &sn, &ns);
  deconstruct_array(a_fraud, BOOLOID, 1, true, TYPALIGN_CHAR, &fd, &fn, &nf);
  deconstruct_array(a_days, INT4OID, 4, true, TYPALIGN_INT, &dd, &dn, &nd);
  if (ns != nf || ns != nd) {
    ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                    errmsg("ranking_metrics: scores, is_fraud and days differ in length")));
  }
  if (top_k < 1 || !std::isfinite(threshold)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("ranking_metrics: top_k must be >= 1 and threshold finite")));
  }
  for (int i = 0; i < ns; ++i) {
    if (sn[i] || fn[i] || dn[i] || !std::isfinite(DatumGetFloat8(sd[i]))) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("ranking_metrics: element %d is NULL or not finite", i + 1)));
    }
  }
  double out[kMetrics];
  ErrorInfo err;
  guarded(err, "techmart.ranking_metrics", [&] {
    std::vector<double> s(static_cast<std::size_t>(ns));
    std::vector<int> y(s.size());
    std::vector<int32> d(s.size());
    for (int i = 0; i < ns; ++i) {
      s[i] = DatumGetFloat8(sd[i]);
      y[i] = DatumGetBool(fd[i]) ? 1 : 0;
      d[i] = DatumGetInt32(dd[i]);
    }
    metrics(s, y, d, threshold, top_k, out);
  });
  if (err.failed) techmart::pg::raise(err);
  PG_RETURN_DATUM(float8_array(out, kMetrics));
}
