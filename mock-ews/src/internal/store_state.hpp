// MailboxStore's private state: the records behind the snapshots, the per-mailbox change log and
// the helpers the store's .cpp files share. Everything here is guarded by State::mu unless a
// comment says otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/token_codec.hpp"

namespace exo::mock_ews::internal {

// One entry of a mailbox's change log. Its sequence number is its index + 1, so sequence numbers
// are dense per mailbox and increase within every folder's view of the log.
enum class ChangeKind : std::uint8_t {
  kCreated,    // an item saved by a client
  kDelivered,  // an item that arrived as mail
  kCopied,     // an item copied in (old_object in old_folder was the source)
  kMoved,      // an item moved from old_folder (as old_object) to folder (as object)
  kDeleted,
  kModified,       // properties other than (or besides) the read flag
  kReadFlag,       // only the read flag
  kFolderCreated,  // folder: the parent; object: the new child
  kFolderDeleted,
  kFolderMoved,  // folder: the new parent; old_folder: the old parent
  kFolderRenamed,
};

struct ChangeRecord {
  ChangeKind kind = ChangeKind::kCreated;
  std::uint64_t folder = 0;
  std::uint64_t old_folder = 0;
  std::uint64_t object = 0;
  std::uint64_t old_object = 0;
  SystemTime at{};
};

struct ItemRecord {
  std::uint64_t number = 0;  // new on every move: the id encodes it
  std::uint64_t folder = 0;
  std::uint64_t creation_order = 0;  // kept across moves; the sort tie-break
  std::uint64_t change_number = 0;
  std::shared_ptr<const std::string> mime;
  std::shared_ptr<const MessageFields> fields;
  SystemTime received{};
  SystemTime created{};
  bool is_read = false;
  bool is_draft = false;
  std::vector<std::string> categories;
  Importance importance = Importance::kNormal;
};

struct FolderRecord {
  std::uint64_t number = 0;
  std::uint64_t parent = 0;  // 0: the root
  std::string display_name;
  std::string folder_class;
  std::optional<DistinguishedFolder> distinguished;
  std::uint64_t change_number = 0;
  std::set<std::uint64_t> children;  // folder numbers, i.e. creation order
  std::set<std::uint64_t> items;     // item numbers
  std::size_t unread = 0;
  std::vector<std::uint64_t> changes;  // sequence numbers of log entries that concern it
};

inline constexpr std::size_t kDistinguishedCount = 8;

struct MailboxRecord {
  std::uint32_t ordinal = 0;
  Mailbox info;
  std::string guid_bytes;  // the object GUID's 16 bytes, for change keys
  std::map<std::uint64_t, FolderRecord> folders;
  std::uint64_t distinguished[kDistinguishedCount] = {};
  std::unordered_map<std::uint64_t, ItemRecord> items;
  std::vector<ChangeRecord> log;
  std::uint64_t next_folder = 1;
  std::uint64_t next_item = 1;
  std::uint64_t next_change_number = 1;
  std::uint64_t next_creation_order = 1;

  std::uint64_t CurrentSeq() const { return log.size(); }
  std::uint64_t Distinguished(DistinguishedFolder f) const {
    return distinguished[static_cast<std::size_t>(f)];
  }
};

struct SubscriptionRecord {
  std::uint32_t mailbox = 0;
  bool all_folders = false;
  std::set<std::uint64_t> folders;
  std::set<EventType> types;  // empty: all
  std::uint64_t cursor = 0;
  // No wanted event lies in (cursor, scanned_to]: lets repeated waits skip what they already
  // scanned. Reset to the cursor whenever the cursor moves.
  std::uint64_t scanned_to = 0;
  std::optional<Duration> idle_timeout;
  MonoTime last_used{};
};

struct FolderRef {
  MailboxRecord* mailbox;
  FolderRecord* folder;
};

struct ItemRef {
  MailboxRecord* mailbox;
  ItemRecord* item;
};

struct MoveCopyRefs {
  MailboxRecord* mailbox;
  ItemRecord* item;
  FolderRecord* target;
};

}  // namespace exo::mock_ews::internal

namespace exo::mock_ews {

struct MailboxStore::State {
  State(Clock& c, Random& r, StoreOptions o);

  Clock& clock;
  Random& random;
  const StoreOptions options;
  const internal::TokenCodec codec;  // immutable: usable without mu

  mutable std::mutex mu;
  // Bumped (under mu) by every successful mutation; WaitForEvents' predicate reads only this, so
  // the clock's lock never waits for mu and mu may be held while reading the clock.
  std::atomic<std::uint64_t> generation{0};

