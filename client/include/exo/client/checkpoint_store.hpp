// The monitor's durable state: per mailbox and folder a lease, the sync state and one row per
// message (seen -> handed -> disposed), committed atomically so a crash at any instant loses
// nothing.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// Which mailbox folder a checkpoint belongs to.
struct FolderKey {
  std::string mailbox;  // SMTP address, lower-case
  std::string folder;   // the configured folder name ("inbox")
};

enum class MessageState { kSeen, kHanded, kDisposed };

// One message the monitor knows about. idempotency_key is what the handler sees: derived from the
// Internet Message-ID (or the first item id when there is none), stable across restarts, moves and
// transports.
struct MessageRecord {
  std::string idempotency_key;
  std::string item_id;  // the current transport id
  std::string internet_message_id;
  MessageState state = MessageState::kSeen;
  int attempts = 0;        // hand-over or disposition attempts that failed
  std::string last_error;  // the last failure's Describe()
  SystemTime seen_at{};
};

// Who holds a folder's lease.
struct LeaseHolder {
  std::string owner;  // "host:pid:project"
  SystemTime expires{};
};

// Thread-compatible (one monitor). Errors: kInternal for I/O (SQLITE_IOERR, SQLITE_FULL), with the
// database path and the SQLite message; the store is unchanged after a failed call.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  // Takes or renews the lease; Error (kConfiguration "LeaseHeld") names the holder when another
  // owner's lease has not expired (the seed: one mailbox per project).
  virtual Result<void> AcquireLease(const FolderKey& key, const std::string& owner, SystemTime now,
                                    Duration ttl) = 0;
  virtual Result<void> ReleaseLease(const FolderKey& key, const std::string& owner) = 0;

  virtual Result<std::string> SyncState(const FolderKey& key) = 0;
  // In one transaction: the new sync state and every new message as kSeen (keys already known are
  // left alone, with their item id updated). Nothing is written when it fails.
  virtual Result<void> CommitSyncBatch(const FolderKey& key, const std::string& sync_state,
                                       const std::vector<MessageRecord>& new_messages) = 0;
  // Drops the sync state only (ErrorInvalidSyncStateData): messages stay, so a full resync hands
  // nothing twice.
  virtual Result<void> ResetSyncState(const FolderKey& key) = 0;

  // Messages in `state`, oldest first.
  virtual Result<std::vector<MessageRecord>> Messages(const FolderKey& key, MessageState state,
                                                      std::size_t limit) = 0;
  // How many messages are in `state`, without reading them (a dashboard's or a probe's question
  // asked every poll: a list of 100,000 rows each time would cost what the poll saves). The
  // default counts what Messages returns; the stores that ship answer from their index.
  virtual Result<std::size_t> Count(const FolderKey& key, MessageState state);
  virtual Result<std::optional<MessageRecord>> Find(const FolderKey& key,
                                                    const std::string& idempotency_key) = 0;
  // Moves one message to `state` (and its new item id, e.g. after a move). Durable on return.
  virtual Result<void> SetState(const FolderKey& key, const std::string& idempotency_key,
                                MessageState state, const std::string& item_id = {}) = 0;
  virtual Result<void> RecordFailure(const FolderKey& key, const std::string& idempotency_key,
                                     const std::string& error) = 0;
};

// SQLite in WAL mode with synchronous=FULL, schema-versioned; the file is created with mode 0600.
Result<std::unique_ptr<CheckpointStore>> OpenSqliteCheckpointStore(
    const std::filesystem::path& file);
// For tests of the monitor's logic; the conformance suite runs against both.
std::unique_ptr<CheckpointStore> MakeMemoryCheckpointStore();

}  // namespace exo::client
