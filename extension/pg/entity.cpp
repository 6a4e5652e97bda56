// Entity risk in the insert path: the verdict counters of a row's entities (docs/entity-risk.md).
//
// For each entity rule enabled in the scorer, the row's key of that kind (the same text as
// techmart.entity_keys() computes in SQL), for device/ip/ip24/payment also the customer's own
// share (<kind>/customer), and the shop ('*'), each summed over the per-day buckets of the rule's
// window, day(t) - W < d <= day(t). The buckets come from an in-memory snapshot of
// techmart.entity_counts, loaded by the first row of a statement whose techmart.entity_version
// (bumped by every recount, i.e. every verdict change) differs from the loaded one, and kept
// across statements otherwise: a bulk insert reads the counters with one query (or none), not
// one per row. Above kMaxSnapshotRows counter rows each need is one indexed range query.
// Plain C: SPI and fmgr calls only; no C++ object with a destructor is alive here.
#include <sys/socket.h>  // AF_INET (PGSQL_AF_INET)

#include "entity_glue.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inet.h"
}

namespace core = techmart::core;

namespace techmart::pg::entity {

namespace {

constexpr int kKeyBytes = 256;                // "kind|entity"
constexpr uint64 kMaxSnapshotRows = 2000000;  // more counter rows: one query per lookup instead

// The counters as of the statement's snapshot, kept across statements while
// techmart.entity_version (bumped by every recount) is unchanged: "kind|entity" -> its buckets.
struct Bucket {
  int32 day;
  int64 frauds, labelled;
};
struct SnapEntry {
  char key[kKeyBytes];
  int nbuckets;
  Bucket* buckets;
};

MemoryContext snap_ctx = nullptr;
HTAB* snap = nullptr;  // nullptr with snap_loaded: too large, look up each need
bool snap_loaded = false;
char snap_token[64] = "";
LocalTransactionId checked_lxid = InvalidLocalTransactionId;
TimestampTz checked_stmt = 0;
SPIPlanPtr plan_token = nullptr;
SPIPlanPtr plan_snapshot = nullptr;
SPIPlanPtr plan_counts = nullptr;

// Attribute numbers of the identifier columns of the relation (0: absent).
Oid cols_relid = InvalidOid;
int att_device = 0, att_ip = 0, att_payment = 0;

void load_snapshot() {
  if (snap_ctx == nullptr) {
    snap_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart entity counters", ALLOCSET_DEFAULT_SIZES);
  }
  MemoryContextReset(snap_ctx);
  snap = nullptr;
  snap_loaded = false;
  if (plan_snapshot == nullptr) {
    plan_snapshot = fraud::prepare_kept(
        "SELECT kind || '|' || entity, day, frauds, labelled FROM techmart.entity_counts "
        "WHERE labelled <> 0 ORDER BY kind, entity, day",
        0, nullptr);
  }
  if (SPI_execute_plan(plan_snapshot, nullptr, nullptr, true, kMaxSnapshotRows + 1) !=
      SPI_OK_SELECT) {
    elog(ERROR, "techmart: could not read techmart.entity_counts");
  }
  const uint64 n = SPI_processed;
  if (n > kMaxSnapshotRows) {  // too many: exact lookups one by one
    SPI_freetuptable(SPI_tuptable);
    snap_loaded = true;
    return;
  }
  HASHCTL ctl;
  memset(&ctl, 0, sizeof ctl);
  ctl.keysize = kKeyBytes;
  ctl.entrysize = sizeof(SnapEntry);
  ctl.hcxt = snap_ctx;
  HTAB* h = hash_create("techmart entity counters", static_cast<long>(n / 2 + 64), &ctl,
                        HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
  Bucket* all = static_cast<Bucket*>(MemoryContextAlloc(snap_ctx, sizeof(Bucket) * (n + 1)));
  SnapEntry* cur = nullptr;
  char key[kKeyBytes];
  for (uint64 r = 0; r < n; ++r) {
    HeapTuple t = SPI_tuptable->vals[r];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    text* k = DatumGetTextPP(SPI_getbinval(t, d, 1, &isnull));
    if (VARSIZE_ANY_EXHDR(k) >= kKeyBytes) {  // a key the table cannot hold: exact lookups
      SPI_freetuptable(SPI_tuptable);
      MemoryContextReset(snap_ctx);
      snap_loaded = true;
      return;
    }
    text_to_cstring_buffer(k, key, sizeof key);
    Bucket& b = all[r];
    b.day = DatumGetDateADT(SPI_getbinval(t, d, 2, &isnull));
    b.frauds = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
    b.labelled = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
    if (cur == nullptr || strcmp(cur->key, key) != 0) {
      bool found = false;
      cur = static_cast<SnapEntry*>(hash_search(h, key, HASH_ENTER, &found));
      cur->nbuckets = 0;
      cur->buckets = &b;
    }
    ++cur->nbuckets;
  }
  SPI_freetuptable(SPI_tuptable);
  snap = h;
  snap_loaded = true;
}

// The token the scoring trigger read with the first query of this statement (note_entity_token).
char given_token[64] = "";
LocalTransactionId given_lxid = InvalidLocalTransactionId;
TimestampTz given_stmt = 0;

// Once per statement: the counters' version; a change reloads the snapshot.
void check_snapshot() {
  const LocalTransactionId lxid = MyProc->lxid;
  const TimestampTz stmt = GetCurrentStatementStartTimestamp();
  if (snap_loaded && lxid == checked_lxid && stmt == checked_stmt) return;
  char token[64] = "";
  if (lxid == given_lxid && stmt == given_stmt) {
    strlcpy(token, given_token, sizeof token);
  } else {
    if (plan_token == nullptr) {
      plan_token = fraud::prepare_kept(
          "SELECT v.xmin::text || '/' || v.version FROM techmart.entity_version v", 0, nullptr);
    }
    if (SPI_execute_plan(plan_token, nullptr, nullptr, true, 1) != SPI_OK_SELECT) {
      elog(ERROR, "techmart: could not read techmart.entity_version");
    }
    if (SPI_processed == 1) {
      bool isnull;
      Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
      if (!isnull) text_to_cstring_buffer(DatumGetTextPP(d), token, sizeof token);
    }
  }
  if (!snap_loaded || token[0] == '\0' || strcmp(token, snap_token) != 0) {
    load_snapshot();
    strlcpy(snap_token, token, sizeof snap_token);
  }
  checked_lxid = lxid;
  checked_stmt = stmt;
  cols_relid = InvalidOid;  // the table may have changed between statements
}

void lookup_columns(Relation rel) {
  if (cols_relid == RelationGetRelid(rel)) return;
  TupleDesc desc = RelationGetDescr(rel);
  const int d = SPI_fnumber(desc, "device_id");
  const int i = SPI_fnumber(desc, "ip_address");
  const int p = SPI_fnumber(desc, "payment_fingerprint");
  att_device = d > 0 && TupleDescAttr(desc, d - 1)->atttypid == TEXTOID ? d : 0;
  att_ip = i > 0 && TupleDescAttr(desc, i - 1)->atttypid == INETOID ? i : 0;
  att_payment = p > 0 && TupleDescAttr(desc, p - 1)->atttypid == TEXTOID ? p : 0;
  cols_relid = RelationGetRelid(rel);
}

// One counter range to read: the buckets of (kind, entity) with day in (day - window, day].
struct Need {
  char kind[24];
  char entity[kKeyBytes];
  int window;
  core::EntityCounts* out;
};

// Fills every need from the snapshot or, when it is too large, with one indexed query each.
// Plain C, SPI connected.
void fetch(Need* needs, int n, int32 day) {
  char key[2 * kKeyBytes];
  for (int i = 0; i < n; ++i) {
    Need& need = needs[i];
    need.out->frauds = need.out->labelled = 0;
    if (snap != nullptr) {
      snprintf(key, sizeof key, "%s|%s", need.kind, need.entity);
      if (strlen(key) >= kKeyBytes) continue;  // no counter row has such a key (load_snapshot)
      bool found = false;
      const auto* e = static_cast<const SnapEntry*>(hash_search(snap, key, HASH_FIND, &found));
      if (!found) continue;
      for (int b = 0; b < e->nbuckets; ++b) {
        const Bucket& x = e->buckets[b];
        if (x.day > day - need.window && x.day <= day) {
          need.out->frauds += x.frauds;
          need.out->labelled += x.labelled;
        }
      }
    } else {
      if (plan_counts == nullptr) {
        Oid args[4] = {TEXTOID, TEXTOID, DATEOID, DATEOID};
        plan_counts = fraud::prepare_kept(
            "SELECT coalesce(sum(frauds), 0)::int8, coalesce(sum(labelled), 0)::int8 "
            "FROM techmart.entity_counts WHERE kind = $1 AND entity = $2 AND day > $3 AND day <= "
            "$4",
            4, args);
      }
      Datum v[4] = {CStringGetTextDatum(need.kind), CStringGetTextDatum(need.entity),
                    DateADTGetDatum(day - need.window), DateADTGetDatum(day)};
      if (SPI_execute_plan(plan_counts, v, nullptr, true, 1) != SPI_OK_SELECT ||
          SPI_processed != 1) {
        elog(ERROR, "techmart: could not read techmart.entity_counts");
      }
      bool n1, n2;
      HeapTuple t = SPI_tuptable->vals[0];
      need.out->frauds = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &n1));
      need.out->labelled = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &n2));
      SPI_freetuptable(SPI_tuptable);
    }
    if (need.out->frauds < 0 || need.out->labelled < need.out->frauds) {
      ereport(ERROR,
              (errcode(ERRCODE_DATA_CORRUPTED),
               errmsg("techmart.entity_counts of %s %s are inconsistent", need.kind, need.entity),
               errhint("SELECT techmart.entity_rebuild()")));
    }
  }
}

