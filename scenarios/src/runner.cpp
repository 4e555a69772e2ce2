// The scenario runner: one world per scenario (mock-aad, mock-ews, optionally an on-premises
// Exchange Server, all on one SimulatedClock), the real client library against it, and the
// timeline applied between the monitor's wake-ups. Nothing here sleeps or reads the wall clock
// except to report how long a run took.
#include "exo/scenarios/runner.hpp"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/config.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "exo/exo_admin/runner.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"
#include "internal/observed.hpp"
#include "internal/remote.hpp"
#include "internal/routed_http.hpp"
#include "internal/scratch_dir.hpp"

namespace exo::scenarios {

namespace internal {

client::HttpRequest RoutedHttpTransport::Route(client::HttpRequest request) const {
  auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  const std::string url = lower(request.url);
  for (const auto& [from, to] : routes_) {
    const std::string f = lower(from);
    if (url.starts_with(f) && (url.size() == f.size() || url[f.size()] == '/')) {
      request.url = to + request.url.substr(from.size());
      break;
    }
  }
  return request;
}

}  // namespace internal

namespace {

using json = nlohmann::json;
using Phase = client::MonitorStatus::Phase;

// The one tenant every scenario has (the harness's default ids, shared/reference/entra-id.md).
constexpr const char* kTenantId = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";
constexpr const char* kAdminUpn = "admin@contoso.onmicrosoft.com";
constexpr const char* kAdminPassword = "Scenario-Admin-Pa55!";
constexpr const char* kExchange = "https://outlook.office365.com";
constexpr const char* kGraph = "https://graph.microsoft.com";
constexpr const char* kDefaultSender = "sender@contoso.com";
constexpr const char* kWrongSecret = "Wrg8Q~this-is-not-the-secret-value-00000";
// What ErrorInvalidSyncStateData looks like from the client's side: base64 of no valid state.
// How often exo-mailbox's config watcher looks at the file (MailboxClient::WatchConfig's default).
constexpr Duration kWatcherPeriod = std::chrono::milliseconds(2001);
constexpr const char* kBogusSyncState = "bm90IGEgc3luYyBzdGF0ZQ==";

std::uint64_t Fnv(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hex(std::uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 15];
  return out;
}

// Stable ids and secrets from names, so scenario files need not carry them.
std::string GuidFor(const std::string& name) {
  const std::string h = Hex(Fnv("app:" + name), 16) + Hex(Fnv("id:" + name), 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-8" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}
std::string SecretFor(const std::string& app, const std::string& secret, std::uint64_t seed) {
  const std::string key = app + "/" + secret + "/" + std::to_string(seed);
  return Hex(Fnv("a" + key), 4) + "Q~" + Hex(Fnv("b" + key), 16) + Hex(Fnv("c" + key), 16) +
         Hex(Fnv("d" + key), 2);
}

// The index-th RSA key for app certificates. A 2048-bit key costs up to a second of CPU, so keys
// are made once per process (and once per EXO_SIGNING_KEY_POOL directory, as mock-aad's signing
// keys) and shared by every world; within one world each certificate has its own.
Result<crypto::PrivateKey> AppKey(std::size_t index) {
  static std::mutex mu;
  static std::vector<crypto::PrivateKey> pool;
  std::lock_guard lock(mu);
  while (pool.size() <= index) {
    const char* dir = std::getenv("EXO_SIGNING_KEY_POOL");
    std::filesystem::path file;
    if (dir != nullptr && *dir != '\0') {
      file = std::filesystem::path(dir) / ("app-key-" + std::to_string(pool.size() + 1) + ".pem");
    }
    if (!file.empty()) {
      if (auto text = ReadFile(file)) {
        if (auto key = crypto::PrivateKey::FromPem(*text)) {
          pool.push_back(*key);
          continue;
        }
      }
    }
    auto key = crypto::PrivateKey::GenerateRsa(2048);
    if (!key) return std::unexpected(key.error());
    if (!file.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      (void)WriteFileAtomically(file, key->ToPem(), 0600);
    }
    pool.push_back(*key);
  }
  return pool[index];
}

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kStarting: return "starting";
    case Phase::kHealthy: return "healthy";
    case Phase::kBackingOff: return "backing-off";
    case Phase::kStopped: return "stopped";
  }
  return "starting";
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class NoTerminal final : public admin::Prompter {
 public:
  std::optional<std::string> ReadLine(const std::string&) override { return std::nullopt; }
  std::optional<std::string> ReadSecret(const std::string&) override { return std::nullopt; }
};

Result<void> Failed(const std::string& code, const std::string& message) {
  return exo::Fail(ErrorCategory::kInternal, code, message);
}

// Moves the simulated clock while a server sleeps on it in the middle of a request (a fault
// rule's latencyMs, throttling's holdMs) and the runner's thread waits for the answer. Nothing
// else waits on a scenario's clock (the monitor runs without notifications, no config watcher),
// so the clock jumps to exactly that deadline: a slow answer costs its simulated time, no wall
// time, and the same every run. Started only for scenarios that ask for slow answers.
class ClockPump {
 public:
  explicit ClockPump(SimulatedClock& clock) : clock_(clock), thread_([this] { Loop(); }) {}
  ~ClockPump() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Loop() {
    while (!stop_) {
      // A bounded wait only so that stop_ is seen; it never decides an outcome.
      if (!clock_.AwaitWaiters(1, std::chrono::milliseconds(20))) continue;
      if (auto next = clock_.NextWakeup()) clock_.AdvanceTo(*next);
      std::this_thread::yield();  // let the woken server thread leave the clock
    }
  }

  SimulatedClock& clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The in-process client's HTTP against out-of-process servers: before each request the harness's
// clock is brought to the runner's, so the servers judge tokens, policies and propagation at the
// time the client lives in.
class ClockSyncedTransport final : public client::HttpTransport {
 public:
  ClockSyncedTransport(client::HttpTransport& inner, std::function<void()> sync)
      : inner_(inner), sync_(std::move(sync)) {}
  Result<client::HttpResponse> Send(const client::HttpRequest& request) override {
    sync_();
    return inner_.Send(request);
  }
  Result<client::HttpResponse> SendStreaming(const client::HttpRequest& request,
                                             const client::ChunkReceiver& receiver,
                                             client::StreamCancel* cancel = nullptr) override {
    sync_();
    return inner_.SendStreaming(request, receiver, cancel);
  }

 private:
  client::HttpTransport& inner_;
  std::function<void()> sync_;
};

class World {
 public:
  World(const Scenario& scenario, const RunOptions& options, ScenarioResult& result)
      : s_(scenario),
        o_(options),
        r_(result),
        clock_(scenario.world.start.value_or(SimulatedClock::DefaultStart())),
        random_(scenario.seed),
        transport_(options.transport.empty() ? scenario.transports.front() : options.transport) {}

  ~World() {
    // Clients before servers: a server stopping waits for kept-alive connections.
    CloseClient();
    driver_.reset();
    pump_.reset();
    held_.clear();  // slots in ews_'s throttling policy
    admin_.reset();
    observed_.reset();
    routed_.reset();
    http_.reset();
    onprem_.reset();
    ews_.reset();
    aad_.reset();
    synced_.reset();
    if (harness_) harness_->Stop();
  }

  void Run() {
    Line("scenario " + s_.name + " seed " + std::to_string(s_.seed) +
         (transport_ != "ews" ? " transport " + transport_ : ""));
    if (std::find(s_.transports.begin(), s_.transports.end(), transport_) == s_.transports.end()) {
      r_.skipped = true;
      r_.skip_reason = "written for " + Join(s_.transports) + " only, not " + transport_;
      Line("skipped: " + r_.skip_reason);
      return;
    }
    if (const std::string why = RemoteUnsupported(); !why.empty()) {
      r_.skipped = true;
      r_.skip_reason = why;
      Line("skipped: " + why);
      return;
    }
    if (const std::string why = ExternalUnsupported(); !why.empty()) {
      r_.skipped = true;
      r_.skip_reason = why;
      Line("skipped: " + why);
      return;
    }
    if (auto built = Build(); !built) {
      Fail("world", built.error().Describe());
      return;
    }
    start_ = clock_.Monotonic();
    if (!s_.admin.empty()) {
      Line("admin " + std::to_string(s_.admin.size()) + " line(s)");
      if (auto ok = PowerShell(s_.admin, std::nullopt); !ok) {
        Fail("admin", ok.error().Describe());
        return;
      }
    }
    // With an openClient step the client starts there (after the setup that makes its app).
    const bool deferred = std::any_of(s_.timeline.begin(), s_.timeline.end(), [](const Step& x) {
      return x.kind == Step::Kind::kOpenClient;
    });
    if (auto opened = deferred ? Result<void>() : OpenClient(); !opened) {
      Fail("client", opened.error().Describe());
      return;
    }
    for (const Step& step : s_.timeline) {
      RunUntil(start_ + step.at);
      if (step.kind != Step::Kind::kExpect) Apply(step);
      if (step.expect) Check(*step.expect, step.where + ".expect");
    }
    RunUntil(start_ + s_.end);
    if (s_.expect_at_end) Check(*s_.expect_at_end, "expect");
    // Invariants every scenario keeps, whatever it expects. A message handed again under its
    // idempotency key is absorbed by the application, but only a crash between the hand-over and
    // its commit excuses it.
    for (const auto& [key, times] : handed_times_) {
      if (times > 1 && !lost_commits_.contains(key)) {
        Fail("invariant", "\"" + subjects_[key] + "\" was handed " + std::to_string(times) +
                              " times (never twice)");
      }
    }
    if (const auto early = EarlyRetries(); early != 0) {
      Fail("invariant", std::to_string(early) + " request(s) came before the back-off the server "
                                                "asked for had elapsed");
    }
    Line("end handed=" + std::to_string(handed_order_.size()) +
         " tokenRequests=" + std::to_string(TokenRequests()));
    r_.simulated = clock_.Monotonic() - start_;
    CloseSpan();
  }

 private:
  // ---- The world ----

  Result<void> Build() {
    if (dir_.path().empty()) return Failed("Scratch", "cannot create a temporary directory");
    for (const AppSpec& app : s_.world.apps) {
      app_ids_[app.name] = app.app_id.empty() ? GuidFor(app.name) : Lower(app.app_id);
      for (const SecretSpec& secret : app.secrets) {
        secrets_[app.name + "/" + secret.name] = SecretFor(app.name, secret.name, s_.seed);
        app_secrets_[app.name].push_back(secrets_[app.name + "/" + secret.name]);
      }
      for (const CertificateSpec& cert : app.certificates) {
        if (auto made = MakeCertificate(app.name, cert.name, cert.start, cert.expires); !made) {
          return std::unexpected(made.error());
        }
      }
    }
    // Out of process, the remote clock driver wakes a client blocked on a slow answer.
    if (SlowAnswers() && !External()) pump_ = std::make_unique<ClockPump>(clock_);
    if (Remote()) {
      if (auto ok = StartHarness(); !ok) return ok;
    } else if (auto ok = StartInProcess(); !ok) {
      return ok;
    }
    client::HttpOptions http;
    http.ca_bundle = ca_file_;
    http_ = client::MakeHttpTransport(http);
    if (s_.world.on_premises) {
      if (auto ok = StartOnPremises(*s_.world.on_premises); !ok) return ok;
    }

    admin::RunnerOptions admin_options;
    admin_options.endpoints.authority = aad_url_;
    admin_options.endpoints.exchange = ews_base_;
    admin_options.endpoints.ca_file = ca_file_.string();
    admin_options.endpoints.tenant = kTenantId;
    admin_options.endpoints.admin_upn = kAdminUpn;
    admin_options.endpoints.admin_password = kAdminPassword;
    admin_options.json = true;
    admin_options.script_path = s_.file;
    admin_ = std::make_unique<admin::Runner>(admin_options, prompter_, admin_out_, admin_err_,
                                             clock_);
    if (Remote() && !s_.world.groups.empty()) {
      if (auto ok = RemoteGroups(); !ok) return ok;
    }
    if (s_.world.exchange_propagation) {
      // Through the control API, as out of process: the mock validates the values.
      if (auto ok = Control({{"server", "ews"},
                             {"method", "PUT"},
                             {"path", "/_exo/admin/propagation"},
                             {"body", *s_.world.exchange_propagation}});
          !ok) {
        return std::unexpected(ok.error());
      }
    }

    key_file_ = dir_.path() / "secret.key";
    config_file_ = dir_.path() / "scheduler.config";
    if (auto key = client::SecretKey::Generate(key_file_); !key) return std::unexpected(key.error());
    if (!s_.client.app.empty()) {
      client_app_id_ = app_ids_[s_.client.app];
      if (!s_.client.certificate.empty()) {
        client_certificate_ = cert_files_[s_.client.app + "/" + s_.client.certificate];
      } else {
        client_secret_ = s_.client.secret == "wrong"
                             ? std::string(kWrongSecret)
                             : secrets_[s_.client.app + "/" + s_.client.secret];
      }
    }
    // An app the scenario makes itself gets its id and secret when the client opens.
    if (!s_.client.app_id.empty()) return {};
    return WriteConfig();
  }

  // mock-aad and mock-ews in this process, on the runner's clock.
  Result<void> StartInProcess() {
    aad::MockAadOptions aad_options;
    aad_options.ca_dir = dir_.path() / "ca";
    aad_options.world = AadWorld();
    aad_options.seed = s_.seed;
    aad_options.threads = 4;
    aad_options.signing_keys = 1;
    auto aad = aad::MockAad::Start(aad_options, clock_, &clock_);
    if (!aad) return std::unexpected(aad.error());
    aad_ = std::move(*aad);

    mock_ews::MockEwsOptions ews_options;
    ews_options.seed = s_.seed;
    ews_options.threads = 8;
    auto ews = StartExchange(ews_options);
    if (!ews) return std::unexpected(ews.error());
    ews_ = std::move(*ews);
    for (const std::string& smtp : s_.world.mailboxes) {
      mock_ews::MailboxSpec spec;
      spec.organization_id = kTenantId;
      spec.primary_smtp_address = smtp;
      if (auto m = ews_->store().CreateMailbox(spec); !m) return std::unexpected(m.error());
    }
    // The world's groups existed long before the scenario starts: created with no propagation
    // delay, which the admin model stamps on each change when it is made.
    if (!s_.world.groups.empty()) {
      const mock_ews::PropagationSettings normal = ews_->admin().propagation();
      mock_ews::PropagationSettings settled = normal;
      settled.group_membership = {};
      settled.access_policy = {};
      ews_->admin().SetPropagation(settled);
      for (const GroupSpec& g : s_.world.groups) {
        mock_ews::NewDistributionGroupParams p;
        p.name = g.name;
        p.primary_smtp_address = g.smtp;
        p.type = g.security ? mock_ews::GroupType::kSecurity : mock_ews::GroupType::kDistribution;
        p.members = g.members;
        if (auto made = ews_->admin().NewDistributionGroup(kTenantId, p); !made) {
          ews_->admin().SetPropagation(normal);
          return std::unexpected(made.error());
        }
      }
      ews_->admin().SetPropagation(normal);
    }

    aad_url_ = aad_->base_url();
    ews_base_ = ews_->base_url();
    ca_file_ = aad_->ca_file();
    return {};
  }

  // ---- Out-of-process servers (RunOptions::harness) ----

  bool Remote() const { return !o_.harness.empty(); }

  // What needs the servers in this process; such a scenario is skipped, saying why.
  std::string RemoteUnsupported() const {
    if (!Remote()) return {};
    if (s_.world.on_premises) return "an on-premises server is started in-process only";
    if (SlowAnswers() && !External()) {
      return "a slow answer parks the in-process client on the harness's clock, which only an "
             "out-of-process client's idle detection can move";
    }
    for (const Step& step : s_.timeline) {
      if (step.kind == Step::Kind::kMoveMailbox || step.kind == Step::Kind::kHoldConnections) {
        return std::string(ToString(step.kind)) + " (" + step.where +
               ") needs mock-ews in-process (the control API has no equivalent)";
      }
    }
    return {};
  }

  // exo-harness with the world: its clock simulated from the world's start, its seed, the apps
  // as a world file, the mailboxes as --mailbox; both servers share that clock and one CA.
  Result<void> StartHarness() {
    const std::filesystem::path world_file = dir_.path() / "world.json";
    if (auto ok = WriteFileAtomically(world_file, AadWorld().dump(2) + "\n", 0600); !ok) return ok;
    internal::HarnessProcess::Options h;
    h.binary = o_.harness;
    h.args = {"--clock", "simulated", "--start-time", FormatIso8601(clock_.Now()),
              "--seed", std::to_string(s_.seed), "--world", world_file.string(),
              "--ca-dir", (dir_.path() / "ca").string()};
    for (const std::string& smtp : s_.world.mailboxes) {
      h.args.push_back("--mailbox");
      h.args.push_back(smtp);
    }
    h.work_dir = dir_.path() / "harness";
    auto started = internal::HarnessProcess::Start(h);
    if (!started) return std::unexpected(started.error());
    harness_ = std::move(*started);
    const json& ready = harness_->ready();
    aad_url_ = ready.value("aad", std::string());
    const std::string ews_control = ready.value("ewsControl", std::string());
    ews_base_ = ews_control.substr(0, ews_control.size() - std::string("/_exo").size());
    ca_file_ = harness_->ca_file();
    internal::RemoteClockDriver::Options d;
    d.control_urls = harness_->control_urls();
    d.ca_bundle = ca_file_;
    synced_ = std::make_unique<internal::RemoteClockDriver>(d);
    // The harness's monotonic clock has its own origin: the runner's times map onto it by offset.
    auto now = synced_->Read(0);
    if (!now) return std::unexpected(now.error());
    remote_offset_ms_ = now->monotonic_ms - LocalMs(clock_.Monotonic());
    synced_ms_ = now->monotonic_ms;
    return {};
  }

  // The world's groups, made through admin PowerShell as an administrator would, with the
  // membership and policy delays set to none meanwhile: they existed long before the scenario.
  Result<void> RemoteGroups() {
    auto normal = Call("ews", "GET", "/_exo/admin/propagation", std::nullopt);
    if (!normal) return std::unexpected(normal.error());
    json settled = *normal;
    for (const char* k : {"groupMembership", "accessPolicy"}) {
      settled[k] = {{"earliestMinutes", 0}, {"latestMinutes", 0}};
    }
    if (auto ok = Call("ews", "PUT", "/_exo/admin/propagation", settled); !ok) {
      return std::unexpected(ok.error());
    }
    std::string script = std::string("Connect-ExchangeOnline -UserPrincipalName ") + kAdminUpn +
                         " -ShowBanner:$false\n";
    for (const GroupSpec& g : s_.world.groups) {
      script += "New-DistributionGroup -Name \"" + g.name + "\" -PrimarySmtpAddress " + g.smtp +
                " -Type " + (g.security ? "Security" : "Distribution");
      std::string members;
      for (const std::string& m : g.members) members += (members.empty() ? "" : ",") + m;
      if (!members.empty()) script += " -Members " + members;
      script += "\n";
    }
    auto made = RunAdmin(script);
    auto restored = Call("ews", "PUT", "/_exo/admin/propagation", *normal);
    if (!made) return std::unexpected(made.error());
    if (!restored) return std::unexpected(restored.error());
    return {};
  }

  // One control-API request to a harness server ("aad" or "ews"), at the runner's time: its JSON
  // answer (null for none). A status other than 2xx is an error carrying the answer.
  Result<json> Call(const std::string& server, const std::string& method, const std::string& path,
                    const std::optional<json>& body) {
    SyncRemote();
    client::HttpRequest request;
    request.method = method;
    request.url = (server == "aad" ? aad_url_ : ews_base_) + path;
    if (body) {
      request.headers.emplace("Content-Type", "application/json");
      request.body = body->dump();
    }
    auto response = http_->Send(request);
    if (!response) return std::unexpected(response.error());
    if (response->status / 100 != 2) {
      std::string text = response->body.substr(0, 600);
      return exo::Fail(ErrorCategory::kProtocol, "HTTP " + std::to_string(response->status),
                       method + " " + server + path + " answered " +
                           std::to_string(response->status) + ": " + text);
    }
    if (response->body.empty()) return json();
    json answer = json::parse(response->body, nullptr, false);
    if (!answer.is_object()) {
      return exo::Fail(ErrorCategory::kProtocol, "NotJson",
                       method + " " + server + path + " answered something that is no JSON object: " +
                           response->body.substr(0, 200));
    }
    return answer;
  }

  // The harness's clock brought to the runner's (never back: the runner only moves forward).
  void SyncRemote() {
    if (!synced_) return;
    const std::int64_t want = Ms(clock_.Monotonic());
    if (want <= synced_ms_) return;
    if (auto ok = synced_->AdvanceTo(want); !ok) {
      Fail("servers", "cannot move exo-harness's clock: " + ok.error().Describe());
      return;
    }
    synced_ms_ = want;
  }

  // A certificate credential as an operator makes one (a key pair and a self-signed certificate,
  // valid from `start` to `expires` in mock-aad's relative form), its PEM (key and certificate)
  // written where the client can be pointed at it. Upload is separate (AadWorld, AddCertificate).
  Result<void> MakeCertificate(const std::string& app, const std::string& name,
                               const std::string& start, const std::string& expires) {
    const std::string id = app + "/" + name;
    if (cert_files_.contains(id)) {
      return exo::Fail(ErrorCategory::kConfiguration, "CertificateExists",
                       "app '" + app + "' already has a certificate named '" + name + "'");
    }
    auto from = WorldTime(start);
    auto to = WorldTime(expires);
    if (!from) return std::unexpected(from.error());
    if (!to) return std::unexpected(to.error());
    auto key = AppKey(cert_files_.size());
    if (!key) return std::unexpected(key.error());
    auto cert = crypto::Certificate::SelfSigned(*key, app + " " + name, *from, *to);
    if (!cert) return std::unexpected(cert.error());
    const std::filesystem::path file =
        dir_.path() / ("cert-" + std::to_string(cert_files_.size()) + ".pem");
    if (auto ok = WriteFileAtomically(file, key->ToPem() + cert->ToPem(), 0600); !ok) return ok;
    cert_files_[id] = file;
    cert_pems_[id] = cert->ToPem();
    cert_key_ids_[id] = GuidFor("certificate:" + id);
    return {};
  }

  // A world time as mock-aad reads one: "+30m", "-1d" from now, or ISO 8601.
  Result<SystemTime> WorldTime(const std::string& text) const {
    if (auto iso = ParseIso8601(text)) return *iso;
    const bool before = text.starts_with("-");
    auto d = ParseOffset(before ? text.substr(1) : text);
    if (!d) return std::unexpected(d.error());
    const auto delta = std::chrono::duration_cast<SystemTime::duration>(*d);
    return before ? clock_.Now() - delta : clock_.Now() + delta;
  }

  // The application permissions an app's admin consent grants (seed step 2.3): EWS's
  // full_access_as_app, Graph's Mail.ReadWrite when the client may read over Graph.
  std::vector<std::pair<std::string, std::string>> Permissions() const {
    std::vector<std::pair<std::string, std::string>> p = {{kExchange, "full_access_as_app"}};
    if (transport_ == "graph" || s_.client.transport == "auto" || s_.client.transport == "graph") {
      p.emplace_back(kGraph, "Mail.ReadWrite");
    }
    return p;
  }

  // The transport the client's configuration names: the scenario's own choice, else the run's.
  std::string ClientTransport() const {
    return s_.client.transport.empty() ? transport_ : s_.client.transport;
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : " and ") + x;
    return out;
  }

  json AadWorld() const {
    json apps = json::array();
    for (const AppSpec& app : s_.world.apps) {
      json passwords = json::array();
      for (const SecretSpec& secret : app.secrets) {
        passwords.push_back({{"secretText", secrets_.at(app.name + "/" + secret.name)},
                             {"displayName", secret.name},
                             {"startDateTime", secret.start},
                             {"endDateTime", secret.expires}});
      }
      json a = {{"appId", app_ids_.at(app.name)},
                {"displayName", app.name},
                {"enabled", app.enabled},
                {"passwordCredentials", passwords}};
      json keys = json::array();
      for (const CertificateSpec& cert : app.certificates) {
        // Entra takes the key credential's dates from the certificate.
        const std::string id = app.name + "/" + cert.name;
        keys.push_back({{"certificatePem", cert_pems_.at(id)},
                        {"keyId", cert_key_ids_.at(id)},
                        {"displayName", cert.name}});
      }
      if (!keys.empty()) a["keyCredentials"] = keys;
      if (app.consent) {
        json roles = json::array();
        for (const auto& [resource, role] : Permissions()) {
          roles.push_back({{"resource", resource}, {"appRole", role}});
        }
        a["appRoleAssignments"] = roles;
      }
      apps.push_back(a);
    }
    json tenant = {{"id", kTenantId},
                   {"displayName", "Contoso"},
                   {"domains", {"contoso.onmicrosoft.com", "contoso.com"}},
                   {"users", json::array({{{"userPrincipalName", kAdminUpn},
                                           {"displayName", "Scenario Admin"},
                                           {"password", kAdminPassword},
                                           {"roles", {"Global Administrator"}}}})},
                   {"applications", apps}};
    if (s_.world.on_premises && s_.world.on_premises->spn) {
      tenant["exchangeServicePrincipalNames"] = {s_.world.on_premises->url};
    }
    json world = {{"tenants", json::array({tenant})}};
    auto seconds = [](Duration d) {
      return std::chrono::duration_cast<std::chrono::seconds>(d).count();
    };
    json settings = json::object();
    if (s_.world.token_lifetime)
      settings["tokenLifetimeSeconds"] = seconds(*s_.world.token_lifetime);
    if (s_.world.secret_propagation) {
      settings["secretPropagationSeconds"] = seconds(*s_.world.secret_propagation);
    }
    if (s_.world.consent_propagation) {
      settings["consentPropagationSeconds"] = seconds(*s_.world.consent_propagation);
    }
    if (!settings.empty()) world["settings"] = settings;
    return world;
  }

  // An Exchange (Online or Server) on the world's CA and clock, trusting the tenant's tokens, with
  // the tenant as its organization.
  Result<std::unique_ptr<mock_ews::MockEws>> StartExchange(mock_ews::MockEwsOptions options) {
    options.ca_dir = dir_.path() / "ca";
    auto started = mock_ews::MockEws::Start(options, clock_, &clock_);
    if (!started) return std::unexpected(started.error());
    if (auto ok = (*started)->TrustTenant({kTenantId, [this] { return aad_->Jwks(); }}); !ok) {
      return std::unexpected(ok.error());
    }
    if (auto ok = (*started)->store().CreateOrganization(kTenantId, "Contoso"); !ok) {
      return std::unexpected(ok.error());
    }
    return started;
  }

  Result<void> StartOnPremises(const OnPremisesSpec& spec) {
    mock_ews::MockEwsOptions options;
    options.threads = 4;
    options.seed = s_.seed + 1;  // its own ids: a GUID drawn here must not repeat Exchange Online's
    options.deployment = mock_ews::Deployment::kExchangeServer;
    options.on_premises.public_url = spec.url;
    options.on_premises.app_only_oauth = spec.app_only_oauth;
    auto started = StartExchange(options);
    if (!started) return std::unexpected(started.error());
    onprem_ = std::move(*started);
    for (const std::string& smtp : spec.mailboxes) {
      mock_ews::MailboxSpec m;
      m.organization_id = kTenantId;
      m.primary_smtp_address = smtp;
      if (auto made = onprem_->store().CreateMailbox(m); !made) return std::unexpected(made.error());
      mock_ews::AutodiscoverRedirect target;
      target.ews_url = spec.url + "/EWS/Exchange.asmx";
      if (auto ok = ews_->SetAutodiscoverRedirect(smtp, target); !ok) return ok;
    }
    routed_ = std::make_unique<internal::RoutedHttpTransport>(
        *http_, std::map<std::string, std::string>{{spec.url, onprem_->base_url()}});
    return {};
  }

  Result<void> WriteConfig() {
    auto key = client::SecretKey::LoadFile(key_file_);
    if (!key) return std::unexpected(key.error());
    std::map<std::string, std::string> keys = {
        {"EmailIntegrationIdApp", client_app_id_},
        {"EmailIntegrationTenantId", kTenantId},
        {"EmailIntegrationWebmailDefault", std::string(kExchange) + "/.default"},
        {"EmailIntegrationMailbox", s_.client.mailbox},
        {"EmailIntegrationConnectionType", "Exchange"},
        {"EmailIntegrationFolder", s_.client.folder},
        {"EmailIntegrationDisposition", s_.client.disposition},
        {"EmailIntegrationAuthority", aad_url_},
        {"EmailIntegrationCaBundle", ca_file_.string()},
        {"EmailIntegrationKeyFile", key_file_.string()},
        {"EmailIntegrationStateDir", dir_.path().string()}};
    // The mock serves Graph beside EWS; written for every run, so an operator's later switch to
    // graph or auto (updateConfig) finds it, as a migration guide sets the URL first.
    keys["EmailIntegrationGraphUrl"] = ews_base_;
    if (const std::string t = ClientTransport(); t != "ews") keys["EmailIntegrationTransport"] = t;
    if (s_.client.autodiscover) {
      keys["EmailIntegrationAutodiscoverUrl"] = ews_base_ + "/autodiscover/autodiscover.svc";
    } else {
      keys["EmailIntegrationEwsUrl"] = ews_base_ + "/EWS/Exchange.asmx";
    }
    // A certificate credential replaces the secret (EmailIntegrationCertificate, docs/client.md).
    if (!client_certificate_.empty()) {
      keys["EmailIntegrationCertificate"] = client_certificate_.string();
    } else {
      auto sealed = client::ProtectSecret(client_secret_, *key);
      if (!sealed) return std::unexpected(sealed.error());
      keys["EmailIntegrationClientSecret"] = *sealed;
    }
    for (const auto& [k, v] : config_set_) {  // updateConfig's "set", last
      if (v) {
        keys[k] = *v;
      } else {
        keys.erase(k);
      }
    }
    auto escape = [](const std::string& v) {
      std::string out;
      for (char ch : v) {
        if (ch == '&') out += "&amp;";
        else if (ch == '"') out += "&quot;";
        else if (ch == '<') out += "&lt;";
        else out += ch;
      }
      return out;
    };
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n";
    for (const auto& [k, v] : keys) {
      xml += "    <add key=\"" + k + "\" value=\"" + escape(v) + "\"/>\n";
    }
    xml += "  </appSettings>\n</configuration>\n";
    std::ofstream out(config_file_, std::ios::trunc);
    out << xml;
    if (!out.flush()) return Failed("ConfigWrite", "cannot write " + config_file_.string());
    return {};
  }

  // ---- The client ----

  Result<void> OpenClient() {
    if (External()) return OpenExternalClient();
    auto config = client::LoadClientConfig(config_file_);
    if (!config) return std::unexpected(config.error());
    client::MailboxClientOptions options;
    options.owner = owner_.empty() ? s_.client.owner : owner_;
    options.http = ClientHttp();
    // A new process opens the SQLite file afresh; the decorator lets a scenario kill it mid-batch.
    auto sqlite = client::OpenSqliteCheckpointStore(dir_.path() / "exo-mailbox.db");
    if (!sqlite) return std::unexpected(sqlite.error());
    store_ = std::make_shared<internal::CrashingStore>(std::move(*sqlite));
    options.store = store_;
    auto opened = client::MailboxClient::Open(*config, clock_, random_, options);
    if (!opened) return std::unexpected(opened.error());
    client_ = std::move(*opened);
    auto monitor = client_->MakeMonitor(Handler(), MonitorBase());
    if (!monitor) return std::unexpected(monitor.error());
    monitor_ = *monitor;
    return {};
  }

  client::MonitorOptions MonitorBase() const {
    client::MonitorOptions base;
    base.use_notifications = false;  // notifications would wait on the clock on their own thread
    base.poll_interval = s_.client.poll_interval;
    base.sync_batch = s_.client.sync_batch;
    return base;
  }

  // The application: it keeps what it was handed by idempotency key, so a message handed again
  // under the same key is absorbed (and noted); `handed` expectations see the application's view.
  client::MessageHandler Handler() {
    return [this](const client::HandledMessage& h) -> Result<void> {
      const std::string subject = h.message.subject;
      if (o_.client_double == ClientDouble::kCommitsBeforeHanding && store_) {
        // The broken order: written down as handed first; a crash now loses the message.
        if (auto ok = store_->inner().SetState(FolderKey(), h.idempotency_key,
                                               client::MessageState::kHanded);
            !ok) {
          return ok;
        }
        if (crash_countdown_ > 0 && --crash_countdown_ == 0) {
          store_->Die();
          last_handed_key_.clear();
          Line("crash inside a batch: \"" + subject + "\" committed, not yet handed over");
          return exo::Fail(ErrorCategory::kInternal, "SimulatedCrash", "the process died");
        }
      }
      NoteHanded(h.idempotency_key, subject);
      return {};
    };
  }

  void NoteHanded(const std::string& key, const std::string& subject) {
    subjects_[key] = subject;
    last_handed_key_ = key;
    const int times = ++handed_times_[key];
    if (times == 1) handed_order_.push_back(subject);
    r_.markers.push_back(Marker{clock_.Monotonic() - start_, "handed", subject});
    Line("handed \"" + subject + "\"" +
         (times > 1 ? " again (" + std::to_string(times) + ", same idempotency key: absorbed)" : ""));
  }

  // ---- An out-of-process client (RunOptions::client_command) ----

  bool External() const { return !o_.client_command.empty(); }

  // What only the in-process library can do; such a scenario is skipped, saying why.
  std::string ExternalUnsupported() const {
    if (!External()) return {};
    if (o_.client_double != ClientDouble::kNone) return "client doubles need the in-process client";
    if (s_.world.on_premises) return "an on-premises server is reached through an in-process route";
    for (const Step& step : s_.timeline) {
      switch (step.kind) {
        case Step::Kind::kSecondProject:
        case Step::Kind::kInvalidateSyncState:
        case Step::Kind::kMoveMailbox:
        case Step::Kind::kHoldConnections:
          return std::string(ToString(step.kind)) + " (" + step.where + ") needs the in-process client";
        case Step::Kind::kCrash:
          if (step.args.is_object() && step.args.contains("afterHanding")) {
            return "a crash inside a batch (" + step.where + ") needs the in-process client";
          }
          break;
        default: break;
      }
    }
    return {};
  }

  Result<void> OpenExternalClient() {
    const std::filesystem::path events = dir_.path() / ("events-" + std::to_string(++processes_) + ".jsonl");
    const std::string clock_url = ews_base_ + "/_exo";
    std::map<std::string, std::string> vars = {
        {"{config}", config_file_.string()},
        {"{clock}", clock_url},
        {"{events}", events.string()},
        {"{out}", (dir_.path() / "out").string()},
        {"{poll}", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(s_.client.poll_interval).count())}};
    internal::ClientProcess::Options po;
    for (std::string arg : o_.client_command) {
      for (const auto& [k, v] : vars) {
        for (auto pos = arg.find(k); pos != std::string::npos; pos = arg.find(k, pos + v.size())) {
          arg.replace(pos, k.size(), v);
        }
      }
      po.argv.push_back(arg);
    }
    std::filesystem::create_directories(dir_.path() / "out");
    po.stdout_file = dir_.path() / ("client-" + std::to_string(processes_) + ".out");
    po.stderr_file = dir_.path() / ("client-" + std::to_string(processes_) + ".err");
    po.events_file = events;
    po.environment = {{"EXO_SCENARIO_CONFIG", config_file_.string()},
                      {"EXO_SCENARIO_CLOCK_URL", clock_url},
                      {"EXO_SCENARIO_EVENTS", events.string()}};
    auto started = internal::ClientProcess::Start(po);
    if (!started) return std::unexpected(started.error());
    proc_ = std::move(*started);
    stderr_file_ = po.stderr_file;
    if (!driver_) {
      internal::RemoteClockDriver::Options d;
      d.control_urls = {aad_url_ + "/_exo", ews_base_ + "/_exo"};
      d.ca_bundle = ca_file_;
      driver_ = std::make_unique<internal::RemoteClockDriver>(d);
    }
    Line("client process started");
    return {};
  }

  // The id of the wait named `who` listed now; with `other`, waits (bounded, real time) until one
  // that is not `other` is listed. Empty when none is seen.
  std::string WaitId(const std::string& who, const std::string& other) {
    const auto give_up = RealClock::Instance().Monotonic() + std::chrono::seconds(10);
    do {
      for (std::size_t i = 0; i < 2; ++i) {
        auto c = driver_->Read(i);
        if (!c) return {};
        for (const auto& w : c->waiting) {
          if (w.who == who && w.id != other) return w.id;
        }
      }
      if (other.empty()) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } while (RealClock::Instance().Monotonic() < give_up);
    return {};
  }

  // A runner time as the servers' clock reads it (out of process: the harness's own origin).
  std::int64_t Ms(MonoTime t) const { return LocalMs(t) + remote_offset_ms_; }
  MonoTime LocalTime(std::int64_t server_ms) const {
    return MonoTime(std::chrono::milliseconds(server_ms - remote_offset_ms_));
  }
  static std::int64_t LocalMs(MonoTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

  // Moves the clock as the in-process loop does, but the wake-ups are the external client's: it
  // is idle when it waits on the clock as "monitor" and no server is working for it.
  void RunExternalUntil(MonoTime target) {
    while (proc_) {
      auto idle = driver_->WaitForIdle(std::chrono::seconds(30));
      DrainEvents();
      if (auto exited = proc_->Exited()) {
        Fail("client", "the client process exited (" + exited->Describe() + "): " + StderrTail());
        proc_.reset();
        break;
      }
      if (!idle) {
        Fail("client", idle.error().Describe());
        break;
      }
      if (idle->next_ms > Ms(target)) break;
      if (auto ok = driver_->AdvanceTo(idle->next_ms); !ok) {
        Fail("client", ok.error().Describe());
        break;
      }
      if (Remote()) clock_.AdvanceTo(LocalTime(idle->next_ms));  // in-process: the same clock
    }
    clock_.AdvanceTo(target);
    SyncRemote();
    if (proc_ && driver_) {
      (void)driver_->WaitForIdle(std::chrono::seconds(30));
      DrainEvents();
    }
  }

  std::string StderrTail() const {
    auto text = ReadFile(stderr_file_);
    if (!text) return "(no standard error)";
    std::string t = *text;
    return t.size() > 600 ? "…" + t.substr(t.size() - 600) : t;
  }

  static ErrorCategory CategoryNamed(const std::string& name) {
    for (ErrorCategory c : {ErrorCategory::kConfiguration, ErrorCategory::kAuthentication,
                            ErrorCategory::kAuthorization, ErrorCategory::kThrottled,
                            ErrorCategory::kTransient, ErrorCategory::kProtocol,
                            ErrorCategory::kNotFound, ErrorCategory::kInternal}) {
      if (name == ToString(c)) return c;
    }
    return ErrorCategory::kInternal;
  }

  // The client's --events: handed messages (the application's side) and status changes.
  void DrainEvents() {
    if (!proc_) return;
    internal::ClientProcess::Events got = proc_->ReadEvents();
    for (const std::string& e : got.errors) Fail("client", "a broken event line: " + e);
    for (const json& e : got.events) {
      const std::string kind = e.value("event", "");
      if (kind == "handed") {
        NoteHanded(e.value("key", ""), e.value("subject", ""));
      } else if (kind == "status") {
        client::MonitorStatus st;
        const std::string phase = e.value("phase", "starting");
        st.phase = phase == "healthy"       ? Phase::kHealthy
                   : phase == "backing-off" ? Phase::kBackingOff
                   : phase == "stopped"     ? Phase::kStopped
                                            : Phase::kStarting;
        if (e.contains("error") && e["error"].is_object()) {
          const json& err = e["error"];
          Error x;
          x.code = err.value("code", "");
          x.category = CategoryNamed(err.value("category", ""));
          x.message = err.value("message", "");
          x.remedy = err.value("remedy", "");
          st.last_error = x;
        }
        st.handed = e.value("handed", std::size_t{0});
        NoteStatus(st);
      } else if (kind == "reloaded" || kind == "reloadFailed") {
        ++reloads_;
        reload_failed_ = kind == "reloadFailed";
      }
    }
  }

  client::FolderKey FolderKey() const { return {Lower(s_.client.mailbox), s_.client.folder}; }

  // The client's HTTP: every exchange noted, through the on-premises route when there is one.
  std::shared_ptr<client::HttpTransport> ClientHttp() {
    if (!observed_) {
      client::HttpTransport* inner = routed_ ? static_cast<client::HttpTransport*>(routed_.get()) : http_.get();
      if (Remote()) {
        clock_synced_ = std::make_unique<ClockSyncedTransport>(*inner, [this] { SyncRemote(); });
        inner = clock_synced_.get();
      }
      observed_ = std::make_unique<internal::ObservedTransport>(
          *inner, [this](const std::string& url) { return ServerOf(url); },
          [this](Exchange x) { NoteExchange(std::move(x)); });
      observed_->ReuseFirstToken(o_.client_double == ClientDouble::kNeverRefreshesTokens);
    }
    return std::shared_ptr<client::HttpTransport>(observed_.get(), [](client::HttpTransport*) {});
  }

  std::string ServerOf(const std::string& url) const {
    auto under = [&](const std::string& base) {
      return !base.empty() && Lower(url).starts_with(Lower(base));
    };
    if (under(aad_url_)) return "aad";
    if (under(ews_base_ + "/v1.0/")) return "graph";
    if (under(ews_base_)) return "ews";
    if (s_.world.on_premises && under(s_.world.on_premises->url)) return "onprem";
    if (onprem_ && under(onprem_->base_url())) return "onprem";
    return "other";
  }

  void NoteExchange(Exchange x) {
    x.at = clock_.Monotonic() - start_;
    std::string line = "http " + x.server + " " + x.what + " " +
                       (x.status == 0 ? std::string("-") : std::to_string(x.status));
    if (x.outcome != "ok") line += " " + x.outcome + (x.detail.empty() ? "" : " " + x.detail);
    Line(line);
    r_.exchanges.push_back(std::move(x));
  }

  void CloseClient() {
    if (proc_) {
      const internal::ExitStatus st = proc_->Stop(std::chrono::seconds(10));
      DrainEvents();
      Line("client process stopped: " + st.Describe());
      proc_.reset();
    }
    if (client_) retired_token_requests_ += client_->tokens().requests();
    monitor_.reset();
    client_.reset();
    store_.reset();
  }

  std::size_t TokenRequests() const {
    return retired_token_requests_ + (client_ ? client_->tokens().requests() : 0);
  }

  std::uint64_t EarlyRetries() {
    if (Remote()) {
      std::uint64_t n = 0;
      for (const char* path : {"/_exo/throttling", "/_exo/graph/throttling"}) {
        auto t = Call("ews", "GET", path, std::nullopt);
        if (!t) {
          Fail("servers", t.error().Describe());
          continue;
        }
        if (const json& e = (*t)["earlyRetries"]; e.is_number_unsigned()) n += e.get<std::uint64_t>();
      }
      return n;
    }
    return (ews_ ? ews_->throttling().early_retries() + ews_->graph_throttling().early_retries()
                 : 0) +
           (onprem_ ? onprem_->throttling().early_retries() : 0);
  }

  void StepMonitor() {
    if (!monitor_) return;
    NoteStatus(monitor_->Step());
    if (store_ && store_->crashed()) {
      // The process died inside the batch: whatever the application got last was not committed.
      if (!last_handed_key_.empty()) lost_commits_.insert(last_handed_key_);
      if (auto ok = Crash(); !ok) Fail("crash", ok.error().Describe());
    }
  }

  // Steps the monitor at each wake-up up to `target`, then moves the clock there.
  void RunUntil(MonoTime target) {
    if (External()) return RunExternalUntil(target);
    int at_same_instant = 0;
    MonoTime last{};
    while (monitor_) {
      const MonoTime now = clock_.Monotonic();
      const MonoTime wakeup = monitor_->status().next_wakeup;
      if (o_.client_double == ClientDouble::kIgnoresBackOff && IgnoringBackOff(now, wakeup)) {
        // The broken client: retries a throttled request a second later, whatever it was told.
        clock_.AdvanceTo(std::min(now + std::chrono::seconds(1), target));
        if (clock_.Monotonic() >= target) break;
        StepMonitor();
        continue;
      }
      if (wakeup <= now) {
        at_same_instant = now == last ? at_same_instant + 1 : 0;
        last = now;
        if (at_same_instant > 1000) {
          Fail("runner", "the monitor keeps asking to run again at the same instant");
          return;
        }
        StepMonitor();
        continue;
      }
      if (wakeup > target) break;
      clock_.AdvanceTo(wakeup);
    }
    clock_.AdvanceTo(target);
  }

  bool IgnoringBackOff(MonoTime now, MonoTime wakeup) const {
    const client::MonitorStatus st = monitor_->status();
    return st.phase == Phase::kBackingOff && st.last_error &&
           st.last_error->category == ErrorCategory::kThrottled && wakeup > now + std::chrono::seconds(1);
  }

  // The report's shading: one span per stretch the client spent denied, throttled or failing.
  void NoteSpan(const client::MonitorStatus& s) {
    std::string kind = "healthy", label;
    if (s.last_error && s.phase != Phase::kHealthy) {
      const ErrorCategory c = s.last_error->category;
      kind = c == ErrorCategory::kAuthorization || c == ErrorCategory::kAuthentication ? "denied"
             : c == ErrorCategory::kThrottled                                          ? "throttled"
                                                                                       : "failing";
      label = s.last_error->code;
    }
    if (span_open_ && span_.kind == kind && span_.label == label) return;
    CloseSpan();
    span_ = Span{clock_.Monotonic() - start_, {}, kind, label};
    span_open_ = true;
  }

  void CloseSpan() {
    if (!span_open_) return;
    span_.to = clock_.Monotonic() - start_;
    if (span_.to > span_.from || span_.kind != "healthy") r_.spans.push_back(span_);
    span_open_ = false;
  }

  void NoteStatus(const client::MonitorStatus& s) {
    last_status_ = s;
    NoteSpan(s);
    std::string line = std::string("client ") + PhaseName(s.phase);
    if (s.last_error) {
      line += " " + (s.last_error->code.empty() ? std::string("-") : s.last_error->code) + " (" +
              ToString(s.last_error->category) + ")";
    }
    if (line != last_status_line_) {
      last_status_line_ = line;
      Line(line);
    }
  }

  // ---- The timeline ----

  void Apply(const Step& step) {
    SyncRemote();  // out of process: the step happens at its time on the servers' clock too
    std::string what = ToString(step.kind);
    if (step.args.is_string()) what += " " + step.args.get<std::string>();
    if (step.args.is_object() && step.args.contains("subject")) {
      what += " " + step.args["subject"].get<std::string>();
    }
    if (step.args.is_number()) what += " " + step.args.dump();  // holdConnections
    if (step.kind == Step::Kind::kControl) {
      what += " " + step.args["server"].get<std::string>() + " " +
              step.args["method"].get<std::string>() + " " + step.args["path"].get<std::string>();
    }
    if (step.args.is_object() && step.args.contains("name") && step.args["name"].is_string()) {
      what += " " + step.args["name"].get<std::string>();  // addCertificate, removeCertificate
    }
    Line("step " + what);
    r_.markers.push_back(Marker{step.at, "step", what});
    Result<void> done = Do(step);
    if (step.must_fail) {
      if (done) {
        Fail(step.where, "succeeded, but the scenario says it must fail");
        return;
      }
      Line("  failed as expected: " + done.error().code);
      const ExpectedFailure& f = *step.must_fail;
      if (!f.code.empty() && done.error().code != f.code) {
        Fail(step.where, "failed with " + done.error().code + ", want " + f.code + " (" +
                             done.error().Describe() + ")");
      }
      if (!f.message_contains.empty() &&
          done.error().message.find(f.message_contains) == std::string::npos) {
        Fail(step.where, "failed with \"" + done.error().message + "\", which does not contain \"" +
                             f.message_contains + "\"");
      }
    } else if (!done) {
      Line("  failed: " + done.error().code);
      Fail(step.where, done.error().Describe());
    }
  }

  Result<void> Do(const Step& step) {
    const json& a = step.args;
    switch (step.kind) {
      case Step::Kind::kDeliver: return Deliver(a);
      case Step::Kind::kExpireSecret: return ExpireSecrets(a.get<std::string>());
      case Step::Kind::kRotateSecret: return RotateSecret(a.get<std::string>());
      case Step::Kind::kGrantConsent:
      case Step::Kind::kRevokeConsent: {
        auto id = AppId(a.get<std::string>());
        if (!id) return std::unexpected(id.error());
        for (const auto& [resource, role] : Permissions()) {
          if (Remote()) {
            const std::string app_path = "/_exo/tenants/" + std::string(kTenantId) +
                                         "/applications/" + *id + "/grants";
            auto done = step.kind == Step::Kind::kRevokeConsent
                            ? Call("aad", "DELETE",
                                   app_path + "?resource=" + FormEncode(resource) +
                                       "&appRole=" + FormEncode(role),
                                   std::nullopt)
                            : Call("aad", "POST", app_path,
                                   json{{"resource", resource}, {"appRole", role}});
            if (!done) return std::unexpected(done.error());
            continue;
          }
          if (step.kind == Step::Kind::kRevokeConsent) {
            if (auto ok = aad_->directory().RevokeAppRole(kTenantId, *id, resource, role); !ok) {
              return ok;
            }
          } else if (auto granted = aad_->directory().GrantAppRole(kTenantId, *id, resource, role);
                     !granted) {
            return std::unexpected(granted.error());
          }
        }
        return {};
      }
      case Step::Kind::kPowerShell: {
        std::vector<std::string> lines;
        if (a.is_string()) {
          lines.push_back(a.get<std::string>());
        } else {
          for (const auto& l : a) lines.push_back(l.get<std::string>());
        }
        return PowerShell(lines, step.output, step.capture);
      }
      case Step::Kind::kControl: return Control(a, step.output, step.capture);
      case Step::Kind::kOpenClient: return OpenClientStep();
      case Step::Kind::kUpdateConfig: return UpdateConfig(a);
      case Step::Kind::kAddCertificate: return AddCertificate(a);
      case Step::Kind::kRemoveCertificate: return RemoveCertificate(a);
      case Step::Kind::kHoldConnections:
        if (transport_ != "ews") return EwsOnly(step);
        return HoldConnections(a.get<std::size_t>());
      case Step::Kind::kFault: return Fault(a);
      case Step::Kind::kThrottle:
        if (transport_ != "ews") return EwsOnly(step);
        if (Remote()) {
          auto forced = Call("ews", "PUT", "/_exo/throttling", json{{"force", a}});
          if (!forced) return std::unexpected(forced.error());
          return {};
        }
        return ews_->throttling().Update({{"force", a}});
      case Step::Kind::kMoveMailbox: {
        const std::string mailbox = a.value("mailbox", s_.client.mailbox);
        if (a["phase"] == "begin") return ews_->BeginMailboxMove(mailbox);
        if (!onprem_) return Failed("NoOnPremises", "the world has no onPremises server to move to");
        return ews_->CompleteMailboxMove(mailbox, *onprem_);
      }
      case Step::Kind::kRestart: {
        CloseClient();
        if (auto ok = OpenClient(); !ok) return ok;
        StepMonitor();
        return {};
      }
      case Step::Kind::kCrash:
        if (a.is_object() && a.contains("afterHanding")) {
          const int n = a["afterHanding"].get<int>();
          if (o_.client_double == ClientDouble::kCommitsBeforeHanding) {
            crash_countdown_ = n;
          } else if (store_) {
            store_->ArmCrashAtHanded(n);
          }
          return {};
        }
        return Crash();
      case Step::Kind::kSecondProject: return SecondProject(a);
      case Step::Kind::kInvalidateSyncState: return InvalidateSyncState();
      case Step::Kind::kAdvance:
      case Step::Kind::kExpect: return {};
    }
    return {};
  }

  // A step that acts on EWS alone, in a run that reads the mailbox over Graph: the scenario
  // should not list graph among its transports.
  Result<void> EwsOnly(const Step& step) const {
    return Failed("EwsOnlyStep", std::string(ToString(step.kind)) + " (" + step.where +
                                     ") acts on EWS only; this run reads over " + transport_ +
                                     ": take graph out of the scenario's transports");
  }

  Result<std::string> AppId(const std::string& name) const {
    auto it = app_ids_.find(name);
    if (it == app_ids_.end()) {
      return exo::Fail(ErrorCategory::kConfiguration, "NoSuchApp",
                       "no app named '" + name + "' in the world");
    }
    return it->second;
  }

  Result<void> Deliver(const json& a) {
    const std::string subject = a.is_string() ? a.get<std::string>() : a["subject"].get<std::string>();
    const std::string to = a.is_object() ? a.value("to", s_.client.mailbox) : s_.client.mailbox;
    const std::string from = a.is_object() ? a.value("from", std::string(kDefaultSender)) : kDefaultSender;
    const int count = a.is_object() ? a.value("count", 1) : 1;
    if (Remote()) {
      for (int i = 1; i <= count; ++i) {
        const std::string subj = count == 1 ? subject : subject + " " + std::to_string(i);
        auto item = Call("ews", "POST", "/_exo/mailboxes/" + to + "/deliver",
                         json{{"from", from}, {"to", to}, {"subject", subj},
                              {"body", "Body of " + subj}});
        if (!item) return std::unexpected(item.error());
      }
      return {};
    }
    // The mailbox lives where the store has it: Exchange Online, or on-premises after a move.
    mock_ews::MockEws* server = ews_.get();
    if (!ews_->store().GetDistinguishedFolder(to, mock_ews::DistinguishedFolder::kInbox) && onprem_) {
      server = onprem_.get();
    }
    for (int i = 1; i <= count; ++i) {
      mock_ews::MessageDraft draft;
      draft.from.address = from;
      draft.to.push_back({"", to});
      draft.subject = count == 1 ? subject : subject + " " + std::to_string(i);
      draft.body = "Body of " + draft.subject;
      auto item = server->store().DeliverToInbox(to, server->store().ComposeMime(draft));
      if (!item) return std::unexpected(item.error());
    }
    return {};
  }

  // An expired secret as Entra keeps it: the same value, its end date passed.
  Result<void> ExpireSecrets(const std::string& app) {
    auto id = AppId(app);
    if (!id) return std::unexpected(id.error());
    if (Remote()) return ExpireSecretsRemote(*id, app);
    auto found = aad_->directory().FindApplication(kTenantId, *id);
    if (!found) return Failed("NoSuchApp", "app '" + app + "' is not in the directory");
    for (const auto& p : found->passwords) {
      if (auto ok = aad_->directory().RemovePassword(kTenantId, *id, p.key_id); !ok) return ok;
    }
    for (const std::string& text : app_secrets_[app]) {
      auto added = aad_->directory().AddPassword(
          kTenantId, *id, {{"secretText", text}, {"startDateTime", "-1d"}, {"endDateTime", "-1s"}});
      if (!added) return std::unexpected(added.error());
    }
    return {};
  }

  std::string AppPath(const std::string& app_id) const {
    return "/_exo/tenants/" + std::string(kTenantId) + "/applications/" + app_id;
  }

  Result<void> ExpireSecretsRemote(const std::string& id, const std::string& app) {
    auto state = Call("aad", "GET", "/_exo/state", std::nullopt);
    if (!state) return std::unexpected(state.error());
    std::vector<std::string> key_ids;
    for (const auto& t : state->value("tenants", json::array())) {
      for (const auto& a : t.value("applications", json::array())) {
        if (Lower(a.value("appId", std::string())) != id) continue;
        for (const auto& p : a.value("passwordCredentials", json::array())) {
          key_ids.push_back(p.value("keyId", std::string()));
        }
      }
    }
    for (const std::string& key : key_ids) {
      if (auto ok = Call("aad", "DELETE", AppPath(id) + "/passwords/" + key, std::nullopt); !ok) {
        return std::unexpected(ok.error());
      }
    }
    for (const std::string& text : app_secrets_[app]) {
      auto added = Call("aad", "POST", AppPath(id) + "/passwords",
                        json{{"secretText", text}, {"startDateTime", "-1d"}, {"endDateTime", "-1s"}});
      if (!added) return std::unexpected(added.error());
    }
    return {};
  }

  // What an operator does: a new secret in Entra (step 3), protected into the .config; the
  // running client's config watcher picks it up (in-process: at once, not 2 s later).
  Result<void> RotateSecret(const std::string& app) {
    auto id = AppId(app);
    if (!id) return std::unexpected(id.error());
    std::string text;
    if (Remote()) {
      auto added = Call("aad", "POST", AppPath(*id) + "/passwords", json{{"displayName", "rotated"}});
      if (!added) return std::unexpected(added.error());
      text = added->value("secretText", std::string());
    } else {
      auto added = aad_->directory().AddPassword(kTenantId, *id, {{"displayName", "rotated"}});
      if (!added) return std::unexpected(added.error());
      text = added->secret_text;
    }
    app_secrets_[app].push_back(text);
    if (app == s_.client.app) {
      client_secret_ = text;
      client_certificate_.clear();
      return ConfigChanged();
    }
    return {};
  }

  // The .config rewritten from the client's credential and `set` keys; a running client reloads
  // it at once (the real watcher checks every 2 s) and steps, as the watcher wakes the monitor
  // without waiting for its back-off.
  Result<void> ConfigChanged() {
    // Counted before the file changes: the client's watcher may read it at once (a check due at
    // the last clock move that its thread had not run yet), before the clock moves again.
    DrainEvents();
    const std::size_t before = reloads_;
    if (auto ok = WriteConfig(); !ok) return ok;
    if (proc_ && driver_) {
      // An out-of-process client's own watcher (every 2 s on its clock) must see it: the clock
      // moves on by one watcher period, and the watcher wakes the monitor.
      const std::int64_t after = Ms(clock_.Monotonic() + kWatcherPeriod);
      const std::string monitor_wait = WaitId("monitor", {});
      if (auto ok = driver_->AdvanceTo(after); !ok) return ok;
      // The watcher works on its own thread, which the idle rule cannot see: the client says when
      // the edit is in force ({"event":"reloaded"}; bounded, real time). Its reload woke the
      // monitor, whose old wait may still be listed: wait for its next one too.
      const auto give_up = RealClock::Instance().Monotonic() + std::chrono::seconds(30);
      while (reloads_ == before && RealClock::Instance().Monotonic() < give_up && proc_ &&
             !proc_->Exited()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        DrainEvents();
      }
      if (reloads_ == before) {
        Line("  the client reported no reload (an {\"event\":\"reloaded\"} line) within 30 s");
      } else if (!reload_failed_ && !monitor_wait.empty()) {
        (void)WaitId("monitor", monitor_wait);
      }
      auto idle = driver_->WaitForIdle(std::chrono::seconds(30));
      DrainEvents();
      if (!idle) return std::unexpected(idle.error());
      return {};
    }
    if (!client_) return {};
    auto reloaded = client_->ReloadIfChanged();
    if (!reloaded) return std::unexpected(reloaded.error());
    StepMonitor();
    return {};
  }

  // An operator editing the .config: another of the app's secrets or certificates, or raw keys.
  Result<void> UpdateConfig(const json& a) {
    if (a.contains("secret")) {
      const std::string name = a["secret"].get<std::string>();
      auto it = secrets_.find(s_.client.app + "/" + name);
      if (name != "wrong" && it == secrets_.end()) {
        return Failed("NoSuchSecret", "the client's app has no secret named '" + name + "'");
      }
      client_secret_ = name == "wrong" ? std::string(kWrongSecret) : it->second;
      client_certificate_.clear();
    }
    if (a.contains("certificate")) {
      const std::string name = a["certificate"].get<std::string>();
      auto it = cert_files_.find(s_.client.app + "/" + name);
      if (it == cert_files_.end()) {
        return Failed("NoSuchCertificate",
                      "the client's app has no certificate named '" + name + "'");
      }
      client_certificate_ = it->second;
    }
    const json set = a.value("set", json::object());
    for (const auto& [k, v] : set.items()) {
      if (v.is_null()) {
        config_set_[k] = std::nullopt;
        continue;
      }
      auto value = Expand(v.get<std::string>());
      if (!value) return std::unexpected(value.error());
      config_set_[k] = *value;
    }
    return ConfigChanged();
  }

  // Certificates & secrets > Upload certificate: a new key pair and certificate, uploaded.
  Result<void> AddCertificate(const json& a) {
    const std::string app = a["app"].get<std::string>(), name = a["name"].get<std::string>();
    auto id = AppId(app);
    if (!id) return std::unexpected(id.error());
    if (auto made = MakeCertificate(app, name, a.value("start", std::string("-1d")),
                                    a.value("expires", std::string("+365d")));
        !made) {
      return made;
    }
    const std::string key = app + "/" + name;
    const json credential = {{"certificatePem", cert_pems_[key]},
                             {"keyId", cert_key_ids_[key]},
                             {"displayName", name}};
    if (Remote()) {
      auto added = Call("aad", "POST", AppPath(*id) + "/keys", credential);
      if (!added) return std::unexpected(added.error());
      return {};
    }
    auto added = aad_->directory().AddKey(kTenantId, *id, credential);
    if (!added) return std::unexpected(added.error());
    return {};
  }

  Result<void> RemoveCertificate(const json& a) {
    const std::string app = a["app"].get<std::string>(), name = a["name"].get<std::string>();
    auto id = AppId(app);
    if (!id) return std::unexpected(id.error());
    auto key = cert_key_ids_.find(app + "/" + name);
    if (key == cert_key_ids_.end()) {
      return Failed("NoSuchCertificate",
                    "app '" + app + "' has no certificate named '" + name + "'");
    }
    if (Remote()) {
      auto removed = Call("aad", "DELETE", AppPath(*id) + "/keys/" + key->second, std::nullopt);
      if (!removed) return std::unexpected(removed.error());
      return {};
    }
    return aad_->directory().RemoveKey(kTenantId, *id, key->second);
  }

  // Another process of the same app keeps `n` EWS requests for the client's mailbox in flight
  // (EWSMaxConcurrency counts per app and mailbox); 0 lets them finish.
  Result<void> HoldConnections(std::size_t n) {
    held_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      auto d = ews_->throttling().Admit(client_app_id_, s_.client.mailbox, false);
      if (!d.admitted()) {
        held_.clear();
        return Failed("NotAdmitted", "the throttling policy refused held request " +
                                         std::to_string(i + 1) + " of " + std::to_string(n));
      }
      held_.push_back(std::move(d));
    }
    return {};
  }

  // openClient: the client starts now, with the app the scenario's own PowerShell made.
  Result<void> OpenClientStep() {
    if (client_) return Failed("ClientOpen", "the client is already open");
    if (!s_.client.app_id.empty()) {
      auto id = Expand(s_.client.app_id);
      auto secret = Expand(s_.client.secret_value);
      if (!id) return std::unexpected(id.error());
      if (!secret) return std::unexpected(secret.error());
      client_app_id_ = *id;
      client_secret_ = *secret;
    }
    if (auto ok = WriteConfig(); !ok) return ok;
    if (auto ok = OpenClient(); !ok) return ok;
    StepMonitor();
    return {};
  }

  Result<void> PowerShell(const std::vector<std::string>& lines,
                          const std::optional<json>& expected_output,
                          const std::map<std::string, std::string>& capture = {}) {
    std::string script;
    if (!admin_connected_ && !SelfConnecting()) {
      script += std::string("Connect-ExchangeOnline -UserPrincipalName ") + kAdminUpn +
                " -ShowBanner:$false\n";
      admin_connected_ = true;
    }
    for (const std::string& line : lines) {
      auto expanded = Expand(line);
      if (!expanded) return std::unexpected(expanded.error());
      script += *expanded + "\n";
    }
    auto objects = RunAdmin(script);
    if (!objects) return std::unexpected(objects.error());
    if (expected_output) {
      Result<void> expanded;
      const json wanted = ExpandJson(*expected_output, expanded);
      if (!expanded) return expanded;
      for (std::size_t i = 0; i < wanted.size(); ++i) {
        const json& want = wanted[i];
        if (i >= objects->size()) {
          return Failed("OutputMismatch", "output has " + std::to_string(objects->size()) +
                                              " object(s), want at least " + std::to_string(i + 1));
        }
        const json& have = (*objects)[i];
        for (const auto& [k, v] : want.items()) {
          if (!have.contains(k) || have[k] != v) {
            return Failed("OutputMismatch", "output object " + std::to_string(i) + " has " + k +
                                                " = " + (have.contains(k) ? have[k].dump() : "nothing") +
                                                ", want " + v.dump());
          }
        }
        Line("  output " + (*expected_output)[i].dump());  // as written: no ids
      }
    }
    for (const auto& [name, from] : capture) {
      std::optional<json> value;
      if (from.starts_with("$")) {
        // A variable of the session, as the administrator would copy it from the console.
        auto printed = RunAdmin(from + "\n");
        if (!printed) return std::unexpected(printed.error());
        if (printed->size() == 1) value = printed->front();
      } else if (std::isdigit(static_cast<unsigned char>(from[0]))) {
        value = JsonAt(json(*objects), from);
      } else {
        for (const json& o : *objects) {
          if (o.is_object() && o.contains(from)) {
            value = o[from];
            break;
          }
        }
      }
      if (auto ok = Capture(name, from, value); !ok) return ok;
    }
    return {};
  }

  // Runs PowerShell in the scenario's session; the objects it output, one JSON value a line.
  Result<std::vector<json>> RunAdmin(const std::string& script) {
    SyncRemote();
    admin_out_.str("");
    admin_err_.str("");
    std::istringstream in(script);
    const int failed = admin_->Run(in);
    if (failed > 0) {
      std::string err = admin_err_.str();
      if (err.size() > 400) err.resize(400);
      return exo::Fail(ErrorCategory::kConfiguration, "PowerShellFailed",
                       std::to_string(failed) + " statement(s) failed: " + err);
    }
    std::vector<json> objects;
    std::istringstream out(admin_out_.str());
    for (std::string line; std::getline(out, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) objects.push_back(j);
    }
    return objects;
  }

  // Whether a step can make a server sleep on the clock mid-request (ClockPump).
  bool SlowAnswers() const {
    return std::any_of(s_.timeline.begin(), s_.timeline.end(), [](const Step& step) {
      if (step.kind == Step::Kind::kFault) return step.args["rule"].contains("latencyMs");
      return step.kind == Step::Kind::kControl && step.args.contains("body") &&
             step.args["body"].is_object() && step.args["body"].contains("holdMs");
    });
  }

  // A scenario whose own lines sign in (the seed's 5.3 or hybrid 5.4) is not signed in for.
  bool SelfConnecting() const {
    auto connects = [](const std::string& line) {
      std::size_t i = 0;
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      return Lower(line.substr(i)).starts_with("connect-exchangeonline");
    };
    if (std::any_of(s_.admin.begin(), s_.admin.end(), connects)) return true;
    for (const Step& step : s_.timeline) {
      if (step.kind != Step::Kind::kPowerShell) continue;
      if (step.args.is_string() && connects(step.args.get<std::string>())) return true;
      if (step.args.is_array()) {
        for (const json& l : step.args) {
          if (connects(l.get<std::string>())) return true;
        }
      }
    }
    return false;
  }

  Result<void> Capture(const std::string& name, const std::string& from,
                       const std::optional<json>& value) {
    if (!value || value->is_null() || value->is_object() || value->is_array()) {
      return Failed("CaptureFailed", "nothing to capture as {{" + name + "}} from " + from);
    }
    vars_[name] = value->is_string() ? value->get<std::string>() : value->dump();
    // The value itself may be a secret or an id: the transcript names the variable only.
    Line("  captured {{" + name + "}}");
    return {};
  }

  // "a.b.0.c": a value inside a JSON document, if it is there.
  static std::optional<json> JsonAt(const json& doc, const std::string& path) {
    const json* at = &doc;
    std::size_t start = 0;
    while (start <= path.size()) {
      const std::size_t dot = std::min(path.find('.', start), path.size());
      const std::string part = path.substr(start, dot - start);
      if (at->is_array() && !part.empty() && std::all_of(part.begin(), part.end(), [](char ch) {
            return std::isdigit(static_cast<unsigned char>(ch));
          })) {
        const std::size_t i = std::stoul(part);
        if (i >= at->size()) return std::nullopt;
        at = &(*at)[i];
      } else if (at->is_object() && at->contains(part)) {
        at = &(*at)[part];
      } else {
        return std::nullopt;
      }
      start = dot + 1;
    }
    return *at;
  }

  // `want` inside `have`: objects key by key, arrays as a subsequence, anything else equal.
  static bool JsonContains(const json& want, const json& have) {
    if (want.is_object()) {
      if (!have.is_object()) return false;
      for (const auto& [k, v] : want.items()) {
        if (!have.contains(k) || !JsonContains(v, have[k])) return false;
      }
      return true;
    }
    if (want.is_array()) {
      if (!have.is_array()) return false;
      std::size_t next = 0;
      for (const json& w : want) {
        while (next < have.size() && !JsonContains(w, have[next])) ++next;
        if (next == have.size()) return false;
        ++next;
      }
      return true;
    }
    return want == have;
  }

  // "{{name}}" in a line: {{daemon.appId}}, {{daemon.secrets.ci}}, {{client.mailbox}},
  // {{tenant}}, {{permission.resourceAppId|appRoleId|name|rbacRole}}, or a variable captured earlier. An unknown name is an error, never left as text.
  Result<std::string> Expand(std::string line) const {
    for (std::size_t pos = line.find("{{"); pos != std::string::npos; pos = line.find("{{", pos)) {
      const std::size_t end = line.find("}}", pos);
      if (end == std::string::npos) break;
      const std::string name = line.substr(pos + 2, end - pos - 2);
      auto value = Variable(name);
      if (!value) {
        return exo::Fail(ErrorCategory::kConfiguration, "UnknownVariable",
                         "{{" + name + "}} is not an app's appId or secret, client.mailbox, tenant, "
                         "permission.resourceAppId/appRoleId/name/rbacRole or a captured variable (yet)");
      }
      line.replace(pos, end + 2 - pos, *value);
      pos += value->size();
    }
    return line;
  }

  std::optional<std::string> Variable(const std::string& name) const {
    if (auto it = vars_.find(name); it != vars_.end()) return it->second;
    if (name == "client.mailbox") return s_.client.mailbox;
    if (name == "tenant") return std::string(kTenantId);
    // The application permission the run's transport needs, for admin lines that grant it (seed
    // step 2.3): Exchange's full_access_as_app, or Microsoft Graph's Mail.ReadWrite.
    const bool graph = ClientTransport() != "ews";
    if (name == "permission.resourceAppId") {
      return std::string(graph ? "00000003-0000-0000-c000-000000000000"
                               : "00000002-0000-0ff1-ce00-000000000000");
    }
    if (name == "permission.appRoleId") {
      return std::string(graph ? "e2a3a72e-5f79-4c64-b1b1-878b674786c9"
                               : "dc890d15-9560-4a4c-9b7f-a736ec74ec40");
    }
    if (name == "permission.name") return std::string(graph ? "Mail.ReadWrite" : "full_access_as_app");
    if (name == "permission.rbacRole") {  // RBAC for Applications' role for the same access
      return std::string(graph ? "Application Mail.ReadWrite" : "Application EWS.AccessAsApp");
    }
    for (const auto& [app, id] : app_ids_) {
      if (name == app + ".appId") return id;
      const std::string prefix = app + ".secrets.";
      if (name.starts_with(prefix)) {
        if (auto it = secrets_.find(app + "/" + name.substr(prefix.size())); it != secrets_.end()) {
          return it->second;
        }
      }
    }
    return std::nullopt;
  }

  json ExpandJson(const json& j, Result<void>& ok) const {
    if (j.is_string()) {
      auto s = Expand(j.get<std::string>());
      if (!s) {
        ok = std::unexpected(s.error());
        return j;
      }
      return *s;
    }
    json out = j;
    if (j.is_object() || j.is_array()) {
      for (auto it = out.begin(); it != out.end(); ++it) *it = ExpandJson(*it, ok);
    }
    return out;
  }

  static std::string FormEncode(const std::string& v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : v) {
      if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
        out += static_cast<char>(ch);
      } else {
        out += '%';
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
      }
    }
    return out;
  }

