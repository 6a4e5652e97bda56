// Authentication: HS256 JSON Web Tokens (libjwt 1.10) and roles.
//
// libjwt 1.10 verifies the signature (and refuses alg "none" when given a key) but accepts
// expired tokens: verify() checks the header's alg is exactly HS256, and exp/nbf/iat itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace techmart::api {

// Ordered: each role can do everything the lower ones can.
enum class Role { Public = 0, Viewer = 1, Analyst = 2, Admin = 3 };

const char* role_name(Role r);
std::optional<Role> parse_role(const std::string& s);  // "viewer", "analyst", "admin"

struct Principal {
  std::int64_t user_id = 0;
  std::string email;
  Role role = Role::Public;
  std::int64_t expires_at = 0;  // the token's exp (Unix seconds); 0 when unknown
  // A session token's version of the account (claim "ver", >= 1; sessions.h): the token is valid
  // while the account still has it. 0: an operator token (claim "kind": "operator", printed by
  // `techmart-api token` with the secret), not tied to a session.
  std::int64_t token_version = 0;
};

class Jwt {
 public:
  Jwt(std::string secret, std::chrono::seconds ttl) : secret_(std::move(secret)), ttl_(ttl) {}

  // A token for p valid from now for ttl (claims: sub, email, role, iat, nbf, exp, iss, and ver
  // for a session token — p.token_version > 0 — else kind "operator").
  std::string sign(const Principal& p) const;
  std::string sign(const Principal& p, std::chrono::seconds ttl) const;

  // The principal of a valid token; nullopt with a reason otherwise. A token with neither ver
  // nor kind "operator" (issued before sessions could be revoked) is refused.
  std::optional<Principal> verify(const std::string& token, std::string& why) const;

  std::chrono::seconds ttl() const { return ttl_; }

  // Why a secret is unfit for production (empty string when it is fine).
  static std::string weakness(const std::string& secret);

 private:
  std::string secret_;
  std::chrono::seconds ttl_;
};

}  // namespace techmart::api
