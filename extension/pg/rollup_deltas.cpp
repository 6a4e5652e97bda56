// analytics.rollup_deltas(...): the per-bucket deltas of one statement's transaction lines for the
// hourly sales rollups, computed by core::rollup::deltas() (extension/core/.../rollup_delta.hpp).
// Declared by the sqitch change rollup_deltas_c (migrations), not by the extension script: the
// function belongs to the rollup triggers, and the extension's version is left alone.
//
// Arguments: fifteen arrays of the same length, one element per line version: sign int4,
// id int8, order_number text, transaction_time timestamptz, status text, amount numeric, quantity
// int4, is_suspicious bool, kind text, product text, category text, country text, platform text,
// payment_method text, customer_id int8 (the dimension values already as the rollup keys' text).
// Returns SETOF (dim, hour, key, revenue, orders, units, transactions, completed, refunded,
// refunded_amount, blocked, failed, pending, suspicious, customers_hll), sorted by (dim, hour, key)
// in byte order.
//
// Boundary: the arrays are read (and amounts converted) before any C++ object lives; the C++ part
// runs under guarded() and copies its results into palloc'd plain data with pg_call(); the tuples
// are built after it returned.
#include "boundary.hpp"
#include "techmart/core/rollup_delta.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

namespace rollup = techmart::core::rollup;
using techmart::pg::ErrorInfo;
using techmart::pg::guarded;
using techmart::pg::pg_call;
using techmart::pg::raise;

extern "C" {
PG_FUNCTION_INFO_V1(techmart_rollup_deltas);
}

namespace {

constexpr int kArgs = 15;

struct Column {
  Datum* values = nullptr;
  bool* nulls = nullptr;
  int n = 0;
};

Column read_array(FunctionCallInfo fcinfo, int i, Oid elem) {
  Column c;
  if (PG_ARGISNULL(i)) return c;
  ArrayType* arr = PG_GETARG_ARRAYTYPE_P(i);
  if (ARR_NDIM(arr) > 1) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("rollup_deltas: argument %d must be a one-dimensional array", i + 1)));
  }
  if (ARR_ELEMTYPE(arr) != elem) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("rollup_deltas: argument %d has the wrong element type", i + 1)));
  }
  int16 len;
  bool byval;
  char align;
  get_typlenbyvalalign(elem, &len, &byval, &align);
  deconstruct_array(arr, elem, len, byval, align, &c.values, &c.nulls, &c.n);
  return c;
}

// numeric -> thousandths (exact; more decimals than three or out of range: an error) and its
// scale (0..3; trailing zeros count, as in the numeric). Plain C.
int64 amount_milli(Datum num, int* scale) {
  const char* s = DatumGetCString(DirectFunctionCall1(numeric_out, num));
  const char* p = s;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  __int128 v = 0;
  int decimals = -1;
  bool ok = *p != '\0';
  for (; *p != '\0' && ok; ++p) {
    if (*p == '.' && decimals < 0) {
      decimals = 0;
    } else if (*p >= '0' && *p <= '9') {
      if (decimals >= 3) {
        ok = *p == '0';
        continue;
      }
      v = v * 10 + (*p - '0');
      if (decimals >= 0) ++decimals;
      if (v > (static_cast<__int128>(1) << 62)) ok = false;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    ereport(ERROR,
            (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
             errmsg("rollup_deltas: amount %s is not a number of at most three decimals", s)));
  }
  for (int d = decimals < 0 ? 0 : decimals; d < 3; ++d) v *= 10;
  *scale = decimals < 0 ? 0 : (decimals > 3 ? 3 : decimals);
  return static_cast<int64>(neg ? -v : v);
}

// "[-]N.ddd" (scale decimals) of a fixed-point value in thousandths, or "0" when no term entered it
// (scale -1: the SQL coalesce(..., 0)). The value is a multiple of 10^(3 - scale).
void format_milli(__int128 v, int scale, char* buf, std::size_t size) {
  if (scale < 0) {
    if (size >= 2) {
      buf[0] = '0';
      buf[1] = '\0';
    }
    return;
  }
  const bool neg = v < 0;
  unsigned __int128 u =
      neg ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0 || n < 4);  // at least one digit before the point
  std::size_t k = 0;
  if (neg) buf[k++] = '-';
  for (int i = n - 1; i >= 0 && k + 2 < size; --i) {
    buf[k++] = digits[i];
    if (i == 3) {
      if (scale == 0) break;
      buf[k++] = '.';
    }
    if (i == 3 - scale) break;
  }
  buf[k] = '\0';
}