  // One HTTP request to a server of the world, as out of process: the control API (faults,
  // propagation, signing keys, throttling), or any endpoint (a token request with a credential
  // the client does not hold). Not the client's traffic: no transcript "http" line.
  Result<void> Control(const json& a, const std::optional<json>& expected = std::nullopt,
                       const std::map<std::string, std::string>& capture = {}) {
    const std::string server = a.value("server", std::string("ews"));
    std::string base;
    SyncRemote();
    if (server == "ews") base = ews_base_;
    else if (server == "aad") base = aad_url_;
    else if (server == "onprem" && onprem_) base = onprem_->base_url();
    else return Failed("NoSuchServer", "server must be ews, aad or onprem (with world.onPremises)");
    auto path = Expand(a.value("path", std::string("/")));
    if (!path) return std::unexpected(path.error());
    client::HttpRequest request;
    request.method = a.value("method", std::string("POST"));
    request.url = base + *path;
    Result<void> expanded;
    const json headers = ExpandJson(a.value("headers", json::object()), expanded);
    for (const auto& [k, v] : headers.items()) request.headers.emplace(k, v.get<std::string>());
    auto content_type = [&](const char* type) {
      if (!std::any_of(request.headers.begin(), request.headers.end(),
                       [](const auto& h) { return Lower(h.first) == "content-type"; })) {
        request.headers.emplace("Content-Type", type);
      }
    };
    if (a.contains("body") && a["body"].is_string()) {
      // A text body as written (SOAP to EWS, say), its Content-Type from `headers`.
      content_type("text/plain");
      request.body = ExpandJson(a["body"], expanded).get<std::string>();
    } else if (a.contains("body")) {
      content_type("application/json");
      request.body = ExpandJson(a["body"], expanded).dump();
    } else if (a.contains("form")) {
      content_type("application/x-www-form-urlencoded");
      const json form = ExpandJson(a["form"], expanded);
      for (const auto& [k, v] : form.items()) {
        request.body += (request.body.empty() ? "" : "&") + FormEncode(k) + "=" +
                        FormEncode(v.get<std::string>());
      }
    }
    if (!expanded) return expanded;
    auto response = http_->Send(request);
    if (!response) return std::unexpected(response.error());
    std::string body = response->body;
    if (response->status / 100 != 2) {
      if (body.size() > 600) body.resize(600);
      return exo::Fail(ErrorCategory::kProtocol, "HTTP " + std::to_string(response->status),
                       request.method + " " + *path + " answered " +
                           std::to_string(response->status) + ": " + body);
    }
    const json answer = body.empty() ? json() : json::parse(body, nullptr, false);
    if (expected) {
      const json want = ExpandJson(*expected, expanded);
      if (!expanded) return expanded;
      // A string is looked for in the body as text (a SOAP answer); anything else as JSON.
      const bool found = want.is_string()
                             ? body.find(want.get<std::string>()) != std::string::npos
                             : JsonContains(want, answer);
      if (!found) {
        if (body.size() > 600) body.resize(600);
        return Failed("OutputMismatch", request.method + " " + *path + " answered " + body +
                                            ", which does not contain " + want.dump());
      }
      Line("  output " + expected->dump());
    }
    for (const auto& [name, from] : capture) {
      if (auto ok = Capture(name, from, JsonAt(answer, from)); !ok) return ok;
    }
    return {};
  }

