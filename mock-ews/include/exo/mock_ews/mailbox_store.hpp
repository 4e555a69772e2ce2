// The protocol-neutral mailbox store behind mock-ews: organizations, mailboxes, folders and
// messages with a change log, from which the EWS and Graph facades derive ids, views, sync states
// and events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_ews/mime.hpp"

namespace exo::mock_ews {

// The codes the store's errors carry (Error::code), named after the EWS ResponseCode they map to.
// Categories: kNotFound for the *NotFound and ErrorNonExistentMailbox codes, kConfiguration for
// harness setup (organizations, mailboxes), kProtocol for everything a request got wrong.
namespace codes {
inline constexpr const char* kItemNotFound = "ErrorItemNotFound";
inline constexpr const char* kFolderNotFound = "ErrorFolderNotFound";
inline constexpr const char* kToFolderNotFound = "ErrorToFolderNotFound";  // move/copy target
inline constexpr const char* kNonExistentMailbox = "ErrorNonExistentMailbox";
inline constexpr const char* kInvalidIdMalformed = "ErrorInvalidIdMalformed";
inline constexpr const char* kFolderIdForItemId = "ErrorCannotUseFolderIdForItemId";
inline constexpr const char* kItemIdForFolderId = "ErrorCannotUseItemIdForFolderId";
inline constexpr const char* kInvalidChangeKey = "ErrorInvalidChangeKey";
inline constexpr const char* kIrresolvableConflict = "ErrorIrresolvableConflict";
inline constexpr const char* kInvalidSyncStateData = "ErrorInvalidSyncStateData";
inline constexpr const char* kFolderExists = "ErrorFolderExists";
inline constexpr const char* kDeleteDistinguishedFolder = "ErrorDeleteDistinguishedFolder";
inline constexpr const char* kMoveDistinguishedFolder = "ErrorMoveDistinguishedFolder";
inline constexpr const char* kMoveCopyFailed = "ErrorMoveCopyFailed";
inline constexpr const char* kCrossMailboxMoveCopy = "ErrorCrossMailboxMoveCopy";
inline constexpr const char* kMessageSizeExceeded = "ErrorMessageSizeExceeded";
inline constexpr const char* kMimeContentInvalid = "ErrorMimeContentInvalid";
inline constexpr const char* kInvalidArgument = "ErrorInvalidArgument";
inline constexpr const char* kInvalidSubscription = "ErrorInvalidSubscription";
inline constexpr const char* kSubscriptionNotFound = "ErrorSubscriptionNotFound";
inline constexpr const char* kExpiredSubscription = "ErrorExpiredSubscription";
inline constexpr const char* kInvalidWatermark = "ErrorInvalidWatermark";
// Harness setup (no EWS equivalent; the control API reports them as they are).
inline constexpr const char* kOrganizationExists = "ErrorOrganizationExists";
inline constexpr const char* kOrganizationNotFound = "ErrorOrganizationNotFound";
inline constexpr const char* kProxyAddressExists = "ErrorProxyAddressExists";
inline constexpr const char* kInvalidMailboxSpec = "ErrorInvalidMailboxSpec";
}  // namespace codes

// A tenant: its GUID (lower-case 8-4-4-4-12) and display name.
struct Organization {
  std::string id;
  std::string name;
};

enum class MailboxKind { kUser, kShared };

// What CreateMailbox needs. Addresses are compared case-insensitively and kept as given.
struct MailboxSpec {
  std::string organization_id;
  std::string primary_smtp_address;
  std::string user_principal_name;  // empty: the primary SMTP address
  std::string display_name;         // empty: the local part of the primary address
  std::vector<std::string> secondary_smtp_addresses;  // further proxy addresses (aliases)
  MailboxKind kind = MailboxKind::kUser;
  std::string object_guid;          // empty: drawn from the store's Random
  std::string directory_object_id;  // the Entra ID user's object id, if the caller links one
};

// A mailbox as callers see it (a copy).
struct Mailbox {
  std::string organization_id;
  std::string object_guid;  // the Exchange mailbox GUID, lower-case
  // "S-1-5-21-a-b-c-rid": the domain part derived from the organization id, the RID from the
  // object GUID; stable for the life of the mailbox and identical for the same inputs.
  std::string sid;
  std::string primary_smtp_address;
  std::string user_principal_name;
  std::string display_name;
  std::string alias;                         // mail nickname: the local part of the primary
  std::vector<std::string> proxy_addresses;  // "SMTP:primary" first, then "smtp:secondary"
  MailboxKind kind = MailboxKind::kUser;
  std::string directory_object_id;
};

// How ResolveMailbox reads its key. kAny tries SMTP (primary or proxy), then UPN, then SID, then
// object GUID, as EWS's ConnectingSID variants and Graph's /users/{id|upn} need.
enum class MailboxKey { kAny, kSmtpAddress, kUserPrincipalName, kSid, kObjectGuid };

// The well-known folders every mailbox has. kRoot is the top of the mailbox; kMsgFolderRoot (the
// top of the IPM subtree, "Top of Information Store") is its child and the parent of the rest.
enum class DistinguishedFolder {
  kRoot,
  kMsgFolderRoot,
  kInbox,
  kSentItems,
  kDeletedItems,
  kDrafts,
  kJunkEmail,
  kOutbox,
};

// The EWS DistinguishedFolderId name ("msgfolderroot", "inbox", ...), also Graph's well-known name.
const char* ToString(DistinguishedFolder folder);
// The inverse of ToString, case-insensitive; nullopt for other names.
std::optional<DistinguishedFolder> ParseDistinguishedFolder(std::string_view name);

// A folder as callers see it (a copy).
struct Folder {
  std::string id;          // opaque, stable for the life of the folder (also across moves)
  std::string change_key;  // changes whenever a property below changes
  std::string parent_id;   // empty for the root
  std::string mailbox;     // the owning mailbox's primary SMTP address
  std::string display_name;
  std::string folder_class;  // "IPF.Note" for mail folders; empty for root and msgfolderroot
  std::optional<DistinguishedFolder> distinguished;
  std::size_t child_folder_count = 0;
  std::size_t total_count = 0;
  std::size_t unread_count = 0;
};

// A message as callers see it (a copy; the MIME bytes are shared and immutable).
struct Item {
  std::string id;          // opaque, stable until the item is moved or deleted
  std::string change_key;  // changes on every update and move
  std::string parent_folder_id;
  std::string mailbox;                      // the owning mailbox's primary SMTP address
  std::shared_ptr<const std::string> mime;  // the RFC 5322 bytes, verbatim; never null
  MessageFields fields;                     // extracted from `mime` when the item was stored
  std::size_t size = 0;                     // MIME bytes
  SystemTime date_time_received{};          // the store clock when it was delivered or created
  SystemTime date_time_created{};           // the store clock when this copy was made
  bool is_read = false;
  bool is_draft = false;
  std::vector<std::string> categories;
  Importance importance = Importance::kNormal;
};

// Options of CreateItem (items a client saves rather than mail that arrives).
struct NewItemOptions {
  bool is_read = true;
  bool is_draft = false;
  std::vector<std::string> categories;
  std::optional<Importance> importance;  // empty: from the MIME headers
};

// The properties UpdateItem may set; absent ones stay as they are.
struct ItemUpdate {
  std::optional<bool> is_read;
  std::optional<std::vector<std::string>> categories;
  std::optional<Importance> importance;
};

// DeleteItem's modes, as EWS DeleteType names them. kHardDelete and kSoftDelete both remove the
// item (soft-deleted items are not recoverable here); kMoveToDeletedItems moves it to Deleted
// Items (new id), or soft-deletes it when it is already there.
enum class DeleteMode { kHardDelete, kSoftDelete, kMoveToDeletedItems };

enum class SortOrder {
  kReceivedAscending,   // oldest DateTimeReceived first; ties: created first
  kReceivedDescending,  // newest DateTimeReceived first; ties: created last first
};

// A FindItems view. The filter sees a snapshot of each item and runs under the store's lock: it
// must be cheap and must not call back into the store.
struct ItemView {
  std::function<bool(const Item&)> filter;  // empty: every item
  SortOrder sort = SortOrder::kReceivedDescending;
  std::size_t offset = 0;
  std::size_t max_count = SIZE_MAX;
};

// One page of a view. total_count counts the items that pass the filter; includes_last is true
// when the page reaches the end (EWS IncludesLastItemInRange, IndexedPagingOffset = next_offset).
struct ItemPage {
  std::vector<Item> items;
  std::size_t total_count = 0;
  std::size_t next_offset = 0;
  bool includes_last = true;
};

// One change reported by SyncFolderItems, collapsed per item.
enum class SyncChangeKind { kCreate, kUpdate, kReadFlagChange, kDelete };
struct SyncChange {
  SyncChangeKind kind = SyncChangeKind::kCreate;
  std::string item_id;
  std::optional<Item> item;  // the current item; absent for kDelete
};

// A SyncFolderItems answer: the changes, the state to send next time, and whether the client has
// caught up (EWS IncludesLastItemInRange).
struct SyncBatch {
  std::vector<SyncChange> changes;
  std::string sync_state;
  bool includes_last_item_in_range = true;
};

// Notification event types, as EWS names them (Graph change notifications map onto them).
enum class EventType { kNewMail, kCreated, kDeleted, kModified, kMoved, kCopied };

// One notification event. Item events carry item ids; folder events (a child folder created,
// deleted, moved or renamed) set is_folder and carry folder ids.
struct MailboxEvent {
  EventType type = EventType::kCreated;
  std::string watermark;  // resume point just after this event
  SystemTime timestamp{};
  bool is_folder = false;
  std::string id;  // item or folder id (after a move: the new one)
  std::string parent_folder_id;
  std::string old_id;                // kMoved, kCopied: the source item (for folders: empty)
  std::string old_parent_folder_id;  // kMoved, kCopied: the source folder
};

// What Subscribe needs. The folders all belong to `mailbox`; all_folders also covers folders
// created later. An empty event set means every type. An empty watermark starts at "now".
// idle_timeout (pull subscriptions) expires the subscription when neither GetEvents nor
// WaitForEvents touches it for that long.
struct SubscriptionSpec {
  std::string mailbox;
  std::vector<std::string> folder_ids;
  bool all_folders = false;
  std::set<EventType> event_types;
  std::string watermark;
  std::optional<Duration> idle_timeout;
};

struct Subscription {
  std::string id;
  std::string watermark;
};

// A batch of events: from previous_watermark (exclusive) to watermark (inclusive); more_events is
// true when GetEvents stopped at max_events.
struct EventBatch {
  std::vector<MailboxEvent> events;
  std::string previous_watermark;
  std::string watermark;
  bool more_events = false;
};

struct StoreOptions {
  std::size_t max_mime_bytes = kDefaultMaxMimeBytes;
};

// MailboxStore is the whole mailbox model of a mock Exchange: organizations, mailboxes, folder
// trees, messages and a per-mailbox change log with sequence numbers, from which sync states,
// notification watermarks and events are derived.
//
// Ownership: the store references `clock` and `random`, which must outlive it. Everything it
// returns is a copy. Thread-safety: every method may be called from any thread; one internal
// mutex serializes them, and waiters block on the clock, not on that mutex.
// Determinism: given the same `random` seed, the same clock readings and the same sequence of
// calls, every id, change key, sync state, watermark and composed MIME is byte-identical.
//
// Ids are standard base64 of (kind, mailbox, number) with a keyed MAC from a per-store secret:
// ids of another store, edited or truncated ids are ErrorInvalidIdMalformed; ids of deleted
// things are ErrorItemNotFound / ErrorFolderNotFound. Item ids are stable until a move (which
// gives the item a new id, as Exchange's MoveItem does); change keys follow Exchange's 40-character
// shape (class, length 22, mailbox GUID, 48-bit change number).
class MailboxStore {
 public:
  MailboxStore(Clock& clock, Random& random, StoreOptions options = {});
  ~MailboxStore();
  MailboxStore(const MailboxStore&) = delete;
  MailboxStore& operator=(const MailboxStore&) = delete;

