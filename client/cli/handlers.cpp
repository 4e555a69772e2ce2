// Handlers for exo-mailbox. The command runs through posix_spawn with a pidfd to wait on, so a
// hung command is killed at its timeout without polling.
#include "handlers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/time_format.hpp"

extern char** environ;

namespace exo::client::cli {

namespace {

Error HandlerError(std::string message) {
  Error e;
  e.category = ErrorCategory::kInternal;
  e.code = "HandlerFailed";
  e.message = std::move(message);
  e.remedy = "fix the handler; the message stays pending and is handed again after a back-off";
  return e;
}

// Environment values must not carry newlines or NULs a shell script would trip over.
std::string Flat(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  }
  return s;
}

// Writes all of `data` unless the reader went away (it need not read its input).
void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

Result<void> RunCommand(const std::string& command, const std::vector<std::string>& extra_env,
                        std::string_view input, std::chrono::seconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return std::unexpected(HandlerError(std::string("pipe: ") + std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  // The child starts with default signal handling whatever this process blocks or ignores.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "EXO_SECRET_KEY=", 15) == 0) continue;  // not the handler's business
    env_storage.emplace_back(*e);
  }
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};

  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    ::close(pipe_fds[1]);
    return std::unexpected(
        HandlerError("cannot run /bin/sh: " + std::string(std::strerror(spawned))));
  }
  WriteAll(pipe_fds[1], input);
  ::close(pipe_fds[1]);

  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool timed_out = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
    }
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return std::unexpected(HandlerError("the command ran longer than " +
                                        std::to_string(timeout.count()) +
                                        " s and was killed: " + command));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status)) {
    return std::unexpected(HandlerError("the command exited with status " +
                                        std::to_string(WEXITSTATUS(status)) + ": " + command));
  }
  return std::unexpected(HandlerError("the command was killed by signal " +
                                      std::to_string(WTERMSIG(status)) + ": " + command));
}

}  // namespace

MessageHandler ExecHandler(std::string command, std::string mailbox, std::chrono::seconds timeout) {
  return [command = std::move(command), mailbox = std::move(mailbox),
          timeout](const HandledMessage& h) -> Result<void> {
    const MailMessage& m = h.message;
    std::vector<std::string> env = {
        "EXO_IDEMPOTENCY_KEY=" + Flat(h.idempotency_key),
        "EXO_MESSAGE_ID=" + Flat(m.internet_message_id),
        "EXO_ITEM_ID=" + Flat(m.id),
        "EXO_SUBJECT=" + Flat(m.subject),
        "EXO_FROM=" + Flat(m.from),
        "EXO_RECEIVED=" + FormatIso8601(m.received),
        "EXO_MAILBOX=" + Flat(mailbox),
    };
    return RunCommand(command, env, m.mime, timeout);
  };
}

std::string EmlFileName(const std::string& key) {
  std::string name;
  for (char c : key) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '@';
    if (name.size() < 80) name += keep ? c : '_';
  }
  while (!name.empty() && (name.front() == '_' || name.front() == '.')) name.erase(0, 1);
  while (!name.empty() && name.back() == '_') name.pop_back();
  return name + "-" + HexEncode(crypto::Sha256(key)).substr(0, 12) + ".eml";
}

MessageHandler DirectoryHandler(std::filesystem::path directory) {
  return [directory = std::move(directory)](const HandledMessage& h) -> Result<void> {
    auto written =
        WriteFileAtomically(directory / EmlFileName(h.idempotency_key), h.message.mime, 0600);
    if (!written) return std::unexpected(HandlerError(written.error().message));
    return {};
  };
}

Result<std::shared_ptr<EventLog>> EventLog::Open(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Fail(ErrorCategory::kConfiguration, "Usage",
                "cannot open --events " + file.string() + ": " + std::strerror(errno));
  }
  return std::shared_ptr<EventLog>(new EventLog(fd));
}

EventLog::~EventLog() { ::close(fd_); }

void EventLog::WriteLine(const std::string& line) {
  // One write per line on an O_APPEND descriptor: a reader never sees half a line from us, and
  // the line is the kernel's as soon as it happened (no user-space buffer to flush).
  WriteAll(fd_, line + "\n");
}

void EventLog::Handed(const HandledMessage& h) {
  const nlohmann::json j = {{"event", "handed"},
                            {"key", h.idempotency_key},
                            {"subject", h.message.subject},
                            {"internetMessageId", h.message.internet_message_id}};
  std::lock_guard lock(mu_);
  WriteLine(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void EventLog::Status(std::string_view phase, const MonitorStatus& s) {
  nlohmann::json error = nullptr;
  if (s.last_error) {
    error = {{"code", s.last_error->code},
             {"category", ToString(s.last_error->category)},
             {"message", s.last_error->message},
             {"remedy", s.last_error->remedy}};
  }
  const nlohmann::json j = {
      {"event", "status"}, {"phase", phase}, {"error", error}, {"handed", s.handed}};
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mu_);
  if (last_status_ == line) return;
  last_status_ = line;
  WriteLine(line);
}

void EventLog::Reloaded(const Result<bool>& outcome) {
  if (outcome && !*outcome) return;  // nothing changed
  nlohmann::json j = {{"event", outcome ? "reloaded" : "reloadFailed"}};
  if (!outcome) {
    j["error"] = {{"code", outcome.error().code},
                  {"category", ToString(outcome.error().category)},
                  {"message", outcome.error().message}};
  }
  std::lock_guard lock(mu_);
  WriteLine(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

MessageHandler WithEvents(MessageHandler inner, std::shared_ptr<EventLog> events) {
  return [inner = std::move(inner), events = std::move(events)](const HandledMessage& h) {
    Result<void> accepted = inner(h);
    if (accepted) events->Handed(h);
    return accepted;
  };
}

}  // namespace exo::client::cli
