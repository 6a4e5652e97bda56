// The endpoints. Each handler validates what HTTP owns (content type, JSON syntax, path and
// query syntax) and calls exactly one SQL function of the `api` schema through a prepared
// statement; business validation happens in SQL (22023 + field errors -> 422).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "db_pool.h"
#include "router.h"

namespace techmart::api {

class Endpoints {
 public:
  Endpoints(Pool& pool, std::chrono::milliseconds acquire_timeout)
      : pool_(pool), acquire_timeout_(acquire_timeout) {}

  // The statements the handlers use (name -> SQL); prepared on every pooled connection.
  static std::vector<std::pair<std::string, std::string>> statements();

  void register_routes(Router& router);

  Response health(RequestContext& ctx);
  Response create_transaction(RequestContext& ctx);
  Response recent_transactions(RequestContext& ctx);
  Response get_transaction(RequestContext& ctx);

 private:
  // Runs one prepared statement returning one text (jsonb::text) value; nullopt for SQL NULL.
  template <typename... Args>
  std::optional<std::string> call(std::chrono::milliseconds timeout, const std::string& stmt,
                                  Args&&... args);

  Pool& pool_;
  std::chrono::milliseconds acquire_timeout_;
};

}  // namespace techmart::api
