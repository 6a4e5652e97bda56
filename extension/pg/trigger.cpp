// techmart.score_transaction(): the BEFORE INSERT FOR EACH ROW scoring trigger
// (docs/architecture.md, "The scoring trigger").
//
// Phases, in order:
//   1. plain C: check the trigger context, look the columns up by name, validate the row and
//      fill amount (ereport directly: no C++ object is alive);
//   2. plain C under SPI: customer exists? lock (create) the customer's state row, read the
//      rule configuration and settings into palloc'd plain data;
//   3. C++ under guarded(): build the rules, score from the state *before* this row, fold the
//      row into the state; results land in plain data (the reasons JSON is copied into the
//      caller's memory context through pg_call);
//   4. plain C: ereport if phase 3 failed; otherwise UPDATE the state, SPI_finish and return
//      the modified tuple.
#include "boundary.hpp"
#include "params.hpp"
#include "techmart/core/scoring.hpp"
#include "techmart/core/stats.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(techmart_score_transaction);
}

namespace core = techmart::core;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::NumericParams;
using techmart::pg::pg_call;
using techmart::pg::raise;

namespace {

constexpr double kDefaultSuspiciousThreshold = 70.0;
constexpr double kDefaultReasonMinContribution = 1.0;

// ------------------------------------------------------------------------- saved SPI plans
// Prepared once per backend and kept (SPI_keepplan): the plan cache revalidates them when the
// tables they read change. The customers lookup is prepared for the schema of the table the
// trigger fires on (re-prepared when that schema changes).
SPIPlanPtr plan_customer = nullptr;
Oid plan_customer_nsp = InvalidOid;
SPIPlanPtr plan_state_lock = nullptr;
SPIPlanPtr plan_state_create = nullptr;
SPIPlanPtr plan_state_update = nullptr;
SPIPlanPtr plan_config = nullptr;
SPIPlanPtr plan_settings = nullptr;

SPIPlanPtr prepare_kept(const char* sql, int nargs, Oid* argtypes) {
  SPIPlanPtr plan = SPI_prepare(sql, nargs, argtypes);
  if (plan == nullptr) {
    elog(ERROR, "techmart: SPI_prepare failed (%s): %s", SPI_result_code_string(SPI_result), sql);
  }
  if (SPI_keepplan(plan) != 0) elog(ERROR, "techmart: SPI_keepplan failed: %s", sql);
  return plan;
}

void prepare_plans(Oid nsp) {
  Oid int8_arg[1] = {INT8OID};
  if (plan_customer == nullptr || plan_customer_nsp != nsp) {
    const char* nspname = get_namespace_name(nsp);
    if (nspname == nullptr) elog(ERROR, "techmart: schema %u does not exist", nsp);
    char* sql = psprintf("SELECT 1 FROM %s.customers WHERE id = $1", quote_identifier(nspname));
    SPIPlanPtr plan = prepare_kept(sql, 1, int8_arg);
    if (plan_customer != nullptr) SPI_freeplan(plan_customer);
    plan_customer = plan;
    plan_customer_nsp = nsp;
  }
  if (plan_state_lock == nullptr) {
    plan_state_lock = prepare_kept(
        "SELECT n, mean, m2 FROM techmart.customer_state WHERE customer_id = $1 FOR UPDATE", 1,
        int8_arg);
  }
  if (plan_state_create == nullptr) {
    plan_state_create = prepare_kept(
        "INSERT INTO techmart.customer_state (customer_id, n, mean, m2, updated_at) "
        "VALUES ($1, 0, 0, 0, now()) ON CONFLICT (customer_id) DO NOTHING",
        1, int8_arg);
  }
  if (plan_state_update == nullptr) {
    Oid args[6] = {INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, NUMERICOID, TIMESTAMPTZOID};
    plan_state_update = prepare_kept(
        "UPDATE techmart.customer_state SET n = $2, mean = $3, m2 = $4, last_amount = $5, "
        "last_transaction_time = $6, updated_at = now() WHERE customer_id = $1",
        6, args);
  }
  if (plan_config == nullptr) {
    plan_config = prepare_kept(
        "SELECT rule, enabled, weight, threshold, params FROM techmart.rule_config ORDER BY rule",
        0, nullptr);
  }
  if (plan_settings == nullptr) {
    plan_settings = prepare_kept("SELECT name, value FROM techmart.settings", 0, nullptr);
  }
}

// ---------------------------------------------------------------------------- columns
enum Col {
  kCustomerId,
  kQuantity,
  kUnitPrice,
  kAmount,
  kTime,
  kScore,
  kReasons,
  kSuspicious,
  kNCols
};

struct ColumnSpec {
  const char* name;
  Oid type;  // required base type
};
constexpr ColumnSpec kColumns[kNCols] = {{"customer_id", INT8OID},
                                         {"quantity", INT4OID},
                                         {"unit_price", NUMERICOID},
                                         {"amount", NUMERICOID},
                                         {"transaction_time", TIMESTAMPTZOID},
                                         {"fraud_score", NUMERICOID},
                                         {"fraud_reasons", JSONBOID},
                                         {"is_suspicious", BOOLOID}};

struct Columns {
  int attnum[kNCols];
  int32 typmod[kNCols];  // typmod of the base type (numeric(p,s) of a domain included)
};

// Looked up by name on every call (cheap, and always right after ALTER TABLE).
void lookup_columns(Relation rel, Columns* cols) {
  TupleDesc tupdesc = RelationGetDescr(rel);
  for (int i = 0; i < kNCols; ++i) {
    const int attnum = SPI_fnumber(tupdesc, kColumns[i].name);
    if (attnum <= 0) {
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("techmart.score_transaction: relation \"%s\" has no column \"%s\"",
                             RelationGetRelationName(rel), kColumns[i].name)));
    }
    Form_pg_attribute attr = TupleDescAttr(tupdesc, attnum - 1);
    int32 typmod = attr->atttypmod;
    const Oid base = getBaseTypeAndTypmod(attr->atttypid, &typmod);
    if (base != kColumns[i].type) {
      ereport(ERROR,
              (errcode(ERRCODE_DATATYPE_MISMATCH),
               errmsg("techmart.score_transaction: column \"%s\" of relation \"%s\" has type %s, "
                      "expected %s",
                      kColumns[i].name, RelationGetRelationName(rel),
                      format_type_be(attr->atttypid), format_type_be(kColumns[i].type))));
    }
    cols->attnum[i] = attnum;
    cols->typmod[i] = typmod;
  }
}

