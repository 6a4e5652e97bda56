// Sales move the stock (sqitch change stock_sales): analytics.stock_trigger(), the AFTER ... FOR
// EACH STATEMENT trigger of INSERT, UPDATE and DELETE on transactions, with transition tables.
// Declared by the sqitch change, not by the extension script (the extension's version is left
// alone), like the customers.total_spent triggers of spent_trigger.cpp.
//
// Units a line holds (analytics.line_units(kind, status, quantity)): a sale line that is
// completed or pending holds its quantity; a refund row (kind refund, always status refunded)
// holds minus its quantity (the units came back); failed, blocked and refunded sale lines hold
// nothing. A statement's line versions are summed per product (new versions +, old versions -):
// the stock moves by minus that sum. So an INSERT of a completed or pending line takes its units,
// a refund row or an UPDATE to refunded / failed / blocked gives them back, DELETE of a line that
// held units gives them back, and an UPDATE that does not change what a line holds (label, score,
// completed <-> pending) moves nothing.
//
// Per statement: the sums in a sorted array; for every product whose sum is not 0, in product-id
// order (two writers lock shared products in the same order: no deadlock between them), one
// UPDATE products SET stock_quantity = stock_quantity + change ... WHERE stock_quantity + change
// >= 0 RETURNING ..., feeding (WITH u AS (UPDATE ...) INSERT ... SELECT FROM u) one
// inventory_history row per product — up to kOneByOne products a saved single-product statement
// each; more one statement FROM unnest(ids, changes, reasons, notes) whose UPDATE is planned as a
// nested loop into products_pkey in id order, like spent_trigger.cpp. A product whose stock would
// go below 0 is not updated, so gets no history row: the trigger then raises SQLSTATE 23S01 naming
// it (the statement fails as a whole: nothing is half-written). The history row: previous and new
// quantity, reason (sale when units were taken; return when units came back through a refunded
// line or a refund row; adjustment for a DELETE, and when units came back otherwise: a line failed
// or blocked), a note naming the transactions, changed_at = the clock once the product's row is
// locked (so the history of a product is in time order along its chain of quantities), changed_by =
// techmart.actor when set (the API passes its user), else the session's user (SET ROLE counts; a
// SECURITY DEFINER function in between does not).
//
// SET techmart.track_stock = off: the trigger does nothing (historical loads: the seed, the Online
// Retail import, generated histories must not move today's stock by their past sales).
//
// Plain C (Postgres calls only, no C++ object): errors are ereport'ed directly.
#include "stock_trigger.hpp"

#include "pg.hpp"
#include "statement_trigger.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_stock_statement);
}

namespace {

bool guc_track_stock = true;
char* guc_actor = nullptr;

// insufficient stock: class 23 (integrity constraint violation: stock_quantity >= 0), subclass
// S01 (implementation-defined); the API answers it with 409
constexpr int kInsufficientStock = MAKE_SQLSTATE('2', '3', 'S', '0', '1');

// up to this many products, one simple statement each; more, one statement FROM unnest
constexpr int64 kOneByOne = 8;
enum PlanKind { kApplyOne, kApplyMany, kStockOf, kPlans };
SPIPlanPtr plans[kPlans] = {nullptr, nullptr, nullptr};

// The saved plans (generic: no planning per call). Every name qualified: the plans do not depend
// on the caller's search_path. One statement per product (or one for all): the UPDATE of the
// stock, refused by its WHERE when the stock would go below 0, feeding the history INSERT, whose
// changed_at is the clock once the product's row is locked.
SPIPlanPtr plan(PlanKind kind) {
  if (plans[kind] != nullptr) return plans[kind];
  static const char* const sql[kPlans] = {
      "WITH u AS (UPDATE public.products SET stock_quantity = stock_quantity "
      "OPERATOR(pg_catalog.+) "
      "$2, updated_at = pg_catalog.now() "
      "WHERE id OPERATOR(pg_catalog.=) $1 "
      "AND stock_quantity OPERATOR(pg_catalog.+) $2 OPERATOR(pg_catalog.>=) 0 "
      "RETURNING id, stock_quantity) "
      "INSERT INTO public.inventory_history (product_id, previous_quantity, new_quantity, reason, "
      "note, changed_at, changed_by) "
      "SELECT u.id, u.stock_quantity OPERATOR(pg_catalog.-) $2, u.stock_quantity, $3, $4, "
      "pg_catalog.clock_timestamp(), $5 FROM u",
      "WITH u AS (UPDATE public.products AS p SET stock_quantity = p.stock_quantity "
      "OPERATOR(pg_catalog.+) d.change, updated_at = pg_catalog.now() "
      "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
      "pg_catalog.unnest($4)) AS d(id, change, reason, note) "
      "WHERE p.id OPERATOR(pg_catalog.=) d.id "
      "AND p.stock_quantity OPERATOR(pg_catalog.+) d.change OPERATOR(pg_catalog.>=) 0 "
      "RETURNING p.id, p.stock_quantity, d.change, d.reason, d.note) "
      "INSERT INTO public.inventory_history (product_id, previous_quantity, new_quantity, reason, "
      "note, changed_at, changed_by) "
      "SELECT u.id, u.stock_quantity OPERATOR(pg_catalog.-) u.change, u.stock_quantity, u.reason, "
      "u.note, pg_catalog.clock_timestamp(), $5 FROM u RETURNING product_id",
      "SELECT stock_quantity, sku FROM public.products WHERE id OPERATOR(pg_catalog.=) $1"};
  static const Oid apply_one[5] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID};
  static const Oid apply_many[5] = {INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                                    TEXTOID};
  static const Oid stock_of[1] = {INT8OID};
  static const Oid* const types[kPlans] = {apply_one, apply_many, stock_of};
  static const int nargs[kPlans] = {5, 5, 1};
  SPIPlanPtr p = SPI_prepare_cursor(sql[kind], nargs[kind], const_cast<Oid*>(types[kind]),
                                    CURSOR_OPT_GENERIC_PLAN);
  if (p == nullptr || SPI_keepplan(p) != 0) {
    elog(ERROR, "stock: could not prepare a statement: %s", SPI_result_code_string(SPI_result));
  }
  plans[kind] = p;
  return p;
}

