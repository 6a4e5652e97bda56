// SQL functions of the fraud engine: rebuild_state, rescore_customers, fit_logistic.
#include <algorithm>
#include <limits>
#include <memory>

#include "fraud_glue.hpp"
#include "techmart/core/logistic_fit.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(techmart_rebuild_state);
PG_FUNCTION_INFO_V1(techmart_rebuild_state_for);
PG_FUNCTION_INFO_V1(techmart_refresh_state);
PG_FUNCTION_INFO_V1(techmart_rescore_customers);
PG_FUNCTION_INFO_V1(techmart_fit_logistic);
PG_FUNCTION_INFO_V1(techmart_customer_state_valid);
}

namespace core = techmart::core;
namespace fraud = techmart::pg::fraud;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::raise;

namespace {

Oid regclass_of(text* name) {
  return DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(text_to_cstring(name))));
}

const char* qualified(Oid relid) {
  return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                    get_rel_name(relid));
}
const char* schema_of(Oid relid) {
  return quote_identifier(get_namespace_name(get_rel_namespace(relid)));
}

// rows written by one UPDATE of rescore_customers
constexpr int kRescoreBatch = 500;

// a timestamptz bound as epoch seconds, -infinity / infinity as -inf / +inf
double bound_epoch(TimestampTz ts) {
  if (TIMESTAMP_IS_NOBEGIN(ts)) return -std::numeric_limits<double>::infinity();
  if (TIMESTAMP_IS_NOEND(ts)) return std::numeric_limits<double>::infinity();
  return fraud::ts_to_epoch(ts);
}

void exec_or_die(SPIPlanPtr plan, Datum* v, const char* nulls, int expected) {
  const int rc = SPI_execute_plan(plan, v, nulls, false, 0);
  if (rc != expected)
    elog(ERROR, "techmart: SPI_execute_plan returned %s", SPI_result_code_string(rc));
}

// An engine from the configuration, deleted by a reset callback of ctx (so also on error).
// Memory and the callback first (may raise, no C++ object alive), then the engine.
struct EngineOwner {
  fraud::Engine* engine;
  static void destroy(void* arg) {
    auto* o = static_cast<EngineOwner*>(arg);
    delete o->engine;
    o->engine = nullptr;
  }
};
fraud::Engine* engine_from_config();
fraud::Engine* owned_engine(MemoryContext ctx) {
  auto* owner = static_cast<EngineOwner*>(MemoryContextAllocZero(ctx, sizeof(EngineOwner)));
  auto* cb =
      static_cast<MemoryContextCallback*>(MemoryContextAlloc(ctx, sizeof(MemoryContextCallback)));
  cb->func = &EngineOwner::destroy;
  cb->arg = owner;
  MemoryContextRegisterResetCallback(ctx, cb);
  owner->engine = engine_from_config();
  return owner->engine;
}

fraud::Engine* engine_from_config() {
  fraud::ConfigSnapshot* cfg = static_cast<fraud::ConfigSnapshot*>(palloc0(sizeof *cfg));
  fraud::load_config(cfg);
  fraud::Engine* e = nullptr;
  ErrorInfo err;
  guarded(err, "building the rules from techmart.rule_config",
          [&] { e = fraud::build_engine(*cfg); });
  if (err.failed) raise(err);
  return e;
}

struct RowFold {
  double amount;
  double time;
  char country[3];
  bool has_loc;
  double lat, lon;
  int method;
  double score;
};

