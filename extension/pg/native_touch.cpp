// The first touch of a customer without the SPI executor: see native_touch.hpp.
//
// Concurrency is that of the SELECT ... FOR UPDATE it replaces (nodeLockRows.c): the state row
// visible to a new snapshot is locked with table_tuple_lock(LockTupleExclusive, LockWaitBlock);
// under READ COMMITTED the lock follows the update chain (TUPLE_LOCK_FLAG_FIND_LAST_VERSION) and
// the row read is the latest committed version (what EvalPlanQual would return); under
// REPEATABLE READ / SERIALIZABLE a concurrent update or delete is a serialization failure.
// A row that does not exist yet is created by the caller with INSERT ... ON CONFLICT DO NOTHING
// (waits for a concurrent creator) before the next touch. Index and heap access go through the
// table/index AM, so SSI predicate locks are taken as the executor takes them.
#include "native_touch.hpp"

#include "numeric_conv.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

// the CHECK function of customer_state (fraud_functions.cpp)
Datum techmart_customer_state_valid(PG_FUNCTION_ARGS);
}

namespace fraud = techmart::pg::fraud;

namespace techmart::pg::native {

namespace {

// ------------------------------------------------------------------ the lookups, cached
// Relation and attribute numbers, resolved by name (like the SPI queries) and kept until a
// relcache invalidation of one of the relations (ALTER/DROP/GRANT...) or another schema.
enum Rel { kState, kCustomers, kProducts, kConfig, kEntity, kNRels };
enum Index { kStateKey, kCustomersKey, kProductsKey, kNIndexes };

struct Lookups {
  bool valid;
  Oid nsp;
  Oid rel[kNRels];
  Oid index[kNIndexes];
  AttrNumber state_key;                        // customer_state.customer_id
  AttrNumber customer_key, product_key;        // customers.id, products.id
  AttrNumber state_att[fraud::kStateColumns];  // in the order of TECHMART_STATE_COLUMNS
  AttrNumber country, registered, risk;        // customers
  bool country_bpchar;                         // char(n): trailing blanks are not part of it
  AttrNumber price, category;                  // products
  AttrNumber config_version, entity_version;
  // the write-back without the executor (write_state): the state table as the engine knows it
  bool write_ok;
  AttrNumber updated_at;
  // customers.risk_score written without the executor (write_risks): customers as the migrations
  // make it, see risk_writable()
  bool risk_ok;
};
Lookups L;
bool callback_registered = false;
void forget_hints();  // the location hints (below), dropped with the lookups
// the privilege / row-level security check of the statement's first touch: its outcome and role
bool access_ok = false;
Oid access_user = InvalidOid;

void invalidate(Datum, Oid relid) {
  if (!L.valid) return;
  if (!OidIsValid(relid)) {
    L.valid = false;
    return;
  }
  for (Oid r : L.rel) {
    if (r == relid) L.valid = false;
  }
  for (Oid i : L.index) {
    if (i == relid) L.valid = false;
  }
}

constexpr const char* kStateNames[fraud::kStateColumns] = {"n",
                                                           "mean",
                                                           "m2",
                                                           "amount_hist",
                                                           "recent_t",
                                                           "recent_a",
                                                           "hour_profile",
                                                           "profile_time",
                                                           "last_transaction_time",
                                                           "last_amount",
                                                           "last_lat",
                                                           "last_lon",
                                                           "last_country",
                                                           "methods",
                                                           "risk",
                                                           "risk_time"};
constexpr int kRecentTColumn = 4;
constexpr bool same_name(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || same_name(a + 1, b + 1));
}
static_assert(same_name(kStateNames[kRecentTColumn], "recent_t"), "kRecentTColumn");
constexpr Oid kStateTypes[fraud::kStateColumns] = {
    INT8OID,        FLOAT8OID, FLOAT8OID,      INT4ARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
    FLOAT8ARRAYOID, FLOAT8OID, TIMESTAMPTZOID, NUMERICOID,   FLOAT8OID,      FLOAT8OID,
    TEXTOID,        INT4OID,   FLOAT8OID,      FLOAT8OID};

// Attribute number of column `name` when its type (a domain's base type) is one of `types`
// (*which: its index there); 0 when absent or of another type.
AttrNumber column(Relation rel, const char* name, std::initializer_list<Oid> types,
                  int* which = nullptr) {
  TupleDesc d = RelationGetDescr(rel);
  for (int i = 0; i < d->natts; ++i) {
    Form_pg_attribute a = TupleDescAttr(d, i);
    if (a->attisdropped || strcmp(NameStr(a->attname), name) != 0) continue;
    const Oid base = getBaseType(a->atttypid);
    int k = 0;
    for (Oid t : types) {
      if (base == t) {
        if (which != nullptr) *which = k;
        return a->attnum;
      }
      ++k;
    }
    return 0;
  }
  return 0;
}

// The primary key of rel, when it is a btree over the single bigint column `key` (int8 =).
Oid bigint_primary_key(Relation rel, AttrNumber key) {
  if (key <= 0 || rel->rd_rel->relkind != RELKIND_RELATION) return InvalidOid;
  const Oid idx = RelationGetPrimaryKeyIndex(rel);
  if (!OidIsValid(idx)) return InvalidOid;
  Relation ix = index_open(idx, AccessShareLock);
  bool ok = ix->rd_rel->relam == BTREE_AM_OID && ix->rd_index->indnkeyatts == 1 &&
            ix->rd_index->indkey.values[0] == key && ix->rd_index->indisvalid;
  if (ok) {
    const Oid op = get_opfamily_member(ix->rd_opfamily[0], INT8OID, INT8OID, BTEqualStrategyNumber);
    ok = OidIsValid(op) && get_opcode(op) == F_INT8EQ;
  }
  index_close(ix, NoLock);
  return ok ? idx : InvalidOid;
}

constexpr LOCKMODE kLock[kNRels] = {RowShareLock, AccessShareLock, AccessShareLock, AccessShareLock,
                                    AccessShareLock};

// Citus (docs/scaling.md): on a worker, customers and customer_state are empty shells of the
// distributed tables and the rows live in shard tables the SPI query is routed to by Citus's
// planner. With Citus loaded (it must be preloaded), the touch stays the SPI query.
bool citus_loaded() {
  const char* libs = shared_preload_libraries_string;
  return libs != nullptr && strstr(libs, "citus") != nullptr;
}

// Arguments of techmart.customer_state_valid(n, mean, m2, risk, amount_hist, hour_profile,
// recent_t, recent_a): indices into the state columns (kStateNames)
constexpr int kValidArgs[8] = {0, 1, 2, 14, 3, 6, 4, 5};

// Can write_state() update the state row of rel as the executor's UPDATE would? Only for the table
// as the engine's migrations make it: the state columns of exactly their types (no domain), an
// updated_at timestamptz, no trigger, no rule, no generated column, one index (the primary key:
// never changed, so an update is HOT whenever the page has room) and one CHECK constraint,
// customer_state_valid, a call of the engine's own C function with the state columns. Anything
// else (a DBA's extra index, trigger or constraint) keeps the write-back an SPI UPDATE.
bool writable(Relation rel, Lookups* n) {
  TupleDesc d = RelationGetDescr(rel);
  if (rel->trigdesc != nullptr || rel->rd_rules != nullptr) return false;
  for (int i = 0; i < fraud::kStateColumns; ++i) {
    if (TupleDescAttr(d, n->state_att[i] - 1)->atttypid != kStateTypes[i]) return false;
  }
  n->updated_at = column(rel, "updated_at", {TIMESTAMPTZOID});
  if (n->updated_at <= 0 || TupleDescAttr(d, n->updated_at - 1)->atttypid != TIMESTAMPTZOID) {
    return false;
  }
  const TupleConstr* c = d->constr;
  if (c == nullptr || c->has_generated_stored || c->num_check != 1) return false;
  const ConstrCheck& check = c->check[0];
  if (!check.ccvalid || strcmp(check.ccname, "customer_state_valid") != 0) return false;
  Node* expr = static_cast<Node*>(stringToNode(check.ccbin));
  if (!IsA(expr, FuncExpr)) return false;
  const FuncExpr* f = reinterpret_cast<FuncExpr*>(expr);
  if (list_length(f->args) != 8) return false;
  for (int i = 0; i < 8; ++i) {
    const Node* a = static_cast<Node*>(list_nth(f->args, i));
    if (!IsA(a, Var) || reinterpret_cast<const Var*>(a)->varattno != n->state_att[kValidArgs[i]]) {
      return false;
    }
  }
  FmgrInfo fi;
  fmgr_info(f->funcid, &fi);
  if (fi.fn_addr != techmart_customer_state_valid) return false;
  List* indexes = RelationGetIndexList(rel);
  const bool one_index = list_length(indexes) == 1 && linitial_oid(indexes) == n->index[kStateKey];
  list_free(indexes);
  return one_index;
}

// Can write_risks() update customers.risk_score as the executor's UPDATE would? When no trigger
// but the foreign keys' (they act only when a key changes; a deferrable unique constraint's
// recheck trigger, a user trigger or a rule keeps the SPI UPDATE), no stored generated column,
// and the only CHECK constraint that reads risk_score is customers_risk_score_check as the
// migrations define it (the engine's scores are within it by construction: 0..100). The other
// CHECKs read only columns the update does not change (a row that violates a NOT VALID one of them
// would make the executor's UPDATE fail; this one writes the score). The indexes are maintained as
// the executor maintains them (ExecInsertIndexTuples), whatever they are.
bool risk_writable(Relation rel, AttrNumber risk) {
  if (rel->rd_rules != nullptr) return false;
  if (rel->trigdesc != nullptr) {
    for (int i = 0; i < rel->trigdesc->numtriggers; ++i) {
      const Trigger& t = rel->trigdesc->triggers[i];
      if (!t.tgisinternal || RI_FKey_trigger_type(t.tgfoid) == RI_TRIGGER_NONE) return false;
    }
  }
  TupleConstr* c = RelationGetDescr(rel)->constr;
  if (c == nullptr) return true;
  if (c->has_generated_stored) return false;
  for (int i = 0; i < c->num_check; ++i) {
    Bitmapset* attrs = nullptr;
    pull_varattnos(static_cast<Node*>(stringToNode(c->check[i].ccbin)), 1, &attrs);
    const bool whole_row =
        bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, attrs);
    if (!whole_row && !bms_is_member(risk - FirstLowInvalidHeapAttributeNumber, attrs)) continue;
    if (whole_row || strcmp(c->check[i].ccname, "customers_risk_score_check") != 0) return false;
    const Oid con = get_relation_constraint_oid(RelationGetRelid(rel), c->check[i].ccname, false);
    const char* def = TextDatumGetCString(
        DirectFunctionCall2(pg_get_constraintdef_ext, ObjectIdGetDatum(con), BoolGetDatum(false)));
    if (strcmp(def, "CHECK (((risk_score >= (0)::numeric) AND (risk_score <= (100)::numeric)))") !=
        0) {
      return false;
    }
  }
  return true;
}

