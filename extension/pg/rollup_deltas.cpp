// analytics.rollup_deltas(...): the per-bucket deltas of one statement's transaction lines for the
// hourly sales rollups, computed by core::rollup::deltas() (extension/core/.../rollup_delta.hpp).
// Declared by the sqitch change rollup_deltas_c (migrations), not by the extension script: the
// function belongs to the rollup triggers, and the extension's version is left alone.
//
// Arguments: fifteen arrays of the same length, one element per line version: sign int4,
// id int8, order_number text, transaction_time timestamptz, status text, amount numeric, quantity
// int4, is_suspicious bool, kind text, product text, category text, country text, platform text,
// payment_method text, customer_id int8 (the dimension values already as the rollup keys' text).
// Returns SETOF (dim, hour, key, revenue, orders, units, transactions, completed, refunded,
// refunded_amount, blocked, failed, pending, suspicious, customers_hll), sorted by (dim, hour, key)
// in byte order.
//
// Boundary: the arrays are read (and amounts converted) before any C++ object lives; the C++ part
// runs under guarded() and copies its results into palloc'd plain data with pg_call(); the tuples
// are built after it returned.
#include "boundary.hpp"
#include "techmart/core/rollup_delta.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace rollup = techmart::core::rollup;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::pg_call;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_rollup_deltas);
}

namespace {

constexpr int kArgs = 15;

struct Column {
  Datum* values = nullptr;
  bool* nulls = nullptr;
  int n = 0;
};

Column read_array(FunctionCallInfo fcinfo, int i, Oid elem) {
  Column c;
  if (PG_ARGISNULL(i)) return c;
  ArrayType* arr = PG_GETARG_ARRAYTYPE_P(i);
  if (ARR_NDIM(arr) > 1) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rollup_deltas: argument %d must be a one-dimensional array", i + 1)));
  }
  if (ARR_ELEMTYPE(arr) != elem) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("rollup_deltas: argument %d has the wrong element type", i + 1)));
  }
  int16 len;
  bool byval;
  char align;
  get_typlenbyvalalign(elem, &len, &byval, &align);
  deconstruct_array(arr, elem, len, byval, align, &c.values, &c.nulls, &c.n);
  return c;
}

// numeric -> thousandths (exact; more decimals than three or out of range: an error) and its
// scale (0..3; trailing zeros count, as in the numeric). Plain C.
int64 amount_milli(Datum num, int* scale) {
  const char* s = DatumGetCString(DirectFunctionCall1(numeric_out, num));
  const char* p = s;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  __int128 v = 0;
  int decimals = -1;
  bool ok = *p != '\0';
  for (; *p != '\0' && ok; ++p) {
    if (*p == '.' && decimals < 0) {
      decimals = 0;
    } else if (*p >= '0' && *p <= '9') {
      if (decimals >= 3) {
        ok = *p == '0';
        continue;
      }
      v = v * 10 + (*p - '0');
      if (decimals >= 0) ++decimals;
      if (v > (static_cast<__int128>(1) << 62)) ok = false;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    ereport(ERROR,
            (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
             errmsg("rollup_deltas: amount %s is not a number of at most three decimals", s)));
  }
  for (int d = decimals < 0 ? 0 : decimals; d < 3; ++d) v *= 10;
  *scale = decimals < 0 ? 0 : (decimals > 3 ? 3 : decimals);
  return static_cast<int64>(neg ? -v : v);
}

// "[-]N.ddd" (scale decimals) of a fixed-point value in thousandths, or "0" when no term entered it
// (scale -1: the SQL coalesce(..., 0)). The value is a multiple of 10^(3 - scale).
void format_milli(__int128 v, int scale, char* buf, std::size_t size) {
  if (scale < 0) {
    if (size >= 2) {
      buf[0] = '0';
      buf[1] = '\0';
    }
    return;
  }
  const bool neg = v < 0;
  unsigned __int128 u =
      neg ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0 || n < 4);  // at least one digit before the point
  std::size_t k = 0;
  if (neg) buf[k++] = '-';
  for (int i = n - 1; i >= 0 && k + 2 < size; --i) {
    buf[k++] = digits[i];
    if (i == 3) {
      if (scale == 0) break;
      buf[k++] = '.';
    }
    if (i == 3 - scale) break;
  }
  buf[k] = '\0';
}

// A rollup amount for the output: the integer of the numeric (thousandths divided by 10^(3 -
// scale), exact: the terms had at most scale decimals) when it fits an int64, else its text. Plain
// data (palloc'd arrays are only 8-byte aligned: no __int128 member).
struct Amount {
  int64 q;
  int scale;  // -1: no term (SQL coalesce(..., 0): 0 of scale 0)
  bool fits;
  char text[48];
};

void to_amount(__int128 v, int scale, Amount* a) {
  a->scale = scale;
  a->fits = true;
  a->q = 0;
  a->text[0] = '\0';
  if (scale < 0) return;
  __int128 q = v;
  for (int d = scale; d < 3; ++d) q /= 10;
  if (q >= PG_INT64_MIN && q <= PG_INT64_MAX) {
    a->q = static_cast<int64>(q);
  } else {
    a->fits = false;
    format_milli(v, scale, a->text, sizeof a->text);
  }
}

// the numeric of an Amount: from the integer (int64_div_fast_to_numeric) when it fits, else its
// text
Datum amount_numeric(const Amount& a) {
  if (a.scale < 0) return NumericGetDatum(int64_to_numeric(0));
  if (a.fits) return NumericGetDatum(int64_div_fast_to_numeric(a.q, a.scale));
  return DirectFunctionCall3(numeric_in, CStringGetDatum(a.text), ObjectIdGetDatum(InvalidOid),
                             Int32GetDatum(-1));
}

struct PlainDelta {
  const char* dim;
  int64 hour;
  char* key;  // palloc'd
  Amount revenue, refunded_amount;
  int64 orders, units, transactions, completed, refunded, blocked, failed, pending, suspicious;
  bytea* hll;  // palloc'd or nullptr
};

char* text_cstring(Datum d) { return text_to_cstring(DatumGetTextPP(d)); }