// Column values of a history row: amount, time, country, lat, lon, method, score at `first`.
void read_fold(HeapTuple t, TupleDesc d, int first, RowFold* r) {
  bool n[7];
  Datum v[7];
  for (int i = 0; i < 7; ++i) v[i] = SPI_getbinval(t, d, first + i, &n[i]);
  r->amount = n[0] ? 0.0 : DatumGetFloat8(v[0]);
  r->time = fraud::ts_to_epoch(DatumGetTimestampTz(v[1]));
  r->country[0] = r->country[1] = r->country[2] = 0;
  if (!n[2]) {
    const char* c = TextDatumGetCString(v[2]);
    if (strlen(c) >= 2) {
      r->country[0] = c[0];
      r->country[1] = c[1];
    }
  }
  r->has_loc = !n[3] && !n[4];
  r->lat = r->has_loc ? DatumGetFloat8(v[3]) : 0;
  r->lon = r->has_loc ? DatumGetFloat8(v[4]) : 0;
  r->method = n[5] ? -1 : core::payment_method_bit(TextDatumGetCString(v[5]));
  r->score = n[6] ? std::numeric_limits<double>::quiet_NaN() : DatumGetFloat8(v[6]);
}

}  // namespace

// techmart.rebuild_state(source regclass) -> bigint
// techmart.customer_state_valid(n, mean, m2, risk, amount_hist, hour_profile, recent_t,
// recent_a): the CHECK constraint customer_state_valid (techmart 0.3), the same rules as the six
// constraints of 0.2 in one call — the engine's write-back plans and parses one short expression
// per executor instead of six long ones. Plain C.
extern "C" PGDLLEXPORT Datum techmart_customer_state_valid(PG_FUNCTION_ARGS) {
  const int64 n = PG_GETARG_INT64(0);
  const double mean = PG_GETARG_FLOAT8(1), m2 = PG_GETARG_FLOAT8(2), risk = PG_GETARG_FLOAT8(3);
  auto cardinality = [](ArrayType* a) { return ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)); };
  const int hist = cardinality(PG_GETARG_ARRAYTYPE_P(4));
  const int hours = cardinality(PG_GETARG_ARRAYTYPE_P(5));
  const int recent_t = cardinality(PG_GETARG_ARRAYTYPE_P(6));
  const int recent_a = cardinality(PG_GETARG_ARRAYTYPE_P(7));
  // NaN fails every comparison below, as it fails the float8 comparisons of SQL (NaN is
  // larger than 'Infinity' there)
  const bool ok = n >= 0 && std::isfinite(mean) && std::isfinite(m2) && m2 >= 0 &&
                  std::isfinite(risk) && risk >= 0 && (n > 0 || (mean == 0 && m2 == 0)) &&
                  (hist == 0 || hist == 64) && (hours == 0 || hours == 24) &&
                  recent_t == recent_a && recent_t <= 32;
  PG_RETURN_BOOL(ok);
}

namespace {

// The state of every customer (customers == nullptr) or of the customers of the array (bigint[],
// NULL elements ignored) recomputed from `source`: their rows of techmart.customer_state deleted,
// their risk_score reset, their history folded in (customer, time, id) order and written back.
// Returns the number of customers written.
//
// row_locks (techmart.refresh_state, techmart 0.8: the triggers after a DELETE / UPDATE of
// transactions): no table lock — the customers' state rows are created if missing (ON CONFLICT
// DO NOTHING, which waits for a concurrent creator) and locked FOR UPDATE in customer-id order,
// as the scoring trigger locks them, and the history is read with a snapshot taken after the
// locks (READ COMMITTED), so it holds every row of a writer that held one of those state rows;
// a writer that comes later waits for this transaction and folds its row into the new state.
// The rows are updated in place, never deleted (a customer without history keeps an empty state
// row, n = 0, as a new one): a waiting writer follows the update to the new version.
int64 rebuild_state(Oid source, ArrayType* customers, bool row_locks = false) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  const char* src = qualified(source);
  const char* nsp = schema_of(source);
  Oid ids_type[1] = {INT8ARRAYOID};
  Datum ids[1] = {PointerGetDatum(customers)};
  if (!row_locks) {
    SPI_execute(psprintf("LOCK TABLE %s IN SHARE MODE", src), false, 0);
    SPI_execute("LOCK TABLE techmart.customer_state IN EXCLUSIVE MODE", false, 0);
  } else {
    if (SPI_execute_with_args("INSERT INTO techmart.customer_state (customer_id) "
                              "SELECT DISTINCT c FROM unnest($1::bigint[]) c WHERE c IS NOT NULL "
                              "ORDER BY c ON CONFLICT (customer_id) DO NOTHING",
                              1, ids_type, ids, nullptr, false, 0) != SPI_OK_INSERT)
      elog(ERROR, "techmart: refresh_state could not create the state rows");
    if (SPI_execute_with_args("SELECT customer_id FROM techmart.customer_state "
                              "WHERE customer_id = ANY ($1) ORDER BY customer_id FOR UPDATE",
                              1, ids_type, ids, nullptr, false, 0) != SPI_OK_SELECT)
      elog(ERROR, "techmart: refresh_state could not lock the state rows");
  }
  fraud::Engine* engine = engine_from_config();
  const core::StateParams params = engine->params;
  delete engine;

