// The statement triggers that keep analytics.geo_hourly exact (sqitch changes fraud_geo_rollup and
// fraud_geo_rollup_c): analytics.geo_hourly_statement(), AFTER INSERT / UPDATE / DELETE FOR EACH
// STATEMENT on transactions with transition tables. Declared by the sqitch change, not by the
// extension script (the extension's version is left alone), like analytics.rollup_apply.
//
// The same deltas as the PL/pgSQL trigger of change fraud_geo_rollup (kept for TRUNCATE): per (UTC
// hour, country) the sums over the statement's line versions, new ones +1 and old ones -1, of
// lines, suspicious lines, completed lines, the amount of completed lines, lines with a score and
// their scores, lines with coordinates and their coordinates in nanodegrees ((coordinate *
// 1e9)::bigint: rint of the double product, as float8 * float8 and the float8 -> int8 cast do).
// An UPDATE adds every new version and subtracts every old one: the sums are exact, so a line
// whose figures did not change cancels out, and a bucket whose deltas are all zero is not written.
// Then one INSERT ... ON CONFLICT DO UPDATE of the buckets in (hour, country) order (the lock
// order of every writer) into the backend's slot (analytics.rollup_slot()), from arrays, with a
// saved generic plan. The PL/pgSQL version ran a GROUP BY over the transition table (~3 us a line,
// a fifth of the hourly rollups' upkeep); here the tuplestore is read directly.
//
// Plain C (Postgres calls only, no C++ object): errors are ereport'ed directly.
#include "pg.hpp"
#include "statement_trigger.hpp"
#include "techmart/core/rollup_delta.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(techmart_geo_hourly_statement);
}

namespace {

SPIPlanPtr upsert_plan = nullptr;

// The saved plan (generic: no planning per call). Every name qualified: it does not depend on the
// caller's search_path. ROWS FROM (unnest ...) returns the buckets in array order: key order.
SPIPlanPtr plan() {
  if (upsert_plan != nullptr) return upsert_plan;
  static const char* const sql =
      "INSERT INTO analytics.geo_hourly AS g (hour, country, slot, transactions, suspicious, "
      "completed, revenue, scored, score_sum, located, latitude_e9, longitude_e9) "
      "SELECT d.hour, d.country, analytics.rollup_slot(), d.transactions, d.suspicious, "
      "d.completed, d.revenue, d.scored, d.score_sum, d.located, d.latitude_e9, d.longitude_e9 "
      "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
      "pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
      "pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9), "
      "pg_catalog.unnest($10), pg_catalog.unnest($11)) AS d(hour, country, transactions, "
      "suspicious, completed, revenue, scored, score_sum, located, latitude_e9, longitude_e9) "
      "ON CONFLICT (hour, country, slot) DO UPDATE SET "
      "transactions = g.transactions OPERATOR(pg_catalog.+) excluded.transactions, "
      "suspicious = g.suspicious OPERATOR(pg_catalog.+) excluded.suspicious, "
      "completed = g.completed OPERATOR(pg_catalog.+) excluded.completed, "
      "revenue = g.revenue OPERATOR(pg_catalog.+) excluded.revenue, "
      "scored = g.scored OPERATOR(pg_catalog.+) excluded.scored, "
      "score_sum = g.score_sum OPERATOR(pg_catalog.+) excluded.score_sum, "
      "located = g.located OPERATOR(pg_catalog.+) excluded.located, "
      "latitude_e9 = g.latitude_e9 OPERATOR(pg_catalog.+) excluded.latitude_e9, "
      "longitude_e9 = g.longitude_e9 OPERATOR(pg_catalog.+) excluded.longitude_e9";
  Oid types[11] = {TIMESTAMPTZARRAYOID, TEXTARRAYOID,    INT8ARRAYOID, INT8ARRAYOID,
                   INT8ARRAYOID,        NUMERICARRAYOID, INT8ARRAYOID, NUMERICARRAYOID,
                   INT8ARRAYOID,        INT8ARRAYOID,    INT8ARRAYOID};
  SPIPlanPtr p = SPI_prepare_cursor(sql, 11, types, CURSOR_OPT_GENERIC_PLAN);
  if (p == nullptr || SPI_keepplan(p) != 0) {
    elog(ERROR, "geo_hourly: could not prepare the upsert: %s", SPI_result_code_string(SPI_result));
  }
  upsert_plan = p;
  return p;
}

constexpr int kCountryMax = 15;

struct Line {
  int64 hour;  // microseconds since 2000-01-01 UTC, floored to the hour
  int sign;
  int clen;  // bytes of country ("" for NULL)
  char country[kCountryMax + 1];
  bool suspicious, completed, scored, located;
  Datum amount;  // numeric (completed lines only)
  Datum score;   // numeric (scored lines only)
  int64 lat_e9, lon_e9;
};

int cmp_line(const void* a, const void* b) {
  const Line* x = static_cast<const Line*>(a);
  const Line* y = static_cast<const Line*>(b);
  if (x->hour != y->hour) return x->hour < y->hour ? -1 : 1;
  const int n = x->clen < y->clen ? x->clen : y->clen;
  const int c = std::memcmp(x->country, y->country, static_cast<size_t>(n));
  if (c != 0) return c;
  return x->clen - y->clen;
}

bool same_key(const Line& x, const Line& y) {
  return x.hour == y.hour && x.clen == y.clen &&
         std::memcmp(x.country, y.country, static_cast<size_t>(x.clen)) == 0;
}

bool text_is(Datum d, const char* s) {
  const size_t n = std::strlen(s);
  text* t = DatumGetTextPP(d);
  const bool eq = VARSIZE_ANY_EXHDR(t) == n && std::memcmp(VARDATA_ANY(t), s, n) == 0;
  if (reinterpret_cast<Pointer>(t) != DatumGetPointer(d)) pfree(t);
  return eq;
}

// (x * 1e9)::bigint as SQL computes it (float8mul, then dtoi8: rint and a range check)
int64 nanodegrees(double x) {
  const double v = std::rint(x * 1e9);
  if (std::isnan(v) || !FLOAT8_FITS_IN_INT64(v)) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("geo_hourly: coordinate %g out of range", x)));
  }
  return static_cast<int64>(v);
}

