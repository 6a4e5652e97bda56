#include "sse.h"

#include <pistache/http.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/notification>
#include <pqxx/result>
#include <regex>

#include "log.h"
#include "problem.h"
#include "sessions.h"

namespace techmart::api {
namespace Http = Pistache::Http;

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel, Stream& s)
      : pqxx::notification_receiver(c, channel), stream_(s) {}
  void operator()(const std::string& payload, int) override {
    try {
      stream_.on_notification(channel(), payload);
    } catch (const std::exception& e) {
      log::warn("bad notification", {{"channel", channel()}, {"error", e.what()}});
    }
  }

 private:
  Stream& stream_;
};

namespace {

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Stream::Stream(const Config& config, Pool& pool, Metrics& metrics, Sessions* sessions)
    : config_(config), pool_(pool), metrics_(metrics), sessions_(sessions) {}

Stream::~Stream() { stop(); }

void Stream::start() {
  thread_ = std::thread([this] { run(); });
}

void Stream::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string Stream::frame(const std::string& id, const std::string& event,
                          const std::string& data) {
  std::string f;
  if (!id.empty()) f += "id: " + id + "\n";
  if (!event.empty()) f += "event: " + event + "\n";
  // data never holds raw newlines (compact JSON), but be safe
  std::size_t i = 0;
  do {
    const std::size_t j = data.find('\n', i);
    f += "data: " + data.substr(i, j == std::string::npos ? std::string::npos : j - i) + "\n";
    i = j == std::string::npos ? data.size() + 1 : j + 1;
  } while (i <= data.size());
  f += "\n";
  return f;
}

std::string Stream::chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + data + "\r\n";
}

std::string Stream::cursor_id() const {
  return std::to_string(last_tx_.load()) + "-" + std::to_string(last_alert_.load());
}

void Stream::on_notification(const std::string& channel, const std::string& payload) {
  if (channel == "techmart_sessions") {
    on_session_change(payload);
    return;
  }
  rapidjson::Document d;
  d.Parse(payload.c_str(), payload.size());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("payload is not a JSON object");
  Event e;
  if (channel == "techmart_alerts") {
    if (!d.HasMember("id") || !d["id"].IsInt64()) throw std::runtime_error("alert without id");
    e.kind = 'a';
    e.entity_id = d["id"].GetInt64();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (recent_alert_set_.count(e.entity_id)) return;  // already sent
      recent_alerts_.push_back(e.entity_id);
      recent_alert_set_.insert(e.entity_id);
      if (recent_alerts_.size() > 4096) {
        recent_alert_set_.erase(recent_alerts_.front());
        recent_alerts_.pop_front();
      }
    }
    if (e.entity_id > last_alert_) last_alert_ = e.entity_id;
    e.frame = frame(cursor_id(), "alert", payload);
  } else if (d.HasMember("bulk")) {
    e.kind = 'b';
    e.entity_id = d.HasMember("max_id") && d["max_id"].IsInt64() ? d["max_id"].GetInt64() : 0;
    if (e.entity_id > last_tx_) last_tx_ = e.entity_id;
    e.frame = frame(cursor_id(), "transactions_bulk", payload);
  } else {
    if (!d.HasMember("id") || !d["id"].IsInt64())
      throw std::runtime_error("transaction without id");
    e.kind = 't';
    e.entity_id = d["id"].GetInt64();
    if (e.entity_id > last_tx_) last_tx_ = e.entity_id;
    e.frame = frame(cursor_id(), "transaction", payload);
  }
  broadcast(std::move(e));
  if (config_.sse_metrics_debounce_ms > 0 && !metrics_dirty_) {
    metrics_dirty_ = true;
    metrics_due_ = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(config_.sse_metrics_debounce_ms);
  }
}

void Stream::maybe_send_metrics(pqxx::connection& conn) {
  if (!metrics_dirty_ || std::chrono::steady_clock::now() < metrics_due_) return;
  metrics_dirty_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (subs_.empty()) return;
  }
  pqxx::nontransaction q(conn);
  const pqxx::result r = q.exec("SELECT api.dashboard_overview()::text");
  if (r.empty() || r[0][0].is_null()) return;
  Event e;
  e.kind = 'm';
  e.entity_id = 0;
  e.frame = frame("", "metrics", r[0][0].c_str());
  broadcast(std::move(e));
  ++metrics_.sse_metrics_events;
}