// A rollup amount for the output: the integer of the numeric (thousandths divided by 10^(3 -
// scale), exact: the terms had at most scale decimals) when it fits an int64, else its text. Plain
// data (palloc'd arrays are only 8-byte aligned: no __int128 member).
struct Amount {
  int64 q;
  int scale;  // -1: no term (SQL coalesce(..., 0): 0 of scale 0)
  bool fits;
  char text[48];
};

void to_amount(__int128 v, int scale, Amount* a) {
  a->scale = scale;
  a->fits = true;
  a->q = 0;
  a->text[0] = '\0';
  if (scale < 0) return;
  __int128 q = v;
  for (int d = scale; d < 3; ++d) q /= 10;
  if (q >= PG_INT64_MIN && q <= PG_INT64_MAX) {
    a->q = static_cast<int64>(q);
  } else {
    a->fits = false;
    format_milli(v, scale, a->text, sizeof a->text);
  }
}

// the numeric of an Amount: from the integer (int64_div_fast_to_numeric) when it fits, else its
// text
Datum amount_numeric(const Amount& a) {
  if (a.scale < 0) return NumericGetDatum(int64_to_numeric(0));
  if (a.fits) return NumericGetDatum(int64_div_fast_to_numeric(a.q, a.scale));
  return DirectFunctionCall3(numeric_in, CStringGetDatum(a.text), ObjectIdGetDatum(InvalidOid),
                             Int32GetDatum(-1));
}

struct PlainDelta {
  const char* dim;
  int64 hour;
  char* key;  // palloc'd
  Amount revenue, refunded_amount;
  int64 orders, units, transactions, completed, refunded, blocked, failed, pending, suspicious;
  bytea* hll;  // palloc'd or nullptr
};

char* text_cstring(Datum d) { return text_to_cstring(DatumGetTextPP(d)); }

}  // namespace

