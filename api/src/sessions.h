// Revocable sign-in sessions (migration user_sessions).
//
// A session token (POST /auth/login, POST /users/me/password) carries the account's
// token_version at sign-in (claim "ver"). It is accepted only while the account exists, is
// active and still has that version; the version changes with the role, with disabling, with a
// new password and with POST /auth/logout (the rules are SQL's: trigger users_session_guard,
// api.logout). A token whose version no longer matches is 401: the client signs in again, and
// the new token has the account's current role.
//
// The check costs no SQL round trip per request: a bounded in-memory cache user id ->
// (token_version, role, active), filled by one call of api.session_state(id) on a miss (on the
// primary) and
//   * invalidated at once by NOTIFY techmart_sessions (trigger users_session_notify; received by
//     the stream's LISTEN connection, sse.cpp), and by this service itself right after its own
//     logout, user update or password change (so the very next request sees it, whatever the
//     notification's latency);
//   * emptied when the LISTEN connection (re)connects: notifications sent while it was down are
//     lost;
//   * refreshed after a TTL (TECHMART_SESSION_CACHE_TTL_MS, default 30 s): the safety net for the
//     time the LISTEN connection is down.
// A fill that raced with an invalidation (the answer may predate it) is not stored.
//
// Tokens printed by `techmart-api token` (claim "kind": "operator") are signed by whoever holds
// TECHMART_JWT_SECRET: they are not tied to a session and are not checked here.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth.h"
#include "db_pool.h"
#include "metrics.h"

namespace techmart::api {

struct SessionState {
  std::int64_t token_version = 0;
  Role role = Role::Viewer;
  bool active = false;
};

class Sessions {
 public:
  Sessions(Pool& pool, std::chrono::milliseconds ttl, std::chrono::milliseconds acquire_timeout,
           Metrics* metrics = nullptr, std::size_t max_entries = 10000);

  // The statement the cache fills from (prepared on every pooled connection).
  static std::pair<std::string, std::string> statement();

  // The account's session state (cached); nullopt when the account does not exist. Throws
  // DatabaseUnavailable (503) when it is not cached and the database cannot answer.
  std::optional<SessionState> state(std::int64_t user_id);

  // Checks a verified token's principal: an operator token (token_version 0) passes as it is; a
  // session token passes while the account exists, is active and has the token's version, and
  // then acts with the account's current role. Returns the reason it is refused, "" when valid.
  std::string check(Principal& p);

  // Whether a session token of this account and version is still valid (the live stream
  // re-checks its subscribers with it); an operator token (version 0) always is.
  bool valid(std::int64_t user_id, std::int64_t token_version);

  void invalidate(std::int64_t user_id);
  void clear();

  // A NOTIFY techmart_sessions payload: {id, token_version, role, active}, {id, deleted} or
  // {all}. Drops the cached entry (all of them for {all} and for a payload not understood).
  struct Notice {
    bool all = false;  // every account may have changed (TRUNCATE, unknown payload)
    std::int64_t user_id = 0;
    bool deleted = false;
    std::int64_t token_version = 0;
    bool active = false;
    // whether a session token of this account and version is still valid after the change
    bool keeps(std::int64_t version) const {
      return !all && !deleted && active && version == token_version;
    }
  };
  Notice on_notification(const std::string& payload);

  // Parses a api.session_state row given as text fields (token_version, role, active).
  static SessionState parse(const std::string& version, const std::string& role,
                            const std::string& active);

  std::size_t size();

 private:
  struct Entry {
    std::optional<SessionState> state;  // nullopt: no such account
    std::chrono::steady_clock::time_point fetched;
  };
  std::optional<SessionState> fetch(std::int64_t user_id);

  Pool& pool_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds acquire_timeout_;
  Metrics* metrics_;
  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Entry> cache_;
  std::uint64_t generation_ = 0;  // bumped by every invalidation: a racing fill is not stored
};

}  // namespace techmart::api
