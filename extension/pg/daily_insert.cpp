// analytics.product_daily_insert_trigger() in C (sqitch change product_daily_insert_c): the
// INSERT/COPY upkeep of analytics.product_daily and product_units_hourly (change
// product_sales_daily; docs/architecture.md, "Per-product daily rollup"). Declared by the sqitch
// change, not by the extension script (the extension's version is left alone). UPDATE, DELETE and
// TRUNCATE keep analytics.product_daily_trigger() (PL/pgSQL).
//
// The same figures as analytics.product_daily_trigger() for an INSERT: the statement's lines are
// read from the transition table directly and summed per (UTC day, product) in a sorted array
// (revenue and units of completed lines minus refund rows, pending and refund units, lines,
// suspicious lines, completed lines without order number); orders: for each (order number, product,
// UTC hour) with completed lines in the statement, its completed lines now (one index scan of
// transactions_order_idx over the statement's sorted order numbers, a new snapshot: the statement's
// lines and every committed one; the rollup triggers, which fire first, hold the order's registry
// row locked): +1 when there were none before the statement. Then the (day, product) rows upserted
// in that order, and the (hour, product) rows of pending lines and refund rows. Saved SPI plans
// over arrays (generic: no planning per call); the PL/pgSQL trigger ran a statement of CTEs (a
// materialised scan of the transition table, three aggregates, a hash join and a sort) planned on
// every call.
//
// Plain C (Postgres calls only, no C++ object lives across them): errors are ereport'ed directly.
#include "pg.hpp"
#include "rollup_arrays.hpp"
#include "statement_trigger.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_product_daily_insert);
}

using techmart::pg::cmp_text;
using techmart::pg::datum_array;
using techmart::pg::int8_array;
using techmart::pg::PVec;
using techmart::pg::text_is;
using techmart::pg::ts_array;