void Stream::broadcast(Event e) {
  const std::string data = chunk(e.frame);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    auto peer = (*it)->peer.lock();
    if (!peer) {
      it = subs_.erase(it);
      continue;
    }
    if (!(*it)->active) {
      if ((*it)->pending.size() < 10000) (*it)->pending.push_back(e);
    } else {
      peer->send(Pistache::RawBuffer(data, data.size()));
      ++metrics_.sse_events_sent;
    }
    ++it;
  }
  metrics_.sse_clients = static_cast<long>(subs_.size());
}

void Stream::send_raw(const std::string& text) {
  const std::string data = chunk(text);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    auto peer = (*it)->peer.lock();
    if (!peer) {
      it = subs_.erase(it);
      continue;
    }
    if ((*it)->active) peer->send(Pistache::RawBuffer(data, data.size()));
    ++it;
  }
  metrics_.sse_clients = static_cast<long>(subs_.size());
}

void Stream::close_expired() {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    const auto& sub = *it;
    if (!sub->active || sub->expires_at == 0 || now < sub->expires_at) {
      ++it;
      continue;
    }
    if (auto peer = sub->peer.lock()) end_stream(peer);
    it = subs_.erase(it);
  }
  metrics_.sse_clients = static_cast<long>(subs_.size());
}

void Stream::end_stream(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  static const std::string last_chunk = "0\r\n\r\n";
  std::weak_ptr<Pistache::Tcp::Peer> weak = peer;
  peer->send(Pistache::RawBuffer(last_chunk, last_chunk.size()))
      .then(
          [weak](ssize_t) {
            if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_RDWR);
          },
          [](std::exception_ptr) {});
}

bool Stream::end_revoked(Subscriber& sub) {
  if (!sub.active) {
    sub.revoked = true;
    return false;
  }
  if (auto peer = sub.peer.lock()) end_stream(peer);
  ++metrics_.sse_sessions_closed;
  return true;
}

void Stream::on_session_change(const std::string& payload) {
  if (!sessions_) return;
  const Sessions::Notice n = sessions_->on_notification(payload);
  if (n.all) {
    recheck_sessions();
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    const auto& sub = *it;
    if (sub->token_version == 0 || sub->user_id != n.user_id || n.keeps(sub->token_version) ||
        !end_revoked(*sub)) {
      ++it;
      continue;
    }
    it = subs_.erase(it);
  }
  metrics_.sse_clients = static_cast<long>(subs_.size());
}

void Stream::recheck_sessions() {
  if (!sessions_) return;
  // the accounts and versions to check, then the checks outside the lock (they may query)
  std::set<std::pair<std::int64_t, std::int64_t>> tokens;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& sub : subs_) {
      if (sub->token_version != 0) tokens.insert({sub->user_id, sub->token_version});
    }
  }
  std::set<std::pair<std::int64_t, std::int64_t>> revoked;
  for (const auto& t : tokens) {
    try {
      if (!sessions_->valid(t.first, t.second)) revoked.insert(t);
    } catch (const std::exception& e) {
      // the database cannot answer now: checked again after the next reconnect
      log::warn("stream session check failed", {{"error", e.what()}});
      return;
    }
  }
  if (revoked.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    if (!revoked.count({(*it)->user_id, (*it)->token_version}) || !end_revoked(**it)) {
      ++it;
      continue;
    }
    it = subs_.erase(it);
  }
  metrics_.sse_clients = static_cast<long>(subs_.size());
}

void Stream::catch_up(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  const pqxx::result r =
      tx.exec_params("SELECT api.stream_replay($1, $2, $3)::text", last_tx_.load(),
                     last_alert_.load(), static_cast<int>(config_.sse_replay_max));
  rapidjson::Document d;
  d.Parse(r[0][0].c_str());
  if (d.HasParseError() || !d.IsObject()) return;
  for (const auto& t : d["transactions"].GetArray())
    on_notification("techmart_transactions", to_json(t));
  for (const auto& a : d["alerts"].GetArray()) on_notification("techmart_alerts", to_json(a));
}

