// techmart.score_transaction() (BEFORE INSERT FOR EACH ROW) and
// techmart.score_transaction_flush() (AFTER INSERT FOR EACH STATEMENT): the fraud engine's
// insert path (docs/fraud.md, "The insert path").
//
// Per statement, the engine keeps an in-memory cache:
//   * the configuration snapshot and the C++ Scorer built from it (read once per statement);
//   * the state of every customer the statement touched, read and locked at first touch (as
//     SELECT ... FOR UPDATE would, without the executor: native_touch.cpp), updated in memory
//     row by row, and written back once per customer
//     by the statement trigger (one UPDATE of customer_state + customers.risk_score);
//   * the products seen (list price, category) and the pending alerts.
// So a statement of N rows for one customer leaves one new version of its state row, not N.
// The cache lives in its own memory contexts, bounded by techmart.state_cache_memory (and
// techmart.state_cache_entries; when full it is written back mid-statement and emptied); a
// transaction or subtransaction abort discards it (RegisterXactCallback/RegisterSubXactCallback),
// and a commit with unwritten state is refused. A table without the statement trigger gets
// write-through (flush per row).
//
// Boundary: phases in plain C (checks, SPI) and C++ (scoring) alternate; C++ runs only under
// guarded(), errors are raised after it returns.
#include <utility>

#include "entity_glue.hpp"
#include "fraud_glue.hpp"
#include "metrics.hpp"
#include "native_touch.hpp"
#include "numeric_conv.hpp"
#include "stock_trigger.hpp"

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/plannodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(techmart_score_transaction);
PG_FUNCTION_INFO_V1(techmart_score_transaction_flush);
PGDLLEXPORT void _PG_init(void);
}

namespace core = techmart::core;
namespace fraud = techmart::pg::fraud;
namespace native = techmart::pg::native;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::numeric_to_float8;
using techmart::pg::raise;

namespace {

// ------------------------------------------------------------------------------- GUCs
bool guc_scoring = true;
int guc_cache_entries = 0;         // 0: bounded by memory only
int guc_cache_memory_kb = 131072;  // techmart.state_cache_memory (128 MB)

// ----------------------------------------------------------------------------- the cache
// A customer's state is kept in its compact form (core::compact_encode: the non-zero histogram
// bins and hours and the recent transactions only; a few hundred bytes instead of ~1.1 KB),
// decoded for the row that uses it and encoded again after.
struct StateEntry {
  int64 customer_id;  // hash key
  bool dirty;
  char home_country[3];
  uint16 size;           // bytes of the compact state
  uint16 cap;            // bytes of its block
  char risk_text[16];    // customers.risk_score as read/written (the UPDATE is skipped when equal;
                         // "": unknown, the UPDATE runs and compares with the current row)
  ItemPointerData tid;   // the state row's version locked by the touch (invalid: SPI touch)
  double registered;     // epoch seconds, NaN when unknown
  unsigned char* state;  // compact state, a block of blob_alloc()
};

struct ProductEntry {
  int64 product_id;  // hash key
  double list_price;
  int64 category_id;
};

struct PendingAlert {
  int64 transaction_id;
  int64 customer_id;
  int64 product_id;  // -1: none
  double score;
  char* reasons_json;
  char top_rules[160];
};

MemoryContext stmt_ctx = nullptr;      // configuration snapshot while the engine is built
MemoryContext entries_ctx = nullptr;   // states, alerts (reset on every write-back)
MemoryContext products_ctx = nullptr;  // products (reset at statement end or when full)
// The engine built from the configuration is kept across statements: the first touch of each
// statement reads techmart.config_version (xmin, version) in the same query that locks the
// state, and a different token rebuilds it (11-fraud-config-version.sql).
fraud::Engine* engine = nullptr;
char engine_token[64] = "";
bool stmt_active = false;          // a statement is being scored (reset by drop_statement)
bool stmt_config_checked = false;  // its configuration token was compared
Oid snapshot_nsp = InvalidOid;
// the trigger's columns, looked up once per table and kept across statements until a relcache
// invalidation of that table (ALTER TABLE ...; columns_invalidate)
Oid cols_relid = InvalidOid;
HTAB* states = nullptr;
HTAB* products = nullptr;
long nstates = 0;
long nproducts = 0;
long ndirty = 0;
StateEntry** dirty_list = nullptr;  // the ndirty dirty entries, in the order they became dirty
long dirty_cap = 0;
PendingAlert* alerts = nullptr;
int nalerts = 0, alerts_cap = 0;
int dirty_min_level = 0;         // lowest transaction nest level that dirtied an entry
bool poisoned = false;           // a subtransaction abort lost state of an outer level
bool alert_fk_deferred = false;  // SET CONSTRAINTS ... DEFERRED ran in this (sub)transaction
bool callbacks_registered = false;

// Saved plans, prepared for the schema of the table the trigger fires on.
Oid plans_nsp = InvalidOid;
SPIPlanPtr plan_touch_first = nullptr;    // state, customer, product, tokens: 1st of a statement
SPIPlanPtr plan_touch_product = nullptr;  // state, customer, product
SPIPlanPtr plan_touch = nullptr;          // state, customer
SPIPlanPtr plan_customer = nullptr;
SPIPlanPtr plan_state_create = nullptr;
SPIPlanPtr plan_product = nullptr;
SPIPlanPtr plan_write = nullptr;
SPIPlanPtr plan_write_state = nullptr;  // the state only: no customers.risk_score changed
// the same two for one state, with scalar parameters (a single-row statement builds no array)
SPIPlanPtr plan_write1 = nullptr;
SPIPlanPtr plan_write_state1 = nullptr;
// customers.risk_score alone (the states written by native::write_state)
SPIPlanPtr plan_write_risk = nullptr;
Oid state_elem_type = InvalidOid;  // techmart.customer_state (the row type)
SPIPlanPtr plan_alert = nullptr;

// Blocks of the compact states: carved from 64 kB chunks of their own context in multiples of
// 64 bytes (AllocSet would round each up to a power of 2), a freed block kept on the free list of
// its size. A state grows as rows are folded into it and then needs a larger block; when the
// blocks left behind make up a quarter of the context, the live states are copied into a fresh
// one (compact_blobs), so the memory stays within ~1.33x of the states' own size (and before the
// cache counts as full, within 1/16).
constexpr int kBlobUnit = 64;
constexpr int kBlobClasses = (core::kCompactMaxBytes + kBlobUnit - 1) / kBlobUnit;
constexpr size_t kBlobChunk = 64 * 1024;
// The first chunk of a statement fits in the 8 kB first block of blobs_ctx, later ones double up
// to kBlobChunk: a single-row statement then mallocs nothing for its one state. (A 64 kB chunk for
// it was a malloc and free per statement that moved glibc's heap top across its trim threshold:
// a brk() shrink and grow with page faults per INSERT, ~6 % of a scored single-row INSERT.)
constexpr size_t kBlobFirstChunk = 4 * 1024;
static_assert(kBlobFirstChunk >= core::kCompactMaxBytes, "a state must fit in the first chunk");
struct FreeBlob {
  FreeBlob* next;
};
MemoryContext blobs_ctx = nullptr;  // child of entries_ctx (created on demand)
FreeBlob* blob_free[kBlobClasses + 1];
char* blob_pos = nullptr;
size_t blob_left = 0;
size_t blob_next_chunk = kBlobFirstChunk;
size_t blob_carved = 0;  // bytes handed out from chunks
size_t blob_live = 0;    // of which in use

void blob_reset() {
  blobs_ctx = nullptr;
  memset(blob_free, 0, sizeof blob_free);
  blob_pos = nullptr;
  blob_left = blob_carved = blob_live = 0;
  blob_next_chunk = kBlobFirstChunk;
}

unsigned char* blob_alloc(size_t size, uint16* cap) {
  const int cls = static_cast<int>((size + kBlobUnit - 1) / kBlobUnit);
  if (cls < 1 || cls > kBlobClasses) elog(ERROR, "techmart: compact state of %zu bytes", size);
  *cap = static_cast<uint16>(cls * kBlobUnit);
  if (blob_free[cls] != nullptr) {
    FreeBlob* b = blob_free[cls];
    blob_free[cls] = b->next;
    blob_live += *cap;
    return reinterpret_cast<unsigned char*>(b);
  }
  if (blobs_ctx == nullptr) {
    blobs_ctx =
        AllocSetContextCreate(entries_ctx, "techmart compact states", ALLOCSET_DEFAULT_SIZES);
  }
  if (blob_left < *cap) {  // the rest of the chunk (< 1.1 kB) is not used
    blob_pos = static_cast<char*>(MemoryContextAlloc(blobs_ctx, blob_next_chunk));
    blob_left = blob_next_chunk;
    blob_next_chunk = std::min(blob_next_chunk * 2, kBlobChunk);
  }
  unsigned char* p = reinterpret_cast<unsigned char*>(blob_pos);
  blob_pos += *cap;
  blob_left -= *cap;
  blob_carved += *cap;
  blob_live += *cap;
  return p;
}

void blob_release(unsigned char* p, uint16 cap) {
  FreeBlob* b = reinterpret_cast<FreeBlob*>(p);
  b->next = blob_free[cap / kBlobUnit];
  blob_free[cap / kBlobUnit] = b;
  blob_live -= cap;
}

// Copies every live compact state into a fresh context and frees the old one.
void compact_blobs() {
  MemoryContext old = blobs_ctx;
  blob_reset();
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, states);
  StateEntry* e;
  while ((e = static_cast<StateEntry*>(hash_seq_search(&seq))) != nullptr) {
    uint16 cap = 0;
    unsigned char* b = blob_alloc(e->size, &cap);
    memcpy(b, e->state, e->size);
    e->state = b;
    e->cap = cap;
  }
  if (old != nullptr) MemoryContextDelete(old);
}

