// The doctor walks the same path the monitor takes (the same MailboxClient wiring), one link at a
// time, so what it reports is what the monitor would meet; it only reads.
#include "exo/client/doctor.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <sstream>

#include "exo/client/config.hpp"
#include "exo/client/graph_transport.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/common/time_format.hpp"

namespace exo::client {

namespace {

using Outcome = DoctorCheck::Outcome;

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kWarn:
      return "warn";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

// Which seed step fixes an error, from the service's code.
std::string StepFor(const Error& e, const std::string& fallback) {
  const std::string& c = e.code;
  if (c == "AADSTS7000222" || c == "AADSTS7000215" || c == "AADSTS7000216") return "3";
  if (c == "AADSTS700016" || c == "AADSTS90002" || c == "AADSTS900023") return "4";
  if (c == "NoRoles") return "2.3";
  if (c == "MailboxNotEnabledForRESTAPI" || c == "ErrorInvalidUser") return "6";
  if (c == "ErrorAccessDenied" || c == "HTTP 403" || c == "ErrorImpersonateUserDenied") {
    return "5.7";
  }
  if (c == "ErrorNonExistentMailbox") return "6";
  return fallback;
}

class Doctor {
 public:
  Doctor(const std::filesystem::path& file, Clock& clock, Random& random, DoctorOptions options)
      : clock_(clock), random_(random), options_(std::move(options)) {
    report_.config_file = file;
  }

  DoctorReport Run() {
    auto config = LoadClientConfig(report_.config_file);
    if (!config) {
      Add("config", "configuration keys", Outcome::kFail, "", "4, 6", &config.error());
      return SkipRest();
    }
    config_ = *config;
    {
      std::string detail = "app " + config_.app_id + ", tenant " + config_.tenant_id +
                           ", mailbox " + config_.mailbox + ", folder " + config_.folder;
      if (config_.warnings.empty()) {
        Add("config", "configuration keys", Outcome::kPass, detail, "4, 6");
      } else {
        for (const auto& w : config_.warnings) detail += "; " + w;
        Add("config", "configuration keys", Outcome::kWarn, detail, "4, 6");
        report_.checks.back().remedy = "remove or correct the keys named above";
      }
    }

    MailboxClientOptions o;
    o.http = options_.http;
    auto client = MailboxClient::Open(config_, clock_, random_, o);
    if (!client) {
      Add("secret", "secret decrypts", Outcome::kFail, "", "3", &client.error());
      return SkipRest();
    }
    client_ = std::move(*client);
    if (!CheckSecret()) return SkipRest();
    if (!CheckAuthority()) return SkipRest();
    if (!CheckTransport()) return SkipRest();
    if (!CheckToken()) return SkipRest();
    if (!CheckEndpoint()) return SkipRest();
    if (!CheckMailbox()) return SkipRest();
    CheckDisposition();
    CheckStateDir();
    return report_;
  }

 private:
  void Add(std::string id, std::string name, Outcome outcome, std::string detail, std::string step,
           const Error* error = nullptr) {
    DoctorCheck c;
    c.id = std::move(id);
    c.name = std::move(name);
    c.outcome = outcome;
    c.detail = std::move(detail);
    c.seed_step = std::move(step);
    if (error) {
      c.code = error->code;
      if (c.detail.empty()) c.detail = error->message;
      c.remedy = error->remedy;
      c.seed_step = StepFor(*error, c.seed_step);
    }
    report_.checks.push_back(std::move(c));
  }

  bool Graph() const {
    return protocol_.empty() ? config_.transport == TransportKind::kGraph : protocol_ == "Graph";
  }
  const char* RolesName() const {
    return Graph() ? "roles contain Mail.ReadWrite" : "roles contain full_access_as_app";
  }