  // ---- Organizations and mailboxes ----

  // Adds a tenant. `id` must be a GUID (any case; kept lower-case). Errors: kInvalidMailboxSpec,
  // kOrganizationExists.
  Result<Organization> CreateOrganization(std::string_view id, std::string_view name);
  // Removes a tenant with all its mailboxes (and their subscriptions). Error:
  // kOrganizationNotFound.
  Result<void> RemoveOrganization(std::string_view id);
  std::vector<Organization> ListOrganizations() const;

  // Creates a mailbox with its distinguished folders. Errors: kOrganizationNotFound;
  // kInvalidMailboxSpec (an address that is not local@domain, a malformed GUID);
  // kProxyAddressExists (an SMTP address, UPN or GUID another mailbox already has).
  Result<Mailbox> CreateMailbox(const MailboxSpec& spec);
  // Removes a mailbox (any key ResolveMailbox accepts) with its folders, items and
  // subscriptions; its ids stop resolving. Error: kNonExistentMailbox.
  Result<void> RemoveMailbox(std::string_view mailbox);
  // Finds a mailbox; SMTP addresses and UPNs compare case-insensitively. Error:
  // kNonExistentMailbox.
  Result<Mailbox> ResolveMailbox(std::string_view key, MailboxKey how = MailboxKey::kAny) const;
  // Every mailbox (of one organization when `organization_id` is not empty), in creation order.
  std::vector<Mailbox> ListMailboxes(std::string_view organization_id = {}) const;
  // The mailbox an item or folder id belongs to, so a facade can check the caller may use it.
  // Errors: kInvalidIdMalformed; kNonExistentMailbox when the mailbox is gone.
  Result<Mailbox> MailboxOfId(std::string_view item_or_folder_id) const;