// Resolves everything for schema nsp (the relations stay locked until the transaction ends,
// as the SPI query's would). False: not the expected tables.
bool compute(Oid nsp) {
  L.valid = false;
  if (citus_loaded()) return false;
  if (!callback_registered) {
    CacheRegisterRelcacheCallback(invalidate, 0);
    callback_registered = true;
  }
  Lookups n;
  memset(&n, 0, sizeof n);
  n.nsp = nsp;
  const Oid tm = get_namespace_oid("techmart", true);
  if (!OidIsValid(tm)) return false;
  n.rel[kState] = get_relname_relid("customer_state", tm);
  n.rel[kCustomers] = get_relname_relid("customers", nsp);
  n.rel[kProducts] = get_relname_relid("products", nsp);
  n.rel[kConfig] = get_relname_relid("config_version", tm);
  n.rel[kEntity] = get_relname_relid("entity_version", tm);
  for (Oid r : n.rel) {
    if (!OidIsValid(r)) return false;
  }
  Relation rels[kNRels];
  for (int i = 0; i < kNRels; ++i) rels[i] = table_open(n.rel[i], kLock[i]);
  bool ok = true;
  for (int i = 0; i < kNRels; ++i) ok = ok && rels[i]->rd_rel->relkind == RELKIND_RELATION;
  if (ok) {
    n.state_key = column(rels[kState], "customer_id", {INT8OID});
    for (int i = 0; i < fraud::kStateColumns; ++i) {
      n.state_att[i] = column(rels[kState], kStateNames[i], {kStateTypes[i]});
      ok = ok && n.state_att[i] > 0;
    }
    int country_type = -1;
    n.country =
        column(rels[kCustomers], "country", {BPCHAROID, TEXTOID, VARCHAROID}, &country_type);
    n.country_bpchar = country_type == 0;
    n.registered = column(rels[kCustomers], "registration_date", {TIMESTAMPTZOID});
    n.risk = column(rels[kCustomers], "risk_score", {NUMERICOID});
    n.price = column(rels[kProducts], "price", {NUMERICOID});
    n.category = column(rels[kProducts], "category_id", {INT8OID});
    n.config_version = column(rels[kConfig], "version", {INT8OID});
    n.entity_version = column(rels[kEntity], "version", {INT8OID});
    ok = ok && n.country > 0 && n.registered > 0 && n.risk > 0 && n.price > 0 && n.category > 0 &&
         n.config_version > 0 && n.entity_version > 0;
  }
  if (ok) {
    n.index[kStateKey] = bigint_primary_key(rels[kState], n.state_key);
    n.customer_key = column(rels[kCustomers], "id", {INT8OID});
    n.product_key = column(rels[kProducts], "id", {INT8OID});
    n.index[kCustomersKey] = bigint_primary_key(rels[kCustomers], n.customer_key);
    n.index[kProductsKey] = bigint_primary_key(rels[kProducts], n.product_key);
    for (Oid i : n.index) ok = ok && OidIsValid(i);
  }
  if (ok) n.write_ok = writable(rels[kState], &n);
  if (ok) n.risk_ok = risk_writable(rels[kCustomers], n.risk);
  for (int i = 0; i < kNRels; ++i) table_close(rels[i], NoLock);
  if (!ok) return false;
  n.valid = true;
  L = n;
  forget_hints();
  return true;
}

