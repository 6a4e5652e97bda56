// analytics.hourly_sales_items(p_from, p_to, p_dim, p_key, p_tz) -> jsonb: the "items" array of
// api.hourly_sales in one call, the very jsonb its earlier construction made,
//   jsonb_agg(i ORDER BY i.hour) of (SELECT period_start AS hour, revenue, orders, units,
//   transactions, suspicious, refunded_amount FROM analytics.sales_series('hour', p_from, p_to,
//   p_dim, p_key)) i
// (with p_tz = analytics.business_timezone()), without its executor plan (generate_series, two
// sorts, a merge join, a grouping, the aggregate's sort, and per row a record, to_jsonb, an
// output/input round trip of each number, a Jsonb serialised and iterated back and a key sort:
// most of the time for 720 rows): the Jsonb bytes written directly, laid out as convertToJsonb
// (jsonb_util.c) lays them out, into one buffer — no JsonbValue tree (0.36 MB for 720 items), no
// allocation per value (the writer shared with the fraud engine's fraud_reasons: jsonb_writer.hpp);
// the rollup rows read by a cursor 256 at a time.
// analytics.hourly_sales_json(...) (at the end) writes the whole answer of api.hourly_sales around
// the same items: jsonb_build_object would take them apart again.
// Three sets of entry points, the same SQL signatures (declared by the migrations):
//   techmart_hourly_sales_items_label / _json_label (change hourly_sales_label, current): the UTC
//            hours of _utc below, each item with its "label", the local wall-clock time of the
//            hour in p_tz with the UTC offset, exactly analytics.local_time_label(hour, p_tz) —
//            the label column of analytics.sales_series('hour', ...) when p_tz is the business
//            time zone (2026-10-25T02:00+02:00, 2026-10-25T02:00+01:00, 2026-12-07T09:30+05:30);
//            the answer of _json_label also carries "timezone": p_tz. See write_label.
//   techmart_hourly_sales_items_utc / _json_utc (change hourly_sales_utc; kept for its revert):
//            one bucket per UTC hour, generate_series(hour_floor(p_from), p_to - 1 us, 1 hour) — a
//            timestamptz plus one hour of time is the next instant whatever the zone — and each
//            rollup row added to the bucket of its own hour (rollup hours are on the hour): no zone
//            conversion, the buckets already in order (no sort), p_tz unused. The series of
//            analytics.sales_series('hour', ...) since that change: a day on which clocks go
//            forward has 23 buckets, one on which they go back 25, a :30/:45 zone's buckets are
//            whole rollup hours.
//   techmart_hourly_sales_items / _json (changes hourly_sales_c, hourly_sales_json; kept for
//            their revert): the local hours of p_tz, as below.
// The same steps, by the same server functions:
//   buckets  (utc: above) the local hours g = generate_series(date_trunc('hour', p_from AT
//            TIME ZONE p_tz), (p_to AT TIME ZONE p_tz) - 1 us, 1 hour) when p_to > p_from
//            (timestamp_pl_interval from one to the next), hour = g AT TIME ZONE p_tz
//            (timestamp_zone);
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

#include "jsonb_writer.hpp"
#include "pg.hpp"

extern "C" {
#include "miscadmin.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/json.h"

PG_FUNCTION_INFO_V1(techmart_hourly_sales_items);
PG_FUNCTION_INFO_V1(techmart_hourly_sales_json);
PG_FUNCTION_INFO_V1(techmart_hourly_sales_items_utc);
PG_FUNCTION_INFO_V1(techmart_hourly_sales_json_utc);
PG_FUNCTION_INFO_V1(techmart_hourly_sales_items_label);
PG_FUNCTION_INFO_V1(techmart_hourly_sales_json_label);
}