const Oid kTypes[kArgs] = {INT4OID,    INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
                           NUMERICOID, INT4OID, BOOLOID, TEXTOID,        TEXTOID,
                           TEXTOID,    TEXTOID, TEXTOID, TEXTOID,        INT8OID};
bool is_text_arg(int a) { return kTypes[a] == TEXTOID; }

// The line versions as plain data, kArgs values per line (row-major): by-value columns as Datums,
// text columns as C strings (nullptr: NULL), amounts (argument 6) in thousandths and their
// scales. palloc'd in the context current when lines are added (grows by doubling).
struct LineBuf {
  int n = 0;
  int cap = 0;
  Datum* v = nullptr;
  bool* isnull = nullptr;
  char** s = nullptr;
  int64* amount = nullptr;
  int* scale = nullptr;
};

void linebuf_add(LineBuf* b, const Datum* vals, const bool* nulls) {
  if (nulls[0] || nulls[1] || nulls[3]) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rollup_deltas: sign, id and transaction_time must not be NULL")));
  }
  if (b->n == b->cap) {
    const int cap = b->cap == 0 ? 1024 : b->cap * 2;
    const auto grow = [&](void* ptr, std::size_t size) {
      return ptr == nullptr ? palloc(size * static_cast<std::size_t>(cap))
                            : repalloc(ptr, size * static_cast<std::size_t>(cap));
    };
    b->v = static_cast<Datum*>(grow(b->v, sizeof(Datum) * kArgs));
    b->isnull = static_cast<bool*>(grow(b->isnull, sizeof(bool) * kArgs));
    b->s = static_cast<char**>(grow(b->s, sizeof(char*) * kArgs));
    b->amount = static_cast<int64*>(grow(b->amount, sizeof(int64)));
    b->scale = static_cast<int*>(grow(b->scale, sizeof(int)));
    b->cap = cap;
  }
  const int i = b->n;
  for (int a = 0; a < kArgs; ++a) {
    b->isnull[i * kArgs + a] = nulls[a];
    b->s[i * kArgs + a] = nullptr;
    b->v[i * kArgs + a] = 0;
    if (nulls[a]) continue;
    if (is_text_arg(a)) {
      b->s[i * kArgs + a] = text_cstring(vals[a]);
    } else if (kTypes[a] != NUMERICOID) {
      b->v[i * kArgs + a] = vals[a];  // by value (int4, int8, timestamptz, bool)
    }
  }
  b->scale[i] = 0;
  b->amount[i] = nulls[5] ? 0 : amount_milli(vals[5], &b->scale[i]);
  b->n = i + 1;
}

// The deltas of the lines (plain data, palloc'd, sorted by (dim, hour, key) in byte order).
void compute_lines(const LineBuf& b, PlainDelta** out_p, std::size_t* n_out_p) {
  const int n = b.n;
  PlainDelta* out = nullptr;
  std::size_t n_out = 0;
  ErrorInfo err;
  if (!guarded(err, "rollup_deltas", [&] {
        std::vector<rollup::Line> lines(static_cast<std::size_t>(n));
        const auto view = [&](int i, int a) {
          const char* s = b.s[i * kArgs + a];
          return s == nullptr ? std::string_view() : std::string_view(s);
        };
        for (int i = 0; i < n; ++i) {
          rollup::Line& l = lines[static_cast<std::size_t>(i)];
          const Datum* v = b.v + i * kArgs;
          const bool* nul = b.isnull + i * kArgs;
          l.sign = DatumGetInt32(v[0]);
          l.id = DatumGetInt64(v[1]);
          l.has_order = !nul[2];
          l.order_number = view(i, 2);
          l.time_us = DatumGetTimestampTz(v[3]);
          const char* st = b.s[i * kArgs + 4];
          l.status =
              st == nullptr ? rollup::Status::kOther : rollup::parse_status(st, std::strlen(st));
          l.amount_milli = b.amount[i];
          l.amount_scale = b.scale[i];
          l.quantity = nul[6] ? 0 : DatumGetInt32(v[6]);
          l.suspicious = !nul[7] && DatumGetBool(v[7]);
          const char* kind = b.s[i * kArgs + 8];
          l.refund_kind = kind != nullptr && std::strcmp(kind, "refund") == 0;
          l.product = view(i, 9);
          l.category = view(i, 10);
          l.country = view(i, 11);
          l.platform = view(i, 12);
          l.payment_method = view(i, 13);
          l.has_customer = !nul[14];
          if (l.has_customer) l.customer = DatumGetInt64(v[14]);
        }
        const std::vector<rollup::Delta> ds = rollup::deltas(lines);
        n_out = ds.size();
        pg_call([&] { out = static_cast<PlainDelta*>(palloc0(sizeof(PlainDelta) * (n_out + 1))); });
        for (std::size_t k = 0; k < ds.size(); ++k) {
          const rollup::Delta& d = ds[k];
          PlainDelta& p = out[k];
          p.dim = rollup::dim_name(d.dim);
          p.hour = d.hour_us;
          pg_call([&] { p.key = pnstrdup(d.key.data(), d.key.size()); });
          to_amount(d.revenue_milli, d.revenue_scale, &p.revenue);
          to_amount(d.refunded_amount_milli, d.refunded_amount_scale, &p.refunded_amount);
          p.orders = d.orders;
          p.units = d.units;
          p.transactions = d.transactions;
          p.completed = d.completed;
          p.refunded = d.refunded;
          p.blocked = d.blocked;
          p.failed = d.failed;
          p.pending = d.pending;
          p.suspicious = d.suspicious;
          if (d.customers_hll) {
            const std::string& h = *d.customers_hll;
            pg_call([&] {
              p.hll = static_cast<bytea*>(palloc(VARHDRSZ + h.size()));
              SET_VARSIZE(p.hll, VARHDRSZ + h.size());
              std::memcpy(VARDATA(p.hll), h.data(), h.size());
            });
          }
        }
      })) {
    raise(err);
  }
  *out_p = out;
  *n_out_p = n_out;
}

