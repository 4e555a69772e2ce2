// The one interface through which the monitor reads and changes a mailbox, whatever the protocol:
// EWS (Exchange Online and on-premises) or Microsoft Graph (Exchange Online). Ids and sync states
// are opaque strings of the transport that produced them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// A message as the application gets it.
struct MailMessage {
  std::string id;                   // the transport's item id (changes when the item moves)
  std::string change_key;           // EWS ChangeKey / Graph changeKey
  std::string internet_message_id;  // RFC 5322 Message-ID: stable across transports and moves
  std::string subject;
  std::string from;  // SMTP address
  SystemTime received{};
  bool is_read = false;
  std::size_t size = 0;
  std::string mime;  // the RFC 5322 bytes (filled by FetchMessages)
};

// What changed in a folder since a sync state, as the server reports it (after collapsing).
struct FolderChange {
  enum class Kind { kCreated, kUpdated, kReadFlagChanged, kDeleted } kind = Kind::kCreated;
  MailMessage message;  // kDeleted: only id
};

struct SyncPage {
  std::vector<FolderChange> changes;
  std::string sync_state;  // to pass next time; store it with the changes, atomically
  bool more = false;       // call again at once: the server has more changes
};

// Which transport served, for the doctor ("EWS at https://..., Exchange Online").
struct TransportInfo {
  std::string protocol;  // "EWS" or "Graph"
  std::string endpoint;
  std::string server_version;  // EWS ServerVersionInfo Version, when known
  bool exchange_online = true;
  // Why this transport serves the mailbox ("EmailIntegrationTransport=auto: autodiscover says
  // Exchange Online"), when a router chose it.
  std::string reason;
  // Messages FetchMessages reads per round trip; 0: any number at once (EWS GetItem). Graph reads
  // each with two requests, so the monitor hands each over before reading the next: a throttle or
  // a failure halfway through a burst then keeps what was already handed.
  std::size_t messages_per_fetch = 0;
};

// Errors are exo::Error with the service's code (ErrorInvalidSyncStateData, ErrorServerBusy,
// ErrorAccessDenied, ErrorNonExistentMailbox, HTTP 401/403...) and category; throttling errors
// carry retry_after. Implementations retry nothing themselves except one token refresh after a 401:
// the monitor owns retry policy. Thread-compatible: one monitor uses one transport at a time.
class MailboxTransport {
 public:
  virtual ~MailboxTransport() = default;

  virtual TransportInfo Info() const = 0;
  // Resolves the folder the monitor watches ("inbox", or a path under msgfolderroot) to an id, and
  // checks it can be read: the doctor's "the mailbox can be impersonated, the folder is readable".
  virtual Result<std::string> ResolveFolder(const std::string& name, bool create_if_missing) = 0;
  // Changes since `sync_state` (empty: every current message as kCreated), at most `max_changes`.
  // ErrorInvalidSyncStateData: the state is no longer valid; start again from empty.
  virtual Result<SyncPage> SyncFolder(const std::string& folder_id, const std::string& sync_state,
                                      int max_changes) = 0;
  // The full messages (with MIME) for `ids`, in order; missing ones (deleted meanwhile) are left
  // out rather than failing the batch.
  virtual Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) = 0;
  virtual Result<void> MarkRead(const std::string& id) = 0;
  // Returns the id the message has in the target folder.
  virtual Result<std::string> Move(const std::string& id, const std::string& folder_id) = 0;
  virtual Result<void> Delete(const std::string& id) = 0;
  // Replies to the sender, saving a copy in Sent Items.
  virtual Result<void> Reply(const std::string& id, const std::string& body_text) = 0;
  // Starts server notifications for the folder (EWS: a streaming subscription, reconnected as it
  // times out); `on_change` runs on a transport thread whenever the server signals a change, and
  // must only wake the monitor. Returns false, not an error, when the transport has none: the
  // monitor then polls. Stopped by StopWatching or the destructor.
  virtual Result<bool> Watch(const std::string& folder_id, std::function<void()> on_change) = 0;
  virtual void StopWatching() = 0;
};

}  // namespace exo::client
