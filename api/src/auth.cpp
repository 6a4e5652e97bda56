#include "auth.h"

#include <jwt.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <set>
#include <stdexcept>

namespace techmart::api {
namespace {

constexpr const char* kIssuer = "techmart-api";
constexpr long kLeewaySeconds = 30;  // clock skew tolerated on nbf/iat

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::Viewer:
      return "viewer";
    case Role::Analyst:
      return "analyst";
    case Role::Admin:
      return "admin";
    case Role::Public:
      break;
  }
  return "public";
}

std::optional<Role> parse_role(const std::string& s) {
  if (s == "viewer") return Role::Viewer;
  if (s == "analyst") return Role::Analyst;
  if (s == "admin") return Role::Admin;
  return std::nullopt;
}

std::string Jwt::sign(const Principal& p) const { return sign(p, ttl_); }

std::string Jwt::sign(const Principal& p, std::chrono::seconds ttl) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr j(raw);
  const long now = static_cast<long>(std::time(nullptr));
  const std::string sub = std::to_string(p.user_id);
  if (jwt_add_grant(j.get(), "sub", sub.c_str()) || jwt_add_grant(j.get(), "iss", kIssuer) ||
      jwt_add_grant(j.get(), "email", p.email.c_str()) ||
      jwt_add_grant(j.get(), "role", role_name(p.role)) || jwt_add_grant_int(j.get(), "iat", now) ||
      jwt_add_grant_int(j.get(), "nbf", now) ||
      jwt_add_grant_int(j.get(), "exp", now + static_cast<long>(ttl.count())) ||
      (p.token_version > 0 ? jwt_add_grant_int(j.get(), "ver", static_cast<long>(p.token_version))
                           : jwt_add_grant(j.get(), "kind", "operator")) ||
      jwt_set_alg(j.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size()))) {
    throw std::runtime_error("building the JWT failed");
  }
  char* s = jwt_encode_str(j.get());
  if (!s) throw std::runtime_error("jwt_encode_str failed");
  std::string out(s);
  std::free(s);
  return out;
}

std::optional<Principal> Jwt::verify(const std::string& token, std::string& why) const {
  if (token.empty() || token.size() > 4096) {
    why = "malformed token";
    return std::nullopt;
  }
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 0 ||
      !raw) {
    why = "invalid token";
    return std::nullopt;
  }
  JwtPtr j(raw);
  const char* alg = jwt_get_header(j.get(), "alg");
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256 || !alg || std::string(alg) != "HS256") {
    why = "token algorithm must be HS256";
    return std::nullopt;
  }
  const long now = static_cast<long>(std::time(nullptr));
  errno = 0;
  const long exp = jwt_get_grant_int(j.get(), "exp");
  if (errno != 0) {
    why = "token has no exp";
    return std::nullopt;
  }
  if (now >= exp) {
    why = "token expired";
    return std::nullopt;
  }
  errno = 0;
  const long nbf = jwt_get_grant_int(j.get(), "nbf");
  if (errno == 0 && now + kLeewaySeconds < nbf) {
    why = "token not yet valid";
    return std::nullopt;
  }
  const char* iss = jwt_get_grant(j.get(), "iss");
  if (!iss || std::string(iss) != kIssuer) {
    why = "token issuer unknown";
    return std::nullopt;
  }
  const char* sub = jwt_get_grant(j.get(), "sub");
  const char* role = jwt_get_grant(j.get(), "role");
  const char* email = jwt_get_grant(j.get(), "email");
  if (!sub || !role) {
    why = "token lacks sub or role";
    return std::nullopt;
  }
  Principal p;
  const auto r = parse_role(role);
  if (!r) {
    why = "token role unknown";
    return std::nullopt;
  }
  p.role = *r;
  p.expires_at = exp;
  char* end = nullptr;
  errno = 0;
  p.user_id = std::strtoll(sub, &end, 10);
  if (errno != 0 || !end || *end != '\0' || end == sub) {
    why = "token subject invalid";
    return std::nullopt;
  }
  p.email = email ? email : "";
  // a session token (ver) or an operator token (kind); a token with neither predates revocable
  // sessions and could not be signed out
  errno = 0;
  const long ver = jwt_get_grant_int(j.get(), "ver");
  if (errno == 0) {
    if (ver < 1) {
      why = "token version invalid";
      return std::nullopt;
    }
    p.token_version = ver;
  } else if (errno != ENOENT) {
    why = "token version invalid";
    return std::nullopt;
  } else {
    const char* kind = jwt_get_grant(j.get(), "kind");
    if (!kind || std::string(kind) != "operator") {
      why = "token has no session version (issued before sessions could be revoked); sign in again";
      return std::nullopt;
    }
  }
  return p;
}

std::string Jwt::weakness(const std::string& secret) {
  if (secret.empty()) return "TECHMART_JWT_SECRET is not set";
  static const std::set<std::string> defaults = {"secret",
                                                 "changeme",
                                                 "change-me",
                                                 "changeit",
                                                 "password",
                                                 "development",
                                                 "dev",
                                                 "test",
                                                 "techmart",
                                                 "jwt-secret",
                                                 "your-256-bit-secret",
                                                 "supersecret",
                                                 "default"};
  std::string lower = secret;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (defaults.count(lower)) return "TECHMART_JWT_SECRET is a well-known default";
  if (secret.size() < 32) return "TECHMART_JWT_SECRET must be at least 32 bytes";
  std::set<char> distinct(secret.begin(), secret.end());
  if (distinct.size() < 8) return "TECHMART_JWT_SECRET has too few distinct characters";
  return "";
}

}  // namespace techmart::api
