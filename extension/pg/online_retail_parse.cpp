// import.online_retail_parse(raw regclass, country_names text[], country_codes text[],
// special_patterns text[], special_reasons text[]): the staged lines of an Online Retail file
// parsed, validated, numbered and classified in one pass by core::online_retail::parse()
// (extension/core/.../online_retail.hpp; the rules of import.online_retail_parsed and
// import.uk_time). Declared by the sqitch change import_online_retail_c (migrations), not by the
// extension script: the extension's version is left alone.
//
// Reads the table raw (eight text columns: InvoiceNo, StockCode, Description, Quantity,
// InvoiceDate, UnitPrice, CustomerID, Country) in physical order (line = row_number() OVER (ORDER
// BY ctid) + 1, as the view numbers them; no synchronized scan). The countries (name -> ISO code)
// and the special StockCode patterns (LIKE patterns in priority order, with their reasons) come as
// arrays. Returns SETOF (line, inv, line_no, sku, descr, qty, ts, price, cust, cc, email, raw_hash,
// outcome) sorted by (ts, line), invalid lines (outcome 'invalid') last; raw_hash =
// hashtextextended(concat_ws(E'\x1f', the eight fields), 0). InvoiceDate is UK local time:
// timestamp AT TIME ZONE 'Europe/London' (PostgreSQL's timestamp_zone, once per distinct value).
//
// Boundary: the arrays and the table are read into plain palloc'd memory before any C++ object
// lives; the C++ part runs under guarded(); its PostgreSQL calls (the time zone, upper() of
// non-ASCII text, the output rows) go through pg_call().
#include <algorithm>

#include "boundary.hpp"
#include "techmart/core/online_retail.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "commands/sequence.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

namespace orr = techmart::core::online_retail;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::pg_call;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_online_retail_parse);
PG_FUNCTION_INFO_V1(techmart_online_retail_stage);
}

namespace {

constexpr int kFields = orr::kFields;
constexpr int kOutColumns = 13;

// a text[] argument as palloc'd C strings (no NULL element allowed)
char** read_text_array(FunctionCallInfo fcinfo, int i, int* n) {
  *n = 0;
  if (PG_ARGISNULL(i)) return nullptr;
  ArrayType* arr = PG_GETARG_ARRAYTYPE_P(i);
  if (ARR_NDIM(arr) > 1 || ARR_ELEMTYPE(arr) != TEXTOID) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("online_retail_parse: argument %d must be a one-dimensional text array",
                           i + 1)));
  }
  Datum* values;
  bool* nulls;
  deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, n);
  char** out = static_cast<char**>(palloc0(sizeof(char*) * (*n > 0 ? *n : 1)));
  for (int k = 0; k < *n; ++k) {
    if (nulls[k]) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("online_retail_parse: argument %d has a NULL element", i + 1)));
    }
    out[k] = text_to_cstring(DatumGetTextPP(values[k]));
  }
  return out;
}

// The staged table in plain memory: the bytes of every field in one buffer, per line and field
// its offset and length (-1: NULL), per line the raw hash.
struct Staged {
  StringInfoData bytes;
  int64* offset;
  int32* length;
  int64* hash;
  int64 n;
  int64 cap;
};