// Is the cache at its bound (techmart.state_cache_memory, techmart.state_cache_entries)?
bool cache_full() {
  if (states == nullptr) return false;
  if (guc_cache_entries > 0 && nstates >= guc_cache_entries) return true;
  const Size budget = static_cast<Size>(guc_cache_memory_kb) * 1024;
  if (MemoryContextMemAllocated(entries_ctx, true) < budget) return false;
  if (blob_carved - blob_live <= blob_carved / 16) return true;
  compact_blobs();  // more than 1/16 left behind by grown states: reclaim it first
  return MemoryContextMemAllocated(entries_ctx, true) >= budget;
}

void drop_entries() {
  if (entries_ctx != nullptr) MemoryContextReset(entries_ctx);  // deletes blobs_ctx
  blob_reset();
  states = nullptr;
  nstates = 0;
  ndirty = 0;
  dirty_list = nullptr;
  dirty_cap = 0;
  alerts = nullptr;
  nalerts = alerts_cap = 0;
  dirty_min_level = 0;
}

void drop_products() {
  if (products_ctx != nullptr) MemoryContextReset(products_ctx);
  products = nullptr;
  nproducts = 0;
}

void drop_statement() {
  drop_entries();
  drop_products();
  stmt_active = false;
  stmt_config_checked = false;
  snapshot_nsp = InvalidOid;
}

void drop_engine() {
  delete engine;  // noexcept destructors only
  engine = nullptr;
  engine_token[0] = '\0';
}

void xact_callback(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      if (ndirty > 0 || nalerts > 0) {
        drop_statement();
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("techmart: customer state scored in this transaction was never "
                               "written back"),
                        errhint("Is the trigger techmart.score_transaction_flush() disabled?")));
      }
      break;
    default:  // commit, abort, prepare: nothing of the cache survives its transaction
      drop_statement();
      poisoned = false;
      alert_fk_deferred = false;
      break;
  }
}

void subxact_callback(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  if (event != SUBXACT_EVENT_ABORT_SUB) return;
  // rows of the aborted subtransaction are gone: so is the cache. If it also held state
  // dirtied by an outer level, that state is lost: refuse to go on with it.
  if (ndirty > 0 && dirty_min_level < GetCurrentTransactionNestLevel()) poisoned = true;
  drop_statement();
  alert_fk_deferred = false;  // an aborted subtransaction restores the constraint modes
}

void check_not_poisoned() {
  if (poisoned) {
    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                    errmsg("techmart: customer state of this statement was lost by an aborted "
                           "subtransaction"),
                    errhint("Roll back and retry the transaction.")));
  }
}

// the relation whose columns are cached changed (or every relation: relid 0)
void columns_invalidate(Datum, Oid relid) {
  if (!OidIsValid(relid) || relid == cols_relid) cols_relid = InvalidOid;
}

// a function changed (CREATE OR REPLACE, DROP): look the flush trigger's function up again
Oid flush_fn_self = InvalidOid;  // the score_transaction function it was looked up for
void flush_fn_invalidate(Datum, int, uint32) { flush_fn_self = InvalidOid; }

void ensure_contexts() {
  if (stmt_ctx == nullptr) {
    stmt_ctx = AllocSetContextCreate(TopMemoryContext, "techmart statement config",
                                     ALLOCSET_DEFAULT_SIZES);
    entries_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart state cache", ALLOCSET_DEFAULT_SIZES);
    products_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart product cache", ALLOCSET_DEFAULT_SIZES);
  }
  if (!callbacks_registered) {
    RegisterXactCallback(xact_callback, nullptr);
    RegisterSubXactCallback(subxact_callback, nullptr);
    CacheRegisterRelcacheCallback(columns_invalidate, 0);
    CacheRegisterSyscacheCallback(PROCOID, flush_fn_invalidate, 0);
    callbacks_registered = true;
  }
}