  // Fault rules go through the control API (POST /_exo/faults), exactly as out of process.
  Result<void> Fault(const json& a) {
    return Control({{"server", a.value("server", std::string("ews"))},
                    {"method", "POST"},
                    {"path", "/_exo/faults"},
                    {"body", a["rule"]}});
  }

  // A crash in-process: the monitor is dropped without its clean shutdown. Its destructor
  // releases the lease, which a killed process cannot, so the dead owner's lease is written back
  // as the crash leaves it (valid for the lease TTL); the restarted process has a new pid, so a
  // new owner id, and must wait for that lease to lapse. Nothing else is rolled back: every state
  // change the monitor made was already committed, as after a real crash between steps.
  Result<void> Crash() {
    if (proc_) {
      // A real process dies: SIGKILL, its lease stays in SQLite as it left it, and the process
      // started next has a new pid, so a new owner, exactly as in production.
      const internal::ExitStatus st = proc_->Kill();
      DrainEvents();
      Line("crash: the client process is killed (" + st.Describe() + ")");
      proc_.reset();
      return OpenClient();
    }
    const std::string dead = owner_.empty() ? s_.client.owner : owner_;
    Line("crash: " + dead + " dies");
    CloseClient();
    auto store = client::OpenSqliteCheckpointStore(dir_.path() / "exo-mailbox.db");
    if (!store) return std::unexpected(store.error());
    const client::FolderKey key{Lower(s_.client.mailbox), s_.client.folder};
    if (auto ok = (*store)->AcquireLease(key, dead, clock_.Now(), MonitorBase().lease_ttl); !ok) {
      return ok;
    }
    store->reset();
    owner_ = s_.client.owner + "~restart" + std::to_string(++generation_);
    if (auto ok = OpenClient(); !ok) return ok;
    StepMonitor();
    return {};
  }