// The deltas of the 15 line arrays given as arguments first .. first + 14 (plain data, palloc'd,
// sorted by (dim, hour, key) in byte order).
void compute_deltas(FunctionCallInfo fcinfo, int first, PlainDelta** out_p, std::size_t* n_out_p) {
  Column col[kArgs];
  for (int i = 0; i < kArgs; ++i) {
    col[i] = read_array(fcinfo, first + i, kTypes[i]);
    if (col[i].n != col[0].n) {
      ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                      errmsg("rollup_deltas: the arrays must have the same length")));
    }
  }
  LineBuf b;
  for (int i = 0; i < col[0].n; ++i) {
    Datum vals[kArgs];
    bool nulls[kArgs];
    for (int a = 0; a < kArgs; ++a) {
      vals[a] = col[a].values[i];
      nulls[a] = col[a].nulls[i];
    }
    linebuf_add(&b, vals, nulls);
  }
  compute_lines(b, out_p, n_out_p);
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_rollup_deltas(PG_FUNCTION_ARGS) {
  PlainDelta* out = nullptr;
  std::size_t n_out = 0;
  compute_deltas(fcinfo, 0, &out, &n_out);
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (std::size_t k = 0; k < n_out; ++k) {
    const PlainDelta& p = out[k];
    Datum v[15];
    bool nulls[15] = {false};
    v[0] = CStringGetTextDatum(p.dim);
    v[1] = TimestampTzGetDatum(p.hour);
    v[2] = CStringGetTextDatum(p.key);
    v[3] = amount_numeric(p.revenue);
    v[4] = Int64GetDatum(p.orders);
    v[5] = Int64GetDatum(p.units);
    v[6] = Int64GetDatum(p.transactions);
    v[7] = Int64GetDatum(p.completed);
    v[8] = Int64GetDatum(p.refunded);
    v[9] = amount_numeric(p.refunded_amount);
    v[10] = Int64GetDatum(p.blocked);
    v[11] = Int64GetDatum(p.failed);
    v[12] = Int64GetDatum(p.pending);
    v[13] = Int64GetDatum(p.suspicious);
    if (p.hll != nullptr) {
      v[14] = PointerGetDatum(p.hll);
    } else {
      v[14] = 0;
      nulls[14] = true;
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
  }
  return static_cast<Datum>(0);
}

// ---------------------------------------------------------------------------------------------
// analytics.rollup_apply(slot int2, the fifteen line arrays of rollup_deltas) -> int8: adds the
// statement's per-bucket deltas to analytics.sales_hourly, slot `slot`, directly through the heap
// and its primary key instead of an INSERT ... SELECT ... ON CONFLICT DO UPDATE over the rows of
// rollup_deltas() (sqitch change rollup_apply_c). Returns the buckets written, or -1 when the
// direct path does not apply (the caller then runs the SQL upsert): isolation above READ
// COMMITTED, a table that is not as the rollup changes made it (columns, its one unique index on
// (dim, hour, key, slot), its three CHECK constraints), triggers, row security, publications, a
// slot outside the CHECK's 0..63, a transaction that already holds 32 subtransaction XIDs.
//
// Per bucket, in (dim, hour, key) order (the lock order of the SQL path): a probe of the primary
// key with a dirty snapshot; an existing row version is locked (FOR NO KEY UPDATE, waiting as ON
// CONFLICT does; changed meanwhile: probe again) and updated to old + delta (numeric and bigint
// sums, techmart.hll_union of the sketches: the same values as the SQL upsert); a version still
// being inserted by another transaction is waited for, then probed again; no version: the row is
// inserted and its index entry checked for uniqueness. A concurrent insert of the same bucket
// (another backend with the same slot) between the probe and the insert raises unique_violation:
// the caller runs this in a subtransaction and redoes the statement with the SQL upsert.
// Plain C: Postgres calls only, no C++ object lives here.
extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_publication.h"
#include "common/int.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(techmart_rollup_apply);
PG_FUNCTION_INFO_V1(techmart_rollup_insert);
PG_FUNCTION_INFO_V1(techmart_rollup_apply_lines);
Datum techmart_hll_union(PG_FUNCTION_ARGS);  // stat_aggregates.cpp
}

namespace {

constexpr int kCols = 16;
enum Col {
  kDim,
  kHour,
  kKey,
  kSlot,
  kRevenue,
  kOrders,
  kUnits,
  kTransactions,
  kCompleted,
  kRefunded,
  kRefundedAmount,
  kBlocked,
  kFailed,
  kPending,
  kSuspicious,
  kHll
};
const char* const kColName[kCols] = {
    "dim",    "hour",         "key",        "slot",         "revenue",         "orders",
    "units",  "transactions", "completed",  "refunded",     "refunded_amount", "blocked",
    "failed", "pending",      "suspicious", "customers_hll"};
const Oid kColType[kCols] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, INT2OID, NUMERICOID, INT8OID,
                             INT8OID, INT8OID,        INT8OID, INT8OID, NUMERICOID, INT8OID,
                             INT8OID, INT8OID,        INT8OID, BYTEAOID};

// What the direct writes (heap and index, without the executor) of rollup_apply and
// rollup_registry_add need of a table: READ COMMITTED (no transaction snapshot to honour), a heap
// table with no trigger, row security or publication.
bool plain_heap(Relation rel) {
  return !IsolationUsesXactSnapshot() && rel->trigdesc == nullptr && !rel->rd_rel->relrowsecurity &&
         rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->relam == HEAP_TABLE_AM_OID &&
         GetRelationPublications(RelationGetRelid(rel)) == NIL;
}