  DoctorReport SkipRest() {
    const std::pair<const char*, const char*> kAll[] = {
        {"config", "configuration keys"},
        {"secret", "secret decrypts"},
        {"authority", "authority reachable"},
        {"transport", "transport"},
        {"token", "token obtained"},
        {"roles", RolesName()},
        {"audience", "audience matches the scope"},
        Graph() ? std::pair<const char*, const char*>{"graph", "Microsoft Graph reachable"}
                : std::pair<const char*, const char*>{"ews", "EWS reachable"},
        {"retirement", "EWS retirement"},
        {"impersonation", "mailbox can be impersonated"},
        {"folder", "folder is readable"},
        {"disposition", "disposition folder"},
        {"state", "state directory writable"}};
    for (const auto& [id, name] : kAll) {
      bool present = false;
      for (const auto& c : report_.checks) present = present || c.id == id;
      if (present) continue;
      DoctorCheck c;
      c.id = id;
      c.name = name;
      c.detail = "not checked: an earlier link failed";
      report_.checks.push_back(std::move(c));
    }
    return report_;
  }

  bool CheckSecret() {
    if (config_.certificate_file) {
      if (access(config_.certificate_file->c_str(), R_OK) != 0) {
        Add("secret", "certificate readable", Outcome::kFail,
            config_.certificate_file->string() + " cannot be read", "3");
        report_.checks.back().remedy =
            "point EmailIntegrationCertificate at a PEM file with the private key and the "
            "certificate uploaded to the app registration";
        return false;
      }
      Add("secret", "certificate readable", Outcome::kPass, config_.certificate_file->string(),
          "3");
      return true;
    }
    auto secret = client_->DecryptSecret();
    if (!secret) {
      Add("secret", "secret decrypts", Outcome::kFail, "", "3", &secret.error());
      return false;
    }
    Add("secret", "secret decrypts", Outcome::kPass,
        fmt::format("EmailIntegrationClientSecret decrypts ({} characters)",
                    secret->Reveal().size()),
        "3");
    return true;
  }

  bool CheckAuthority() {
    HttpRequest r;
    r.url =
        config_.authority_host + "/" + config_.tenant_id + "/v2.0/.well-known/openid-configuration";
    auto answer = client_->http().Send(r);
    if (!answer) {
      Add("authority", "authority reachable", Outcome::kFail, "", "4", &answer.error());
      report_.checks.back().remedy =
          "check EmailIntegrationAuthority (" + config_.authority_host +
          "), the network path and proxy, and EmailIntegrationCaBundle for a TLS-inspecting proxy";
      return false;
    }
    auto body = nlohmann::json::parse(answer->body, nullptr, false);
    if (answer->status != 200 || !body.is_object() || !body.contains("issuer")) {
      std::string why = fmt::format("HTTP {}", answer->status);
      if (body.is_object() && body.contains("error_description") &&
          body["error_description"].is_string()) {
        const std::string d = body["error_description"].get<std::string>();
        why += ": " + d.substr(0, d.find('\n'));
      }
      Add("authority", "authority reachable", Outcome::kFail, r.url + " answered " + why, "4");
      report_.checks.back().remedy =
          "check EmailIntegrationTenantId (seed step 4: the Directory (tenant) ID) and "
          "EmailIntegrationAuthority";
      return false;
    }
    Add("authority", "authority reachable", Outcome::kPass,
        "issuer " + body["issuer"].get<std::string>(), "4");
    return true;
  }

  // Which transport serves the mailbox, and why: the configuration, or under auto what
  // autodiscover said. The token, roles and endpoint checks that follow are that transport's.
  bool CheckTransport() {
    auto info = client_->Endpoint();
    if (!info) {
      Add("transport", "transport", Outcome::kFail, "", "6", &info.error());
      return false;
    }
    protocol_ = info->protocol;
    exchange_online_ = info->exchange_online;
    endpoint_ = info->endpoint;
    scope_ = Graph() ? GraphScopeFor(config_.graph_url) : config_.scope;
    Add("transport", "transport", Outcome::kPass,
        fmt::format("{} at {} ({}){}", Graph() ? "Microsoft Graph" : "EWS", info->endpoint,
                    info->exchange_online ? "Exchange Online" : "Exchange Server on-premises",
                    info->reason.empty() ? "" : "; why: " + info->reason),
        "");
    return true;
  }