  // Another project's process on the same mailbox folder: one round, then it exits.
  Result<void> SecondProject(const json& a) {
    auto config = client::LoadClientConfig(config_file_);
    if (!config) return std::unexpected(config.error());
    client::MailboxClientOptions options;
    options.owner = a.value("owner", std::string("scheduler-b:202:ProjectB"));
    if (routed_) {
      options.http = std::shared_ptr<client::HttpTransport>(routed_.get(), [](client::HttpTransport*) {});
    }
    auto other = client::MailboxClient::Open(*config, clock_, random_, options);
    if (!other) return std::unexpected(other.error());
    Result<void> outcome;
    {
      auto monitor = (*other)->MakeMonitor(Handler(), MonitorBase());
      if (!monitor) return std::unexpected(monitor.error());
      const client::MonitorStatus st = (*monitor)->Step();
      if (st.last_error) outcome = std::unexpected(*st.last_error);
    }
    retired_token_requests_ += (*other)->tokens().requests();
    return outcome;
  }

  // The server no longer accepts the client's sync state (ErrorInvalidSyncStateData): the state
  // the client keeps is replaced by one no server issued.
  Result<void> InvalidateSyncState() {
    auto store = client::OpenSqliteCheckpointStore(dir_.path() / "exo-mailbox.db");
    if (!store) return std::unexpected(store.error());
    const client::FolderKey key{Lower(s_.client.mailbox), s_.client.folder};
    return (*store)->CommitSyncBatch(key, kBogusSyncState, {});
  }