// Privileges the SPI query needs (table level; column grants: the SPI query decides) and no
// row-level security: checked with the first touch of every statement (they depend on the role).
bool allowed() {
  const Oid user = GetUserId();
  if (pg_class_aclcheck(L.rel[kState], user, ACL_SELECT) != ACLCHECK_OK ||
      pg_class_aclcheck(L.rel[kState], user, ACL_UPDATE) != ACLCHECK_OK) {
    return false;
  }
  for (int i = kCustomers; i < kNRels; ++i) {
    if (pg_class_aclcheck(L.rel[i], user, ACL_SELECT) != ACLCHECK_OK) return false;
  }
  for (Oid r : L.rel) {
    if (check_enable_rls(r, InvalidOid, true) == RLS_ENABLED) return false;
  }
  return true;
}

bool ready(Oid nsp) { return L.valid && L.nsp == nsp; }

// The relations of a touch, opened (locked) by begin() and closed (the locks kept until the
// transaction ends, as the SPI query's) by close_rels()
Relation R[kNRels];

void close_rels() {
  for (Relation& r : R) {
    if (r != nullptr) table_close(r, NoLock);
    r = nullptr;
  }
}

// ------------------------------------------------------------------ location hints
// Where the row version a lookup found lay (TID and the shared buffer that held its page), kept
// across statements so that the next lookup of the same key reads that version directly instead
// of descending the primary key. A hint is only a guess, checked like heap_fetch() checks a TID:
// ReadRecentBuffer() pins the buffer only while it still holds that block of this relation (a
// rewritten, truncated or evicted block is simply a miss), and the tuple at the TID is used only
// when it is a normal line pointer, visible to the statement's snapshot and of the same key. Under
// an MVCC snapshot and a unique key at most one version of a key is visible, so a tuple passing
// these checks is the one the index scan returns (a newer committed version makes the hinted one
// invisible: a miss, then the index). Not used under SERIALIZABLE (the index scan's predicate
// locks) nor for temporary relations.
struct Hint {
  ItemPointerData tid;
  Buffer buf;         // InvalidBuffer: none
  OffsetNumber root;  // the root of tid's HOT chain, on tid's page (the index's entry points
                      // there; pruning leaves a redirect to the chain's live part), or 0
};
struct CustomerHints {
  int64 id;  // hash key
  Hint customer, state;
};
struct ProductHint {
  int64 id;  // hash key
  Hint product;
};
constexpr long kMaxHints = 65536;  // per table; emptied when reached (~2.5 MB)
MemoryContext hints_ctx = nullptr;
HTAB* customer_hints = nullptr;
HTAB* product_hints = nullptr;
long ncustomer_hints = 0, nproduct_hints = 0;
Hint token_hint[2];  // config_version, entity_version