// The key of kind k for this row (same text as techmart.entity_keys()); false when absent.
bool entity_key(core::EntityKind k, HeapTuple tuple, TupleDesc desc, int64 customer_id,
                int64 product_id, const core::TransactionInput& tx, char* buf, size_t size) {
  bool isnull = true;
  Datum d = 0;
  switch (k) {
    case core::EntityKind::kCustomer:
      snprintf(buf, size, "%lld", static_cast<long long>(customer_id));
      return true;
    case core::EntityKind::kProduct:
      if (product_id < 0) return false;
      snprintf(buf, size, "%lld", static_cast<long long>(product_id));
      return true;
    case core::EntityKind::kCountry:
      if (tx.country[0] == 0) return false;
      snprintf(buf, size, "%s", tx.country);
      return true;
    case core::EntityKind::kDevice:
    case core::EntityKind::kPayment: {
      const int att = k == core::EntityKind::kDevice ? att_device : att_payment;
      if (att == 0) return false;
      d = heap_getattr(tuple, att, desc, &isnull);
      if (isnull) return false;
      text_to_cstring_buffer(DatumGetTextPP(d), buf, size);
      return true;
    }
    case core::EntityKind::kIp:
    case core::EntityKind::kIpNet24: {
      if (att_ip == 0) return false;
      d = heap_getattr(tuple, att_ip, desc, &isnull);
      if (isnull) return false;
      Datum t;
      if (k == core::EntityKind::kIp) {
        t = DirectFunctionCall1(network_host, d);
      } else {
        const int bits = ip_family(DatumGetInetPP(d)) == PGSQL_AF_INET ? 24 : 64;
        t = DirectFunctionCall1(
            network_show,
            DirectFunctionCall1(network_network,
                                DirectFunctionCall2(inet_set_masklen, d, Int32GetDatum(bits))));
      }
      text_to_cstring_buffer(DatumGetTextPP(t), buf, size);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

void note_entity_token(const char* entity_token) {
  strlcpy(given_token, entity_token, sizeof given_token);
  given_lxid = MyProc->lxid;
  given_stmt = GetCurrentStatementStartTimestamp();
  checked_lxid = InvalidLocalTransactionId;  // compare it at the next observe()
}

bool observe(const core::Scorer& scorer, Relation rel, HeapTuple tuple, int64 customer_id,
             int64 product_id, const core::TransactionInput& tx, core::EntityInput* in) {
  // the scorer's entity rules, found once per scorer (its id is never reused)
  static std::uint64_t rules_of = 0;
  static const core::EntityRule* rules[core::kEntityKinds];
  static int nrules = 0;
  if (rules_of != scorer.id()) {
    nrules = 0;
    for (std::size_t i = 0; i < scorer.rule_count() && nrules < core::kEntityKinds; ++i) {
      const auto* r = dynamic_cast<const core::EntityRule*>(&scorer.rule(i));
      if (r != nullptr) rules[nrules++] = r;
    }
    rules_of = scorer.id();
  }
  if (nrules == 0) return false;
  check_snapshot();
  lookup_columns(rel);
  TupleDesc desc = RelationGetDescr(rel);
  const int32 day = static_cast<int32>(std::floor(tx.time / core::kSecondsPerDay)) -
                    (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
  for (int k = 0; k < core::kEntityKinds; ++k) {
    in->kinds[k].present = false;
    in->kinds[k].key[0] = '\0';
    in->kinds[k].entity = core::EntityCounts{};
    in->kinds[k].own = core::EntityCounts{};
    in->kinds[k].shop = core::EntityCounts{};
  }
  Need needs[3 * core::kEntityKinds];
  int nneeds = 0;
  for (int i = 0; i < nrules; ++i) {
    const core::EntityKind kind = rules[i]->kind();
    core::EntityObservation& o = in->kinds[static_cast<int>(kind)];
    char key[kKeyBytes];
    if (!entity_key(kind, tuple, desc, customer_id, product_id, tx, key, sizeof key)) continue;
    const int window = rules[i]->params().window_days;
    const char* kind_name = core::entity_kind_name(kind);  // noexcept for a valid kind
    o.present = true;
    strlcpy(o.key, key, sizeof o.key);
    Need& e = needs[nneeds++];
    strlcpy(e.kind, kind_name, sizeof e.kind);
    strlcpy(e.entity, key, sizeof e.entity);
    e.window = window;
    e.out = &o.entity;
    if (core::entity_excludes_own(kind)) {  // the customer's own share (<kind>/customer)
      Need& own = needs[nneeds++];
      snprintf(own.kind, sizeof own.kind, "%s/customer", kind_name);
      snprintf(own.entity, sizeof own.entity, "%s/%lld", key, static_cast<long long>(customer_id));
      own.window = window;
      own.out = &o.own;
    }
    Need& shop = needs[nneeds++];
    strlcpy(shop.kind, "*", sizeof shop.kind);
    strlcpy(shop.entity, "*", sizeof shop.entity);
    shop.window = window;
    shop.out = &o.shop;
  }
  fetch(needs, nneeds, day);
  return true;
}

}  // namespace techmart::pg::entity
