#pragma once
// The C/C++ boundary (DEVELOPERS.md, "Rules at the C/C++ boundary").
//
//  * No C++ exception may reach Postgres: every extern "C" entry point runs its C++ part through
//    techmart::pg::guarded(), which catches everything into a plain ErrorInfo (a char buffer and
//    an SQLSTATE). The entry point calls raise(err) -- ereport(ERROR) -- after guarded() has
//    returned, when no C++ object with a destructor is alive.
//  * A Postgres call that may raise (palloc, SPI, detoasting) made while C++ objects live goes
//    through pg_call(), which catches the Postgres error (PG_TRY) and rethrows it as PgError, so
//    destructors run; guarded() then hands its SQLSTATE and message back to ereport. Such an
//    error is always re-raised, never swallowed (no subtransaction is rolled back here).
#include "pg.hpp"

namespace techmart::pg {

// Plain data only: it lives on the stack of entry points across ereport.
struct ErrorInfo {
  bool failed;
  int sqlstate;  // MAKE_SQLSTATE code
  char message[1024];
  char context[256];  // optional: what was being done (errcontext-like, may be empty)
};

// A Postgres error turned into a C++ exception by pg_call().
class PgError final : public std::exception {
 public:
  PgError(int sqlstate, const char* message);
  const char* what() const noexcept override { return message_; }
  int sqlstate() const noexcept { return sqlstate_; }

 private:
  int sqlstate_;
  char message_[1024];
};

// Maps the exception in flight onto err (SQLSTATE + message). Call only from a catch block.
void capture_current_exception(ErrorInfo& err, const char* context) noexcept;

// Runs fn (C++ code), capturing any exception into err; returns !err.failed.
template <typename Fn>
bool guarded(ErrorInfo& err, const char* context, Fn&& fn) noexcept {
  err.failed = false;
  err.sqlstate = 0;
  err.message[0] = '\0';
  err.context[0] = '\0';
  try {
    fn();
  } catch (...) {
    capture_current_exception(err, context);
  }
  return !err.failed;
}

// ereport(ERROR) from a captured ErrorInfo. Never returns.
pg_attribute_noreturn() void raise(const ErrorInfo& err);

// Records the current Postgres error (inside PG_CATCH) into plain storage and flushes it.
// Returns its SQLSTATE.
int take_pg_error(MemoryContext ctx, char* message, std::size_t size);

// Runs fn -- Postgres calls only, no C++ object with a destructor inside -- under PG_TRY and
// turns a Postgres error into PgError.
template <typename Fn>
void pg_call(Fn&& fn) {
  MemoryContext ctx = CurrentMemoryContext;
  volatile bool failed = false;  // set after the longjmp, read after PG_END_TRY
  volatile int sqlstate = 0;
  char message[1024];
  PG_TRY();
  { fn(); }
  PG_CATCH();
  {
    sqlstate = take_pg_error(ctx, message, sizeof message);
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw PgError(sqlstate, message);
}

}  // namespace techmart::pg