void ensure_tables() {
  HASHCTL ctl;
  memset(&ctl, 0, sizeof ctl);
  ctl.keysize = sizeof(int64);
  if (states == nullptr) {
    ctl.entrysize = sizeof(StateEntry);
    ctl.hcxt = entries_ctx;
    states = hash_create("techmart states", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
  if (products != nullptr &&  // bounded: by the entry count or an eighth of the state's memory
      ((guc_cache_entries > 0 && nproducts >= guc_cache_entries) ||
       MemoryContextMemAllocated(products_ctx, true) >=
           static_cast<Size>(guc_cache_memory_kb) * 1024 / 8)) {
    drop_products();
  }
  if (products == nullptr) {
    ctl.entrysize = sizeof(ProductEntry);
    ctl.hcxt = products_ctx;
    products = hash_create("techmart products", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  }
}

void exec_plan(SPIPlanPtr plan, Datum* values, const char* nulls, int expected_rc, long limit) {
  const int rc = SPI_execute_plan(plan, values, nulls, false, limit);
  if (rc != expected_rc) {
    elog(ERROR, "techmart: SPI_execute_plan returned %s", SPI_result_code_string(rc));
  }
}

void prepare_plans(Oid nsp) {
  if (plans_nsp == nsp && plan_write != nullptr) return;
  const char* nspname = get_namespace_name(nsp);
  if (nspname == nullptr) elog(ERROR, "techmart: schema %u does not exist", nsp);
  const char* q = quote_identifier(nspname);
  Oid int8_arg[2] = {INT8OID, INT8OID};
  // one query per first touch of a customer: the state (locked) and the customer; with the
  // product when it is not cached yet; the first of a statement also reads the configuration
  // and entity counter tokens (compared once per statement: 11-fraud-config-version.sql,
  // entity.cpp, entity_shadow.cpp)
  const char* touch_sql = "SELECT " TECHMART_STATE_COLUMNS
                          ", c.country::text, c.registration_date, "
                          "c.risk_score::text%s FROM techmart.customer_state s JOIN %s.customers c "
                          "ON c.id = s.customer_id%s WHERE s.customer_id = $1 FOR UPDATE OF s";
  const char* product_cols = ", p.price::float8, p.category_id, p.id IS NOT NULL";
  const char* product_join = psprintf(" LEFT JOIN %s.products p ON p.id = $2", q);
  SPIPlanPtr touch_first = fraud::prepare_kept(
      psprintf(touch_sql,
               psprintf("%s, (SELECT v.xmin::text || '/' || v.version FROM "
                        "techmart.config_version v), (SELECT e.xmin::text || '/' || e.version "
                        "FROM techmart.entity_version e)",
                        product_cols),
               q, product_join),
      2, int8_arg);
  SPIPlanPtr touch_product =
      fraud::prepare_kept(psprintf(touch_sql, product_cols, q, product_join), 2, int8_arg);
  SPIPlanPtr touch = fraud::prepare_kept(psprintf(touch_sql, "", q, ""), 1, int8_arg);
  SPIPlanPtr customer =
      fraud::prepare_kept(psprintf("SELECT 1 FROM %s.customers WHERE id = $1", q), 1, int8_arg);
  SPIPlanPtr create = fraud::prepare_kept(
      "INSERT INTO techmart.customer_state (customer_id) VALUES ($1) "
      "ON CONFLICT (customer_id) DO NOTHING",
      1, int8_arg);
  SPIPlanPtr product = fraud::prepare_kept(
      psprintf("SELECT price::float8, category_id FROM %s.products WHERE id = $1", q), 1, int8_arg);
  // the write-back: every dirty state of a flush in one UPDATE ... FROM unnest(), in order of
  // customer id, with the customers whose risk_score changed at 2 decimals
  Oid state_elem = InvalidOid;
  const Oid state_array = fraud::state_array_type(&state_elem);
  Oid wargs[3] = {state_array, INT8ARRAYOID, NUMERICARRAYOID};
  SPIPlanPtr write = fraud::prepare_kept(
      psprintf("WITH s AS (UPDATE techmart.customer_state t SET %s FROM unnest($1) u "
               "WHERE t.customer_id = u.customer_id RETURNING 1), "
               "c AS (UPDATE %s.customers c SET risk_score = r.risk "
               "FROM unnest($2, $3) r(id, risk) "
               "WHERE c.id = r.id AND c.risk_score IS DISTINCT FROM r.risk RETURNING 1) "
               "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM c)",
               fraud::kStateSetFromList, q),
      3, wargs, true);
  SPIPlanPtr write_state =
      fraud::prepare_kept(psprintf("UPDATE techmart.customer_state t SET %s FROM unnest($1) u "
                                   "WHERE t.customer_id = u.customer_id",
                                   fraud::kStateSetFromList),
                          1, wargs, true);
  Oid wargs1[18] = {INT8OID,        INT8OID,        FLOAT8OID,      FLOAT8OID, INT4ARRAYOID,
                    FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, FLOAT8OID, TIMESTAMPTZOID,
                    NUMERICOID,     FLOAT8OID,      FLOAT8OID,      TEXTOID,   INT4OID,
                    FLOAT8OID,      FLOAT8OID,      NUMERICOID};
  SPIPlanPtr write1 = fraud::prepare_kept(
      psprintf("WITH s AS (UPDATE techmart.customer_state SET %s WHERE customer_id = $1 "
               "RETURNING 1), "
               "c AS (UPDATE %s.customers SET risk_score = $18 "
               "WHERE id = $1 AND risk_score IS DISTINCT FROM $18 RETURNING 1) "
               "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM c)",
               fraud::kStateSetList, q),
      18, wargs1);
  SPIPlanPtr write_state1 =
      fraud::prepare_kept(psprintf("UPDATE techmart.customer_state SET %s WHERE customer_id = $1",
                                   fraud::kStateSetList),
                          17, wargs1);
  SPIPlanPtr write_risk = fraud::prepare_kept(
      psprintf("UPDATE %s.customers c SET risk_score = r.risk FROM unnest($1, $2) r(id, risk) "
               "WHERE c.id = r.id AND c.risk_score IS DISTINCT FROM r.risk",
               q),
      2, wargs + 1, true);
  Oid aargs[6] = {TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID};
  SPIPlanPtr alert = fraud::prepare_kept(
      psprintf("INSERT INTO %s.alerts (type, severity, message, transaction_id, customer_id, "
               "product_id, metadata) VALUES ('fraud', $1, $2, $3, $4, $5, $6::jsonb)",
               q),
      6, aargs);
  for (SPIPlanPtr* p : {&plan_touch_first, &plan_touch_product, &plan_touch, &plan_customer,
                        &plan_state_create, &plan_product, &plan_write, &plan_write_state,
                        &plan_write1, &plan_write_state1, &plan_write_risk, &plan_alert}) {
    if (*p != nullptr) SPI_freeplan(*p);
  }
  plan_touch_first = touch_first;
  plan_touch_product = touch_product;
  plan_touch = touch;
  plan_customer = customer;
  plan_state_create = create;
  plan_product = product;
  plan_write = write;
  plan_write_state = write_state;
  plan_write1 = write1;
  plan_write_state1 = write_state1;
  plan_write_risk = write_risk;
  plan_alert = alert;
  state_elem_type = state_elem;
  plans_nsp = nsp;
}

const char* severity_of(double score) {
  if (score >= 95) return "critical";
  if (score >= 85) return "high";
  if (score >= 75) return "medium";
  return "low";
}

int compare_entries(const void* a, const void* b) {
  const int64 x = (*static_cast<StateEntry* const*>(a))->customer_id;
  const int64 y = (*static_cast<StateEntry* const*>(b))->customer_id;
  return x < y ? -1 : (x > y ? 1 : 0);
}

// The SPI UPDATE of the n states of ids/sts, with the nrisk customers.risk_score of
// risk_ids/risk_values (n == 1: risk_values[0] is that customer's). Plain C, SPI connected.
void write_states_spi(const int64* ids, const core::CustomerState** sts, int n, int nrisk,
                      Datum* risk_ids, Datum* risk_values) {
  if (n == 0) return;
  uint64 written = 0;
  if (n == 1) {  // scalar parameters
    Datum v[18];
    char nulls[19];
    v[0] = Int64GetDatum(ids[0]);
    nulls[0] = ' ';
    fraud::encode_state(*sts[0], &v[1], &nulls[1]);
    nulls[17] = '\0';
    if (nrisk > 0) {
      v[17] = risk_values[0];
      nulls[17] = ' ';
      nulls[18] = '\0';
      exec_plan(plan_write1, v, nulls, SPI_OK_SELECT, 0);
      bool isnull = true;
      if (SPI_processed == 1) {
        written =
            DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
      }
    } else {
      exec_plan(plan_write_state1, v, nulls, SPI_OK_UPDATE, 0);
      written = SPI_processed;
    }
  } else if (nrisk > 0) {
    Datum v[3];
    v[0] = fraud::make_state_array(state_elem_type, n, ids, sts);
    v[1] = PointerGetDatum(
        construct_array(risk_ids, nrisk, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    v[2] =
        PointerGetDatum(construct_array(risk_values, nrisk, NUMERICOID, -1, false, TYPALIGN_INT));
    exec_plan(plan_write, v, nullptr, SPI_OK_SELECT, 0);
    bool isnull = true;
    if (SPI_processed == 1) {
      written =
          DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
  } else {
    Datum v[1] = {fraud::make_state_array(state_elem_type, n, ids, sts)};
    exec_plan(plan_write_state, v, nullptr, SPI_OK_UPDATE, 0);
    written = SPI_processed;
  }
  if (written != static_cast<uint64>(n)) {
    elog(ERROR, "techmart: %llu of %d customer_state rows written back (rows vanished?)",
         static_cast<unsigned long long>(written), n);
  }
}

// Writes states [0, n) of `dirty` and the changed customers.risk_score. A state locked by the
// native touch is written by native::write_state() (heap_update of the locked version, no
// executor); the others (SPI touch, or a table the native write does not handle) with one SPI
// UPDATE, together with the risk scores, as before. The state rows are locked by this transaction
// since their first touch, so every one of them must be updated. Plain C, SPI connected, in a
// temporary memory context.
void write_chunk(StateEntry** dirty, int n) {
  int64* ids = static_cast<int64*>(palloc(sizeof(int64) * n));
  const core::CustomerState** sts =
      static_cast<const core::CustomerState**>(palloc(sizeof(core::CustomerState*) * n));
  char(*risk)[16] = static_cast<char(*)[16]>(palloc(16 * n));
  bool* changed = static_cast<bool*>(palloc(sizeof(bool) * n));
  Datum* risk_ids = static_cast<Datum*>(palloc(sizeof(Datum) * n));
  Datum* risk_values = static_cast<Datum*>(palloc(sizeof(Datum) * n));
  core::CustomerState* decoded =
      static_cast<core::CustomerState*>(palloc(sizeof(core::CustomerState) * n));
  for (int i = 0; i < n; ++i) new (&decoded[i]) core::CustomerState();
  int nrisk = 0;
  for (int i = 0; i < n; ++i) {
    ids[i] = dirty[i]->customer_id;
    core::compact_decode(dirty[i]->state, decoded[i]);
    sts[i] = &decoded[i];
    fraud::risk_text(decoded[i], engine->params, risk[i], sizeof risk[i]);
    changed[i] = strcmp(risk[i], dirty[i]->risk_text) != 0;  // unchanged at 2 decimals: skipped
    if (changed[i]) {
      risk_ids[nrisk] = Int64GetDatum(ids[i]);
      risk_values[nrisk++] = DirectFunctionCall3(numeric_in, CStringGetDatum(risk[i]),
                                                 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
    }
  }
  // each state locked by the native touch: written without the executor (native::write_state)
  int rest = 0;  // the others, moved to the front of ids/sts/dirty, by the SPI UPDATE below
  for (int i = 0; i < n; ++i) {
    bool done = false;
    if (ItemPointerIsValid(&dirty[i]->tid)) {
      Datum v[fraud::kStateParams];
      char nulls[fraud::kStateParams];
      fraud::encode_state(*sts[i], v, nulls);
      done = native::write_state(ids[i], dirty[i]->tid, v, nulls);
    }
    if (!done) {
      ids[rest] = ids[i];
      sts[rest] = sts[i];
      std::swap(dirty[rest], dirty[i]);  // dirty[rest..i] are all written: any order
      std::swap(changed[rest], changed[i]);
      std::swap(risk[rest], risk[i]);
      ++rest;
    }
  }
  if (rest < n) {     // customers.risk_score alone, then the states left, if any
    if (nrisk > 0) {  // without the executor where native::write_risks can, the rest by SPI
      int64* rids = static_cast<int64*>(palloc(sizeof(int64) * nrisk));
      bool* rdone = static_cast<bool*>(palloc(sizeof(bool) * nrisk));
      for (int k = 0; k < nrisk; ++k) rids[k] = DatumGetInt64(risk_ids[k]);
      native::write_risks(rids, risk_values, nrisk, rdone);
      int left = 0;
      for (int k = 0; k < nrisk; ++k) {
        if (rdone[k]) continue;
        risk_ids[left] = risk_ids[k];
        risk_values[left++] = risk_values[k];
      }
      nrisk = left;
    }
    if (nrisk > 0) {
      Datum v[2] = {PointerGetDatum(construct_array(risk_ids, nrisk, INT8OID, 8, FLOAT8PASSBYVAL,
                                                    TYPALIGN_DOUBLE)),
                    PointerGetDatum(
                        construct_array(risk_values, nrisk, NUMERICOID, -1, false, TYPALIGN_INT))};
      exec_plan(plan_write_risk, v, nullptr, SPI_OK_UPDATE, 0);
      nrisk = 0;
    }
    write_states_spi(ids, sts, rest, 0, nullptr, nullptr);
  } else {
    write_states_spi(ids, sts, n, nrisk, risk_ids, risk_values);
  }
  for (int i = 0; i < n; ++i) {
    if (changed[i]) strlcpy(dirty[i]->risk_text, risk[i], sizeof dirty[i]->risk_text);
    dirty[i]->dirty = false;
  }
}

// Writes every dirty state back in order of customer id, kWriteBatch states per UPDATE (the
// array parameter of one statement stays a few MB however large techmart.state_cache_entries).
constexpr int kWriteBatch = 4096;

void write_states() {
  MemoryContext tmp =
      AllocSetContextCreate(CurrentMemoryContext, "techmart write-back", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(tmp);
  StateEntry** dirty = static_cast<StateEntry**>(palloc(sizeof(StateEntry*) * ndirty));
  const int nd = static_cast<int>(ndirty);
  memcpy(dirty, dirty_list, sizeof(StateEntry*) * nd);
  if (nd > 1) qsort(dirty, nd, sizeof(StateEntry*), compare_entries);
  MemoryContext chunk_ctx =
      AllocSetContextCreate(tmp, "techmart write-back batch", ALLOCSET_DEFAULT_SIZES);
  for (int from = 0; from < nd; from += kWriteBatch) {
    MemoryContextSwitchTo(chunk_ctx);
    write_chunk(dirty + from, std::min(kWriteBatch, nd - from));
    MemoryContextReset(chunk_ctx);
  }
  ndirty = 0;
  MemoryContextSwitchTo(old);
  MemoryContextDelete(tmp);
}

// Writes every dirty state and every pending alert, then empties the entries (SPI connected).
void write_back() {
  check_not_poisoned();
  if (states != nullptr) {
    elog(DEBUG1, "techmart: writing back the state cache: %ld customers (%ld changed), %zu bytes",
         nstates, ndirty, static_cast<size_t>(MemoryContextMemAllocated(entries_ctx, true)));
  }
  if (states != nullptr && ndirty > 0) write_states();
  for (int i = 0; i < nalerts; ++i) {
    const PendingAlert& a = alerts[i];
    char* msg =
        psprintf("Transaction %lld of customer %lld scored %.2f: %s",
                 static_cast<long long>(a.transaction_id), static_cast<long long>(a.customer_id),
                 a.score, a.top_rules[0] ? a.top_rules : "no single rule stands out");
    char* meta = psprintf(
        "{\"score\": %.2f, \"threshold\": %.2f, \"reasons\": %s, \"links\": {\"transaction\": "
        "\"/api/v1/transactions/%lld\", \"customer\": \"/api/v1/customers/%lld\", "
        "\"explain\": \"SELECT * FROM techmart.explain(%lld)\"}}",
        a.score, engine ? engine->suspicious_threshold : 0.0, a.reasons_json,
        static_cast<long long>(a.transaction_id), static_cast<long long>(a.customer_id),
        static_cast<long long>(a.transaction_id));
    Datum v[6] = {CStringGetTextDatum(severity_of(a.score)),
                  CStringGetTextDatum(msg),
                  Int64GetDatum(a.transaction_id),
                  Int64GetDatum(a.customer_id),
                  Int64GetDatum(a.product_id),
                  CStringGetTextDatum(meta)};
    char nulls[7] = {' ', ' ', ' ', ' ', a.product_id < 0 ? 'n' : ' ', ' ', '\0'};
    exec_plan(plan_alert, v, nulls, SPI_OK_INSERT, 0);
  }
  drop_entries();
}

// Write-through mode (no statement trigger): the alert is written from the BEFORE ROW trigger,
// before its row exists. The foreign key alerts_transaction_id_fkey (DEFERRABLE, sqitch change
// fraud_alerts_fk) is then checked at commit for the rest of this transaction. SPI connected.
void defer_alert_fk(Oid nsp) {
  if (alert_fk_deferred) return;
  const char* q = quote_identifier(get_namespace_name(nsp));
  if (SPI_execute(psprintf("SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = "
                           "to_regclass('%s.alerts') AND conname = 'alerts_transaction_id_fkey' "
                           "AND condeferrable",
                           q),
                  true, 1) != SPI_OK_SELECT) {
    elog(ERROR, "techmart: could not read the constraints of alerts");
  }
  if (SPI_processed == 1 &&
      SPI_execute(psprintf("SET CONSTRAINTS %s.alerts_transaction_id_fkey DEFERRED", q), false,
                  0) != SPI_OK_UTILITY) {
    elog(ERROR, "techmart: SET CONSTRAINTS failed");
  }
  alert_fk_deferred = true;
}

// Is the statement trigger attached (and enabled) on this table?
Oid flush_fn_oid = InvalidOid;  // looked up for flush_fn_self, kept until a pg_proc change

Oid lookup_flush_fn(Oid self_fn) {
  Oid nsp = get_func_namespace(self_fn);
  List* name = list_make2(makeString(get_namespace_name(nsp)),
                          makeString(pstrdup("score_transaction_flush")));
  return LookupFuncName(name, 0, nullptr, true);
}

bool has_flush_trigger(Relation rel, Oid self_fn) {
  TriggerDesc* td = rel->trigdesc;
  if (td == nullptr) return false;
  if (flush_fn_self != self_fn || !OidIsValid(flush_fn_oid)) {
    flush_fn_oid = lookup_flush_fn(self_fn);
    flush_fn_self = self_fn;
  }
  const Oid flush_fn = flush_fn_oid;
  if (!OidIsValid(flush_fn)) return false;
  for (int i = 0; i < td->numtriggers; ++i) {
    const Trigger& t = td->triggers[i];
    if (t.tgfoid == flush_fn && t.tgenabled != TRIGGER_DISABLED && TRIGGER_FOR_AFTER(t.tgtype) &&
        !TRIGGER_FOR_ROW(t.tgtype) && TRIGGER_FOR_INSERT(t.tgtype)) {
      return true;
    }
  }
  return false;
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
  kId,  // optional from here on
  kProductId,
  kCountry,
  kLatitude,
  kLongitude,
  kMethod,
  kNCols
};
constexpr int kRequired = kId;

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
                                         {"is_suspicious", BOOLOID},
                                         {"id", INT8OID},
                                         {"product_id", INT8OID},
                                         {"country", BPCHAROID},
                                         {"latitude", FLOAT8OID},
                                         {"longitude", FLOAT8OID},
                                         {"payment_method", TEXTOID}};

struct Columns {
  int attnum[kNCols];  // 0: absent (optional columns only)
  int32 typmod[kNCols];
};

void lookup_columns(Relation rel, Columns* cols) {
  TupleDesc tupdesc = RelationGetDescr(rel);
  for (int i = 0; i < kNCols; ++i) {
    const int attnum = SPI_fnumber(tupdesc, kColumns[i].name);
    if (attnum <= 0) {
      if (i >= kRequired) {
        cols->attnum[i] = 0;
        cols->typmod[i] = -1;
        continue;
      }
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("techmart.score_transaction: relation \"%s\" has no column \"%s\"",
                             RelationGetRelationName(rel), kColumns[i].name)));
    }
    Form_pg_attribute attr = TupleDescAttr(tupdesc, attnum - 1);
    int32 typmod = attr->atttypmod;
    const Oid base = getBaseTypeAndTypmod(attr->atttypid, &typmod);
    const bool ok =
        base == kColumns[i].type || (i == kCountry && (base == TEXTOID || base == VARCHAROID));
    if (!ok) {
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

ProductEntry* enter_product(int64 product_id, bool null_price, Datum price, bool null_cat,
                            Datum cat) {
  bool found = false;
  ProductEntry* p =
      static_cast<ProductEntry*>(hash_search(products, &product_id, HASH_ENTER, &found));
  if (!found) ++nproducts;
  p->list_price = null_price ? std::numeric_limits<double>::quiet_NaN() : DatumGetFloat8(price);
  p->category_id = null_cat ? -1 : DatumGetInt64(cat);
  return p;
}

void product_missing(Relation rel, const Columns& cols, int64 product_id) {
  ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                  errmsg("product %lld does not exist", static_cast<long long>(product_id)),
                  errtablecol(rel, cols.attnum[kProductId])));
}

// touch_customer() by one SPI query (the tables are not what native_touch.cpp expects).
void touch_customer_spi(Relation rel, const Columns& cols, int64 customer_id, int64 product_id,
                        bool want_product, bool want_tokens, char* token, char* entity_token,
                        size_t token_size, fraud::RawState* raw, char* risk_text, char* home,
                        double* registered) {
  Datum key[2] = {Int64GetDatum(customer_id), Int64GetDatum(product_id)};
  const char key_nulls[3] = {' ', want_product ? ' ' : 'n', '\0'};
  SPIPlanPtr touch = want_tokens    ? plan_touch_first
                     : want_product ? plan_touch_product
                                    : plan_touch;
  exec_plan(touch, key, key_nulls, SPI_OK_SELECT, 1);
  if (SPI_processed == 0) {
    exec_plan(plan_customer, key, nullptr, SPI_OK_SELECT, 1);
    if (SPI_processed == 0) {
      ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                      errmsg("customer %lld does not exist", static_cast<long long>(customer_id)),
                      errtablecol(rel, cols.attnum[kCustomerId])));
    }
    // ON CONFLICT waits for a concurrent creator, so the second SELECT ... FOR UPDATE sees it
    exec_plan(plan_state_create, key, nullptr, SPI_OK_INSERT, 0);
    exec_plan(touch, key, key_nulls, SPI_OK_SELECT, 1);
    if (SPI_processed == 0) {
      elog(ERROR, "techmart: state row of customer %lld vanished", (long long)customer_id);
    }
  }
  HeapTuple tup = SPI_tuptable->vals[0];
  TupleDesc desc = SPI_tuptable->tupdesc;
  fraud::decode_state(tup, desc, 1, raw);
  bool null_country, null_reg, null_risk;
  Datum country = SPI_getbinval(tup, desc, fraud::kStateColumns + 1, &null_country);
  Datum reg = SPI_getbinval(tup, desc, fraud::kStateColumns + 2, &null_reg);
  Datum risk = SPI_getbinval(tup, desc, fraud::kStateColumns + 3, &null_risk);
  if (want_product || want_tokens) {  // the product columns (NULL when $2 was NULL)
    bool null_price, null_cat, null_found;
    Datum price = SPI_getbinval(tup, desc, fraud::kStateColumns + 4, &null_price);
    Datum cat = SPI_getbinval(tup, desc, fraud::kStateColumns + 5, &null_cat);
    Datum pfound = SPI_getbinval(tup, desc, fraud::kStateColumns + 6, &null_found);
    if (want_product) {
      if (null_found || !DatumGetBool(pfound)) product_missing(rel, cols, product_id);
      enter_product(product_id, null_price, price, null_cat, cat);
    }
  }
  if (want_tokens) {
    bool null_token, null_etoken;
    Datum tok = SPI_getbinval(tup, desc, fraud::kStateColumns + 7, &null_token);
    Datum etok = SPI_getbinval(tup, desc, fraud::kStateColumns + 8, &null_etoken);
    strlcpy(token, null_token ? "" : TextDatumGetCString(tok), token_size);
    strlcpy(entity_token, null_etoken ? "" : TextDatumGetCString(etok), token_size);
  }
  // risk_text stays "" (unknown): under READ COMMITTED, FOR UPDATE OF s re-reads the state row's
  // latest version after a wait, but the customers row it joins keeps the version of the
  // query's snapshot, whose risk_score a transaction that held the lock may have changed
  // (native_touch.cpp, lock_state). The write-back's UPDATE compares with the current row instead.
  (void)risk;
  (void)null_risk;
  risk_text[0] = '\0';
  if (!null_country) strlcpy(home, TextDatumGetCString(country), 3);
  if (!null_reg) *registered = fraud::ts_to_epoch(DatumGetTimestampTz(reg));
}

// First touch of a customer in this statement: lock (create) the state row, read it, the
// customer's home country, registration date and risk_score, the product (product_id >= 0 and
// not cached yet) and the configuration tokens. Without the executor (native_touch.cpp) when
// the tables are the expected ones, else one SPI query. Plain C, SPI connected.
StateEntry* touch_customer(Relation rel, const Columns& cols, int64 customer_id, int64 product_id,
                           bool want_tokens, char* token, char* entity_token, size_t token_size) {
  bool found = false;
  StateEntry* e = static_cast<StateEntry*>(hash_search(states, &customer_id, HASH_FIND, &found));
  if (found) return e;
  bool want_product = false;
  if (product_id >= 0) hash_search(products, &product_id, HASH_FIND, &want_product);
  want_product = product_id >= 0 && !want_product;

  fraud::RawState raw;
  char risk_text[16] = "";
  char home[3] = {0, 0, 0};
  double registered = std::numeric_limits<double>::quiet_NaN();
  ItemPointerData tid;
  ItemPointerSetInvalid(&tid);
  const Oid nsp = RelationGetNamespace(rel);
  native::Touch* nt = static_cast<native::Touch*>(palloc(sizeof(native::Touch)));
  native::TouchResult nr =
      native::touch(nsp, customer_id, want_product ? product_id : -1, want_tokens, nt);
  if (nr == native::TouchResult::kNoState) {
    // ON CONFLICT waits for a concurrent creator, so the next touch finds and locks the row
    Datum key[1] = {Int64GetDatum(customer_id)};
    exec_plan(plan_state_create, key, nullptr, SPI_OK_INSERT, 0);
    nr = native::touch(nsp, customer_id, want_product ? product_id : -1, want_tokens, nt);
    if (nr == native::TouchResult::kNoState) {
      elog(ERROR, "techmart: state row of customer %lld vanished", (long long)customer_id);
    }
  }
  if (nr == native::TouchResult::kNoCustomer) {
    ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                    errmsg("customer %lld does not exist", static_cast<long long>(customer_id)),
                    errtablecol(rel, cols.attnum[kCustomerId])));
  }
  if (nr == native::TouchResult::kOk) {
    raw = nt->state;
    memcpy(risk_text, nt->risk_text, sizeof risk_text);
    memcpy(home, nt->home_country, sizeof home);
    if (nt->has_registered) registered = fraud::ts_to_epoch(nt->registered);
    tid = nt->tid;
    if (want_product) {
      if (!nt->product_found) product_missing(rel, cols, product_id);
      enter_product(product_id, nt->null_price, Float8GetDatum(nt->price), nt->null_category,
                    Int64GetDatum(nt->category_id));
    }
    if (want_tokens) {
      strlcpy(token, nt->token, token_size);
      strlcpy(entity_token, nt->entity_token, token_size);
    }
  } else {  // kUnavailable: one SPI query
    touch_customer_spi(rel, cols, customer_id, product_id, want_product, want_tokens, token,
                       entity_token, token_size, &raw, risk_text, home, &registered);
  }
  pfree(nt);

  unsigned char compact[core::kCompactMaxBytes];
  size_t size = 0;
  ErrorInfo err;
  guarded(err, "techmart.score_transaction",
          [&] { size = core::compact_encode(fraud::to_core(raw, customer_id), compact); });
  if (err.failed) raise(err);

  uint16 cap = 0;
  unsigned char* blob = blob_alloc(size, &cap);
  memcpy(blob, compact, size);
  e = static_cast<StateEntry*>(hash_search(states, &customer_id, HASH_ENTER, &found));
  e->dirty = false;
  memcpy(e->home_country, home, sizeof home);
  memcpy(e->risk_text, risk_text, sizeof risk_text);
  e->registered = registered;
  e->tid = tid;
  e->state = blob;
  e->size = static_cast<uint16>(size);
  e->cap = cap;
  ++nstates;
  return e;
}

ProductEntry* touch_product(Relation rel, const Columns& cols, int64 product_id) {
  bool found = false;
  ProductEntry* p =
      static_cast<ProductEntry*>(hash_search(products, &product_id, HASH_FIND, &found));
  if (found) return p;
  native::Touch* nt = static_cast<native::Touch*>(palloc(sizeof(native::Touch)));
  if (native::product(RelationGetNamespace(rel), product_id, nt) == native::TouchResult::kOk) {
    if (!nt->product_found) product_missing(rel, cols, product_id);
    p = enter_product(product_id, nt->null_price, Float8GetDatum(nt->price), nt->null_category,
                      Int64GetDatum(nt->category_id));
    pfree(nt);
    return p;
  }
  pfree(nt);
  Datum key[1] = {Int64GetDatum(product_id)};
  exec_plan(plan_product, key, nullptr, SPI_OK_SELECT, 1);
  if (SPI_processed == 0) product_missing(rel, cols, product_id);
  bool null_price, null_cat;
  Datum price = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_price);
  Datum cat = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &null_cat);
  return enter_product(product_id, null_price, price, null_cat, cat);
}