// one line version that holds units (or did)
struct Line {
  int64 product;
  int64 tx;
  int64 units;    // units held, signed: + for a new version, - for an old one
  bool returned;  // a new version with status refunded (a refunded sale line or a refund row)
};

int cmp_line(const void* a, const void* b) {
  const Line* x = static_cast<const Line*>(a);
  const Line* y = static_cast<const Line*>(b);
  if (x->product != y->product) return x->product < y->product ? -1 : 1;
  if (x->tx != y->tx) return x->tx < y->tx ? -1 : 1;
  return 0;
}

bool text_is(Datum d, const char* s) {
  const size_t n = std::strlen(s);
  text* t = DatumGetTextPP(d);
  const bool eq = VARSIZE_ANY_EXHDR(t) == n && std::memcmp(VARDATA_ANY(t), s, n) == 0;
  if (reinterpret_cast<Pointer>(t) != DatumGetPointer(d)) pfree(t);
  return eq;
}

struct Columns {
  int id, product, kind, status, quantity;
};

// Appends every line version of ts that holds units (negated when sign < 0) to lines.
void collect(Tuplestorestate* ts, TupleDesc desc, const Columns& col, int sign, Line** lines,
             int64* n, int64* cap) {
  if (ts == nullptr) return;
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  techmart::pg::read_from_start(ts);
  while (tuplestore_gettupleslot(ts, true, false, slot)) {
    bool null_i, null_p, null_k, null_s, null_q;
    const Datum id = slot_getattr(slot, col.id, &null_i);
    const Datum p = slot_getattr(slot, col.product, &null_p);
    const Datum k = slot_getattr(slot, col.kind, &null_k);
    const Datum s = slot_getattr(slot, col.status, &null_s);
    const Datum q = slot_getattr(slot, col.quantity, &null_q);
    if (null_p || null_q) continue;  // (NOT NULL columns: never, as the migrations made them)
    const bool refund = !null_k && text_is(k, "refund");
    const bool refunded = !null_s && text_is(s, "refunded");
    int64 held;
    if (refund) {
      held = -static_cast<int64>(DatumGetInt32(q));
    } else if (!null_s && (text_is(s, "completed") || text_is(s, "pending"))) {
      held = DatumGetInt32(q);
    } else {
      held = 0;
    }
    if (held == 0 && !(sign > 0 && refunded)) continue;
    if (*n == *cap) {
      *cap *= 2;
      *lines = static_cast<Line*>(repalloc_huge(*lines, sizeof(Line) * *cap));
    }
    Line& l = (*lines)[*n];
    l.product = DatumGetInt64(p);
    l.tx = null_i ? 0 : DatumGetInt64(id);
    l.units = sign * held;
    l.returned = sign > 0 && refunded;
    ++*n;
  }
  tuplestore_select_read_pointer(ts, 0);
  ExecDropSingleTupleTableSlot(slot);
}

// The statement's change of one product's stock and what the history row says of it.
struct Change {
  int64 product;
  int64 change;  // stock change: minus the change of the units held
  bool returned;
  int64 lines, min_tx, max_tx;
  bool done;
};