  if (row_locks) {
    // the locked rows stay (a writer waiting for one follows its update chain to the new state;
    // it would not follow a delete and re-insert): reset to the empty state of a new row, then
    // overwritten below by the customers that have history
    SPI_execute_with_args(
        "UPDATE techmart.customer_state SET n = DEFAULT, mean = DEFAULT, m2 = DEFAULT, "
        "last_amount = NULL, last_transaction_time = NULL, amount_hist = DEFAULT, "
        "recent_t = DEFAULT, recent_a = DEFAULT, hour_profile = DEFAULT, profile_time = DEFAULT, "
        "last_lat = NULL, last_lon = NULL, last_country = NULL, methods = DEFAULT, risk = DEFAULT, "
        "risk_time = DEFAULT, updated_at = now() WHERE customer_id = ANY ($1)",
        1, ids_type, ids, nullptr, false, 0);
    SPI_execute_with_args(
        psprintf("UPDATE %s.customers SET risk_score = 0 WHERE id = ANY ($1) AND risk_score <> 0",
                 nsp),
        1, ids_type, ids, nullptr, false, 0);
  } else if (customers == nullptr) {
    SPI_execute("DELETE FROM techmart.customer_state", false, 0);
    SPI_execute(psprintf("UPDATE %s.customers SET risk_score = 0 WHERE risk_score <> 0", nsp),
                false, 0);
  } else {
    SPI_execute_with_args("DELETE FROM techmart.customer_state WHERE customer_id = ANY ($1)", 1,
                          ids_type, ids, nullptr, false, 0);
    SPI_execute_with_args(
        psprintf("UPDATE %s.customers SET risk_score = 0 WHERE id = ANY ($1) AND risk_score <> 0",
                 nsp),
        1, ids_type, ids, nullptr, false, 0);
  }

  // the write-back, kBatch customers a statement: their state rows inserted from an array of
  // techmart.customer_state (fraud::make_state_array, as the engine's own batched write-back) and
  // the risk_score of those whose score differs updated (one SPI execution per customer cost ~60
  // us: 0.1 s for the 1,750 customers of the three-month Online Retail import)
  Oid state_elem = InvalidOid;
  const Oid state_array = fraud::state_array_type(&state_elem);
  Oid wargs[3] = {state_array, INT8ARRAYOID, NUMERICARRAYOID};
  const char* state_write =
      row_locks
          ? "WITH s AS (UPDATE techmart.customer_state s SET (%s) = (u.customer_id, u.n, u.mean, "
            "u.m2, u.amount_hist, u.recent_t, u.recent_a, u.hour_profile, u.profile_time, "
            "u.last_transaction_time, u.last_amount, u.last_lat, u.last_lon, u.last_country, "
            "u.methods, u.risk, u.risk_time, now()) FROM unnest($1) u "
            "WHERE s.customer_id = u.customer_id RETURNING 1), "
          : "WITH s AS (INSERT INTO techmart.customer_state (%s) "
            "SELECT u.customer_id, u.n, u.mean, u.m2, u.amount_hist, u.recent_t, u.recent_a, "
            "u.hour_profile, u.profile_time, u.last_transaction_time, u.last_amount, u.last_lat, "
            "u.last_lon, u.last_country, u.methods, u.risk, u.risk_time, now() FROM unnest($1) u "
            "RETURNING 1), ";
  SPIPlanPtr write = SPI_prepare(
      psprintf(
          "%s"
          "c AS (UPDATE %s.customers c SET risk_score = r.risk FROM unnest($2, $3) r(id, risk) "
          "WHERE c.id = r.id AND c.risk_score IS DISTINCT FROM r.risk RETURNING 1) "
          "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM c)",
          psprintf(state_write, fraud::kStateColumnList), nsp),
      3, wargs);
  if (write == nullptr) elog(ERROR, "techmart: could not prepare the state write");

