#pragma once
// What the C statement triggers of the analytics rollups (months_insert.cpp, daily_insert.cpp)
// share: a growable palloc'd array and the builders of the SPI arguments. Postgres calls only,
// plain data (no destructor): a Postgres error (a longjmp) may leave them behind, their memory goes
// with the memory context.
#include <algorithm>

#include "pg.hpp"

extern "C" {
#include "utils/array.h"
}

namespace techmart::pg {

// A growable array in the current memory context: plain data (no destructor), so a Postgres error
// (a longjmp) may leave it behind; its memory goes with the context
template <typename T>
struct PVec {
  T* data = nullptr;
  size_t n = 0, cap = 0;
  void push_back(const T& v) {
    if (n == cap) {
      cap = cap == 0 ? 64 : cap * 2;
      data = static_cast<T*>(data == nullptr
                                 ? MemoryContextAllocHuge(CurrentMemoryContext, cap * sizeof(T))
                                 : repalloc_huge(data, cap * sizeof(T)));
    }
    data[n++] = v;
  }
  size_t size() const { return n; }
  bool empty() const { return n == 0; }
  T& operator[](size_t i) { return data[i]; }
  const T& operator[](size_t i) const { return data[i]; }
  T& back() { return data[n - 1]; }
  T* begin() { return data; }
  T* end() { return data + n; }
};

inline bool text_is(Datum d, const char* s) {
  const size_t n = std::strlen(s);
  text* t = DatumGetTextPP(d);
  const bool eq = VARSIZE_ANY_EXHDR(t) == n && std::memcmp(VARDATA_ANY(t), s, n) == 0;
  if (reinterpret_cast<Pointer>(t) != DatumGetPointer(d)) pfree(t);
  return eq;
}

// byte order of two texts (detoasted)
inline int cmp_text(const text* a, const text* b) {
  const size_t na = VARSIZE_ANY_EXHDR(a), nb = VARSIZE_ANY_EXHDR(b);
  const int c = std::memcmp(VARDATA_ANY(a), VARDATA_ANY(b), std::min(na, nb));
  if (c != 0) return c;
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

inline ArrayType* int8_array(const PVec<int64>& v) {
  Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * std::max<size_t>(v.size(), 1)));
  for (size_t i = 0; i < v.size(); ++i) d[i] = Int64GetDatum(v[i]);
  return construct_array(d, static_cast<int>(v.size()), INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
                         TYPALIGN_DOUBLE);
}

inline ArrayType* ts_array(const PVec<TimestampTz>& v, const PVec<bool>* present) {
  const size_t n = v.size();
  Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * std::max<size_t>(n, 1)));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * std::max<size_t>(n, 1)));
  for (size_t i = 0; i < n; ++i) {
    d[i] = TimestampTzGetDatum(v[i]);
    nulls[i] = present != nullptr && !(*present)[i];
  }
  int dims[1] = {static_cast<int>(n)};
  int lbs[1] = {1};
  return construct_md_array(d, nulls, 1, dims, lbs, TIMESTAMPTZOID, sizeof(TimestampTz),
                            FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

inline ArrayType* datum_array(const PVec<Datum>& v, Oid type, int16 len, char align) {
  return construct_array(v.data, static_cast<int>(v.size()), type, len, false, align);
}

}  // namespace techmart::pg
