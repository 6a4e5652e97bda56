// The statement triggers that keep customers.total_spent exact (sqitch changes customers_spent and
// customers_spent_c): analytics.customers_spent_{insert,update,delete}_trigger(), AFTER ... FOR
// EACH STATEMENT on transactions with transition tables. Declared by the sqitch change, not by the
// extension script (the extension's version is left alone), like analytics.rollup_apply.
//
// What they do is what the PL/pgSQL versions of change customers_spent did: the statement's line
// versions, new ones counted +spend and old ones -spend (analytics.line_spend: amount of a
// completed sale line, minus the amount of a refund row, 0 otherwise), summed per customer;
// customers whose sum is 0 skipped; then total_spent = total_spent + sum for the others, in
// customer-id order (two writers lock their customers in the same order: no deadlock between
// them). The PL/pgSQL versions ran a GROUP BY query over the transition table and then one UPDATE
// statement per customer (an executor start each: ~22 us per customer, a tenth of a bulk load's
// time). Here the transition tables are read directly and the sums kept in a sorted array; up to
// kOneByOne customers (a single-row INSERT has one) get one saved UPDATE ... WHERE id = $1 each,
// in id order; more get one UPDATE ... FROM unnest(ids, deltas), planned with hash and merge
// joins, sequential and bitmap scans off: a nested loop from the sorted ids into customers_pkey,
// so rows are locked in id order as before.
//
// Plain C (Postgres calls only, no C++ object): errors are ereport'ed directly.
#include "pg.hpp"
#include "statement_trigger.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_customers_spent_statement);
}

