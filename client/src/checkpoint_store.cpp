#include "exo/client/checkpoint_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

namespace exo::client {

namespace {

constexpr int kSchemaVersion = 1;

std::int64_t Ticks(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
SystemTime FromTicks(std::int64_t us) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::microseconds(us)));
}

Error LeaseHeldError(const FolderKey& key, const LeaseHolder& holder) {
  Error e;
  e.category = ErrorCategory::kConfiguration;
  e.code = "LeaseHeld";
  e.message = "the mailbox folder " + key.mailbox + "/" + key.folder + " is monitored by " +
              holder.owner + " (lease until " + std::to_string(Ticks(holder.expires)) + " us)";
  e.remedy =
      "one mailbox per project (seed prerequisites): stop the other monitor or give this "
      "project its own mailbox";
  return e;
}

// ---- SQLite ----

// SQLite's own name for the codes an operator meets (logs and search engines know them by name);
// others by number.
std::string SqliteCodeName(int code) {
  static const std::map<int, const char*> kNames = {
      {SQLITE_BUSY, "SQLITE_BUSY"},
      {SQLITE_LOCKED, "SQLITE_LOCKED"},
      {SQLITE_NOMEM, "SQLITE_NOMEM"},
      {SQLITE_READONLY, "SQLITE_READONLY"},
      {SQLITE_IOERR, "SQLITE_IOERR"},
      {SQLITE_CORRUPT, "SQLITE_CORRUPT"},
      {SQLITE_FULL, "SQLITE_FULL"},
      {SQLITE_CANTOPEN, "SQLITE_CANTOPEN"},
      {SQLITE_PERM, "SQLITE_PERM"},
      {SQLITE_NOTADB, "SQLITE_NOTADB"},
      {SQLITE_IOERR_READ, "SQLITE_IOERR_READ"},
      {SQLITE_IOERR_SHORT_READ, "SQLITE_IOERR_SHORT_READ"},
      {SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE"},
      {SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC"},
      {SQLITE_IOERR_TRUNCATE, "SQLITE_IOERR_TRUNCATE"},
      {SQLITE_IOERR_FSTAT, "SQLITE_IOERR_FSTAT"},
      {SQLITE_IOERR_NOMEM, "SQLITE_IOERR_NOMEM"},
      {SQLITE_IOERR_SHMOPEN, "SQLITE_IOERR_SHMOPEN"},
      {SQLITE_IOERR_SHMSIZE, "SQLITE_IOERR_SHMSIZE"},
      {SQLITE_IOERR_SHMMAP, "SQLITE_IOERR_SHMMAP"},
      {SQLITE_READONLY_DBMOVED, "SQLITE_READONLY_DBMOVED"},
  };
  if (auto it = kNames.find(code); it != kNames.end()) return it->second;
  return "SQLITE_" + std::to_string(code);
}

// What fixes an environment failure under the checkpoint; every one of them leaves the store as it
// was before the failed call, so the monitor picks up where it stopped once it is fixed.
std::string SqliteRemedy(int code, const std::filesystem::path& file) {
  const std::string resumes = "; the monitor retries with back-off and resumes where it stopped";
  switch (code & 0xff) {
    case SQLITE_FULL:
      return "the file system holding the checkpoint database " + file.string() +
             " is full: free space there (the database and its -wal file grow with the mailbox)" +
             resumes;
    case SQLITE_IOERR:
      return "the storage holding the checkpoint database " + file.string() +
             " reported an I/O error: check the disk and the system log (dmesg)" + resumes +
             " once it can write; if the errors persist, move the database with its -wal file to "
             "healthy storage (EmailIntegrationStateDir) while the monitor is stopped";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return "the checkpoint database " + file.string() + " and its directory " +
             file.parent_path().string() +
             " must be writable by this process (the -wal and -shm files live beside it), on a "
             "file system not mounted read-only" +
             resumes;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "the checkpoint database " + file.string() +
             " is damaged: stop the monitor and restore it from a backup, or move it (with its "
             "-wal and -shm files) away to start over from the mailbox's unread mail";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "another process holds the checkpoint database " + file.string() +
             " locked for too long: one monitor per state directory" + resumes;
    default:
      return "check free disk space and permissions of the checkpoint database " + file.string() +
             resumes;
  }
}

// One use of a prepared statement: its own (finalized after), or one the store keeps prepared
// (reset after, so no read transaction outlives the call and no binding leaks into the next).
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : owned_(true) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  explicit Statement(sqlite3_stmt* kept) : stmt_(kept), rc_(kept ? SQLITE_OK : SQLITE_ERROR) {}
  ~Statement() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
  bool owned_ = false;
};

class SqliteStore final : public CheckpointStore {
 public:
  SqliteStore(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  ~SqliteStore() override {
    for (auto& [sql, stmt] : prepared_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // The statement for `sql`, prepared once per store: a message takes a handful of statements,
  // and compiling each anew showed in the ingest profile (docs/BENCHMARKS.md, P4). A failed
  // prepare is not kept; the returned Statement reports it (ok() false) to the caller's DbError.
  Statement Prepare(const char* sql) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return Statement(nullptr);
      }
      it = prepared_.emplace(sql, stmt).first;
    }
    return Statement(it->second);
  }

  Error DbError(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db_);
    Error e;
    e.category = ErrorCategory::kInternal;
    e.code = SqliteCodeName(code);
    e.message = what + " failed on " + file_.string() + ": " + sqlite3_errmsg(db_);
    e.remedy = SqliteRemedy(code, file_);
    return e;
  }

  Result<void> Exec(const char* sql, const std::string& what) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      sqlite3_free(message);
      return std::unexpected(DbError(what));
    }
    return {};
  }

  // Runs `body` in BEGIN IMMEDIATE ... COMMIT; rolls back when it fails.
  template <class F>
  Result<void> Transaction(const std::string& what, F&& body) {
    if (auto ok = Exec("BEGIN IMMEDIATE", what); !ok) return ok;
    Result<void> r = body();
    if (r) r = Exec("COMMIT", what);
    if (!r) {
      // Keep the first error: the rollback's own failure says less.
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return r;
  }

  Result<void> Run(Statement& s, const std::string& what) {
    if (!s.ok()) return std::unexpected(DbError(what));
    const int rc = s.Step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return std::unexpected(DbError(what));
    return {};
  }

  Result<void> EnsureFolder(const FolderKey& key) {
    Statement s = Prepare("INSERT OR IGNORE INTO folders(mailbox, folder) VALUES(?1, ?2)");
    s.Bind(1, key.mailbox).Bind(2, key.folder);
    return Run(s, "creating the folder checkpoint");
  }

  Result<void> AcquireLease(const FolderKey& key, const std::string& owner, SystemTime now,
                            Duration ttl) override {
    std::optional<Error> held;
    auto r = Transaction("taking the lease", [&]() -> Result<void> {
      if (auto ok = EnsureFolder(key); !ok) return ok;
      Statement q =
          Prepare("SELECT lease_owner, lease_expires FROM folders WHERE mailbox=?1 AND folder=?2");
      q.Bind(1, key.mailbox).Bind(2, key.folder);
      if (!q.ok() || q.Step() != SQLITE_ROW) return std::unexpected(DbError("reading the lease"));
      const std::string holder = q.Text(0);
      const SystemTime expires = FromTicks(q.Int(1));
      if (!holder.empty() && holder != owner && expires > now) {
        held = LeaseHeldError(key, {holder, expires});
        return {};
      }
      Statement u = Prepare(
          "UPDATE folders SET lease_owner=?3, lease_expires=?4 WHERE mailbox=?1 AND folder=?2");
      u.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, owner).Bind(4, Ticks(now + ttl));
      return Run(u, "taking the lease");
    });
    if (!r) return r;
    if (held) return std::unexpected(*held);
    return {};
  }

  Result<void> ReleaseLease(const FolderKey& key, const std::string& owner) override {
    Statement u = Prepare(
        "UPDATE folders SET lease_owner='', lease_expires=0 "
        "WHERE mailbox=?1 AND folder=?2 AND lease_owner=?3");
    u.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, owner);
    return Run(u, "releasing the lease");
  }

  Result<std::string> SyncState(const FolderKey& key) override {
    Statement q = Prepare("SELECT sync_state FROM folders WHERE mailbox=?1 AND folder=?2");
    q.Bind(1, key.mailbox).Bind(2, key.folder);
    if (!q.ok()) return std::unexpected(DbError("reading the sync state"));
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return std::unexpected(DbError("reading the sync state"));
    return q.Text(0);
  }

  Result<void> CommitSyncBatch(const FolderKey& key, const std::string& sync_state,
                               const std::vector<MessageRecord>& new_messages) override {
    return Transaction("committing a sync batch", [&]() -> Result<void> {
      if (auto ok = EnsureFolder(key); !ok) return ok;
      for (const MessageRecord& m : new_messages) {
        // A message already known (a resync, or a move) keeps its state; only its id follows.
        Statement s = Prepare(
            "INSERT INTO messages(mailbox, folder, idempotency_key, item_id, "
            "internet_message_id, state, attempts, last_error, seen_at) "
            "VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, '', ?6) "
            "ON CONFLICT(mailbox, folder, idempotency_key) DO UPDATE SET item_id=?4");
        s.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, m.idempotency_key).Bind(4, m.item_id);
        s.Bind(5, m.internet_message_id).Bind(6, Ticks(m.seen_at));
        if (auto ok = Run(s, "recording a message"); !ok) return ok;
      }
      Statement u = Prepare("UPDATE folders SET sync_state=?3 WHERE mailbox=?1 AND folder=?2");
      u.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, sync_state);
      return Run(u, "storing the sync state");
    });
  }

  Result<void> ResetSyncState(const FolderKey& key) override {
    Statement u = Prepare("UPDATE folders SET sync_state='' WHERE mailbox=?1 AND folder=?2");
    u.Bind(1, key.mailbox).Bind(2, key.folder);
    return Run(u, "resetting the sync state");
  }

  static MessageRecord Row(const Statement& q) {
    MessageRecord m;
    m.idempotency_key = q.Text(0);
    m.item_id = q.Text(1);
    m.internet_message_id = q.Text(2);
    m.state = static_cast<MessageState>(q.Int(3));
    m.attempts = static_cast<int>(q.Int(4));
    m.last_error = q.Text(5);
    m.seen_at = FromTicks(q.Int(6));
    return m;
  }

  Result<std::vector<MessageRecord>> Messages(const FolderKey& key, MessageState state,
                                              std::size_t limit) override {
    Statement q = Prepare(
        "SELECT idempotency_key, item_id, internet_message_id, state, attempts, "
        "last_error, seen_at FROM messages WHERE mailbox=?1 AND folder=?2 AND state=?3 "
        "ORDER BY seq LIMIT ?4");
    q.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, static_cast<std::int64_t>(state));
    q.Bind(4, static_cast<std::int64_t>(limit));
    if (!q.ok()) return std::unexpected(DbError("listing messages"));
    std::vector<MessageRecord> out;
    for (int rc = q.Step(); rc != SQLITE_DONE; rc = q.Step()) {
      if (rc != SQLITE_ROW) return std::unexpected(DbError("listing messages"));
      out.push_back(Row(q));
    }
    return out;
  }

  Result<std::size_t> Count(const FolderKey& key, MessageState state) override {
    Statement q =
        Prepare("SELECT COUNT(*) FROM messages WHERE mailbox=?1 AND folder=?2 AND state=?3");
    q.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, static_cast<std::int64_t>(state));
    if (!q.ok() || q.Step() != SQLITE_ROW) return std::unexpected(DbError("counting messages"));
    return static_cast<std::size_t>(q.Int(0));
  }

  Result<std::optional<MessageRecord>> Find(const FolderKey& key,
                                            const std::string& idempotency_key) override {
    Statement q = Prepare(
        "SELECT idempotency_key, item_id, internet_message_id, state, attempts, "
        "last_error, seen_at FROM messages WHERE mailbox=?1 AND folder=?2 AND "
        "idempotency_key=?3");
    q.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, idempotency_key);
    if (!q.ok()) return std::unexpected(DbError("finding a message"));
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<MessageRecord>();
    if (rc != SQLITE_ROW) return std::unexpected(DbError("finding a message"));
    return std::optional<MessageRecord>(Row(q));
  }

  Result<void> SetState(const FolderKey& key, const std::string& idempotency_key,
                        MessageState state, const std::string& item_id) override {
    Statement u = Prepare(
        "UPDATE messages SET state=?4, attempts=0, last_error='', "
        "item_id=CASE WHEN ?5='' THEN item_id ELSE ?5 END "
        "WHERE mailbox=?1 AND folder=?2 AND idempotency_key=?3");
    u.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, idempotency_key);
    u.Bind(4, static_cast<std::int64_t>(state)).Bind(5, item_id);
    // A disposition's commit need not wait for the disk: losing it (power loss, not a crash: the
    // WAL is written either way) leaves the message handed, and the next start applies the
    // disposition again, as after a crash just before this commit. The next synced commit (WAL
    // frames are appended in order) makes it durable too. This halves the fsyncs per message.
    const bool lazy = state == MessageState::kDisposed;
    if (lazy) {
      if (auto ok = Exec("PRAGMA synchronous=NORMAL", "recording a disposition"); !ok) return ok;
    }
    auto ran = Run(u, "recording a message's progress");
    if (lazy) {
      if (auto ok = Exec("PRAGMA synchronous=FULL", "recording a disposition"); !ok) return ok;
    }
    if (!ran) return ran;
    if (sqlite3_changes(db_) == 0) {
      return Fail(ErrorCategory::kNotFound, "UnknownMessage",
                  "no checkpoint row for message " + idempotency_key);
    }
    return {};
  }

  Result<void> RecordFailure(const FolderKey& key, const std::string& idempotency_key,
                             const std::string& error) override {
    Statement u = Prepare(
        "UPDATE messages SET attempts=attempts+1, last_error=?4 "
        "WHERE mailbox=?1 AND folder=?2 AND idempotency_key=?3");
    u.Bind(1, key.mailbox).Bind(2, key.folder).Bind(3, idempotency_key).Bind(4, error);
    return Run(u, "recording a failure");
  }

 private:
  sqlite3* db_;
  std::filesystem::path file_;
  std::unordered_map<std::string, sqlite3_stmt*> prepared_;
};

