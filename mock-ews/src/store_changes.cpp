// The change log's readers: SyncFolderItems (per-folder, collapsed per item) and subscriptions
// (per-mailbox events after a watermark, and waiting for them on the store clock).
#include <algorithm>
#include <unordered_map>

#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/store_state.hpp"

namespace exo::mock_ews {

using internal::ChangeKind;
using internal::ChangeRecord;
using internal::FolderRecord;
using internal::MailboxRecord;
using internal::SubscriptionRecord;
using internal::Token;
using internal::TokenKind;

namespace {

constexpr int kMaxSyncChanges = 512;

enum class Effect { kCreate, kDelete, kModify, kReadFlag };

struct ItemEffect {
  std::uint64_t item;
  Effect effect;
};

// What one log entry means for the items of `folder`. Moves within one folder never reach the
// log (MoveItem returns the item unchanged), so an entry affects at most one item of a folder.
std::optional<ItemEffect> EffectIn(const ChangeRecord& c, std::uint64_t folder) {
  switch (c.kind) {
    case ChangeKind::kCreated:
    case ChangeKind::kDelivered:
    case ChangeKind::kCopied:
      if (c.folder == folder) return ItemEffect{c.object, Effect::kCreate};
      return std::nullopt;
    case ChangeKind::kMoved:
      if (c.folder == folder) return ItemEffect{c.object, Effect::kCreate};
      if (c.old_folder == folder) return ItemEffect{c.old_object, Effect::kDelete};
      return std::nullopt;
    case ChangeKind::kDeleted:
      if (c.folder == folder) return ItemEffect{c.object, Effect::kDelete};
      return std::nullopt;
    case ChangeKind::kModified:
      if (c.folder == folder) return ItemEffect{c.object, Effect::kModify};
      return std::nullopt;
    case ChangeKind::kReadFlag:
      if (c.folder == folder) return ItemEffect{c.object, Effect::kReadFlag};
      return std::nullopt;
    case ChangeKind::kFolderCreated:
    case ChangeKind::kFolderDeleted:
    case ChangeKind::kFolderMoved:
    case ChangeKind::kFolderRenamed:
      return std::nullopt;
  }
  return std::nullopt;
}

// One item's changes within a sync window.
struct NetChange {
  std::uint64_t item = 0;
  bool existed_before = false;  // its first change in the window was not a creation
  bool other_change = false;
  bool read_change = false;
};

std::unexpected<Error> InvalidSyncState() {
  return Fail(ErrorCategory::kProtocol, codes::kInvalidSyncStateData,
              "Synchronization state data is corrupt or otherwise invalid.",
              "start over with an empty sync state");
}

std::unexpected<Error> InvalidWatermark() {
  return Fail(ErrorCategory::kProtocol, codes::kInvalidWatermark, "The watermark is invalid.",
              "subscribe again without a watermark");
}

bool Concerns(const SubscriptionRecord& sub, const ChangeRecord& c) {
  if (sub.all_folders) return true;
  if (sub.folders.count(c.folder)) return true;
  const bool moves = c.kind == ChangeKind::kMoved || c.kind == ChangeKind::kFolderMoved;
  return moves && sub.folders.count(c.old_folder);
}

bool Wanted(const SubscriptionRecord& sub, EventType type) {
  return sub.types.empty() || sub.types.count(type);
}

}  // namespace

Result<SyncBatch> MailboxStore::SyncFolderItems(std::string_view folder_id,
                                                std::string_view sync_state, int max_changes,
                                                const std::vector<std::string>& ignore) const {
  if (max_changes < 1 || max_changes > kMaxSyncChanges) {
    return errors::InvalidArgument("MaxChangesReturned must be between 1 and 512.");
  }
  State& s = *state_;
  std::lock_guard lock(s.mu);
  auto ref = s.ResolveFolder(folder_id, codes::kFolderNotFound);
  if (!ref) return std::unexpected(ref.error());
  const MailboxRecord& mb = *ref->mailbox;
  const FolderRecord& folder = *ref->folder;

  std::uint64_t since = 0;
  if (!sync_state.empty()) {
    const std::optional<Token> token = s.codec.Decode(sync_state);
    if (!token || token->kind != TokenKind::kSyncState || token->mailbox != mb.ordinal ||
        token->a != folder.number || token->b > mb.CurrentSeq()) {
      return InvalidSyncState();
    }
    since = token->b;
  }
  std::set<std::uint64_t> ignored;
  for (const auto& id : ignore) {
    const std::optional<Token> token = s.codec.Decode(id);
    if (token && token->kind == TokenKind::kItem && token->mailbox == mb.ordinal) {
      ignored.insert(token->a);
    }
  }

  // Walk the folder's entries after `since`; stop before the entry that would bring in one item
  // more than max_changes. The new state is the last entry consumed.
  std::vector<NetChange> nets;
  std::unordered_map<std::uint64_t, std::size_t> index;
  std::uint64_t position = since;
  bool more = false;
  auto it = std::upper_bound(folder.changes.begin(), folder.changes.end(), since);
  for (; it != folder.changes.end(); ++it) {
    const std::uint64_t seq = *it;
    const std::optional<ItemEffect> e = EffectIn(mb.log[seq - 1], folder.number);
    if (e) {
      auto found = index.find(e->item);
      if (found == index.end()) {
        if (nets.size() >= static_cast<std::size_t>(max_changes)) {
          more = true;
          break;
        }
        found = index.emplace(e->item, nets.size()).first;
        nets.push_back({e->item, e->effect != Effect::kCreate, false, false});
      }
      NetChange& net = nets[found->second];
      if (e->effect == Effect::kModify) net.other_change = true;
      if (e->effect == Effect::kReadFlag) net.read_change = true;
    }
    position = seq;
  }

  // Each item reports its current state (see the header for what that means across batches).
  SyncBatch batch;
  for (const NetChange& net : nets) {
    if (ignored.count(net.item)) continue;
    auto item = mb.items.find(net.item);
    const bool exists_now = item != mb.items.end() && item->second.folder == folder.number;
    SyncChange change;
    change.item_id = s.ItemId(mb, net.item);
    if (!net.existed_before) {
      if (!exists_now) continue;  // created and deleted: nothing to tell
      change.kind = SyncChangeKind::kCreate;
    } else if (!exists_now) {
      change.kind = SyncChangeKind::kDelete;
    } else if (net.other_change) {
      change.kind = SyncChangeKind::kUpdate;
    } else if (net.read_change) {
      change.kind = SyncChangeKind::kReadFlagChange;
    } else {
      continue;
    }
    if (exists_now) change.item = s.MakeItem(mb, item->second);
    batch.changes.push_back(std::move(change));
  }
  batch.sync_state =
      s.codec.Encode(Token{TokenKind::kSyncState, mb.ordinal, folder.number, position});
  batch.includes_last_item_in_range = !more;
  return batch;
}

// ---- notifications ----

namespace {

struct EventFactory {
  std::string watermark;
  SystemTime at;