void add_checked(int64* acc, int64 v) {
  if (__builtin_add_overflow(*acc, v, acc)) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("geo_hourly: a coordinate sum of one statement overflows bigint")));
  }
}

struct Columns {
  int time, country, status, amount, suspicious, score, lat, lon;
};

// Appends every line version of ts with its sign to lines.
void collect(Tuplestorestate* ts, TupleDesc desc, const Columns& col, int sign, Line** lines,
             int64* n, int64* cap) {
  if (ts == nullptr) return;
  TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
  techmart::pg::read_from_start(ts);
  while (tuplestore_gettupleslot(ts, true, false, slot)) {
    if (*n == *cap) {
      *cap *= 2;
      *lines = static_cast<Line*>(repalloc_huge(*lines, sizeof(Line) * *cap));
    }
    Line& l = (*lines)[*n];
    bool null_t, null_c, null_s, null_a, null_x, null_f, null_la, null_lo;
    const Datum t = slot_getattr(slot, col.time, &null_t);
    const Datum c = slot_getattr(slot, col.country, &null_c);
    const Datum s = slot_getattr(slot, col.status, &null_s);
    const Datum a = slot_getattr(slot, col.amount, &null_a);
    const Datum x = slot_getattr(slot, col.suspicious, &null_x);
    const Datum f = slot_getattr(slot, col.score, &null_f);
    const Datum la = slot_getattr(slot, col.lat, &null_la);
    const Datum lo = slot_getattr(slot, col.lon, &null_lo);
    if (null_t) continue;  // (NOT NULL in the schema) no hour, no bucket
    l.hour = techmart::core::rollup::hour_floor_us(DatumGetTimestampTz(t));
    l.sign = sign;
    l.clen = 0;
    if (!null_c) {  // country_code is character(2): as text, without trailing blanks
      text* ct = DatumGetTextPP(c);
      int len = static_cast<int>(VARSIZE_ANY_EXHDR(ct));
      const char* p = VARDATA_ANY(ct);
      while (len > 0 && p[len - 1] == ' ') --len;
      if (len > kCountryMax) {
        ereport(ERROR, (errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
                        errmsg("geo_hourly: country longer than %d bytes", kCountryMax)));
      }
      std::memcpy(l.country, p, static_cast<size_t>(len));
      l.clen = len;
      if (reinterpret_cast<Pointer>(ct) != DatumGetPointer(c)) pfree(ct);
    }
    l.suspicious = !null_x && DatumGetBool(x);
    // sum(amount) FILTER (WHERE status = 'completed') skips a NULL amount; count(*) does not
    l.completed = !null_s && text_is(s, "completed");
    l.amount = (l.completed && !null_a) ? PointerGetDatum(PG_DETOAST_DATUM_COPY(a)) : Datum(0);
    l.scored = !null_f;
    l.score = l.scored ? PointerGetDatum(PG_DETOAST_DATUM_COPY(f)) : Datum(0);
    // count(latitude) and the sums skip NULLs (the schema keeps the pair NULL together)
    l.located = !null_la;
    l.lat_e9 = null_la ? 0 : nanodegrees(DatumGetFloat8(la));
    l.lon_e9 = null_lo ? 0 : nanodegrees(DatumGetFloat8(lo));
    ++*n;
  }
  tuplestore_select_read_pointer(ts, 0);
  ExecDropSingleTupleTableSlot(slot);
}

Datum add_signed(Datum acc, Datum v, int sign) {
  return DirectFunctionCall2(sign < 0 ? numeric_sub : numeric_add, acc, v);
}

