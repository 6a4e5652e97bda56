#include "handlers.h"

#include <libpq-fe.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "log.h"
#include "problem.h"
#include "sessions.h"
#include "sse.h"

namespace techmart::api {
namespace Http = Pistache::Http;
using M = Http::Method;

namespace {

// name -> SQL for the one-argument and two-argument api functions. A last `$n::text` role is the
// caller's role (caller_role): the function shows what that role may see (api.mask_*, SQL side).
struct Fn {
  const char* name;
  const char* sql;
};
const Fn kFunctions[] = {
    {"health", "SELECT api.health()::text"},
    // database-side metrics appended to GET /metrics (cached in main.cpp)
    {"ops_prometheus", "SELECT techmart_ops.prometheus()"},
    // the last argument is the actor (the API's user) named in inventory_history.changed_by
    {"create_transaction", "SELECT api.create_transaction($1::jsonb, $2::text)::text"},
    {"create_transaction_idempotent",
     "SELECT api.create_transaction_idempotent($1::text, $2::text, $3::jsonb, $4::text)::text"},
    {"recent_transactions", "SELECT api.recent_transactions($1::integer, $2::text)::text"},
    {"get_transaction", "SELECT api.get_transaction($1::bigint, $2::text)::text"},
    {"fraud_explain", "SELECT api.fraud_explain($1::bigint, $2::text)::text"},
    {"list_transactions", "SELECT api.list_transactions($1::jsonb, $2::text)::text"},
    {"suspicious_transactions", "SELECT api.suspicious_transactions($1::jsonb, $2::text)::text"},
    {"update_transaction", "SELECT api.update_transaction($1::bigint, $2::jsonb, $3::text)::text"},
    {"register", "SELECT api.register($1::jsonb)::text"},
    {"verify_email", "SELECT api.verify_email($1::jsonb)::text"},
    {"login", "SELECT api.login($1::jsonb)::text"},
    {"get_user", "SELECT api.get_user($1::bigint)::text"},
    {"list_users", "SELECT api.list_users($1::jsonb)::text"},
    {"update_user", "SELECT api.update_user($1::bigint, $2::jsonb)::text"},
    {"logout", "SELECT api.logout($1::bigint)::text"},
    {"change_password", "SELECT api.change_password($1::bigint, $2::jsonb)::text"},
    {"create_alert", "SELECT api.create_alert($1::jsonb)::text"},
    {"list_alerts", "SELECT api.list_alerts($1::jsonb, $2::text)::text"},
    {"get_alert", "SELECT api.get_alert($1::bigint, $2::text)::text"},
    {"update_alert", "SELECT api.update_alert($1::bigint, $2::jsonb, $3::text)::text"},
    {"alerts_status", "SELECT api.alerts_status($1::jsonb)::text"},
    {"low_stock", "SELECT api.low_stock($1::jsonb)::text"},
    {"list_inventory", "SELECT api.list_inventory($1::jsonb)::text"},
    {"update_inventory", "SELECT api.update_inventory($1::bigint, $2::jsonb, $3::text)::text"},
    {"inventory_history", "SELECT api.inventory_history($1::bigint, $2::jsonb)::text"},
    {"list_products", "SELECT api.list_products($1::jsonb)::text"},
    {"get_product", "SELECT api.get_product($1::bigint)::text"},
    {"create_product", "SELECT api.create_product($1::jsonb)::text"},
    {"update_product", "SELECT api.update_product($1::bigint, $2::jsonb)::text"},
    {"delete_product", "SELECT api.delete_product($1::bigint)::text"},
    {"list_categories", "SELECT api.list_categories($1::jsonb)::text"},
    {"get_category", "SELECT api.get_category($1::bigint)::text"},
    {"create_category", "SELECT api.create_category($1::jsonb)::text"},
    {"update_category", "SELECT api.update_category($1::bigint, $2::jsonb)::text"},
    {"delete_category", "SELECT api.delete_category($1::bigint)::text"},
    {"list_suppliers", "SELECT api.list_suppliers($1::jsonb)::text"},
    {"get_supplier", "SELECT api.get_supplier($1::bigint)::text"},
    {"create_supplier", "SELECT api.create_supplier($1::jsonb)::text"},
    {"update_supplier", "SELECT api.update_supplier($1::bigint, $2::jsonb)::text"},
    {"delete_supplier", "SELECT api.delete_supplier($1::bigint)::text"},
    {"list_customers", "SELECT api.list_customers($1::jsonb, $2::text)::text"},
    {"get_customer", "SELECT api.get_customer($1::bigint, $2::text)::text"},
    {"create_customer", "SELECT api.create_customer($1::jsonb)::text"},
    {"update_customer", "SELECT api.update_customer($1::bigint, $2::jsonb)::text"},
    {"stream_replay", "SELECT api.stream_replay($1::bigint, $2::bigint, $3::integer)::text"},
    {"update_fraud_rule", "SELECT api.update_fraud_rule($1::text, $2::jsonb)::text"},
};

// The token's role, passed to the functions that mask what a viewer may not see.
std::string caller_role(const RequestContext& ctx) {
  return role_name(ctx.principal() ? ctx.principal()->role : Role::Viewer);
}

std::string actor(const RequestContext& ctx) {
  if (!ctx.principal()) return "anonymous";
  return "user:" + std::to_string(ctx.principal()->user_id) +
         (ctx.principal()->email.empty() ? "" : ":" + ctx.principal()->email);
}

std::int64_t id_of(const std::string& row, const char* what) {
  rapidjson::Document out;
  out.Parse(row.c_str(), row.size());
  if (out.HasParseError() || !out.IsObject() || !out.HasMember("id") || !out["id"].IsInt64()) {
    throw std::runtime_error(std::string(what) + " returned a row without an integer id");
  }
  return out["id"].GetInt64();
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Pistache 0.0.5 leaves query values percent-encoded.
std::string url_decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() + 0 && i + 2 <= s.size() - 1 &&
               hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Deeper than any body of this API; far below what exhausts PostgreSQL's max_stack_depth when
// it parses the jsonb (between 10,000 and 30,000 levels with the default 2 MB).
constexpr int kMaxJsonDepth = 256;

// What valid JSON PostgreSQL's jsonb cannot take: a \u0000 escape (jsonb stores no NUL) and
// nesting deep enough to exhaust its stack (a 500). Empty when the body is fine. `s` parsed as
// JSON already, so only strings, escapes and brackets need telling apart.
std::string jsonb_refusal(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        if (s.compare(i + 1, 5, "u0000") == 0) return "strings must not contain \\u0000 (NUL)";
        ++i;  // the escaped character (of \uXXXX: the u; the hex digits are plain characters)
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return "must not nest objects and arrays deeper than " + std::to_string(kMaxJsonDepth) +
               " levels";
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return {};
}

}  // namespace

std::string json_object_body(RequestContext& ctx) {
  ctx.require_json_content_type();
  std::string body = ctx.body();
  // RFC 8259 section 8.1: a parser may ignore a UTF-8 byte order mark; PostgreSQL refuses it
  if (body.compare(0, 3, "\xEF\xBB\xBF") == 0) body.erase(0, 3);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.c_str(), body.size());
  if (doc.HasParseError()) {
    throw problems::malformed_json("The body is not valid JSON: " +
                                   std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
                                   " (at byte " + std::to_string(doc.GetErrorOffset()) + ").");
  }
  if (!doc.IsObject()) {
    throw problems::validation({{"", "body must be a JSON object"}},
                               "The body must be a JSON object.");
  }
  if (const std::string why = jsonb_refusal(body); !why.empty()) {
    throw problems::validation({{"", "body " + why}}, "The body " + why + ".");
  }
  return body;
}

std::string query_json(const RequestContext& ctx) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  const auto& q = ctx.request().query();
  for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
    if (it->first == "access_token") continue;
    const std::string k = valid_utf8(url_decode(it->first));
    const std::string v = valid_utf8(url_decode(it->second));
    if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) {
      throw problems::bad_request("Query parameters must not contain NUL bytes.");
    }
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

