// The monitor's round. Order matters for "nothing lost, nothing twice": a sync batch and its sync
// state are committed together (kSeen); a message is marked kHanded only after the handler
// accepted it; the disposition runs after that and is retried until it is recorded (kDisposed).
// A crash between any two steps leaves rows that the next round finishes.
#include "exo/client/monitor.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "exo/common/log.hpp"

namespace exo::client {

namespace {

std::string IdempotencyKey(const MailMessage& m) {
  // The Internet Message-ID survives moves, copies and a change of transport; an item id does not.
  return m.internet_message_id.empty() ? "item:" + m.id : m.internet_message_id;
}

}  // namespace

struct MailboxMonitor::State {
  MonitorOptions options;
  MailboxTransport& transport;
  CheckpointStore& store;
  MessageHandler handler;
  Clock& clock;
  Random& random;

  std::atomic<bool> stop{false};
  std::atomic<bool> woken{false};
  std::atomic<bool> retry{false};
  mutable std::mutex mu;  // guards status
  MonitorStatus status;

  std::string folder_id;
  std::string target_folder_id;  // kMove
  bool watching = false;
  Duration backoff{};

  State(MonitorOptions o, MailboxTransport& t, CheckpointStore& s, MessageHandler h, Clock& c,
        Random& r)
      : options(std::move(o)), transport(t), store(s), handler(std::move(h)), clock(c), random(r) {}

  std::shared_ptr<spdlog::logger> Log() const { return log::Get("client.monitor"); }

  Result<void> ResolveFolders() {
    if (folder_id.empty()) {
      auto id = transport.ResolveFolder(options.key.folder, false);
      if (!id) return std::unexpected(id.error());
      folder_id = *id;
    }
    if (options.disposition.kind == DispositionKind::kMove && target_folder_id.empty()) {
      auto id = transport.ResolveFolder(options.disposition.folder, true);
      if (!id) return std::unexpected(id.error());
      target_folder_id = *id;
    }
    if (options.use_notifications && !watching) {
      auto w = transport.Watch(folder_id, [this] {
        woken = true;
        clock.Notify();
      });
      // Without notifications the monitor still polls; not worth failing the round for.
      watching = w.has_value();
    }
    return {};
  }

  // Applies the disposition to every handed message; kDisposed once it is done (or moot).
  Result<void> Dispose() {
    // Messages whose id this server does not know (the mailbox moved to another server): the
    // next sync gives them their new id, so they wait for it instead of failing the round.
    std::set<std::string> stale;
    for (;;) {
      auto handed = store.Messages(options.key, MessageState::kHanded, 64 + stale.size());
      if (!handed) return std::unexpected(handed.error());
      std::size_t fresh = 0;
      for (const MessageRecord& m : *handed) fresh += !stale.contains(m.idempotency_key);
      if (fresh == 0) return {};
      for (const MessageRecord& m : *handed) {
        if (stale.contains(m.idempotency_key)) continue;
        std::string new_id;
        Result<void> done;
        switch (options.disposition.kind) {
          case DispositionKind::kNone:
            break;
          case DispositionKind::kMarkRead:
            done = transport.MarkRead(m.item_id);
            break;
          case DispositionKind::kDelete:
            done = transport.Delete(m.item_id);
            break;
          case DispositionKind::kMove: {
            auto moved = transport.Move(m.item_id, target_folder_id);
            if (moved) {
              new_id = *moved;
            } else {
              done = std::unexpected(moved.error());
            }
            break;
          }
        }
        if (!done && done.error().code == "ErrorInvalidIdMalformed") {
          (void)store.RecordFailure(options.key, m.idempotency_key, done.error().Describe());
          stale.insert(m.idempotency_key);
          continue;
        }
        if (!done && done.error().code != "ErrorItemNotFound") {
          (void)store.RecordFailure(options.key, m.idempotency_key, done.error().Describe());
          return std::unexpected(done.error());
        }
        if (!done) {
          // Someone moved or deleted it first: nothing left to do, and retrying cannot help.
          Log()->info("message {} is gone before its disposition; recorded as done",
                      m.idempotency_key);
        }
        if (auto ok =
                store.SetState(options.key, m.idempotency_key, MessageState::kDisposed, new_id);
            !ok) {
          return ok;
        }
        std::lock_guard lock(mu);
        ++status.disposed;
      }
    }
  }

