#include "handlers.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/result>

#include "log.h"
#include "problem.h"

namespace techmart::api {
namespace Http = Pistache::Http;

std::vector<std::pair<std::string, std::string>> Endpoints::statements() {
  return {
      {"health", "SELECT api.health()::text"},
      {"create_transaction", "SELECT api.create_transaction($1::jsonb)::text"},
      {"recent_transactions", "SELECT api.recent_transactions($1::integer)::text"},
      {"get_transaction", "SELECT api.get_transaction($1::bigint)::text"},
  };
}

void Endpoints::register_routes(Router& router) {
  router.add(Http::Method::Get, "/health", [this](RequestContext& c) { return health(c); });
  router.add(Http::Method::Post, "/api/v1/transactions",
             [this](RequestContext& c) { return create_transaction(c); });
  router.add(Http::Method::Get, "/api/v1/transactions/recent",
             [this](RequestContext& c) { return recent_transactions(c); });
  router.add(Http::Method::Get, "/api/v1/transactions/{id}",
             [this](RequestContext& c) { return get_transaction(c); });
}

template <typename... Args>
std::optional<std::string> Endpoints::call(std::chrono::milliseconds timeout,
                                           const std::string& stmt, Args&&... args) {
  return pool_.with_connection(timeout, [&](pqxx::connection& conn) -> std::optional<std::string> {
    // One statement in autocommit mode: the function runs in its own transaction.
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_prepared(stmt, std::forward<Args>(args)...);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return r[0][0].c_str();
  });
}

Response Endpoints::health(RequestContext& ctx) {
  try {
    // Health answers fast even when every connection is busy or the database is down.
    const auto timeout = std::min(acquire_timeout_, std::chrono::milliseconds(1000));
    const auto db = call(timeout, "health");
    return Response::json(200, "{\"status\":\"ok\",\"database\":" + db.value_or("null") + "}");
  } catch (const std::exception& e) {
    log::warn("health check failed", {{"request_id", ctx.request_id()}, {"error", e.what()}});
    return Response::json(503, "{\"status\":\"degraded\",\"database\":\"down\"}")
        .with_header("Retry-After", "1");
  }
}

Response Endpoints::create_transaction(RequestContext& ctx) {
  ctx.require_json_content_type();
  const std::string& body = ctx.body();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.c_str(), body.size());
  if (doc.HasParseError()) {
    throw problems::malformed_json("The body is not valid JSON: " +
                                   std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
                                   " (at byte " + std::to_string(doc.GetErrorOffset()) + ").");
  }
  if (!doc.IsObject()) {
    throw problems::validation({{"", "body must be a JSON object"}},
                               "The body must be a JSON object describing one transaction.");
  }
  const auto row = call(acquire_timeout_, "create_transaction", body);
  if (!row) throw std::runtime_error("api.create_transaction returned NULL");
  rapidjson::Document out;
  out.Parse(row->c_str(), row->size());
  if (out.HasParseError() || !out.IsObject() || !out.HasMember("id") || !out["id"].IsInt64()) {
    throw std::runtime_error("api.create_transaction returned a row without an integer id");
  }
  return Response::json(201, *row).with_header(
      "Location", "/api/v1/transactions/" + std::to_string(out["id"].GetInt64()));
}

Response Endpoints::recent_transactions(RequestContext& ctx) {
  std::int64_t limit = 20;
  if (const auto raw = ctx.query("limit")) {
    const auto v = parse_int(*raw, 1, 500);
    if (!v) {
      throw problems::validation({{"limit", "must be an integer between 1 and 500"}},
                                 "Query parameter limit is invalid.");
    }
    limit = *v;
  }
  const auto items = call(acquire_timeout_, "recent_transactions", static_cast<int>(limit));
  if (!items) throw std::runtime_error("api.recent_transactions returned NULL");
  return Response::json(200, *items);
}

Response Endpoints::get_transaction(RequestContext& ctx) {
  const std::string& raw = ctx.param("id");
  const auto id = parse_int(raw, 1, INT64_MAX);
  // A non-numeric id names no resource: 404 rather than 422.
  if (!id) throw problems::not_found("There is no transaction with id " + raw + ".");
  const auto row = call(acquire_timeout_, "get_transaction", static_cast<long long>(*id));
  if (!row) throw problems::not_found("There is no transaction with id " + raw + ".");
  return Response::json(200, *row);
}

}  // namespace techmart::api
