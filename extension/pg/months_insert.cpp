// analytics.customer_months_insert_trigger() in C (sqitch change customer_months_insert_c): the
// INSERT/COPY upkeep of analytics.customer_months, customer_totals and customer_order_spans
// (change customer_months; docs/architecture.md, "Per-customer monthly rollups"). Declared by the
// sqitch change, not by the extension script (the extension's version is left alone), like
// analytics.customers_spent_*_trigger.
//
// The same figures as the PL/pgSQL trigger and analytics.customer_months_add (change
// customer_months_bulk) it replaces on this path: the statement's counted lines (completed lines,
// refund rows) are read from the transition table directly and summed per (customer, UTC month) in
// sorted arrays instead of six array_agg's, an unnest and three hash aggregates; then, as before,
//   1. the customers rows of those lines are locked in id order (FOR NO KEY UPDATE);
//   2. the completed lines now of the statement's order numbers (of its completed lines), one index
//      scan of transactions_order_idx over their sorted array (a new snapshot, taken after the
//      lock: the statement's lines and every committed one), matched to the orders (customer, order
//      number) here: each order's months now and before the statement;
//   3. the deltas written: months (orders +1 for a line without order number and for an order whose
//      first completed line is the statement's, -1/+1 when the statement moves an order's first
//      month earlier; lines, units, revenue added; first/last purchase by least/greatest), the
//      spans of the orders now in several months, the customers' totals.
// Every statement is a saved SPI plan over arrays (generic: no planning per call).
//
// Plain C (Postgres calls only, no C++ object lives across them): errors are ereport'ed directly.
#include <algorithm>

#include "pg.hpp"
#include "rollup_arrays.hpp"
#include "statement_trigger.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_customer_months_insert);
}

using techmart::pg::cmp_text;
using techmart::pg::datum_array;
using techmart::pg::int8_array;
using techmart::pg::PVec;
using techmart::pg::text_is;
using techmart::pg::ts_array;