void read_staged(Oid relid, Staged* s) {
  Relation rel = table_open(relid, AccessShareLock);
  AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
  if (acl != ACLCHECK_OK) {
    aclcheck_error(acl, get_relkind_objtype(rel->rd_rel->relkind), RelationGetRelationName(rel));
  }
  if (rel->rd_rel->relkind != RELKIND_RELATION) {
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE),
             errmsg("online_retail_parse: \"%s\" is not a table", RelationGetRelationName(rel))));
  }
  // the first eight columns, all text
  TupleDesc td = RelationGetDescr(rel);
  int att[kFields];
  int found = 0;
  for (int a = 0; a < td->natts && found < kFields; ++a) {
    Form_pg_attribute f = TupleDescAttr(td, a);
    if (f->attisdropped) continue;
    if (f->atttypid != TEXTOID) {
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("online_retail_parse: column \"%s\" of \"%s\" is not of type text",
                             NameStr(f->attname), RelationGetRelationName(rel))));
    }
    att[found++] = a;
  }
  if (found < kFields) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("online_retail_parse: \"%s\" must have eight text columns",
                           RelationGetRelationName(rel))));
  }

  // the fields' bytes: at most the table's size (one allocation, no copies as it grows)
  initStringInfo(&s->bytes);
  const int64 table_bytes = static_cast<int64>(RelationGetNumberOfBlocks(rel)) * BLCKSZ;
  enlargeStringInfo(&s->bytes, static_cast<int>(std::min<int64>(table_bytes, MaxAllocSize / 2)));
  s->n = 0;
  s->cap = 1024;
  s->offset = static_cast<int64*>(palloc(sizeof(int64) * kFields * s->cap));
  s->length = static_cast<int32*>(palloc(sizeof(int32) * kFields * s->cap));
  s->hash = static_cast<int64*>(palloc(sizeof(int64) * s->cap));

  // physical order = ctid order (no synchronized scan: it could start mid-table)
  TableScanDesc scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, nullptr, true, false);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
    if ((s->n & 1023) == 0) CHECK_FOR_INTERRUPTS();
    if (s->n == s->cap) {
      s->cap *= 2;
      s->offset = static_cast<int64*>(repalloc_huge(s->offset, sizeof(int64) * kFields * s->cap));
      s->length = static_cast<int32*>(repalloc_huge(s->length, sizeof(int32) * kFields * s->cap));
      s->hash = static_cast<int64*>(repalloc_huge(s->hash, sizeof(int64) * s->cap));
    }
    slot_getallattrs(slot);
    // a line's fields are stored as concat_ws(E'\x1f', the fields) (NULLs skipped): the raw
    // hash is taken over those bytes, the fields are views into them
    const int start = s->bytes.len;
    bool first = true;
    for (int f = 0; f < kFields; ++f) {
      const int64 k = s->n * kFields + f;
      if (slot->tts_isnull[att[f]]) {
        s->offset[k] = 0;
        s->length[k] = -1;
        continue;
      }
      Datum d = slot->tts_values[att[f]];
      struct varlena* v = PG_DETOAST_DATUM_PACKED(d);
      const char* p = VARDATA_ANY(v);
      const int len = VARSIZE_ANY_EXHDR(v);
      if (!first) appendStringInfoChar(&s->bytes, '\x1f');
      first = false;
      s->offset[k] = s->bytes.len;
      s->length[k] = len;
      appendBinaryStringInfo(&s->bytes, p, len);
      if (reinterpret_cast<Pointer>(v) != DatumGetPointer(d)) pfree(v);
    }
    s->hash[s->n] = DatumGetInt64(hash_any_extended(
        reinterpret_cast<const unsigned char*>(s->bytes.data + start), s->bytes.len - start, 0));
    ++s->n;
  }
  ExecDropSingleTupleTableSlot(slot);
  table_endscan(scan);
  table_close(rel, NoLock);
}

// UK local time -> timestamptz: timestamp AT TIME ZONE 'Europe/London' (may raise: pg_call)
TimestampTz uk_time_pg(const orr::LocalTime& t, Datum zone) {
  struct pg_tm tm;
  std::memset(&tm, 0, sizeof tm);
  tm.tm_year = t.year;
  tm.tm_mon = t.month;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = t.second;
  Timestamp ts;
  if (tm2timestamp(&tm, 0, nullptr, &ts) != 0) {
    ereport(ERROR,
            (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
  }
  return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, zone, TimestampGetDatum(ts)));
}