  // ---- Expectations ----

  void Check(const Expectation& e, const std::string& where) {
    const client::MonitorStatus s = monitor_ ? monitor_->status() : last_status_;
    auto describe = [&] {
      return s.last_error ? " (last error: " + s.last_error->Describe() + ")" : std::string();
    };
    if (e.phase && *e.phase != PhaseName(s.phase)) {
      Fail(where, std::string("phase is ") + PhaseName(s.phase) + ", want " + *e.phase + describe());
    }
    if (e.no_error && s.last_error) Fail(where, "want no error, have " + s.last_error->Describe());
    const bool wants_error = e.error_code || e.error_category || e.remedy_contains || e.message_contains;
    if (wants_error && !s.last_error) {
      Fail(where, "want an error, the client has none (phase " + std::string(PhaseName(s.phase)) + ")");
    } else if (wants_error) {
      const Error& err = *s.last_error;
      if (e.error_code && err.code != *e.error_code) {
        Fail(where, "error code is " + err.code + ", want " + *e.error_code + describe());
      }
      if (e.error_category && *e.error_category != ToString(err.category)) {
        Fail(where, std::string("error category is ") + ToString(err.category) + ", want " +
                        *e.error_category);
      }
      if (e.remedy_contains && err.remedy.find(*e.remedy_contains) == std::string::npos) {
        Fail(where, "remedy \"" + err.remedy + "\" lacks \"" + *e.remedy_contains + "\"");
      }
      if (e.message_contains && err.message.find(*e.message_contains) == std::string::npos) {
        Fail(where, "message \"" + err.message + "\" lacks \"" + *e.message_contains + "\"");
      }
    }
    if (e.handed && *e.handed != handed_order_) {
      auto list = [](const std::vector<std::string>& v) {
        std::string out = "[";
        for (const auto& x : v) out += (out.size() > 1 ? ", \"" : "\"") + x + "\"";
        return out + "]";
      };
      // Say what is wrong, not only that the lists differ: lost messages first.
      std::vector<std::string> missing, extra;
      for (const auto& w : *e.handed) {
        if (std::find(handed_order_.begin(), handed_order_.end(), w) == handed_order_.end()) {
          missing.push_back(w);
        }
      }
      for (const auto& h : handed_order_) {
        if (std::find(e.handed->begin(), e.handed->end(), h) == e.handed->end()) extra.push_back(h);
      }
      std::string why;
      if (!missing.empty()) why += "; never handed: " + list(missing);
      if (!extra.empty()) why += "; not expected: " + list(extra);
      if (missing.empty() && extra.empty()) why = "; same messages, another order";
      Fail(where, "handed " + list(handed_order_) + ", want " + list(*e.handed) + why);
    }
    for (const auto& [mailbox, want] : e.unread) CheckInbox(where, mailbox, want, true);
    for (const auto& [mailbox, want] : e.inbox) CheckInbox(where, mailbox, want, false);
    if (External() && (e.token_requests || e.max_token_requests || e.resyncs || e.endpoint)) {
      // The client's own counters: an out-of-process client reports none of them.
      Line("  not checked out of process: tokenRequests, maxTokenRequests, resyncs, endpoint");
    }
    const std::size_t tokens = TokenRequests();
    if (e.token_requests && !External() && tokens != *e.token_requests) {
      Fail(where, std::to_string(tokens) + " token requests, want " + std::to_string(*e.token_requests));
    }
    if (e.max_token_requests && !External() && tokens > *e.max_token_requests) {
      Fail(where, std::to_string(tokens) + " token requests, want at most " +
                      std::to_string(*e.max_token_requests));
    }
    if (e.early_retries && EarlyRetries() != *e.early_retries) {
      Fail(where, std::to_string(EarlyRetries()) + " early retries, want " +
                      std::to_string(*e.early_retries));
    }
    if (e.resyncs && !External() && s.resyncs != *e.resyncs) {
      Fail(where, std::to_string(s.resyncs) + " resyncs, want " + std::to_string(*e.resyncs));
    }
    if (e.endpoint && !External()) {
      const bool online = client_ ? client_->transport().Info().exchange_online : true;
      if ((*e.endpoint == "online") != online) {
        Fail(where, std::string("the client uses ") + (online ? "Exchange Online" : "on-premises") +
                        ", want " + *e.endpoint);
      }
    }
  }

