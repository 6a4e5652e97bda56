#pragma once
// What the C statement triggers on transactions share (spent, stock, geo, months and days): the
// trigger-protocol checks of an AFTER INSERT, UPDATE or DELETE FOR EACH STATEMENT trigger with
// transition tables, and the column numbers they read. Postgres calls only (no C++ object lives
// across them): the errors are ereport'ed directly, naming the trigger (who).
#include "pg.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace techmart::pg {

struct StatementRows {
  TriggerData* td;
  Tuplestorestate* added;    // the new row versions (INSERT, UPDATE); nullptr for DELETE
  Tuplestorestate* removed;  // the old row versions (UPDATE, DELETE); nullptr for INSERT
};

// The transition tables of the calling statement trigger; ERROR when it is not an AFTER INSERT,
// UPDATE or DELETE FOR EACH STATEMENT trigger with REFERENCING NEW TABLE / OLD TABLE.
StatementRows statement_rows(FunctionCallInfo fcinfo, const char* who);

// The attribute number of column name of desc; ERROR naming it when the table has none.
int column_number(TupleDesc desc, const char* name, const char* who);

// ERROR unless the statement trigger fired for an INSERT (a trigger declared AFTER INSERT only).
void require_insert(const StatementRows& rows, const char* who);

// Rewinds ts with a read pointer of the caller's own: the other statement triggers of the same
// statement read the same transition tuplestore, each from its start.
void read_from_start(Tuplestorestate* ts);

}  // namespace techmart::pg