// (Re)builds the engine from the configuration tables when the token read with the first touch
// of the statement differs from the one it was built with.
void check_config(const char* token) {
  stmt_config_checked = true;
  if (engine != nullptr && token[0] != '\0' && strcmp(token, engine_token) == 0) return;
  drop_engine();
  MemoryContextReset(stmt_ctx);
  MemoryContext old = MemoryContextSwitchTo(stmt_ctx);
  fraud::ConfigSnapshot* cfg =
      static_cast<fraud::ConfigSnapshot*>(palloc0(sizeof(fraud::ConfigSnapshot)));
  fraud::load_config(cfg);
  MemoryContextSwitchTo(old);
  fraud::Engine* built = nullptr;
  ErrorInfo err;
  guarded(err, "techmart.score_transaction: building the rules from techmart.rule_config",
          [&] { built = fraud::build_engine(*cfg); });
  MemoryContextReset(stmt_ctx);  // the engine holds its own copies
  if (err.failed) raise(err);
  engine = built;
  strlcpy(engine_token, token, sizeof engine_token);
}

// ------------------------------------------------------------- INSERT ... ON CONFLICT guard
// A BEFORE ROW trigger runs before the executor's conflict check: the engine scores a proposed row
// that ON CONFLICT DO NOTHING then skips (or DO UPDATE turns into an update of the existing row),
// and the customer's state, the shadow scores and the alerts would count a transaction that was
// never inserted. So an INSERT ... ON CONFLICT (also inside a WITH) into a table whose enabled row
// trigger is this engine's is refused at executor start, while scoring is on (techmart.scoring =
// off only validates: nothing to count). The hook is installed when the library is loaded: with
// techmart in shared_preload_libraries (as ./techmart configures its clusters) from the backend's
// first statement on; otherwise from the statement after the one that loaded it.
ExecutorStart_hook_type prev_executor_start = nullptr;