  MailboxEvent Make(EventType type, bool is_folder, std::string id, std::string parent) const {
    MailboxEvent e;
    e.type = type;
    e.watermark = watermark;
    e.timestamp = at;
    e.is_folder = is_folder;
    e.id = std::move(id);
    e.parent_folder_id = std::move(parent);
    return e;
  }
};

}  // namespace

std::vector<MailboxEvent> MailboxStore::State::EventsFor(const MailboxRecord& mb,
                                                         const ChangeRecord& c,
                                                         std::uint64_t seq) const {
  const EventFactory f{Watermark(mb, seq), c.at};
  const std::string parent = FolderId(mb, c.folder);
  std::vector<MailboxEvent> out;
  switch (c.kind) {
    case ChangeKind::kDelivered:
      out.push_back(f.Make(EventType::kNewMail, false, ItemId(mb, c.object), parent));
      out.push_back(f.Make(EventType::kCreated, false, ItemId(mb, c.object), parent));
      break;
    case ChangeKind::kCreated:
      out.push_back(f.Make(EventType::kCreated, false, ItemId(mb, c.object), parent));
      break;
    case ChangeKind::kCopied:
    case ChangeKind::kMoved: {
      const EventType type = c.kind == ChangeKind::kCopied ? EventType::kCopied : EventType::kMoved;
      MailboxEvent e = f.Make(type, false, ItemId(mb, c.object), parent);
      e.old_id = ItemId(mb, c.old_object);
      e.old_parent_folder_id = FolderId(mb, c.old_folder);
      out.push_back(std::move(e));
      break;
    }
    case ChangeKind::kDeleted:
      out.push_back(f.Make(EventType::kDeleted, false, ItemId(mb, c.object), parent));
      break;
    case ChangeKind::kModified:
    case ChangeKind::kReadFlag:
      out.push_back(f.Make(EventType::kModified, false, ItemId(mb, c.object), parent));
      break;
    case ChangeKind::kFolderCreated:
      out.push_back(f.Make(EventType::kCreated, true, FolderId(mb, c.object), parent));
      break;
    case ChangeKind::kFolderDeleted:
      out.push_back(f.Make(EventType::kDeleted, true, FolderId(mb, c.object), parent));
      break;
    case ChangeKind::kFolderRenamed:
      out.push_back(f.Make(EventType::kModified, true, FolderId(mb, c.object), parent));
      break;
    case ChangeKind::kFolderMoved: {
      MailboxEvent e = f.Make(EventType::kMoved, true, FolderId(mb, c.object), parent);
      e.old_id = FolderId(mb, c.object);
      e.old_parent_folder_id = FolderId(mb, c.old_folder);
      out.push_back(std::move(e));
      break;
    }
  }
  return out;
}

Result<SubscriptionRecord*> MailboxStore::State::FindSubscription(std::string_view id, MonoTime now,
                                                                  bool check_expiry) {
  const std::optional<Token> token = codec.Decode(id);
  if (!token || token->kind != TokenKind::kSubscription) {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidSubscription,
                "The subscription is invalid.");
  }
  auto it = subscriptions.find({token->mailbox, token->a});
  if (it == subscriptions.end()) {
    return Fail(ErrorCategory::kNotFound, codes::kSubscriptionNotFound,
                "The specified subscription was not found.", "subscribe again");
  }
  SubscriptionRecord& sub = it->second;
  if (check_expiry && sub.idle_timeout && now - sub.last_used > *sub.idle_timeout) {
    subscriptions.erase(it);
    return Fail(ErrorCategory::kNotFound, codes::kExpiredSubscription,
                "The subscription has expired.", "subscribe again");
  }
  sub.last_used = now;
  return &sub;
}