namespace {

// up to this many customers, one simple UPDATE each; more, one UPDATE ... FROM unnest
constexpr int64 kOneByOne = 8;
enum PlanKind { kOne, kMany };
SPIPlanPtr plans[2] = {nullptr, nullptr};

// The saved plans (generic: no planning per call). Every name qualified: the plans do not depend
// on the caller's search_path.
SPIPlanPtr plan(PlanKind kind) {
  if (plans[kind] != nullptr) return plans[kind];
  static const char* const sql[2] = {
      "UPDATE public.customers SET total_spent = total_spent OPERATOR(pg_catalog.+) $2 "
      "WHERE id OPERATOR(pg_catalog.=) $1",
      "UPDATE public.customers AS c SET total_spent = c.total_spent OPERATOR(pg_catalog.+) d.delta "
      "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS d(id, delta) "
      "WHERE c.id OPERATOR(pg_catalog.=) d.id"};
  Oid one[2] = {INT8OID, NUMERICOID};
  Oid many[2] = {INT8ARRAYOID, NUMERICARRAYOID};
  SPIPlanPtr p =
      SPI_prepare_cursor(sql[kind], 2, kind == kOne ? one : many, CURSOR_OPT_GENERIC_PLAN);
  if (p == nullptr || SPI_keepplan(p) != 0) {
    elog(ERROR, "customers_spent: could not prepare the update: %s",
         SPI_result_code_string(SPI_result));
  }
  plans[kind] = p;
  return p;
}

struct Line {
  int64 customer;
  Datum spend;  // numeric, signed
};

int cmp_line(const void* a, const void* b) {
  const int64 x = static_cast<const Line*>(a)->customer;
  const int64 y = static_cast<const Line*>(b)->customer;
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool text_is(Datum d, const char* s) {
  const size_t n = std::strlen(s);
  text* t = DatumGetTextPP(d);
  const bool eq = VARSIZE_ANY_EXHDR(t) == n && std::memcmp(VARDATA_ANY(t), s, n) == 0;
  if (reinterpret_cast<Pointer>(t) != DatumGetPointer(d)) pfree(t);
  return eq;
}

struct Columns {
  int customer, kind, status, amount;
};

// Appends the spend of every line version of ts (negated when sign < 0) to lines.
void collect(Tuplestorestate* ts, TupleDesc desc, const Columns& col, int sign, Line** lines,
             int64* n, int64* cap) {
  if (ts == nullptr) return;
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  techmart::pg::read_from_start(ts);
  while (tuplestore_gettupleslot(ts, true, false, slot)) {
    bool null_c, null_k, null_s, null_a;
    const Datum c = slot_getattr(slot, col.customer, &null_c);
    const Datum k = slot_getattr(slot, col.kind, &null_k);
    const Datum s = slot_getattr(slot, col.status, &null_s);
    const Datum a = slot_getattr(slot, col.amount, &null_a);
    // line_spend(kind, status, amount): -amount for a refund, amount when completed, else 0;
    // a NULL customer matches no customer and a NULL amount adds nothing (sum() skips it)
    if (null_c || null_a) continue;
    int s_sign;
    if (!null_k && text_is(k, "refund")) {
      s_sign = -sign;
    } else if (!null_s && text_is(s, "completed")) {
      s_sign = sign;
    } else {
      continue;
    }
    if (*n == *cap) {
      *cap *= 2;
      *lines = static_cast<Line*>(repalloc_huge(*lines, sizeof(Line) * *cap));
    }
    // a copy either way: it outlives the slot's tuple
    const Datum v = s_sign < 0 ? DirectFunctionCall1(numeric_uminus, a)
                               : PointerGetDatum(PG_DETOAST_DATUM_COPY(a));
    (*lines)[*n].customer = DatumGetInt64(c);
    (*lines)[*n].spend = v;
    ++*n;
  }
  tuplestore_select_read_pointer(ts, 0);
  ExecDropSingleTupleTableSlot(slot);
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_customers_spent_statement(PG_FUNCTION_ARGS) {
  const techmart::pg::StatementRows rows = techmart::pg::statement_rows(fcinfo, "customers_spent");
  TriggerData* td = rows.td;
  Tuplestorestate* added = rows.added;
  Tuplestorestate* removed = rows.removed;
  TupleDesc desc = RelationGetDescr(td->tg_relation);
  const Columns col{techmart::pg::column_number(desc, "customer_id", "customers_spent"),
                    techmart::pg::column_number(desc, "kind", "customers_spent"),
                    techmart::pg::column_number(desc, "status", "customers_spent"),
                    techmart::pg::column_number(desc, "amount", "customers_spent")};

  // everything below lives in a context of its own, freed at the end
  MemoryContext work =
      AllocSetContextCreate(CurrentMemoryContext, "customers_spent", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(work);
  int64 n = 0, cap = 64;
  Line* lines = static_cast<Line*>(MemoryContextAllocHuge(work, sizeof(Line) * cap));
  collect(added, desc, col, 1, &lines, &n, &cap);
  collect(removed, desc, col, -1, &lines, &n, &cap);
  qsort(lines, n, sizeof(Line), cmp_line);

  // per customer: the sum; the zero sums dropped
  int64 m = 0;
  Datum* ids = static_cast<Datum*>(MemoryContextAllocHuge(work, sizeof(Datum) * (n > 0 ? n : 1)));
  Datum* sums = static_cast<Datum*>(MemoryContextAllocHuge(work, sizeof(Datum) * (n > 0 ? n : 1)));
  const Datum zero = NumericGetDatum(int64_to_numeric(0));
  for (int64 i = 0; i < n;) {
    Datum sum = lines[i].spend;
    int64 j = i + 1;
    for (; j < n && lines[j].customer == lines[i].customer; ++j) {
      sum = DirectFunctionCall2(numeric_add, sum, lines[j].spend);
    }
    if (DatumGetBool(DirectFunctionCall2(numeric_ne, sum, zero))) {  // NaN <> 0 too
      ids[m] = Int64GetDatum(lines[i].customer);
      sums[m] = sum;
      ++m;
    }
    i = j;
  }

  if (m > 0) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "customers_spent: SPI_connect failed");
    if (m <= kOneByOne) {
      // a few customers (a single-row INSERT: one): one UPDATE each, in id order
      for (int64 k = 0; k < m; ++k) {
        Datum v[2] = {ids[k], sums[k]};
        const int rc = SPI_execute_plan(plan(kOne), v, nullptr, false, 0);
        if (rc != SPI_OK_UPDATE) {
          elog(ERROR, "customers_spent: the update returned %s", SPI_result_code_string(rc));
        }
      }
    } else {
      ArrayType* id_arr = construct_array(ids, static_cast<int>(m), INT8OID, sizeof(int64),
                                          FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
      ArrayType* sum_arr =
          construct_array(sums, static_cast<int>(m), NUMERICOID, -1, false, TYPALIGN_INT);
      // one UPDATE for all, planned (now or when an invalidation makes the plan cache plan it
      // again) as a nested loop from the sorted ids into customers_pkey: rows locked in id order.
      // The settings are undone at the end of the nest level, or by the abort of an error.
      const int level = NewGUCNestLevel();
      for (const char* name :
           {"enable_hashjoin", "enable_mergejoin", "enable_seqscan", "enable_bitmapscan"}) {
        (void)set_config_option(name, "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                                false);
      }
      Datum v[2] = {PointerGetDatum(id_arr), PointerGetDatum(sum_arr)};
      const int rc = SPI_execute_plan(plan(kMany), v, nullptr, false, 0);
      AtEOXact_GUC(true, level);
      if (rc != SPI_OK_UPDATE) {
        elog(ERROR, "customers_spent: the update returned %s", SPI_result_code_string(rc));
      }
    }
    SPI_finish();
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(work);
  return PointerGetDatum(nullptr);
}