// Is one of rel's enabled BEFORE INSERT FOR EACH ROW triggers techmart_score_transaction?
bool scored_by_engine(Relation rel) {
  const TriggerDesc* td = rel->trigdesc;
  if (td == nullptr || !td->trig_insert_before_row) return false;
  for (int i = 0; i < td->numtriggers; ++i) {
    const Trigger* t = &td->triggers[i];
    if (!TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_BEFORE(t->tgtype) ||
        !TRIGGER_FOR_INSERT(t->tgtype) || t->tgenabled == TRIGGER_DISABLED) {
      continue;
    }
    if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA
            ? t->tgenabled == TRIGGER_FIRES_ON_ORIGIN
            : t->tgenabled == TRIGGER_FIRES_ON_REPLICA) {
      continue;
    }
    FmgrInfo f;
    fmgr_info(t->tgfoid, &f);
    if (f.fn_addr == techmart_score_transaction) return true;
  }
  return false;
}

void check_on_conflict(const PlannedStmt* ps, const Plan* plan) {
  if (plan == nullptr || !IsA(plan, ModifyTable)) return;
  const auto* mt = reinterpret_cast<const ModifyTable*>(plan);
  if (mt->operation != CMD_INSERT || mt->onConflictAction == ONCONFLICT_NONE) return;
  // the target as written (a partitioned table's row triggers are defined on it too)
  const Index rti = mt->rootRelation != 0 ? mt->rootRelation : linitial_int(mt->resultRelations);
  const Oid relid = rt_fetch(rti, ps->rtable)->relid;
  Relation rel = table_open(relid, NoLock);  // locked by the executor's range table already
  const bool scored = scored_by_engine(rel);
  char name[NAMEDATALEN];
  strlcpy(name, RelationGetRelationName(rel), sizeof name);
  table_close(rel, NoLock);
  if (scored) {
    ereport(
        ERROR,
        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
         errmsg("INSERT ... ON CONFLICT into \"%s\" is not supported while techmart scores it",
                name),
         errdetail("The fraud engine scores each proposed row before the conflict check, so a row "
                   "that ON CONFLICT skips or turns into an update would still count in its "
                   "customer's state, the shadow scores and the alerts."),
         errhint("Insert only the new rows (INSERT ... SELECT ... WHERE NOT EXISTS), or SET "
                 "techmart.scoring = off for the load and CALL techmart.rescore(...) and "
                 "SELECT techmart.rebuild_state() afterwards.")));
  }
}