void forget_hints() {
  if (hints_ctx != nullptr) MemoryContextReset(hints_ctx);
  customer_hints = product_hints = nullptr;
  ncustomer_hints = nproduct_hints = 0;
  for (Hint& h : token_hint) h.buf = InvalidBuffer;
}

HTAB* hint_table(HTAB** table, long* n, Size entrysize, const char* name) {
  if (*table != nullptr && *n >= kMaxHints) {
    hash_destroy(*table);
    *table = nullptr;
  }
  if (*table == nullptr) {
    if (hints_ctx == nullptr) {
      hints_ctx =
          AllocSetContextCreate(TopMemoryContext, "techmart location hints", ALLOCSET_SMALL_SIZES);
    }
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = sizeof(int64);
    ctl.entrysize = entrysize;
    ctl.hcxt = hints_ctx;
    *table = hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    *n = 0;
  }
  return *table;
}

CustomerHints* customer_hint(int64 id, bool create) {
  if (!create && customer_hints == nullptr) return nullptr;
  HTAB* t = hint_table(&customer_hints, &ncustomer_hints, sizeof(CustomerHints),
                       "techmart customer hints");
  bool found = false;
  auto* h =
      static_cast<CustomerHints*>(hash_search(t, &id, create ? HASH_ENTER : HASH_FIND, &found));
  if (create && !found) {
    h->customer.buf = h->state.buf = InvalidBuffer;
    h->customer.root = h->state.root = InvalidOffsetNumber;
    ++ncustomer_hints;
  }
  return h;
}

Hint* product_hint(int64 id, bool create) {
  if (!create && product_hints == nullptr) return nullptr;
  HTAB* t =
      hint_table(&product_hints, &nproduct_hints, sizeof(ProductHint), "techmart product hints");
  bool found = false;
  auto* h = static_cast<ProductHint*>(hash_search(t, &id, create ? HASH_ENTER : HASH_FIND, &found));
  if (h == nullptr) return nullptr;
  if (create && !found) {
    h->product.buf = InvalidBuffer;
    h->product.root = InvalidOffsetNumber;
    ++nproduct_hints;
  }
  return &h->product;
}

bool hints_usable(Relation rel) {
  return !IsolationIsSerializable() && rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP;
}

// Remembers where the version in slot (a buffer heap tuple just read or locked) lies.
// root: the TID of its HOT chain's root when known (an index scan's), else the hint's root is
// kept when the version is on the same page (a later version of the same chain) and dropped if not.
void remember(Hint* hint, TupleTableSlot* slot, const ItemPointerData* root = nullptr) {
  if (hint == nullptr) return;
  const bool had = BufferIsValid(hint->buf);
  hint->buf = InvalidBuffer;
  if (!TTS_IS_BUFFERTUPLE(slot) || !ItemPointerIsValid(&slot->tts_tid)) return;
  const Buffer b = reinterpret_cast<BufferHeapTupleTableSlot*>(slot)->buffer;
  if (!BufferIsValid(b) || BufferIsLocal(b)) return;
  const BlockNumber blk = ItemPointerGetBlockNumber(&slot->tts_tid);
  if (root != nullptr && ItemPointerIsValid(root) && ItemPointerGetBlockNumber(root) == blk) {
    hint->root = ItemPointerGetOffsetNumber(root);
  } else if (!(had && ItemPointerGetBlockNumber(&hint->tid) == blk)) {
    hint->root = InvalidOffsetNumber;
  }
  hint->tid = slot->tts_tid;
  hint->buf = b;
}