namespace {

using techmart::pg::jsonb::begin_container;
using techmart::pg::jsonb::end_container;
using techmart::pg::jsonb::put_uint32;
using techmart::pg::jsonb::stored_jentry;
using techmart::pg::jsonb::write_jentries;
using techmart::pg::jsonb::write_numeric;
using techmart::pg::jsonb::write_string;

constexpr int kFields = 7;

// jsonb's key order: shorter first, then byte order (lengthCompareJsonbStringValue)
struct Key {
  const char* name;
  int len;
};
constexpr Key kKeys[kFields] = {
    {"hour", 4},        {"units", 5},         {"orders", 6},          {"revenue", 7},
    {"suspicious", 10}, {"transactions", 12}, {"refunded_amount", 15}};
// with the label (change hourly_sales_label): "label" sorts between "hour" and "units"
constexpr int kLabelFields = kFields + 1;
constexpr Key kLabelKeys[kLabelFields] = {
    {"hour", 4},    {"label", 5},       {"units", 5},         {"orders", 6},
    {"revenue", 7}, {"suspicious", 10}, {"transactions", 12}, {"refunded_amount", 15}};

constexpr int64 kHour = USECS_PER_HOUR;

struct Bucket {
  Timestamp local;    // the local hour
  TimestampTz start;  // its start
  Numeric revenue;    // sum, nullptr without a row
  Numeric refunded;
  int128 orders, units, transactions, suspicious;
};

// an empty bucket of the hour `local` starting at `start`
void init_bucket(Bucket* b, Timestamp local, TimestampTz start) {
  b->local = local;
  b->start = start;
  b->revenue = nullptr;
  b->refunded = nullptr;
  b->orders = b->units = b->transactions = b->suspicious = 0;
}

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

// the sum of a bigint column: to_jsonb of coalesce(sum, 0)::bigint
uint32 write_bigint_sum(StringInfo buf, int128 sum) {
  if (sum > PG_INT64_MAX || sum < PG_INT64_MIN) {
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range")));
  }
  Numeric num = int64_to_numeric(static_cast<int64>(sum));
  const uint32 e = write_numeric(buf, num);
  pfree(num);  // the next one reuses the chunk
  return e;
}

// The zone of the labels, looked up once per call as timestamptz_zone (the server function behind
// AT TIME ZONE) looks it up each time: an abbreviation of the timezone_abbreviations set first
// (EST, CEST: fixed or dynamic offsets), else a zone of the time zone database (pg_tzset: cached
// for the session). tzp is that zone when the name is no abbreviation and names a zone; otherwise
// (an abbreviation, or an unknown name whose error timestamptz_zone raises) each label calls
// timestamptz_zone itself.
struct LabelZone {
  Datum tz;    // the text argument
  pg_tz* tzp;  // the zone database's zone, or nullptr
};

LabelZone label_zone(Datum tz) {
  LabelZone z;
  z.tz = tz;
  z.tzp = nullptr;
  char tzname[TZ_STRLEN_MAX + 1];
  text_to_cstring_buffer(DatumGetTextPP(tz), tzname, sizeof(tzname));
  char* lowzone = downcase_truncate_identifier(tzname, static_cast<int>(strlen(tzname)), false);
  int val;
  pg_tz* abbrev_zone = nullptr;
  const int type = DecodeTimezoneAbbrev(0, lowzone, &val, &abbrev_zone);
  pfree(lowzone);
  if (type != TZ && type != DTZ && type != DYNTZ) z.tzp = pg_tzset(tzname);
  return z;
}

inline char* put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// The label of the hour starting at `at`, analytics.local_time_label(at, tz):
//   to_char(l, 'YYYY-MM-DD"T"HH24:MI') || sign || HH || ':' || MM   (o % 60 = 0)
//   to_char(l, 'YYYY-MM-DD"T"HH24:MI:SS') || sign || HH || ':' || MM || ':' || SS   (otherwise)
// with l = at AT TIME ZONE tz and o the seconds of l - (at AT TIME ZONE 'UTC') (a timestamptz's
// value is its UTC wall-clock time), i.e. the zone's UTC offset at `at`. With a zone of the
// database, l's fields and the offset come from timestamp2tm(at, &west, ...) in that zone — the
// call timestamptz_zone makes, without its lookup; otherwise from timestamptz_zone itself. Years
// 1..9999 written here (to_char's YYYY: four digits), others by to_char (timestamp_to_char).
// Returns the length written into buf (at least 64 bytes).
int write_label(char* buf, TimestampTz at, const LabelZone& zone) {
  struct pg_tm tm;
  fsec_t fsec;
  int64 o;  // the UTC offset in seconds
  int west;
  if (zone.tzp != nullptr && timestamp2tm(at, &west, &tm, &fsec, nullptr, zone.tzp) == 0) {
    o = -west;
  } else {
    const Timestamp local =
        DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, zone.tz, TimestampTzGetDatum(at)));
    o = (local - at) / USECS_PER_SEC;  // whole seconds: zone offsets are
    if (timestamp2tm(local, nullptr, &tm, &fsec, nullptr, nullptr) != 0) tm.tm_year = 0;
  }
  const bool with_seconds = o % 60 != 0;
  int len;
  if (tm.tm_year >= 1 && tm.tm_year <= 9999) {
    char* p = buf;
    p = put2(p, tm.tm_year / 100);
    p = put2(p, tm.tm_year % 100);
    *p++ = '-';
    p = put2(p, tm.tm_mon);
    *p++ = '-';
    p = put2(p, tm.tm_mday);
    *p++ = 'T';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    if (with_seconds) {
      *p++ = ':';
      p = put2(p, tm.tm_sec);
    }
    len = static_cast<int>(p - buf);
  } else {
    text* fmt =
        cstring_to_text(with_seconds ? "YYYY-MM-DD\"T\"HH24:MI:SS" : "YYYY-MM-DD\"T\"HH24:MI");
    text* t = DatumGetTextPP(DirectFunctionCall2(
        timestamp_to_char, TimestampGetDatum(at + o * USECS_PER_SEC), PointerGetDatum(fmt)));
    len = Min(static_cast<int>(VARSIZE_ANY_EXHDR(t)), 40);
    memcpy(buf, VARDATA_ANY(t), len);
  }
  const int64 a = o < 0 ? -o : o;  // under a day
  char* p = buf + len;
  *p++ = o < 0 ? '-' : '+';
  p = put2(p, static_cast<int>(a / 3600));
  *p++ = ':';
  p = put2(p, static_cast<int>(a / 60 % 60));
  if (with_seconds) {
    *p++ = ':';
    p = put2(p, static_cast<int>(a % 60));
  }
  return static_cast<int>(p - buf);
}