  // ---- Folders ----

  // Errors: kInvalidIdMalformed, kItemIdForFolderId, kFolderNotFound.
  Result<Folder> GetFolder(std::string_view folder_id) const;
  // Error: kNonExistentMailbox.
  Result<Folder> GetDistinguishedFolder(std::string_view mailbox, DistinguishedFolder which) const;
  // The direct children of a folder (deep: the whole subtree, depth first), in creation order.
  Result<std::vector<Folder>> ListChildFolders(std::string_view folder_id, bool deep = false) const;
  // Creates a folder under any folder. Errors: those of GetFolder; kFolderExists when the parent
  // has a child with the same name (case-insensitive); kInvalidArgument for an empty name.
  Result<Folder> CreateFolder(std::string_view parent_folder_id, std::string_view display_name,
                              std::string_view folder_class = "IPF.Note");
  // Renames a custom folder. Errors: those of CreateFolder; kInvalidArgument for a distinguished
  // folder.
  Result<Folder> RenameFolder(std::string_view folder_id, std::string_view display_name);
  // Moves a custom folder (id unchanged). Errors: kMoveDistinguishedFolder; kToFolderNotFound;
  // kMoveCopyFailed when the target is the folder itself or inside it; kCrossMailboxMoveCopy;
  // kFolderExists.
  Result<Folder> MoveFolder(std::string_view folder_id, std::string_view to_folder_id);
  // Deletes a custom folder with its subfolders and items (hard delete). Errors: those of
  // GetFolder; kDeleteDistinguishedFolder.
  Result<void> DeleteFolder(std::string_view folder_id);

