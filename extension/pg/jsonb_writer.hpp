#pragma once
// Jsonb values written directly as bytes, laid out as convertToJsonb (jsonb_util.c) lays out a
// JsonbValue tree -- the same bytes, without building the tree (a JsonbValue per value, a JsonbPair
// per key) or walking it: analytics.hourly_sales_items/_json (hourly_items.cpp) and the fraud
// engine's fraud_reasons (fraud_glue.cpp, reasons_jsonb).
//
// The format: a varlena header, then the root container. A container starts on a 4-byte boundary
// of the buffer (zero padding, counted as part of the value before it), with a header (count |
// JB_FARRAY or JB_FOBJECT) and one JEntry per child (an object: its keys, then its values, keys
// in jsonb's order -- shorter first, then bytewise -- and unique: the writer's job), then the
// children's data in the same order. A JEntry holds the child's type and its length, or, for
// every JB_OFFSET_STRIDE'th child, the end offset of its data (JENTRY_HAS_OFF). A numeric starts on
// a 4-byte boundary too (its padding counted in its length); a string is its bytes; null has none.
//
// The buffer is a StringInfo used as a byte buffer: data[len] is not kept '\0'. Writers that know
// their size reserve it up front (begin); each append grows the buffer only when it is full.
// Plain C calls only (palloc, ereport): a Postgres error propagates as from any C function.

#include "pg.hpp"

namespace techmart::pg::jsonb {

// "total size of jsonb <what> elements exceeds the maximum of ... bytes" (54000), as
// convertJsonbArray / convertJsonbObject raise it.
[[noreturn]] void length_error(const char* what);

inline void check_length(int64 len, const char* what) {
  if (unlikely(len > JENTRY_OFFLENMASK)) length_error(what);
}

// Room for `bytes` more bytes.
inline void ensure(StringInfo buf, int bytes) {
  if (unlikely(bytes >= buf->maxlen - buf->len)) enlargeStringInfo(buf, bytes);
}

inline void append(StringInfo buf, const void* p, int n) {
  ensure(buf, n);
  std::memcpy(buf->data + buf->len, p, n);
  buf->len += n;
}

// Zeros up to the next 4-byte boundary of the buffer (padBufferToInt).
inline void pad_to_int(StringInfo buf) {
  const int pad = static_cast<int>(INTALIGN(buf->len)) - buf->len;
  if (pad == 0) return;
  ensure(buf, pad);
  std::memset(buf->data + buf->len, 0, pad);
  buf->len += pad;
}

// `bytes` bytes (contents undefined until written with put_uint32); returns where they start.
inline int reserve(StringInfo buf, int bytes) {
  ensure(buf, bytes);
  const int at = buf->len;
  buf->len += bytes;
  return at;
}

inline void put_uint32(StringInfo buf, int at, uint32 v) {
  std::memcpy(buf->data + at, &v, sizeof v);
}

// A Jsonb value's buffer: `size` bytes allocated up front (in the current memory context; more
// when it fills), the varlena header reserved.
inline void begin(StringInfo buf, int size) {
  buf->maxlen = Max(size, static_cast<int>(VARHDRSZ) + 16);
  buf->data = static_cast<char*>(palloc(buf->maxlen));
  buf->len = 0;
  buf->cursor = 0;
  reserve(buf, VARHDRSZ);
}

// The finished value (its varlena header set): the buffer's memory.
inline Jsonb* finish(StringInfo buf) {
  SET_VARSIZE(buf->data, buf->len);
  return reinterpret_cast<Jsonb*>(buf->data);
}

// A container's start: padding, its header (count | JB_FARRAY or JB_FOBJECT), room for its
// njentries JEntries (count for an array, 2 * count for an object); returns where they go.
inline int begin_container(StringInfo buf, int count, uint32 kind, int njentries) {
  pad_to_int(buf);
  const uint32 head = static_cast<uint32>(count) | kind;
  append(buf, &head, sizeof head);
  return reserve(buf, static_cast<int>(sizeof(JEntry)) * njentries);
}

// A container's end: its JEntry as its parent stores it (the container's bytes from base, the
// buffer's length when it began -- its padding included); what: "array" or "object".
inline uint32 end_container(StringInfo buf, int base, const char* what) {
  const int64 len = buf->len - base;
  check_length(len, what);
  return JENTRY_ISCONTAINER | static_cast<uint32>(len);
}

// The JEntry stored for the index'th child (meta: its type and length) of a container whose
// children before it take *total bytes (updated): every JB_OFFSET_STRIDE'th holds the end offset.
inline uint32 stored_jentry(uint32 meta, int index, int64* total, const char* what) {
  *total += JBE_OFFLENFLD(meta);
  check_length(*total, what);
  if (index % JB_OFFSET_STRIDE == 0) {
    return (meta & JENTRY_TYPEMASK) | static_cast<uint32>(*total) | JENTRY_HAS_OFF;
  }
  return meta;
}

// The JEntries of a container's count children (an object: keys then values) at `at`.
inline void write_jentries(StringInfo buf, int at, const uint32* meta, int count,
                           const char* what) {
  int64 total = 0;
  for (int k = 0; k < count; ++k) {
    put_uint32(buf, at, stored_jentry(meta[k], k, &total, what));
    at += static_cast<int>(sizeof(JEntry));
  }
}

// A string (key or value): its JEntry.
inline uint32 write_string(StringInfo buf, const char* s, int len) {
  append(buf, s, len);
  return JENTRY_ISSTRING | static_cast<uint32>(len);
}

// A numeric as a jbvNumeric holding it: its bytes as they are (padded to 4 bytes).
inline uint32 write_numeric_as_is(StringInfo buf, Numeric num) {
  const int start = buf->len;
  pad_to_int(buf);
  const int numlen = static_cast<int>(VARSIZE_ANY(num));
  append(buf, num, numlen);
  return JENTRY_ISNUMERIC | static_cast<uint32>(buf->len - start);
}

// The numeric mantissa / 10^scale of display scale `scale` -- the bytes numeric_in makes of its
// text with `scale` decimals, int64_div_fast_to_numeric(mantissa, scale) too -- written as a
// jbvNumeric without making the numeric first; for |mantissa| < 10^15 and 0 <= scale <= 9.
uint32 write_scaled_numeric(StringInfo buf, int64 mantissa, int scale);

// A numeric as to_jsonb stores it: the number (a 4-byte varlena header: from make_result or a
// detoasted copy), NaN and +/-Infinity as the strings numeric_out writes.
uint32 write_numeric(StringInfo buf, Numeric num);

}  // namespace techmart::pg::jsonb
