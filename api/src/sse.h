// GET /api/v1/stream: server-sent events fed by LISTEN/NOTIFY.
//
// One listening connection (its own thread) serves all clients. Channels:
//   techmart_transactions -> event "transaction" (or "transactions_bulk" for bulk inserts)
//   techmart_alerts       -> event "alert"
// After either, a debounced event "metrics" (no id; not replayed) carries api.dashboard_overview()
// at most once per TECHMART_SSE_METRICS_DEBOUNCE_MS, computed on the listening connection and
// only while clients are connected.
// Every event id is "<last transaction id>-<last alert id>" (the cursor after the event), so a
// client reconnecting with Last-Event-ID gets everything after it from the tables
// (api.stream_replay). After the listening connection itself was lost, the same replay catches
// up on the notifications lost meanwhile.
//
// Sessions (sessions.h): the same connection LISTENs to techmart_sessions. A notification drops
// the account from the session cache and ends the account's streams whose token it revoked; after
// the connection was lost the cache is emptied and every stream's token checked again.
//
// Pistache 0.0.5: the handler flushes once and marks the peer idle (else the idle checker
// writes a 408 into the stream); later events are queued with peer->send() from the listener
// thread as raw chunked frames; subscribers are weak_ptr<Peer> and dropped once expired.
#pragma once

#include <pistache/peer.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "db_pool.h"
#include "http.h"
#include "metrics.h"

namespace techmart::api {

class Sessions;

class Stream {
 public:
  Stream(const Config& config, Pool& pool, Metrics& metrics, Sessions* sessions = nullptr);
  ~Stream();

  void start();
  void stop();

  Response handle(RequestContext& ctx);

  // An event as an SSE frame (id, event, data lines).
  static std::string frame(const std::string& id, const std::string& event,
                           const std::string& data);

 private:
  struct Event {
    char kind;  // 't' transaction, 'a' alert, 'b' bulk, 'm' metrics
    std::int64_t entity_id;
    std::string frame;
  };
  struct Subscriber {
    std::weak_ptr<Pistache::Tcp::Peer> peer;
    bool active = false;
    std::vector<Event> pending;                    // while the replay is being written
    std::set<std::pair<char, std::int64_t>> seen;  // replayed entities
    std::int64_t expires_at = 0;  // the token's exp (Unix seconds): the stream ends then
    std::int64_t user_id = 0;
    std::int64_t token_version = 0;  // a session token's version; 0: an operator token
    bool revoked = false;            // its session ended before it was active: ended once it is
  };

  void run();
  void on_notification(const std::string& channel, const std::string& payload);
  // Replays from the tables after the current cursor (after the listener reconnected).
  void catch_up(pqxx::connection& conn);
  void broadcast(Event e);
  // the overview as a "metrics" event when changes are pending and the debounce time passed
  void maybe_send_metrics(pqxx::connection& conn);
  void send_raw(const std::string& data);  // to all active subscribers (heartbeats)
  // Ends the streams whose token has expired (the last chunk, then the socket is closed):
  // a token is checked when the stream opens, and must not keep it open past its exp.
  void close_expired();
  // A techmart_sessions notification: the cache entry dropped, the streams it revoked ended.
  void on_session_change(const std::string& payload);
  // Checks every stream's session token again (after the listener reconnected: notifications
  // were lost meanwhile); ends those no longer valid.
  void recheck_sessions();
  // Ends one stream: the last chunk, then the socket is closed. Called with mutex_ held.
  static void end_stream(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  // Ends a subscriber's stream because its session ended (with mutex_ held); false when it is not
  // active yet (its handler is writing the replay): it is marked and ended once active.
  bool end_revoked(Subscriber& sub);
  static std::string chunk(const std::string& data);
  std::string cursor_id() const;

  const Config& config_;
  Pool& pool_;
  Metrics& metrics_;
  Sessions* sessions_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::list<std::shared_ptr<Subscriber>> subs_;
  std::atomic<std::int64_t> last_tx_{0};
  std::atomic<std::int64_t> last_alert_{0};
  std::deque<std::int64_t> recent_alerts_;  // dedupe (the engine may notify too)
  std::set<std::int64_t> recent_alert_set_;
  std::atomic<bool> listening_{false};
  // listener thread only
  bool metrics_dirty_ = false;
  std::chrono::steady_clock::time_point metrics_due_{};

  friend class Receiver;
};

}  // namespace techmart::api
