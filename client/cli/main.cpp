// exo-mailbox: the production CLI over exo::client. Diagnoses a setup (doctor), protects the
// client secret (protect-secret, rotate-key), and monitors a mailbox (monitor, fetch), handing each
// message to a command or a directory of .eml files.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "exo/client/cassette.hpp"
#include "exo/client/config.hpp"
#include "exo/client/control_clock.hpp"
#include "exo/client/doctor.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/common/log.hpp"
#include "handlers.hpp"

namespace {

using namespace exo;
using namespace exo::client;

// Exit codes (also in --help and docs/client.md).
enum Exit : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,          // bad arguments or configuration
  kCredentials = 3,    // the identity was refused: secret expired or wrong, certificate
  kAccess = 4,         // the identity is not allowed: consent, access policy, RBAC, allow list
  kMailbox = 5,        // the mailbox or server: not found, throttled, unreachable, protocol
  kLeaseHeld = 6,      // another process monitors this mailbox folder
  kHandlerFailed = 7,  // the command or directory refused a message
};

constexpr const char* kExitCodes =
    "Exit codes: 0 ok; 1 internal error; 2 bad arguments or configuration; 3 credentials refused\n"
    "(secret expired or wrong); 4 access denied (consent, access policy, RBAC, EWS allow list);\n"
    "5 mailbox or server error (not found, throttled, unreachable); 6 another process holds the\n"
    "mailbox's lease; 7 the handler refused a message. doctor: the number of failed checks.";

int ExitFor(const Error& e) {
  if (e.code == "LeaseHeld") return kLeaseHeld;
  if (e.code == "HandlerFailed") return kHandlerFailed;
  switch (e.category) {
    case ErrorCategory::kConfiguration:
      return kUsage;
    case ErrorCategory::kAuthentication:
      return kCredentials;
    case ErrorCategory::kAuthorization:
      return kAccess;
    case ErrorCategory::kInternal:
      return kInternal;
    default:
      return kMailbox;
  }
}

int Report(const Error& e) {
  std::cerr << "exo-mailbox: " << e.Describe() << "\n";
  return ExitFor(e);
}