// raises 23S01 for product (whose stock cannot take change); SPI connected
void raise_insufficient(int64 product, int64 change) {
  Datum v[1] = {Int64GetDatum(product)};
  const int rc = SPI_execute_plan(plan(kStockOf), v, nullptr, true, 1);
  if (rc != SPI_OK_SELECT) {
    elog(ERROR, "stock: reading product %lld returned %s", static_cast<long long>(product),
         SPI_result_code_string(rc));
  }
  if (SPI_processed == 0) {
    ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                    errmsg("stock: product %lld does not exist", static_cast<long long>(product))));
  }
  bool null_q;
  const Datum q = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_q);
  const char* sku = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
  ereport(ERROR,
          (errcode(kInsufficientStock),
           errmsg("insufficient stock for product %lld (%s): %d in stock, %lld wanted",
                  static_cast<long long>(product), sku != nullptr ? sku : "?",
                  null_q ? 0 : DatumGetInt32(q), static_cast<long long>(-change)),
           errdetail("Completed and pending sale lines take their quantity from "
                     "products.stock_quantity, which may not go below 0; nothing was written."),
           errhint("Restock the product first (PUT /api/v1/inventory/{id}); a load of past "
                   "transactions runs with SET techmart.track_stock = off.")));
}

text* note_of(const Change& c, const char* op) {
  char buf[160];
  if (c.lines == 1) {
    snprintf(buf, sizeof buf, "transaction %lld (%s)", static_cast<long long>(c.min_tx), op);
  } else {
    snprintf(buf, sizeof buf, "%lld transactions, ids %lld..%lld (%s)",
             static_cast<long long>(c.lines), static_cast<long long>(c.min_tx),
             static_cast<long long>(c.max_tx), op);
  }
  return cstring_to_text(buf);
}

// sale: units taken by an INSERT or UPDATE; return: units back through a refunded line or a
// refund row; adjustment: anything else (a line failed, blocked or deleted, a refund row deleted)
const char* reason_of(const Change& c, bool is_delete) {
  if (is_delete) return "adjustment";
  if (c.change < 0) return "sale";
  return c.returned ? "return" : "adjustment";
}

}  // namespace

