// analytics.alert_counts_insert_row_c(): the row-level AFTER INSERT trigger on alerts that keeps
// analytics.alerts_hourly (alerts created and closed per UTC hour, per slot; sqitch changes
// overview_rollups and alert_counts_c). Declared by the sqitch change alert_counts_c, not by the
// extension script (the extension's version is left alone).
//
// The fraud engine writes its alerts one INSERT at a time, all in the hour of now(): a bulk load of
// transactions in one transaction updates the same alerts_hourly row once per alert. Done by an
// INSERT ... ON CONFLICT DO UPDATE per alert (the plpgsql trigger of change rollup_upkeep), each
// upsert paid an executor start and walked the row's versions this transaction had already written
// (they cannot be pruned before it ends): ~55 us per alert at 3,800 alerts in one transaction.
//
// Here: the first change of an (hour, slot) row in a transaction is that same upsert, through SPI
// (saved plan, RETURNING the new version's ctid). Later changes of that row in the same transaction
// update the version this transaction wrote last directly (simple_heap_update; plus an index entry
// when the update is not HOT): no other transaction can see, lock or update that version before
// this one commits, so there is no concurrency to handle. The cached version is used only when it
// is still what the upsert would find: the same relation file, written by this transaction (not by
// an aborted subtransaction), not updated or locked since, same hour and slot. Anything else — a
// new hour, a TRUNCATE, an UPDATE of the row by the statement triggers of alerts, a table that
// gained a trigger or an index — takes the SPI path. Same rows as the plpgsql trigger.
//
// Plain C (Postgres calls only, no C++ object): errors are ereport'ed directly.
#include "pg.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "common/int.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/syscache.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_alert_counts_insert);
}