// The OID of rel's only index when it is a valid unique B-tree on exactly the columns keys[0..n)
// (attribute numbers, in that order; no expression, no predicate), each collatable one in the C
// collation; InvalidOid otherwise.
Oid sole_unique_btree(Relation rel, const int* keys, int n) {
  List* idx = RelationGetIndexList(rel);
  const Oid only = list_length(idx) == 1 ? linitial_oid(idx) : InvalidOid;
  list_free(idx);
  if (!OidIsValid(only)) return InvalidOid;
  Relation ir = index_open(only, AccessShareLock);
  const Form_pg_index ix = ir->rd_index;
  bool ok = ix->indisunique && ix->indisvalid && ix->indnkeyatts == n && ix->indnatts == n &&
            ir->rd_rel->relam == BTREE_AM_OID &&
            heap_attisnull(ir->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
            heap_attisnull(ir->rd_indextuple, Anum_pg_index_indpred, nullptr);
  TupleDesc desc = RelationGetDescr(rel);
  for (int i = 0; ok && i < n; ++i) {
    ok = ix->indkey.values[i] == keys[i] &&
         (!OidIsValid(TupleDescAttr(desc, keys[i] - 1)->attcollation) ||
          ir->rd_indcollation[i] == C_COLLATION_OID);
  }
  index_close(ir, AccessShareLock);
  return ok ? only : InvalidOid;
}

// Is analytics.sales_hourly as the rollup changes made it? Fills att (attribute numbers, 1-based)
// and the primary key's OID.
bool direct_applies(Relation rel, int att[kCols], Oid* pkey) {
  if (!plain_heap(rel)) return false;
  TupleDesc desc = RelationGetDescr(rel);
  if (desc->natts != kCols) return false;
  for (int c = 0; c < kCols; ++c) {
    att[c] = SPI_fnumber(desc, kColName[c]);
    if (att[c] <= 0 || TupleDescAttr(desc, att[c] - 1)->atttypid != kColType[c] ||
        TupleDescAttr(desc, att[c] - 1)->attisdropped) {
      return false;
    }
  }
  // the CHECK constraints: the three of the rollup changes (dim in the seven names, hour on a whole
  // hour, slot 0..63), which the values built here satisfy
  const TupleConstr* constr = desc->constr;
  if (constr == nullptr || constr->num_check != 3) return false;
  for (int i = 0; i < constr->num_check; ++i) {
    const char* n = constr->check[i].ccname;
    if (strcmp(n, "sales_hourly_dim_check") != 0 && strcmp(n, "sales_hourly_hour_check") != 0 &&
        strcmp(n, "sales_hourly_slot_check") != 0) {
      return false;
    }
  }
  const int keys[4] = {att[kDim], att[kHour], att[kKey], att[kSlot]};
  *pkey = sole_unique_btree(rel, keys, 4);
  return OidIsValid(*pkey);
}

int64 add_int8(int64 a, int64 b) {
  int64 r;
  if (pg_add_s64_overflow(a, b, &r)) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
  }
  return r;
}

// techmart.hll_union(a, b) as SQL calls it (NULL on one side: the other, re-serialized)
Datum hll_union(Datum a, bool a_null, Datum b, bool b_null, bool* is_null) {
  LOCAL_FCINFO(fc, 2);
  InitFunctionCallInfoData(*fc, nullptr, 2, InvalidOid, nullptr, nullptr);
  fc->args[0].value = a;
  fc->args[0].isnull = a_null;
  fc->args[1].value = b;
  fc->args[1].isnull = b_null;
  Datum r = techmart_hll_union(fc);
  *is_null = fc->isnull;
  return r;
}

}  // namespace

namespace {

// The write of one row through the heap and a unique index, shared by rollup_apply (buckets of
// analytics.sales_hourly) and rollup_registry_add (analytics.order_registry). Plain C.
struct RowWriter {
  Relation rel;
  Relation idx;
  IndexInfo* ii;
  IndexScanDesc scan;  // over idx with a dirty snapshot, nkeys keys
  TupleTableSlot* found;
  SnapshotData* dirty;
  CommandId cid;
  int nkeys;
  MemoryContext caller_ctx;  // the function's context (the scan's lazily allocated state)
  MemoryContext row_ctx;     // current on entry and on return
};

// New rows written in batches: heap_multi_insert (one buffer lock and one WAL record per page
// instead of per row), then the index entries in the order the rows were added, each checked for
// uniqueness. Tuples and copies of the key values live in ctx, reset by flush(). Shared by
// rollup_apply (buckets) and rollup_registry_add (orders). Plain C.
constexpr int kBatch = 512;
struct NewRows {
  Relation rel;
  Relation idx;
  IndexInfo* ii;
  CommandId cid;
  MemoryContext ctx;
  MemoryContext slot_ctx;
  int nkeys;  // <= 4
  TupleTableSlot* slots[kBatch];
  Datum iv[kBatch][4];
  int n;