  void CheckInbox(const std::string& where, const std::string& mailbox, std::size_t want,
                  bool unread) {
    if (Remote()) return CheckInboxRemote(where, mailbox, want, unread);
    auto folder = ews_->store().GetDistinguishedFolder(mailbox, mock_ews::DistinguishedFolder::kInbox);
    if (!folder && onprem_) {
      folder = onprem_->store().GetDistinguishedFolder(mailbox, mock_ews::DistinguishedFolder::kInbox);
    }
    if (!folder) {
      Fail(where, "no Inbox for " + mailbox + ": " + folder.error().Describe());
      return;
    }
    const std::size_t have = unread ? folder->unread_count : folder->total_count;
    if (have != want) {
      Fail(where, mailbox + " has " + std::to_string(have) + (unread ? " unread" : "") +
                      " item(s) in its Inbox, want " + std::to_string(want));
    }
  }

  // The Inbox's counts as GET /_exo/state reports them.
  void CheckInboxRemote(const std::string& where, const std::string& mailbox, std::size_t want,
                        bool unread) {
    auto state = Call("ews", "GET", "/_exo/state", std::nullopt);
    if (!state) {
      Fail(where, "GET /_exo/state: " + state.error().Describe());
      return;
    }
    for (const auto& o : state->value("organizations", json::array())) {
      for (const auto& m : o.value("mailboxes", json::array())) {
        if (Lower(m.value("smtp", std::string())) != Lower(mailbox)) continue;
        for (const auto& f : m.value("folders", json::array())) {
          if (f.value("distinguished", std::string()) != "inbox") continue;
          const std::size_t have = f.value(unread ? "unreadCount" : "totalCount", std::size_t{0});
          if (have != want) {
            Fail(where, mailbox + " has " + std::to_string(have) + (unread ? " unread" : "") +
                            " item(s) in its Inbox, want " + std::to_string(want));
          }
          return;
        }
      }
    }
    Fail(where, "no Inbox for " + mailbox + " in exo-harness's /_exo/state");
  }

