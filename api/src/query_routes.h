// Read-only GET endpoints whose whole contract is a list of typed query parameters and one SQL
// statement (dashboard, analytics, customers analytics, fraud geo). The table drives the handler
// (strict validation: unknown names and malformed values are 422 with field errors), the prepared
// statements and the parameter section of `techmart-api routes --json`, from which the OpenAPI
// document is checked (tests/api/openapi.test.mjs), so the three cannot drift apart.
//
// Statement parameters are the query values as text in table order ($1, $2, ...), NULL when
// absent; defaults live in the SQL (coalesce). Times go through api.rest_time(text, field):
// YYYY-MM-DD is midnight in the business time zone, a date-time needs an offset.
#pragma once

#include <string>
#include <vector>

#include "auth.h"

namespace techmart::api {

enum class QueryKind { Time, Integer, Number, Text };

struct QueryParam {
  std::string name;
  QueryKind kind = QueryKind::Text;
  double min = 0;  // Integer/Number: inclusive bounds
  double max = 0;
  std::vector<std::string> values;  // Text: the allowed values (empty: any, at most 100 chars)
  std::string description;          // with the default
};

struct QueryRoute {
  std::string path;  // below /api/v1
  Role role = Role::Viewer;
  std::string stmt;  // prepared statement name
  std::string sql;
  std::vector<QueryParam> params;
  std::string summary;
  // the statement takes the caller's role after the query parameters ($n+1): the SQL function
  // masks what that role may not see
  bool caller_role = false;
  // a long replay (GET /fraud/backtest): runs under TECHMART_BACKTEST_STATEMENT_TIMEOUT_MS instead
  // of the pool's statement timeout, at most TECHMART_BACKTEST_MAX_CONCURRENT at once (else 503)
  bool long_running = false;
};

// The table (built once; references stay valid).
const std::vector<QueryRoute>& query_routes();

// Validates one value; returns an error message or "" when valid.
std::string check_query_value(const QueryParam& p, const std::string& value);

const char* query_kind_name(QueryKind k);

}  // namespace techmart::api