Datum text_datum(std::string_view s) {
  return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

// The parsed lines, in (ts, line) order, as output rows: emit(v, nulls, line index) is called for
// each from inside pg_call() (PostgreSQL code only, no C++ object), 256 rows per call, in a
// memory context reset after each batch. Arguments from first_arg: the staging table, then the
// four arrays.
struct Batch {
  Datum v[kOutColumns];
  bool nulls[kOutColumns];
};

template <typename Emit>
void parse_staged(FunctionCallInfo fcinfo, int table_arg, int first_array_arg, const char* what,
                  Emit&& emit) {
  if (PG_ARGISNULL(table_arg)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("%s: the staging table must not be NULL", what)));
  }
  int n_names, n_codes, n_patterns, n_reasons;
  char** names = read_text_array(fcinfo, first_array_arg, &n_names);
  char** codes = read_text_array(fcinfo, first_array_arg + 1, &n_codes);
  char** patterns = read_text_array(fcinfo, first_array_arg + 2, &n_patterns);
  char** reasons = read_text_array(fcinfo, first_array_arg + 3, &n_reasons);
  if (n_names != n_codes || n_patterns != n_reasons) {
    ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                    errmsg("%s: country names and codes, special patterns and reasons must come in "
                           "arrays of the same length",
                           what)));
  }
  for (int k = 0; k < n_codes; ++k) {  // the domain country_code: ^[A-Z]{2}$
    const char* c = codes[k];
    if (!(c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0')) {
      ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                      errmsg("%s: country code \"%s\" is not two letters A-Z", what, c)));
    }
  }
  Staged staged;
  read_staged(PG_GETARG_OID(table_arg), &staged);
  Datum zone = PointerGetDatum(cstring_to_text("Europe/London"));
  MemoryContext row_ctx =
      AllocSetContextCreate(CurrentMemoryContext, "online_retail rows", ALLOCSET_DEFAULT_SIZES);

  ErrorInfo err;
  if (!guarded(err, what, [&] {
        std::vector<orr::RawLine> raw(static_cast<std::size_t>(staged.n));
        for (int64 i = 0; i < staged.n; ++i) {
          orr::RawLine& r = raw[static_cast<std::size_t>(i)];
          for (int f = 0; f < kFields; ++f) {
            const int64 k = i * kFields + f;
            r.null[f] = staged.length[k] < 0;
            if (!r.null[f]) {
              r.field[f] = std::string_view(staged.bytes.data + staged.offset[k],
                                            static_cast<std::size_t>(staged.length[k]));
            }
          }
        }
        orr::Rules rules;
        for (int k = 0; k < n_names; ++k) rules.countries.emplace_back(names[k], codes[k]);
        for (int k = 0; k < n_patterns; ++k) rules.specials.emplace_back(patterns[k], reasons[k]);
        orr::Hooks hooks;
        hooks.uk_time = [&](const orr::LocalTime& t) {
          TimestampTz ts = 0;
          pg_call([&] { ts = uk_time_pg(t, zone); });
          return static_cast<std::int64_t>(ts);
        };
        hooks.upper = [&](std::string_view s) {
          const char* u = nullptr;
          int len = 0;
          pg_call([&] {
            text* t = DatumGetTextPP(
                DirectFunctionCall1Coll(upper, DEFAULT_COLLATION_OID, text_datum(s)));
            u = VARDATA_ANY(t);
            len = VARSIZE_ANY_EXHDR(t);
          });
          return std::string(u, static_cast<std::size_t>(len));
        };
        const orr::Parsed parsed = orr::parse(raw, rules, hooks);

        // the rows, 256 at a time under one PG_TRY (no C++ object is created inside)
        const std::size_t n = parsed.order.size();
        for (std::size_t from = 0; from < n; from += 256) {
          const std::size_t to = std::min(n, from + 256);
          pg_call([&] {
            MemoryContext old = MemoryContextSwitchTo(row_ctx);
            for (std::size_t k = from; k < to; ++k) {
              const std::uint32_t idx = parsed.order[k];
              const orr::ParsedLine& p = parsed.lines[idx];
              Batch b;
              Datum* v = b.v;
              bool* nulls = b.nulls;
              std::memset(nulls, 0, sizeof b.nulls);
              v[0] = Int64GetDatum(p.line);
              v[1] = text_datum(p.inv);
              v[2] = Int32GetDatum(p.line_no);
              v[3] = text_datum(p.sku);
              v[4] = p.has_descr ? text_datum(p.descr) : 0;
              nulls[4] = !p.has_descr;
              v[5] = Int32GetDatum(p.qty);
              nulls[5] = !p.has_qty;
              v[6] = TimestampTzGetDatum(p.ts);
              nulls[6] = !p.has_ts;
              v[7] = p.has_price
                         ? NumericGetDatum(int64_div_fast_to_numeric(p.price.units, p.price.scale))
                         : 0;
              nulls[7] = !p.has_price;
              v[8] = Int64GetDatum(p.cust);
              nulls[8] = !p.has_cust;
              v[9] = p.has_cc ? text_datum(p.cc) : 0;
              nulls[9] = !p.has_cc;
              v[10] = p.has_email ? text_datum(p.email) : 0;
              nulls[10] = !p.has_email;
              v[11] = Int64GetDatum(staged.hash[idx]);
              v[12] = text_datum(p.outcome);
              emit(b, p);
            }
            MemoryContextSwitchTo(old);
            MemoryContextReset(row_ctx);
          });
        }
      })) {
    raise(err);
  }
  MemoryContextDelete(row_ctx);
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_online_retail_parse(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  parse_staged(fcinfo, 0, 1, "online_retail_parse", [&](Batch& b, const orr::ParsedLine&) {
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, b.v, b.nulls);
  });
  return static_cast<Datum>(0);
}