void guard_executor_start(QueryDesc* qd, int eflags) {
  const PlannedStmt* ps = qd->plannedstmt;
  if (guc_scoring && ps != nullptr && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
      (ps->commandType == CMD_INSERT || ps->hasModifyingCTE)) {
    check_on_conflict(ps, ps->planTree);
    ListCell* lc;
    foreach (lc, ps->subplans) check_on_conflict(ps, static_cast<const Plan*>(lfirst(lc)));
  }
  if (prev_executor_start != nullptr) {
    prev_executor_start(qd, eflags);
  } else {
    standard_ExecutorStart(qd, eflags);
  }
}

}  // namespace

extern "C" PGDLLEXPORT void _PG_init(void) {
  DefineCustomBoolVariable("techmart.scoring",
                           "Score inserted transactions (off: validate and fill amount only)",
                           "SET techmart.scoring = off for a bulk historical load, then SELECT "
                           "techmart.rebuild_state(). Superusers only, or a role granted SET ON "
                           "PARAMETER techmart.scoring: any session could otherwise insert "
                           "unscored transactions.",
                           &guc_scoring, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("techmart.state_cache_memory",
                          "Memory for the customer states one statement keeps before writing "
                          "them back mid-statement",
                          "About 0.4-1.1 kB per customer (docs/fraud.md).", &guc_cache_memory_kb,
                          131072, 1024, 4 * 1024 * 1024, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable(
      "techmart.state_cache_entries",
      "Customers whose state one statement keeps in memory before writing "
      "them back mid-statement (0: bounded by techmart.state_cache_memory only)",
      nullptr, &guc_cache_entries, 0, 0, 10000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  techmart::pg::stock::define_gucs();  // techmart.track_stock, techmart.actor (stock_trigger.cpp)
  MarkGUCPrefixReserved("techmart");
  techmart::pg::metrics::init();  // scoring latency histogram (shared memory when preloaded)
  prev_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = guard_executor_start;
}

extern "C" PGDLLEXPORT Datum techmart_score_transaction_flush(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("techmart.score_transaction_flush: not called by the trigger manager")));
  }
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_AFTER(td->tg_event) || TRIGGER_FIRED_FOR_ROW(td->tg_event)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("techmart.score_transaction_flush must be fired AFTER ... FOR EACH "
                           "STATEMENT")));
  }
  check_not_poisoned();
  if (ndirty > 0 || nalerts > 0) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
    prepare_plans(snapshot_nsp);
    write_back();
    SPI_finish();
  }
  drop_statement();
  return PointerGetDatum(nullptr);
}