// ---- In memory ----

class MemoryStore final : public CheckpointStore {
 public:
  struct FolderState {
    std::string sync_state;
    LeaseHolder lease;
    std::map<std::string, std::pair<std::uint64_t, MessageRecord>> messages;  // key -> (seq, row)
  };

  FolderState& At(const FolderKey& key) { return folders_[{key.mailbox, key.folder}]; }

  Result<void> AcquireLease(const FolderKey& key, const std::string& owner, SystemTime now,
                            Duration ttl) override {
    FolderState& f = At(key);
    if (!f.lease.owner.empty() && f.lease.owner != owner && f.lease.expires > now) {
      return std::unexpected(LeaseHeldError(key, f.lease));
    }
    f.lease = {owner, std::chrono::time_point_cast<SystemTime::duration>(now + ttl)};
    return {};
  }
  Result<void> ReleaseLease(const FolderKey& key, const std::string& owner) override {
    FolderState& f = At(key);
    if (f.lease.owner == owner) f.lease = {};
    return {};
  }
  Result<std::string> SyncState(const FolderKey& key) override { return At(key).sync_state; }
  Result<void> CommitSyncBatch(const FolderKey& key, const std::string& sync_state,
                               const std::vector<MessageRecord>& new_messages) override {
    FolderState& f = At(key);
    for (const MessageRecord& m : new_messages) {
      auto it = f.messages.find(m.idempotency_key);
      if (it != f.messages.end()) {
        it->second.second.item_id = m.item_id;
        continue;
      }
      MessageRecord row = m;
      row.state = MessageState::kSeen;
      row.attempts = 0;
      row.last_error.clear();
      f.messages.emplace(m.idempotency_key, std::pair{next_seq_++, row});
    }
    f.sync_state = sync_state;
    return {};
  }
  Result<void> ResetSyncState(const FolderKey& key) override {
    At(key).sync_state.clear();
    return {};
  }
  Result<std::vector<MessageRecord>> Messages(const FolderKey& key, MessageState state,
                                              std::size_t limit) override {
    std::vector<std::pair<std::uint64_t, MessageRecord>> rows;
    for (const auto& [k, row] : At(key).messages) {
      if (row.second.state == state) rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<MessageRecord> out;
    for (auto& r : rows) {
      if (out.size() >= limit) break;
      out.push_back(std::move(r.second));
    }
    return out;
  }
  Result<std::size_t> Count(const FolderKey& key, MessageState state) override {
    std::size_t n = 0;
    for (const auto& [k, row] : At(key).messages) n += row.second.state == state ? 1 : 0;
    return n;
  }
  Result<std::optional<MessageRecord>> Find(const FolderKey& key,
                                            const std::string& idempotency_key) override {
    auto& m = At(key).messages;
    auto it = m.find(idempotency_key);
    if (it == m.end()) return std::optional<MessageRecord>();
    return std::optional<MessageRecord>(it->second.second);
  }
  Result<void> SetState(const FolderKey& key, const std::string& idempotency_key,
                        MessageState state, const std::string& item_id) override {
    auto& m = At(key).messages;
    auto it = m.find(idempotency_key);
    if (it == m.end()) {
      return Fail(ErrorCategory::kNotFound, "UnknownMessage",
                  "no checkpoint row for message " + idempotency_key);
    }
    it->second.second.state = state;
    it->second.second.attempts = 0;
    it->second.second.last_error.clear();
    if (!item_id.empty()) it->second.second.item_id = item_id;
    return {};
  }
  Result<void> RecordFailure(const FolderKey& key, const std::string& idempotency_key,
                             const std::string& error) override {
    auto& m = At(key).messages;
    auto it = m.find(idempotency_key);
    if (it != m.end()) {
      ++it->second.second.attempts;
      it->second.second.last_error = error;
    }
    return {};
  }

 private:
  std::map<std::pair<std::string, std::string>, FolderState> folders_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace

Result<std::size_t> CheckpointStore::Count(const FolderKey& key, MessageState state) {
  auto rows = Messages(key, state, std::numeric_limits<std::size_t>::max());
  if (!rows) return std::unexpected(rows.error());
  return rows->size();
}

Result<std::unique_ptr<CheckpointStore>> OpenSqliteCheckpointStore(
    const std::filesystem::path& file) {
  // Created 0600 before SQLite opens it: the database names mailboxes and message ids.
  if (!std::filesystem::exists(file)) {
    const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(
          ErrorCategory::kConfiguration, "CheckpointUnavailable",
          "cannot create the checkpoint database " + file.string() + ": " + std::strerror(errno),
          "point EmailIntegrationStateDir at a writable directory");
    }
    ::close(fd);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Fail(ErrorCategory::kConfiguration, "CheckpointUnavailable",
                "cannot open the checkpoint database " + file.string() + ": " + message,
                "point EmailIntegrationStateDir at a writable directory");
  }
  auto store = std::make_unique<SqliteStore>(db, file);
  // Another process (the second monitor of a lease conflict) may hold the write lock briefly.
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (auto ok = store->Exec(pragma, "configuring the database"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  auto created = store->Exec(
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS folders(mailbox TEXT NOT NULL, folder TEXT NOT NULL,"
      " sync_state TEXT NOT NULL DEFAULT '', lease_owner TEXT NOT NULL DEFAULT '',"
      " lease_expires INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(mailbox, folder));"
      "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " mailbox TEXT NOT NULL, folder TEXT NOT NULL, idempotency_key TEXT NOT NULL,"
      " item_id TEXT NOT NULL, internet_message_id TEXT NOT NULL, state INTEGER NOT NULL,"
      " attempts INTEGER NOT NULL, last_error TEXT NOT NULL, seen_at INTEGER NOT NULL,"
      " UNIQUE(mailbox, folder, idempotency_key));"
      "CREATE INDEX IF NOT EXISTS messages_by_state ON messages(mailbox, folder, state, seq);"
      "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');",
      "creating the schema");
  if (!created) return std::unexpected(created.error());
  {
    Statement q(db, "SELECT value FROM meta WHERE key='schema_version'");
    if (!q.ok() || q.Step() != SQLITE_ROW)
      return std::unexpected(store->DbError("reading the schema version"));
    if (q.Text(0) != std::to_string(kSchemaVersion)) {
      return Fail(ErrorCategory::kConfiguration, "CheckpointSchema",
                  file.string() + " has schema version " + q.Text(0) + "; this client reads " +
                      std::to_string(kSchemaVersion),
                  "use the client version that wrote it, or move the file away to start over");
    }
  }
  return std::unique_ptr<CheckpointStore>(std::move(store));
}

std::unique_ptr<CheckpointStore> MakeMemoryCheckpointStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace exo::client