long long id_param(const RequestContext& ctx, const std::string& name, const std::string& noun) {
  const std::string& raw = ctx.param(name);
  const auto id = parse_int(raw, 1, INT64_MAX);
  if (!id) throw problems::not_found("There is no " + noun + " with id " + raw + ".");
  return static_cast<long long>(*id);
}

Endpoints::Endpoints(Pool& pool, Pool& read_pool, const Config& config, const Jwt& jwt,
                     Metrics& metrics, Stream* stream, ReadFailover* failover, Sessions* sessions)
    : pool_(pool),
      read_pool_(read_pool),
      config_(config),
      jwt_(jwt),
      metrics_(metrics),
      stream_(stream),
      failover_(failover),
      sessions_(sessions),
      acquire_timeout_(config.db_acquire_timeout),
      login_limiter_(config.login_per_minute / 60.0, config.login_burst) {}

std::vector<std::pair<std::string, std::string>> Endpoints::statements() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Fn& f : kFunctions) out.emplace_back(f.name, f.sql);
  out.push_back(Sessions::statement());
  for (const QueryRoute& r : query_routes()) out.emplace_back(r.stmt, r.sql);
  return out;
}

template <typename... Args>
std::optional<std::string> Endpoints::call(const std::string& stmt, Args&&... args) {
  return call_on(pool_, stmt, std::forward<Args>(args)...);
}