  SPIPlanPtr q = SPI_prepare(
      // (id second: the sort compares the three keys in place, before the nullable columns)
      psprintf("SELECT customer_id, id, amount::float8, transaction_time, country::text, latitude, "
               "longitude, payment_method::text, fraud_score::float8 FROM %s %s"
               "ORDER BY customer_id, transaction_time, id",
               src, customers == nullptr ? "" : "WHERE customer_id = ANY ($1) "),
      customers == nullptr ? 0 : 1, customers == nullptr ? nullptr : ids_type);
  if (q == nullptr) elog(ERROR, "techmart: could not prepare the history scan of %s", src);
  // read_only = false under row locks: a new snapshot (READ COMMITTED), taken after the locks
  Portal portal =
      SPI_cursor_open(nullptr, q, customers == nullptr ? nullptr : ids, nullptr, !row_locks);
  MemoryContext tmp =
      AllocSetContextCreate(CurrentMemoryContext, "techmart rebuild", ALLOCSET_DEFAULT_SIZES);
  constexpr int kBatch = 1000;
  auto* states = static_cast<core::CustomerState*>(palloc(sizeof(core::CustomerState) * kBatch));
  auto* state_ptrs =
      static_cast<const core::CustomerState**>(palloc(sizeof(core::CustomerState*) * kBatch));
  auto* state_ids = static_cast<int64*>(palloc(sizeof(int64) * kBatch));
  for (int i = 0; i < kBatch; ++i) state_ptrs[i] = &states[i];
  int nb = 0;  // states[0 .. nb) complete, states[nb] the current customer's
  core::CustomerState* state = new (&states[0]) core::CustomerState();
  int64 current = -1;
  bool have = false;
  int64 written = 0;

