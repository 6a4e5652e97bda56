// Entity risk in the insert path: the verdict counters of a row's entities (docs/entity-risk.md).
//
// For each entity rule enabled in the scorer, the row's key of that kind (the same text as
// techmart.entity_keys() computes in SQL) and the sum of its per-day buckets in the rule's
// window, day(t) - W < d <= day(t), read from techmart.entity_counts with one indexed range
// lookup; the shop-wide buckets ('*', '*') likewise. Results are cached for the statement
// (keyed by kind, window, day and key) in a bounded hash, so a statement reads each bucket range
// once. Plain C: SPI and fmgr calls only; no C++ object with a destructor is alive here.
#include <sys/socket.h>  // AF_INET (PGSQL_AF_INET)

#include "entity_glue.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inet.h"
}

namespace core = techmart::core;

namespace techmart::pg::entity {

namespace {

constexpr int kKeyBytes = 240;      // kind|window|day|entity; longer entities are not cached
constexpr long kMaxCached = 65536;  // entries per statement before the cache is emptied

struct CacheEntry {
  char key[kKeyBytes];
  int64 frauds;
  int64 labelled;
};

MemoryContext cache_ctx = nullptr;
HTAB* cache = nullptr;
long ncached = 0;
LocalTransactionId cache_lxid = InvalidLocalTransactionId;
TimestampTz cache_stmt = 0;
SPIPlanPtr plan_counts = nullptr;

// Attribute numbers of the identifier columns of the relation (0: absent).
Oid cols_relid = InvalidOid;
int att_device = 0, att_ip = 0, att_payment = 0;

void new_statement_if_needed() {
  const LocalTransactionId lxid = MyProc->lxid;
  const TimestampTz stmt = GetCurrentStatementStartTimestamp();
  if (cache != nullptr && lxid == cache_lxid && stmt == cache_stmt && ncached < kMaxCached) return;
  if (cache_ctx == nullptr) {
    cache_ctx =
        AllocSetContextCreate(TopMemoryContext, "techmart entity counters", ALLOCSET_DEFAULT_SIZES);
  }
  MemoryContextReset(cache_ctx);
  HASHCTL ctl;
  memset(&ctl, 0, sizeof ctl);
  ctl.keysize = kKeyBytes;
  ctl.entrysize = sizeof(CacheEntry);
  ctl.hcxt = cache_ctx;
  cache =
      hash_create("techmart entity counters", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
  ncached = 0;
  cache_lxid = lxid;
  cache_stmt = stmt;
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

// Sum of the buckets of (kind, entity) with day in (day - window, day]; cached.
void counts(const char* kind, const char* entity, int window, int32 day, core::EntityCounts* out) {
  char key[kKeyBytes];
  const int len = snprintf(key, sizeof key, "%s|%d|%d|%s", kind, window, day, entity);
  const bool cacheable = len > 0 && len < kKeyBytes;
  if (cacheable) {
    bool found = false;
    auto* e = static_cast<CacheEntry*>(hash_search(cache, key, HASH_FIND, &found));
    if (found) {
      out->frauds = e->frauds;
      out->labelled = e->labelled;
      return;
    }
  }
  if (plan_counts == nullptr) {
    Oid args[4] = {TEXTOID, TEXTOID, DATEOID, DATEOID};
    plan_counts = fraud::prepare_kept(
        "SELECT coalesce(sum(frauds), 0)::int8, coalesce(sum(labelled), 0)::int8 "
        "FROM techmart.entity_counts WHERE kind = $1 AND entity = $2 AND day > $3 AND day <= $4",
        4, args);
  }
  Datum v[4] = {CStringGetTextDatum(kind), CStringGetTextDatum(entity),
                DateADTGetDatum(day - window), DateADTGetDatum(day)};
  if (SPI_execute_plan(plan_counts, v, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1) {
    elog(ERROR, "techmart: could not read techmart.entity_counts");
  }
  bool n1, n2;
  out->frauds = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n1));
  out->labelled =
      DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n2));
  SPI_freetuptable(SPI_tuptable);
  if (out->frauds < 0 || out->labelled < out->frauds) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("techmart.entity_counts of %s %s are inconsistent", kind, entity),
                    errhint("SELECT techmart.entity_rebuild()")));
  }
  if (cacheable) {
    bool found = false;
    auto* e = static_cast<CacheEntry*>(hash_search(cache, key, HASH_ENTER, &found));
    e->frauds = out->frauds;
    e->labelled = out->labelled;
    ++ncached;
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

bool observe(const core::Scorer& scorer, Relation rel, HeapTuple tuple, int64 customer_id,
             int64 product_id, const core::TransactionInput& tx, core::EntityInput* in) {
  const core::EntityRule* rules[core::kEntityKinds];
  int nrules = 0;
  for (std::size_t i = 0; i < scorer.rule_count() && nrules < core::kEntityKinds; ++i) {
    const auto* r = dynamic_cast<const core::EntityRule*>(&scorer.rule(i));
    if (r != nullptr) rules[nrules++] = r;
  }
  if (nrules == 0) return false;
  new_statement_if_needed();
  lookup_columns(rel);
  TupleDesc desc = RelationGetDescr(rel);
  const int32 day = static_cast<int32>(std::floor(tx.time / core::kSecondsPerDay)) -
                    (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
  for (int k = 0; k < core::kEntityKinds; ++k) {
    in->kinds[k].present = false;
    in->kinds[k].key[0] = '\0';
    in->kinds[k].entity = core::EntityCounts{};
    in->kinds[k].shop = core::EntityCounts{};
  }
  for (int i = 0; i < nrules; ++i) {
    const core::EntityKind kind = rules[i]->kind();
    core::EntityObservation& o = in->kinds[static_cast<int>(kind)];
    char key[256];
    if (!entity_key(kind, tuple, desc, customer_id, product_id, tx, key, sizeof key)) continue;
    const int window = rules[i]->params().window_days;
    const char* kind_name = core::entity_kind_name(kind);  // noexcept for a valid kind
    counts(kind_name, key, window, day, &o.entity);
    counts("*", "*", window, day, &o.shop);
    o.present = true;
    strlcpy(o.key, key, sizeof o.key);
  }
  return true;
}

}  // namespace techmart::pg::entity