namespace {

constexpr int64 kHourUs = INT64CONST(3600000000);
constexpr int kCache = 8;

// The row versions this transaction wrote last, per hour (a handful of hours per transaction).
struct CachedRow {
  TimestampTz hour;
  int16 slot;
  ItemPointerData tid;
};
TransactionId cache_xid = InvalidTransactionId;
Oid cache_rel = InvalidOid;
RelFileNode cache_node;
CachedRow cache[kCache];
int ncache = 0;
int cache_next = 0;  // round-robin replacement

SPIPlanPtr plan_upsert = nullptr;

// date_bin('1 hour', t, '2000-01-01 00:00+00') for a finite t (the origin is the epoch of
// TimestampTz)
TimestampTz hour_of(TimestampTz t) {
  TimestampTz h = t - t % kHourUs;
  if (t % kHourUs < 0) h -= kHourUs;
  return h;
}

void cache_reset_if_stale(Relation rel) {
  const TransactionId xid = GetTopTransactionIdIfAny();
  if (xid != cache_xid || RelationGetRelid(rel) != cache_rel ||
      !RelFileNodeEquals(rel->rd_node, cache_node)) {
    ncache = 0;
    cache_next = 0;
    cache_xid = xid;
    cache_rel = RelationGetRelid(rel);
    cache_node = rel->rd_node;
  }
}

void cache_put(TimestampTz hour, int16 slot, ItemPointer tid) {
  for (int i = 0; i < ncache; ++i) {
    if (cache[i].hour == hour) {
      cache[i].slot = slot;
      cache[i].tid = *tid;
      return;
    }
  }
  int i = ncache < kCache ? ncache++ : (cache_next++ % kCache);
  cache[i].hour = hour;
  cache[i].slot = slot;
  cache[i].tid = *tid;
}

// The one index of alerts_hourly (its primary key on plain columns), or InvalidOid when the table
// has other indexes, triggers or row security: then the direct update is not used.
Oid simple_pkey(Relation rel) {
  if (rel->trigdesc != nullptr || rel->rd_rel->relrowsecurity ||
      rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID) {
    return InvalidOid;
  }
  List* idx = RelationGetIndexList(rel);
  Oid only = list_length(idx) == 1 ? linitial_oid(idx) : InvalidOid;
  list_free(idx);
  return only;
}

// Adds (dc, dx) to the cached version of hour directly; false when that is not possible.
bool fast_update(Relation rel, TimestampTz hour, int64 dc, int64 dx) {
  int k = -1;
  for (int i = 0; i < ncache; ++i) {
    if (cache[i].hour == hour) k = i;
  }
  if (k < 0 || !TransactionIdIsValid(cache_xid)) return false;
  const Oid pkey = simple_pkey(rel);
  if (!OidIsValid(pkey)) return false;
  TupleDesc desc = RelationGetDescr(rel);
  const int a_hour = SPI_fnumber(desc, "hour"), a_slot = SPI_fnumber(desc, "slot"),
            a_created = SPI_fnumber(desc, "created"), a_closed = SPI_fnumber(desc, "closed");
  if (a_hour <= 0 || a_slot <= 0 || a_created <= 0 || a_closed <= 0 ||
      TupleDescAttr(desc, a_created - 1)->atttypid != INT8OID ||
      TupleDescAttr(desc, a_closed - 1)->atttypid != INT8OID) {
    return false;
  }
  ItemPointerData tid = cache[k].tid;
  const BlockNumber blk = ItemPointerGetBlockNumber(&tid);
  if (blk >= RelationGetNumberOfBlocks(rel)) return false;

  Buffer buf = ReadBuffer(rel, blk);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  const OffsetNumber off = ItemPointerGetOffsetNumber(&tid);
  bool ok = off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page);
  ItemId lp = ok ? PageGetItemId(page, off) : nullptr;
  ok = ok && ItemIdIsNormal(lp);
  HeapTupleData old;
  HeapTuple newtup = nullptr;
  bool new_cid = false;
  if (ok) {
    old.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, lp));
    old.t_len = ItemIdGetLength(lp);
    old.t_self = tid;
    old.t_tableOid = RelationGetRelid(rel);
    const HeapTupleHeader h = old.t_data;
    // written by this transaction (an aborted subtransaction's xid is not current), neither
    // updated nor locked since
    ok = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(h)) &&
         !(h->t_infomask & HEAP_XMIN_INVALID) &&
         (HeapTupleHeaderGetRawXmax(h) == InvalidTransactionId ||
          (h->t_infomask & HEAP_XMAX_INVALID));
    if (ok) {
      Datum v[MaxHeapAttributeNumber];
      bool n[MaxHeapAttributeNumber];
      heap_deform_tuple(&old, desc, v, n);
      ok = !n[a_hour - 1] && !n[a_slot - 1] && !n[a_created - 1] && !n[a_closed - 1] &&
           DatumGetTimestampTz(v[a_hour - 1]) == hour &&
           DatumGetInt16(v[a_slot - 1]) == cache[k].slot;
      if (ok) {
        // a version written by the current command cannot be updated by it: the next command
        // (SPI does the same before each statement)
        new_cid = HeapTupleHeaderGetCmin(h) >= GetCurrentCommandId(false);
        int64 c = DatumGetInt64(v[a_created - 1]), x = DatumGetInt64(v[a_closed - 1]);
        if (pg_add_s64_overflow(c, dc, &c) || pg_add_s64_overflow(x, dx, &x)) {
          ok = false;  // the SQL path raises the error
        } else {
          v[a_created - 1] = Int64GetDatum(c);
          v[a_closed - 1] = Int64GetDatum(x);
          newtup = heap_form_tuple(desc, v, n);
        }
      }
    }
  }
  UnlockReleaseBuffer(buf);
  if (!ok) return false;

  if (new_cid) CommandCounterIncrement();
  simple_heap_update(rel, &tid, newtup);
  if (!HeapTupleIsHeapOnly(newtup)) {  // not HOT: the primary key needs an entry for the version
    Relation idx = index_open(pkey, RowExclusiveLock);
    IndexInfo* ii = BuildIndexInfo(idx);
    Datum iv[INDEX_MAX_KEYS];
    bool in[INDEX_MAX_KEYS];
    bool simple = ii->ii_Expressions == NIL && ii->ii_Predicate == NIL;
    for (int i = 0; simple && i < ii->ii_NumIndexAttrs; ++i) {
      const AttrNumber a = ii->ii_IndexAttrNumbers[i];
      if (a <= 0) {
        simple = false;
      } else {
        iv[i] = heap_getattr(newtup, a, desc, &in[i]);
      }
    }
    if (!simple) {
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                      errmsg("alert counts: the primary key of analytics.alerts_hourly is not on "
                             "plain columns")));
    }
    index_insert(idx, iv, in, &newtup->t_self, rel, UNIQUE_CHECK_NO, false, ii);
    index_close(idx, NoLock);
  }
  cache[k].tid = newtup->t_self;
  heap_freetuple(newtup);
  return true;
}