  bool CheckToken() {
    auto token = client_->tokens().Get(scope_);
    if (!token && token.error().code == "NoRoles") {
      Add("token", "token obtained", Outcome::kPass, "a token was issued for " + scope_, "3");
      Add("roles", RolesName(), Outcome::kFail, "", "2.3", &token.error());
      return false;
    }
    if (!token) {
      Add("token", "token obtained", Outcome::kFail, "", "3", &token.error());
      return false;
    }
    Add("token", "token obtained", Outcome::kPass,
        fmt::format("for {} from {}", scope_, config_.authority_host), "3");
    if (Graph()) return CheckGraphRoles(*token);
    std::string roles;
    bool full_access = false;
    for (const auto& role : token->roles) {
      roles += (roles.empty() ? "" : ", ") + role;
      full_access = full_access || role == "full_access_as_app";
    }
    if (full_access) {
      Add("roles", "roles contain full_access_as_app", Outcome::kPass, "roles: " + roles, "2.2");
    } else if (token->roles.empty()) {
      // Only RBAC for Applications can let this token in; the EWS check below says whether it does.
      Add("roles", "roles contain full_access_as_app", Outcome::kWarn,
          "the token has no roles: EWS accepts it only if RBAC for Applications grants the app", "2.3");
      report_.checks.back().remedy =
          "grant admin consent for full_access_as_app (seed steps 2.2 and 2.3), or assign the app "
          "a role with New-ManagementRoleAssignment -App … -Role \"Application EWS.AccessAsApp\"";
    } else {
      Add("roles", "roles contain full_access_as_app", Outcome::kFail,
          "roles: " + roles + " (no full_access_as_app)", "2.2");
      report_.checks.back().remedy =
          "EWS needs the application permission full_access_as_app of Office 365 Exchange "
          "Online (seed step 2.2) with admin consent (step 2.3); Mail.Read and similar are "
          "Graph's permissions";
    }
    std::string expected = config_.scope.substr(0, config_.scope.size() - 9);  // "/.default"
    const bool audience_ok = token->audience == expected || token->audience == expected + "/" ||
                             (token->audience == "00000002-0000-0ff1-ce00-000000000000" &&
                              expected == "https://outlook.office365.com");
    if (audience_ok) {
      Add("audience", "audience matches the scope", Outcome::kPass, "aud " + token->audience, "4");
    } else {
      Add("audience", "audience matches the scope", Outcome::kFail,
          "aud " + token->audience + ", expected " + expected, "4");
      report_.checks.back().remedy =
          "set EmailIntegrationWebmailDefault to https://outlook.office365.com/.default";
    }
    return (full_access || token->roles.empty()) && audience_ok;
  }

  // Graph's application permissions: Mail.ReadWrite for the dispositions (mark read, move,
  // delete) and folder creation; Mail.Read is enough when the disposition is none.
  bool CheckGraphRoles(const AccessToken& token) {
    std::string roles;
    bool read = false, write = false;
    for (const auto& role : token.roles) {
      roles += (roles.empty() ? "" : ", ") + role;
      write = write || role == "Mail.ReadWrite";
      read = read || role == "Mail.Read" || role == "Mail.ReadWrite";
    }
    const bool enough = write || (read && config_.disposition.kind == DispositionKind::kNone);
    if (token.roles.empty()) {
      Add("roles", RolesName(), Outcome::kFail, "the token has no roles", "2.3");
      report_.checks.back().remedy =
          "add the Microsoft Graph application permission Mail.ReadWrite (and Mail.Send to reply) "
          "(seed step 2.2) and grant admin consent (seed step 2.3); consent can take a few minutes "
          "to reach new tokens";
    } else if (enough) {
      Add("roles", RolesName(), Outcome::kPass, "roles: " + roles, "2.2");
    } else {
      Add("roles", RolesName(), Outcome::kFail,
          "roles: " + roles +
              (read ? " (Mail.Read only: the disposition needs Mail.ReadWrite)"
                    : " (no Mail.ReadWrite)"),
          "2.2");
      report_.checks.back().remedy =
          "Microsoft Graph needs the application permission Mail.ReadWrite of Microsoft Graph "
          "(seed step 2.2, in place of full_access_as_app, which is EWS's) with admin consent "
          "(step 2.3); Mail.Send too if the application replies";
    }
    const std::string expected = scope_.substr(0, scope_.size() - 9);  // "/.default"
    const bool audience_ok = token.audience == expected || token.audience == expected + "/" ||
                             token.audience == "00000003-0000-0000-c000-000000000000";
    if (audience_ok) {
      Add("audience", "audience matches the scope", Outcome::kPass, "aud " + token.audience, "4");
    } else {
      Add("audience", "audience matches the scope", Outcome::kFail,
          "aud " + token.audience + ", expected " + expected, "4");
      report_.checks.back().remedy =
          "check EmailIntegrationGraphUrl (the token is requested for " + scope_ + ")";
    }
    return enough && audience_ok;
  }

