// Shadow configurations (docs/entity-risk.md, "Shadow"): every active row of
// techmart.shadow_config is scored alongside the live configuration on every insert and stored
// in techmart.shadow_scores; it never alerts and never changes the row or the customer's state.
//
// The engines are built from the live configuration tables with the shadow's overrides
// (techmart.config_resolve) and kept across statements; the first row of each statement reads
// techmart.config_version (bumped by every change of the configuration tables and of
// shadow_config) and a different token rebuilds them.
#include "entity_glue.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/array.h"
}

namespace core = techmart::core;
namespace fraud = techmart::pg::fraud;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;

namespace techmart::pg::entity {

namespace {

constexpr int kMaxShadows = 8;

struct Shadow {
  char name[64];
  fraud::Engine* engine;
};

Shadow shadows[kMaxShadows];
int nshadows = 0;
char token[64] = "";
bool loaded = false;
LocalTransactionId checked_lxid = InvalidLocalTransactionId;
TimestampTz checked_stmt = 0;
SPIPlanPtr plan_token = nullptr;
SPIPlanPtr plan_configs = nullptr;
SPIPlanPtr plan_store = nullptr;
MemoryContext build_ctx = nullptr;

void drop_shadows() {
  for (int i = 0; i < nshadows; ++i) delete shadows[i].engine;  // noexcept destructors
  nshadows = 0;
}

// Rebuilds the shadow engines (SPI connected).
void load_shadows() {
  drop_shadows();
  if (plan_configs == nullptr) {
    plan_configs = fraud::prepare_kept(
        "SELECT s.name, r.rules, r.enabled, r.weights, r.thresholds, r.params, r.bias, "
        "       r.suspicious_threshold "
        "  FROM techmart.shadow_config s, techmart.config_resolve(s.config) r "
        " WHERE s.active ORDER BY s.name LIMIT 8",
        0, nullptr);
  }
  if (build_ctx == nullptr) {
    build_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart shadow config", ALLOCSET_DEFAULT_SIZES);
  }
  MemoryContextReset(build_ctx);
  if (SPI_execute_plan(plan_configs, nullptr, nullptr, true, 0) != SPI_OK_SELECT) {
    elog(ERROR, "techmart: could not read techmart.shadow_config");
  }
  SPITupleTable* tt = SPI_tuptable;
  const int n = static_cast<int>(SPI_processed);
  for (int s = 0; s < n && s < kMaxShadows; ++s) {
    HeapTuple t = tt->vals[s];
    TupleDesc d = tt->tupdesc;
    bool isnull[8];
    Datum v[8];
    for (int i = 0; i < 8; ++i) v[i] = SPI_getbinval(t, d, i + 1, &isnull[i]);
    MemoryContext old = MemoryContextSwitchTo(build_ctx);
    fraud::ConfigSnapshot* cfg =
        static_cast<fraud::ConfigSnapshot*>(palloc0(sizeof(fraud::ConfigSnapshot)));
    fraud::load_config(cfg);
    Datum *rules, *enabled, *weights, *thresholds, *params;
    bool* nulls;
    int nr, ne, nw, nt, np;
    deconstruct_array(DatumGetArrayTypeP(v[1]), TEXTOID, -1, false, TYPALIGN_INT, &rules, &nulls,
                      &nr);
    deconstruct_array(DatumGetArrayTypeP(v[2]), BOOLOID, 1, true, TYPALIGN_CHAR, &enabled, &nulls,
                      &ne);
    deconstruct_array(DatumGetArrayTypeP(v[3]), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                      &weights, &nulls, &nw);
    deconstruct_array(DatumGetArrayTypeP(v[4]), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                      &thresholds, &nulls, &nt);
    deconstruct_array(DatumGetArrayTypeP(v[5]), JSONBOID, -1, false, TYPALIGN_INT, &params, &nulls,
                      &np);
    if (nr != ne || nr != nw || nr != nt || nr != np) elog(ERROR, "techmart: bad shadow config");
    cfg->rules = static_cast<fraud::ConfigRow*>(palloc0(sizeof(fraud::ConfigRow) * (nr + 1)));
    cfg->nrules = nr;
    for (int i = 0; i < nr; ++i) {
      fraud::ConfigRow& r = cfg->rules[i];
      r.rule = TextDatumGetCString(rules[i]);
      r.enabled = DatumGetBool(enabled[i]);
      r.weight = DatumGetFloat8(weights[i]);
      r.threshold = DatumGetFloat8(thresholds[i]);
      const char* problem = nullptr;
      if (!techmart::pg::collect_numeric_params(params[i], &r.params, &problem)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid params of rule \"%s\" in a shadow configuration: %s",
                               r.rule, problem)));
      }
    }
    cfg->bias = DatumGetFloat8(v[6]);
    cfg->suspicious_threshold = DatumGetFloat8(v[7]);
    char name[64];
    text_to_cstring_buffer(DatumGetTextPP(v[0]), name, sizeof name);
    MemoryContextSwitchTo(old);
    fraud::Engine* built = nullptr;
    ErrorInfo err;
    guarded(err, "techmart: building a shadow configuration",
            [&] { built = fraud::build_engine(*cfg); });
    if (err.failed) {
      MemoryContextReset(build_ctx);
      raise(err);
    }
    strlcpy(shadows[nshadows].name, name, sizeof shadows[nshadows].name);
    shadows[nshadows].engine = built;
    ++nshadows;
  }
  MemoryContextReset(build_ctx);
}