namespace {

const char* const kWho = "customer_months_insert";

enum PlanId { kLock, kProbe, kMonths, kSpans, kTotals, kPlans };
SPIPlanPtr plans[kPlans] = {};

SPIPlanPtr plan(PlanId id) {
  if (plans[id] != nullptr) return plans[id];
  static const char* const sql[kPlans] = {
      // 1. the customers, in id order
      "SELECT 1 FROM public.customers c WHERE c.id OPERATOR(pg_catalog.=) ANY ($1) "
      "ORDER BY c.id FOR NO KEY UPDATE",
      // 2. the completed lines now of the statement's order numbers (one index scan of
      // transactions_order_idx over the sorted array: a descent per order number, no executor
      // rescan per order); matched to the orders (customer, order number) here
      "SELECT t.customer_id, t.order_number, t.transaction_time FROM public.transactions t "
      "WHERE t.order_number OPERATOR(pg_catalog.=) ANY ($1) "
      "AND t.status OPERATOR(pg_catalog.=) 'completed'",
      // 3. the month rows, in (customer, month) order
      "INSERT INTO analytics.customer_months AS m (customer_id, month, orders, lines, units, "
      "revenue, first_purchase, last_purchase) "
      "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
      "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
      "pg_catalog.unnest($7), pg_catalog.unnest($8)) "
      "ON CONFLICT (customer_id, month) DO UPDATE SET "
      "orders = m.orders OPERATOR(pg_catalog.+) excluded.orders, "
      "lines = m.lines OPERATOR(pg_catalog.+) excluded.lines, "
      "units = m.units OPERATOR(pg_catalog.+) excluded.units, "
      "revenue = m.revenue OPERATOR(pg_catalog.+) excluded.revenue, "
      "first_purchase = LEAST(m.first_purchase, excluded.first_purchase), "
      "last_purchase = GREATEST(m.last_purchase, excluded.last_purchase)",
      // 4. the spans of the orders now in more than one month, in (customer, order) order
      "INSERT INTO analytics.customer_order_spans AS p (customer_id, order_number, first_month, "
      "last_month) "
      "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
      "pg_catalog.unnest($3), pg_catalog.unnest($4)) "
      "ON CONFLICT (customer_id, order_number) DO UPDATE SET "
      "first_month = excluded.first_month, last_month = excluded.last_month",
      // 5. the totals, in customer order
      "INSERT INTO analytics.customer_totals AS tt (customer_id, orders, lines, units, revenue, "
      "first_purchase, last_purchase, first_month, last_month) "
      "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
      "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
      "pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9)) "
      "ON CONFLICT (customer_id) DO UPDATE SET "
      "orders = tt.orders OPERATOR(pg_catalog.+) excluded.orders, "
      "lines = tt.lines OPERATOR(pg_catalog.+) excluded.lines, "
      "units = tt.units OPERATOR(pg_catalog.+) excluded.units, "
      "revenue = tt.revenue OPERATOR(pg_catalog.+) excluded.revenue, "
      "first_purchase = LEAST(tt.first_purchase, excluded.first_purchase), "
      "last_purchase = GREATEST(tt.last_purchase, excluded.last_purchase), "
      "first_month = LEAST(tt.first_month, excluded.first_month), "
      "last_month = GREATEST(tt.last_month, excluded.last_month)"};
  static const Oid lock_t[1] = {INT8ARRAYOID};
  static const Oid probe_t[1] = {TEXTARRAYOID};
  static const Oid months_t[8] = {INT8ARRAYOID,        TIMESTAMPTZARRAYOID, INT8ARRAYOID,
                                  INT8ARRAYOID,        INT8ARRAYOID,        NUMERICARRAYOID,
                                  TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
  static const Oid spans_t[4] = {INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
                                 TIMESTAMPTZARRAYOID};
  static const Oid totals_t[9] = {INT8ARRAYOID,        INT8ARRAYOID,        INT8ARRAYOID,
                                  INT8ARRAYOID,        NUMERICARRAYOID,     TIMESTAMPTZARRAYOID,
                                  TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
  static const Oid* const types[kPlans] = {lock_t, probe_t, months_t, spans_t, totals_t};
  static const int nargs[kPlans] = {1, 1, 8, 4, 9};
  SPIPlanPtr p =
      SPI_prepare_cursor(sql[id], nargs[id], const_cast<Oid*>(types[id]), CURSOR_OPT_GENERIC_PLAN);
  if (p == nullptr || SPI_keepplan(p) != 0) {
    elog(ERROR, "%s: could not prepare statement %d: %s", kWho, static_cast<int>(id),
         SPI_result_code_string(SPI_result));
  }
  plans[id] = p;
  return p;
}

// analytics.utc_month: the start of the UTC month (infinities unchanged)
TimestampTz utc_month(TimestampTz t) {
  if (TIMESTAMP_NOT_FINITE(t)) return t;
  struct pg_tm tm;
  fsec_t fsec;
  if (timestamp2tm(t, nullptr, &tm, &fsec, nullptr, nullptr) != 0) {
    ereport(ERROR,
            (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
  }
  tm.tm_mday = 1;
  tm.tm_hour = 0;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  Timestamp r;
  if (tm2timestamp(&tm, 0, nullptr, &r) != 0) {
    ereport(ERROR,
            (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
  }
  return r;
}

// a counted line of the statement (completed, or a refund row)
struct Line {
  int64 customer;
  TimestampTz month;
  TimestampTz time;
  text* order;  // the order number of a completed line (detoasted copy), else nullptr
  bool completed;
  int64 units;    // signed: refund rows negative
  Datum revenue;  // numeric, signed
};

// a delta of one (customer, month) row
struct Delta {
  int64 customer;
  TimestampTz month;
  int64 orders = 0, lines = 0, units = 0;
  Datum revenue = 0;  // numeric; 0 (no Datum) = no term yet
  bool has_fp = false;
  TimestampTz fp = 0, lp = 0;
};

// one order (customer, order number) of the statement's completed lines
struct Order {
  int64 customer;
  text* order;
  int first_line, end_line;  // its lines in the (customer, order, month) sorted array
};

void exec(PlanId id, Datum* values, int expect) {
  const int rc = SPI_execute_plan(plan(id), values, nullptr, false, 0);
  if (rc != expect) {
    elog(ERROR, "%s: statement %d returned %s", kWho, static_cast<int>(id),
         SPI_result_code_string(rc));
  }
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_customer_months_insert(PG_FUNCTION_ARGS) {
  const techmart::pg::StatementRows rows = techmart::pg::statement_rows(fcinfo, kWho);
  techmart::pg::require_insert(rows, kWho);
  TupleDesc desc = RelationGetDescr(rows.td->tg_relation);
  const int c_customer = techmart::pg::column_number(desc, "customer_id", kWho);
  const int c_time = techmart::pg::column_number(desc, "transaction_time", kWho);
  const int c_status = techmart::pg::column_number(desc, "status", kWho);
  const int c_kind = techmart::pg::column_number(desc, "kind", kWho);
  const int c_amount = techmart::pg::column_number(desc, "amount", kWho);
  const int c_quantity = techmart::pg::column_number(desc, "quantity", kWho);
  const int c_order = techmart::pg::column_number(desc, "order_number", kWho);

  MemoryContext work =
      AllocSetContextCreate(CurrentMemoryContext, "customer_months_insert", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(work);
  {
    // the counted lines
    PVec<Line> lines;
    Tuplestorestate* ts = rows.added;
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    techmart::pg::read_from_start(ts);
    while (tuplestore_gettupleslot(ts, true, false, slot)) {
      bool nul_c, nul_t, nul_s, nul_k, nul_a, nul_q, nul_o;
      const Datum c = slot_getattr(slot, c_customer, &nul_c);
      const Datum t = slot_getattr(slot, c_time, &nul_t);
      const Datum s = slot_getattr(slot, c_status, &nul_s);
      const Datum k = slot_getattr(slot, c_kind, &nul_k);
      const Datum a = slot_getattr(slot, c_amount, &nul_a);
      const Datum q = slot_getattr(slot, c_quantity, &nul_q);
      const Datum o = slot_getattr(slot, c_order, &nul_o);
      const bool completed = !nul_s && text_is(s, "completed");
      const bool refund = !nul_k && text_is(k, "refund");
      if (!completed && !refund) continue;
      if (nul_c || nul_t || nul_a || nul_q) {
        // the table's NOT NULL constraints make this impossible
        ereport(ERROR,
                (errcode(ERRCODE_NOT_NULL_VIOLATION),
                 errmsg("%s: a counted line without customer, time, amount or quantity", kWho)));
      }
      Line l;
      l.customer = DatumGetInt64(c);
      l.time = DatumGetTimestampTz(t);
      l.month = utc_month(l.time);
      l.completed = completed;
      l.order = completed && !nul_o ? DatumGetTextPCopy(o) : nullptr;
      const int64 qty = DatumGetInt32(q);
      l.units = refund ? -qty : qty;
      l.revenue = refund ? DirectFunctionCall1(numeric_uminus, a)
                         : PointerGetDatum(PG_DETOAST_DATUM_COPY(a));
      lines.push_back(l);
    }
    tuplestore_select_read_pointer(ts, 0);
    ExecDropSingleTupleTableSlot(slot);

    if (!lines.empty()) {
      // (customer, order (none first), month)
      std::sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) {
        if (x.customer != y.customer) return x.customer < y.customer;
        if ((x.order == nullptr) != (y.order == nullptr)) return x.order == nullptr;
        if (x.order != nullptr) {
          const int c = cmp_text(x.order, y.order);
          if (c != 0) return c < 0;
        }
        return x.month < y.month;
      });
      if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "%s: SPI_connect failed", kWho);

      // 1. lock the customers in id order
      PVec<int64> customers;
      for (const Line& l : lines) {
        if (customers.empty() || customers.back() != l.customer) customers.push_back(l.customer);
      }
      {
        Datum v[1] = {PointerGetDatum(int8_array(customers))};
        exec(kLock, v, SPI_OK_SELECT);
      }

      // the deltas of the lines per (customer, month), and the orders
      PVec<Delta> deltas;
      PVec<Order> orders;
      for (size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        Delta d;
        d.customer = l.customer;
        d.month = l.month;
        d.lines = l.completed ? 1 : 0;
        d.orders = l.completed && l.order == nullptr ? 1 : 0;
        d.units = l.units;
        d.revenue = l.revenue;
        if (l.completed) {
          d.has_fp = true;
          d.fp = d.lp = l.time;
        }
        deltas.push_back(d);
        if (l.order != nullptr && (orders.empty() || orders.back().customer != l.customer ||
                                   cmp_text(orders.back().order, l.order) != 0)) {
          orders.push_back(Order{l.customer, l.order, static_cast<int>(i), static_cast<int>(i)});
        }
        if (l.order != nullptr) orders.back().end_line = static_cast<int>(i) + 1;
      }

      // 2. the orders' months now; 3. their order deltas and spans
      PVec<int64> span_c;
      PVec<Datum> span_o;
      PVec<TimestampTz> span_first, span_last;
      if (!orders.empty()) {
        PVec<Datum> oo;
        for (const Order& o : orders) oo.push_back(PointerGetDatum(o.order));
        Datum v[1] = {PointerGetDatum(datum_array(oo, TEXTOID, -1, TYPALIGN_INT))};
        exec(kProbe, v, SPI_OK_SELECT);
        // the lines of the statement's orders (other customers' lines of the same order numbers
        // left out) as (order, month), sorted
        struct Hit {
          int64 order;
          TimestampTz month;
        };
        PVec<Hit> hits;
        for (uint64 r = 0; r < SPI_processed; ++r) {
          HeapTuple tup = SPI_tuptable->vals[r];
          TupleDesc td = SPI_tuptable->tupdesc;
          bool n1, n2, n3;
          const int64 customer = DatumGetInt64(SPI_getbinval(tup, td, 1, &n1));
          const Datum od = SPI_getbinval(tup, td, 2, &n2);
          const TimestampTz time = DatumGetTimestampTz(SPI_getbinval(tup, td, 3, &n3));
          if (n1 || n2 || n3) elog(ERROR, "%s: unexpected probe row", kWho);
          const text* ot = DatumGetTextPP(od);
          // binary search of (customer, order number) in orders
          size_t lo = 0, hi = orders.size();
          while (lo < hi) {
            const size_t mid = (lo + hi) / 2;
            const Order& m = orders[mid];
            const int c =
                m.customer != customer ? (m.customer < customer ? -1 : 1) : cmp_text(m.order, ot);
            if (c < 0) {
              lo = mid + 1;
            } else {
              hi = mid;
            }
          }
          if (lo < orders.size() && orders[lo].customer == customer &&
              cmp_text(orders[lo].order, ot) == 0) {
            hits.push_back(Hit{static_cast<int64>(lo), utc_month(time)});
          }
        }
        std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
          return x.order != y.order ? x.order < y.order : x.month < y.month;
        });
        // per order: before_first (the first month where it had lines before the statement),
        // after_first, after_last
        const size_t no = orders.size();
        TimestampTz* before_first = static_cast<TimestampTz*>(palloc0(sizeof(TimestampTz) * no));
        TimestampTz* after_first = static_cast<TimestampTz*>(palloc0(sizeof(TimestampTz) * no));
        TimestampTz* after_last = static_cast<TimestampTz*>(palloc0(sizeof(TimestampTz) * no));
        bool* has_before = static_cast<bool*>(palloc0(sizeof(bool) * no));
        bool* has_after = static_cast<bool*>(palloc0(sizeof(bool) * no));
        for (size_t h = 0; h < hits.size();) {
          const int64 idx = hits[h].order;
          const TimestampTz month = hits[h].month;
          size_t e = h;
          while (e < hits.size() && hits[e].order == idx && hits[e].month == month) ++e;
          const int64 cnt = static_cast<int64>(e - h);
          h = e;
          const Order& o = orders[idx];
          int64 in_statement = 0;
          for (int i = o.first_line; i < o.end_line; ++i) {
            if (lines[i].month == month) ++in_statement;
          }
          if (cnt > in_statement && (!has_before[idx] || month < before_first[idx])) {
            has_before[idx] = true;
            before_first[idx] = month;
          }
          if (!has_after[idx] || month < after_first[idx]) after_first[idx] = month;
          if (!has_after[idx] || month > after_last[idx]) after_last[idx] = month;
          has_after[idx] = true;
        }
        for (size_t i = 0; i < orders.size(); ++i) {
          if (!has_after[i]) {
            // the probe must see the statement's own lines
            elog(ERROR, "%s: an order of the statement not found in transactions", kWho);
          }
          if (!has_before[i] || after_first[i] < before_first[i]) {
            Delta d;
            d.customer = orders[i].customer;
            d.month = after_first[i];
            d.orders = 1;
            deltas.push_back(d);
          }
          if (has_before[i] && after_first[i] < before_first[i]) {
            Delta d;
            d.customer = orders[i].customer;
            d.month = before_first[i];
            d.orders = -1;
            deltas.push_back(d);
          }
          if (after_first[i] < after_last[i]) {
            span_c.push_back(orders[i].customer);
            span_o.push_back(PointerGetDatum(orders[i].order));
            span_first.push_back(after_first[i]);
            span_last.push_back(after_last[i]);
          }
        }
      }

      // the month rows: deltas merged per (customer, month), in that order
      std::sort(deltas.begin(), deltas.end(), [](const Delta& x, const Delta& y) {
        return x.customer != y.customer ? x.customer < y.customer : x.month < y.month;
      });
      const Datum zero = NumericGetDatum(int64_to_numeric(0));
      PVec<int64> m_c, m_orders, m_lines, m_units;
      PVec<TimestampTz> m_month, m_fp, m_lp;
      PVec<bool> m_has_fp;
      PVec<Datum> m_rev;
      for (size_t i = 0; i < deltas.size();) {
        Delta sum = deltas[i];
        size_t j = i + 1;
        for (; j < deltas.size() && deltas[j].customer == sum.customer &&
               deltas[j].month == sum.month;
             ++j) {
          const Delta& d = deltas[j];
          sum.orders += d.orders;
          sum.lines += d.lines;
          sum.units += d.units;
          if (d.revenue != 0) {
            sum.revenue = sum.revenue == 0
                              ? d.revenue
                              : DirectFunctionCall2(numeric_add, sum.revenue, d.revenue);
          }
          if (d.has_fp) {
            if (!sum.has_fp || d.fp < sum.fp) sum.fp = d.fp;
            if (!sum.has_fp || d.lp > sum.lp) sum.lp = d.lp;
            sum.has_fp = true;
          }
        }
        m_c.push_back(sum.customer);
        m_month.push_back(sum.month);
        m_orders.push_back(sum.orders);
        m_lines.push_back(sum.lines);
        m_units.push_back(sum.units);
        m_rev.push_back(sum.revenue == 0 ? zero : sum.revenue);
        m_fp.push_back(sum.fp);
        m_lp.push_back(sum.lp);
        m_has_fp.push_back(sum.has_fp);
        i = j;
      }
      {
        Datum v[8] = {PointerGetDatum(int8_array(m_c)),
                      PointerGetDatum(ts_array(m_month, nullptr)),
                      PointerGetDatum(int8_array(m_orders)),
                      PointerGetDatum(int8_array(m_lines)),
                      PointerGetDatum(int8_array(m_units)),
                      PointerGetDatum(datum_array(m_rev, NUMERICOID, -1, TYPALIGN_INT)),
                      PointerGetDatum(ts_array(m_fp, &m_has_fp)),
                      PointerGetDatum(ts_array(m_lp, &m_has_fp))};
        exec(kMonths, v, SPI_OK_INSERT);
      }
      if (!span_c.empty()) {
        Datum v[4] = {PointerGetDatum(int8_array(span_c)),
                      PointerGetDatum(datum_array(span_o, TEXTOID, -1, TYPALIGN_INT)),
                      PointerGetDatum(ts_array(span_first, nullptr)),
                      PointerGetDatum(ts_array(span_last, nullptr))};
        exec(kSpans, v, SPI_OK_INSERT);
      }

      // the totals: the month rows summed per customer
      PVec<int64> t_c, t_orders, t_lines, t_units;
      PVec<Datum> t_rev;
      PVec<TimestampTz> t_fp, t_lp, t_first, t_last;
      PVec<bool> t_has_fp;
      for (size_t i = 0; i < m_c.size();) {
        int64 orders_sum = 0, lines_sum = 0, units_sum = 0;
        Datum rev = m_rev[i];
        bool has_fp = false;
        TimestampTz fp = 0, lp = 0;
        size_t j = i;
        for (; j < m_c.size() && m_c[j] == m_c[i]; ++j) {
          orders_sum += m_orders[j];
          lines_sum += m_lines[j];
          units_sum += m_units[j];
          if (j > i) rev = DirectFunctionCall2(numeric_add, rev, m_rev[j]);
          if (m_has_fp[j]) {
            if (!has_fp || m_fp[j] < fp) fp = m_fp[j];
            if (!has_fp || m_lp[j] > lp) lp = m_lp[j];
            has_fp = true;
          }
        }
        t_c.push_back(m_c[i]);
        t_orders.push_back(orders_sum);
        t_lines.push_back(lines_sum);
        t_units.push_back(units_sum);
        t_rev.push_back(rev);
        t_fp.push_back(fp);
        t_lp.push_back(lp);
        t_has_fp.push_back(has_fp);
        t_first.push_back(m_month[i]);  // months sorted within the customer
        t_last.push_back(m_month[j - 1]);
        i = j;
      }
      {
        Datum v[9] = {PointerGetDatum(int8_array(t_c)),
                      PointerGetDatum(int8_array(t_orders)),
                      PointerGetDatum(int8_array(t_lines)),
                      PointerGetDatum(int8_array(t_units)),
                      PointerGetDatum(datum_array(t_rev, NUMERICOID, -1, TYPALIGN_INT)),
                      PointerGetDatum(ts_array(t_fp, &t_has_fp)),
                      PointerGetDatum(ts_array(t_lp, &t_has_fp)),
                      PointerGetDatum(ts_array(t_first, nullptr)),
                      PointerGetDatum(ts_array(t_last, nullptr))};
        exec(kTotals, v, SPI_OK_INSERT);
      }
      SPI_finish();
    }
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(work);
  return PointerGetDatum(nullptr);
}