  bool CheckEndpoint() {
    const char* id = Graph() ? "graph" : "ews";
    const char* name = Graph() ? "Microsoft Graph reachable" : "EWS reachable";
    HttpRequest probe;
    probe.url = Graph() ? endpoint_ + "/v1.0/" : endpoint_;
    auto answer = client_->http().Send(probe);
    if (!answer) {
      Add(id, name, Outcome::kFail, endpoint_ + ": " + answer.error().message, "6");
      report_.checks.back().remedy =
          Graph() ? "check EmailIntegrationGraphUrl, the network path, and "
                    "EmailIntegrationCaBundle"
                  : "check EmailIntegrationEwsUrl (or EmailIntegrationAutodiscoverUrl), the "
                    "network path, and EmailIntegrationCaBundle";
      return false;
    }
    Add(id, name, Outcome::kPass,
        fmt::format("{} ({}), HTTP {} without a token", probe.url,
                    exchange_online_ ? "Exchange Online" : "Exchange Server on-premises",
                    answer->status),
        "6");
    CheckRetirement();
    return true;
  }

  void CheckRetirement() {
    const std::string day = FormatIso8601(options_.ews_retirement).substr(0, 10);
    if (Graph()) {
      Add("retirement", "EWS retirement", Outcome::kPass,
          "the mailbox is read over Microsoft Graph: Exchange Online's EWS cut-off (" + day +
              ") does not affect it",
          "");
      return;
    }
    if (!exchange_online_) {
      Add("retirement", "EWS retirement", Outcome::kPass,
          "Exchange Server on-premises keeps EWS; Exchange Online's cut-off (" + day +
              ") does not apply",
          "");
      return;
    }
    const auto now = clock_.Now();
    if (now >= options_.ews_retirement) {
      Add("retirement", "EWS retirement", Outcome::kFail,
          "Exchange Online switched EWS off on " + day, "");
      report_.checks.back().remedy =
          "move to Microsoft Graph: grant the Microsoft Graph application permission "
          "Mail.ReadWrite (with admin consent), then set EmailIntegrationTransport=auto (or "
          "graph); the monitor's checkpoint carries over (messages are matched by Message-ID, "
          "nothing is handed twice)";
      return;
    }
    const auto days =
        std::chrono::duration_cast<std::chrono::days>(options_.ews_retirement - now).count();
    Add("retirement", "EWS retirement", Outcome::kWarn,
        fmt::format("this Exchange Online mailbox is still read over EWS, which Exchange Online "
                    "switches off for good on {} ({} days left); since October 2026 the app must "
                    "also be on the organization's EWS allow list (EwsAllowedAppIDs)",
                    day, days),
        "");
    report_.checks.back().remedy =
        "move to Microsoft Graph: grant the Microsoft Graph application permission "
        "Mail.ReadWrite (with admin consent), then set EmailIntegrationTransport=auto (or "
        "graph); the checkpoint carries over and nothing is handed twice. Until then keep the "
        "app on Set-OrganizationConfig -EwsAllowedAppIDs";
  }

  bool CheckMailbox() {
    auto inbox = client_->transport().ResolveFolder("inbox", false);
    if (!inbox) {
      Add("impersonation", "mailbox can be impersonated", Outcome::kFail, "", "5.7",
          &inbox.error());
      return false;
    }
    Add("impersonation", "mailbox can be impersonated", Outcome::kPass,
        config_.mailbox + ": the Inbox answers", "5.8");
    auto folder = client_->transport().ResolveFolder(config_.folder, false);
    Result<SyncPage> page = folder ? client_->transport().SyncFolder(*folder, "", 1)
                                   : Result<SyncPage>(std::unexpected(folder.error()));
    if (!page) {
      Add("folder", "folder is readable", Outcome::kFail, "", "6", &page.error());
      if (page.error().code == "ErrorFolderNotFound" ||
          page.error().category == ErrorCategory::kNotFound) {
        report_.checks.back().remedy = "create the folder \"" + config_.folder +
                                       "\" in the mailbox or correct EmailIntegrationFolder";
      }
      return false;
    }
    Add("folder", "folder is readable", Outcome::kPass,
        config_.folder + (page->changes.empty() ? ": empty" : ": has messages"), "6");
    return true;
  }

