// The scenario runner: one world per scenario (mock-aad, mock-ews, optionally an on-premises
// Exchange Server, all on one SimulatedClock), the real client library against it, and the
// timeline applied between the monitor's wake-ups. Nothing here sleeps or reads the wall clock
// except to report how long a run took.
#include "exo/scenarios/runner.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/config.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/common/random.hpp"
#include "exo/exo_admin/runner.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"
#include "internal/routed_http.hpp"

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
constexpr const char* kDefaultSender = "sender@contoso.com";
constexpr const char* kWrongSecret = "Wrg8Q~this-is-not-the-secret-value-00000";
// What ErrorInvalidSyncStateData looks like from the client's side: base64 of no valid state.
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

// A scratch directory for the CA, the .config, the key and the SQLite state; removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "exo-scenario-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Result<void> Failed(const std::string& code, const std::string& message) {
  return exo::Fail(ErrorCategory::kInternal, code, message);
}

class World {
 public:
  World(const Scenario& scenario, ScenarioResult& result)
      : s_(scenario), r_(result), random_(scenario.seed) {}

  ~World() {
    // Clients before servers: a server stopping waits for kept-alive connections.
    CloseClient();
    admin_.reset();
    routed_.reset();
    http_.reset();
    onprem_.reset();
    ews_.reset();
    aad_.reset();
  }

