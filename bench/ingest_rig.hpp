// The ingest rig the crash test and the ingest benchmark share: mock-aad and mock-ews in-process
// over HTTPS on the real clock (the client under test is another process, on its own real clock),
// one tenant with a consented daemon app, mailboxes filled with typical mail, and child processes
// the parent follows through their stdout.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"

extern char** environ;

namespace exo::bench {

inline constexpr const char* kIngestAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
inline constexpr const char* kIngestSecret = "ingest8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ01234";

// Which protocol the client under test reads the mailboxes over. mock-ews serves both from one
// store, so the mail, the counts and the dispositions are the same whichever is chosen.
enum class IngestTransport { kEws, kGraph };

inline const char* TransportName(IngestTransport t) {
  return t == IngestTransport::kGraph ? "graph" : "ews";
}

// Mock-aad and mock-ews with the tenant, the app (consented for EWS and for Microsoft Graph) and
// `mailboxes` (addresses in the tenant's default domain), throttling lifted on both protocols:
// EWS's budget (about 3000 requests, then 2.5 a second) and Graph's (4 in flight and 10,000
// requests per 10 minutes per app and mailbox) would measure Exchange's policy, not the client,
// and the crash test's restarts repeat requests.
class IngestRig {
 public:
  static Result<std::unique_ptr<IngestRig>> Start(const std::filesystem::path& ca_dir,
                                                  const std::vector<std::string>& mailboxes) {
    auto rig = std::unique_ptr<IngestRig>(new IngestRig());
    Clock& clock = RealClock::Instance();
    aad::MockAadOptions aad_options;
    aad_options.world = World();
    aad_options.ca_dir = ca_dir;
    aad_options.threads = 4;
    auto aad = aad::MockAad::Start(aad_options, clock);
    if (!aad) return std::unexpected(aad.error());
    rig->aad_ = std::move(*aad);
    mock_ews::MockEwsOptions ews_options;
    ews_options.ca_dir = ca_dir;
    ews_options.threads = 16;
    auto ews = mock_ews::MockEws::Start(ews_options, clock);
    if (!ews) return std::unexpected(ews.error());
    rig->ews_ = std::move(*ews);
    aad::MockAad* issuer = rig->aad_.get();
    if (auto t =
            rig->ews_->TrustTenant({aad::kDefaultTenantId, [issuer] { return issuer->Jwks(); }});
        !t) {
      return std::unexpected(t.error());
    }
    auto& store = rig->ews_->store();
    if (auto o = store.CreateOrganization(aad::kDefaultTenantId, "Contoso"); !o) {
      return std::unexpected(o.error());
    }
    for (const std::string& smtp : mailboxes) {
      mock_ews::MailboxSpec spec;
      spec.organization_id = aad::kDefaultTenantId;
      spec.primary_smtp_address = smtp;
      if (auto m = store.CreateMailbox(spec); !m) return std::unexpected(m.error());
    }
    if (auto lifted = rig->ews_->throttling().Update(
            {{"budgetEnabled", false}, {"maxConcurrency", 0}, {"maxConcurrentSync", 0}});
        !lifted) {
      return std::unexpected(lifted.error());
    }
    if (auto lifted =
            rig->ews_->graph_throttling().Update({{"maxConcurrency", 0}, {"maxRequests", 0}});
        !lifted) {
      return std::unexpected(lifted.error());
    }
    return rig;
  }

  ~IngestRig() {
    if (ews_) ews_->Stop();
    if (aad_) aad_->Stop();
  }

  static std::string Address(const std::string& local) {
    return local + "@" + aad::kDefaultTenantDomain;
  }

  // Delivers `n` messages of a typical size (a few KB of text) from a handful of senders to the
  // mailbox's Inbox, unread; returns their Message-IDs in delivery order.
  Result<std::vector<std::string>> Deliver(const std::string& mailbox, std::size_t n) {
    auto& store = ews_->store();
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i) {
      mock_ews::MessageDraft draft;
      draft.from = {"Sender " + std::to_string(i % 7),
                    "sender" + std::to_string(i % 7) + "@fabrikam.com"};
      draft.to = {{"Monitor", mailbox}};
      draft.subject = "Order " + std::to_string(10000 + i) + " shipped";
      for (int line = 0; line < 40; ++line) {
        draft.body += "Line " + std::to_string(line) + " of the message about order " +
                      std::to_string(10000 + i) + ", shipped today.\r\n";
      }
      auto item = store.DeliverToInbox(mailbox, store.ComposeMime(draft));
      if (!item) return std::unexpected(item.error());
      ids.push_back(item->fields.internet_message_id);
    }
    return ids;
  }

  struct InboxCounts {
    std::size_t total = 0;
    std::size_t unread = 0;
  };
  Result<InboxCounts> Inbox(const std::string& mailbox) const {
    auto inbox =
        ews_->store().GetDistinguishedFolder(mailbox, mock_ews::DistinguishedFolder::kInbox);
    if (!inbox) return std::unexpected(inbox.error());
    return InboxCounts{inbox->total_count, inbox->unread_count};
  }