// The version at the hint, when it is still there and visible to snap (see above), into slot;
// key_att > 0: only when its bigint column key_att equals key.
bool fetch_hinted(Relation rel, Snapshot snap, Hint* hint, AttrNumber key_att, int64 key,
                  TupleTableSlot* slot) {
  if (hint == nullptr || !BufferIsValid(hint->buf) || !hints_usable(rel)) return false;
  const BlockNumber blk = ItemPointerGetBlockNumber(&hint->tid);
  if (!ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blk, hint->buf)) return false;
  const Buffer buf = hint->buf;
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  TestForOldSnapshot(snap, rel, page);
  // the hinted version, or when another transaction updated it since, its newer versions on the
  // same page (a HOT update: t_ctid, or the redirect pruning leaves at the chain's root); when the
  // hinted version itself was pruned, the same walk from the chain's root. The first version
  // visible to snap, if it is of the key, is the one.
  HeapTupleData tup;
  auto walk = [&](OffsetNumber off) {
    for (int hop = 0; hop < 8; ++hop) {
      if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page)) return false;
      const ItemId lp = PageGetItemId(page, off);
      if (ItemIdIsRedirected(lp)) {
        off = ItemIdGetRedirect(lp);
        continue;
      }
      if (!ItemIdIsNormal(lp)) return false;
      tup.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, lp));
      tup.t_len = ItemIdGetLength(lp);
      tup.t_tableOid = RelationGetRelid(rel);
      ItemPointerSet(&tup.t_self, blk, off);
      if (HeapTupleSatisfiesVisibility(&tup, snap, buf)) {
        if (key_att <= 0) return true;
        // of this key? (a line pointer pruning freed may hold another row's version now)
        bool isnull;
        const Datum k = heap_getattr(&tup, key_att, RelationGetDescr(rel), &isnull);
        return !isnull && DatumGetInt64(k) == key;
      }
      const ItemPointerData next = tup.t_data->t_ctid;
      if (ItemPointerGetBlockNumber(&next) != blk || ItemPointerGetOffsetNumber(&next) == off) {
        return false;  // not updated, or its newer version on another page: the index decides
      }
      off = ItemPointerGetOffsetNumber(&next);
    }
    return false;
  };
  const OffsetNumber first = ItemPointerGetOffsetNumber(&hint->tid);
  bool ok = walk(first);
  if (!ok && hint->root != InvalidOffsetNumber && hint->root != first) ok = walk(hint->root);
  LockBuffer(buf, BUFFER_LOCK_UNLOCK);
  if (ok) {
    // the slot's own HeapTupleData (as heapam_tuple_lock uses it), with its own pin
    HeapTuple stored = &reinterpret_cast<BufferHeapTupleTableSlot*>(slot)->base.tupdata;
    *stored = tup;
    ExecStoreBufferHeapTuple(stored, slot, buf);
    hint->tid = tup.t_self;  // next time, start at the version found
  }
  ReleaseBuffer(buf);
  return ok;
}

// The row of rel whose bigint primary key (column key_att) is `key`, visible to snap, into slot:
// at its hint when that holds (and then the hint is kept), else through the index (and the hint
// set to the version found).
bool fetch(Relation rel, Oid index, AttrNumber key_att, Snapshot snap, int64 key, Hint* hint,
           TupleTableSlot* slot) {
  if (fetch_hinted(rel, snap, hint, key_att, key, slot)) return true;
  Relation ix = index_open(index, AccessShareLock);
  ScanKeyData sk;
  ScanKeyInit(&sk, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
  IndexScanDesc scan = index_beginscan(rel, ix, snap, 1, 0);
  index_rescan(scan, &sk, 1, nullptr, 0);
  const bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
  const ItemPointerData root = scan->xs_heaptid;  // the index entry's TID: the HOT chain's root
  index_endscan(scan);                            // the slot keeps its own buffer pin
  index_close(ix, NoLock);
  if (found && hint != nullptr && hints_usable(rel)) remember(hint, slot, &root);
  return found;
}

// snprintf(out, size, "%u/%lld", xmin, version) without snprintf's format parsing (two per
// statement)
void token_text(TransactionId xmin, int64 version, char* out, size_t size) {
  char buf[48];
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  uint64 v = version < 0 ? 0 - static_cast<uint64>(version) : static_cast<uint64>(version);
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  if (version < 0) *--p = '-';
  *--p = '/';
  uint32 x = xmin;
  do {
    *--p = static_cast<char>('0' + x % 10);
    x /= 10;
  } while (x > 0);
  strlcpy(out, p, size);
}

// "xmin/version" of the one row of a version table (the SPI query's v.xmin::text || '/' ||
// v.version); "" when there is none.
void read_token(Relation rel, AttrNumber version, Snapshot snap, Hint* hint, char* out,
                size_t size) {
  out[0] = '\0';
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  // one row (its primary key is a boolean that must be true): the version at the hint when it is
  // still the visible one, else a scan
  bool found = fetch_hinted(rel, snap, hint, 0, 0, slot);
  if (!found) {
    TableScanDesc scan = table_beginscan(rel, snap, 0, nullptr);
    found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
    if (found && hints_usable(rel)) remember(hint, slot);
    table_endscan(scan);
  }
  if (found) {
    bool null_xmin, null_version;
    const Datum xmin = slot_getsysattr(slot, MinTransactionIdAttributeNumber, &null_xmin);
    const Datum v = slot_getattr(slot, version, &null_version);
    if (!null_xmin && !null_version)
      token_text(DatumGetTransactionId(xmin), DatumGetInt64(v), out, size);
  }
  ExecDropSingleTupleTableSlot(slot);
}

void read_product(int64 product_id, Snapshot snap, Touch* out) {
  Relation rel = R[kProducts];
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  out->product_found = fetch(rel, L.index[kProductsKey], L.product_key, snap, product_id,
                             product_hint(product_id, true), slot);
  if (out->product_found) {
    const Datum price = slot_getattr(slot, L.price, &out->null_price);
    const Datum cat = slot_getattr(slot, L.category, &out->null_category);
    out->price = out->null_price ? 0.0 : numeric_to_float8(price);
    out->category_id = out->null_category ? -1 : DatumGetInt64(cat);
  }
  ExecDropSingleTupleTableSlot(slot);
}

bool read_customer(int64 customer_id, Snapshot snap, Touch* out) {
  Relation rel = R[kCustomers];
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  const bool found = fetch(rel, L.index[kCustomersKey], L.customer_key, snap, customer_id,
                           &customer_hint(customer_id, true)->customer, slot);
  if (found) {
    bool isnull;
    Datum d = slot_getattr(slot, L.country, &isnull);
    if (!isnull) {  // country::text, its first two characters
      text* t = DatumGetTextPP(d);
      int len = VARSIZE_ANY_EXHDR(t);
      const char* p = VARDATA_ANY(t);
      if (L.country_bpchar) {
        while (len > 0 && p[len - 1] == ' ') --len;
      }
      int k = 0;
      for (; k < len && k < 2 && p[k] != '\0'; ++k) out->home_country[k] = p[k];
      out->home_country[k] = '\0';
    }
    d = slot_getattr(slot, L.registered, &isnull);
    out->has_registered = !isnull;
    if (!isnull) out->registered = DatumGetTimestampTz(d);
    d = slot_getattr(slot, L.risk, &isnull);
    if (!isnull) {
      strlcpy(out->risk_text, DatumGetCString(DirectFunctionCall1(numeric_out, d)),
              sizeof out->risk_text);
    }
  }
  ExecDropSingleTupleTableSlot(slot);
  return found;
}

// Locks the state row of customer_id (see the top of the file) and decodes it.
TouchResult lock_state(int64 customer_id, Snapshot snap, Touch* out) {
  Relation rel = R[kState];
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  TouchResult r = TouchResult::kNoState;
  Hint* hint = &customer_hint(customer_id, true)->state;
  if (fetch(rel, L.index[kStateKey], L.state_key, snap, customer_id, hint, slot)) {
    ItemPointerData tid = slot->tts_tid;
    const bool xact_snapshot = IsolationUsesXactSnapshot();
    TM_FailureData tmfd;
    const TM_Result res = table_tuple_lock(
        rel, &tid, snap, slot, GetCurrentCommandId(true), LockTupleExclusive, LockWaitBlock,
        xact_snapshot ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
    switch (res) {
      case TM_Ok:
        break;
      case TM_Updated:
      case TM_Deleted:
        if (xact_snapshot) {
          ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                          errmsg("could not serialize access due to concurrent update")));
        }
        if (res == TM_Updated) elog(ERROR, "techmart: unexpected table_tuple_lock status");
        break;  // deleted meanwhile (READ COMMITTED): no state row
      case TM_SelfModified:
        elog(ERROR, "techmart: the state row of customer %lld was changed by this command",
             static_cast<long long>(customer_id));
        break;
      default:
        elog(ERROR, "techmart: could not lock the state row of customer %lld (status %d)",
             static_cast<long long>(customer_id), static_cast<int>(res));
    }
    if (res == TM_Ok && tmfd.traversed) {
      // The lock waited for, or followed, a transaction that changed the state after this
      // touch's snapshot: it may have changed customers.risk_score too (every writer of the
      // score holds the state row's lock), and the score read above with that snapshot may be
      // stale. Unknown (""): the write-back then runs its UPDATE, whose own check against the
      // current row (risk_score IS DISTINCT FROM the new one) decides. Trusting the stale text
      // skipped the UPDATE when the new score happened to equal it (tests/concurrency/
      // fraud_risk_stale.sh: a DELETE that committed while an INSERT waited left risk_score 0.00
      // beside a state of risk 100.00).
      out->risk_text[0] = '\0';
    }
    if (res == TM_Ok) {
      // a later version (READ COMMITTED) must still be this customer's, as EvalPlanQual checks
      bool isnull;
      const Datum key = slot_getattr(slot, L.state_key, &isnull);
      if (!isnull && DatumGetInt64(key) == customer_id) {
        Datum d[fraud::kStateColumns];
        bool n[fraud::kStateColumns];
        for (int i = 0; i < fraud::kStateColumns; ++i)
          d[i] = slot_getattr(slot, L.state_att[i], &n[i]);
        fraud::decode_state_values(d, n, &out->state);
        out->tid = slot->tts_tid;
        if (hints_usable(rel)) remember(hint, slot);  // the version locked
        r = TouchResult::kOk;
      }
    }
  }
  ExecDropSingleTupleTableSlot(slot);
  return r;
}