template <typename... Args>
std::optional<std::string> Endpoints::read(const std::string& stmt, Args&&... args) {
  return read_on(std::chrono::milliseconds(-1), stmt, std::forward<Args>(args)...);
}

template <typename... Args>
std::optional<std::string> Endpoints::read_timed(std::chrono::milliseconds timeout,
                                                 const std::string& stmt, Args&&... args) {
  return read_on(timeout, stmt, std::forward<Args>(args)...);
}

template <typename... Args>
std::optional<std::string> Endpoints::read_on(std::chrono::milliseconds timeout,
                                              const std::string& stmt, Args&&... args) {
  if (failover_ == nullptr)
    return call_on_timed(read_pool_, timeout, stmt, std::forward<Args>(args)...);
  if (failover_->use_replica()) {
    try {
      return call_on_timed(read_pool_, timeout, stmt, args...);
    } catch (...) {
      if (!ReadFailover::is_unreachable(std::current_exception())) throw;
      std::string error = "read database unreachable";
      try {
        throw;
      } catch (const std::exception& e) {
        error = e.what();
      }
      failover_->failed(error);
    }
  }
  failover_->count_fallback();  // a read: safe to run (again) on the primary
  return call_on_timed(pool_, timeout, stmt, args...);
}

template <typename... Args>
std::optional<std::string> Endpoints::call_on_timed(Pool& pool, std::chrono::milliseconds timeout,
                                                    const std::string& stmt, Args&&... args) {
  if (timeout.count() < 0) return call_on(pool, stmt, std::forward<Args>(args)...);
  return pool.with_connection(
      acquire_timeout_, [&](pqxx::connection& conn) -> std::optional<std::string> {
        // the timeout is local to this transaction: the pooled connection keeps its own
        pqxx::work tx(conn);
        tx.exec_params("SELECT set_config('statement_timeout', $1, true)",
                       std::to_string(timeout.count()));
        const pqxx::result r = tx.exec_prepared(stmt, std::forward<Args>(args)...);
        std::optional<std::string> out;
        if (!r.empty() && !r[0][0].is_null()) out = r[0][0].c_str();
        tx.commit();
        return out;
      });
}

template <typename... Args>
std::optional<std::string> Endpoints::call_on(Pool& pool, const std::string& stmt, Args&&... args) {
  return pool.with_connection(
      acquire_timeout_, [&](pqxx::connection& conn) -> std::optional<std::string> {
        // One statement in autocommit mode: its own transaction.
        pqxx::nontransaction tx(conn);
        const pqxx::result r = tx.exec_prepared(stmt, std::forward<Args>(args)...);
        if (r.empty() || r[0][0].is_null()) return std::nullopt;
        return r[0][0].c_str();
      });
}

Handler Endpoints::list_handler(std::string stmt, bool with_role) {
  return [this, stmt, with_role](RequestContext& ctx) {
    const auto out =
        with_role ? read(stmt, query_json(ctx), caller_role(ctx)) : read(stmt, query_json(ctx));
    if (!out) throw std::runtime_error("api." + stmt + " returned NULL");
    return Response::json(200, *out);
  };
}

Handler Endpoints::get_handler(std::string stmt, std::string noun, bool with_role) {
  return [this, stmt, noun, with_role](RequestContext& ctx) {
    const long long id = id_param(ctx, "id", noun);
    const auto row = with_role ? call(stmt, id, caller_role(ctx)) : call(stmt, id);
    if (!row)
      throw problems::not_found("There is no " + noun + " with id " + ctx.param("id") + ".");
    return Response::json(200, *row);
  };
}

Handler Endpoints::create_handler(std::string stmt, std::string location_prefix) {
  return [this, stmt, location_prefix](RequestContext& ctx) {
    const auto row = call(stmt, json_object_body(ctx));
    if (!row) throw std::runtime_error("api." + stmt + " returned NULL");
    return Response::json(201, *row).with_header(
        "Location", location_prefix + std::to_string(id_of(*row, stmt.c_str())));
  };
}

Handler Endpoints::update_handler(std::string stmt, std::string noun, bool with_actor) {
  return [this, stmt, noun, with_actor](RequestContext& ctx) {
    const long long id = id_param(ctx, "id", noun);
    const std::string body = json_object_body(ctx);
    const auto row = with_actor ? call(stmt, id, body, actor(ctx)) : call(stmt, id, body);
    if (!row)
      throw problems::not_found("There is no " + noun + " with id " + ctx.param("id") + ".");
    return Response::json(200, *row);
  };
}

Handler Endpoints::delete_handler(std::string stmt, std::string noun) {
  return [this, stmt, noun](RequestContext& ctx) {
    const long long id = id_param(ctx, "id", noun);
    const auto r = call(stmt, id);
    if (!r || *r != "true") {
      throw problems::not_found("There is no " + noun + " with id " + ctx.param("id") + ".");
    }
    Response resp;
    resp.status = 204;
    return resp;
  };
}