  // Syncs until caught up, committing each batch with its state.
  Result<void> Sync() {
    for (int pages = 0; pages < 10000; ++pages) {
      auto sync_state = store.SyncState(options.key);
      if (!sync_state) return std::unexpected(sync_state.error());
      auto page = transport.SyncFolder(folder_id, *sync_state, options.sync_batch);
      if (!page && page.error().code == "ErrorInvalidSyncStateData" && !sync_state->empty()) {
        // Start over from nothing: every current item comes back as created, and the rows
        // already known by their key keep their progress, so nothing is handed twice.
        Log()->warn("the server refused the sync state; resyncing {}/{} from scratch",
                    options.key.mailbox, options.key.folder);
        if (auto ok = store.ResetSyncState(options.key); !ok) return ok;
        std::lock_guard lock(mu);
        ++status.resyncs;
        continue;
      }
      if (!page) return std::unexpected(page.error());
      std::vector<MessageRecord> fresh;
      for (const FolderChange& c : page->changes) {
        if (c.kind != FolderChange::Kind::kCreated) continue;
        if (options.only_unread && c.message.is_read) {
          // Mail already read when first seen is not ours to hand over; but one we know (a
          // resync, a mailbox moved to another server) must get its current id all the same.
          auto known = store.Find(options.key, IdempotencyKey(c.message));
          if (!known) return std::unexpected(known.error());
          if (!*known) continue;
        }
        MessageRecord r;
        r.idempotency_key = IdempotencyKey(c.message);
        r.item_id = c.message.id;
        r.internet_message_id = c.message.internet_message_id;
        r.seen_at = clock.Now();
        fresh.push_back(std::move(r));
      }
      if (auto ok = store.CommitSyncBatch(options.key, page->sync_state, fresh); !ok) return ok;
      {
        std::lock_guard lock(mu);
        ++status.syncs;
      }
      if (!page->more) return {};
    }
    return Fail(ErrorCategory::kProtocol, "SyncDoesNotEnd",
                "the server kept reporting more changes after 10000 pages");
  }

  // Fetches seen messages and hands them to the application, oldest first.
  Result<void> HandOver() {
    std::size_t batch = static_cast<std::size_t>(std::max(1, options.fetch_batch));
    if (const std::size_t per = transport.Info().messages_per_fetch; per > 0) {
      batch = std::min(batch, per);
    }
    while (!stop) {
      auto seen = store.Messages(options.key, MessageState::kSeen, batch);
      if (!seen) return std::unexpected(seen.error());
      if (seen->empty()) return {};
      std::vector<std::string> ids;
      for (const auto& m : *seen) ids.push_back(m.item_id);
      auto messages = transport.FetchMessages(ids);
      if (!messages) return std::unexpected(messages.error());
      for (const MessageRecord& row : *seen) {
        // Stop between messages: what is left stays kSeen for the next run, nothing is lost.
        if (stop) return {};
        auto it = std::find_if(messages->begin(), messages->end(),
                               [&](const MailMessage& m) { return m.id == row.item_id; });
        if (it == messages->end()) {
          // Deleted or moved away by someone else before we could read it: there is nothing left
          // to hand over in this folder.
          Log()->warn("message {} disappeared before it was handed over", row.idempotency_key);
          if (auto ok = store.SetState(options.key, row.idempotency_key, MessageState::kDisposed);
              !ok) {
            return ok;
          }
          continue;
        }
        Result<void> accepted = handler(HandledMessage{row.idempotency_key, *it});
        if (!accepted) {
          (void)store.RecordFailure(options.key, row.idempotency_key, accepted.error().Describe());
          Error e = accepted.error();
          e.message = "the application's handler refused " + row.idempotency_key + ": " + e.message;
          return std::unexpected(e);
        }
        if (auto ok = store.SetState(options.key, row.idempotency_key, MessageState::kHanded);
            !ok) {
          return ok;
        }
        std::lock_guard lock(mu);
        ++status.handed;
      }
    }
    return {};
  }