SPIPlanPtr rows_plan = nullptr;

}  // namespace

namespace {

// The series: its buckets in local order (n of them) and, when their hours are not in order, the
// order of the items. Everything in the caller's memory context.
struct Series {
  int n;
  Bucket* buckets;
  Order* order;
};

// utc (change hourly_sales_utc): one bucket per UTC hour from hour_floor(p_from) to before p_to,
// exactly the hours of the rollup rows read; otherwise the local hours of p_tz (the earlier
// changes' construction, kept for their declarations and the revert).
Series compute_series(TimestampTz from, TimestampTz to, Datum dim, Datum key, Datum tz, bool utc) {
  Datum hour_text = CStringGetTextDatum("hour");
  Interval step;
  step.time = kHour;
  step.day = 0;
  step.month = 0;
  // analytics.hour_floor(p_from): date_bin('1 hour', p_from, '2000-01-01 00:00+00')
  const Datum floor_from = DirectFunctionCall3(timestamptz_bin, IntervalPGetDatum(&step),
                                               TimestampTzGetDatum(from), TimestampTzGetDatum(0));

  // the buckets (none unless p_to > p_from)
  int n = 0;
  int cap = 0;
  Bucket* buckets = nullptr;
  if (to > from && utc) {
    // generate_series(hour_floor(p_from), p_to - 1 us, 1 hour): a timestamptz plus an interval of
    // time only is the instant one hour later, whatever the zone
    const TimestampTz first = DatumGetTimestampTz(floor_from);
    const int64 count = (to - 1 - first) / kHour + 1;
    if (count > static_cast<int64>(MaxAllocSize / sizeof(Bucket))) {
      ereport(ERROR,
              (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
               errmsg("hourly_sales_items: too many hours (%lld)", static_cast<long long>(count))));
    }
    cap = static_cast<int>(count);
    buckets = static_cast<Bucket*>(palloc(sizeof(Bucket) * cap));
    for (int i = 0; i < cap; ++i) {
      // the UTC hour: no local time in this series
      init_bucket(&buckets[i], first + i * kHour, first + i * kHour);
    }
    n = cap;
  } else if (to > from) {
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
    // as many as generate_series will give (a step of one hour adds one hour to a timestamp)
    cap = g <= last ? static_cast<int>(Min((last - g) / kHour + 1, INT64CONST(1) << 16)) : 0;
    if (cap > 0) buckets = static_cast<Bucket*>(palloc(sizeof(Bucket) * cap));
    while (g <= last) {
      CHECK_FOR_INTERRUPTS();
      if (n == cap) {
        cap = cap == 0 ? 1024 : cap * 2;
        buckets =
            static_cast<Bucket*>(buckets == nullptr ? palloc(sizeof(Bucket) * cap)
                                                    : repalloc(buckets, sizeof(Bucket) * cap));
      }
      init_bucket(
          &buckets[n++], g,
          DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, tz, TimestampGetDatum(g))));
      g = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval, TimestampGetDatum(g),
                                                IntervalPGetDatum(&step)));
    }
  }
  MemoryContext caller = CurrentMemoryContext;
  Series series;
  series.n = n;
  series.buckets = buckets;
  series.order = nullptr;
  if (n == 0) return series;

  // the rollup rows, each added to its local hour's bucket; read by a cursor 256 rows at a time
  // (a bounded tuple table)
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
  Datum params[4] = {dim, key, floor_from, TimestampTzGetDatum(to)};
  Portal portal = SPI_cursor_open(nullptr, rows_plan, params, nullptr, true);
  if (portal == nullptr) elog(ERROR, "hourly_sales_items: SPI_cursor_open failed");
  const Timestamp first_local = buckets[0].local;
  for (;;) {
    SPI_cursor_fetch(portal, true, 256);
    if (SPI_processed == 0) break;
    // sums and copies in the caller's context (SPI's is gone at SPI_finish)
    MemoryContext spi = MemoryContextSwitchTo(caller);
    TupleDesc desc = SPI_tuptable->tupdesc;
    for (uint64 r = 0; r < SPI_processed; ++r) {
      CHECK_FOR_INTERRUPTS();
      Datum v[kFields];
      bool null[kFields];
      heap_deform_tuple(SPI_tuptable->vals[r], desc, v, null);
      if (null[0]) continue;  // hour: the primary key, never
      // utc: the row's own hour (on the hour: rollup rows are); else its local hour
      const Timestamp local =
          utc ? DatumGetTimestampTz(v[0])
              : DatumGetTimestamp(DirectFunctionCall2(
                    timestamp_trunc, hour_text, DirectFunctionCall2(timestamptz_zone, tz, v[0])));
      // the bucket whose local hour this is (local hours are whole hours apart)
      if (local < first_local || (local - first_local) % kHour != 0) continue;
      const int64 i = (local - first_local) / kHour;
      if (i >= n || buckets[i].local != local) continue;
      Bucket* b = &buckets[i];
      if (!null[1]) b->revenue = add_numeric(b->revenue, v[1]);
      if (!null[2]) b->orders += DatumGetInt64(v[2]);
      if (!null[3]) b->units += DatumGetInt64(v[3]);
      if (!null[4]) b->transactions += DatumGetInt64(v[4]);
      if (!null[5]) b->suspicious += DatumGetInt64(v[5]);
      if (!null[6]) b->refunded = add_numeric(b->refunded, v[6]);
    }
    MemoryContextSwitchTo(spi);
    SPI_freetuptable(SPI_tuptable);
  }
  SPI_cursor_close(portal);
  MemoryContextSwitchTo(caller);

  // the order of the items: by hour, as the aggregate's sort (UTC hours are in order)
  for (int i = 1; i < n && !utc; ++i) {
    if (buckets[i].start < buckets[i - 1].start) {
      Order* order = static_cast<Order*>(palloc(sizeof(Order) * n));
      for (int j = 0; j < n; ++j) {
        order[j].start = buckets[j].start;
        order[j].index = j;
      }
      pg_qsort(order, n, sizeof(Order), compare_order);
      series.order = order;
      break;
    }
  }

  SPI_finish();
  return series;
}