// The upsert through SPI (the plpgsql trigger's statement): hour of t, analytics.rollup_slot();
// caches the version it wrote.
void spi_upsert(Relation rel, TimestampTz t, int64 dc, int64 dx) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "alert counts: SPI_connect failed");
  // names are qualified; the override keeps a caller's search_path out of this definer's query
  OverrideSearchPath path;
  path.schemas = NIL;
  path.addCatalog = true;
  path.addTemp = false;
  path.generation = 0;
  PushOverrideSearchPath(&path);
  if (plan_upsert == nullptr) {
    Oid types[3] = {TIMESTAMPTZOID, INT8OID, INT8OID};
    SPIPlanPtr p = SPI_prepare(
        "INSERT INTO analytics.alerts_hourly AS s (hour, slot, created, closed) "
        "VALUES (pg_catalog.date_bin('1 hour', $1, '2000-01-01 00:00+00'), "
        "analytics.rollup_slot(), $2, $3) "
        "ON CONFLICT (hour, slot) DO UPDATE SET created = s.created OPERATOR(pg_catalog.+) "
        "excluded.created, closed = s.closed OPERATOR(pg_catalog.+) excluded.closed "
        "RETURNING s.ctid, s.hour, s.slot",
        3, types);
    if (p == nullptr || SPI_keepplan(p) != 0) {
      elog(ERROR, "alert counts: could not prepare the upsert: %s",
           SPI_result_code_string(SPI_result));
    }
    plan_upsert = p;
  }
  Datum v[3] = {TimestampTzGetDatum(t), Int64GetDatum(dc), Int64GetDatum(dx)};
  const int rc = SPI_execute_plan(plan_upsert, v, nullptr, false, 0);
  PopOverrideSearchPath();
  if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1) {
    elog(ERROR, "alert counts: the upsert returned %s", SPI_result_code_string(rc));
  }
  bool n1, n2, n3;
  HeapTuple r = SPI_tuptable->vals[0];
  TupleDesc rd = SPI_tuptable->tupdesc;
  Datum ctid = SPI_getbinval(r, rd, 1, &n1);
  Datum hour = SPI_getbinval(r, rd, 2, &n2);
  Datum slot = SPI_getbinval(r, rd, 3, &n3);
  if (!n1 && !n2 && !n3) {
    cache_reset_if_stale(rel);  // the upsert may have given this transaction its xid
    cache_put(DatumGetTimestampTz(hour), DatumGetInt16(slot),
              reinterpret_cast<ItemPointer>(DatumGetPointer(ctid)));
  }
  SPI_finish();
}

void add(Relation rel, TimestampTz t, int64 dc, int64 dx) {
  if (!TIMESTAMP_NOT_FINITE(t)) {
    cache_reset_if_stale(rel);
    if (fast_update(rel, hour_of(t), dc, dx)) return;
  }
  spi_upsert(rel, t, dc, dx);
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_alert_counts_insert(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("alert_counts_insert_row_c: not called as a trigger")));
  }
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
      !TRIGGER_FIRED_BY_INSERT(td->tg_event)) {
    ereport(ERROR,
            (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
             errmsg("alert_counts_insert_row_c: must be an AFTER INSERT FOR EACH ROW trigger")));
  }
  TupleDesc ad = RelationGetDescr(td->tg_relation);
  const int a_created = SPI_fnumber(ad, "created_at"), a_ack = SPI_fnumber(ad, "acknowledged_at"),
            a_res = SPI_fnumber(ad, "resolved_at");
  if (a_created <= 0 || a_ack <= 0 || a_res <= 0) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("alert_counts_insert_row_c: the table lacks created_at, acknowledged_at "
                           "or resolved_at")));
  }
  bool n_created, n_ack, n_res;
  const TimestampTz created =
      DatumGetTimestampTz(heap_getattr(td->tg_trigtuple, a_created, ad, &n_created));
  const TimestampTz ack = DatumGetTimestampTz(heap_getattr(td->tg_trigtuple, a_ack, ad, &n_ack));
  const TimestampTz res = DatumGetTimestampTz(heap_getattr(td->tg_trigtuple, a_res, ad, &n_res));

  Oid relid = get_relname_relid("alerts_hourly", get_namespace_oid("analytics", false));
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("alert_counts_insert_row_c: analytics.alerts_hourly does not exist")));
  }
  Relation rel = table_open(relid, RowExclusiveLock);
  if (!n_created) {
    add(rel, created, 1, 0);
    // analytics.alert_closed_at: greatest(created, least(acknowledged, resolved)) when either is
    // set
    if (!n_ack || !n_res) {
      const TimestampTz first = n_ack ? res : (n_res ? ack : (ack < res ? ack : res));
      add(rel, first > created ? first : created, 0, 1);
    }
  } else {
    // created_at is NOT NULL in alerts; a NULL would count nowhere (as date_bin(NULL) in SQL)
  }
  table_close(rel, NoLock);
  return PointerGetDatum(nullptr);
}