// fraud_score as numeric_in(to_char("%.2f", score), typmod) makes it: for the column as the
// migrations make it (numeric(p, 2), p >= 5; the score is 0..100 rounded to 2 decimals) the same
// numeric (value and scale 2) from the integer score * 100, without printing and parsing it.
static Datum score_numeric(double score, int32 typmod) {
  const double y = score * 100.0;
  const double r = std::nearbyint(y);
  if (typmod >= static_cast<int32>(VARHDRSZ) && ((typmod - VARHDRSZ) & 0xffff) == 2 &&
      ((typmod - VARHDRSZ) >> 16) >= 5 && score >= 0 && score <= 100 && std::fabs(y - r) < 1e-6) {
    return NumericGetDatum(int64_div_fast_to_numeric(static_cast<int64>(r), 2));
  }
  char text[32];
  snprintf(text, sizeof text, "%.2f", score);
  return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                             Int32GetDatum(typmod));
}

extern "C" PGDLLEXPORT Datum techmart_score_transaction(PG_FUNCTION_ARGS) {
  const uint64 t0 = techmart::pg::metrics::clock_ns();  // scoring latency histogram
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
  ensure_contexts();
  check_not_poisoned();
  Relation rel = td->tg_relation;
  TupleDesc tupdesc = RelationGetDescr(rel);
  HeapTuple tuple = td->tg_trigtuple;
  static Columns cached_cols;
  if (cols_relid != RelationGetRelid(rel)) {  // once per table (columns_invalidate)
    lookup_columns(rel, &cached_cols);
    cols_relid = RelationGetRelid(rel);
  }
  const Columns& cols = cached_cols;

  Datum v[kNCols];
  bool isnull[kNCols];
  for (int i = 0; i < kNCols; ++i) {
    if (cols.attnum[i] > 0) {
      v[i] = heap_getattr(tuple, cols.attnum[i], tupdesc, &isnull[i]);
    } else {
      v[i] = 0;
      isnull[i] = true;
    }
  }
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
  const double amount = numeric_to_float8(v[kAmount]);
  const double unit_price = numeric_to_float8(v[kUnitPrice]);
  if (!std::isfinite(amount) || !std::isfinite(unit_price)) {
    check_violation(rel, cols.attnum[kAmount], "amount must be finite");
  }

  if (!guc_scoring) {  // bulk historical load: no score, no state (rebuild_state() later)
    int colnums[4];
    Datum values[4];
    bool nulls[4] = {true, false, false, false};
    int n = 0;
    colnums[n] = cols.attnum[kScore];
    values[n++] = 0;
    colnums[n] = cols.attnum[kReasons];
    values[n++] = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
    colnums[n] = cols.attnum[kSuspicious];
    values[n++] = BoolGetDatum(false);
    if (amount_filled) {
      colnums[n] = cols.attnum[kAmount];
      values[n++] = v[kAmount];
    }
    return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, n, colnums, values, nulls));
  }

  // ------------------------------------------------------------- 2. SPI (plain C)
  MemoryContext caller_ctx = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "techmart: SPI_connect failed");
  const Oid nsp = RelationGetNamespace(rel);
  const bool write_through = !has_flush_trigger(rel, fcinfo->flinfo->fn_oid);
  if (stmt_active && snapshot_nsp != nsp) {  // another table in the same statement
    if (ndirty > 0 || nalerts > 0) {
      prepare_plans(snapshot_nsp);
      write_back();
    }
    drop_statement();
  }
  prepare_plans(nsp);
  if (!stmt_active) {
    stmt_active = true;
    snapshot_nsp = nsp;
  }
  if (cache_full()) write_back();  // bounded memory
  ensure_tables();

  const int64 product_id = isnull[kProductId] ? -1 : DatumGetInt64(v[kProductId]);
  char token[64] = "", entity_token[64] = "";
  const bool want_tokens = !stmt_config_checked;
  StateEntry* entry = touch_customer(rel, cols, customer_id, product_id, want_tokens, token,
                                     entity_token, sizeof token);
  if (!stmt_config_checked) {
    check_config(token);  // the engine, rebuilt only on a change
    // entity counters and shadow configurations: the same tokens, no query of their own
    if (token[0] != '\0') techmart::pg::entity::statement_tokens(token, entity_token);
  }
  core::TransactionInput tx;
  tx.amount = amount;
  tx.unit_price = unit_price;
  if (product_id >= 0) {
    const ProductEntry* p = touch_product(rel, cols, product_id);
    tx.list_price = p->list_price;
    tx.category_id = p->category_id;
  }
  TimestampTz ts =
      isnull[kTime] ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(v[kTime]);
  if (TIMESTAMP_NOT_FINITE(ts)) {
    check_violation(rel, cols.attnum[kTime], "transaction_time must be finite");
  }
  tx.time = fraud::ts_to_epoch(ts);
  if (!isnull[kCountry]) {
    const char* c = TextDatumGetCString(v[kCountry]);
    if (strlen(c) >= 2) {
      tx.country[0] = c[0];
      tx.country[1] = c[1];
    }
  }
  if (!isnull[kLatitude] && !isnull[kLongitude]) {
    tx.has_location = true;
    tx.lat = DatumGetFloat8(v[kLatitude]);
    tx.lon = DatumGetFloat8(v[kLongitude]);
    if (!std::isfinite(tx.lat) || !std::isfinite(tx.lon) || std::fabs(tx.lat) > 90 ||
        std::fabs(tx.lon) > 180) {
      check_violation(rel, cols.attnum[kLatitude],
                      "latitude/longitude must be finite and within [-90, 90] x [-180, 180]");
    }
  }
  if (!isnull[kMethod]) tx.method = core::payment_method_bit(TextDatumGetCString(v[kMethod]));
  memcpy(tx.home_country, entry->home_country, 3);
  if (std::isfinite(entry->registered))
    tx.account_age_days = (tx.time - entry->registered) / 86400.0;
  core::EntityInput entity_in;  // entity risk: verdict counters of the row's entities (entity.cpp)
  if (techmart::pg::entity::observe(engine->scorer, rel, tuple, customer_id, product_id, tx,
                                    &entity_in))
    tx.entities = &entity_in;

  // ---------------------------------------------------------------- 3. C++ (guarded)
  core::CustomerState cur, next;  // trivially destructible
  unsigned char compact[core::kCompactMaxBytes];
  size_t size = 0;
  fraud::ScoreOutput out{};
  // alerts reference <schema>.transactions: only rows of that table (or its partitions) raise
  // them, and only an alert needs the reasons as JSON text (fraud_reasons is built as jsonb)
  const bool alertable = !isnull[kId] && fraud::is_transactions_table(rel);
  ErrorInfo err;
  guarded(err, "techmart.score_transaction", [&] {
    core::compact_decode(entry->state, cur);
    fraud::score_row(*engine, cur, tx, next, out, caller_ctx,
                     alertable ? fraud::ReasonsText::kIfSuspicious : fraud::ReasonsText::kNever);
    size = core::compact_encode(next, compact);
  });
  // ---------------------------------------------------------------- 4. plain C again
  if (err.failed) raise(err);
  techmart::pg::entity::shadow(isnull[kId] ? -1 : DatumGetInt64(v[kId]), cur, tx, rel, tuple,
                               customer_id, product_id);  // entity_shadow.cpp
  // only a fully scored row changes the state
  if (size > entry->cap) {
    uint16 cap = 0;
    unsigned char* blob = blob_alloc(size, &cap);
    blob_release(entry->state, entry->cap);
    entry->state = blob;
    entry->cap = cap;
    if (blob_carved > 1024 * 1024 && blob_live < blob_carved / 4 * 3) {
      memcpy(entry->state, compact, size);  // (copied below too)
      entry->size = static_cast<uint16>(size);
      compact_blobs();
    }
  }
  memcpy(entry->state, compact, size);
  entry->size = static_cast<uint16>(size);
  if (!entry->dirty) {
    if (ndirty == dirty_cap) {
      const long cap = dirty_cap == 0 ? 64 : dirty_cap * 2;
      StateEntry** grown =
          static_cast<StateEntry**>(MemoryContextAlloc(entries_ctx, sizeof(StateEntry*) * cap));
      if (ndirty > 0) memcpy(grown, dirty_list, sizeof(StateEntry*) * ndirty);
      dirty_list = grown;
      dirty_cap = cap;
    }
    entry->dirty = true;
    dirty_list[ndirty++] = entry;
  }
  const int level = GetCurrentTransactionNestLevel();
  if (dirty_min_level == 0 || level < dirty_min_level) dirty_min_level = level;

  if (out.suspicious && alertable) {
    if (nalerts == alerts_cap) {
      const int cap = alerts_cap == 0 ? 16 : alerts_cap * 2;
      PendingAlert* grown =
          static_cast<PendingAlert*>(MemoryContextAlloc(entries_ctx, sizeof(PendingAlert) * cap));
      if (nalerts > 0) memcpy(grown, alerts, sizeof(PendingAlert) * nalerts);
      alerts = grown;
      alerts_cap = cap;
    }
    PendingAlert& a = alerts[nalerts++];
    a.transaction_id = DatumGetInt64(v[kId]);
    a.customer_id = customer_id;
    a.product_id = product_id;
    a.score = out.score;
    a.reasons_json = MemoryContextStrdup(entries_ctx, out.reasons_json);
    strlcpy(a.top_rules, out.top_rules, sizeof a.top_rules);
  }
  if (write_through) {
    if (nalerts > 0) defer_alert_fk(nsp);
    write_back();
    drop_statement();
  }
  SPI_finish();  // back in caller_ctx

  int ncols = 0;
  int colnums[4];
  Datum values[4];
  bool nulls[4] = {false, false, false, false};
  colnums[ncols] = cols.attnum[kScore];
  values[ncols++] = score_numeric(out.score, cols.typmod[kScore]);
  colnums[ncols] = cols.attnum[kReasons];
  // no text to parse; compressed in line (fewer bytes in the row and its WAL record)
  values[ncols++] = fraud::compress_inline(fraud::reasons_jsonb(out));
  colnums[ncols] = cols.attnum[kSuspicious];
  values[ncols++] = BoolGetDatum(out.suspicious);
  if (amount_filled) {
    colnums[ncols] = cols.attnum[kAmount];
    values[ncols++] = v[kAmount];
  }
  HeapTuple result = heap_modify_tuple_by_cols(tuple, tupdesc, ncols, colnums, values, nulls);
  techmart::pg::metrics::observe_scoring(t0);
  return PointerGetDatum(result);
}
