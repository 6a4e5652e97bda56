// The endpoints. Each handler validates what HTTP owns (content type, JSON syntax, path and
// query syntax, authentication) and calls exactly one SQL function of the `api` schema through
// a prepared statement; business validation happens in SQL (22023 + field errors -> 422).
//
// Conventions of the SQL side (see docs/architecture.md):
//   list endpoints      api.fn(query jsonb)            query parameters as a JSON object of strings
//   get by id           api.get_x(bigint)              NULL -> 404
//   create              api.create_x(jsonb)            -> the row (201 + Location .../{id})
//   update              api.update_x(bigint, jsonb)    NULL -> 404
//   delete              api.delete_x(bigint)           false -> 404, true -> 204
//   rows a viewer may not see in full (transactions, customers, alerts, fraud geo): the caller's
//   role as a last text argument, api.get_x(bigint, role) etc.; the masking rule is SQL's
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth.h"
#include "config.h"
#include "db_pool.h"
#include "metrics.h"
#include "query_routes.h"
#include "rate_limit.h"
#include "read_failover.h"
#include "router.h"

namespace techmart::api {

class Stream;
class Sessions;

class Endpoints {
 public:
  // `read_pool` serves the read-only endpoints (lists, analytics, dashboard); it may be `pool`.
  // With `failover` (TECHMART_READ_DATABASE_URL set), a read the read pool cannot serve because
  // its database is unreachable runs on `pool` instead (read_failover.h).
  Endpoints(Pool& pool, Pool& read_pool, const Config& config, const Jwt& jwt, Metrics& metrics,
            Stream* stream = nullptr, ReadFailover* failover = nullptr,
            Sessions* sessions = nullptr);

  // The statements the handlers use (name -> SQL); prepared on every pooled connection.
  static std::vector<std::pair<std::string, std::string>> statements();

  void register_routes(Router& router);

  Response health(RequestContext& ctx);
  Response create_transaction(RequestContext& ctx);
  Response recent_transactions(RequestContext& ctx);
  Response get_transaction(RequestContext& ctx);
  Response export_transactions(RequestContext& ctx);
  Response login(RequestContext& ctx);
  Response register_user(RequestContext& ctx);
  Response verify_email(RequestContext& ctx);
  Response logout(RequestContext& ctx);
  Response change_password(RequestContext& ctx);
  Response update_user(RequestContext& ctx);
  Response me(RequestContext& ctx);
  Response metrics(RequestContext& ctx);

  // Runs one prepared statement returning one text (jsonb::text) value; nullopt for SQL NULL.
  template <typename... Args>
  std::optional<std::string> call(const std::string& stmt, Args&&... args);
  // The same on the read pool (TECHMART_READ_DATABASE_URL, else the primary; the primary too
  // while the read database is unreachable).
  template <typename... Args>
  std::optional<std::string> read(const std::string& stmt, Args&&... args);
  // read() in a transaction of its own whose statement_timeout is `timeout` (0 = none)
  template <typename... Args>
  std::optional<std::string> read_timed(std::chrono::milliseconds timeout, const std::string& stmt,
                                        Args&&... args);

 private:
  // with_role: the statement's last parameter is the caller's role (the SQL masks for it)
  Handler list_handler(std::string stmt, bool with_role = false);
  Handler get_handler(std::string stmt, std::string noun, bool with_role = false);
  Handler create_handler(std::string stmt, std::string location_prefix);
  Handler update_handler(std::string stmt, std::string noun, bool with_actor = false);
  Handler delete_handler(std::string stmt, std::string noun);
  // GET endpoint of query_routes(): strict query validation, one statement with text params.
  Handler query_handler(const QueryRoute& route);

  // the JSON of a token for an account row ({user, token_version} from api.login and
  // api.change_password): {access_token, token_type, expires_in, user}
  std::string token_json(const std::string& out, const char* fn);

  template <typename... Args>
  std::optional<std::string> call_on(Pool& pool, const std::string& stmt, Args&&... args);
  // timeout < 0: the pool's statement timeout (autocommit); else a transaction with its own
  template <typename... Args>
  std::optional<std::string> call_on_timed(Pool& pool, std::chrono::milliseconds timeout,
                                           const std::string& stmt, Args&&... args);
  template <typename... Args>
  std::optional<std::string> read_on(std::chrono::milliseconds timeout, const std::string& stmt,
                                     Args&&... args);

  Pool& pool_;
  Pool& read_pool_;
  const Config& config_;
  const Jwt& jwt_;
  Metrics& metrics_;
  Stream* stream_;
  ReadFailover* failover_;
  Sessions* sessions_;
  std::chrono::milliseconds acquire_timeout_;
  RateLimiter login_limiter_;
  // one password attempt (login, password change) against login_limiter_; throws 429 when spent
  void take_password_attempt(RequestContext& ctx, const char* what);
  std::atomic<int> exports_running_{0};
  std::atomic<int> long_running_{0};  // query routes marked long_running (backtests)
};

// The body as a validated JSON object (400 malformed, 415 content type, 422 not an object or not
// storable as jsonb: a \u0000 escape, deeper than 256 levels); a UTF-8 byte order mark dropped.
std::string json_object_body(RequestContext& ctx);
// The query string as a JSON object of strings (a repeated name: its first value, the only one
// Pistache 0.0.5 keeps — the handlers cannot see the others).
std::string query_json(const RequestContext& ctx);
// An id path parameter; a non-numeric id names no resource (404).
long long id_param(const RequestContext& ctx, const std::string& name, const std::string& noun);

}  // namespace techmart::api