  void CheckDisposition() {
    const Disposition& d = config_.disposition;
    if (d.kind != DispositionKind::kMove) {
      Add("disposition", "disposition folder", Outcome::kPass,
          d.kind == DispositionKind::kDelete ? "delete (to Deleted Items)"
          : d.kind == DispositionKind::kNone ? "none: messages stay as they are"
                                             : "mark read",
          "6");
      return;
    }
    auto target = client_->transport().ResolveFolder(d.folder, false);
    if (target) {
      Add("disposition", "disposition folder", Outcome::kPass, "move to " + d.folder, "6");
    } else if (target.error().category == ErrorCategory::kNotFound) {
      Add("disposition", "disposition folder", Outcome::kWarn,
          d.folder + " does not exist yet: the monitor creates it on first use", "6");
    } else {
      Add("disposition", "disposition folder", Outcome::kFail, "", "6", &target.error());
    }
  }

  void CheckStateDir() {
    const auto& dir = config_.state_dir;
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      Add("state", "state directory writable", Outcome::kFail,
          dir.string() + " is missing or not writable", "");
      report_.checks.back().remedy =
          "create it for the monitor's user, or set EmailIntegrationStateDir";
      return;
    }
    Add("state", "state directory writable", Outcome::kPass, dir.string(), "");
  }

  Clock& clock_;
  Random& random_;
  DoctorOptions options_;
  DoctorReport report_;
  ClientConfig config_;
  std::unique_ptr<MailboxClient> client_;
  bool exchange_online_ = true;
  std::string protocol_;  // "EWS" or "Graph", once the transport is known
  std::string endpoint_;
  std::string scope_;  // the token the transport uses
};

}  // namespace

int DoctorReport::failures() const {
  int n = 0;
  for (const auto& c : checks) n += c.outcome == Outcome::kFail;
  return n;
}

int DoctorReport::warnings() const {
  int n = 0;
  for (const auto& c : checks) n += c.outcome == Outcome::kWarn;
  return n;
}

nlohmann::json DoctorReport::ToJson() const {
  nlohmann::json out = {{"config", config_file.string()},
                        {"failures", failures()},
                        {"warnings", warnings()},
                        {"checks", nlohmann::json::array()}};
  for (const auto& c : checks) {
    nlohmann::json j = {{"id", c.id},
                        {"name", c.name},
                        {"outcome", OutcomeName(c.outcome)},
                        {"detail", c.detail},
                        {"seedStep", c.seed_step}};
    if (!c.code.empty()) j["code"] = c.code;
    if (!c.remedy.empty()) j["remedy"] = c.remedy;
    out["checks"].push_back(std::move(j));
  }
  return out;
}

std::string DoctorReport::ToText() const {
  std::ostringstream out;
  out << "exo-mailbox doctor: " << config_file.string() << "\n";
  int n = 0;
  for (const auto& c : checks) {
    const char* mark = c.outcome == Outcome::kPass   ? "ok  "
                       : c.outcome == Outcome::kWarn ? "WARN"
                       : c.outcome == Outcome::kFail ? "FAIL"
                                                     : "--  ";
    std::string line = fmt::format("[{}] {:2} {:<34}", mark, ++n, c.name);
    if (!c.seed_step.empty()) line += " (seed step " + c.seed_step + ")";
    while (line.ends_with(' ')) line.pop_back();
    out << line << "\n";
    if (!c.detail.empty()) out << "          " << c.detail << "\n";
    if (!c.code.empty() && c.outcome == Outcome::kFail) out << "          code: " << c.code << "\n";
    if (!c.remedy.empty() && c.outcome != Outcome::kPass) {
      out << "          fix: " << c.remedy << "\n";
    }
  }
  out << fmt::format("{} failed, {} warning(s)\n", failures(), warnings());
  return out.str();
}

DoctorReport RunDoctor(const std::filesystem::path& config_file, Clock& clock, Random& random,
                       DoctorOptions options) {
  return Doctor(config_file, clock, random, std::move(options)).Run();
}

}  // namespace exo::client