  // ---- Items ----

  // Puts arriving mail into a folder: unread, DateTimeReceived = now, a NewMail event. Errors:
  // those of GetFolder; kMessageSizeExceeded, kMimeContentInvalid.
  Result<Item> DeliverItem(std::string_view folder_id, std::string mime);
  // DeliverItem into the mailbox's Inbox. Error: kNonExistentMailbox, and those of DeliverItem.
  Result<Item> DeliverToInbox(std::string_view mailbox, std::string mime);
  // Saves an item a client creates (draft, sent copy). Errors: those of DeliverItem.
  Result<Item> CreateItem(std::string_view folder_id, std::string mime,
                          const NewItemOptions& options = {});
  // Composes MIME for `draft` with Date = the store clock and a Message-ID generated from the
  // store's Random ("<32 hex digits@domain of From>"). Thread-safe; deterministic.
  std::string ComposeMime(const MessageDraft& draft);

  // Errors: kInvalidIdMalformed, kFolderIdForItemId, kItemNotFound.
  Result<Item> GetItem(std::string_view item_id) const;
  // Checks that `change_key` is the item's current one. Errors: those of GetItem;
  // kInvalidChangeKey when it is not a change key; kIrresolvableConflict when it is stale.
  Result<void> CheckChangeKey(std::string_view item_id, std::string_view change_key) const;
  // Applies `update`; a change bumps the change key and logs one change (read-flag-only changes
  // are logged as such). An update that changes nothing leaves the item untouched. When
  // `expected_change_key` is not empty it is checked atomically first (as CheckChangeKey).
  // Errors: those of CheckChangeKey.
  Result<Item> UpdateItem(std::string_view item_id, const ItemUpdate& update,
                          std::string_view expected_change_key = {});
  // Moves an item to another folder of the same mailbox; it gets a new id and change key. Moving
  // to its own folder returns it unchanged. Errors: those of GetItem; kInvalidIdMalformed,
  // kToFolderNotFound, kCrossMailboxMoveCopy.
  Result<Item> MoveItem(std::string_view item_id, std::string_view to_folder_id);
  // Copies an item (new id, same MIME, flags and DateTimeReceived). Errors: those of MoveItem.
  Result<Item> CopyItem(std::string_view item_id, std::string_view to_folder_id);
  // Deletes an item as `mode` says. Errors: those of GetItem.
  Result<void> DeleteItem(std::string_view item_id, DeleteMode mode);