// the items: an array of n objects of kFields pairs each (kLabelFields with the label in
// *label_zone when it is given), written as convertToJsonb writes it; returns its JEntry
uint32 write_items(StringInfo out_, const Series& series, const LabelZone* label_zone = nullptr) {
  StringInfoData& out = *out_;
  const int n = series.n;
  const bool labels = label_zone != nullptr;
  const int fields = labels ? kLabelFields : kFields;
  const Key* keys = labels ? kLabelKeys : kKeys;
  const int l = labels ? 1 : 0;  // the values after "label" move by one
  Numeric zero = int64_to_numeric(0);
  const int base = out.len;
  int root_jentry = begin_container(&out, n, JB_FARRAY, n);
  int64 root_total = 0;
  char hour_buf[MAXDATELEN + 1];
  char label_buf[64];
  for (int i = 0; i < n; ++i) {
    const Bucket* b = &series.buckets[series.order != nullptr ? series.order[i].index : i];
    const int item_base = out.len;
    int jentry = begin_container(&out, fields, JB_FOBJECT, 2 * fields);
    uint32 meta[2 * kLabelFields];
    for (int k = 0; k < fields; ++k) meta[k] = write_string(&out, keys[k].name, keys[k].len);
    // keys: hour, [label,] units, orders, revenue, suspicious, transactions, refunded_amount
    JsonEncodeDateTime(hour_buf, TimestampTzGetDatum(b->start), TIMESTAMPTZOID, nullptr);
    meta[fields + 0] = write_string(&out, hour_buf, static_cast<int>(std::strlen(hour_buf)));
    if (labels)
      meta[fields + 1] =
          write_string(&out, label_buf, write_label(label_buf, b->start, *label_zone));
    meta[fields + l + 1] = write_bigint_sum(&out, b->units);
    meta[fields + l + 2] = write_bigint_sum(&out, b->orders);
    meta[fields + l + 3] = write_numeric(&out, b->revenue != nullptr ? b->revenue : zero);
    meta[fields + l + 4] = write_bigint_sum(&out, b->suspicious);
    meta[fields + l + 5] = write_bigint_sum(&out, b->transactions);
    meta[fields + l + 6] = write_numeric(&out, b->refunded != nullptr ? b->refunded : zero);
    write_jentries(&out, jentry, meta, 2 * fields, "object");
    const uint32 e = end_container(&out, item_base, "object");
    put_uint32(&out, root_jentry, stored_jentry(e, i, &root_total, "array"));
    root_jentry += static_cast<int>(sizeof(JEntry));
  }
  return end_container(&out, base, "array");
}