namespace techmart::pg::stock {

void define_gucs() {
  DefineCustomBoolVariable(
      "techmart.track_stock",
      "Sales move products.stock_quantity and write inventory_history (off: a historical load)",
      "SET techmart.track_stock = off for a load of past transactions (the seed, an import, "
      "generated history): they must not move today's stock. Superusers only, or a role granted "
      "SET ON PARAMETER techmart.track_stock: any session could otherwise sell without moving "
      "stock.",
      &guc_track_stock, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable(
      "techmart.actor", "Who writes, for inventory_history.changed_by (empty: the session's user)",
      "The API sets it for the transaction of a request (its user).", &guc_actor, "", PGC_USERSET,
      0, nullptr, nullptr, nullptr);
}

}  // namespace techmart::pg::stock

extern "C" PGDLLEXPORT Datum techmart_stock_statement(PG_FUNCTION_ARGS) {
  const techmart::pg::StatementRows rows = techmart::pg::statement_rows(fcinfo, "stock");
  TriggerData* td = rows.td;
  const TriggerEvent ev = td->tg_event;
  Tuplestorestate* added = rows.added;
  Tuplestorestate* removed = rows.removed;
  if (!guc_track_stock) return PointerGetDatum(nullptr);
  const char* op = TRIGGER_FIRED_BY_INSERT(ev)   ? "insert"
                   : TRIGGER_FIRED_BY_UPDATE(ev) ? "update"
                                                 : "delete";
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  const Columns col{techmart::pg::column_number(desc, "id", "stock"),
                    techmart::pg::column_number(desc, "product_id", "stock"),
                    techmart::pg::column_number(desc, "kind", "stock"),
                    techmart::pg::column_number(desc, "status", "stock"),
                    techmart::pg::column_number(desc, "quantity", "stock")};

  // everything below lives in a context of its own, freed at the end
  MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "stock", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(work);
  int64 n = 0, cap = 64;
  Line* lines = static_cast<Line*>(MemoryContextAllocHuge(work, sizeof(Line) * cap));
  collect(added, desc, col, 1, &lines, &n, &cap);
  collect(removed, desc, col, -1, &lines, &n, &cap);
  qsort(lines, n, sizeof(Line), cmp_line);

  // per product: the stock change and the lines whose units changed; products with no change
  // dropped (an UPDATE of a label, a score, completed <-> pending)
  int64 m = 0;
  Change* ch = static_cast<Change*>(MemoryContextAllocHuge(work, sizeof(Change) * (n > 0 ? n : 1)));
  for (int64 i = 0; i < n;) {
    Change c{lines[i].product, 0, false, 0, 0, 0, false};
    int64 j = i;
    while (j < n && lines[j].product == c.product) {
      // one transaction's versions of this statement
      int64 units = 0;
      bool returned = false;
      const int64 tx = lines[j].tx;
      for (; j < n && lines[j].product == c.product && lines[j].tx == tx; ++j) {
        units += lines[j].units;
        returned = returned || lines[j].returned;
      }
      if (units == 0) continue;
      c.change -= units;
      if (units < 0 && returned) c.returned = true;
      if (c.lines == 0 || tx < c.min_tx) c.min_tx = tx;
      if (c.lines == 0 || tx > c.max_tx) c.max_tx = tx;
      ++c.lines;
    }
    if (c.change != 0) ch[m++] = c;
    i = j;
  }

  if (m > 0) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "stock: SPI_connect failed");
    const bool is_delete = TRIGGER_FIRED_BY_DELETE(ev);
    const char* who = guc_actor != nullptr && guc_actor[0] != '\0'
                          ? guc_actor
                          : GetUserNameFromId(GetOuterUserId(), false);
    const Datum by = PointerGetDatum(cstring_to_text(who));
    if (m <= kOneByOne) {
      // a few products (a single-row INSERT: one): one statement each, in id order
      for (int64 k = 0; k < m; ++k) {
        Datum v[5] = {Int64GetDatum(ch[k].product), Int64GetDatum(ch[k].change),
                      PointerGetDatum(cstring_to_text(reason_of(ch[k], is_delete))),
                      PointerGetDatum(note_of(ch[k], op)), by};
        const int rc = SPI_execute_plan(plan(kApplyOne), v, nullptr, false, 0);
        if (rc != SPI_OK_INSERT) {
          elog(ERROR, "stock: the update returned %s", SPI_result_code_string(rc));
        }
        if (SPI_processed != 1) raise_insufficient(ch[k].product, ch[k].change);
      }
    } else {
      Datum* a[4];
      for (Datum*& x : a) x = static_cast<Datum*>(palloc(sizeof(Datum) * m));
      for (int64 k = 0; k < m; ++k) {
        a[0][k] = Int64GetDatum(ch[k].product);
        a[1][k] = Int64GetDatum(ch[k].change);
        a[2][k] = PointerGetDatum(cstring_to_text(reason_of(ch[k], is_delete)));
        a[3][k] = PointerGetDatum(note_of(ch[k], op));
      }
      const int cnt = static_cast<int>(m);
      Datum v[5] = {PointerGetDatum(construct_array(a[0], cnt, INT8OID, sizeof(int64),
                                                    FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                    PointerGetDatum(construct_array(a[1], cnt, INT8OID, sizeof(int64),
                                                    FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                    PointerGetDatum(construct_array(a[2], cnt, TEXTOID, -1, false, TYPALIGN_INT)),
                    PointerGetDatum(construct_array(a[3], cnt, TEXTOID, -1, false, TYPALIGN_INT)),
                    by};
      // one statement for all, planned (now or when an invalidation makes the plan cache plan it
      // again) as a nested loop from the sorted ids into products_pkey: rows locked in id order.
      // The settings are undone at the end of the nest level, or by the abort of an error.
      const int level = NewGUCNestLevel();
      for (const char* name :
           {"enable_hashjoin", "enable_mergejoin", "enable_seqscan", "enable_bitmapscan"}) {
        (void)set_config_option(name, "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                                false);
      }
      const int rc = SPI_execute_plan(plan(kApplyMany), v, nullptr, false, 0);
      AtEOXact_GUC(true, level);
      if (rc != SPI_OK_INSERT_RETURNING) {
        elog(ERROR, "stock: the update returned %s", SPI_result_code_string(rc));
      }
      if (SPI_processed != static_cast<uint64>(m)) {
        // the products whose stock could not take their change (ch is sorted by product)
        for (uint64 r = 0; r < SPI_processed; ++r) {
          bool isnull;
          const int64 id = DatumGetInt64(
              SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
          int64 lo = 0, hi = m - 1;
          while (lo <= hi) {
            const int64 mid = (lo + hi) / 2;
            if (ch[mid].product == id) {
              ch[mid].done = true;
              break;
            }
            if (ch[mid].product < id) {
              lo = mid + 1;
            } else {
              hi = mid - 1;
            }
          }
        }
        for (int64 k = 0; k < m; ++k) {
          if (!ch[k].done) raise_insufficient(ch[k].product, ch[k].change);
        }
      }
    }
    SPI_finish();
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(work);
  return PointerGetDatum(nullptr);
}
