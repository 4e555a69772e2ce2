// exo-ingest-probe: one real mailbox monitor process over the production client library, for the
// crash test (which SIGKILLs it at random instants and restarts it) and the ingest benchmark
// (which times it), reading the mailbox over EWS or Microsoft Graph (--transport). A test and
// bench tool, not the product CLI (that is exo-mailbox).
//
// Protocol with the parent, on stdout, one flushed line each:
//   "handed <key>"  the handler accepted the message (after the --log line is durable);
//   "marked-read"   one mark-read disposition succeeded on the server;
//   {...}           last: a JSON object with the counts.
// Exit status: 0 when the store says --expect messages were handed in total (this run and earlier
// ones) and nothing is pending; 1 on a setup error; 3 when --timeout passed first.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/ews_transport.hpp"
#include "exo/client/graph_transport.hpp"
#include "exo/client/http.hpp"
#include "exo/client/monitor.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/log.hpp"
#include "exo/common/random.hpp"

namespace exo::client {
namespace {

void Emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  // The parent decides when to kill from these lines: they must leave the process at once.
  std::fflush(stdout);
}

// Appends one line per hand-over and makes it durable before the handler returns, i.e. before
// the monitor commits the hand-over: the crash test compares this file with the store.
class HandOverLog {
 public:
  HandOverLog() = default;
  HandOverLog(const HandOverLog&) = delete;
  HandOverLog& operator=(const HandOverLog&) = delete;
  ~HandOverLog() {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<void> Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return Failure("opening " + path);
    return {};
  }

  bool enabled() const { return fd_ >= 0; }

  Result<void> Append(const std::string& key) {
    // One write(2) per line: O_APPEND keeps lines whole even when a kill lands mid-handler.
    const std::string line = key + "\n";
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) return Failure("appending to the log");
    if (::fsync(fd_) != 0) return Failure("syncing the log");
    return {};
  }

 private:
  static std::unexpected<Error> Failure(const std::string& what) {
    return Fail(ErrorCategory::kInternal, "LogIo", what + ": " + std::strerror(errno));
  }
  int fd_ = -1;
};

// The transport, reporting each successful mark-read: dispositions print nothing else, and
// the crash test needs kill points inside them too.
class ReportingTransport final : public MailboxTransport {
 public:
  explicit ReportingTransport(MailboxTransport& inner) : inner_(inner) {}

  TransportInfo Info() const override { return inner_.Info(); }
  Result<std::string> ResolveFolder(const std::string& name, bool create_if_missing) override {
    return inner_.ResolveFolder(name, create_if_missing);
  }
  Result<SyncPage> SyncFolder(const std::string& folder_id, const std::string& sync_state,
                              int max_changes) override {
    return inner_.SyncFolder(folder_id, sync_state, max_changes);
  }
  Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) override {
    return inner_.FetchMessages(ids);
  }
  Result<void> MarkRead(const std::string& id) override {
    auto done = inner_.MarkRead(id);
    if (done) Emit("marked-read");
    return done;
  }
  Result<std::string> Move(const std::string& id, const std::string& folder_id) override {
    return inner_.Move(id, folder_id);
  }
  Result<void> Delete(const std::string& id) override { return inner_.Delete(id); }
  Result<void> Reply(const std::string& id, const std::string& body_text) override {
    return inner_.Reply(id, body_text);
  }
  Result<bool> Watch(const std::string& folder_id, std::function<void()> on_change) override {
    return inner_.Watch(folder_id, std::move(on_change));
  }
  void StopWatching() override { inner_.StopWatching(); }

 private:
  MailboxTransport& inner_;
};

// Messages the store has committed as handed, in earlier runs or this one. Disposed rows count:
// in this probe's mailbox nothing is deleted behind the monitor's back, so every disposed message
// was handed first.
Result<std::size_t> CommittedHandOvers(CheckpointStore& store, const FolderKey& key) {
  std::size_t n = 0;
  for (MessageState s : {MessageState::kHanded, MessageState::kDisposed}) {
    auto count = store.Count(key, s);
    if (!count) return std::unexpected(count.error());
    n += *count;
  }
  return n;
}

// The process's own peak RSS (VmHWM), a cross-check of what the parent gets from wait4.
long PeakRssKb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  long kb = -1;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

int Die(const std::string& what) {
  std::fprintf(stderr, "exo-ingest-probe: %s\n", what.c_str());
  return 1;
}