Handler Endpoints::query_handler(const QueryRoute& route) {
  return [this, &route](RequestContext& ctx) {
    std::vector<std::optional<std::string>> values(route.params.size());
    std::vector<FieldError> errors;
    const auto& q = ctx.request().query();
    for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
      if (it->first == "access_token") continue;
      std::string name = valid_utf8(url_decode(it->first));
      const auto p = std::find_if(route.params.begin(), route.params.end(),
                                  [&](const QueryParam& x) { return x.name == name; });
      if (p == route.params.end()) {
        if (name.size() > 64) name = valid_utf8(name.substr(0, 64)) + "...";
        errors.push_back({name, "is not a known query parameter"});
        continue;
      }
      const std::string value = url_decode(it->second);
      const std::string msg = value.find('\0') != std::string::npos || valid_utf8(value) != value
                                  ? "must be valid UTF-8 text"
                                  : check_query_value(*p, value);
      if (!msg.empty()) {
        errors.push_back({name, msg});
        continue;
      }
      values[static_cast<std::size_t>(p - route.params.begin())] = value;
    }
    if (!errors.empty()) throw problems::validation(errors, "Query parameters are invalid.");
    std::vector<const char*> args;
    args.reserve(values.size() + 1);
    for (const auto& v : values) args.push_back(v ? v->c_str() : nullptr);
    const std::string role = caller_role(ctx);
    if (route.caller_role) args.push_back(role.c_str());
    std::optional<std::string> out;
    if (route.long_running) {
      if (long_running_.fetch_add(1) >= static_cast<int>(config_.backtest_max_concurrent)) {
        --long_running_;
        throw problems::service_unavailable(
            "A backtest is already running (TECHMART_BACKTEST_MAX_CONCURRENT); retry when it has "
            "finished.",
            5);
      }
      struct Slot {
        std::atomic<int>& n;
        ~Slot() { --n; }
      } slot{long_running_};
      out = read_timed(config_.backtest_statement_timeout, route.stmt,
                       pqxx::prepare::make_dynamic_params(args));
    } else {
      out = read(route.stmt, pqxx::prepare::make_dynamic_params(args));
    }
    if (!out) throw std::runtime_error("statement " + route.stmt + " returned NULL");
    return Response::json(200, *out);
  };
}