  // ---- Output ----

  void Line(const std::string& text) {
    r_.transcript += FormatOffset(clock_.Monotonic() - start_) + " " + text + "\n";
  }

  void Fail(const std::string& where, const std::string& what) {
    const std::string f = "at " + FormatOffset(clock_.Monotonic() - start_) + " " + where + ": " + what;
    r_.failures.push_back(f);
    r_.markers.push_back(Marker{clock_.Monotonic() - start_, "fail", where + ": " + what});
    Line("FAIL " + where);
  }

  const Scenario& s_;
  const RunOptions& o_;
  ScenarioResult& r_;
  internal::ScratchDir dir_{"exo-scenario"};
  SimulatedClock clock_;
  SeededRandom random_;
  std::string transport_;  // ews | graph: what this run reads the mailbox over
  MonoTime start_{};
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<mock_ews::MockEws> ews_, onprem_;
  std::unique_ptr<client::HttpTransport> http_;
  std::unique_ptr<internal::RoutedHttpTransport> routed_;
  std::unique_ptr<ClockSyncedTransport> clock_synced_;  // Remote(): before observed_'s inner
  std::unique_ptr<internal::ObservedTransport> observed_;
  // RunOptions::harness: the servers' process, their URLs either way, and the clocks' offset.
  std::unique_ptr<internal::HarnessProcess> harness_;
  std::unique_ptr<internal::RemoteClockDriver> synced_;
  std::string aad_url_, ews_base_;
  std::filesystem::path ca_file_;
  std::int64_t remote_offset_ms_ = 0;
  std::int64_t synced_ms_ = -1;
  std::size_t reloads_ = 0;       // the out-of-process client's reloaded/reloadFailed events
  bool reload_failed_ = false;
  std::unique_ptr<internal::ClientProcess> proc_;          // RunOptions::client_command
  std::unique_ptr<internal::RemoteClockDriver> driver_;
  std::filesystem::path stderr_file_;
  int processes_ = 0;
  std::shared_ptr<internal::CrashingStore> store_;
  int crash_countdown_ = 0;                // the broken client's crash point, in messages
  std::string last_handed_key_;
  std::set<std::string> lost_commits_;     // keys whose commit a crash inside a batch lost
  Span span_;
  bool span_open_ = false;
  NoTerminal prompter_;
  std::ostringstream admin_out_, admin_err_;
  std::unique_ptr<admin::Runner> admin_;
  bool admin_connected_ = false;
  std::map<std::string, std::string> app_ids_;  // app name -> appId
  std::map<std::string, std::string> secrets_;  // "app/secret" -> text
  std::map<std::string, std::vector<std::string>> app_secrets_;  // every text an app has had
  std::string client_secret_;
  std::string client_app_id_;
  std::filesystem::path client_certificate_;               // empty: the secret
  std::map<std::string, std::optional<std::string>> config_set_;  // updateConfig "set"
  std::map<std::string, std::filesystem::path>
      cert_files_;  // "app/cert" -> key and certificate PEM
  std::map<std::string, std::string> cert_pems_, cert_key_ids_;  // "app/cert" -> its PEM, keyId
  std::map<std::string, std::string> vars_;                // captured: name -> value
  std::vector<mock_ews::ThrottlingPolicy::Decision> held_;  // holdConnections
  std::unique_ptr<ClockPump> pump_;                         // slow answers (latencyMs, holdMs)
  std::filesystem::path key_file_, config_file_;
  std::unique_ptr<client::MailboxClient> client_;
  std::shared_ptr<client::MailboxMonitor> monitor_;
  std::string owner_;
  int generation_ = 0;
  std::size_t retired_token_requests_ = 0;
  client::MonitorStatus last_status_;
  std::string last_status_line_;
  std::map<std::string, int> handed_times_;        // idempotency key -> times
  std::map<std::string, std::string> subjects_;    // idempotency key -> subject
  std::vector<std::string> handed_order_;
};

}  // namespace