  auto flush = [&]() {  // plain C: writes states[0 .. nb) and their changed risk scores
    if (nb == 0) return;
    MemoryContext old = MemoryContextSwitchTo(tmp);
    Datum* risk_ids = static_cast<Datum*>(palloc(sizeof(Datum) * nb));
    Datum* risk_values = static_cast<Datum*>(palloc(sizeof(Datum) * nb));
    for (int i = 0; i < nb; ++i) {
      char risk[32];
      fraud::risk_text(states[i], params, risk, sizeof risk);
      risk_ids[i] = Int64GetDatum(state_ids[i]);
      risk_values[i] = DirectFunctionCall3(numeric_in, CStringGetDatum(risk),
                                           ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
    }
    Datum v[3];
    v[0] = fraud::make_state_array(state_elem, nb, state_ids, state_ptrs);
    v[1] = PointerGetDatum(
        construct_array(risk_ids, nb, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    v[2] = PointerGetDatum(construct_array(risk_values, nb, NUMERICOID, -1, false, TYPALIGN_INT));
    exec_or_die(write, v, nullptr, SPI_OK_SELECT);
    bool isnull = true;
    const int64 inserted =
        SPI_processed == 1
            ? DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))
            : -1;
    if (isnull || inserted != nb) {
      elog(ERROR, "techmart: rebuild_state wrote %lld of %d customer_state rows",
           static_cast<long long>(inserted), nb);
    }
    MemoryContextSwitchTo(old);
    MemoryContextReset(tmp);
    written += nb;
    nb = 0;
  };

  for (;;) {
    SPI_cursor_fetch(portal, true, 10000);
    SPITupleTable* batch = SPI_tuptable;
    const uint64 n = SPI_processed;
    if (n == 0) break;
    for (uint64 i = 0; i < n; ++i) {
      bool null_id;
      const int64 cid = DatumGetInt64(SPI_getbinval(batch->vals[i], batch->tupdesc, 1, &null_id));
      if (have && cid != current) {  // the current customer's state is complete
        state_ids[nb++] = current;
        if (nb == kBatch) flush();
        state = new (&states[nb]) core::CustomerState();
      }
      current = cid;
      have = true;
      RowFold r;
      read_fold(batch->vals[i], batch->tupdesc, 3, &r);
      ErrorInfo err;
      guarded(err, "techmart.rebuild_state", [&] {
        core::fold(*state,
                   core::FoldInput{r.amount, r.time, r.country, r.has_loc, r.lat, r.lon, r.method,
                                   r.score},
                   params);
      });
      if (err.failed) raise(err);
    }
    SPI_freetuptable(batch);
  }
  if (have) state_ids[nb++] = current;
  flush();
  SPI_cursor_close(portal);
  SPI_finish();
  return written;
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_rebuild_state(PG_FUNCTION_ARGS) {
  // not STRICT (its SQL declaration since 0.2): a NULL source read a NULL pointer (the backend
  // crashed and the postmaster restarted every session)
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rebuild_state: the source table is required"),
                    errhint("SELECT techmart.rebuild_state() rebuilds from public.transactions.")));
  }
  PG_RETURN_INT64(rebuild_state(regclass_of(PG_GETARG_TEXT_PP(0)), nullptr));
}

// techmart.rebuild_state_for(customers bigint[], source text) -> bigint: rebuild_state for the
// given customers only (declared by the sqitch change import_state_incremental, not by the
// extension script: the extension's version is unchanged). An import rebuilds the customers it
// touched instead of every customer of the database.
extern "C" PGDLLEXPORT Datum techmart_rebuild_state_for(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rebuild_state_for: the customers and the source are required")));
  }
  ArrayType* customers = PG_GETARG_ARRAYTYPE_P(0);
  if (ARR_ELEMTYPE(customers) != INT8OID) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("rebuild_state_for: the customers must be a bigint[]")));
  }
  PG_RETURN_INT64(rebuild_state(regclass_of(PG_GETARG_TEXT_PP(1)), customers));
}

// techmart.refresh_state(customers bigint[], source text) -> bigint (techmart 0.8):
// rebuild_state_for under row locks instead of table locks (see rebuild_state), for the triggers
// that keep the state equal to a recomputation after a DELETE or UPDATE of transactions.
extern "C" PGDLLEXPORT Datum techmart_refresh_state(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("refresh_state: the customers and the source are required")));
  }
  ArrayType* customers = PG_GETARG_ARRAYTYPE_P(0);
  if (ARR_ELEMTYPE(customers) != INT8OID) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("refresh_state: the customers must be a bigint[]")));
  }
  PG_RETURN_INT64(rebuild_state(regclass_of(PG_GETARG_TEXT_PP(1)), customers, true));
}

