// The exo-mailbox CLI's message handlers: run a command per message, or write .eml files. Both are
// idempotent from the application's side when it honours EXO_IDEMPOTENCY_KEY / the file name.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

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

// The file name DirectoryHandler uses for a key: readable characters kept, the rest replaced,
// plus a hash so distinct keys never collide.
std::string EmlFileName(const std::string& idempotency_key);

}  // namespace exo::client::cli
