#include "problem.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "log.h"

namespace techmart::api {
namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::string& raw) {
  const std::string v = valid_utf8(raw);  // details and instance may echo client input
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

}  // namespace

std::string Problem::body(const std::string& instance, const std::string& request_id) const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  put(w, "type", type());
  put(w, "title", title_);
  w.Key("status");
  w.Int(status_);
  put(w, "detail", detail_);
  put(w, "instance", instance);
  put(w, "request_id", request_id);
  if (!errors_.empty()) {
    w.Key("errors");
    w.StartArray();
    for (const FieldError& e : errors_) {
      w.StartObject();
      put(w, "field", e.field);
      put(w, "message", e.message);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

namespace problems {

Problem bad_request(std::string detail) {
  return Problem(400, "bad-request", "Bad Request", std::move(detail));
}
Problem malformed_json(std::string detail) {
  return Problem(400, "malformed-json", "Malformed JSON", std::move(detail));
}
Problem not_found(std::string detail) {
  return Problem(404, "not-found", "Not Found", std::move(detail));
}
Problem method_not_allowed(const std::string& allow) {
  return Problem(405, "method-not-allowed", "Method Not Allowed",
                 "This resource supports only: " + allow + ".")
      .with_header("Allow", allow);
}
Problem payload_too_large(std::size_t limit) {
  return Problem(413, "payload-too-large", "Payload Too Large",
                 "The request body exceeds the limit of " + std::to_string(limit) + " bytes.");
}
Problem unsupported_media_type(std::string detail) {
  return Problem(415, "unsupported-media-type", "Unsupported Media Type", std::move(detail));
}
Problem validation(std::vector<FieldError> errors, std::string detail) {
  return Problem(422, "validation-failed", "Unprocessable Content", std::move(detail))
      .with_errors(std::move(errors));
}
Problem conflict(std::string detail) {
  return Problem(409, "conflict", "Conflict", std::move(detail));
}
Problem service_unavailable(std::string detail, int retry_after_s) {
  return Problem(503, "service-unavailable", "Service Unavailable", std::move(detail))
      .with_header("Retry-After", std::to_string(retry_after_s));
}
Problem internal_error() {
  return Problem(
      500, "internal-error", "Internal Server Error",
      "The server failed to handle the request; it has been logged with its request id.");
}

}  // namespace problems
}  // namespace techmart::api