  Result<void> Round() {
    if (auto ok = store.AcquireLease(options.key, options.owner, clock.Now(), options.lease_ttl);
        !ok) {
      return ok;
    }
    if (auto ok = ResolveFolders(); !ok) return ok;
    // Dispositions left over from a previous run (or a crash) first, then new mail.
    if (auto ok = Dispose(); !ok) return ok;
    if (auto ok = Sync(); !ok) return ok;
    if (auto ok = HandOver(); !ok) return ok;
    return Dispose();
  }

  std::size_t Pending() {
    std::size_t n = 0;
    for (MessageState s : {MessageState::kSeen, MessageState::kHanded}) {
      if (auto rows = store.Messages(options.key, s, 1000000)) n += rows->size();
    }
    return n;
  }
};

MailboxMonitor::MailboxMonitor(MonitorOptions options, MailboxTransport& transport,
                               CheckpointStore& store, MessageHandler handler, Clock& clock,
                               Random& random)
    : state_(std::make_unique<State>(std::move(options), transport, store, std::move(handler),
                                     clock, random)) {}

MailboxMonitor::~MailboxMonitor() {
  Stop();
  if (state_->watching) state_->transport.StopWatching();
  (void)state_->store.ReleaseLease(state_->options.key, state_->options.owner);
}

MonitorStatus MailboxMonitor::Step() {
  State& s = *state_;
  s.woken = false;
  if (s.retry.exchange(false)) s.backoff = {};
  const Result<void> round = s.Round();
  const MonoTime now = s.clock.Monotonic();
  const std::size_t pending = s.Pending();
  MonitorStatus status;
  {
    std::lock_guard lock(s.mu);
    s.status.pending = pending;
    if (round) {
      s.backoff = {};
      s.status.phase = MonitorStatus::Phase::kHealthy;
      s.status.last_error.reset();
      // Renew the lease well before it lapses, whatever the poll interval.
      s.status.next_wakeup = now + std::min(s.options.poll_interval, s.options.lease_ttl / 2);
    } else {
      const Error& e = round.error();
      const Duration floor = e.retry_after.value_or(std::chrono::seconds(1));
      const Duration doubled = s.backoff == Duration{} ? std::chrono::seconds(1) : s.backoff * 2;
      s.backoff = std::min(s.options.max_backoff, std::max(doubled, floor));
      // Jitter above the server's hint, never below it.
      const auto jitter = std::chrono::duration_cast<Duration>(s.backoff / 10 * s.random.Unit());
      s.status.phase = MonitorStatus::Phase::kBackingOff;
      s.status.last_error = e;
      s.status.next_wakeup = now + s.backoff + jitter;
      s.Log()->warn(
          "{}; next attempt in {} ms", e.Describe(),
          std::chrono::duration_cast<std::chrono::milliseconds>(s.backoff + jitter).count());
    }
    status = s.status;
  }
  if (s.options.on_status) s.options.on_status(status);
  return status;
}

void MailboxMonitor::Run() {
  State& s = *state_;
  while (!s.stop) {
    const MonitorStatus st = Step();
    if (s.stop) break;
    // A notification ends the wait early, but never a back-off; a new configuration ends our own
    // back-off, but not one the server asked for (Retry-After, BackOffMilliseconds).
    // A retry_after on a credential or permission error is the token provider's own back-off
    // (Get() says how long it still holds off), which a new configuration just reset: only a
    // throttled or unavailable service's wait is the server's.
    const bool backing_off = st.phase == MonitorStatus::Phase::kBackingOff;
    const bool server_asked = backing_off && st.last_error && st.last_error->retry_after &&
                              (st.last_error->category == ErrorCategory::kThrottled ||
                               st.last_error->category == ErrorCategory::kTransient);
    s.clock.WaitUntil(st.next_wakeup, [&] {
      return s.stop.load() || (s.retry.load() && !server_asked) || (!backing_off && s.woken);
    });
  }
  std::lock_guard lock(s.mu);
  s.status.phase = MonitorStatus::Phase::kStopped;
}

void MailboxMonitor::Stop() {
  state_->stop = true;
  state_->clock.Notify();
}

void MailboxMonitor::Retry() {
  state_->retry = true;
  state_->clock.Notify();
}

void MailboxMonitor::Wake() {
  state_->woken = true;
  state_->clock.Notify();
}

MonitorStatus MailboxMonitor::status() const {
  std::lock_guard lock(state_->mu);
  return state_->status;
}

}  // namespace exo::client