extern "C" PGDLLEXPORT Datum techmart_rollup_deltas(PG_FUNCTION_ARGS) {
  static const Oid kTypes[kArgs] = {INT4OID,    INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
                                    NUMERICOID, INT4OID, BOOLOID, TEXTOID,        TEXTOID,
                                    TEXTOID,    TEXTOID, TEXTOID, TEXTOID,        INT8OID};
  Column col[kArgs];
  for (int i = 0; i < kArgs; ++i) {
    col[i] = read_array(fcinfo, i, kTypes[i]);
    if (col[i].n != col[0].n) {
      ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                      errmsg("rollup_deltas: the arrays must have the same length")));
    }
  }
  const int n = col[0].n;
  // plain copies of what the C++ part needs (text as C strings, amounts as thousandths)
  auto* amount = static_cast<int64*>(palloc0(sizeof(int64) * (n > 0 ? n : 1)));
  auto* scale = static_cast<int*>(palloc0(sizeof(int) * (n > 0 ? n : 1)));
  auto* str = static_cast<char**>(palloc0(sizeof(char*) * kArgs * (n > 0 ? n : 1)));
  for (int i = 0; i < n; ++i) {
    if (col[0].nulls[i] || col[1].nulls[i] || col[3].nulls[i]) {
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                      errmsg("rollup_deltas: sign, id and transaction_time must not be NULL")));
    }
    amount[i] = col[5].nulls[i] ? 0 : amount_milli(col[5].values[i], &scale[i]);
    for (int a : {2, 4, 8, 9, 10, 11, 12, 13}) {
      str[a * n + i] = col[a].nulls[i] ? nullptr : text_cstring(col[a].values[i]);
    }
  }

  PlainDelta* out = nullptr;
  std::size_t n_out = 0;
  ErrorInfo err;
  if (!guarded(err, "rollup_deltas", [&] {
        std::vector<rollup::Line> lines(static_cast<std::size_t>(n));
        const auto view = [&](int a, int i) {
          const char* s = str[a * n + i];
          return s == nullptr ? std::string_view() : std::string_view(s);
        };
        for (int i = 0; i < n; ++i) {
          rollup::Line& l = lines[static_cast<std::size_t>(i)];
          l.sign = DatumGetInt32(col[0].values[i]);
          l.id = DatumGetInt64(col[1].values[i]);
          l.has_order = str[2 * n + i] != nullptr;
          l.order_number = view(2, i);
          l.time_us = DatumGetTimestampTz(col[3].values[i]);
          const char* st = str[4 * n + i];
          l.status =
              st == nullptr ? rollup::Status::kOther : rollup::parse_status(st, std::strlen(st));
          l.amount_milli = amount[i];
          l.amount_scale = scale[i];
          l.quantity = col[6].nulls[i] ? 0 : DatumGetInt32(col[6].values[i]);
          l.suspicious = !col[7].nulls[i] && DatumGetBool(col[7].values[i]);
          l.refund_kind = str[8 * n + i] != nullptr && std::strcmp(str[8 * n + i], "refund") == 0;
          l.product = view(9, i);
          l.category = view(10, i);
          l.country = view(11, i);
          l.platform = view(12, i);
          l.payment_method = view(13, i);
          l.has_customer = !col[14].nulls[i];
          if (l.has_customer) l.customer = DatumGetInt64(col[14].values[i]);
        }
        const std::vector<rollup::Delta> ds = rollup::deltas(lines);
        n_out = ds.size();
        pg_call([&] { out = static_cast<PlainDelta*>(palloc0(sizeof(PlainDelta) * (n_out + 1))); });
        for (std::size_t k = 0; k < ds.size(); ++k) {
          const rollup::Delta& d = ds[k];
          PlainDelta& p = out[k];
          p.dim = rollup::dim_name(d.dim);
          p.hour = d.hour_us;
          pg_call([&] { p.key = pnstrdup(d.key.data(), d.key.size()); });
          to_amount(d.revenue_milli, d.revenue_scale, &p.revenue);
          to_amount(d.refunded_amount_milli, d.refunded_amount_scale, &p.refunded_amount);
          p.orders = d.orders;
          p.units = d.units;
          p.transactions = d.transactions;
          p.completed = d.completed;
          p.refunded = d.refunded;
          p.blocked = d.blocked;
          p.failed = d.failed;
          p.pending = d.pending;
          p.suspicious = d.suspicious;
          if (d.customers_hll) {
            const std::string& h = *d.customers_hll;
            pg_call([&] {
              p.hll = static_cast<bytea*>(palloc(VARHDRSZ + h.size()));
              SET_VARSIZE(p.hll, VARHDRSZ + h.size());
              std::memcpy(VARDATA(p.hll), h.data(), h.size());
            });
          }
        }
      })) {
    raise(err);
  }

  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (std::size_t k = 0; k < n_out; ++k) {
    const PlainDelta& p = out[k];
    Datum v[15];
    bool nulls[15] = {false};
    v[0] = CStringGetTextDatum(p.dim);
    v[1] = TimestampTzGetDatum(p.hour);
    v[2] = CStringGetTextDatum(p.key);
    v[3] = amount_numeric(p.revenue);
    v[4] = Int64GetDatum(p.orders);
    v[5] = Int64GetDatum(p.units);
    v[6] = Int64GetDatum(p.transactions);
    v[7] = Int64GetDatum(p.completed);
    v[8] = Int64GetDatum(p.refunded);
    v[9] = amount_numeric(p.refunded_amount);
    v[10] = Int64GetDatum(p.blocked);
    v[11] = Int64GetDatum(p.failed);
    v[12] = Int64GetDatum(p.pending);
    v[13] = Int64GetDatum(p.suspicious);
    if (p.hll != nullptr) {
      v[14] = PointerGetDatum(p.hll);
    } else {
      v[14] = 0;
      nulls[14] = true;
    }
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
  }
  return static_cast<Datum>(0);
}