// Reads the secret from standard input: without echo from a terminal, else the first line.
std::string ReadSecret() {
  const bool tty = ::isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::cerr << "client secret (not echoed): " << std::flush;
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// The key a command uses: --key-file (generated with --new-key), else the config's
// EmailIntegrationKeyFile, else EXO_SECRET_KEY.
Result<SecretKey> LoadKey(const std::string& key_file, bool generate, const std::string& config) {
  if (!key_file.empty()) {
    return generate ? SecretKey::Generate(key_file) : SecretKey::LoadFile(key_file);
  }
  if (generate) {
    return Fail(ErrorCategory::kConfiguration, "Usage", "--new-key needs --key-file");
  }
  if (!config.empty()) {
    auto named = GetConfigValue(config, "EmailIntegrationKeyFile");
    if (!named) return std::unexpected(named.error());
    if (*named && !(*named)->empty()) {
      std::filesystem::path p = **named;
      if (p.is_relative()) p = std::filesystem::path(config).parent_path() / p;
      return SecretKey::LoadFile(p);
    }
  }
  return SecretKey::FromEnvironment();
}

int ProtectSecret(const std::string& key_file, bool new_key, const std::string& config) {
  auto key = LoadKey(key_file, new_key, config);
  if (!key) return Report(key.error());
  SecretString secret(ReadSecret());
  if (secret.empty()) {
    return Report(Error{ErrorCategory::kConfiguration,
                        "Usage",
                        "no secret on standard input",
                        "pipe the secret's Value (seed step 3.2) into the command",
                        {},
                        0});
  }
  auto sealed = exo::client::ProtectSecret(secret.Reveal(), *key);
  if (!sealed) return Report(sealed.error());
  if (config.empty()) {
    std::cout << *sealed << "\n";
    return kOk;
  }
  if (auto ok = SetConfigValue(config, "EmailIntegrationClientSecret", *sealed); !ok) {
    return Report(ok.error());
  }
  if (!key_file.empty()) {
    const auto absolute = std::filesystem::absolute(key_file).string();
    if (auto ok = SetConfigValue(config, "EmailIntegrationKeyFile", absolute); !ok) {
      return Report(ok.error());
    }
  }
  std::cout << "EmailIntegrationClientSecret updated in " << config << " (key " << key->id()
            << "); a running monitor picks it up within seconds\n";
  return kOk;
}

int RotateKey(const std::string& config, const std::string& old_key_file,
              const std::string& key_file, bool new_key) {
  auto sealed = GetConfigValue(config, "EmailIntegrationClientSecret");
  if (!sealed) return Report(sealed.error());
  if (!*sealed) {
    return Report(Error{ErrorCategory::kConfiguration,
                        "EmailIntegrationClientSecret",
                        config + " has no EmailIntegrationClientSecret",
                        "run exo-mailbox protect-secret --config first",
                        {},
                        0});
  }
  auto old_key =
      old_key_file.empty() ? LoadKey("", false, config) : SecretKey::LoadFile(old_key_file);
  if (!old_key) return Report(old_key.error());
  auto key = new_key ? SecretKey::Generate(key_file) : SecretKey::LoadFile(key_file);
  if (!key) return Report(key.error());
  auto rewrapped = RewrapSecret(**sealed, *old_key, *key);
  if (!rewrapped) return Report(rewrapped.error());
  // The key file first: a monitor reloading between the two writes sees the old ciphertext with
  // the new key and reports it, then the next reload is consistent.
  const auto absolute = std::filesystem::absolute(key_file).string();
  if (auto ok = SetConfigValue(config, "EmailIntegrationKeyFile", absolute); !ok) {
    return Report(ok.error());
  }
  if (auto ok = SetConfigValue(config, "EmailIntegrationClientSecret", *rewrapped); !ok) {
    return Report(ok.error());
  }
  std::cout << "re-encrypted under key " << key->id() << " (was " << old_key->id()
            << "); EmailIntegrationKeyFile is " << absolute << "\n";
  return kOk;
}

// What a cassette notes besides the exchanges: the configuration's keys that are no secret and no
// local path, so `exo-scenario replay` can configure a client as this one was.
RecordOptions RecordContext(const std::string& config, const std::string& command, bool all,
                            int poll_seconds = 0) {
  RecordOptions options;
  options.context["command"] = command;
  if (command != "doctor") options.context["onlyUnread"] = all ? "false" : "true";
  if (poll_seconds > 0) options.context["pollIntervalSeconds"] = std::to_string(poll_seconds);
  for (const char* key :
       {"EmailIntegrationIdApp", "EmailIntegrationTenantId", "EmailIntegrationWebmailDefault",
        "EmailIntegrationMailbox", "EmailIntegrationFolder", "EmailIntegrationDisposition",
        "EmailIntegrationTransport", "EmailIntegrationAuthority", "EmailIntegrationEwsUrl",
        "EmailIntegrationAutodiscoverUrl"}) {
    auto value = GetConfigValue(config, key);
    if (value && *value && !(*value)->empty()) options.context[key] = **value;
  }
  return options;
}

// --insecure-skip-tls-verify: global, so every subcommand that talks HTTPS honours it alike.
bool g_skip_tls_verification = false;

// The HTTPS transport the client would make for itself; null when that default will do (the
// library then follows a reloaded CaBundle, which a transport made here does not).
std::shared_ptr<HttpTransport> OwnHttp(const std::optional<std::filesystem::path>& ca) {
  if (!g_skip_tls_verification) return nullptr;
  HttpOptions h;
  h.ca_bundle = ca;
  h.skip_tls_verification = true;
  return MakeHttpTransport(h);
}

// The HTTPS transport the client would make for itself, recording into `cassette`.
Result<std::shared_ptr<HttpTransport>> Recording(const std::string& cassette,
                                                 const std::optional<std::filesystem::path>& ca,
                                                 const Clock& clock, RecordOptions context) {
  HttpOptions h;
  h.ca_bundle = ca;
  h.skip_tls_verification = g_skip_tls_verification;
  auto recorder = RecordTo(MakeHttpTransport(h), clock, cassette, std::move(context));
  if (!recorder) return std::unexpected(recorder.error());
  std::cerr << "exo-mailbox: recording to " << cassette
            << " (secrets and tokens scrubbed; mail contents kept)\n";
  return std::shared_ptr<HttpTransport>(*recorder);
}

int Doctor(const std::string& config, bool json, const std::string& record) {
  RealClock clock;
  SecureRandom random;
  DoctorOptions options;
  if (!record.empty()) {
    // A configuration that does not load is the doctor's first finding; record without its CA.
    auto loaded = LoadClientConfig(config);
    auto http = Recording(record, loaded ? loaded->ca_bundle : std::nullopt, clock,
                          RecordContext(config, "doctor", false));
    if (!http) return Report(http.error());
    options.http = *http;
  } else if (g_skip_tls_verification) {
    auto loaded = LoadClientConfig(config);
    options.http = OwnHttp(loaded ? loaded->ca_bundle : std::nullopt);
  }
  const DoctorReport report = RunDoctor(config, clock, random, options);
  if (json) {
    std::cout << report.ToJson().dump(2) << "\n";
  } else {
    std::cout << report.ToText();
  }
  return std::min(report.failures(), 100);
}

struct MonitorArgs {
  std::string config, exec, out_dir, state_file, record;
  std::string clock_url, events;  // out of process under exo-scenario (docs/client.md)
  int exec_timeout = 300;
  int poll_seconds = 60;
  int status_seconds = 60;
  bool no_notifications = false;
  bool all = false;
};

const char* PhaseName(MonitorStatus::Phase p) {
  switch (p) {
    case MonitorStatus::Phase::kStarting:
      return "starting";
    case MonitorStatus::Phase::kHealthy:
      return "healthy";
    case MonitorStatus::Phase::kBackingOff:
      return "backing-off";
    case MonitorStatus::Phase::kStopped:
      return "stopped";
  }
  return "?";
}

std::string StatusLine(const MonitorStatus& s) {
  std::string line =
      std::string("status ") + PhaseName(s.phase) + " handed=" + std::to_string(s.handed) +
      " disposed=" + std::to_string(s.disposed) + " pending=" + std::to_string(s.pending) +
      " syncs=" + std::to_string(s.syncs) + " resyncs=" + std::to_string(s.resyncs);
  if (s.last_error) line += " error=" + s.last_error->code + " (" + s.last_error->message + ")";
  return line;
}

int Monitor(const MonitorArgs& a, bool once) {
  ::signal(SIGPIPE, SIG_IGN);  // a handler command that does not read its input

  auto config = LoadClientConfig(a.config);
  if (!config) return Report(config.error());
  for (const auto& w : config->warnings) std::cerr << "exo-mailbox: warning: " << w << "\n";
  MessageHandler handler;
  if (!a.exec.empty()) {
    handler = cli::ExecHandler(a.exec, config->mailbox, std::chrono::seconds(a.exec_timeout));
  } else {
    std::error_code ec;
    std::filesystem::create_directories(a.out_dir, ec);
    if (ec) {
      return Report(Error{ErrorCategory::kConfiguration,
                          "Usage",
                          "cannot create " + a.out_dir + ": " + ec.message(),
                          "",
                          {},
                          0});
    }
    handler = cli::DirectoryHandler(a.out_dir);
  }
  std::shared_ptr<cli::EventLog> events;
  if (!a.events.empty()) {
    auto opened = cli::EventLog::Open(a.events);
    if (!opened) return Report(opened.error());
    events = *opened;
    handler = cli::WithEvents(std::move(handler), events);
  }
  // --clock-url: the whole client (tokens, back-off, polling, the config watcher) runs on the
  // harness's clock instead of this machine's.
  RealClock real_clock;
  std::unique_ptr<ControlClock> harness_clock;
  if (!a.clock_url.empty()) {
    ControlClockOptions clock_options;
    clock_options.control_url = a.clock_url;
    clock_options.ca_bundle = config->ca_bundle;
    auto connected = ControlClock::Connect(std::move(clock_options));
    if (!connected) return Report(connected.error());
    harness_clock = std::move(*connected);
  }
  Clock& clock = harness_clock ? static_cast<Clock&>(*harness_clock) : real_clock;
  SecureRandom random;
  MailboxClientOptions options;
  options.state_file = a.state_file;
  if (!a.record.empty()) {
    // A CaBundle changed while running is not picked up by this transport (a restart is).
    auto http = Recording(a.record, config->ca_bundle, clock,
                          RecordContext(a.config, once ? "fetch" : "monitor", a.all,
                                        once ? 0 : std::max(1, a.poll_seconds)));
    if (!http) return Report(http.error());
    options.http = *http;
  } else {
    options.http = OwnHttp(config->ca_bundle);
  }
  auto client = MailboxClient::Open(*config, clock, random, options);
  if (!client) return Report(client.error());

  std::mutex out_mu;
  std::string last_line;
  auto last_print = clock.Monotonic();
  MonitorOptions base;
  base.poll_interval = std::chrono::seconds(std::max(1, a.poll_seconds));
  base.use_notifications = !a.no_notifications && !once;
  base.only_unread = !a.all;
  base.on_status = [&](const MonitorStatus& s) {
    if (events) events->Status(PhaseName(s.phase), s);
    // A line when something changed, and a heartbeat every status interval.
    const std::string line = StatusLine(s);
    const auto now = clock.Monotonic();
    std::lock_guard lock(out_mu);
    if (line != last_line || now - last_print >= std::chrono::seconds(a.status_seconds)) {
      std::cout << line << std::endl;
      last_line = line;
      last_print = now;
    }
  };
  auto monitor = (*client)->MakeMonitor(handler, base);
  if (!monitor) return Report(monitor.error());

  if (once) {
    const MonitorStatus s = (*monitor)->Step();
    monitor->reset();
    if (s.last_error) return Report(*s.last_error);
    return kOk;
  }
  // Signals are taken by one thread with sigwait, so the rest of the process (and the threads the
  // library starts from here on) never runs a handler at an awkward moment.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // Under a runner (--events), each reload is an event: the runner waits for it instead of
  // guessing when this thread has read the edit.
  if (events) {
    (*client)->WatchConfig(std::chrono::seconds(2),
                           [events](const Result<bool>& r) { events->Reloaded(r); });
  } else {
    (*client)->WatchConfig();
  }
  std::atomic<bool> stopping{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (stopping) return;
    std::cerr << "exo-mailbox: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": stopping after the current message\n";
    (*monitor)->Stop();
  });
  if (events) events->Status(PhaseName(MonitorStatus::Phase::kStarting), MonitorStatus{});
  {
    // The monitor's waits are the ones a runner watches to know the client is idle.
    ControlClock::ScopedWaitLabel label("monitor");
    (*monitor)->Run();
  }
  if (events) events->Status(PhaseName(MonitorStatus::Phase::kStopped), (*monitor)->status());
  stopping = true;
  ::kill(::getpid(), SIGTERM);  // ends the signal thread's wait if no signal came
  signals.join();
  std::cout << StatusLine((*monitor)->status()) << std::endl;
  monitor->reset();
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exo-mailbox: reads an Exchange mailbox with app-only OAuth (client credentials) and hands\n"
      "each message to your application once. Configuration: the scheduler's .config keys\n"
      "(EmailIntegrationIdApp, ...). Documentation: docs/client.md"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  std::string log_level;
  app.add_option("--log-level", log_level, "trace, debug, info, warn (default), error, off");
  app.add_flag("--insecure-skip-tls-verify", g_skip_tls_verification,
               "do not verify servers' TLS certificates (a warning is logged for every "
               "connection); prefer EmailIntegrationCaBundle");

  std::string config;
  bool json = false;
  auto* doctor = app.add_subcommand(
      "doctor", "check every link from the configuration to the folder, keyed to the setup steps");
  doctor->add_option("--config,-c", config, "the .config file")->required();
  doctor->add_flag("--json", json, "machine-readable report");
  std::string doctor_record;
  doctor->add_option(
      "--record", doctor_record,
      "record the HTTP exchanges into this cassette (secrets scrubbed; docs/client.md)");
  doctor->footer("Exit code: the number of failed checks (0: all good).");

  std::string key_file, old_key_file;
  bool new_key = false;
  auto* protect = app.add_subcommand(
      "protect-secret",
      "encrypt a client secret read from standard input (AES-256-GCM); print it, or store it in\n"
      "--config's EmailIntegrationClientSecret");
  protect->add_option("--key-file", key_file,
                      "the key (mode 0600); default: the config's EmailIntegrationKeyFile, then "
                      "EXO_SECRET_KEY");
  protect->add_flag("--new-key", new_key, "generate --key-file first (refuses to overwrite)");
  protect->add_option("--config,-c", config, "write the result into this .config");
  protect->footer(kExitCodes);

  auto* rotate = app.add_subcommand(
      "rotate-key", "re-encrypt the config's secret under a new key and point the config at it");
  rotate->add_option("--config,-c", config, "the .config file")->required();
  rotate->add_option("--old-key-file", old_key_file,
                     "the current key; default: EmailIntegrationKeyFile, then EXO_SECRET_KEY");
  rotate->add_option("--key-file", key_file, "the new key")->required();
  rotate->add_flag("--new-key", new_key, "generate --key-file first");
  rotate->footer(kExitCodes);

  MonitorArgs margs;
  auto add_monitor_options = [&margs](CLI::App* cmd) {
    cmd->add_option("--config,-c", margs.config, "the .config file")->required();
    auto* exec = cmd->add_option("--exec", margs.exec,
                                 "run this shell command per message: MIME on stdin, metadata in "
                                 "EXO_IDEMPOTENCY_KEY, EXO_MESSAGE_ID, EXO_SUBJECT, EXO_FROM, "
                                 "EXO_RECEIVED; exit 0 accepts");
    auto* dir =
        cmd->add_option("--out-dir", margs.out_dir, "write each message to DIR/<key>.eml instead");
    exec->excludes(dir);
    cmd->add_option("--exec-timeout", margs.exec_timeout, "seconds before the command is killed")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--state", margs.state_file,
                    "the checkpoint database (default: EmailIntegrationStateDir/exo-mailbox.db)");
    cmd->add_flag("--all", margs.all, "hand over messages that are already read, too");
    cmd->add_option(
        "--record", margs.record,
        "record the HTTP exchanges into this cassette, rewritten after each one: "
        "secrets and tokens scrubbed, mail contents kept (exo-scenario replay plays it)");
    cmd->add_option("--clock-url", margs.clock_url,
                    "run on this harness's simulated clock: its control URL (the ready file's "
                    "\"control\", e.g. https://127.0.0.1:PORT/_exo), trusted with the CaBundle");
    cmd->add_option("--events", margs.events,
                    "append JSON lines here as things happen: handed messages and status "
                    "changes (docs/client.md)");
    cmd->footer(kExitCodes);
  };
  auto* monitor = app.add_subcommand(
      "monitor", "watch the folder until SIGTERM: hand over new mail, apply the disposition");
  add_monitor_options(monitor);
  monitor->add_option("--poll-interval", margs.poll_seconds, "seconds between syncs")
      ->check(CLI::PositiveNumber);
  monitor->add_option("--status-interval", margs.status_seconds,
                      "seconds between unchanged status lines");
  monitor->add_flag("--no-notifications", margs.no_notifications,
                    "poll only (no streaming notifications)");
  auto* fetch = app.add_subcommand("fetch", "one pass: hand over what is new, then exit");
  add_monitor_options(fetch);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  if (!log_level.empty() && !log::SetLevel(log_level)) {
    std::cerr << "exo-mailbox: unknown --log-level " << log_level << "\n";
    return kUsage;
  }
  if (g_skip_tls_verification) {
    // Said here as well as per connection: --log-level off silences the log, not this.
    std::cerr << "exo-mailbox: WARNING: TLS certificate verification is OFF "
                 "(--insecure-skip-tls-verify); tokens and mail can be read by anyone on the path\n";
  }
  if (*doctor) return Doctor(config, json, doctor_record);
  if (*protect) return ProtectSecret(key_file, new_key, config);
  if (*rotate) return RotateKey(config, old_key_file, key_file, new_key);
  if ((*monitor || *fetch) && margs.exec.empty() && margs.out_dir.empty()) {
    std::cerr << "exo-mailbox: give --exec COMMAND or --out-dir DIR\n";
    return kUsage;
  }
  if (*monitor) return Monitor(margs, false);
  if (*fetch) return Monitor(margs, true);
  return kUsage;
}