  void begin(Relation r, Relation i, IndexInfo* info, CommandId c, MemoryContext parent, int keys) {
    rel = r;
    idx = i;
    ii = info;
    cid = c;
    nkeys = keys;
    n = 0;
    slot_ctx = parent;
    ctx = AllocSetContextCreate(parent, "rollup new rows", ALLOCSET_DEFAULT_SIZES);
    for (int k = 0; k < kBatch; ++k) slots[k] = nullptr;  // made when first needed
  }
  void flush() {
    if (n == 0) return;
    MemoryContext old = MemoryContextSwitchTo(ctx);
    heap_multi_insert(rel, slots, n, cid, 0, nullptr);
    bool inl[4] = {false, false, false, false};
    for (int i = 0; i < n; ++i) {
      index_insert(idx, iv[i], inl, &slots[i]->tts_tid, rel, UNIQUE_CHECK_YES, false, ii);
      ExecClearTuple(slots[i]);
    }
    n = 0;
    MemoryContextSwitchTo(old);
    MemoryContextReset(ctx);
  }
  // tup allocated in ctx; the key values too, or copied into ctx when copy_keys
  void add(HeapTuple tup, const Datum* keys, bool copy_keys) {
    if (slots[n] == nullptr) {  // in the context of the caller of begin()
      MemoryContext old = MemoryContextSwitchTo(slot_ctx);
      slots[n] = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
      MemoryContextSwitchTo(old);
    }
    ExecStoreHeapTuple(tup, slots[n], true);
    TupleDesc id = RelationGetDescr(idx);
    for (int k = 0; k < nkeys; ++k) {
      iv[n][k] = keys[k];
      if (copy_keys) {
        MemoryContext old = MemoryContextSwitchTo(ctx);
        iv[n][k] = datumCopy(keys[k], TupleDescAttr(id, k)->attbyval, TupleDescAttr(id, k)->attlen);
        MemoryContextSwitchTo(old);
      }
    }
    if (++n == kBatch) flush();
  }
  void end() {
    flush();
    for (int k = 0; k < kBatch && slots[k] != nullptr; ++k) ExecDropSingleTupleTableSlot(slots[k]);
    MemoryContextDelete(ctx);
  }
};

// merge(arg, old values, new values): the updated row of an existing one (nv/nn sized natts)
using MergeFn = void (*)(const void* arg, const Datum* ov, const bool* on, Datum* nv, bool* nn);

// The row of key iv (the index's columns, scan keys sk) with values v/nl: probed with the dirty
// snapshot, an existing version locked (FOR NO KEY UPDATE, waiting as ON CONFLICT does; changed
// meanwhile: probed again) and updated to merge(old); a version being inserted by another
// transaction waited for, then probed again; none: inserted, its index entry checked for
// uniqueness (unique_violation when another transaction inserted the key since the probe).
// With a batch, a new row is added to it (written at its next flush), and the batch is flushed
// before an existing row is locked (index entries and locks in the caller's order).
void upsert_row(const RowWriter& w, ScanKeyData* sk, Datum* iv, bool* inl, Datum* v, bool* nl,
                MergeFn merge, const void* arg, NewRows* batch = nullptr) {
  TupleDesc desc = RelationGetDescr(w.rel);
  for (;;) {
    MemoryContextSwitchTo(w.caller_ctx);
    index_rescan(w.scan, sk, w.nkeys, nullptr, 0);
    const bool exists = index_getnext_slot(w.scan, ForwardScanDirection, w.found);
    MemoryContextSwitchTo(w.row_ctx);
    if (!exists && batch != nullptr) {
      MemoryContextSwitchTo(batch->ctx);
      HeapTuple tup = heap_form_tuple(desc, v, nl);
      MemoryContextSwitchTo(w.row_ctx);
      batch->add(tup, iv, true);
      return;
    }
    if (!exists) {
      HeapTuple tup = heap_form_tuple(desc, v, nl);
      heap_insert(w.rel, tup, w.cid, 0, nullptr);
      index_insert(w.idx, iv, inl, &tup->t_self, w.rel, UNIQUE_CHECK_YES, false, w.ii);
      return;
    }
    if (batch != nullptr) batch->flush();
    ItemPointerData tid = w.found->tts_tid;
    const TransactionId inserter = w.dirty->xmin;
    ExecClearTuple(w.found);
    if (TransactionIdIsValid(inserter)) {  // being inserted by another transaction
      XactLockTableWait(inserter, w.rel, &tid, XLTW_InsertIndex);
      continue;
    }
    HeapTupleData old;
    old.t_self = tid;
    Buffer buf = InvalidBuffer;
    TM_FailureData tmfd;
    const TM_Result r = heap_lock_tuple(w.rel, &old, w.cid, LockTupleNoKeyExclusive, LockWaitBlock,
                                        false, &buf, &tmfd);
    if (r == TM_Updated || r == TM_Deleted) {  // changed since the probe: again
      if (BufferIsValid(buf)) ReleaseBuffer(buf);
      continue;
    }
    if (r != TM_Ok) {
      if (BufferIsValid(buf)) ReleaseBuffer(buf);
      ereport(ERROR,
              (errcode(ERRCODE_CARDINALITY_VIOLATION),
               errmsg("rollup upkeep: a row of analytics.%s was changed twice by one command",
                      RelationGetRelationName(w.rel))));
    }
    Datum ov[kCols];
    bool on[kCols];
    heap_deform_tuple(&old, desc, ov, on);  // by-reference values point into buf (pinned)
    Datum nv[kCols];
    bool nn[kCols] = {false};
    merge(arg, ov, on, nv, nn);
    HeapTuple tup = heap_form_tuple(desc, nv, nn);
    ReleaseBuffer(buf);
    simple_heap_update(w.rel, &old.t_self, tup);
    if (!HeapTupleIsHeapOnly(tup)) {
      index_insert(w.idx, iv, inl, &tup->t_self, w.rel, UNIQUE_CHECK_NO, true, w.ii);
    }
    return;
  }
}

// a bucket of sales_hourly: old + delta (numeric and bigint sums, techmart.hll_union)
struct ApplyMerge {
  const int* att;
  const Datum* v;
  const bool* nl;
};
void merge_bucket(const void* arg, const Datum* ov, const bool* on, Datum* nv, bool* nn) {
  const auto* m = static_cast<const ApplyMerge*>(arg);
  for (int c = 0; c < kCols; ++c) {
    const int a = m->att[c] - 1;
    switch (c) {
      case kDim:
      case kHour:
      case kKey:
      case kSlot:
        nv[a] = m->v[a];
        break;
      case kRevenue:
      case kRefundedAmount:
        nv[a] = DirectFunctionCall2(numeric_add, ov[a], m->v[a]);
        break;
      case kHll:
        nv[a] = hll_union(ov[a], on[a], m->v[a], m->nl[a], &nn[a]);
        break;
      default:
        nv[a] = Int64GetDatum(add_int8(DatumGetInt64(ov[a]), DatumGetInt64(m->v[a])));
    }
  }
}

// The line versions read from the open cursor named by argument i (its 15 columns typed as the
// elements of rollup_deltas' arrays, in that order): every row fetched straight from the portal
// into a LineBuf (no array, no copy of the rows), then their deltas as compute_deltas().
struct LinesReceiver {
  DestReceiver pub;  // first: the executor calls pub's callbacks with &pub
  LineBuf* buf;
  MemoryContext cxt;
};
bool lines_receive(TupleTableSlot* slot, DestReceiver* self) {
  auto* r = reinterpret_cast<LinesReceiver*>(self);
  slot_getallattrs(slot);
  MemoryContext old = MemoryContextSwitchTo(r->cxt);
  linebuf_add(r->buf, slot->tts_values, slot->tts_isnull);
  MemoryContextSwitchTo(old);
  return true;
}
void lines_startup(DestReceiver*, int, TupleDesc) {}
void lines_shutdown(DestReceiver*) {}
void lines_destroy(DestReceiver*) {}

void compute_cursor_deltas(FunctionCallInfo fcinfo, int i, PlainDelta** out_p,
                           std::size_t* n_out_p) {
  if (PG_ARGISNULL(i)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rollup_apply_lines: the cursor must not be NULL")));
  }
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(i));
  Portal portal = GetPortalByName(name);
  if (!PortalIsValid(portal)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_CURSOR),
                    errmsg("rollup_apply_lines: cursor \"%s\" does not exist", name)));
  }
  TupleDesc desc = portal->tupDesc;
  bool ok = desc != nullptr && desc->natts == kArgs;
  for (int a = 0; ok && a < kArgs; ++a) {
    ok = !TupleDescAttr(desc, a)->attisdropped && TupleDescAttr(desc, a)->atttypid == kTypes[a];
  }
  if (!ok) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("rollup_apply_lines: cursor \"%s\" does not return the 15 columns of "
                           "the rollup_deltas arrays' element types",
                           name)));
  }
  LineBuf b;
  LinesReceiver r{{lines_receive, lines_startup, lines_shutdown, lines_destroy, DestNone},
                  &b,
                  CurrentMemoryContext};
  PortalRunFetch(portal, FETCH_FORWARD, FETCH_ALL, &r.pub);
  compute_lines(b, out_p, n_out_p);
}

