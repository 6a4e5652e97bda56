// Maps any exception escaping a handler to the problem the client sees. Database errors follow
// docs/architecture.md: 22023 with a JSON DETAIL -> 422 with field errors, 23505 -> 409, other
// 22xxx/23xxx -> 422, connection failures / pool timeout -> 503 with Retry-After, anything else
// -> 500 with a generic detail. SQL text and internal messages are logged, never sent.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "problem.h"

namespace techmart::api {

Problem problem_from_exception(const std::exception_ptr& e, const std::string& request_id);

// The field errors of an api.raise_invalid() error: the {"errors":[...]} object that PostgreSQL
// puts in the DETAIL line of the message. Empty when the message carries none.
std::vector<FieldError> field_errors_from_message(const std::string& message);

// The primary message of a PostgreSQL error text ("ERROR:  text\nDETAIL: ..." -> "text").
std::string primary_message(const std::string& message);

}  // namespace techmart::api