// CommandCounterIncrement + a new snapshot, as SPI does before each (non read-only) query, with
// the relations locked; false when the lookups do not hold (the caller uses SPI).
bool begin(Oid nsp, bool check_access) {
  CommandCounterIncrement();  // this statement's own write-backs become visible
  if (check_access) access_ok = false;
  if (!ready(nsp) && !compute(nsp)) return false;
  // lock the relations first: acquiring a lock processes pending invalidations, which may
  // invalidate what was looked up (a relation dropped meanwhile: the SPI query reports it)
  for (int i = 0; i < kNRels; ++i) LockRelationOid(L.rel[i], kLock[i]);
  if (!ready(nsp)) return false;
  if (check_access) {
    access_ok = allowed();
    access_user = GetUserId();
  }
  if (!access_ok || access_user != GetUserId()) return false;
  for (int i = 0; i < kNRels; ++i) R[i] = table_open(L.rel[i], NoLock);  // locked above
  PushActiveSnapshot(GetTransactionSnapshot());
  UpdateActiveSnapshotCommandId();  // as SPI does (a REPEATABLE READ snapshot is the xact's)
  return true;
}

}  // namespace

TouchResult touch(Oid nsp, int64 customer_id, int64 product_id, bool want_tokens, Touch* out) {
  memset(out, 0, sizeof *out);
  if (!begin(nsp, want_tokens)) return TouchResult::kUnavailable;
  Snapshot snap = GetActiveSnapshot();
  TouchResult r = TouchResult::kOk;
  if (!read_customer(customer_id, snap, out)) {
    r = TouchResult::kNoCustomer;
  } else {
    r = lock_state(customer_id, snap, out);
  }
  if (r == TouchResult::kOk && product_id >= 0) read_product(product_id, snap, out);
  if (r == TouchResult::kOk && want_tokens) {
    read_token(R[kConfig], L.config_version, snap, &token_hint[0], out->token, sizeof out->token);
    read_token(R[kEntity], L.entity_version, snap, &token_hint[1], out->entity_token,
               sizeof out->entity_token);
  }
  PopActiveSnapshot();
  close_rels();
  return r;
}