// import.online_retail_stage(raw regclass, target regclass, seq regclass, the four arrays): the
// rows of online_retail_parse(raw, ...) written straight into target (the temporary table
// or_stage of import.online_retail(): the same thirteen columns, then tx_id bigint = nextval(seq)
// for the outcomes sale and refund, drawn in the rows' order; no index, trigger or constraint
// allowed on it) instead of going through a tuplestore and CREATE TABLE AS; returns (lines,
// invalid, transactions, ts_from, ts_to, id_from, id_to) of what it wrote.
extern "C" PGDLLEXPORT Datum techmart_online_retail_stage(PG_FUNCTION_ARGS) {
  static const char* kWhat = "online_retail_stage";
  if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("%s: the target table and the sequence must not be NULL", kWhat)));
  }
  TupleDesc result_desc;
  if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s: must be called in a context that accepts a record", kWhat)));
  }
  const Oid seq = PG_GETARG_OID(2);
  Relation target = table_open(PG_GETARG_OID(1), RowExclusiveLock);
  AclResult acl = pg_class_aclcheck(RelationGetRelid(target), GetUserId(), ACL_INSERT);
  if (acl != ACLCHECK_OK) {
    aclcheck_error(acl, get_relkind_objtype(target->rd_rel->relkind),
                   RelationGetRelationName(target));
  }
  // exactly the columns of the rows plus tx_id, and nothing that an INSERT would have to check or
  // maintain
  static const Oid kTypes[kOutColumns + 1] = {
      INT8OID,    TEXTOID, INT4OID,   TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID,
      NUMERICOID, INT8OID, BPCHAROID, TEXTOID, INT8OID, TEXTOID, INT8OID};
  TupleDesc td = RelationGetDescr(target);
  bool shape = target->rd_rel->relkind == RELKIND_RELATION && td->natts == kOutColumns + 1 &&
               target->trigdesc == nullptr && target->rd_rel->relhasindex == false &&
               (td->constr == nullptr || (td->constr->num_check == 0 && !td->constr->has_not_null &&
                                          td->constr->num_defval == 0));
  for (int a = 0; shape && a < td->natts; ++a) {
    Form_pg_attribute f = TupleDescAttr(td, a);
    shape = !f->attisdropped && getBaseType(f->atttypid) == kTypes[a];
  }
  if (!shape || RelationGetIndexList(target) != NIL) {
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE),
             errmsg("%s: \"%s\" must be a table of the rows' fourteen columns without index, "
                    "trigger, constraint or default",
                    kWhat, RelationGetRelationName(target))));
  }
  TupleTableSlot* slot = table_slot_create(target, nullptr);
  BulkInsertState bistate = GetBulkInsertState();
  const CommandId cid = GetCurrentCommandId(true);
  int64 n_lines = 0, n_invalid = 0, n_tx = 0;
  TimestampTz ts_from = 0, ts_to = 0;
  int64 id_from = 0, id_to = 0;

  parse_staged(fcinfo, 0, 3, kWhat, [&](Batch& b, const orr::ParsedLine& p) {
    ExecClearTuple(slot);
    std::memcpy(slot->tts_values, b.v, sizeof(Datum) * kOutColumns);
    std::memcpy(slot->tts_isnull, b.nulls, sizeof(bool) * kOutColumns);
    const bool tx = p.outcome == "sale" || p.outcome == "refund";
    slot->tts_isnull[kOutColumns] = !tx;
    slot->tts_values[kOutColumns] = 0;
    ++n_lines;
    if (p.outcome == "invalid") ++n_invalid;
    if (tx) {
      const int64 id = nextval_internal(seq, true);
      slot->tts_values[kOutColumns] = Int64GetDatum(id);
      if (n_tx == 0 || p.ts < ts_from) ts_from = p.ts;
      if (n_tx == 0 || p.ts > ts_to) ts_to = p.ts;
      if (n_tx == 0 || id < id_from) id_from = id;
      if (n_tx == 0 || id > id_to) id_to = id;
      ++n_tx;
    }
    ExecStoreVirtualTuple(slot);
    table_tuple_insert(target, slot, cid, 0, bistate);
  });
  FreeBulkInsertState(bistate);
  ExecDropSingleTupleTableSlot(slot);
  table_close(target, NoLock);

  Datum v[7];
  bool nulls[7] = {false, false, false, n_tx == 0, n_tx == 0, n_tx == 0, n_tx == 0};
  v[0] = Int64GetDatum(n_lines);
  v[1] = Int64GetDatum(n_invalid);
  v[2] = Int64GetDatum(n_tx);
  v[3] = TimestampTzGetDatum(ts_from);
  v[4] = TimestampTzGetDatum(ts_to);
  v[5] = Int64GetDatum(id_from);
  v[6] = Int64GetDatum(id_to);
  result_desc = BlessTupleDesc(result_desc);
  return HeapTupleGetDatum(heap_form_tuple(result_desc, v, nulls));
}