namespace {

const char* const kWho = "product_daily_insert";

enum PlanId { kProbe, kDaily, kHourly, kPlans };
SPIPlanPtr plans[kPlans] = {};

SPIPlanPtr plan(PlanId id) {
  if (plans[id] != nullptr) return plans[id];
  static const char* const sql[kPlans] = {
      // the completed lines now of the statement's order numbers (one index scan of
      // transactions_order_idx over their sorted array: a descent per order number, no executor
      // rescan per group); counted per (order, product, hour) group here
      "SELECT t.order_number, t.product_id, t.transaction_time FROM public.transactions t "
      "WHERE t.order_number OPERATOR(pg_catalog.=) ANY ($1) "
      "AND t.status OPERATOR(pg_catalog.=) 'completed'",
      // the (day, product) rows, in that order
      "INSERT INTO analytics.product_daily AS p (day, product_id, revenue, orders, units, "
      "pending_units, refund_units, transactions, suspicious) "
      "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
      "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
      "pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9)) "
      "ON CONFLICT (day, product_id) DO UPDATE SET "
      "revenue = p.revenue OPERATOR(pg_catalog.+) excluded.revenue, "
      "orders = p.orders OPERATOR(pg_catalog.+) excluded.orders, "
      "units = p.units OPERATOR(pg_catalog.+) excluded.units, "
      "pending_units = p.pending_units OPERATOR(pg_catalog.+) excluded.pending_units, "
      "refund_units = p.refund_units OPERATOR(pg_catalog.+) excluded.refund_units, "
      "transactions = p.transactions OPERATOR(pg_catalog.+) excluded.transactions, "
      "suspicious = p.suspicious OPERATOR(pg_catalog.+) excluded.suspicious",
      // the (hour, product) rows of pending lines and refund rows, in that order
      "INSERT INTO analytics.product_units_hourly AS p (hour, product_id, pending_units, "
      "refund_units) "
      "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
      "pg_catalog.unnest($3), pg_catalog.unnest($4)) "
      "ON CONFLICT (hour, product_id) DO UPDATE SET "
      "pending_units = p.pending_units OPERATOR(pg_catalog.+) excluded.pending_units, "
      "refund_units = p.refund_units OPERATOR(pg_catalog.+) excluded.refund_units"};
  static const Oid probe_t[1] = {TEXTARRAYOID};
  static const Oid daily_t[9] = {TIMESTAMPTZARRAYOID, INT8ARRAYOID, NUMERICARRAYOID,
                                 INT8ARRAYOID,        INT8ARRAYOID, INT8ARRAYOID,
                                 INT8ARRAYOID,        INT8ARRAYOID, INT8ARRAYOID};
  static const Oid hourly_t[4] = {TIMESTAMPTZARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
  static const Oid* const types[kPlans] = {probe_t, daily_t, hourly_t};
  static const int nargs[kPlans] = {1, 9, 4};
  SPIPlanPtr p =
      SPI_prepare_cursor(sql[id], nargs[id], const_cast<Oid*>(types[id]), CURSOR_OPT_GENERIC_PLAN);
  if (p == nullptr || SPI_keepplan(p) != 0) {
    elog(ERROR, "%s: could not prepare statement %d: %s", kWho, static_cast<int>(id),
         SPI_result_code_string(SPI_result));
  }
  plans[id] = p;
  return p;
}

// date_bin(stride, t, '2000-01-01 00:00+00') (the epoch of TimestampTz); before 2000 through the
// server's function itself (its rounding of times before the origin)
TimestampTz bin(TimestampTz t, int64 stride_usecs, const char* stride) {
  if (t >= 0 && !TIMESTAMP_NOT_FINITE(t)) return t - t % stride_usecs;
  const Datum iv = DirectFunctionCall3(interval_in, CStringGetDatum(stride),
                                       ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
  return DatumGetTimestampTz(
      DirectFunctionCall3(timestamptz_bin, iv, TimestampTzGetDatum(t), TimestampTzGetDatum(0)));
}

// a line of the statement
struct Line {
  TimestampTz day, hour;
  int64 product;
  text* order;  // of a completed line (detoasted copy), else nullptr
  bool completed, pending, refund, suspicious;
  int64 quantity;
  Datum amount;  // numeric
};

void exec(PlanId id, Datum* values, int expect) {
  const int rc = SPI_execute_plan(plan(id), values, nullptr, false, 0);
  if (rc != expect) {
    elog(ERROR, "%s: statement %d returned %s", kWho, static_cast<int>(id),
         SPI_result_code_string(rc));
  }
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_product_daily_insert(PG_FUNCTION_ARGS) {
  const techmart::pg::StatementRows rows = techmart::pg::statement_rows(fcinfo, kWho);
  techmart::pg::require_insert(rows, kWho);
  TupleDesc desc = RelationGetDescr(rows.td->tg_relation);
  const int c_product = techmart::pg::column_number(desc, "product_id", kWho);
  const int c_time = techmart::pg::column_number(desc, "transaction_time", kWho);
  const int c_status = techmart::pg::column_number(desc, "status", kWho);
  const int c_kind = techmart::pg::column_number(desc, "kind", kWho);
  const int c_amount = techmart::pg::column_number(desc, "amount", kWho);
  const int c_quantity = techmart::pg::column_number(desc, "quantity", kWho);
  const int c_susp = techmart::pg::column_number(desc, "is_suspicious", kWho);
  const int c_order = techmart::pg::column_number(desc, "order_number", kWho);

  MemoryContext work =
      AllocSetContextCreate(CurrentMemoryContext, "product_daily_insert", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(work);
  PVec<Line> lines;
  {
    Tuplestorestate* ts = rows.added;
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    techmart::pg::read_from_start(ts);
    while (tuplestore_gettupleslot(ts, true, false, slot)) {
      bool nul_p, nul_t, nul_s, nul_k, nul_a, nul_q, nul_x, nul_o;
      const Datum p = slot_getattr(slot, c_product, &nul_p);
      const Datum t = slot_getattr(slot, c_time, &nul_t);
      const Datum s = slot_getattr(slot, c_status, &nul_s);
      const Datum k = slot_getattr(slot, c_kind, &nul_k);
      const Datum a = slot_getattr(slot, c_amount, &nul_a);
      const Datum q = slot_getattr(slot, c_quantity, &nul_q);
      const Datum x = slot_getattr(slot, c_susp, &nul_x);
      const Datum o = slot_getattr(slot, c_order, &nul_o);
      if (nul_p || nul_t || nul_s || nul_k || nul_a || nul_q || nul_x) {
        // the table's NOT NULL constraints make this impossible
        ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                        errmsg("%s: a line with a NULL product, time, status, kind, amount, "
                               "quantity or is_suspicious",
                               kWho)));
      }
      Line l;
      const TimestampTz time = DatumGetTimestampTz(t);
      l.day = bin(time, USECS_PER_DAY, "1 day");
      l.hour = bin(time, USECS_PER_HOUR, "1 hour");
      l.product = DatumGetInt64(p);
      l.completed = text_is(s, "completed");
      l.pending = text_is(s, "pending");
      l.refund = text_is(k, "refund");
      l.suspicious = DatumGetBool(x);
      l.order = l.completed && !nul_o ? DatumGetTextPCopy(o) : nullptr;
      l.quantity = DatumGetInt32(q);
      l.amount = l.completed || l.refund ? PointerGetDatum(PG_DETOAST_DATUM_COPY(a)) : 0;
      lines.push_back(l);
    }
    tuplestore_select_read_pointer(ts, 0);
    ExecDropSingleTupleTableSlot(slot);
  }

  if (!lines.empty()) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "%s: SPI_connect failed", kWho);

    // orders: the (order, product, hour) of the completed lines with an order number, and their
    // lines in the statement; a probe of their lines now: +1 to (day, product) when none before
    PVec<Line*> ordered;
    for (Line& l : lines) {
      if (l.order != nullptr) ordered.push_back(&l);
    }
    std::sort(ordered.begin(), ordered.end(), [](const Line* x, const Line* y) {
      const int c = cmp_text(x->order, y->order);
      if (c != 0) return c < 0;
      if (x->product != y->product) return x->product < y->product;
      return x->hour < y->hour;
    });
    struct Group {
      Line* first;
      int64 net;
    };
    PVec<Group> groups;
    for (Line* l : ordered) {
      if (!groups.empty()) {
        Line* g = groups.back().first;
        if (g->product == l->product && g->hour == l->hour && cmp_text(g->order, l->order) == 0) {
          ++groups.back().net;
          continue;
        }
      }
      groups.push_back(Group{l, 1});
    }
    // the order deltas, per (day, product) of the group: kept as (day, product, +1) entries
    struct OrderDelta {
      TimestampTz day;
      int64 product;
    };
    PVec<OrderDelta> new_orders;
    if (!groups.empty()) {
      PVec<Datum> go;  // the order numbers (sorted; repeated for each group of an order)
      for (const Group& g : groups) go.push_back(PointerGetDatum(g.first->order));
      Datum v[1] = {PointerGetDatum(datum_array(go, TEXTOID, -1, TYPALIGN_INT))};
      exec(kProbe, v, SPI_OK_SELECT);
      int64* now = static_cast<int64*>(palloc0(sizeof(int64) * groups.size()));
      for (uint64 r = 0; r < SPI_processed; ++r) {
        HeapTuple tup = SPI_tuptable->vals[r];
        TupleDesc td = SPI_tuptable->tupdesc;
        bool n1, n2, n3;
        const Datum od = SPI_getbinval(tup, td, 1, &n1);
        const int64 product = DatumGetInt64(SPI_getbinval(tup, td, 2, &n2));
        const TimestampTz time = DatumGetTimestampTz(SPI_getbinval(tup, td, 3, &n3));
        if (n1 || n2 || n3) elog(ERROR, "%s: unexpected probe row", kWho);
        const text* ot = DatumGetTextPP(od);
        const TimestampTz hour = bin(time, USECS_PER_HOUR, "1 hour");
        // binary search of (order, product, hour) in groups
        size_t lo = 0, hi = groups.size();
        while (lo < hi) {
          const size_t mid = (lo + hi) / 2;
          const Line* m = groups[mid].first;
          int c = cmp_text(m->order, ot);
          if (c == 0) c = m->product != product ? (m->product < product ? -1 : 1) : 0;
          if (c == 0) c = m->hour != hour ? (m->hour < hour ? -1 : 1) : 0;
          if (c < 0) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        if (lo < groups.size()) {
          const Line* m = groups[lo].first;
          if (m->product == product && m->hour == hour && cmp_text(m->order, ot) == 0) ++now[lo];
        }
      }
      for (size_t i = 0; i < groups.size(); ++i) {
        // (now > 0) - (now - net > 0): the statement only adds lines
        if (now[i] > 0 && now[i] - groups[i].net <= 0) {
          new_orders.push_back(OrderDelta{groups[i].first->day, groups[i].first->product});
        }
      }
    }

    // the (day, product) rows
    std::sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) {
      return x.day != y.day ? x.day < y.day : x.product < y.product;
    });
    std::sort(new_orders.begin(), new_orders.end(), [](const OrderDelta& x, const OrderDelta& y) {
      return x.day != y.day ? x.day < y.day : x.product < y.product;
    });
    PVec<TimestampTz> d_day;
    PVec<int64> d_product, d_orders, d_units, d_pending, d_refund, d_lines, d_susp;
    PVec<Datum> d_revenue;
    const Datum zero = NumericGetDatum(int64_to_numeric(0));
    size_t k = 0;  // in new_orders
    for (size_t i = 0; i < lines.size();) {
      const Line& f = lines[i];
      Datum revenue = zero;
      int64 orders = 0, units = 0, pending = 0, refund = 0, n = 0, susp = 0;
      size_t j = i;
      for (; j < lines.size() && lines[j].day == f.day && lines[j].product == f.product; ++j) {
        const Line& l = lines[j];
        if (l.completed) {
          revenue = DirectFunctionCall2(numeric_add, revenue, l.amount);
          units += l.quantity;
          if (l.order == nullptr) ++orders;
        } else if (l.refund) {
          revenue = DirectFunctionCall2(numeric_sub, revenue, l.amount);
          units -= l.quantity;
        }
        if (l.pending) pending += l.quantity;
        if (l.refund) refund += l.quantity;
        ++n;
        if (l.suspicious) ++susp;
      }
      while (k < new_orders.size() &&
             (new_orders[k].day < f.day ||
              (new_orders[k].day == f.day && new_orders[k].product < f.product))) {
        ++k;  // (cannot happen: every group's day and product has lines)
      }
      while (k < new_orders.size() && new_orders[k].day == f.day &&
             new_orders[k].product == f.product) {
        ++orders;
        ++k;
      }
      d_day.push_back(f.day);
      d_product.push_back(f.product);
      d_revenue.push_back(revenue);
      d_orders.push_back(orders);
      d_units.push_back(units);
      d_pending.push_back(pending);
      d_refund.push_back(refund);
      d_lines.push_back(n);
      d_susp.push_back(susp);
      i = j;
    }
    {
      Datum v[9] = {PointerGetDatum(ts_array(d_day, nullptr)),
                    PointerGetDatum(int8_array(d_product)),
                    PointerGetDatum(datum_array(d_revenue, NUMERICOID, -1, TYPALIGN_INT)),
                    PointerGetDatum(int8_array(d_orders)),
                    PointerGetDatum(int8_array(d_units)),
                    PointerGetDatum(int8_array(d_pending)),
                    PointerGetDatum(int8_array(d_refund)),
                    PointerGetDatum(int8_array(d_lines)),
                    PointerGetDatum(int8_array(d_susp))};
      exec(kDaily, v, SPI_OK_INSERT);
    }

    // the (hour, product) rows of pending lines and refund rows
    PVec<Line*> units;
    for (Line& l : lines) {
      if (l.pending || l.refund) units.push_back(&l);
    }
    if (!units.empty()) {
      std::sort(units.begin(), units.end(), [](const Line* x, const Line* y) {
        return x->hour != y->hour ? x->hour < y->hour : x->product < y->product;
      });
      PVec<TimestampTz> h_hour;
      PVec<int64> h_product, h_pending, h_refund;
      for (size_t i = 0; i < units.size();) {
        const Line* f = units[i];
        int64 pending = 0, refund = 0;
        size_t j = i;
        for (; j < units.size() && units[j]->hour == f->hour && units[j]->product == f->product;
             ++j) {
          if (units[j]->pending) pending += units[j]->quantity;
          if (units[j]->refund) refund += units[j]->quantity;
        }
        h_hour.push_back(f->hour);
        h_product.push_back(f->product);
        h_pending.push_back(pending);
        h_refund.push_back(refund);
        i = j;
      }
      Datum v[4] = {PointerGetDatum(ts_array(h_hour, nullptr)),
                    PointerGetDatum(int8_array(h_product)), PointerGetDatum(int8_array(h_pending)),
                    PointerGetDatum(int8_array(h_refund))};
      exec(kHourly, v, SPI_OK_INSERT);
    }
    SPI_finish();
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(work);
  return PointerGetDatum(nullptr);
}
