#include "sql_errors.h"

#include <rapidjson/document.h>

#include <pqxx/except>

#include "db_pool.h"
#include "log.h"

namespace techmart::api {

std::vector<FieldError> field_errors_from_message(const std::string& message) {
  std::vector<FieldError> out;
  // The DETAIL label is translated with lc_messages, the JSON is not: look for the JSON itself.
  const std::size_t pos = message.find("{\"errors\"");
  if (pos == std::string::npos) return out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(message.c_str() + pos);
  if (doc.HasParseError() || !doc.IsObject()) return out;
  const auto it = doc.FindMember("errors");
  if (it == doc.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& e : it->value.GetArray()) {
    if (!e.IsObject()) continue;
    FieldError fe;
    if (auto f = e.FindMember("field"); f != e.MemberEnd() && f->value.IsString())
      fe.field = f->value.GetString();
    if (auto m = e.FindMember("message"); m != e.MemberEnd() && m->value.IsString())
      fe.message = m->value.GetString();
    out.push_back(std::move(fe));
  }
  return out;
}

std::string primary_message(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  // "ERROR:  text" (the label may be translated; it ends at the first ":  ")
  if (const std::size_t p = line.find(":  "); p != std::string::npos && p < 20) {
    line = line.substr(p + 3);
  }
  return line;
}

Problem problem_from_exception(const std::exception_ptr& e, const std::string& request_id) {
  try {
    std::rethrow_exception(e);
  } catch (const Problem& p) {
    return p;
  } catch (const DatabaseUnavailable& d) {
    log::warn("database unavailable", {{"request_id", request_id}, {"error", d.what()}});
    return problems::service_unavailable("The database is unavailable; retry shortly.");
  } catch (const pqxx::broken_connection& b) {
    log::warn("database connection broken",
              {{"request_id", request_id}, {"error", primary_message(b.what())}});
    return problems::service_unavailable("The database connection was lost; retry shortly.");
  } catch (const pqxx::sql_error& s) {
    const std::string& st = s.sqlstate();
    const std::string msg = primary_message(s.what());
    const auto cls = st.substr(0, 2);
    if (st == "22023") {
      if (auto errors = field_errors_from_message(s.what()); !errors.empty()) {
        return problems::validation(std::move(errors), msg);
      }
    }
    // unique violation, a delete refused by a reference, a concurrent request holding the
    // same Idempotency-Key, a change the current state does not allow (55000: e.g. demoting the
    // last active admin), not enough stock for a sale (23S01, change stock_sales): conflicts with
    // the current state
    if (st == "23505" || st == "23503" || st == "55P03" || st == "55000" || st == "23S01") {
      return problems::conflict(msg);
    }
    if (cls == "22" || cls == "23") return problems::validation({}, msg);
    if (Pool::is_connection_failure(e)) {
      log::warn("database connection failure",
                {{"request_id", request_id}, {"sqlstate", st}, {"error", msg}});
      return problems::service_unavailable("The database is unavailable; retry shortly.");
    }
    if (st == "25006") {
      // a write reached a read-only server (a standby, or a primary being demoted/failed over)
      log::warn("write refused by a read-only database",
                {{"request_id", request_id}, {"sqlstate", st}, {"error", msg}});
      return problems::service_unavailable(
          "The database accepts no writes right now (read-only); retry shortly.");
    }
    if (cls == "40" || st == "57014" || st == "53300") {
      // serialization failure/deadlock, statement timeout, too many connections: transient
      log::warn("transient database error",
                {{"request_id", request_id}, {"sqlstate", st}, {"error", msg}});
      return problems::service_unavailable("The database is busy; retry shortly.");
    }
    log::error("database error", {{"request_id", request_id},
                                  {"sqlstate", st},
                                  {"error", std::string(s.what())},
                                  {"query", s.query()}});
    return problems::internal_error();
  } catch (const std::exception& x) {
    log::error("unhandled exception", {{"request_id", request_id}, {"error", x.what()}});
    return problems::internal_error();
  } catch (...) {
    log::error("unhandled non-standard exception", {{"request_id", request_id}});
    return problems::internal_error();
  }
}

}  // namespace techmart::api