void Stream::run() {
  auto backoff = std::chrono::milliseconds(250);
  bool connected_before = false;
  auto last_heartbeat = std::chrono::steady_clock::now();
  auto last_purge = std::chrono::steady_clock::now() - std::chrono::hours(2);
  while (!stop_) {
    try {
      pqxx::connection conn(config_.database_url);
      Receiver tx(conn, "techmart_transactions", *this);
      Receiver al(conn, "techmart_alerts", *this);
      Receiver se(conn, "techmart_sessions", *this);
      // notifications of session changes were lost while the connection was down
      if (sessions_) sessions_->clear();
      if (connected_before) recheck_sessions();
      if (!connected_before) {
        // the cursor starts at the current maxima
        pqxx::nontransaction q(conn);
        const pqxx::result r = q.exec("SELECT api.stream_replay(NULL, NULL, 0)::text");
        rapidjson::Document d;
        d.Parse(r[0][0].c_str());
        last_tx_ = d["max_transaction_id"].GetInt64();
        last_alert_ = d["max_alert_id"].GetInt64();
        connected_before = true;
      } else {
        catch_up(conn);  // notifications sent while we were away are lost: replay them
      }
      listening_ = true;
      log::info("stream listening", {{"cursor", cursor_id()}});
      backoff = std::chrono::milliseconds(250);
      while (!stop_) {
        conn.await_notification(0, metrics_dirty_ ? 50000 : 250000);
        maybe_send_metrics(conn);
        close_expired();
        const auto now = std::chrono::steady_clock::now();
        if (now - last_heartbeat >= std::chrono::seconds(config_.sse_heartbeat_s)) {
          last_heartbeat = now;
          send_raw(": heartbeat\n\n");
        }
        if (now - last_purge >= std::chrono::hours(1)) {
          last_purge = now;
          pqxx::nontransaction q(conn);
          q.exec("SELECT api.purge_idempotency_keys()");
        }
      }
    } catch (const std::exception& e) {
      if (listening_)
        log::warn("stream listener lost the database; reconnecting", {{"error", e.what()}});
      listening_ = false;
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stop_;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      close_expired();
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }
}

Response Stream::handle(RequestContext& ctx) {
  // Where the client left off: Last-Event-ID (header, or ?last_event_id= for tools).
  std::optional<std::string> last = ctx.header("Last-Event-ID");
  if (last) {
    // a header value's surrounding whitespace (spaces, tabs) is not part of it (RFC 9110 5.5)
    const auto first = last->find_first_not_of(" \t");
    last = first == std::string::npos
               ? ""
               : last->substr(first, last->find_last_not_of(" \t") - first + 1);
  } else {
    last = ctx.query("last_event_id");
  }
  std::int64_t tx_after = -1, alert_after = -1;
  if (last && !last->empty()) {
    static const std::regex re("^([0-9]{1,18})-([0-9]{1,18})$");
    std::smatch m;
    if (!std::regex_match(*last, m, re)) {
      throw problems::validation(
          {{"Last-Event-ID", "must be an event id of this stream (<transaction id>-<alert id>)"}},
          "Last-Event-ID is invalid.");
    }
    tx_after = std::stoll(m[1]);
    alert_after = std::stoll(m[2]);
  }
  auto sub = std::make_shared<Subscriber>();
  sub->peer = ctx.writer()->getPeer();
  if (ctx.principal()) {
    sub->expires_at = ctx.principal()->expires_at;
    sub->user_id = ctx.principal()->user_id;
    sub->token_version = ctx.principal()->token_version;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = subs_.begin(); it != subs_.end();) {
      it = (*it)->peer.expired() ? subs_.erase(it) : std::next(it);
    }
    if (subs_.size() >= config_.sse_max_clients) {
      throw problems::service_unavailable("Too many stream clients are connected; retry later.", 5);
    }
    subs_.push_back(sub);  // pending: events are buffered until the replay is written
    metrics_.sse_clients = static_cast<long>(subs_.size());
  }
  // A revocation notified between the token check and the line above found no stream to end:
  // check again now that the stream is registered (from the cache, emptied by the notification).
  bool valid = true;
  try {
    valid = !sessions_ || sessions_->valid(sub->user_id, sub->token_version);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    subs_.remove(sub);
    metrics_.sse_clients = static_cast<long>(subs_.size());
    throw;
  }
  if (!valid) {
    std::lock_guard<std::mutex> lock(mutex_);
    subs_.remove(sub);
    metrics_.sse_clients = static_cast<long>(subs_.size());
    throw Problem(401, "unauthorized", "Unauthorized",
                  "The bearer token is no longer valid: its session has ended; sign in again.")
        .with_header("WWW-Authenticate", "Bearer realm=\"techmart\"");
  }
  std::string initial = "retry: 2000\n\n";
  try {
    if (tx_after >= 0) {
      const auto out = pool_.with_connection(config_.db_acquire_timeout, [&](pqxx::connection& c) {
        pqxx::nontransaction q(c);
        const pqxx::result r = q.exec_prepared("stream_replay", static_cast<long long>(tx_after),
                                               static_cast<long long>(alert_after),
                                               static_cast<int>(config_.sse_replay_max));
        return std::string(r[0][0].c_str());
      });
      rapidjson::Document d;
      d.Parse(out.c_str(), out.size());
      // merge both kinds by time; each event id is the cursor after it
      struct Item {
        std::string time;
        char kind;
        std::int64_t id;
        std::string json;
      };
      std::vector<Item> items;
      for (const auto& t : d["transactions"].GetArray()) {
        items.push_back({t["time"].GetString(), 't', t["id"].GetInt64(), to_json(t)});
      }
      for (const auto& a : d["alerts"].GetArray()) {
        items.push_back({a.HasMember("created_at") && a["created_at"].IsString()
                             ? a["created_at"].GetString()
                             : "",
                         'a', a["id"].GetInt64(), to_json(a)});
      }
      // merge the two kinds by time, each kind staying in id order (the cursor is monotone)
      std::vector<Item> merged;
      const auto split =
          std::find_if(items.begin(), items.end(), [](const Item& x) { return x.kind == 'a'; });
      std::merge(items.begin(), split, split, items.end(), std::back_inserter(merged),
                 [](const Item& x, const Item& y) { return x.time < y.time; });
      items.swap(merged);
      std::int64_t ct = tx_after, ca = alert_after;
      if (d["truncated"].IsTrue()) {
        initial += frame("", "replay_truncated",
                         "{\"detail\":\"more events were missed than can be replayed\"}");
      }
      // transactions first then alerts keeps each kind in id order (cursor monotone per kind)
      for (const Item& it : items) {
        if (it.kind == 't') ct = std::max(ct, it.id);
        if (it.kind == 'a') ca = std::max(ca, it.id);
        initial += frame(std::to_string(ct) + "-" + std::to_string(ca),
                         it.kind == 't' ? "transaction" : "alert", it.json);
        sub->seen.insert({it.kind, it.id});
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    subs_.remove(sub);
    metrics_.sse_clients = static_cast<long>(subs_.size());
    throw;
  }
  auto& writer = *ctx.writer();
  // The connection is not reused after the stream: it ends only when the client leaves or its
  // token expires, and then the server closes the socket.
  writer.headers().remove<Http::Header::Connection>();
  writer.headers().add(std::make_shared<GenericHeader>("Connection", "close"));
  writer.headers().add(std::make_shared<GenericHeader>("Content-Type", "text/event-stream"));
  writer.headers().add(std::make_shared<GenericHeader>("Cache-Control", "no-cache"));
  writer.headers().add(std::make_shared<GenericHeader>("X-Accel-Buffering", "no"));
  writer.headers().add(std::make_shared<GenericHeader>("X-Request-Id", ctx.request_id()));
  for (const auto& [k, v] : ctx.common_headers()) {
    writer.headers().add(std::make_shared<GenericHeader>(k, v));
  }
  auto stream = writer.stream(Http::Code::Ok);
  stream.write(initial.data(), static_cast<std::streamsize>(initial.size()));
  stream.flush();
  if (auto peer = writer.getPeer()) peer->setIdle(true);
  {
    // Activate: what arrived meanwhile goes out now, minus what the replay already had.
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto peer = sub->peer.lock()) {
      for (const Event& e : sub->pending) {
        if (sub->seen.count({e.kind, e.entity_id})) continue;
        const std::string data = chunk(e.frame);
        peer->send(Pistache::RawBuffer(data, data.size()));
      }
    }
    sub->pending.clear();
    sub->seen.clear();
    sub->active = true;
    if (sub->revoked) {
      // its session ended while the replay was written
      end_revoked(*sub);
      subs_.remove(sub);
      metrics_.sse_clients = static_cast<long>(subs_.size());
    }
  }
  Response r;
  r.streamed = true;
  r.status = 200;
  return r;
}

}  // namespace techmart::api