void Endpoints::register_routes(Router& router) {
  const std::string v1 = "/api/v1";
  auto bind = [this](Response (Endpoints::*f)(RequestContext&)) {
    return [this, f](RequestContext& c) { return (this->*f)(c); };
  };
  router.add(M::Get, "/health", bind(&Endpoints::health));
  router.add(M::Get, "/metrics", bind(&Endpoints::metrics));

  // auth
  router.add(M::Post, v1 + "/auth/register", bind(&Endpoints::register_user));
  router.add(M::Post, v1 + "/auth/verify-email", bind(&Endpoints::verify_email));
  router.add(M::Post, v1 + "/auth/login", bind(&Endpoints::login));
  router.add(M::Post, v1 + "/auth/logout", Role::Viewer, bind(&Endpoints::logout));
  router.add(M::Get, v1 + "/users/me", Role::Viewer, bind(&Endpoints::me));
  router.add(M::Post, v1 + "/users/me/password", Role::Viewer, bind(&Endpoints::change_password));
  router.add(M::Get, v1 + "/users", Role::Admin, list_handler("list_users"));
  router.add(M::Get, v1 + "/users/{id}", Role::Admin, get_handler("get_user", "user"));
  router.add(M::Patch, v1 + "/users/{id}", Role::Admin, bind(&Endpoints::update_user));

  // transactions
  router.add(M::Post, v1 + "/transactions", Role::Admin, bind(&Endpoints::create_transaction));
  router.add(M::Get, v1 + "/transactions", Role::Viewer, list_handler("list_transactions", true));
  router.add(M::Get, v1 + "/transactions/recent", Role::Viewer,
             bind(&Endpoints::recent_transactions));
  router.add(M::Get, v1 + "/transactions/suspicious", Role::Viewer,
             list_handler("suspicious_transactions", true));
  router.add(M::Get, v1 + "/transactions/export", Role::Viewer,
             bind(&Endpoints::export_transactions));
  router.no_head(v1 + "/transactions/export");  // streamed by the handler itself
  router.add(M::Get, v1 + "/transactions/{id}", Role::Viewer, bind(&Endpoints::get_transaction));
  router.add(M::Patch, v1 + "/transactions/{id}", Role::Analyst,
             update_handler("update_transaction", "transaction", true));
  // how a transaction's score was built (techmart.explain), also embedded in GET /transactions/{id}
  router.add(M::Get, v1 + "/fraud/explain/{id}", Role::Viewer,
             get_handler("fraud_explain", "transaction", true));

  // alerts
  router.add(M::Post, v1 + "/alerts", Role::Analyst,
             create_handler("create_alert", v1 + "/alerts/"));
  router.add(M::Get, v1 + "/alerts", Role::Viewer, list_handler("list_alerts", true));
  router.add(M::Get, v1 + "/alerts/status", Role::Viewer, list_handler("alerts_status"));
  router.add(M::Get, v1 + "/alerts/{id}", Role::Viewer, get_handler("get_alert", "alert", true));
  router.add(M::Patch, v1 + "/alerts/{id}", Role::Analyst,
             update_handler("update_alert", "alert", true));

  // inventory
  router.add(M::Get, v1 + "/inventory", Role::Viewer, list_handler("list_inventory"));
  router.add(M::Get, v1 + "/inventory/low-stock", Role::Viewer, list_handler("low_stock"));
  router.add(M::Put, v1 + "/inventory/{id}", Role::Admin,
             update_handler("update_inventory", "product", true));
  router.add(M::Get, v1 + "/inventory/{id}/history", Role::Viewer, [this](RequestContext& ctx) {
    const long long id = id_param(ctx, "id", "product");
    const auto out = read("inventory_history", id, query_json(ctx));
    if (!out) throw problems::not_found("There is no product with id " + ctx.param("id") + ".");
    return Response::json(200, *out);
  });

  // catalogue: products, categories, suppliers (full CRUD)
  for (const auto& [plural, singular] : std::vector<std::pair<std::string, std::string>>{
           {"products", "product"}, {"categories", "category"}, {"suppliers", "supplier"}}) {
    router.add(M::Get, v1 + "/" + plural, Role::Viewer, list_handler("list_" + plural));
    router.add(M::Post, v1 + "/" + plural, Role::Admin,
               create_handler("create_" + singular, v1 + "/" + plural + "/"));
    router.add(M::Get, v1 + "/" + plural + "/{id}", Role::Viewer,
               get_handler("get_" + singular, singular));
    router.add(M::Put, v1 + "/" + plural + "/{id}", Role::Admin,
               update_handler("update_" + singular, singular));
    router.add(M::Delete, v1 + "/" + plural + "/{id}", Role::Admin,
               delete_handler("delete_" + singular, singular));
  }

  // customers
  router.add(M::Get, v1 + "/customers", Role::Viewer, list_handler("list_customers", true));
  router.add(M::Post, v1 + "/customers", Role::Admin,
             create_handler("create_customer", v1 + "/customers/"));
  router.add(M::Get, v1 + "/customers/{id}", Role::Viewer,
             get_handler("get_customer", "customer", true));
  router.add(M::Put, v1 + "/customers/{id}", Role::Admin,
             update_handler("update_customer", "customer"));

  // dashboard, analytics, customer analytics, fraud geo/rules: query-parameter endpoints
  for (const QueryRoute& r : query_routes()) {
    router.add(M::Get, v1 + r.path, r.role, query_handler(r));
  }
  router.add(M::Put, v1 + "/fraud/rules/{name}", Role::Analyst, [this](RequestContext& ctx) {
    const std::string& name = ctx.param("name");
    const bool plausible = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z' &&
                           std::all_of(name.begin(), name.end(), [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                           });
    if (!plausible) throw problems::not_found("There is no fraud rule with this name.");
    const auto row = call("update_fraud_rule", name, json_object_body(ctx));
    if (!row) throw problems::not_found("There is no fraud rule named " + name + ".");
    return Response::json(200, *row);
  });

  // live
  if (stream_) {
    router.add(M::Get, v1 + "/stream", Role::Viewer,
               [this](RequestContext& ctx) { return stream_->handle(ctx); });
    router.no_head(v1 + "/stream");
  }
}

Response Endpoints::metrics(RequestContext&) {
  Response r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render();
  return r;
}

Response Endpoints::health(RequestContext& ctx) {
  try {
    // Health answers fast even when every connection is busy or the database is down.
    const auto timeout = std::min(acquire_timeout_, std::chrono::milliseconds(1000));
    const auto db = pool_.with_connection(timeout, [&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      const pqxx::result r = tx.exec_prepared("health");
      return std::string(r[0][0].c_str());
    });
    return Response::json(200, "{\"status\":\"ok\",\"database\":" + db + "}");
  } catch (const std::exception& e) {
    log::warn("health check failed", {{"request_id", ctx.request_id()}, {"error", e.what()}});
    return Response::json(503, "{\"status\":\"degraded\",\"database\":\"down\"}")
        .with_header("Retry-After", "1");
  }
}