  void Run() {
    Line("scenario " + s_.name + " seed " + std::to_string(s_.seed));
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
    if (auto opened = OpenClient(); !opened) {
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
    // Invariants every scenario keeps, whatever it expects.
    for (const auto& [key, times] : handed_times_) {
      if (times > 1) {
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
    }
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

    client::HttpOptions http;
    http.ca_bundle = aad_->ca_file();
    http_ = client::MakeHttpTransport(http);
    if (s_.world.on_premises) {
      if (auto ok = StartOnPremises(*s_.world.on_premises); !ok) return ok;
    }

    admin::RunnerOptions admin_options;
    admin_options.endpoints.authority = aad_->base_url();
    admin_options.endpoints.exchange = ews_->base_url();
    admin_options.endpoints.ca_file = aad_->ca_file().string();
    admin_options.endpoints.tenant = kTenantId;
    admin_options.endpoints.admin_upn = kAdminUpn;
    admin_options.endpoints.admin_password = kAdminPassword;
    admin_options.json = true;
    admin_options.script_path = s_.file;
    admin_ = std::make_unique<admin::Runner>(admin_options, prompter_, admin_out_, admin_err_,
                                             clock_);

    key_file_ = dir_.path() / "secret.key";
    config_file_ = dir_.path() / "scheduler.config";
    if (auto key = client::SecretKey::Generate(key_file_); !key) return std::unexpected(key.error());
    client_secret_ = s_.client.secret == "wrong" ? std::string(kWrongSecret)
                                                 : secrets_[s_.client.app + "/" + s_.client.secret];
    return WriteConfig();
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
      if (app.consent) {
        a["appRoleAssignments"] = json::array({{{"resource", kExchange},
                                                {"appRole", "full_access_as_app"}}});
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
    if (s_.world.token_lifetime) {
      world["settings"] = {
          {"tokenLifetimeSeconds",
           std::chrono::duration_cast<std::chrono::seconds>(*s_.world.token_lifetime).count()}};
    }
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
    auto sealed = client::ProtectSecret(client_secret_, *key);
    if (!sealed) return std::unexpected(sealed.error());
    std::map<std::string, std::string> keys = {
        {"EmailIntegrationIdApp", app_ids_[s_.client.app]},
        {"EmailIntegrationTenantId", kTenantId},
        {"EmailIntegrationClientSecret", *sealed},
        {"EmailIntegrationWebmailDefault", std::string(kExchange) + "/.default"},
        {"EmailIntegrationMailbox", s_.client.mailbox},
        {"EmailIntegrationConnectionType", "Exchange"},
        {"EmailIntegrationFolder", s_.client.folder},
        {"EmailIntegrationDisposition", s_.client.disposition},
        {"EmailIntegrationAuthority", aad_->base_url()},
        {"EmailIntegrationCaBundle", aad_->ca_file().string()},
        {"EmailIntegrationKeyFile", key_file_.string()},
        {"EmailIntegrationStateDir", dir_.path().string()}};
    if (s_.client.autodiscover) {
      keys["EmailIntegrationAutodiscoverUrl"] = ews_->autodiscover_url();
    } else {
      keys["EmailIntegrationEwsUrl"] = ews_->ews_url();
    }
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n";
    for (const auto& [k, v] : keys) xml += "    <add key=\"" + k + "\" value=\"" + v + "\"/>\n";
    xml += "  </appSettings>\n</configuration>\n";
    std::ofstream out(config_file_, std::ios::trunc);
    out << xml;
    if (!out.flush()) return Failed("ConfigWrite", "cannot write " + config_file_.string());
    return {};
  }

  // ---- The client ----

  Result<void> OpenClient() {
    auto config = client::LoadClientConfig(config_file_);
    if (!config) return std::unexpected(config.error());
    client::MailboxClientOptions options;
    options.owner = owner_.empty() ? s_.client.owner : owner_;
    if (routed_) {
      options.http = std::shared_ptr<client::HttpTransport>(routed_.get(), [](client::HttpTransport*) {});
    }
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
    return base;
  }

  client::MessageHandler Handler() {
    return [this](const client::HandledMessage& h) -> Result<void> {
      const std::string subject = h.message.subject;
      subjects_[h.idempotency_key] = subject;
      const int times = ++handed_times_[h.idempotency_key];
      handed_order_.push_back(subject);
      Line("handed \"" + subject + "\"" + (times > 1 ? " again (" + std::to_string(times) + ")" : ""));
      return {};
    };
  }

  void CloseClient() {
    if (client_) retired_token_requests_ += client_->tokens().requests();
    monitor_.reset();
    client_.reset();
  }

  std::size_t TokenRequests() const {
    return retired_token_requests_ + (client_ ? client_->tokens().requests() : 0);
  }

  std::uint64_t EarlyRetries() const {
    return (ews_ ? ews_->throttling().early_retries() : 0) +
           (onprem_ ? onprem_->throttling().early_retries() : 0);
  }

  void StepMonitor() {
    if (!monitor_) return;
    NoteStatus(monitor_->Step());
  }

  // Steps the monitor at each wake-up up to `target`, then moves the clock there.
  void RunUntil(MonoTime target) {
    int at_same_instant = 0;
    MonoTime last{};
    while (monitor_) {
      const MonoTime now = clock_.Monotonic();
      const MonoTime wakeup = monitor_->status().next_wakeup;
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

  void NoteStatus(const client::MonitorStatus& s) {
    last_status_ = s;
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
    std::string what = ToString(step.kind);
    if (step.args.is_string()) what += " " + step.args.get<std::string>();
    if (step.args.is_object() && step.args.contains("subject")) {
      what += " " + step.args["subject"].get<std::string>();
    }
    Line("step " + what);
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
        if (step.kind == Step::Kind::kRevokeConsent) {
          return aad_->directory().RevokeAppRole(kTenantId, *id, kExchange, "full_access_as_app");
        }
        auto granted =
            aad_->directory().GrantAppRole(kTenantId, *id, kExchange, "full_access_as_app");
        if (!granted) return std::unexpected(granted.error());
        return {};
      }
      case Step::Kind::kPowerShell: {
        std::vector<std::string> lines;
        if (a.is_string()) {
          lines.push_back(a.get<std::string>());
        } else {
          for (const auto& l : a) lines.push_back(l.get<std::string>());
        }
        return PowerShell(lines, step.output);
      }
      case Step::Kind::kFault: return Fault(a);
      case Step::Kind::kThrottle: return ews_->throttling().Update({{"force", a}});
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
      case Step::Kind::kCrash: return Crash();
      case Step::Kind::kSecondProject: return SecondProject(a);
      case Step::Kind::kInvalidateSyncState: return InvalidateSyncState();
      case Step::Kind::kAdvance:
      case Step::Kind::kExpect: return {};
    }
    return {};
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

  // What an operator does: a new secret in Entra (step 3), protected into the .config; the
  // running client's config watcher picks it up (in-process: at once, not 2 s later).
  Result<void> RotateSecret(const std::string& app) {
    auto id = AppId(app);
    if (!id) return std::unexpected(id.error());
    auto added = aad_->directory().AddPassword(kTenantId, *id, {{"displayName", "rotated"}});
    if (!added) return std::unexpected(added.error());
    app_secrets_[app].push_back(added->secret_text);
    if (app == s_.client.app) {
      client_secret_ = added->secret_text;
      if (auto ok = WriteConfig(); !ok) return ok;
      if (client_) {
        auto reloaded = client_->ReloadIfChanged();
        if (!reloaded) return std::unexpected(reloaded.error());
        StepMonitor();  // the watcher wakes the monitor; it does not wait for its back-off
      }
    }
    return {};
  }

  Result<void> PowerShell(const std::vector<std::string>& lines,
                          const std::optional<json>& expected_output) {
    std::string script;
    if (!admin_connected_) {
      script += std::string("Connect-ExchangeOnline -UserPrincipalName ") + kAdminUpn +
                " -ShowBanner:$false\n";
      admin_connected_ = true;
    }
    for (const std::string& line : lines) script += Expand(line) + "\n";
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
    if (!expected_output) return {};
    std::vector<json> objects;
    std::istringstream out(admin_out_.str());
    for (std::string line; std::getline(out, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) objects.push_back(j);
    }
    for (std::size_t i = 0; i < expected_output->size(); ++i) {
      const json& want = (*expected_output)[i];
      if (i >= objects.size()) {
        return Failed("OutputMismatch", "output has " + std::to_string(objects.size()) +
                                            " object(s), want at least " + std::to_string(i + 1));
      }
      for (const auto& [k, v] : want.items()) {
        if (!objects[i].contains(k) || objects[i][k] != v) {
          return Failed("OutputMismatch", "output object " + std::to_string(i) + " has " + k + " = " +
                                              (objects[i].contains(k) ? objects[i][k].dump() : "nothing") +
                                              ", want " + v.dump());
        }
      }
      Line("  output " + want.dump());
    }
    return {};
  }

  // {{daemon.appId}}, {{client.mailbox}}: names in PowerShell lines.
  std::string Expand(std::string line) const {
    for (const auto& [name, id] : app_ids_) {
      const std::string token = "{{" + name + ".appId}}";
      for (auto pos = line.find(token); pos != std::string::npos; pos = line.find(token)) {
        line.replace(pos, token.size(), id);
      }
    }
    const std::string token = "{{client.mailbox}}";
    for (auto pos = line.find(token); pos != std::string::npos; pos = line.find(token)) {
      line.replace(pos, token.size(), s_.client.mailbox);
    }
    return line;
  }

  // Fault rules go through the control API (POST /_exo/faults), exactly as out of process.
  Result<void> Fault(const json& a) {
    const std::string server = a.value("server", std::string("ews"));
    std::string base;
    if (server == "ews") base = ews_->base_url();
    else if (server == "aad") base = aad_->base_url();
    else if (server == "onprem" && onprem_) base = onprem_->base_url();
    else return Failed("NoSuchServer", "fault.server must be ews, aad or onprem");
    client::HttpRequest request;
    request.method = "POST";
    request.url = base + "/_exo/faults";
    request.headers.emplace("Content-Type", "application/json");
    request.body = a["rule"].dump();
    auto response = http_->Send(request);
    if (!response) return std::unexpected(response.error());
    if (response->status / 100 != 2) {
      return Failed("FaultRefused", "the control API refused the rule: " + response->body);
    }
    return {};
  }

  // A crash in-process: the monitor is dropped without its clean shutdown. Its destructor
  // releases the lease, which a killed process cannot, so the dead owner's lease is written back
  // as the crash leaves it (valid for the lease TTL); the restarted process has a new pid, so a
  // new owner id, and must wait for that lease to lapse. Nothing else is rolled back: every state
  // change the monitor made was already committed, as after a real crash between steps.
  Result<void> Crash() {
    const std::string dead = owner_.empty() ? s_.client.owner : owner_;
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
      Fail(where, "handed " + list(handed_order_) + ", want " + list(*e.handed));
    }
    for (const auto& [mailbox, want] : e.unread) CheckInbox(where, mailbox, want, true);
    for (const auto& [mailbox, want] : e.inbox) CheckInbox(where, mailbox, want, false);
    const std::size_t tokens = TokenRequests();
    if (e.token_requests && tokens != *e.token_requests) {
      Fail(where, std::to_string(tokens) + " token requests, want " + std::to_string(*e.token_requests));
    }
    if (e.max_token_requests && tokens > *e.max_token_requests) {
      Fail(where, std::to_string(tokens) + " token requests, want at most " +
                      std::to_string(*e.max_token_requests));
    }
    if (e.early_retries && EarlyRetries() != *e.early_retries) {
      Fail(where, std::to_string(EarlyRetries()) + " early retries, want " +
                      std::to_string(*e.early_retries));
    }
    if (e.resyncs && s.resyncs != *e.resyncs) {
      Fail(where, std::to_string(s.resyncs) + " resyncs, want " + std::to_string(*e.resyncs));
    }
    if (e.endpoint) {
      const bool online = client_ ? client_->transport().Info().exchange_online : true;
      if ((*e.endpoint == "online") != online) {
        Fail(where, std::string("the client uses ") + (online ? "Exchange Online" : "on-premises") +
                        ", want " + *e.endpoint);
      }
    }
  }

  void CheckInbox(const std::string& where, const std::string& mailbox, std::size_t want,
                  bool unread) {
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

  // ---- Output ----

  void Line(const std::string& text) {
    r_.transcript += FormatOffset(clock_.Monotonic() - start_) + " " + text + "\n";
  }

  void Fail(const std::string& where, const std::string& what) {
    const std::string f = "at " + FormatOffset(clock_.Monotonic() - start_) + " " + where + ": " + what;
    r_.failures.push_back(f);
    Line("FAIL " + where);
  }

  const Scenario& s_;
  ScenarioResult& r_;
  ScratchDir dir_;
  SimulatedClock clock_;
  SeededRandom random_;
  MonoTime start_{};
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<mock_ews::MockEws> ews_, onprem_;
  std::unique_ptr<client::HttpTransport> http_;
  std::unique_ptr<internal::RoutedHttpTransport> routed_;
  NoTerminal prompter_;
  std::ostringstream admin_out_, admin_err_;
  std::unique_ptr<admin::Runner> admin_;
  bool admin_connected_ = false;
  std::map<std::string, std::string> app_ids_;  // app name -> appId
  std::map<std::string, std::string> secrets_;  // "app/secret" -> text
  std::map<std::string, std::vector<std::string>> app_secrets_;  // every text an app has had
  std::string client_secret_;
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

ScenarioResult RunScenario(const Scenario& scenario) {
  ScenarioResult result;
  result.name = scenario.name;
  result.file = scenario.file;
  result.seed = scenario.seed;
  // Wall time only for the report; the scenario itself never reads it.
  const auto began = RealClock::Instance().Monotonic();
  {
    World world(scenario, result);
    world.Run();
  }
  result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      RealClock::Instance().Monotonic() - began);
  result.passed = result.failures.empty();
  return result;
}

}  // namespace exo::scenarios