TouchResult product(Oid nsp, int64 product_id, Touch* out) {
  out->product_found = false;
  if (!begin(nsp, false)) return TouchResult::kUnavailable;
  read_product(product_id, GetActiveSnapshot(), out);
  PopActiveSnapshot();
  close_rels();
  return TouchResult::kOk;
}

namespace {

// After an update of the version at tid (on the page of buffer old_buf) into tup: the hint points
// to the new version when it is on the same page, and is dropped otherwise.
void rehint(Hint* hint, Relation rel, ItemPointerData tid, HeapTuple tup, Buffer old_buf) {
  const bool same_page = ItemPointerGetBlockNumber(&tup->t_self) == ItemPointerGetBlockNumber(&tid);
  const bool knew_root = BufferIsValid(hint->buf) &&
                         ItemPointerGetBlockNumber(&hint->tid) == ItemPointerGetBlockNumber(&tid);
  hint->buf = InvalidBuffer;
  if (hints_usable(rel) && same_page) {
    hint->tid = tup->t_self;
    hint->buf = old_buf;  // the page of the old version, still in it (this transaction's lock)
    // a HOT version stays in the old one's chain (same root); else it is a root itself
    if (!HeapTupleIsHeapOnly(tup)) {
      hint->root = ItemPointerGetOffsetNumber(&tup->t_self);
    } else if (!knew_root) {
      hint->root = InvalidOffsetNumber;
    }
  }
}

}  // namespace

bool write_state(int64 customer_id, ItemPointerData tid, const Datum* values, const char* nulls) {
  if (!L.valid || !L.write_ok || !access_ok || access_user != GetUserId()) return false;
  Relation rel = table_open(L.rel[kState], RowExclusiveLock);
  if (!L.valid || !L.write_ok) {  // invalidated by taking the lock
    table_close(rel, NoLock);
    return false;
  }
  CheckCmdReplicaIdentity(rel, CMD_UPDATE);  // as the executor checks an UPDATE's target
  TupleDesc d = RelationGetDescr(rel);
  // the version locked by the touch (this transaction's lock keeps it from being pruned)
  HeapTupleData old;
  old.t_self = tid;
  Buffer buf = InvalidBuffer;
  if (!heap_fetch(rel, SnapshotAny, &old, &buf, false)) {
    table_close(rel, NoLock);
    return false;
  }
  HeapTuple oldcopy = heap_copytuple(&old);
  const Buffer old_buf = buf;
  ReleaseBuffer(buf);
  bool isnull;
  const Datum key = heap_getattr(oldcopy, L.state_key, d, &isnull);
  if (isnull || DatumGetInt64(key) != customer_id) {
    table_close(rel, NoLock);
    return false;
  }
  const int natts = d->natts;
  Datum* v = static_cast<Datum*>(palloc0(sizeof(Datum) * natts));
  bool* nul = static_cast<bool*>(palloc0(sizeof(bool) * natts));
  bool* repl = static_cast<bool*>(palloc0(sizeof(bool) * natts));
  for (int i = 0; i < fraud::kStateColumns; ++i) {
    const int a = L.state_att[i] - 1;
    v[a] = values[i];
    nul[a] = nulls[i] == 'n';
    // the arrays compressed in line (the CHECK below reads the plain values): a smaller tuple,
    // so a smaller update record (log_heap_update can only trim an unchanged prefix/suffix) --
    // but not recent_t: 32 epoch seconds as float8 share no 4-byte runs worth LZ4's time
    // (280 -> 241 bytes in bench/fraud/speed.sh, for ~7,000 instructions per scored INSERT)
    if (!nul[a] && i != kRecentTColumn &&
        (kStateTypes[i] == INT4ARRAYOID || kStateTypes[i] == FLOAT8ARRAYOID)) {
      v[a] = fraud::compress_inline(values[i]);
    }
    repl[a] = true;
    if (nul[a] && TupleDescAttr(d, a)->attnotnull) {  // the SPI UPDATE raises 23502
      table_close(rel, NoLock);
      return false;
    }
  }
  v[L.updated_at - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());  // now()
  repl[L.updated_at - 1] = true;
  // the CHECK constraint (writable() made sure it is this call; STRICT: NULL passes)
  bool any_null = false;
  for (int i : kValidArgs) any_null = any_null || nulls[i] == 'n';
  if (!any_null && !DatumGetBool(DirectFunctionCall8(
                       techmart_customer_state_valid, values[kValidArgs[0]], values[kValidArgs[1]],
                       values[kValidArgs[2]], values[kValidArgs[3]], values[kValidArgs[4]],
                       values[kValidArgs[5]], values[kValidArgs[6]], values[kValidArgs[7]]))) {
    ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                    errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
                           RelationGetRelationName(rel), "customer_state_valid"),
                    errtableconstraint(rel, "customer_state_valid")));
  }
  HeapTuple tup = heap_modify_tuple(oldcopy, d, v, nul, repl);
  CommandCounterIncrement();  // as SPI does before an UPDATE
  TM_FailureData tmfd;
  LockTupleMode lockmode;
  const TM_Result res = heap_update(rel, &tid, tup, GetCurrentCommandId(true), InvalidSnapshot,
                                    true, &tmfd, &lockmode);
  if (res != TM_Ok) {  // not the version locked by this transaction: the SPI UPDATE decides
    table_close(rel, NoLock);
    return false;
  }
  // the next statement's touch of this customer reads the new version at its place
  rehint(&customer_hint(customer_id, true)->state, rel, tid, tup, old_buf);
  if (!HeapTupleIsHeapOnly(tup)) {  // not HOT: the primary key's entry for the new version
    Relation ix = index_open(L.index[kStateKey], RowExclusiveLock);
    Datum kv[1] = {key};
    bool kn[1] = {false};
    index_insert(ix, kv, kn, &tup->t_self, rel, UNIQUE_CHECK_YES, true, BuildIndexInfo(ix));
    index_close(ix, NoLock);
  }
  heap_freetuple(tup);
  heap_freetuple(oldcopy);
  pfree(v);
  pfree(nul);
  pfree(repl);
  table_close(rel, NoLock);
  return true;
}