bool numeric_is_zero(Datum v, Datum zero) {
  return DatumGetBool(DirectFunctionCall2(numeric_eq, v, zero));
}

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_geo_hourly_statement(PG_FUNCTION_ARGS) {
  const techmart::pg::StatementRows rows = techmart::pg::statement_rows(fcinfo, "geo_hourly");
  TupleDesc desc = RelationGetDescr(rows.td->tg_relation);
  const char* who = "geo_hourly";
  const Columns col{techmart::pg::column_number(desc, "transaction_time", who),
                    techmart::pg::column_number(desc, "country", who),
                    techmart::pg::column_number(desc, "status", who),
                    techmart::pg::column_number(desc, "amount", who),
                    techmart::pg::column_number(desc, "is_suspicious", who),
                    techmart::pg::column_number(desc, "fraud_score", who),
                    techmart::pg::column_number(desc, "latitude", who),
                    techmart::pg::column_number(desc, "longitude", who)};

  // everything below lives in a context of its own, freed at the end
  MemoryContext work =
      AllocSetContextCreate(CurrentMemoryContext, "geo_hourly", ALLOCSET_DEFAULT_SIZES);
  MemoryContext old = MemoryContextSwitchTo(work);
  int64 n = 0, cap = 64;
  Line* lines = static_cast<Line*>(MemoryContextAllocHuge(work, sizeof(Line) * cap));
  collect(rows.added, desc, col, 1, &lines, &n, &cap);
  collect(rows.removed, desc, col, -1, &lines, &n, &cap);
  qsort(lines, static_cast<size_t>(n), sizeof(Line), cmp_line);

  // per (hour, country): the sums; buckets whose deltas are all zero dropped
  const size_t slots = static_cast<size_t>(n > 0 ? n : 1);
  Datum* hours = static_cast<Datum*>(MemoryContextAllocHuge(work, sizeof(Datum) * slots * 11));
  Datum* countries = hours + slots;
  Datum* tx = countries + slots;
  Datum* susp = tx + slots;
  Datum* compl_ = susp + slots;
  Datum* revenue = compl_ + slots;
  Datum* scored = revenue + slots;
  Datum* score_sum = scored + slots;
  Datum* located = score_sum + slots;
  Datum* lat = located + slots;
  Datum* lon = lat + slots;
  const Datum zero = NumericGetDatum(int64_to_numeric(0));
  int64 m = 0;
  for (int64 i = 0; i < n;) {
    int64 t = 0, s = 0, c = 0, sc = 0, lc = 0, la = 0, lo = 0;
    Datum rev = zero, ssum = zero;
    int64 j = i;
    for (; j < n && same_key(lines[j], lines[i]); ++j) {
      const Line& l = lines[j];
      t += l.sign;
      if (l.suspicious) s += l.sign;
      if (l.completed) {
        c += l.sign;
        if (l.amount != 0) rev = add_signed(rev, l.amount, l.sign);
      }
      if (l.scored) {
        sc += l.sign;
        ssum = add_signed(ssum, l.score, l.sign);
      }
      if (l.located) {
        lc += l.sign;
        add_checked(&la, l.sign * l.lat_e9);
        add_checked(&lo, l.sign * l.lon_e9);
      }
    }
    if (t != 0 || s != 0 || c != 0 || sc != 0 || lc != 0 || la != 0 || lo != 0 ||
        !numeric_is_zero(rev, zero) || !numeric_is_zero(ssum, zero)) {
      hours[m] = TimestampTzGetDatum(lines[i].hour);
      countries[m] = PointerGetDatum(cstring_to_text_with_len(lines[i].country, lines[i].clen));
      tx[m] = Int64GetDatum(t);
      susp[m] = Int64GetDatum(s);
      compl_[m] = Int64GetDatum(c);
      revenue[m] = rev;
      scored[m] = Int64GetDatum(sc);
      score_sum[m] = ssum;
      located[m] = Int64GetDatum(lc);
      lat[m] = Int64GetDatum(la);
      lon[m] = Int64GetDatum(lo);
      ++m;
    }
    i = j;
  }

  if (m > 0) {
    const int k = static_cast<int>(m);
    const auto int8_array = [k](Datum* v) {
      return PointerGetDatum(
          construct_array(v, k, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    };
    const auto numeric_array = [k](Datum* v) {
      return PointerGetDatum(construct_array(v, k, NUMERICOID, -1, false, TYPALIGN_INT));
    };
    Datum args[11] = {
        PointerGetDatum(construct_array(hours, k, TIMESTAMPTZOID, sizeof(TimestampTz),
                                        FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
        PointerGetDatum(construct_array(countries, k, TEXTOID, -1, false, TYPALIGN_INT)),
        int8_array(tx),
        int8_array(susp),
        int8_array(compl_),
        numeric_array(revenue),
        int8_array(scored),
        numeric_array(score_sum),
        int8_array(located),
        int8_array(lat),
        int8_array(lon)};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "geo_hourly: SPI_connect failed");
    const int rc = SPI_execute_plan(plan(), args, nullptr, false, 0);
    if (rc != SPI_OK_INSERT) {
      elog(ERROR, "geo_hourly: the upsert returned %s", SPI_result_code_string(rc));
    }
    SPI_finish();
  }
  MemoryContextSwitchTo(old);
  MemoryContextDelete(work);
  return PointerGetDatum(nullptr);
}