  // A page of a folder's items. Errors: those of GetFolder.
  Result<ItemPage> FindItems(std::string_view folder_id, const ItemView& view) const;

  // ---- Change log: sync ----

  // The changes to a folder's items since `sync_state` (empty: from the beginning, every current
  // item as kCreate), at most `max_changes` (1..512), collapsed per item as SyncFolderItems does:
  // created and later changed since the state -> one kCreate with the current item; created and
  // deleted -> nothing; changed and deleted -> kDelete; only read-flag changes -> kReadFlagChange.
  // Each item reports its current state, so when a batch ends (includes_last_item_in_range
  // false) an item touched in it and again later may be reported again in a later batch (a
  // repeated kUpdate, or a kDelete for an item an earlier batch skipped as gone).
  // Items whose ids are in `ignore` are left out. Errors: those of GetFolder; kInvalidArgument
  // for max_changes out of range; kInvalidSyncStateData for a state that is malformed, tampered
  // with, of another store, mailbox or folder.
  Result<SyncBatch> SyncFolderItems(std::string_view folder_id, std::string_view sync_state,
                                    int max_changes,
                                    const std::vector<std::string>& ignore = {}) const;

  // ---- Change log: notifications ----

  // The mailbox's current watermark: GetEvents from it returns only later events.
  // Error: kNonExistentMailbox.
  Result<std::string> CurrentWatermark(std::string_view mailbox) const;
  // Subscribes to events in a set of folders. Errors: kNonExistentMailbox; those of GetFolder;
  // kInvalidArgument when a folder belongs to another mailbox or no folder is named;
  // kInvalidWatermark for a watermark that is not this mailbox's.
  Result<Subscription> Subscribe(const SubscriptionSpec& spec);
  // Errors: kInvalidSubscription (malformed id), kSubscriptionNotFound.
  Result<void> Unsubscribe(std::string_view subscription_id);
  // Events after `watermark` (empty: the subscription's cursor, i.e. where the last GetEvents
  // stopped), at most `max_events` (at least 1; the events of one change are never split). The
  // subscription's cursor moves to the returned watermark. Errors: kInvalidSubscription,
  // kSubscriptionNotFound, kExpiredSubscription, kInvalidWatermark, kInvalidArgument.
  Result<EventBatch> GetEvents(std::string_view subscription_id, std::string_view watermark = {},
                               std::size_t max_events = 100);
  // Blocks on the store clock until the subscription has events after its cursor (true) or
  // `deadline` passes (false). Wakes when any store change is published (Clock::Notify), so a
  // simulated clock's AwaitWaiters sees the waiter parked. Errors: those of GetEvents, also when
  // the subscription is removed while waiting.
  Result<bool> WaitForEvents(std::string_view subscription_id, MonoTime deadline);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace exo::mock_ews