bool MailboxStore::State::HasPendingEvents(SubscriptionRecord& sub) const {
  auto mb = mailboxes.find(sub.mailbox);
  if (mb == mailboxes.end()) return false;
  for (std::uint64_t seq = std::max(sub.cursor, sub.scanned_to) + 1; seq <= mb->second.CurrentSeq();
       ++seq) {
    const ChangeRecord& c = mb->second.log[seq - 1];
    if (!Concerns(sub, c)) continue;
    for (const auto& e : EventsFor(mb->second, c, seq)) {
      if (Wanted(sub, e.type)) return true;
    }
  }
  sub.scanned_to = mb->second.CurrentSeq();
  return false;
}

Result<std::string> MailboxStore::CurrentWatermark(std::string_view mailbox) const {
  std::lock_guard lock(state_->mu);
  auto mb = state_->RequireMailbox(mailbox);
  if (!mb) return std::unexpected(mb.error());
  return state_->Watermark(**mb, (*mb)->CurrentSeq());
}

Result<Subscription> MailboxStore::Subscribe(const SubscriptionSpec& spec) {
  State& s = *state_;
  const MonoTime now = s.clock.Monotonic();
  return s.Mutate([&]() -> Result<Subscription> {
    auto mb = s.RequireMailbox(spec.mailbox);
    if (!mb) return std::unexpected(mb.error());
    MailboxRecord& record = **mb;
    if (!spec.all_folders && spec.folder_ids.empty()) {
      return errors::InvalidArgument("A subscription needs folders or all_folders.");
    }
    SubscriptionRecord sub;
    sub.mailbox = record.ordinal;
    sub.all_folders = spec.all_folders;
    sub.types = spec.event_types;
    sub.idle_timeout = spec.idle_timeout;
    sub.last_used = now;
    for (const auto& id : spec.folder_ids) {
      auto ref = s.ResolveFolder(id, codes::kFolderNotFound);
      if (!ref) return std::unexpected(ref.error());
      if (ref->mailbox != &record) {
        return errors::InvalidArgument("A subscription's folders must belong to its mailbox.");
      }
      sub.folders.insert(ref->folder->number);
    }
    sub.cursor = record.CurrentSeq();
    if (!spec.watermark.empty()) {
      const std::optional<Token> token = s.codec.Decode(spec.watermark);
      if (!token || token->kind != TokenKind::kWatermark || token->mailbox != record.ordinal ||
          token->a > record.CurrentSeq()) {
        return InvalidWatermark();
      }
      sub.cursor = token->a;
    }
    sub.scanned_to = sub.cursor;
    const std::uint64_t number = s.next_subscription++;
    const std::uint64_t cursor = sub.cursor;
    s.subscriptions.emplace(std::make_pair(record.ordinal, number), std::move(sub));
    return Subscription{s.codec.Encode(Token{TokenKind::kSubscription, record.ordinal, number, 0}),
                        s.Watermark(record, cursor)};
  });
}

