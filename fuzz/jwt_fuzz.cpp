// Fuzzing Jwt::verify (libjwt 1.10 under our own alg/exp/nbf/role checks).
// Byte 0 chooses the mode:
//   even: the rest is a raw bearer token. Property: accepted only if its HS256 signature with
//         the server's secret is right (the fuzzer cannot forge one, so: never accepted unless
//         the corpus holds a genuinely signed token).
//   odd:  the rest is "<header JSON>\n<payload JSON>", signed here with the right secret.
//         Property: accepted only if the header says alg HS256, the payload has a numeric exp in
//         the future, a known role, and the principal is exactly what the payload says; a
//         session token (principal token_version > 0) has that integer ver, any other accepted
//         token says kind "operator" (a token with neither predates revocable sessions).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "auth.h"
#include "common.h"

using namespace techmart::api;

namespace {

const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789abcdef";

std::string b64url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string hs256(const std::string& msg) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  return b64url(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Jwt jwt(kSecret, std::chrono::seconds(3600));
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string why;
  if (data[0] % 2 == 0) {
    const auto p = jwt.verify(rest, why);
    if (p) {
      const auto dot = rest.rfind('.');
      FUZZ_CHECK(dot != std::string::npos && hs256(rest.substr(0, dot)) == rest.substr(dot + 1),
                 "a raw token is accepted only with a valid signature");
    } else {
      FUZZ_CHECK(!why.empty(), "a refusal says why");
    }
    return 0;
  }
  const auto nl = rest.find('\n');
  if (nl == std::string::npos) return 0;
  const std::string header = rest.substr(0, nl), payload = rest.substr(nl + 1);
  const std::string signing = b64url(header) + "." + b64url(payload);
  const std::string token = signing + "." + hs256(signing);
  const auto p = jwt.verify(token, why);
  if (!p) return 0;
  rapidjson::Document h, b;
  h.Parse(header.c_str(), header.size());
  b.Parse(payload.c_str(), payload.size());
  // Valid JSON that RapidJSON refuses for its range ("0E412": jansson reads 0.0, RapidJSON says
  // kParseErrorNumberTooBig; fuzz/regressions/jwt/zero-with-huge-exponent): this harness cannot
  // read what such a token says. Only the holder of the secret can sign one.
  if (h.GetParseError() == rapidjson::kParseErrorNumberTooBig ||
      b.GetParseError() == rapidjson::kParseErrorNumberTooBig) {
    return 0;
  }
  if (h.HasParseError() || !h.IsObject() || b.HasParseError() || !b.IsObject()) {
    FUZZ_CHECK(false, "accepted tokens have a JSON object header and payload");
  }
  // Duplicate names: RapidJSON finds the first, libjwt (jansson) keeps the last, so this harness
  // cannot tell what the token "says" (fuzz/regressions/jwt/duplicate-exp). Only the holder of
  // the secret can sign such a token, and techmart-api never writes one.
  for (const auto* doc : {&h, &b}) {
    for (auto i = doc->MemberBegin(); i != doc->MemberEnd(); ++i) {
      for (auto k = i + 1; k != doc->MemberEnd(); ++k) {
        if (i->name == k->name) return 0;
      }
    }
  }
  FUZZ_CHECK(!h.HasParseError() && h.IsObject() && h.HasMember("alg") && h["alg"].IsString() &&
                 std::string(h["alg"].GetString()) == "HS256",
             "accepted tokens have alg HS256");
  FUZZ_CHECK(b.HasMember("exp") && b["exp"].IsNumber() &&
                 b["exp"].GetDouble() > static_cast<double>(std::time(nullptr)) - 31,
             "accepted tokens are not expired");
  FUZZ_CHECK(b.HasMember("role") && b["role"].IsString(), "accepted tokens name a role");
  const auto role = parse_role(b["role"].GetString());
  FUZZ_CHECK(role && *role == p->role, "the principal has the token's role");
  FUZZ_CHECK(p->role != Role::Public, "a token never yields the public role");
  if (p->token_version > 0) {
    FUZZ_CHECK(b.HasMember("ver") && b["ver"].IsInt64() && b["ver"].GetInt64() == p->token_version,
               "a session token's version is its integer ver");
  } else {
    FUZZ_CHECK(p->token_version == 0 && b.HasMember("kind") && b["kind"].IsString() &&
                   std::string(b["kind"].GetString()) == "operator",
               "a token without a session version is an operator token");
  }
  return 0;
}
