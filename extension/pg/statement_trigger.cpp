// The shared protocol checks of the C statement triggers (statement_trigger.hpp).
#include "statement_trigger.hpp"

namespace techmart::pg {

StatementRows statement_rows(FunctionCallInfo fcinfo, const char* who) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("%s: not called as a trigger", who)));
  }
  auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  const TriggerEvent ev = td->tg_event;
  if (!TRIGGER_FIRED_AFTER(ev) || !TRIGGER_FIRED_FOR_STATEMENT(ev) ||
      !(TRIGGER_FIRED_BY_INSERT(ev) || TRIGGER_FIRED_BY_UPDATE(ev) ||
        TRIGGER_FIRED_BY_DELETE(ev))) {
    ereport(
        ERROR,
        (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
         errmsg("%s: must be an AFTER INSERT, UPDATE or DELETE FOR EACH STATEMENT trigger", who)));
  }
  Tuplestorestate* added = TRIGGER_FIRED_BY_DELETE(ev) ? nullptr : td->tg_newtable;
  Tuplestorestate* removed = TRIGGER_FIRED_BY_INSERT(ev) ? nullptr : td->tg_oldtable;
  if ((!TRIGGER_FIRED_BY_DELETE(ev) && added == nullptr) ||
      (!TRIGGER_FIRED_BY_INSERT(ev) && removed == nullptr)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("%s: the trigger lacks its transition tables "
                           "(REFERENCING NEW TABLE / OLD TABLE)",
                           who)));
  }
  return StatementRows{td, added, removed};
}

int column_number(TupleDesc desc, const char* name, const char* who) {
  const int a = SPI_fnumber(desc, name);
  if (a <= 0) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("%s: the table lacks column \"%s\"", who, name)));
  }
  return a;
}

void require_insert(const StatementRows& rows, const char* who) {
  if (!TRIGGER_FIRED_BY_INSERT(rows.td->tg_event)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("%s: must be an AFTER INSERT trigger", who)));
  }
}

void read_from_start(Tuplestorestate* ts) {
  tuplestore_select_read_pointer(ts, tuplestore_alloc_read_pointer(ts, 0));
  tuplestore_rescan(ts);
}

}  // namespace techmart::pg