const char* ToString(ClientDouble d) {
  switch (d) {
    case ClientDouble::kNone: return "none";
    case ClientDouble::kIgnoresBackOff: return "ignores-backoff";
    case ClientDouble::kNeverRefreshesTokens: return "never-refreshes-tokens";
    case ClientDouble::kCommitsBeforeHanding: return "commits-before-handing";
  }
  return "none";
}

std::optional<ClientDouble> ParseClientDouble(const std::string& name) {
  for (ClientDouble d : {ClientDouble::kNone, ClientDouble::kIgnoresBackOff,
                         ClientDouble::kNeverRefreshesTokens, ClientDouble::kCommitsBeforeHanding}) {
    if (name == ToString(d)) return d;
  }
  return std::nullopt;
}

ScenarioResult RunScenario(const Scenario& scenario, const RunOptions& options) {
  ScenarioResult result;
  // A variant on another of its transports is its own result: "<name>@graph".
  result.name = scenario.name;
  if (!options.transport.empty() && options.transport != scenario.transports.front()) {
    result.name += "@" + options.transport;
  }
  result.description = scenario.description;
  result.tags = scenario.tags;
  result.file = scenario.file;
  result.seed = scenario.seed;
  // Wall time only for the report; the scenario itself never reads it.
  const auto began = RealClock::Instance().Monotonic();
  try {
    World world(scenario, options, result);
    world.Run();
  } catch (const std::exception& e) {
    // An answer of an unexpected shape from a server (out of process: anything can answer) is
    // that scenario's failure, never the runner's end.
    result.failures.push_back(std::string("internal: the run stopped on an exception: ") +
                              e.what());
  }
  result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      RealClock::Instance().Monotonic() - began);
  result.passed = result.failures.empty();
  return result;
}

}  // namespace exo::scenarios