  // The arguments exo-ingest-probe needs to monitor `mailbox` over `transport` with the state in
  // `state`.
  std::vector<std::string> ProbeArgs(const std::string& probe, const std::string& mailbox,
                                     const std::filesystem::path& state,
                                     IngestTransport transport = IngestTransport::kEws) const {
    std::vector<std::string> args = {
        probe,     "--authority", aad_->base_url(), "--tenant",    aad::kDefaultTenantId,
        "--app",   kIngestAppId,  "--secret",       kIngestSecret, "--ca",
        ca_file(), "--mailbox",   mailbox,          "--state",     state.string()};
    if (transport == IngestTransport::kGraph) {
      args.insert(args.end(), {"--transport", "graph", "--graph-url", ews_->base_url()});
    } else {
      args.insert(args.end(), {"--ews-url", ews_->ews_url()});
    }
    return args;
  }

  std::string token_url() const {
    return aad_->base_url() + "/" + aad::kDefaultTenantId + "/oauth2/v2.0/token";
  }
  std::string ca_file() const { return aad_->ca_file().string(); }
  mock_ews::MockEws& ews() { return *ews_; }

 private:
  IngestRig() = default;

  static nlohmann::json World() {
    return {
        {"tenants",
         {{{"id", aad::kDefaultTenantId},
           {"domains", {aad::kDefaultTenantDomain}},
           {"applications",
            {{{"appId", kIngestAppId},
              {"displayName", "Ingest Daemon"},
              {"passwordCredentials", {{{"secretText", kIngestSecret}}}},
              {"appRoleAssignments",
               {{{"resource", "https://outlook.office365.com"}, {"appRole", "full_access_as_app"}},
                {{"resource", "https://graph.microsoft.com"},
                 {"appRole", "Mail.ReadWrite"}}}}}}}}}}};
  }

  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<mock_ews::MockEws> ews_;
};

// How a child ended. No resource usage here: a posix_spawn child's ru_maxrss includes this
// process's high-water RSS (see ingest_bench's --exec-measured).
struct ChildExit {
  int status = 0;  // as waitpid reports it

  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  bool killed() const { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
};

// A child process whose stdout is a pipe to us; stdin is /dev/null and stderr goes to a file.
// posix_spawn, not fork: the parent runs the mocks' server threads. Killed and reaped on
// destruction if still running.
class Child {
 public:
  static Result<std::unique_ptr<Child>> Spawn(const std::vector<std::string>& argv,
                                              const std::filesystem::path& stderr_file,
                                              const std::vector<std::string>& extra_env = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view inherited(*e);
      const auto overridden = [&](const std::string& mine) {
        return inherited.substr(0, inherited.find('=') + 1) == mine.substr(0, mine.find('=') + 1);
      };
      if (std::none_of(extra_env.begin(), extra_env.end(), overridden)) env.push_back(*e);
    }
    for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      errno = rc;
      return Errno("spawning " + argv[0]);
    }
    return std::unique_ptr<Child>(new Child(pid, fds[0]));
  }

  ~Child() {
    if (pid_ > 0) {
      Kill();
      (void)Wait();
    }
    if (out_ >= 0) ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // The next stdout line without its '\n'; nullopt at the end of the output (the child exited
  // or closed it; an unterminated last line is returned first). kTransient "ChildSilent" when
  // nothing arrived for `limit`: the one wait limit that turns a hung child into a failure.
  Result<std::optional<std::string>> ReadLine(std::chrono::milliseconds limit) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto n = Fill(limit);
      if (!n) return std::unexpected(n.error());
      if (*n == 0) {
        if (buffer_.empty()) return std::optional<std::string>();
        std::string rest = std::move(buffer_);
        buffer_.clear();
        return rest;
      }
    }
  }

  // Reads and discards at least one and at most `max` bytes of stdout; 0 at its end.
  Result<std::size_t> Skip(std::size_t max, std::chrono::milliseconds limit) {
    if (buffer_.empty()) {
      auto n = Fill(limit);
      if (!n) return std::unexpected(n.error());
    }
    const std::size_t taken = std::min(max, buffer_.size());
    buffer_.erase(0, taken);
    return taken;
  }

  void Kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

  // Reaps the child (blocking until it ends).
  ChildExit Wait() {
    ChildExit e;
    if (pid_ <= 0) return e;
    while (::waitpid(pid_, &e.status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return e;
  }

 private:
  Child(pid_t pid, int out) : pid_(pid), out_(out) {}

  static std::unexpected<Error> Errno(const std::string& what) {
    return Fail(ErrorCategory::kInternal, "Errno", what + ": " + std::strerror(errno));
  }

  // Appends what the pipe has (waiting for it at most `limit`); 0 at its end.
  Result<std::size_t> Fill(std::chrono::milliseconds limit) {
    pollfd p{out_, POLLIN, 0};
    int ready = 0;
    do {
      ready = ::poll(&p, 1, static_cast<int>(limit.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return Errno("poll");
    if (ready == 0) {
      return Fail(ErrorCategory::kTransient, "ChildSilent",
                  "no output from pid " + std::to_string(pid_) + " for " +
                      std::to_string(limit.count()) + " ms");
    }
    char chunk[16384];
    ssize_t n = 0;
    do {
      n = ::read(out_, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Errno("read");
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

}  // namespace exo::bench