// The token the scoring trigger read with the first query of this statement (statement_tokens).
char given_token[64] = "";
LocalTransactionId given_lxid = InvalidLocalTransactionId;
TimestampTz given_stmt = 0;

// Once per statement: the configuration token; a change reloads the shadows.
void check_token() {
  const LocalTransactionId lxid = MyProc->lxid;
  const TimestampTz stmt = GetCurrentStatementStartTimestamp();
  if (loaded && lxid == checked_lxid && stmt == checked_stmt) return;
  char now[64] = "";
  if (lxid == given_lxid && stmt == given_stmt) {
    strlcpy(now, given_token, sizeof now);
  } else {
    if (plan_token == nullptr) {
      plan_token = fraud::prepare_kept(
          "SELECT v.xmin::text || '/' || v.version FROM techmart.config_version v", 0, nullptr);
    }
    if (SPI_execute_plan(plan_token, nullptr, nullptr, true, 1) != SPI_OK_SELECT) {
      elog(ERROR, "techmart: could not read techmart.config_version");
    }
    if (SPI_processed == 1) {
      bool isnull;
      Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
      if (!isnull) text_to_cstring_buffer(DatumGetTextPP(d), now, sizeof now);
    }
  }
  if (!loaded || now[0] == '\0' || strcmp(now, token) != 0) {
    loaded = false;
    load_shadows();
    strlcpy(token, now, sizeof token);
    loaded = true;
  }
  checked_lxid = lxid;
  checked_stmt = stmt;
}

}  // namespace

void statement_tokens(const char* config_token, const char* entity_token) {
  strlcpy(given_token, config_token, sizeof given_token);
  given_lxid = MyProc->lxid;
  given_stmt = GetCurrentStatementStartTimestamp();
  checked_lxid = InvalidLocalTransactionId;  // compare it at the next shadow()
  note_entity_token(entity_token);
}

void shadow(int64 transaction_id, const core::CustomerState& state,
            const core::TransactionInput& tx, Relation rel, HeapTuple tuple, int64 customer_id,
            int64 product_id) {
  // shadow_scores reference <schema>.transactions: only rows of that table are shadowed
  if (transaction_id < 0 || !fraud::is_transactions_table(rel)) return;
  check_token();
  if (nshadows == 0) return;
  if (plan_store == nullptr) {
    Oid args[5] = {INT8OID, TEXTOID, NUMERICOID, BOOLOID, TEXTOID};
    plan_store = fraud::prepare_kept(
        "INSERT INTO techmart.shadow_scores (transaction_id, name, score, is_suspicious, reasons) "
        "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (transaction_id, name) DO UPDATE "
        "SET score = excluded.score, is_suspicious = excluded.is_suspicious, "
        "reasons = excluded.reasons, scored_at = now()",
        5, args);
  }
  for (int i = 0; i < nshadows; ++i) {
    core::TransactionInput stx = tx;
    core::EntityInput ent;
    stx.entities = observe(shadows[i].engine->scorer, rel, tuple, customer_id, product_id, tx, &ent)
                       ? &ent
                       : nullptr;
    core::CustomerState next;
    fraud::ScoreOutput out{};
    ErrorInfo err;
    MemoryContext ctx = CurrentMemoryContext;
    guarded(err, "techmart: shadow scoring",
            [&] { fraud::score_row(*shadows[i].engine, state, stx, next, out, ctx); });
    if (err.failed) raise(err);
    char score_text[32];
    snprintf(score_text, sizeof score_text, "%.2f", out.score);
    Datum v[5] = {Int64GetDatum(transaction_id), CStringGetTextDatum(shadows[i].name),
                  DirectFunctionCall3(numeric_in, CStringGetDatum(score_text),
                                      ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)),
                  BoolGetDatum(out.suspicious), CStringGetTextDatum(out.reasons_json)};
    if (SPI_execute_plan(plan_store, v, nullptr, false, 0) != SPI_OK_INSERT) {
      elog(ERROR, "techmart: could not store a shadow score");
    }
  }
}

}  // namespace techmart::pg::entity