// a string argument as to_jsonb makes it (text: its bytes), NULL as null
uint32 write_text_or_null(StringInfo buf, FunctionCallInfo fcinfo, int arg) {
  if (PG_ARGISNULL(arg)) return JENTRY_ISNULL;
  text* t = PG_GETARG_TEXT_PP(arg);
  return write_string(buf, VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)));
}

uint32 write_timestamptz(StringInfo buf, TimestampTz t) {
  char s[MAXDATELEN + 1];
  JsonEncodeDateTime(s, TimestampTzGetDatum(t), TIMESTAMPTZOID, nullptr);
  return write_string(buf, s, static_cast<int>(std::strlen(s)));
}

void check_finite(TimestampTz from, TimestampTz to, const char* fn) {
  if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to)) {
    // generate_series would not end (api.hourly_sales refuses them before)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("%s: from and to must be finite", fn)));
  }
}

}  // namespace

// analytics.hourly_sales_items(p_from, p_to, p_dim, p_key, p_tz) -> jsonb: the items array
namespace {

// which entry point: the local hours (hourly_sales_c), the UTC hours (hourly_sales_utc), the UTC
// hours with their labels (hourly_sales_label)
enum class Mode { kLocal, kUtc, kLabel };

Datum hourly_sales_items(FunctionCallInfo fcinfo, Mode mode) {
  const TimestampTz from = PG_GETARG_TIMESTAMPTZ(0);
  const TimestampTz to = PG_GETARG_TIMESTAMPTZ(1);
  check_finite(from, to, "analytics.hourly_sales_items");
  const Datum tz = PG_GETARG_DATUM(4);
  const Series series =
      compute_series(from, to, PG_GETARG_DATUM(2), PG_GETARG_DATUM(3), tz, mode != Mode::kLocal);
  StringInfoData out;
  techmart::pg::jsonb::begin(&out, 64 + series.n * 256);  // about 200 bytes an item
  const LabelZone zone = mode == Mode::kLabel ? label_zone(tz) : LabelZone{tz, nullptr};
  write_items(&out, series, mode == Mode::kLabel ? &zone : nullptr);
  PG_RETURN_JSONB_P(techmart::pg::jsonb::finish(&out));
}

Datum hourly_sales_json(FunctionCallInfo fcinfo, Mode mode);

}  // namespace

// the local hours of p_tz (changes hourly_sales_c .. before hourly_sales_utc)
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_items(PG_FUNCTION_ARGS) {
  return hourly_sales_items(fcinfo, Mode::kLocal);
}