// techmart.rescore_customers(ids bigint[], from, to, source) -> (rescored, changed, newly, cleared)
extern "C" PGDLLEXPORT Datum techmart_rescore_customers(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rescore_customers: every argument is required")));
  }
  ArrayType* ids_arr = PG_GETARG_ARRAYTYPE_P(0);
  // -infinity / infinity are open bounds (ts_to_epoch overflowed on them: [-infinity, infinity)
  // rescored nothing)
  const double from = bound_epoch(PG_GETARG_TIMESTAMPTZ(1));
  const double to = bound_epoch(PG_GETARG_TIMESTAMPTZ(2));
  if (!(from < to)) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rescore_customers: from_time must be before to_time (the period is "
                           "[from_time, to_time))")));
  }
  const Oid source = regclass_of(PG_GETARG_TEXT_PP(3));
  TupleDesc rdesc;
  if (get_call_result_type(fcinfo, nullptr, &rdesc) != TYPEFUNC_COMPOSITE) {
    elog(ERROR, "techmart: rescore_customers must return a record");
  }
  rdesc = BlessTupleDesc(rdesc);
  Datum* ids;
  bool* id_nulls;
  int nids;
  deconstruct_array(ids_arr, INT8OID, 8, true, TYPALIGN_DOUBLE, &ids, &id_nulls, &nids);
  // each customer once, in id order: a repeated id replayed and counted its rows twice
  {
    int m = 0;
    for (int k = 0; k < nids; ++k)
      if (!id_nulls[k]) ids[m++] = ids[k];
    std::sort(ids, ids + m, [](Datum a, Datum b) { return DatumGetInt64(a) < DatumGetInt64(b); });
    nids = static_cast<int>(
        std::unique(ids, ids + m,
                    [](Datum a, Datum b) { return DatumGetInt64(a) == DatumGetInt64(b); }) -
        ids);
  }

  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  const char* src = qualified(source);
  const char* nsp = schema_of(source);
  Oid int8_arg[1] = {INT8OID};
  SPIPlanPtr customer = SPI_prepare(
      psprintf("SELECT country::text, registration_date FROM %s.customers WHERE id = $1", nsp), 1,
      int8_arg);
  SPIPlanPtr history = SPI_prepare(
      psprintf("SELECT t.amount::float8, t.transaction_time, t.country::text, t.latitude, "
               "t.longitude, t.payment_method::text, t.fraud_score::float8, t.id, "
               "t.unit_price::float8, p.price::float8, p.category_id, t.is_suspicious "
               "FROM %s t LEFT JOIN %s.products p ON p.id = t.product_id "
               "WHERE t.customer_id = $1 ORDER BY t.transaction_time, t.id",
               src, nsp),
      1, int8_arg);
  // The rescored rows are written kRescoreBatch at a time, one UPDATE each: one UPDATE per row
  // fired the table's statement triggers (rollups, total_spent: transition tables) per row, ~880
  // rows/s on 200,000 rows of 20,000 customers (a rescore of a year took hours).
  Oid uargs[4] = {INT8ARRAYOID, NUMERICARRAYOID, TEXTARRAYOID, BOOLARRAYOID};
  SPIPlanPtr update = SPI_prepare(
      psprintf(
          "UPDATE %s t SET fraud_score = u.s, fraud_reasons = u.r::jsonb, is_suspicious = u.b "
          "FROM unnest($1, $2, $3, $4) AS u(id, s, r, b) "
          "WHERE t.id = u.id AND (t.fraud_score IS DISTINCT FROM u.s OR "
          "t.fraud_reasons IS DISTINCT FROM u.r::jsonb OR t.is_suspicious IS DISTINCT FROM u.b)",
          src),
      4, uargs);
  if (customer == nullptr || history == nullptr || update == nullptr) {
    elog(ERROR, "techmart: could not prepare the rescoring queries");
  }
  // The engine (C++ heap) is deleted when the SPI procedure context goes: at SPI_finish, and on
  // any error on the way (a failed query, a cancel, a lock timeout) — it leaked ~5 kB per failed
  // call.
  fraud::Engine* engine = owned_engine(CurrentMemoryContext);
  MemoryContext tmp =
      AllocSetContextCreate(CurrentMemoryContext, "techmart rescore", ALLOCSET_DEFAULT_SIZES);
  MemoryContext batch_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "techmart rescore batch", ALLOCSET_DEFAULT_SIZES);
  Datum* b_ids = static_cast<Datum*>(palloc(sizeof(Datum) * kRescoreBatch));
  Datum* b_scores = static_cast<Datum*>(palloc(sizeof(Datum) * kRescoreBatch));
  Datum* b_reasons = static_cast<Datum*>(palloc(sizeof(Datum) * kRescoreBatch));
  Datum* b_susp = static_cast<Datum*>(palloc(sizeof(Datum) * kRescoreBatch));
  int nbatch = 0;
  auto flush = [&]() {  // plain C: one UPDATE of the batch's rows
    if (nbatch == 0) return;
    MemoryContext old = MemoryContextSwitchTo(batch_ctx);
    Datum v[4] = {
        PointerGetDatum(
            construct_array(b_ids, nbatch, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(construct_array(b_scores, nbatch, NUMERICOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(construct_array(b_reasons, nbatch, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(construct_array(b_susp, nbatch, BOOLOID, 1, true, TYPALIGN_CHAR))};
    MemoryContextSwitchTo(old);
    exec_or_die(update, v, nullptr, SPI_OK_UPDATE);
    MemoryContextReset(batch_ctx);
    nbatch = 0;
  };
  int64 rescored = 0, changed = 0, newly = 0, cleared = 0;
  core::CustomerState* state =
      static_cast<core::CustomerState*>(palloc(sizeof(core::CustomerState)));
  core::CustomerState* next =
      static_cast<core::CustomerState*>(palloc(sizeof(core::CustomerState)));
  for (int k = 0; k < nids; ++k) {
    Datum key[1] = {ids[k]};
    exec_or_die(customer, key, nullptr, SPI_OK_SELECT);
    if (SPI_processed == 0) continue;
    char home[3] = {0, 0, 0};
    double registered = std::numeric_limits<double>::quiet_NaN();
    {
      bool n1, n2;
      Datum c = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1);
      Datum r = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2);
      if (!n1) strlcpy(home, TextDatumGetCString(c), sizeof home);
      if (!n2) registered = fraud::ts_to_epoch(DatumGetTimestampTz(r));
    }
    exec_or_die(history, key, nullptr, SPI_OK_SELECT);
    SPITupleTable* rows = SPI_tuptable;
    const uint64 nrows = SPI_processed;
    new (state) core::CustomerState();
    for (uint64 i = 0; i < nrows; ++i) {
      MemoryContext old = MemoryContextSwitchTo(tmp);
      RowFold r;
      read_fold(rows->vals[i], rows->tupdesc, 1, &r);
      bool nn[5];
      Datum d[5];
      for (int a = 0; a < 5; ++a) d[a] = SPI_getbinval(rows->vals[i], rows->tupdesc, 8 + a, &nn[a]);
      core::TransactionInput tx;
      tx.amount = r.amount;
      tx.unit_price = nn[1] ? r.amount : DatumGetFloat8(d[1]);
      tx.list_price = nn[2] ? std::numeric_limits<double>::quiet_NaN() : DatumGetFloat8(d[2]);
      tx.category_id = nn[3] ? -1 : DatumGetInt64(d[3]);
      tx.time = r.time;
      memcpy(tx.country, r.country, 3);
      tx.has_location = r.has_loc;
      tx.lat = r.lat;
      tx.lon = r.lon;
      tx.method = r.method;
      memcpy(tx.home_country, home, 3);
      if (std::isfinite(registered)) tx.account_age_days = (tx.time - registered) / 86400.0;
      fraud::ScoreOutput out{};
      ErrorInfo err;
      guarded(err, "techmart.rescore",
              [&] { fraud::score_row(*engine, *state, tx, *next, out, tmp); });
      if (err.failed) raise(err);
      *state = *next;
      if (r.time >= from && r.time < to) {
        ++rescored;
        const bool was = !nn[4] && DatumGetBool(d[4]);
        char score_text[32];
        snprintf(score_text, sizeof score_text, "%.2f", out.score);
        MemoryContextSwitchTo(batch_ctx);  // kept until the batch is written
        b_ids[nbatch] = d[0];              // int8: by value
        b_scores[nbatch] = DirectFunctionCall3(numeric_in, CStringGetDatum(score_text),
                                               ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
        b_reasons[nbatch] = CStringGetTextDatum(out.reasons_json);
        b_susp[nbatch] = BoolGetDatum(out.suspicious);
        ++nbatch;
        MemoryContextSwitchTo(tmp);
        if (!std::isfinite(r.score) || std::fabs(r.score - out.score) > 0.001) ++changed;
        if (out.suspicious && !was) ++newly;
        if (!out.suspicious && was) ++cleared;
      }
      MemoryContextSwitchTo(old);
      MemoryContextReset(tmp);
      if (nbatch == kRescoreBatch) flush();
    }
    SPI_freetuptable(rows);
  }
  flush();
  SPI_finish();  // deletes the engine
  MemoryContextSwitchTo(caller);
  Datum values[4] = {Int64GetDatum(rescored), Int64GetDatum(changed), Int64GetDatum(newly),
                     Int64GetDatum(cleared)};
  bool nulls[4] = {false, false, false, false};
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rdesc, values, nulls)));
}

// techmart.fit_logistic(features float8[], n_features int, labels bool[], l2, non_negative)
extern "C" PGDLLEXPORT Datum techmart_fit_logistic(PG_FUNCTION_ARGS) {
  ArrayType* xa = PG_GETARG_ARRAYTYPE_P(0);
  const int d = PG_GETARG_INT32(1);
  ArrayType* ya = PG_GETARG_ARRAYTYPE_P(2);
  const double l2 = PG_GETARG_FLOAT8(3);
  const bool nonneg = PG_GETARG_BOOL(4);
  if (ARR_HASNULL(xa) || ARR_HASNULL(ya)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("fit_logistic: features and labels must not contain NULLs")));
  }
  Datum *xd, *yd;
  bool *xn, *yn;
  int nx, ny;
  deconstruct_array(xa, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &xd, &xn, &nx);
  deconstruct_array(ya, BOOLOID, 1, true, TYPALIGN_CHAR, &yd, &yn, &ny);
  // (the message below read as satisfied for n_features 0 or no label at all)
  if (d < 1 || ny < 1) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("fit_logistic: needs n_features >= 1 and at least one label (got %d and "
                           "%d labels)",
                           d, ny)));
  }
  if (static_cast<int64>(nx) != static_cast<int64>(ny) * d) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("fit_logistic: features must have n_features (%d) values per label (%d "
                           "labels, %d values)",
                           d, ny, nx)));
  }
  double* xs = static_cast<double*>(palloc(sizeof(double) * nx));
  int* ys = static_cast<int*>(palloc(sizeof(int) * ny));
  for (int i = 0; i < nx; ++i) xs[i] = DatumGetFloat8(xd[i]);
  for (int i = 0; i < ny; ++i) ys[i] = DatumGetBool(yd[i]) ? 1 : 0;
  double* theta = static_cast<double*>(palloc(sizeof(double) * (d + 1)));
  ErrorInfo err;
  guarded(err, "techmart.fit_logistic", [&] {
    std::vector<std::vector<double>> x(static_cast<size_t>(ny), std::vector<double>(d));
    std::vector<int> y(ys, ys + ny);
    for (int i = 0; i < ny; ++i)
      for (int j = 0; j < d; ++j) x[i][j] = xs[static_cast<size_t>(i) * d + j];
    core::FitOptions o;
    o.l2 = l2;
    o.non_negative = nonneg;
    const core::FitResult r = core::fit_logistic(x, y, o);
    for (int j = 0; j < d; ++j) theta[j] = r.weights[j];
    theta[d] = r.bias;
  });
  if (err.failed) raise(err);
  Datum* out = static_cast<Datum*>(palloc(sizeof(Datum) * (d + 1)));
  for (int j = 0; j <= d; ++j) out[j] = Float8GetDatum(theta[j]);
  PG_RETURN_ARRAYTYPE_P(
      construct_array(out, d + 1, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