int RunProbe(int argc, char** argv) {
  CLI::App app{
      "exo-ingest-probe: a mailbox monitor process (mark-read, only unread) for the crash test "
      "and the ingest benchmark"};
  std::string authority, tenant, app_id, secret, ca, ews_url, graph_url, mailbox, state, log_file;
  std::string transport_name = "ews";
  std::string owner = "exo-ingest-probe";
  std::string log_level = "warn";
  std::size_t expect = 0;
  int poll_ms = 1000;
  double timeout_s = 0;
  app.add_option("--authority", authority, "Authority host (https://...)")->required();
  app.add_option("--tenant", tenant, "Tenant id")->required();
  app.add_option("--app", app_id, "Application (client) id")->required();
  app.add_option("--secret", secret, "Client secret")->required();
  app.add_option("--ca", ca, "CA bundle (PEM) to trust")->required();
  app.add_option("--transport", transport_name, "ews or graph")
      ->check(CLI::IsMember({"ews", "graph"}))
      ->capture_default_str();
  app.add_option("--ews-url", ews_url, "EWS endpoint (--transport ews)");
  app.add_option("--graph-url", graph_url,
                 "Where Microsoft Graph is served, without /v1.0 (--transport graph)");
  app.add_option("--mailbox", mailbox, "Mailbox to impersonate")->required();
  app.add_option("--state", state, "The checkpoint store (SQLite file)")->required();
  app.add_option("--expect", expect,
                 "Exit 0 once this many messages were handed in total (0: run until killed)");
  app.add_option("--log", log_file, "Append each handed key here, fsynced before commit");
  // Fixed by default: a restarted probe must renew its own lease, not wait for it to lapse.
  app.add_option("--owner", owner, "Lease owner id")->capture_default_str();
  app.add_option("--poll-ms", poll_ms, "Poll interval")->capture_default_str();
  app.add_option("--timeout", timeout_s, "Give up (exit 3) after this many seconds (0: never)");
  app.add_option("--log-level", log_level, "Client log level (stderr)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const bool graph = transport_name == "graph";
  if (graph ? graph_url.empty() : ews_url.empty()) {
    return Die(graph ? "--transport graph needs --graph-url" : "--transport ews needs --ews-url");
  }
  if (!log::SetLevel(log_level)) return Die("unknown log level " + log_level);
  std::transform(mailbox.begin(), mailbox.end(), mailbox.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  RealClock& clock = RealClock::Instance();
  const MonoTime start = clock.Monotonic();
  HandOverLog handed_log;
  if (!log_file.empty()) {
    if (auto ok = handed_log.Open(log_file); !ok) return Die(ok.error().Describe());
  }
  auto opened = OpenSqliteCheckpointStore(state);
  if (!opened) return Die(opened.error().Describe());
  CheckpointStore& store = **opened;

  HttpOptions http_options;
  http_options.ca_bundle = ca;
  auto http = MakeHttpTransport(http_options);
  ClientCredential credential;
  credential.tenant = tenant;
  credential.client_id = app_id;
  credential.secret = [secret] { return Result<SecretString>(SecretString(secret)); };
  TokenProviderOptions token_options;
  token_options.authority_host = authority;
  TokenProvider tokens(credential, token_options, *http, clock, SecureRandom::Instance());
  std::unique_ptr<MailboxTransport> inner;
  if (graph) {
    GraphOptions graph_options;
    graph_options.base_url = graph_url;
    graph_options.mailbox = mailbox;
    inner = MakeGraphTransport(graph_options, tokens, *http);
  } else {
    EwsOptions ews_options;
    ews_options.url = ews_url;
    ews_options.mailbox = mailbox;
    inner = MakeEwsTransport(ews_options, tokens, *http, clock);
  }
  ReportingTransport transport(*inner);

  MonitorOptions options;
  options.key = {mailbox, "inbox"};
  options.owner = owner;
  options.disposition.kind = DispositionKind::kMarkRead;
  options.only_unread = true;
  options.poll_interval = std::chrono::milliseconds(std::max(1, poll_ms));
  // The parent delivers before it starts the probe; a streaming subscription per restart would
  // only pile up on the server.
  options.use_notifications = false;

  std::size_t handed_now = 0;
  MailboxMonitor monitor(
      options, transport, store,
      [&](const HandledMessage& m) -> Result<void> {
        if (handed_log.enabled()) {
          if (auto ok = handed_log.Append(m.idempotency_key); !ok) return ok;
        }
        ++handed_now;
        Emit("handed " + m.idempotency_key);
        return {};
      },
      clock, SecureRandom::Instance());

  const MonoTime deadline =
      timeout_s > 0
          ? start + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout_s))
          : MonoTime::max();
  int exit_code = 0;
  MonitorStatus status;
  std::size_t committed = 0;
  for (;;) {
    status = monitor.Step();
    auto total = CommittedHandOvers(store, options.key);
    if (!total) return Die(total.error().Describe());
    committed = *total;
    if (expect > 0 && committed >= expect && status.pending == 0) break;
    if (clock.Monotonic() >= deadline) {
      exit_code = 3;
      break;
    }
    clock.WaitUntil(std::min(status.next_wakeup, deadline), {});
  }
  const double seconds = std::chrono::duration<double>(clock.Monotonic() - start).count();
  nlohmann::json report = {
      {"transport", transport_name}, {"handed", handed_now},      {"handedTotal", committed},
      {"disposed", status.disposed}, {"pending", status.pending}, {"syncs", status.syncs},
      {"seconds", seconds},          {"vmHwmKb", PeakRssKb()},    {"timedOut", exit_code == 3}};
  if (status.last_error) report["lastError"] = status.last_error->Describe();
  Emit(report.dump());
  return exit_code;
}

}  // namespace
}  // namespace exo::client

int main(int argc, char** argv) { return exo::client::RunProbe(argc, argv); }
