#include "boundary.hpp"

#include "techmart/core/errors.hpp"

namespace techmart::pg {

namespace {
void copy_text(char* dst, std::size_t size, const char* src) noexcept {
  if (size == 0) return;
  std::size_t n = src ? std::strlen(src) : 0;
  if (n >= size) n = size - 1;
  if (n > 0) std::memcpy(dst, src, n);
  dst[n] = '\0';
}
}  // namespace

PgError::PgError(int sqlstate, const char* message) : sqlstate_(sqlstate) {
  copy_text(message_, sizeof message_, message);
}

void capture_current_exception(ErrorInfo& err, const char* context) noexcept {
  err.failed = true;
  copy_text(err.context, sizeof err.context, context);
  try {
    throw;
  } catch (const PgError& e) {
    err.sqlstate = e.sqlstate();
    copy_text(err.message, sizeof err.message, e.what());
  } catch (const core::LogDomainError& e) {
    err.sqlstate = ERRCODE_INVALID_ARGUMENT_FOR_LOG;  // 2201E
    copy_text(err.message, sizeof err.message, e.what());
  } catch (const std::invalid_argument& e) {
    err.sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;  // 22023
    copy_text(err.message, sizeof err.message, e.what());
  } catch (const std::bad_alloc&) {
    err.sqlstate = ERRCODE_OUT_OF_MEMORY;
    copy_text(err.message, sizeof err.message, "out of memory in techmart");
  } catch (const std::exception& e) {
    err.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(err.message, sizeof err.message, e.what());
  } catch (...) {
    err.sqlstate = ERRCODE_INTERNAL_ERROR;
    copy_text(err.message, sizeof err.message, "unknown C++ exception in techmart");
  }
}

void raise(const ErrorInfo& err) {
  if (err.context[0] != '\0') {
    ereport(ERROR,
            (errcode(err.sqlstate), errmsg("%s", err.message), errcontext("%s", err.context)));
  }
  ereport(ERROR, (errcode(err.sqlstate), errmsg("%s", err.message)));
  pg_unreachable();
}

int take_pg_error(MemoryContext ctx, char* message, std::size_t size) {
  MemoryContextSwitchTo(ctx);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  const int sqlstate = edata->sqlerrcode;
  copy_text(message, size, edata->message);
  FreeErrorData(edata);
  return sqlstate;
}

}  // namespace techmart::pg