// rollup_apply, rollup_insert and rollup_apply_lines: insert_only skips the probe (every bucket
// is new: see techmart_rollup_insert) and needs no room for a subtransaction XID (no
// subtransaction); from_cursor reads the lines from a cursor (argument 2) instead of 15 arrays.
Datum apply_or_insert(FunctionCallInfo fcinfo, bool insert_only, bool from_cursor = false) {
  if (PG_ARGISNULL(0)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("rollup_apply: the slot must not be NULL")));
  }
  const int16 slot = PG_GETARG_INT16(0);
  const Oid relid = get_relname_relid("sales_hourly", get_namespace_oid("analytics", false));
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("rollup_apply: analytics.sales_hourly does not exist")));
  }
  Relation rel = table_open(relid, RowExclusiveLock);
  int att[kCols];
  Oid pkey = InvalidOid;
  // The caller runs this in a subtransaction (for a unique_violation), which takes an XID of its
  // own as soon as it writes. Each one stays in this backend's cache of subtransaction XIDs until
  // the top transaction ends; past PGPROC_MAX_CACHED_SUBXIDS (64) the cache overflows and every
  // other backend's snapshot must then look XIDs up in pg_subtrans, for as long as this
  // transaction lives. A load of many bulk statements in one transaction would get there: when
  // the cache is half full (the other half left to the application's own savepoints), the SQL
  // upsert (no subtransaction) runs instead.
  const bool subxids_room =
      insert_only || (!MyProc->subxidStatus.overflowed &&
                      MyProc->subxidStatus.count < PGPROC_MAX_CACHED_SUBXIDS / 2);
  if (slot < 0 || slot > 63 || !subxids_room || !direct_applies(rel, att, &pkey)) {
    table_close(rel, NoLock);
    PG_RETURN_INT64(-1);
  }
  PlainDelta* out = nullptr;
  std::size_t n_out = 0;
  if (from_cursor) {
    compute_cursor_deltas(fcinfo, 1, &out, &n_out);
  } else {
    compute_deltas(fcinfo, 1, &out, &n_out);
  }

  Relation idx = index_open(pkey, RowExclusiveLock);
  IndexInfo* ii = BuildIndexInfo(idx);
  TupleDesc desc = RelationGetDescr(rel);
  SnapshotData dirty;
  InitDirtySnapshot(dirty);
  IndexScanDesc scan = index_beginscan(rel, idx, &dirty, 4, 0);
  // a look at the index per dim and existing (dim, hour): a group without any index entry needs no
  // probe per bucket
  IndexScanDesc group_scan = insert_only ? nullptr : index_beginscan(rel, idx, &dirty, 2, 0);
  const char* group_dim = nullptr;
  int64 group_hour = 0;
  bool group_empty = false;
  const char* probed_dim = nullptr;  // the dim of the last look at the index
  bool has_next = false;             // that look found an entry of the dim, at hour next_hour
  int64 next_hour = 0;
  TupleTableSlot* found = table_slot_create(rel, nullptr);
  const CommandId cid = GetCurrentCommandId(true);
  MemoryContext row_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "rollup_apply bucket", ALLOCSET_DEFAULT_SIZES);
  MemoryContext caller_ctx = CurrentMemoryContext;
  const RowWriter w{rel, idx, ii, scan, found, &dirty, cid, 4, caller_ctx, row_ctx};

  // new buckets are inserted in batches (NewRows::flush); the batch is flushed before any bucket
  // takes the probe path, so the index entries are made in (dim, hour, key) order as before
  NewRows batch;
  batch.begin(rel, idx, ii, cid, CurrentMemoryContext, 4);
  MemoryContext batch_ctx = batch.ctx;
  MemoryContext group_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "rollup_apply group", ALLOCSET_SMALL_SIZES);

  for (std::size_t k = 0; k < n_out; ++k) {
    const PlainDelta& p = out[k];
    if (group_scan != nullptr && (p.dim != group_dim || p.hour != group_hour)) {
      group_dim = p.dim;
      group_hour = p.hour;
      if (p.dim != probed_dim || (has_next && p.hour > next_hour)) {
        // the first index entry of this dim at or after this hour: any version live, being
        // inserted or being deleted (dirty snapshot); the groups of the dim before its hour have
        // none (one descent for a run of new hours instead of one per (dim, hour))
        probed_dim = p.dim;
        MemoryContextReset(group_ctx);  // the previous probe's keys (the scan's until now)
        MemoryContextSwitchTo(group_ctx);
        ScanKeyData gk[2];
        ScanKeyInit(&gk[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(p.dim));
        ScanKeyInit(&gk[1], 2, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
                    TimestampTzGetDatum(p.hour));
        MemoryContextSwitchTo(caller_ctx);
        index_rescan(group_scan, gk, 2, nullptr, 0);
        has_next = index_getnext_slot(group_scan, ForwardScanDirection, found);
        if (has_next) {
          bool isnull = false;
          next_hour = DatumGetTimestampTz(slot_getattr(found, att[kHour], &isnull));
        }
        ExecClearTuple(found);
      }
      // no entry of (dim, hour): its buckets are inserted without a probe each
      group_empty = !has_next || p.hour < next_hour;
    }
    const bool is_new = insert_only || group_empty;
    if (!is_new) batch.flush();  // the new buckets before this one first (lock and index order)
    MemoryContextSwitchTo(is_new ? batch_ctx : row_ctx);
    Datum v[kCols];
    bool nl[kCols] = {false};
    v[att[kDim] - 1] = CStringGetTextDatum(p.dim);
    v[att[kHour] - 1] = TimestampTzGetDatum(p.hour);
    v[att[kKey] - 1] = CStringGetTextDatum(p.key);
    v[att[kSlot] - 1] = Int16GetDatum(slot);
    v[att[kRevenue] - 1] = amount_numeric(p.revenue);
    v[att[kOrders] - 1] = Int64GetDatum(p.orders);
    v[att[kUnits] - 1] = Int64GetDatum(p.units);
    v[att[kTransactions] - 1] = Int64GetDatum(p.transactions);
    v[att[kCompleted] - 1] = Int64GetDatum(p.completed);
    v[att[kRefunded] - 1] = Int64GetDatum(p.refunded);
    v[att[kRefundedAmount] - 1] = amount_numeric(p.refunded_amount);
    v[att[kBlocked] - 1] = Int64GetDatum(p.blocked);
    v[att[kFailed] - 1] = Int64GetDatum(p.failed);
    v[att[kPending] - 1] = Int64GetDatum(p.pending);
    v[att[kSuspicious] - 1] = Int64GetDatum(p.suspicious);
    v[att[kHll] - 1] = p.hll != nullptr ? PointerGetDatum(p.hll) : static_cast<Datum>(0);
    nl[att[kHll] - 1] = p.hll == nullptr;
    if (is_new) {
      // a new bucket (no entry of its (dim, hour) a moment ago, or the caller's promise): batched;
      // unique_violation if another transaction inserted it since
      const Datum keys[4] = {v[att[kDim] - 1], v[att[kHour] - 1], v[att[kKey] - 1],
                             v[att[kSlot] - 1]};
      batch.add(heap_form_tuple(desc, v, nl), keys, false);
      MemoryContextSwitchTo(caller_ctx);
      continue;
    }
    Datum iv[4] = {v[att[kDim] - 1], v[att[kHour] - 1], v[att[kKey] - 1], v[att[kSlot] - 1]};
    bool inl[4] = {false, false, false, false};
    ScanKeyData sk[4];
    ScanKeyInit(&sk[0], 1, BTEqualStrategyNumber, F_TEXTEQ, iv[0]);
    ScanKeyInit(&sk[1], 2, BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ, iv[1]);
    ScanKeyInit(&sk[2], 3, BTEqualStrategyNumber, F_TEXTEQ, iv[2]);
    ScanKeyInit(&sk[3], 4, BTEqualStrategyNumber, F_INT2EQ, iv[3]);
    const ApplyMerge m{att, v, nl};
    upsert_row(w, sk, iv, inl, v, nl, merge_bucket, &m);
    MemoryContextSwitchTo(caller_ctx);
    MemoryContextReset(row_ctx);
  }
  batch.end();
  MemoryContextDelete(group_ctx);
  ExecDropSingleTupleTableSlot(found);
  if (group_scan != nullptr) index_endscan(group_scan);
  index_endscan(scan);
  index_close(idx, NoLock);
  table_close(rel, NoLock);
  MemoryContextDelete(row_ctx);
  PG_RETURN_INT64(static_cast<int64>(n_out));
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_rollup_apply(PG_FUNCTION_ARGS) {
  return apply_or_insert(fcinfo, false);
}

// analytics.rollup_insert(slot int2, the fifteen line arrays) -> int8: the buckets of the lines
// inserted into analytics.sales_hourly, slot `slot`, without looking for an existing row first
// (sqitch change rollup_rebuild_insert_c). For analytics.rollup_rebuild(), which holds the table
// in EXCLUSIVE mode and has deleted every row of the hours it rebuilds: no row of those buckets
// can exist, and an index entry that says otherwise raises unique_violation (nothing is merged).
// -1 (the caller runs its SQL INSERT) in the cases of rollup_apply but the subtransaction one.
extern "C" PGDLLEXPORT Datum techmart_rollup_insert(PG_FUNCTION_ARGS) {
  return apply_or_insert(fcinfo, true);
}

// analytics.rollup_apply_lines(slot int2, lines refcursor) -> int8: rollup_apply with the line
// versions read from an open cursor instead of fifteen arrays (sqitch change rollup_apply_lines):
// the insert trigger opens its lines query as a cursor and the rows go from the portal straight
// into the deltas, without array_agg. The cursor's columns: sign int4, id int8, order_number text,
// transaction_time timestamptz, status text, amount numeric, quantity int4, is_suspicious bool,
// kind text, product text, category text, country text, platform text, payment_method text,
// customer_id int8 (another shape: an error). -1 (the cursor left unread) in the cases of
// rollup_apply; unique_violation likewise.
extern "C" PGDLLEXPORT Datum techmart_rollup_apply_lines(PG_FUNCTION_ARGS) {
  return apply_or_insert(fcinfo, false, true);
}

// ---------------------------------------------------------------------------------------------
// analytics.rollup_registry_add(order_number text[]) -> text[]: adds the statement's lines per
// order to analytics.order_registry (lines = lines + the order's count in the array; NULLs
// ignored), directly through the heap and its primary key instead of the INSERT ... SELECT ...
// GROUP BY ... ON CONFLICT DO UPDATE of template 'registry' (sqitch change rollup_registry_c).
// Orders in byte order (the template's ORDER BY order_number COLLATE "C": the same lock order); per
// order the probe, lock, update or insert of rollup_apply. Returns the orders that had lines before
// (their registry row had lines > 0: the orders with lines outside the statement, in byte order;
// '{}' when none), or NULL when the direct path does not apply (the caller runs the SQL upsert;
// nothing was written): isolation above READ COMMITTED, a table not as the rollup changes made it
// (columns order_number text COLLATE "C" and lines bigint, its one unique index on order_number, no
// CHECK, trigger, row security or publication), a transaction that already holds 32 subtransaction
// XIDs. unique_violation when another transaction inserted one of the orders meanwhile (the caller
// runs this in a subtransaction, with rollup_apply, and redoes both with SQL). Plain C.
extern "C" {
PG_FUNCTION_INFO_V1(techmart_rollup_registry_add);
}

namespace {

struct OrderRef {
  const char* data;
  int len;
};

int order_cmp(const void* a, const void* b) {
  const auto* x = static_cast<const OrderRef*>(a);
  const auto* y = static_cast<const OrderRef*>(b);
  const int r = memcmp(x->data, y->data, static_cast<std::size_t>(Min(x->len, y->len)));
  if (r != 0) return r;
  return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

bool registry_applies(Relation rel, int* att_order, int* att_lines, Oid* pkey) {
  if (!plain_heap(rel)) return false;
  TupleDesc desc = RelationGetDescr(rel);
  if (desc->natts != 2) return false;
  *att_order = SPI_fnumber(desc, "order_number");
  *att_lines = SPI_fnumber(desc, "lines");
  if (*att_order <= 0 || *att_lines <= 0) return false;
  const Form_pg_attribute o = TupleDescAttr(desc, *att_order - 1);
  const Form_pg_attribute l = TupleDescAttr(desc, *att_lines - 1);
  if (o->atttypid != TEXTOID || o->attcollation != C_COLLATION_OID || o->attisdropped ||
      l->atttypid != INT8OID || l->attisdropped) {
    return false;
  }
  if (desc->constr != nullptr && desc->constr->num_check != 0) return false;
  *pkey = sole_unique_btree(rel, att_order, 1);
  return OidIsValid(*pkey);
}

// an order of the registry: lines = old + the statement's count; *had_lines: old > 0
struct RegistryMerge {
  int att_order;
  int att_lines;
  const Datum* v;
  bool* had_lines;
};
void merge_order(const void* arg, const Datum* ov, const bool* on, Datum* nv, bool* nn) {
  const auto* m = static_cast<const RegistryMerge*>(arg);
  (void)on;
  (void)nn;
  *m->had_lines = DatumGetInt64(ov[m->att_lines - 1]) > 0;
  nv[m->att_order - 1] = m->v[m->att_order - 1];
  nv[m->att_lines - 1] = Int64GetDatum(
      add_int8(DatumGetInt64(ov[m->att_lines - 1]), DatumGetInt64(m->v[m->att_lines - 1])));
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_rollup_registry_add(PG_FUNCTION_ARGS) {
  const Oid relid = get_relname_relid("order_registry", get_namespace_oid("analytics", false));
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("rollup_registry_add: analytics.order_registry does not exist")));
  }
  Relation rel = table_open(relid, RowExclusiveLock);
  int att_order = 0;
  int att_lines = 0;
  Oid pkey = InvalidOid;
  // the subtransaction XIDs: as rollup_apply (the caller runs both in one subtransaction)
  const bool subxids_room = !MyProc->subxidStatus.overflowed &&
                            MyProc->subxidStatus.count < PGPROC_MAX_CACHED_SUBXIDS / 2;
  if (!subxids_room || !registry_applies(rel, &att_order, &att_lines, &pkey)) {
    table_close(rel, NoLock);
    PG_RETURN_NULL();
  }
  const Column col = read_array(fcinfo, 0, TEXTOID);
  auto* refs = static_cast<OrderRef*>(palloc(sizeof(OrderRef) * (col.n > 0 ? col.n : 1)));
  int n = 0;
  for (int i = 0; i < col.n; ++i) {
    if (col.nulls[i]) continue;
    const text* t = DatumGetTextPP(col.values[i]);
    refs[n].data = VARDATA_ANY(t);
    refs[n].len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
    ++n;
  }
  qsort(refs, static_cast<std::size_t>(n), sizeof(OrderRef), order_cmp);

  Relation idx = index_open(pkey, RowExclusiveLock);
  IndexInfo* ii = BuildIndexInfo(idx);
  SnapshotData dirty;
  InitDirtySnapshot(dirty);
  IndexScanDesc scan = index_beginscan(rel, idx, &dirty, 1, 0);
  TupleTableSlot* found = table_slot_create(rel, nullptr);
  MemoryContext row_ctx = AllocSetContextCreate(CurrentMemoryContext, "rollup_registry_add order",
                                                ALLOCSET_SMALL_SIZES);
  MemoryContext caller_ctx = CurrentMemoryContext;
  const RowWriter w{rel, idx,        ii,     scan, found, &dirty, GetCurrentCommandId(true),
                    1,   caller_ctx, row_ctx};
  // new orders written in batches (NewRows), flushed before an existing order is locked
  NewRows batch;
  batch.begin(rel, idx, ii, GetCurrentCommandId(true), caller_ctx, 1);
  // the orders that had lines before (into the function's context)
  auto* had = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
  int n_had = 0;
  for (int i = 0; i < n;) {
    int j = i + 1;
    while (j < n && order_cmp(&refs[i], &refs[j]) == 0) ++j;
    MemoryContextSwitchTo(row_ctx);
    Datum v[2];
    bool nl[2] = {false, false};
    v[att_order - 1] = PointerGetDatum(cstring_to_text_with_len(refs[i].data, refs[i].len));
    v[att_lines - 1] = Int64GetDatum(j - i);
    Datum iv[1] = {v[att_order - 1]};
    bool inl[1] = {false};
    ScanKeyData sk[1];
    ScanKeyInit(&sk[0], 1, BTEqualStrategyNumber, F_TEXTEQ, iv[0]);
    bool had_lines = false;
    const RegistryMerge m{att_order, att_lines, v, &had_lines};
    upsert_row(w, sk, iv, inl, v, nl, merge_order, &m, &batch);
    MemoryContextSwitchTo(caller_ctx);
    MemoryContextReset(row_ctx);
    if (had_lines) {
      had[n_had++] = PointerGetDatum(cstring_to_text_with_len(refs[i].data, refs[i].len));
    }
    i = j;
  }
  batch.end();
  ExecDropSingleTupleTableSlot(found);
  index_endscan(scan);
  index_close(idx, NoLock);
  table_close(rel, NoLock);
  MemoryContextDelete(row_ctx);
  PG_RETURN_ARRAYTYPE_P(construct_array(had, n_had, TEXTOID, -1, false, TYPALIGN_INT));
}
