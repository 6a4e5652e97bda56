// analytics.hourly_sales_items(p_from, p_to, p_dim, p_key, p_tz) -> jsonb: the "items" array of
// api.hourly_sales in one call, the very jsonb its earlier construction made,
//   jsonb_agg(i ORDER BY i.hour) of (SELECT period_start AS hour, revenue, orders, units,
//   transactions, suspicious, refunded_amount FROM analytics.sales_series('hour', p_from, p_to,
//   p_dim, p_key)) i
// (with p_tz = analytics.business_timezone()), without its executor plan (generate_series, two
// sorts, a merge join, a grouping, the aggregate's sort, and per row a record, to_jsonb, an
// output/input round trip of each number, a Jsonb serialised and iterated back and a key sort:
// most of the time for 720 rows) — one JsonbValue tree serialised once (JsonbValueToJsonb).
// The same steps, by the same server functions:
//   buckets  the local hours g = generate_series(date_trunc('hour', p_from AT TIME ZONE p_tz),
//            (p_to AT TIME ZONE p_tz) - 1 us, 1 hour) when p_to > p_from (timestamp_pl_interval
//            from one to the next), hour = g AT TIME ZONE p_tz (timestamp_zone);
//   rows     analytics.sales_hourly of dim p_dim and key p_key with hour >= hour_floor(p_from) and
//            hour < p_to (SPI, one saved plan; names and operators schema-qualified and
//            hour_floor computed here by timestamptz_bin: nothing depends on the search_path),
//            each added to the bucket of date_trunc('hour', hour AT TIME ZONE p_tz) when there is
//            one (the left join);
//   sums     numerics added with numeric_add (sum(): exact, the largest scale, NaN and infinities
//            alike), integers in 128 bits then "bigint out of range" as the cast of the numeric
//            sum to bigint; no row: 0;
//   order    the buckets in local order, then sorted by hour with pg_qsort (the sort template of
//            tuplesort's in-memory quicksort, the same comparisons: the same order, equal hours
//            included) only when the hours are not already in order (a local gap of two hours or
//            more, e.g. Pacific/Apia 2011-12-30); in order, the quicksort leaves them as they are.
//   items    {hour, revenue, orders, units, transactions, suspicious, refunded_amount} as
//            to_jsonb makes them (datum_to_jsonb): the hour a JSON string by JsonEncodeDateTime
//            (ISO 8601 in the session TimeZone); a numeric as it is (to_jsonb's
//            numeric_in(numeric_out(x)) is x again: both normalised by make_result, the same
//            digits and display scale), NaN and +/-Infinity as the strings "NaN", "Infinity",
//            "-Infinity"; a bigint as the numeric of scale 0 (int64_to_numeric = numeric_in of
//            int8out); the keys in jsonb's order (shorter first; the lengths all differ).
// STABLE (reads the table, writes the hour in the session TimeZone); STRICT; an infinite p_from or
// p_to is refused (22023: generate_series would not end; api.hourly_sales refuses them first).
// Plain Postgres calls only (palloc, SPI, the datetime and numeric functions), no C++ object: a
// Postgres error propagates as from any C function.

#include "pg.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/json.h"

PG_FUNCTION_INFO_V1(techmart_hourly_sales_items);
}

namespace {

constexpr int kFields = 7;

// jsonb's key order: shorter first, then byte order (lengthCompareJsonbStringValue)
struct Key {
  const char* name;
  int len;
};
constexpr Key kKeys[kFields] = {
    {"hour", 4},        {"units", 5},         {"orders", 6},          {"revenue", 7},
    {"suspicious", 10}, {"transactions", 12}, {"refunded_amount", 15}};

constexpr int64 kHour = USECS_PER_HOUR;

struct Bucket {
  Timestamp local;    // the local hour
  TimestampTz start;  // its start
  Numeric revenue;    // sum, nullptr without a row
  Numeric refunded;
  int128 orders, units, transactions, suspicious;
};

struct Order {
  TimestampTz start;
  int index;
};

int compare_order(const void* a, const void* b) {
  const TimestampTz x = static_cast<const Order*>(a)->start;
  const TimestampTz y = static_cast<const Order*>(b)->start;
  return x < y ? -1 : (x > y ? 1 : 0);
}

Numeric add_numeric(Numeric sum, Datum value) {
  if (sum == nullptr) return DatumGetNumericCopy(value);
  return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(sum), value));
}