  std::map<std::string, Organization> organizations;  // by lower-case id
  std::map<std::uint32_t, internal::MailboxRecord> mailboxes;
  // Lower-case keys -> mailbox ordinal.
  std::unordered_map<std::string, std::uint32_t> by_smtp, by_upn, by_sid, by_guid;
  std::uint32_t next_mailbox = 1;
  std::map<std::pair<std::uint32_t, std::uint64_t>, internal::SubscriptionRecord> subscriptions;
  std::uint64_t next_subscription = 1;

  // Runs `f` under mu; on success bumps the generation and, after unlocking, wakes the clock's
  // waiters so WaitForEvents re-checks.
  template <class F>
  auto Mutate(F&& f) -> decltype(f()) {
    auto result = [&] {
      std::lock_guard lock(mu);
      auto r = f();
      if (r) generation.fetch_add(1, std::memory_order_acq_rel);
      return r;
    }();
    if (result) clock.Notify();
    return result;
  }

  // ---- lookups (mu held) ----
  internal::MailboxRecord* FindMailbox(std::string_view key, MailboxKey how);
  Result<internal::MailboxRecord*> RequireMailbox(std::string_view key);
  // Decodes an id that must be of kind `want`: ids this store did not mint and other kinds are
  // ErrorInvalidIdMalformed, except an item/folder mix-up, which has its own code.
  Result<internal::Token> DecodeId(std::string_view id, internal::TokenKind want) const;
  Result<internal::FolderRef> ResolveFolder(std::string_view folder_id, const char* not_found_code);
  Result<internal::ItemRef> ResolveItem(std::string_view item_id);

  // ---- encodings (no lock needed) ----
  std::string ItemId(const internal::MailboxRecord& mb, std::uint64_t item) const;
  std::string FolderId(const internal::MailboxRecord& mb, std::uint64_t folder) const;
  std::string Watermark(const internal::MailboxRecord& mb, std::uint64_t seq) const;

  // ---- snapshots (mu held) ----
  Item MakeItem(const internal::MailboxRecord& mb, const internal::ItemRecord& item) const;
  Folder MakeFolder(const internal::MailboxRecord& mb, const internal::FolderRecord& f) const;

  // ---- change log readers (mu held) ----
  // The events one log entry raises, in the order EWS lists them (NewMail before Created).
  std::vector<MailboxEvent> EventsFor(const internal::MailboxRecord& mb,
                                      const internal::ChangeRecord& c, std::uint64_t seq) const;
  // A live subscription by id, touched at `now`; with check_expiry, an idle-expired one is
  // removed and reported.
  Result<internal::SubscriptionRecord*> FindSubscription(std::string_view id, MonoTime now,
                                                         bool check_expiry = true);
  // Whether GetEvents from the subscription's cursor would return at least one event.
  bool HasPendingEvents(internal::SubscriptionRecord& sub) const;

  // Parses `mime` and stores it as a new item of `folder_id` (takes mu itself): DeliverItem
  // (kind kDelivered) and CreateItem (kCreated).
  Result<Item> AddItem(std::string_view folder_id, std::string mime, internal::ChangeKind kind,
                       const NewItemOptions& item_options);

  // ---- mutations (mu held) ----
  // Appends to the log and to the views of the folders it concerns; returns the sequence number.
  std::uint64_t Append(internal::MailboxRecord& mb, internal::ChangeRecord change);
  void Touch(internal::MailboxRecord& mb, internal::FolderRecord& f);
  void RemoveMailboxLocked(std::uint32_t ordinal);
  // The item and target folder of a move or copy: the errors of ResolveItem, then
  // ErrorToFolderNotFound for a missing target, ErrorCrossMailboxMoveCopy for another mailbox's.
  Result<internal::MoveCopyRefs> ResolveMoveCopy(std::string_view item_id,
                                                 std::string_view to_folder_id);
  // Moves an item to another folder: a new number (so a new id) and change number, one kMoved
  // entry both folders see. Returns the new number.
  std::uint64_t MoveItemLocked(internal::MailboxRecord& mb, std::uint64_t number,
                               internal::FolderRecord& target, SystemTime now);
};

// Error constructors with Exchange's message texts.
namespace errors {
std::unexpected<Error> Malformed();
std::unexpected<Error> ItemNotFound();
std::unexpected<Error> FolderNotFound(const char* code);
std::unexpected<Error> NonExistentMailbox(std::string_view key);
std::unexpected<Error> InvalidArgument(std::string message);
}  // namespace errors

}  // namespace exo::mock_ews