int write_risks(const int64* ids, const Datum* risks, int n, bool* done) {
  for (int i = 0; i < n; ++i) done[i] = false;
  if (n == 0 || !L.valid || !L.risk_ok || !access_ok || access_user != GetUserId()) return 0;
  const Oid user = GetUserId();
  if (pg_class_aclcheck(L.rel[kCustomers], user, ACL_UPDATE) != ACLCHECK_OK &&
      pg_attribute_aclcheck(L.rel[kCustomers], L.risk, user, ACL_UPDATE) != ACLCHECK_OK) {
    return 0;  // the SPI UPDATE raises the error
  }
  Relation rel = table_open(L.rel[kCustomers], RowExclusiveLock);
  if (!L.valid || !L.risk_ok) {  // invalidated by taking the lock
    table_close(rel, NoLock);
    return 0;
  }
  CheckCmdReplicaIdentity(rel, CMD_UPDATE);  // as the executor checks an UPDATE's target
  TupleDesc d = RelationGetDescr(rel);
  const int a = L.risk - 1;
  Datum* v = static_cast<Datum*>(palloc0(sizeof(Datum) * d->natts));
  bool* nul = static_cast<bool*>(palloc0(sizeof(bool) * d->natts));
  bool* repl = static_cast<bool*>(palloc0(sizeof(bool) * d->natts));
  repl[a] = true;
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  TupleTableSlot* stored = nullptr;  // the new version, for the index entries
  EState* estate = nullptr;          // created at the first update that is not HOT
  ResultRelInfo* rri = nullptr;
  CommandCounterIncrement();  // as SPI does before an UPDATE: the statement's writes visible
  PushActiveSnapshot(GetTransactionSnapshot());
  int written = 0;
  for (int i = 0; i < n; ++i) {
    Hint* hint = &customer_hint(ids[i], true)->customer;
    if (!fetch(rel, L.index[kCustomersKey], L.customer_key, GetActiveSnapshot(), ids[i], hint,
               slot)) {
      continue;  // gone or not visible: the SPI UPDATE decides
    }
    const ItemPointerData tid = slot->tts_tid;
    const Buffer old_buf = reinterpret_cast<BufferHeapTupleTableSlot*>(slot)->buffer;
    bool isnull;
    const Datum current = slot_getattr(slot, L.risk, &isnull);
    if (!isnull && DatumGetBool(DirectFunctionCall2(numeric_eq, current, risks[i]))) {
      done[i] = true;  // as the SPI UPDATE's risk_score IS DISTINCT FROM: nothing to write
      ++written;
      ExecClearTuple(slot);
      continue;
    }
    bool should_free;
    HeapTuple old = ExecFetchSlotHeapTuple(slot, false, &should_free);
    v[a] = risks[i];
    HeapTuple tup = heap_modify_tuple(old, d, v, nul, repl);
    if (should_free) heap_freetuple(old);
    ExecClearTuple(slot);  // the pin on the old version's page released
    TM_FailureData tmfd;
    LockTupleMode lockmode;
    ItemPointerData otid = tid;
    const TM_Result res = heap_update(rel, &otid, tup, GetCurrentCommandId(true), InvalidSnapshot,
                                      true, &tmfd, &lockmode);
    if (res != TM_Ok) {  // changed by another transaction meanwhile: the SPI UPDATE follows it
      heap_freetuple(tup);
      continue;
    }
    rehint(hint, rel, tid, tup, old_buf);
    if (!HeapTupleIsHeapOnly(tup)) {  // not HOT: every index gets an entry for the new version
      if (estate == nullptr) {
        estate = CreateExecutorState();
        rri = makeNode(ResultRelInfo);
        InitResultRelInfo(rri, rel, 0, nullptr, 0);
        ExecOpenIndices(rri, false);
        stored = MakeSingleTupleTableSlot(d, &TTSOpsHeapTuple);
      }
      ExecStoreHeapTuple(tup, stored, false);
      ExecInsertIndexTuples(rri, stored, estate, false, false, nullptr, NIL);
      ExecClearTuple(stored);
      ResetPerTupleExprContext(estate);
    }
    heap_freetuple(tup);
    done[i] = true;
    ++written;
  }
  PopActiveSnapshot();
  if (estate != nullptr) {
    ExecDropSingleTupleTableSlot(stored);
    ExecCloseIndices(rri);
    FreeExecutorState(estate);
  }
  ExecDropSingleTupleTableSlot(slot);
  pfree(v);
  pfree(nul);
  pfree(repl);
  table_close(rel, NoLock);
  return written;
}

}  // namespace techmart::pg::native