Result<void> MailboxStore::Unsubscribe(std::string_view subscription_id) {
  State& s = *state_;
  const MonoTime now = s.clock.Monotonic();
  return s.Mutate([&]() -> Result<void> {
    auto sub = s.FindSubscription(subscription_id, now);
    if (!sub) return std::unexpected(sub.error());
    s.subscriptions.erase({(*sub)->mailbox, s.codec.Decode(subscription_id)->a});
    return {};
  });
}

Result<EventBatch> MailboxStore::GetEvents(std::string_view subscription_id,
                                           std::string_view watermark, std::size_t max_events) {
  if (max_events == 0) return errors::InvalidArgument("max_events must be at least 1.");
  State& s = *state_;
  const MonoTime now = s.clock.Monotonic();
  return s.Mutate([&]() -> Result<EventBatch> {
    auto found = s.FindSubscription(subscription_id, now);
    if (!found) return std::unexpected(found.error());
    SubscriptionRecord& sub = **found;
    const MailboxRecord& mb = s.mailboxes.at(sub.mailbox);
    std::uint64_t from = sub.cursor;
    if (!watermark.empty()) {
      const std::optional<Token> token = s.codec.Decode(watermark);
      if (!token || token->kind != TokenKind::kWatermark || token->mailbox != mb.ordinal ||
          token->a > mb.CurrentSeq()) {
        return InvalidWatermark();
      }
      from = token->a;
    }
    EventBatch batch;
    std::uint64_t position = from;
    for (std::uint64_t seq = from + 1; seq <= mb.CurrentSeq(); ++seq) {
      const ChangeRecord& c = mb.log[seq - 1];
      if (Concerns(sub, c)) {
        std::vector<MailboxEvent> events = s.EventsFor(mb, c, seq);
        std::erase_if(events, [&](const MailboxEvent& e) { return !Wanted(sub, e.type); });
        if (!events.empty() && !batch.events.empty() &&
            batch.events.size() + events.size() > max_events) {
          batch.more_events = true;
          break;
        }
        for (auto& e : events) batch.events.push_back(std::move(e));
      }
      position = seq;
    }
    sub.cursor = sub.scanned_to = position;
    batch.previous_watermark = s.Watermark(mb, from);
    batch.watermark = s.Watermark(mb, position);
    return batch;
  });
}

Result<bool> MailboxStore::WaitForEvents(std::string_view subscription_id, MonoTime deadline) {
  State& s = *state_;
  // Only the first look checks the idle timeout: a subscription someone waits on is in use.
  for (bool first = true;; first = false) {
    std::uint64_t seen = 0;
    {
      const MonoTime now = s.clock.Monotonic();
      std::lock_guard lock(s.mu);
      auto sub = s.FindSubscription(subscription_id, now, /*check_expiry=*/first);
      if (!sub) return std::unexpected(sub.error());
      if (s.HasPendingEvents(**sub)) return true;
      if (now >= deadline) return false;
      seen = s.generation.load(std::memory_order_acquire);
    }
    // The predicate reads only the atomic generation: it runs under the clock's lock and must
    // not take the store's. Any published change wakes us; we then re-check under the lock.
    s.clock.WaitUntil(deadline,
                      [&] { return s.generation.load(std::memory_order_acquire) != seen; });
  }
}

}  // namespace exo::mock_ews
