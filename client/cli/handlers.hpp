// The exo-mailbox CLI's message handlers: run a command per message, or write .eml files. Both are
// idempotent from the application's side when it honours EXO_IDEMPOTENCY_KEY / the file name.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "exo/client/monitor.hpp"

namespace exo::client::cli {

// Runs `/bin/sh -c command` with the message's MIME on standard input and its metadata in the
// environment (EXO_IDEMPOTENCY_KEY, EXO_MESSAGE_ID, EXO_ITEM_ID, EXO_SUBJECT, EXO_FROM,
// EXO_RECEIVED, EXO_MAILBOX). Exit status 0 accepts the message; anything else, or running longer
// than `timeout` (the command is killed), refuses it and it is handed again later.
MessageHandler ExecHandler(std::string command, std::string mailbox, std::chrono::seconds timeout);

// Writes each message to `directory`/<name>.eml atomically (temporary file, fsync, rename), the
// name derived from the idempotency key, so handing a message twice rewrites the same file.
MessageHandler DirectoryHandler(std::filesystem::path directory);

// --events FILE: what the monitor does, as JSON lines appended to FILE and written out as they
// happen, for a runner that watches a client from outside (docs/client.md, "Running under
// exo-scenario out of process"). Thread-safe.
class EventLog {
 public:
  // Opens (creates) FILE for appending. Error (kConfiguration): it cannot be opened.
  static Result<std::shared_ptr<EventLog>> Open(const std::filesystem::path& file);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // {"event":"handed","key","subject","internetMessageId"}: the application accepted it.
  void Handed(const HandledMessage& h);
  // {"event":"status","phase","error":{"code","category","message","remedy"}|null,"handed"}, when
  // the phase, the error or the count differs from the last status written.
  void Status(std::string_view phase, const MonitorStatus& s);
  // {"event":"reloaded"} once an edited configuration is in force (the monitor was told to retry);
  // {"event":"reloadFailed","error":{…}} when an edit was refused (the old one stays).
  void Reloaded(const Result<bool>& outcome);

 private:
  explicit EventLog(int fd) : fd_(fd) {}
  void WriteLine(const std::string& line);

  int fd_;
  std::mutex mu_;
  std::optional<std::string> last_status_;
};

// `inner`, then a "handed" event for each message it accepted.
MessageHandler WithEvents(MessageHandler inner, std::shared_ptr<EventLog> events);

// The file name DirectoryHandler uses for a key: readable characters kept, the rest replaced,
// plus a hash so distinct keys never collide.
std::string EmlFileName(const std::string& idempotency_key);

}  // namespace exo::client::cli
