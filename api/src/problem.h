// RFC 9457 (formerly 7807) problem details: the one error body format of the API.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace techmart::api {

struct FieldError {
  std::string field;
  std::string message;
};

// Thrown by handlers (and produced by the SQL error mapping); the handler wrapper turns it into
// an application/problem+json response.
class Problem : public std::runtime_error {
 public:
  Problem(int status, std::string slug, std::string title, std::string detail)
      : std::runtime_error(detail),
        status_(status),
        slug_(std::move(slug)),
        title_(std::move(title)),
        detail_(std::move(detail)) {}

  int status() const { return status_; }
  const std::string& slug() const { return slug_; }
  const std::string& title() const { return title_; }
  const std::string& detail() const { return detail_; }
  const std::vector<FieldError>& errors() const { return errors_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

  Problem& with_errors(std::vector<FieldError> errors) {
    errors_ = std::move(errors);
    return *this;
  }
  Problem& with_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  // The problem type URI: urn:techmart:problem:<slug>.
  std::string type() const { return "urn:techmart:problem:" + slug_; }

  // The JSON body: type, title, status, detail, instance, request_id and (if any) errors.
  std::string body(const std::string& instance, const std::string& request_id) const;

 private:
  int status_;
  std::string slug_;
  std::string title_;
  std::string detail_;
  std::vector<FieldError> errors_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// The common problems.
namespace problems {
Problem bad_request(std::string detail);
Problem malformed_json(std::string detail);
Problem not_found(std::string detail = "The requested resource does not exist.");
Problem method_not_allowed(const std::string& allow);
Problem payload_too_large(std::size_t limit);
Problem unsupported_media_type(std::string detail);
Problem validation(std::vector<FieldError> errors, std::string detail = "The request is invalid.");
Problem conflict(std::string detail);
Problem service_unavailable(std::string detail, int retry_after_s = 1);
Problem internal_error();
}  // namespace problems

}  // namespace techmart::api
