#include "sessions.h"

#include <rapidjson/document.h>

#include <iterator>
#include <pqxx/nontransaction>
#include <pqxx/result>

namespace techmart::api {

Sessions::Sessions(Pool& pool, std::chrono::milliseconds ttl,
                   std::chrono::milliseconds acquire_timeout, Metrics* metrics,
                   std::size_t max_entries)
    : pool_(pool),
      ttl_(ttl),
      acquire_timeout_(acquire_timeout),
      metrics_(metrics),
      max_entries_(max_entries) {}

std::pair<std::string, std::string> Sessions::statement() {
  return {"session_state",
          "SELECT token_version, role, active::text FROM api.session_state($1::bigint)"};
}

SessionState Sessions::parse(const std::string& version, const std::string& role,
                             const std::string& active) {
  SessionState s;
  s.token_version = std::stoll(version);
  // an unknown role acts as the least one (the table's CHECK allows no other)
  s.role = parse_role(role).value_or(Role::Viewer);
  s.active = active == "true" || active == "t";
  return s;
}

std::optional<SessionState> Sessions::fetch(std::int64_t user_id) {
  return pool_.with_connection(acquire_timeout_, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const pqxx::result r = tx.exec_prepared("session_state", static_cast<long long>(user_id));
    if (r.empty()) return std::optional<SessionState>();
    return std::optional<SessionState>(
        parse(r[0][0].c_str(), r[0][1].c_str(), r[0][2].is_null() ? "" : r[0][2].c_str()));
  });
}

std::optional<SessionState> Sessions::state(std::int64_t user_id) {
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = cache_.find(user_id);
    if (it != cache_.end() && std::chrono::steady_clock::now() - it->second.fetched < ttl_) {
      if (metrics_) ++metrics_->session_cache_hits;
      return it->second.state;
    }
    generation = generation_;
  }
  if (metrics_) ++metrics_->session_cache_misses;
  // outside the lock: other accounts' requests do not wait for this one's query
  const auto now = std::chrono::steady_clock::now();
  auto s = fetch(user_id);
  std::lock_guard<std::mutex> lock(mutex_);
  // An invalidation since the query began may be newer than its answer: keep it for this
  // request only (the next one asks again).
  if (generation != generation_) return s;
  if (cache_.size() >= max_entries_ && !cache_.count(user_id)) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = now - it->second.fetched >= ttl_ ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= max_entries_) cache_.clear();  // bounded: start again
  }
  cache_[user_id] = Entry{s, now};
  return s;
}

std::string Sessions::check(Principal& p) {
  if (p.token_version == 0) return "";  // an operator token: not tied to a session
  const auto s = state(p.user_id);
  if (!s) return "its account no longer exists";
  if (!s->active) return "its account is disabled";
  if (s->token_version != p.token_version) {
    return "its session has ended (signed out, or the account's role or password changed); sign "
           "in again";
  }
  p.role = s->role;  // the same as the token's while the version matches
  return "";
}

bool Sessions::valid(std::int64_t user_id, std::int64_t token_version) {
  if (token_version == 0) return true;
  const auto s = state(user_id);
  return s && s->active && s->token_version == token_version;
}

void Sessions::invalidate(std::int64_t user_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.erase(user_id);
  ++generation_;
}

void Sessions::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.clear();
  ++generation_;
}

std::size_t Sessions::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return cache_.size();
}

Sessions::Notice Sessions::on_notification(const std::string& payload) {
  Notice n;
  rapidjson::Document d;
  d.Parse(payload.c_str(), payload.size());
  if (d.HasParseError() || !d.IsObject() || d.HasMember("all") || !d.HasMember("id") ||
      !d["id"].IsInt64()) {
    // {all} (TRUNCATE), or not understood: forget everything rather than keep a revoked session
    n.all = true;
    clear();
    return n;
  }
  n.user_id = d["id"].GetInt64();
  n.deleted = d.HasMember("deleted") && d["deleted"].IsTrue();
  if (!n.deleted) {
    n.token_version = d.HasMember("token_version") && d["token_version"].IsInt64()
                          ? d["token_version"].GetInt64()
                          : 0;
    n.active = d.HasMember("active") && d["active"].IsTrue();
  }
  invalidate(n.user_id);
  return n;
}

}  // namespace techmart::api