pg_attribute_noreturn() void check_violation(Relation rel, int attnum, const char* what) {
  ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                  errmsg("%s in relation \"%s\"", what, RelationGetRelationName(rel)),
                  errtablecol(rel, attnum)));
  pg_unreachable();
}

bool numeric_negative(Numeric n) {
  return DatumGetBool(
      DirectFunctionCall2(numeric_lt, NumericGetDatum(n), NumericGetDatum(int64_to_numeric(0))));
}

// Refuses NaN, +-Infinity and negative values of a numeric column with 23514.
void check_money(Relation rel, int attnum, const char* column, Datum value) {
  Numeric n = DatumGetNumeric(value);
  if (numeric_is_nan(n)) {
    check_violation(rel, attnum, psprintf("%s must be a number, got NaN", column));
  }
  if (numeric_is_inf(n)) {
    check_violation(rel, attnum, psprintf("%s must be finite", column));
  }
  if (numeric_negative(n)) {
    check_violation(rel, attnum,
                    psprintf("%s must be >= 0, got %s", column,
                             DatumGetCString(DirectFunctionCall1(numeric_out, value))));
  }
}

void exec_plan(SPIPlanPtr plan, Datum* values, const char* nulls, int expected_rc, long limit) {
  const int rc = SPI_execute_plan(plan, values, nulls, false, limit);
  if (rc != expected_rc) {
    elog(ERROR, "techmart: SPI_execute_plan returned %s", SPI_result_code_string(rc));
  }
}

// ------------------------------------------------------- plain data handed to the C++ phase
struct ConfigRow {
  const char* rule;
  bool enabled;
  double weight;
  double threshold;
  NumericParams params;
};

struct ScoringInput {
  int64 customer_id;
  double amount;
  int64 n;
  double mean;
  double m2;
  const ConfigRow* rows;
  int nrows;
  double suspicious_threshold;
  double reason_min_contribution;
  MemoryContext result_ctx;  // where the reasons JSON is copied
};

struct ScoringOutput {
  int64 n;
  double mean;
  double m2;
  double score;  // rounded to 2 decimals
  bool suspicious;
  char* reasons_json;  // palloc'd in result_ctx
};