Response Endpoints::create_transaction(RequestContext& ctx) {
  const std::string body = json_object_body(ctx);
  const auto key = ctx.header("Idempotency-Key");
  if (!key) {
    const auto row = call("create_transaction", body, actor(ctx));
    if (!row) throw std::runtime_error("api.create_transaction returned NULL");
    return Response::json(201, *row).with_header(
        "Location", "/api/v1/transactions/" + std::to_string(id_of(*row, "create_transaction")));
  }
  if (key->empty() || key->size() > 255 ||
      !std::all_of(key->begin(), key->end(),
                   [](unsigned char c) { return c >= 0x21 && c <= 0x7e; })) {
    throw problems::validation({{"Idempotency-Key", "must be 1 to 255 visible ASCII characters"}},
                               "The Idempotency-Key header is invalid.");
  }
  // Keys are scoped to the caller: two clients never share a key space.
  const std::string scope = ctx.principal() ? std::to_string(ctx.principal()->user_id) : "-";
  const auto out = call("create_transaction_idempotent", scope, *key, body, actor(ctx));
  if (!out) throw std::runtime_error("api.create_transaction_idempotent returned NULL");
  rapidjson::Document d;
  d.Parse(out->c_str(), out->size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("status") || !d["status"].IsInt() ||
      !d.HasMember("body")) {
    throw std::runtime_error("api.create_transaction_idempotent returned an unexpected shape");
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d["body"].Accept(w);
  const std::string row(sb.GetString(), sb.GetSize());
  Response r = Response::json(d["status"].GetInt(), row);
  if (d["body"].IsObject() && d["body"].HasMember("id") && d["body"]["id"].IsInt64()) {
    r.with_header("Location", "/api/v1/transactions/" + std::to_string(d["body"]["id"].GetInt64()));
  }
  r.with_header("Idempotent-Replayed",
                d.HasMember("replayed") && d["replayed"].IsTrue() ? "true" : "false");
  return r;
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
  const auto items = read("recent_transactions", static_cast<int>(limit), caller_role(ctx));
  if (!items) throw std::runtime_error("api.recent_transactions returned NULL");
  return Response::json(200, *items);
}

Response Endpoints::get_transaction(RequestContext& ctx) {
  const long long id = id_param(ctx, "id", "transaction");
  const auto row = call("get_transaction", id, caller_role(ctx));
  if (!row) throw problems::not_found("There is no transaction with id " + ctx.param("id") + ".");
  return Response::json(200, *row);
}

// ------------------------------------------------------------------------------- auth
Response Endpoints::register_user(RequestContext& ctx) {
  const auto out = call("register", json_object_body(ctx));
  if (!out) throw std::runtime_error("api.register returned NULL");
  rapidjson::Document d;
  d.Parse(out->c_str(), out->size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("user") || !d["user"].IsObject()) {
    throw std::runtime_error("api.register returned an unexpected shape");
  }
  const auto& user = d["user"];
  const std::int64_t id = user["id"].GetInt64();
  if (config_.development && d.HasMember("verification_token") &&
      d["verification_token"].IsString()) {
    // No mail sender yet: in development the token is logged for the developer.
    log::info("verification token (development only)",
              {{"request_id", ctx.request_id()},
               {"user_id", static_cast<long long>(id)},
               {"email", std::string(user["email"].GetString())},
               {"verification_token", std::string(d["verification_token"].GetString())}});
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  user.Accept(w);
  return Response::json(201, std::string(sb.GetString(), sb.GetSize()))
      .with_header("Location", "/api/v1/users/" + std::to_string(id));
}

Response Endpoints::verify_email(RequestContext& ctx) {
  const auto out = call("verify_email", json_object_body(ctx));
  if (!out) throw problems::not_found("The verification token is unknown or was already used.");
  return Response::json(200, *out);
}

// One attempt at a password (login, password change) from the request's remote address: 429 with
// Retry-After when its bucket is empty. What is tried ("login", "password") names it in the detail.
void Endpoints::take_password_attempt(RequestContext& ctx, const char* what) {
  if (!login_limiter_.enabled()) return;
  const auto d = login_limiter_.take("ip:" + ctx.remote());
  if (d.allowed) return;
  ++metrics_.rate_limited;
  throw Problem(429, "rate-limited", "Too Many Requests",
                std::string("Too many ") + what + " attempts; retry after " +
                    std::to_string(d.retry_after_s) + " s.")
      .with_header("Retry-After", std::to_string(d.retry_after_s));
}

Response Endpoints::login(RequestContext& ctx) {
  // Brute force: a small bucket per remote address, before any password work is done.
  take_password_attempt(ctx, "login");
  const auto out = call("login", json_object_body(ctx));
  if (!out) {
    throw Problem(401, "invalid-credentials", "Unauthorized", "E-mail or password is wrong.")
        .with_header("WWW-Authenticate", "Bearer realm=\"techmart\"");
  }
  rapidjson::Document d;
  d.Parse(out->c_str(), out->size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("api.login: bad shape");
  if (d.HasMember("error")) {
    throw Problem(403, "email-not-verified", "Forbidden",
                  "The e-mail address of this account is not verified yet.");
  }
  return Response::json(200, token_json(*out, "api.login"))
      .with_header("Cache-Control", "no-store");
}

std::string Endpoints::token_json(const std::string& out, const char* fn) {
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("user") || !d["user"].IsObject() ||
      !d.HasMember("token_version") || !d["token_version"].IsInt64()) {
    throw std::runtime_error(std::string(fn) + " returned an unexpected shape");
  }
  const auto& u = d["user"];
  Principal p;
  p.user_id = u["id"].GetInt64();
  p.email = u["email"].GetString();
  p.role = parse_role(u["role"].GetString()).value_or(Role::Viewer);
  p.token_version = d["token_version"].GetInt64();
  const std::string token = jwt_.sign(p);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("access_token");
  w.String(token.c_str());
  w.Key("token_type");
  w.String("Bearer");
  w.Key("expires_in");
  w.Int64(jwt_.ttl().count());
  w.Key("user");
  u.Accept(w);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Response Endpoints::logout(RequestContext& ctx) {
  // Every session of the token's account ends (api.logout bumps its token_version). An operator
  // token (techmart-api token) is not a session: it stays valid, the account's sessions end.
  const std::int64_t id = ctx.principal()->user_id;
  call("logout", static_cast<long long>(id));
  // this instance refuses the token from the next request on, before the NOTIFY arrives
  if (sessions_) sessions_->invalidate(id);
  Response r;
  r.status = 204;
  return r;
}

Response Endpoints::change_password(RequestContext& ctx) {
  const auto& p = *ctx.principal();
  if (p.token_version == 0) {
    throw Problem(403, "forbidden", "Forbidden",
                  "An operator token (techmart-api token) is not a session of the account: sign "
                  "in to change its password.");
  }
  // a guessed current password costs what a login attempt does
  take_password_attempt(ctx, "password");
  const auto out =
      call("change_password", static_cast<long long>(p.user_id), json_object_body(ctx));
  if (sessions_) sessions_->invalidate(p.user_id);
  if (!out) throw problems::not_found("The account of this token no longer exists.");
  return Response::json(200, token_json(*out, "api.change_password"))
      .with_header("Cache-Control", "no-store");
}

Response Endpoints::update_user(RequestContext& ctx) {
  const long long id = id_param(ctx, "id", "user");
  const auto row = call("update_user", id, json_object_body(ctx));
  // a change of role or active ends the account's sessions: from the next request on here
  if (sessions_) sessions_->invalidate(id);
  if (!row) throw problems::not_found("There is no user with id " + ctx.param("id") + ".");
  return Response::json(200, *row);
}

Response Endpoints::me(RequestContext& ctx) {
  const auto& p = *ctx.principal();
  const auto row = call("get_user", static_cast<long long>(p.user_id));
  if (!row) throw problems::not_found("The account of this token no longer exists.");
  // The role in effect is the token's: a session token's is the account's; an operator token
  // (techmart-api token) acts with the role it was printed with.
  std::string body = *row;
  body.pop_back();
  body += std::string(",\"token_role\":\"") + role_name(p.role) + "\"}";
  return Response::json(200, body);
}

// ----------------------------------------------------------------------------- export
Response Endpoints::export_transactions(RequestContext& ctx) {
  // Fixed SQL; the filters travel as one bound parameter into a transaction-local setting
  // (COPY takes no parameters), then COPY (SELECT ...) streams CSV with constant memory.
  const std::string filters = query_json(ctx);
  if (exports_running_.fetch_add(1) >= static_cast<int>(config_.export_max_concurrent)) {
    --exports_running_;
    throw problems::service_unavailable("Too many exports are running; retry shortly.", 5);
  }
  struct Guard {
    std::atomic<int>& n;
    PGconn* conn = nullptr;
    ~Guard() {
      if (conn) PQfinish(conn);
      --n;
    }
  } guard{exports_running_};
  // an export is a read: on the read database when there is one and it is reachable, else on
  // the primary (read_failover.h)
  bool on_replica =
      !config_.read_database_url.empty() && (failover_ == nullptr || failover_->use_replica());
  guard.conn = PQconnectdb((on_replica ? config_.read_database_url : config_.database_url).c_str());
  if (on_replica && failover_ != nullptr && PQstatus(guard.conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(guard.conn);
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    failover_->failed(error);
    PQfinish(guard.conn);
    guard.conn = PQconnectdb(config_.database_url.c_str());
    on_replica = false;
  }
  if (!on_replica && failover_ != nullptr) failover_->count_fallback();
  if (PQstatus(guard.conn) != CONNECTION_OK) {
    throw DatabaseUnavailable(std::string("export connect failed: ") + PQerrorMessage(guard.conn));
  }
  auto check = [&](PGresult* r, ExecStatusType want, const char* what) {
    const ExecStatusType st = PQresultStatus(r);
    if (st == want) {
      PQclear(r);
      return;
    }
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    std::string msg = PQresultErrorMessage(r);
    std::string sqlstate = state ? state : "XX000";
    PQclear(r);
    throw pqxx::sql_error(msg, what, sqlstate.c_str());
  };
  check(PQexec(guard.conn, "BEGIN READ ONLY"), PGRES_COMMAND_OK, "BEGIN");
  const char* params[1] = {filters.c_str()};
  check(PQexecParams(guard.conn, "SELECT set_config('techmart_api.export_filters', $1, true)", 1,
                     nullptr, params, nullptr, nullptr, 0),
        PGRES_TUPLES_OK, "set_config");
  // validate first: an error inside COPY would surface only after the 200 is sent
  check(PQexec(guard.conn,
               "SELECT api.check_transaction_filters("
               "current_setting('techmart_api.export_filters')::jsonb)"),
        PGRES_TUPLES_OK, "check");
  // The statement timeout covers the COPY (TECHMART_EXPORT_STATEMENT_TIMEOUT_MS): a timeout
  // surfaces mid-stream like any other COPY failure below.
  const std::string timeout_ms = std::to_string(config_.export_statement_timeout.count());
  const char* timeout_params[1] = {timeout_ms.c_str()};
  // the stricter of ours and the session's (role, database or connection string setting; 0 = none)
  check(PQexecParams(guard.conn,
                     "SELECT set_config('statement_timeout', CASE WHEN s.cur = 0 THEN $1::bigint "
                     "WHEN $1::bigint = 0 THEN s.cur ELSE least(s.cur, $1::bigint) END::text, "
                     "true) FROM (SELECT setting::bigint AS cur FROM pg_settings "
                     "WHERE name = 'statement_timeout') s",
                     1, nullptr, timeout_params, nullptr, nullptr, 0),
        PGRES_TUPLES_OK, "set_config");
  check(PQexec(guard.conn,
               "COPY (SELECT * FROM api.export_transactions("
               "current_setting('techmart_api.export_filters')::jsonb)) "
               "TO STDOUT WITH (FORMAT csv, HEADER)"),
        PGRES_COPY_OUT, "COPY");

  // From here on the response is streamed: errors can only cut the stream short.
  auto& writer = *ctx.writer();
  writer.headers().add(std::make_shared<GenericHeader>("X-Request-Id", ctx.request_id()));
  writer.headers().add(std::make_shared<GenericHeader>("Content-Type", "text/csv; charset=utf-8"));
  writer.headers().add(std::make_shared<GenericHeader>(
      "Content-Disposition", "attachment; filename=\"transactions.csv\""));
  writer.headers().add(std::make_shared<GenericHeader>("Cache-Control", "no-store"));
  for (const auto& [k, v] : ctx.common_headers()) {
    writer.headers().add(std::make_shared<GenericHeader>(k, v));
  }
  auto stream = writer.stream(Http::Code::Ok);
  std::size_t total = 0, pending = 0;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(guard.conn, &buf, 0)) > 0) {
    stream.write(buf, n);
    PQfreemem(buf);
    total += static_cast<std::size_t>(n);
    pending += static_cast<std::size_t>(n);
    if (pending >= 64 * 1024) {
      stream.flush();
      pending = 0;
    }
  }
  // The COPY's outcome: a statement timeout, a terminated backend or a lost connection all end
  // here (n == -2 or a failed final result).
  bool ok = n == -1;
  std::string error = ok ? "" : PQerrorMessage(guard.conn);
  std::string sqlstate;
  if (ok) {
    PGresult* r = PQgetResult(guard.conn);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
      error = PQresultErrorMessage(r);
      if (const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE)) sqlstate = st;
    }
    PQclear(r);
    while (PGresult* rest = PQgetResult(guard.conn)) PQclear(rest);
  }
  if (!ok) {
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    log::error("export failed", {{"request_id", ctx.request_id()},
                                 {"response", "cut short"},
                                 {"sqlstate", sqlstate},
                                 {"bytes_sent", total},
                                 {"error", error}});
  }
  PQclear(PQexec(guard.conn, ok ? "COMMIT" : "ROLLBACK"));
  if (ok) {
    stream.ends();
  } else {
    // Cut the connection: the client sees an incomplete chunked body, never a "complete" file.
    stream.flush();
    if (auto peer = writer.getPeer()) ::shutdown(peer->fd(), SHUT_RDWR);
  }
  Response r;
  r.streamed = true;
  r.status = ok ? 200 : 500;
  r.body.clear();
  return r;
}

}  // namespace techmart::api
