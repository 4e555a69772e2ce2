// The mailbox monitor: syncs one folder, hands each new message to the application's handler at
// least once with a stable idempotency key, then applies the disposition; resumable after a crash.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/config.hpp"
#include "exo/client/mailbox_transport.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// The application's side. Returning an error leaves the message kSeen: it is handed again later
// (with back-off); returning success commits kHanded, after which it is never handed again.
struct HandledMessage {
  std::string idempotency_key;
  const MailMessage& message;
};
using MessageHandler = std::function<Result<void>(const HandledMessage&)>;

// What the monitor is doing, for status lines, the doctor and scenario expectations.
struct MonitorStatus {
  enum class Phase { kStarting, kHealthy, kBackingOff, kStopped } phase = Phase::kStarting;
  std::optional<Error> last_error;  // with its remedy
  std::size_t handed = 0;           // messages handed over since start
  std::size_t disposed = 0;
  std::size_t pending = 0;  // kSeen + kHanded rows
  std::size_t syncs = 0;
  std::size_t resyncs = 0;  // full resyncs after ErrorInvalidSyncStateData
  MonoTime next_wakeup{};
};

struct MonitorOptions {
  FolderKey key;
  std::string owner;  // lease owner id
  Disposition disposition;
  Duration poll_interval = std::chrono::seconds(60);
  Duration lease_ttl = std::chrono::minutes(2);
  Duration max_backoff = std::chrono::minutes(15);
  int sync_batch = 512;
  int fetch_batch = 50;     // messages fetched (with MIME) and handed per round trip
  bool only_unread = true;  // mail already read when first seen is not handed over
  bool use_notifications = true;
  // Called after every Step with the new status (status lines, metrics); on the Step's thread.
  std::function<void(const MonitorStatus&)> on_status;
};

// Single-threaded: Step() does all work that is due at the clock's current time and returns when
// to call it next, so a scenario runner can jump the simulated clock from wake-up to wake-up; Run()
// is the production loop around it. Thread-safety: Stop() and Wake() may be called from any thread.
class MailboxMonitor {
 public:
  MailboxMonitor(MonitorOptions options, MailboxTransport& transport, CheckpointStore& store,
                 MessageHandler handler, Clock& clock, Random& random);
  ~MailboxMonitor();

  // One round: lease, pending dispositions, sync (until caught up), hand-over, dispositions.
  // Errors are not returned: they set the status and the back-off.
  MonitorStatus Step();
  // Steps until Stop(): waits on the clock until the next wake-up or a server notification.
  void Run();
  void Stop();
  // A change was signalled (notification, or a test): the next Step syncs at once.
  void Wake();
  // What the back-off was waiting for may have changed (a new configuration, a rotated secret):
  // ends our own back-off (not one the server asked for) and it starts again from its floor.
  void Retry();
  MonitorStatus status() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace exo::client