// The C++ phase. Throws; run it only under guarded().
void score_and_fold(const ScoringInput& in, ScoringOutput& out) {
  std::vector<core::RuleConfig> configs;
  configs.reserve(static_cast<std::size_t>(in.nrows));
  for (int i = 0; i < in.nrows; ++i) {
    core::RuleConfig c;
    c.rule = in.rows[i].rule;
    c.enabled = in.rows[i].enabled;
    c.weight = in.rows[i].weight;
    c.threshold = in.rows[i].threshold;
    for (int p = 0; p < in.rows[i].params.count; ++p) {
      c.params[in.rows[i].params.keys[p]] = in.rows[i].params.values[p];
    }
    configs.push_back(std::move(c));
  }
  const core::Scorer scorer(core::RuleRegistry::with_builtin_rules().build(configs),
                            std::make_unique<core::LogisticCombiner>());

  core::CustomerHistory history;
  try {
    history.log_amount = core::Welford::from_state(in.n, in.mean, in.m2);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("techmart.customer_state of customer " +
                             std::to_string(in.customer_id) + " is corrupt: " + e.what());
  }
  const core::TransactionInput tx{in.amount};
  const core::ScoreResult result = scorer.score({tx, history}, in.reason_min_contribution);

  // The stored score has two decimals; is_suspicious must agree with what is stored.
  out.score = std::round(result.score * 100.0) / 100.0;
  out.suspicious = out.score >= in.suspicious_threshold;

  history.log_amount.add(core::log_amount(in.amount));
  out.n = history.log_amount.count();
  out.mean = history.log_amount.mean();
  out.m2 = history.log_amount.m2();

  const std::string json = core::reasons_to_json(result.reasons);
  char* buf = nullptr;
  pg_call([&] { buf = static_cast<char*>(MemoryContextAlloc(in.result_ctx, json.size() + 1)); });
  std::memcpy(buf, json.c_str(), json.size() + 1);
  out.reasons_json = buf;
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_score_transaction(PG_FUNCTION_ARGS) {
  // ---------------------------------------------------------------- 1. row checks (plain C)
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("techmart.score_transaction: not called by the trigger manager")));
  }
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
      !TRIGGER_FIRED_BY_INSERT(td->tg_event)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("techmart.score_transaction must be fired BEFORE INSERT FOR EACH ROW")));
  }
  Relation rel = td->tg_relation;
  TupleDesc tupdesc = RelationGetDescr(rel);
  HeapTuple tuple = td->tg_trigtuple;
  Columns cols;
  lookup_columns(rel, &cols);

  Datum v[kNCols];
  bool isnull[kNCols];
  for (int i = 0; i < kNCols; ++i) v[i] = heap_getattr(tuple, cols.attnum[i], tupdesc, &isnull[i]);

  for (Col c : {kCustomerId, kQuantity, kUnitPrice}) {
    if (isnull[c]) {
      ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                      errmsg("null value in column \"%s\" of relation \"%s\" violates the scoring "
                             "trigger's not-null requirement",
                             kColumns[c].name, RelationGetRelationName(rel)),
                      errtablecol(rel, cols.attnum[c])));
    }
  }
  const int64 customer_id = DatumGetInt64(v[kCustomerId]);
  const int32 quantity = DatumGetInt32(v[kQuantity]);
  if (quantity <= 0) {
    check_violation(rel, cols.attnum[kQuantity],
                    psprintf("quantity must be > 0, got %d", quantity));
  }
  check_money(rel, cols.attnum[kUnitPrice], "unit_price", v[kUnitPrice]);

  bool amount_filled = false;
  if (isnull[kAmount]) {
    Datum amount = DirectFunctionCall2(numeric_mul, NumericGetDatum(int64_to_numeric(quantity)),
                                       v[kUnitPrice]);
    if (cols.typmod[kAmount] >= 0) {  // e.g. numeric(14,3): round and range-check like a cast
      amount = DirectFunctionCall2(numeric, amount, Int32GetDatum(cols.typmod[kAmount]));
    }
    v[kAmount] = amount;
    isnull[kAmount] = false;
    amount_filled = true;
  }
  check_money(rel, cols.attnum[kAmount], "amount", v[kAmount]);
  const double amount = DatumGetFloat8(DirectFunctionCall1(numeric_float8, v[kAmount]));

  // ---------------------------------------------------------------- 2. SPI (plain C)
  MemoryContext caller_ctx = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  prepare_plans(RelationGetNamespace(rel));

  Datum key[1] = {Int64GetDatum(customer_id)};
  exec_plan(plan_customer, key, nullptr, SPI_OK_SELECT, 1);
  if (SPI_processed == 0) {
    ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                    errmsg("customer %lld does not exist", static_cast<long long>(customer_id)),
                    errtablecol(rel, cols.attnum[kCustomerId])));
  }

  // Lock the state row; on first use create it (ON CONFLICT waits for a concurrent creator,
  // so the second SELECT ... FOR UPDATE sees the row) and lock it.
  exec_plan(plan_state_lock, key, nullptr, SPI_OK_SELECT, 1);
  if (SPI_processed == 0) {
    exec_plan(plan_state_create, key, nullptr, SPI_OK_INSERT, 0);
    exec_plan(plan_state_lock, key, nullptr, SPI_OK_SELECT, 1);
    if (SPI_processed == 0) {
      elog(ERROR, "techmart: state row of customer %lld vanished", (long long)customer_id);
    }
  }
  ScoringInput in;
  in.customer_id = customer_id;
  in.amount = amount;
  {
    bool null_n, null_mean, null_m2;
    HeapTuple st = SPI_tuptable->vals[0];
    TupleDesc sd = SPI_tuptable->tupdesc;
    in.n = DatumGetInt64(SPI_getbinval(st, sd, 1, &null_n));
    in.mean = DatumGetFloat8(SPI_getbinval(st, sd, 2, &null_mean));
    in.m2 = DatumGetFloat8(SPI_getbinval(st, sd, 3, &null_m2));
    if (null_n || null_mean || null_m2) {
      elog(ERROR, "techmart: state row of customer %lld has NULLs", (long long)customer_id);
    }
  }

  exec_plan(plan_config, nullptr, nullptr, SPI_OK_SELECT, 0);
  const int nrows = static_cast<int>(SPI_processed);
  ConfigRow* rows = static_cast<ConfigRow*>(palloc0(sizeof(ConfigRow) * (nrows > 0 ? nrows : 1)));
  for (int i = 0; i < nrows; ++i) {
    HeapTuple rt = SPI_tuptable->vals[i];
    TupleDesc rd = SPI_tuptable->tupdesc;
    bool nulls[5];
    Datum d[5];
    for (int a = 0; a < 5; ++a) d[a] = SPI_getbinval(rt, rd, a + 1, &nulls[a]);
    if (nulls[0] || nulls[1] || nulls[2] || nulls[3] || nulls[4]) {
      elog(ERROR, "techmart: techmart.rule_config has a NULL (the table forbids them)");
    }
    rows[i].rule = TextDatumGetCString(d[0]);
    rows[i].enabled = DatumGetBool(d[1]);
    rows[i].weight = DatumGetFloat8(d[2]);
    rows[i].threshold = DatumGetFloat8(d[3]);
    const char* problem = nullptr;
    if (!techmart::pg::collect_numeric_params(d[4], &rows[i].params, &problem)) {
      ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                      errmsg("invalid params of rule \"%s\" in techmart.rule_config: %s",
                             rows[i].rule, problem)));
    }
  }
  in.rows = rows;
  in.nrows = nrows;

  in.suspicious_threshold = kDefaultSuspiciousThreshold;
  in.reason_min_contribution = kDefaultReasonMinContribution;
  exec_plan(plan_settings, nullptr, nullptr, SPI_OK_SELECT, 0);
  for (uint64 i = 0; i < SPI_processed; ++i) {
    bool null_name, null_value;
    Datum name = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &null_name);
    Datum value = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &null_value);
    if (null_name || null_value) continue;
    const char* n = TextDatumGetCString(name);
    if (strcmp(n, "suspicious_threshold") == 0) in.suspicious_threshold = DatumGetFloat8(value);
    if (strcmp(n, "reason_min_contribution") == 0) {
      in.reason_min_contribution = DatumGetFloat8(value);
    }
  }
  in.result_ctx = caller_ctx;

  // ---------------------------------------------------------------- 3. C++ (guarded)
  ScoringOutput out{};
  ErrorInfo err;
  guarded(err, "techmart.score_transaction", [&] { score_and_fold(in, out); });
  // ---------------------------------------------------------------- 4. plain C again
  if (err.failed) raise(err);

  Datum upd[6] = {Int64GetDatum(customer_id), Int64GetDatum(out.n), Float8GetDatum(out.mean),
                  Float8GetDatum(out.m2),     v[kAmount],           v[kTime]};
  const char upd_nulls[7] = {' ', ' ', ' ', ' ', ' ', isnull[kTime] ? 'n' : ' ', '\0'};
  exec_plan(plan_state_update, upd, upd_nulls, SPI_OK_UPDATE, 0);
  if (SPI_processed != 1)
    elog(ERROR, "techmart: state of customer %lld not updated", (long long)customer_id);
  SPI_finish();  // back in caller_ctx

  char score_text[32];
  snprintf(score_text, sizeof score_text, "%.2f", out.score);
  int ncols = 0;
  int colnums[4];
  Datum values[4];
  bool nulls[4] = {false, false, false, false};
  colnums[ncols] = cols.attnum[kScore];
  values[ncols++] =
      DirectFunctionCall3(numeric_in, CStringGetDatum(score_text), ObjectIdGetDatum(InvalidOid),
                          Int32GetDatum(cols.typmod[kScore]));
  colnums[ncols] = cols.attnum[kReasons];
  values[ncols++] = DirectFunctionCall1(jsonb_in, CStringGetDatum(out.reasons_json));
  colnums[ncols] = cols.attnum[kSuspicious];
  values[ncols++] = BoolGetDatum(out.suspicious);
  if (amount_filled) {
    colnums[ncols] = cols.attnum[kAmount];
    values[ncols++] = v[kAmount];
  }
  HeapTuple result = heap_modify_tuple_by_cols(tuple, tupdesc, ncols, colnums, values, nulls);
  return PointerGetDatum(result);
}