void set_numeric(JsonbValue* v, Numeric num) {
  if (numeric_is_nan(num) || numeric_is_inf(num)) {
    char* s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
    v->type = jbvString;
    v->val.string.val = s;
    v->val.string.len = static_cast<int>(std::strlen(s));
  } else {
    v->type = jbvNumeric;
    v->val.numeric = num;
  }
}

void set_bigint_sum(JsonbValue* v, int128 sum) {
  if (sum > PG_INT64_MAX || sum < PG_INT64_MIN) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
  }
  v->type = jbvNumeric;
  v->val.numeric = int64_to_numeric(static_cast<int64>(sum));
}

SPIPlanPtr rows_plan = nullptr;

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_hourly_sales_items(PG_FUNCTION_ARGS) {
  const TimestampTz from = PG_GETARG_TIMESTAMPTZ(0);
  const TimestampTz to = PG_GETARG_TIMESTAMPTZ(1);
  Datum dim = PG_GETARG_DATUM(2);
  Datum key = PG_GETARG_DATUM(3);
  Datum tz = PG_GETARG_DATUM(4);
  Datum hour_text = CStringGetTextDatum("hour");

  if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to)) {
    // generate_series would not end (api.hourly_sales refuses them before)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("analytics.hourly_sales_items: from and to must be finite")));
  }
  Interval step;
  step.time = kHour;
  step.day = 0;
  step.month = 0;

  // the buckets (none unless p_to > p_from)
  int n = 0;
  int cap = 0;
  Bucket* buckets = nullptr;
  if (to > from) {
    Interval usec;
    usec.time = 1;
    usec.day = 0;
    usec.month = 0;
    Timestamp g = DatumGetTimestamp(
        DirectFunctionCall2(timestamp_trunc, hour_text,
                            DirectFunctionCall2(timestamptz_zone, tz, TimestampTzGetDatum(from))));
    const Timestamp last = DatumGetTimestamp(DirectFunctionCall2(
        timestamp_mi_interval, DirectFunctionCall2(timestamptz_zone, tz, TimestampTzGetDatum(to)),
        IntervalPGetDatum(&usec)));
    while (g <= last) {
      CHECK_FOR_INTERRUPTS();
      if (n == cap) {
        cap = cap == 0 ? 1024 : cap * 2;
        buckets =
            static_cast<Bucket*>(buckets == nullptr ? palloc(sizeof(Bucket) * cap)
                                                    : repalloc(buckets, sizeof(Bucket) * cap));
      }
      Bucket* b = &buckets[n++];
      b->local = g;
      b->start = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, tz, TimestampGetDatum(g)));
      b->revenue = nullptr;
      b->refunded = nullptr;
      b->orders = b->units = b->transactions = b->suspicious = 0;
      g = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval, TimestampGetDatum(g),
                                                IntervalPGetDatum(&step)));
    }
  }
  if (n == 0) {
    JsonbValue empty;
    empty.type = jbvArray;
    empty.val.array.nElems = 0;
    empty.val.array.elems = nullptr;
    empty.val.array.rawScalar = false;
    PG_RETURN_JSONB_P(JsonbValueToJsonb(&empty));
  }

  // the rollup rows, each added to its local hour's bucket
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "hourly_sales_items: SPI_connect failed");
  if (rows_plan == nullptr) {
    Oid types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
    SPIPlanPtr p = SPI_prepare(
        "SELECT s.hour, s.revenue, s.orders, s.units, s.transactions, s.suspicious, "
        "s.refunded_amount FROM analytics.sales_hourly s "
        "WHERE s.dim OPERATOR(pg_catalog.=) $1 AND s.key OPERATOR(pg_catalog.=) $2 "
        "AND s.hour OPERATOR(pg_catalog.>=) $3 AND s.hour OPERATOR(pg_catalog.<) $4",
        4, types);
    if (p == nullptr || SPI_keepplan(p) != 0) {
      elog(ERROR, "hourly_sales_items: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    }
    rows_plan = p;
  }
  // analytics.hour_floor(p_from): date_bin('1 hour', p_from, '2000-01-01 00:00+00')
  Datum floor_from = DirectFunctionCall3(timestamptz_bin, IntervalPGetDatum(&step),
                                         TimestampTzGetDatum(from), TimestampTzGetDatum(0));
  Datum values[4] = {dim, key, floor_from, TimestampTzGetDatum(to)};
  if (SPI_execute_plan(rows_plan, values, nullptr, true, 0) != SPI_OK_SELECT) {
    elog(ERROR, "hourly_sales_items: SPI_execute_plan failed");
  }
  MemoryContextSwitchTo(caller);
  const Timestamp first_local = buckets[0].local;
  for (uint64 r = 0; r < SPI_processed; ++r) {
    CHECK_FOR_INTERRUPTS();
    HeapTuple tup = SPI_tuptable->vals[r];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    Datum hour = SPI_getbinval(tup, desc, 1, &isnull);
    if (isnull) continue;  // the primary key: never
    const Timestamp local = DatumGetTimestamp(DirectFunctionCall2(
        timestamp_trunc, hour_text, DirectFunctionCall2(timestamptz_zone, tz, hour)));
    // the bucket whose local hour this is (local hours are whole hours apart)
    if (local < first_local || (local - first_local) % kHour != 0) continue;
    const int64 i = (local - first_local) / kHour;
    if (i >= n || buckets[i].local != local) continue;
    Bucket* b = &buckets[i];
    Datum d = SPI_getbinval(tup, desc, 2, &isnull);
    if (!isnull) b->revenue = add_numeric(b->revenue, d);
    d = SPI_getbinval(tup, desc, 3, &isnull);
    if (!isnull) b->orders += DatumGetInt64(d);
    d = SPI_getbinval(tup, desc, 4, &isnull);
    if (!isnull) b->units += DatumGetInt64(d);
    d = SPI_getbinval(tup, desc, 5, &isnull);
    if (!isnull) b->transactions += DatumGetInt64(d);
    d = SPI_getbinval(tup, desc, 6, &isnull);
    if (!isnull) b->suspicious += DatumGetInt64(d);
    d = SPI_getbinval(tup, desc, 7, &isnull);
    if (!isnull) b->refunded = add_numeric(b->refunded, d);
  }

  // the order of the items: by hour, as the aggregate's sort
  Order* order = static_cast<Order*>(palloc(sizeof(Order) * n));
  bool sorted = true;
  for (int i = 0; i < n; ++i) {
    order[i].start = buckets[i].start;
    order[i].index = i;
    if (i > 0 && buckets[i].start < buckets[i - 1].start) sorted = false;
  }
  if (!sorted) pg_qsort(order, n, sizeof(Order), compare_order);

  Numeric zero = int64_to_numeric(0);
  JsonbPair* pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * kFields * n));
  JsonbValue root;
  root.type = jbvArray;
  root.val.array.nElems = n;
  root.val.array.rawScalar = false;
  root.val.array.elems = static_cast<JsonbValue*>(palloc(sizeof(JsonbValue) * n));
  for (int i = 0; i < n; ++i) {
    const Bucket* b = &buckets[order[i].index];
    JsonbPair* p = pairs + static_cast<Size>(i) * kFields;
    for (int k = 0; k < kFields; ++k) {
      p[k].key.type = jbvString;
      p[k].key.val.string.val = const_cast<char*>(kKeys[k].name);
      p[k].key.val.string.len = kKeys[k].len;
      p[k].order = static_cast<uint32>(k);
    }
    // kKeys: hour, units, orders, revenue, suspicious, transactions, refunded_amount
    char* s = JsonEncodeDateTime(nullptr, TimestampTzGetDatum(b->start), TIMESTAMPTZOID, nullptr);
    p[0].value.type = jbvString;
    p[0].value.val.string.val = s;
    p[0].value.val.string.len = static_cast<int>(std::strlen(s));
    set_bigint_sum(&p[1].value, b->units);
    set_bigint_sum(&p[2].value, b->orders);
    set_numeric(&p[3].value, b->revenue != nullptr ? b->revenue : zero);
    set_bigint_sum(&p[4].value, b->suspicious);
    set_bigint_sum(&p[5].value, b->transactions);
    set_numeric(&p[6].value, b->refunded != nullptr ? b->refunded : zero);
    JsonbValue* e = &root.val.array.elems[i];
    e->type = jbvObject;
    e->val.object.nPairs = kFields;
    e->val.object.pairs = p;
  }
  Jsonb* result = JsonbValueToJsonb(&root);
  SPI_finish();
  PG_RETURN_JSONB_P(result);
}