// the UTC hours of the range (change hourly_sales_utc; p_tz unused)
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_items_utc(PG_FUNCTION_ARGS) {
  return hourly_sales_items(fcinfo, Mode::kUtc);
}

// the UTC hours of the range, each with its label in p_tz (change hourly_sales_label)
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_items_label(PG_FUNCTION_ARGS) {
  return hourly_sales_items(fcinfo, Mode::kLabel);
}

// analytics.hourly_sales_json(p_from, p_to, p_dimension, p_key, p_lookup_key, p_tz) -> jsonb: the
// whole answer of api.hourly_sales, jsonb_build_object('from', p_from, 'to', p_to, 'dimension',
// p_dimension, 'key', p_key, 'items', <the items of p_lookup_key>, 'count', <their number>) written
// at once: jsonb_build_object would take the items apart token by token and serialise them again
// (as long as building them). Keys in jsonb's order: to, key, from, count, items, dimension
// (_label: to, key, from, count, items, timezone, dimension; 'timezone', p_tz).
// Not STRICT: p_key may be NULL (JSON null, as jsonb_build_object writes it); NULL when another
// argument is NULL.
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_json(PG_FUNCTION_ARGS) {
  return hourly_sales_json(fcinfo, Mode::kLocal);
}

// the same around the UTC hours of the range (change hourly_sales_utc; p_tz unused)
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_json_utc(PG_FUNCTION_ARGS) {
  return hourly_sales_json(fcinfo, Mode::kUtc);
}

// the same around the labelled UTC hours, with "timezone": p_tz (change hourly_sales_label)
extern "C" PGDLLEXPORT Datum techmart_hourly_sales_json_label(PG_FUNCTION_ARGS) {
  return hourly_sales_json(fcinfo, Mode::kLabel);
}

namespace {

Datum hourly_sales_json(FunctionCallInfo fcinfo, Mode mode) {
  for (int a = 0; a < 6; ++a) {
    if (a != 3 && PG_ARGISNULL(a)) PG_RETURN_NULL();
  }
  const TimestampTz from = PG_GETARG_TIMESTAMPTZ(0);
  const TimestampTz to = PG_GETARG_TIMESTAMPTZ(1);
  check_finite(from, to, "analytics.hourly_sales_json");
  const Datum tz = PG_GETARG_DATUM(5);
  const Series series =
      compute_series(from, to, PG_GETARG_DATUM(2), PG_GETARG_DATUM(4), tz, mode != Mode::kLocal);
  const bool labels = mode == Mode::kLabel;
  StringInfoData out;
  techmart::pg::jsonb::begin(&out, 256 + series.n * (labels ? 288 : 256));
  constexpr int kMaxPairs = 7;
  static const Key keys[kMaxPairs - 1] = {{"to", 2},    {"key", 3},   {"from", 4},
                                          {"count", 5}, {"items", 5}, {"dimension", 9}};
  static const Key label_keys[kMaxPairs] = {{"to", 2},       {"key", 3},   {"from", 4},
                                            {"count", 5},    {"items", 5}, {"timezone", 8},
                                            {"dimension", 9}};
  const int pairs = labels ? kMaxPairs : kMaxPairs - 1;
  const int base = out.len;
  int jentry = begin_container(&out, pairs, JB_FOBJECT, 2 * pairs);
  uint32 meta[2 * kMaxPairs];
  for (int k = 0; k < pairs; ++k) {
    const Key& key = labels ? label_keys[k] : keys[k];
    meta[k] = write_string(&out, key.name, key.len);
  }
  meta[pairs + 0] = write_timestamptz(&out, to);
  meta[pairs + 1] = write_text_or_null(&out, fcinfo, 3);
  meta[pairs + 2] = write_timestamptz(&out, from);
  meta[pairs + 3] = write_bigint_sum(&out, series.n);
  const LabelZone zone = labels ? label_zone(tz) : LabelZone{tz, nullptr};
  meta[pairs + 4] = write_items(&out, series, labels ? &zone : nullptr);
  if (labels) meta[pairs + 5] = write_text_or_null(&out, fcinfo, 5);
  meta[2 * pairs - 1] = write_text_or_null(&out, fcinfo, 2);
  write_jentries(&out, jentry, meta, 2 * pairs, "object");
  end_container(&out, base, "object");
  PG_RETURN_JSONB_P(techmart::pg::jsonb::finish(&out));
}

}  // namespace
