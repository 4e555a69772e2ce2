// The scenario format's parser: strict (unknown keys are errors, so a typo cannot turn a check
// into a no-op) and precise about where a problem is.
#include "exo/scenarios/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "exo/common/file.hpp"
#include "exo/common/time_format.hpp"

namespace exo::scenarios {
namespace {

using json = nlohmann::json;

// A content error with the file and the JSON path that holds the mistake.
class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) {}
  std::unexpected<Error> Fail(const std::string& where, const std::string& what) const {
    return exo::Fail(ErrorCategory::kConfiguration, "ScenarioFormat",
                     file_ + ": " + where + ": " + what, "see docs/scenarios.md");
  }

 private:
  std::string file_;
};

Result<void> OnlyKeys(const Context& c, const json& j, const std::string& where,
                      const std::set<std::string>& allowed) {
  if (!j.is_object()) return c.Fail(where, "must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!allowed.contains(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return c.Fail(where, "unknown key '" + k + "' (known: " + list + ")");
    }
  }
  return {};
}

Result<std::string> Str(const Context& c, const json& j, const std::string& key,
                        const std::string& where, std::string fallback = {}) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) return c.Fail(where + "." + key, "must be a string");
  return j[key].get<std::string>();
}

Result<bool> Bool(const Context& c, const json& j, const std::string& key, const std::string& where,
                  bool fallback) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_boolean()) return c.Fail(where + "." + key, "must be true or false");
  return j[key].get<bool>();
}

Result<std::vector<std::string>> Strings(const Context& c, const json& j, const std::string& key,
                                         const std::string& where) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const json& v = j[key];
  if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  if (!v.is_array()) return c.Fail(where + "." + key, "must be a string or an array of strings");
  for (const auto& s : v) {
    if (!s.is_string()) return c.Fail(where + "." + key, "must be an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<std::size_t> Count(const Context& c, const json& v, const std::string& where) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    return c.Fail(where, "must be a non-negative integer");
  }
  return v.get<std::size_t>();
}

// "file:line:col" of a byte offset, for syntax errors.
std::string Position(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

Result<Expectation> ParseExpectation(const Context& c, const json& j, const std::string& where) {
  if (auto ok = OnlyKeys(c, j, where,
                         {"phase", "error", "handed", "unread", "inbox", "tokenRequests",
                          "maxTokenRequests", "earlyRetries", "resyncs", "endpoint"});
      !ok) {
    return std::unexpected(ok.error());
  }
  Expectation e;
  if (j.contains("phase")) {
    auto p = Str(c, j, "phase", where);
    if (!p) return std::unexpected(p.error());
    static const std::set<std::string> kPhases = {"starting", "healthy", "backing-off", "stopped"};
    if (!kPhases.contains(*p)) {
      return c.Fail(where + ".phase", "'" + *p + "' is not starting, healthy, backing-off or stopped");
    }
    e.phase = *p;
  }
  if (j.contains("error")) {
    const json& err = j["error"];
    if (err.is_null()) {
      e.no_error = true;
    } else {
      const std::string w = where + ".error";
      if (auto ok = OnlyKeys(c, err, w, {"code", "category", "remedyContains", "messageContains"});
          !ok) {
        return std::unexpected(ok.error());
      }
      for (auto [key, field] : {std::pair{"code", &e.error_code},
                                std::pair{"category", &e.error_category},
                                std::pair{"remedyContains", &e.remedy_contains},
                                std::pair{"messageContains", &e.message_contains}}) {
        if (!err.contains(key)) continue;
        auto s = Str(c, err, key, w);
        if (!s) return std::unexpected(s.error());
        *field = *s;
      }
    }
  }
  if (j.contains("handed")) {
    auto h = Strings(c, j, "handed", where);
    if (!h) return std::unexpected(h.error());
    e.handed = *h;
  }
  for (auto [key, target] : {std::pair{"unread", &e.unread}, std::pair{"inbox", &e.inbox}}) {
    if (!j.contains(key)) continue;
    const std::string w = where + "." + key;
    if (!j[key].is_object()) return c.Fail(w, "must map mailboxes to counts");
    for (const auto& [mailbox, n] : j[key].items()) {
      auto count = Count(c, n, w + "." + mailbox);
      if (!count) return std::unexpected(count.error());
      (*target)[mailbox] = *count;
    }
  }
  for (auto [key, field] : {std::pair{"tokenRequests", &e.token_requests},
                            std::pair{"maxTokenRequests", &e.max_token_requests},
                            std::pair{"resyncs", &e.resyncs}}) {
    if (!j.contains(key)) continue;
    auto n = Count(c, j[key], where + "." + key);
    if (!n) return std::unexpected(n.error());
    *field = *n;
  }
  if (j.contains("earlyRetries")) {
    auto n = Count(c, j["earlyRetries"], where + ".earlyRetries");
    if (!n) return std::unexpected(n.error());
    e.early_retries = *n;
  }
  if (j.contains("endpoint")) {
    auto s = Str(c, j, "endpoint", where);
    if (!s) return std::unexpected(s.error());
    if (*s != "online" && *s != "on-premises") {
      return c.Fail(where + ".endpoint", "must be online or on-premises");
    }
    e.endpoint = *s;
  }
  return e;
}

Result<WorldSpec> ParseWorld(const Context& c, const json& j) {
  WorldSpec w;
  if (auto ok = OnlyKeys(c, j, "world",
                         {"apps", "mailboxes", "groups", "onPremises", "tokenLifetime", "settings",
                          "propagation", "start"});
      !ok) {
    return std::unexpected(ok.error());
  }
  if (j.contains("apps")) {
    if (!j["apps"].is_array()) return c.Fail("world.apps", "must be an array");
    for (std::size_t i = 0; i < j["apps"].size(); ++i) {
      const json& a = j["apps"][i];
      const std::string where = "world.apps[" + std::to_string(i) + "]";
      if (auto ok = OnlyKeys(c, a, where,
                             {"name", "appId", "secrets", "certificates", "consent", "enabled"});
          !ok) {
        return std::unexpected(ok.error());
      }
      AppSpec app;
      auto name = Str(c, a, "name", where);
      auto id = Str(c, a, "appId", where);
      auto consent = Bool(c, a, "consent", where, true);
      auto enabled = Bool(c, a, "enabled", where, true);
      if (!name) return std::unexpected(name.error());
      if (!id) return std::unexpected(id.error());
      if (!consent) return std::unexpected(consent.error());
      if (!enabled) return std::unexpected(enabled.error());
      if (name->empty()) return c.Fail(where, "needs a name");
      app.name = *name;
      app.app_id = *id;
      app.consent = *consent;
      app.enabled = *enabled;
      if (a.contains("secrets")) {
        if (!a["secrets"].is_array()) return c.Fail(where + ".secrets", "must be an array");
        for (std::size_t k = 0; k < a["secrets"].size(); ++k) {
          const json& s = a["secrets"][k];
          const std::string sw = where + ".secrets[" + std::to_string(k) + "]";
          if (auto ok = OnlyKeys(c, s, sw, {"name", "start", "expires"}); !ok) {
            return std::unexpected(ok.error());
          }
          SecretSpec secret;
          auto sn = Str(c, s, "name", sw, "secret" + std::to_string(k + 1));
          auto st = Str(c, s, "start", sw, secret.start);
          auto se = Str(c, s, "expires", sw, secret.expires);
          if (!sn) return std::unexpected(sn.error());
          if (!st) return std::unexpected(st.error());
          if (!se) return std::unexpected(se.error());
          secret.name = *sn;
          secret.start = *st;
          secret.expires = *se;
          app.secrets.push_back(secret);
        }
      }
      if (a.contains("certificates")) {
        if (!a["certificates"].is_array())
          return c.Fail(where + ".certificates", "must be an array");
        for (std::size_t k = 0; k < a["certificates"].size(); ++k) {
          const json& s = a["certificates"][k];
          const std::string cw = where + ".certificates[" + std::to_string(k) + "]";
          if (auto ok = OnlyKeys(c, s, cw, {"name", "start", "expires"}); !ok) {
            return std::unexpected(ok.error());
          }
          CertificateSpec cert;
          auto cn = Str(c, s, "name", cw, "certificate" + std::to_string(k + 1));
          auto st = Str(c, s, "start", cw, cert.start);
          auto ce = Str(c, s, "expires", cw, cert.expires);
          if (!cn) return std::unexpected(cn.error());
          if (!st) return std::unexpected(st.error());
          if (!ce) return std::unexpected(ce.error());
          cert.name = *cn;
          cert.start = *st;
          cert.expires = *ce;
          app.certificates.push_back(cert);
        }
      }
      if (app.secrets.empty() && app.certificates.empty()) app.secrets.push_back({"secret1"});
      w.apps.push_back(app);
    }
  }
  auto mailboxes = Strings(c, j, "mailboxes", "world");
  if (!mailboxes) return std::unexpected(mailboxes.error());
  w.mailboxes = *mailboxes;
  if (j.contains("groups")) {
    if (!j["groups"].is_array()) return c.Fail("world.groups", "must be an array");
    for (std::size_t i = 0; i < j["groups"].size(); ++i) {
      const json& g = j["groups"][i];
      const std::string where = "world.groups[" + std::to_string(i) + "]";
      if (auto ok = OnlyKeys(c, g, where, {"name", "smtp", "security", "members"}); !ok) {
        return std::unexpected(ok.error());
      }
      GroupSpec group;
      auto name = Str(c, g, "name", where);
      auto smtp = Str(c, g, "smtp", where);
      auto security = Bool(c, g, "security", where, true);
      auto members = Strings(c, g, "members", where);
      if (!name) return std::unexpected(name.error());
      if (!smtp) return std::unexpected(smtp.error());
      if (!security) return std::unexpected(security.error());
      if (!members) return std::unexpected(members.error());
      if (name->empty() || smtp->empty()) return c.Fail(where, "needs a name and an smtp address");
      group.name = *name;
      group.smtp = *smtp;
      group.security = *security;
      group.members = *members;
      w.groups.push_back(group);
    }
  }
  if (j.contains("onPremises")) {
    const json& o = j["onPremises"];
    if (auto ok = OnlyKeys(c, o, "world.onPremises", {"url", "appOnlyOAuth", "spn", "mailboxes"}); !ok) {
      return std::unexpected(ok.error());
    }
    OnPremisesSpec spec;
    auto url = Str(c, o, "url", "world.onPremises", spec.url);
    auto app_only = Bool(c, o, "appOnlyOAuth", "world.onPremises", true);
    auto spn = Bool(c, o, "spn", "world.onPremises", true);
    auto boxes = Strings(c, o, "mailboxes", "world.onPremises");
    if (!url) return std::unexpected(url.error());
    if (!app_only) return std::unexpected(app_only.error());
    if (!spn) return std::unexpected(spn.error());
    if (!boxes) return std::unexpected(boxes.error());
    spec.url = *url;
    spec.app_only_oauth = *app_only;
    spec.spn = *spn;
    spec.mailboxes = *boxes;
    w.on_premises = spec;
  }
  if (j.contains("tokenLifetime")) {
    auto s = Str(c, j, "tokenLifetime", "world");
    if (!s) return std::unexpected(s.error());
    auto d = ParseOffset(*s);
    if (!d) return c.Fail("world.tokenLifetime", d.error().message);
    w.token_lifetime = *d;
  }
  if (j.contains("settings")) {
    const json& st = j["settings"];
    if (auto ok = OnlyKeys(c, st, "world.settings", {"secretPropagation", "consentPropagation"});
        !ok) {
      return std::unexpected(ok.error());
    }
    for (auto [key, field] : {std::pair{"secretPropagation", &w.secret_propagation},
                              std::pair{"consentPropagation", &w.consent_propagation}}) {
      if (!st.contains(key)) continue;
      auto s = Str(c, st, key, "world.settings");
      if (!s) return std::unexpected(s.error());
      auto d = ParseOffset(*s);
      if (!d) return c.Fail(std::string("world.settings.") + key, d.error().message);
      *field = *d;
    }
  }
  if (j.contains("propagation")) {
    // The mock validates the values (windows, counts); a misspelt key is caught here.
    if (auto ok = OnlyKeys(c, j["propagation"], "world.propagation",
                           {"frontEnds", "pinnedFrontEnd", "accessPolicy", "accessPolicyRemoval",
                            "groupMembership", "ewsAllowedAppIds", "ewsEnabled",
                            "mailboxEwsEnabled", "licence", "rbacIdleResetMinutes",
                            "rbacMaxLifetimeMinutes"});
        !ok) {
      return std::unexpected(ok.error());
    }
    w.exchange_propagation = j["propagation"];
  }
  if (j.contains("start")) {
    auto s = Str(c, j, "start", "world");
    if (!s) return std::unexpected(s.error());
    auto t = ParseIso8601(*s);
    if (!t)
      return c.Fail("world.start",
                    "'" + *s + "' is not an ISO 8601 UTC time like 2027-03-31T23:00:00Z");
    w.start = *t;
  }
  if (w.mailboxes.empty() && !w.on_premises) return c.Fail("world.mailboxes", "a world needs a mailbox");
  return w;
}

Result<ClientSpec> ParseClient(const Context& c, const json& j, const WorldSpec& world) {
  ClientSpec s;
  if (auto ok = OnlyKeys(c, j, "client",
                         {"app", "secret", "certificate", "appId", "secretValue", "mailbox",
                          "folder", "disposition", "autodiscover", "pollInterval", "owner",
                          "syncBatch", "transport"});
      !ok) {
    return std::unexpected(ok.error());
  }
  for (auto [key, field] :
       {std::pair{"app", &s.app}, std::pair{"secret", &s.secret},
        std::pair{"certificate", &s.certificate}, std::pair{"appId", &s.app_id},
        std::pair{"secretValue", &s.secret_value}, std::pair{"mailbox", &s.mailbox},
        std::pair{"folder", &s.folder}, std::pair{"disposition", &s.disposition},
        std::pair{"owner", &s.owner}, std::pair{"transport", &s.transport}}) {
    auto v = Str(c, j, key, "client", *field);
    if (!v) return std::unexpected(v.error());
    *field = *v;
  }
  if (!s.transport.empty() && s.transport != "ews" && s.transport != "graph" &&
      s.transport != "auto") {
    return c.Fail("client.transport",
                  "'" + s.transport + "' is no transport: ews, graph or auto (or leave it out: "
                  "the run's transport)");
  }
  auto discover = Bool(c, j, "autodiscover", "client", false);
  if (!discover) return std::unexpected(discover.error());
  s.autodiscover = *discover;
  if (j.contains("pollInterval")) {
    auto p = Str(c, j, "pollInterval", "client");
    if (!p) return std::unexpected(p.error());
    auto d = ParseOffset(*p);
    if (!d || *d <= Duration::zero()) return c.Fail("client.pollInterval", "must be a duration like 60s");
    s.poll_interval = *d;
  }
  if (j.contains("syncBatch")) {
    auto n = Count(c, j["syncBatch"], "client.syncBatch");
    if (!n) return std::unexpected(n.error());
    if (*n < 1 || *n > 512)
      return c.Fail("client.syncBatch", "must be 1 to 512 (MaxChangesReturned)");
    s.sync_batch = static_cast<int>(*n);
  }
  if (!s.app_id.empty() || !s.secret_value.empty()) {
    // An app made during the run (the seed's own PowerShell): nothing of the world's apps applies.
    if (s.app_id.empty() || s.secret_value.empty()) {
      return c.Fail("client", "appId and secretValue go together");
    }
    if (!s.app.empty() || !s.secret.empty() || !s.certificate.empty()) {
      return c.Fail(
          "client",
          "appId/secretValue name an app outside the world: no app, secret or certificate");
    }
  } else {
    if (world.apps.empty()) {
      return c.Fail("client",
                    "the world has no apps: give appId and secretValue (\"{{captured}}\")");
    }
    if (s.app.empty()) s.app = world.apps.front().name;
    auto app = std::find_if(world.apps.begin(), world.apps.end(),
                            [&](const AppSpec& a) { return a.name == s.app; });
    if (app == world.apps.end())
      return c.Fail("client.app", "no app named '" + s.app + "' in the world");
    if (!s.certificate.empty()) {
      if (!s.secret.empty()) return c.Fail("client", "a secret or a certificate, not both");
      if (std::none_of(app->certificates.begin(), app->certificates.end(),
                       [&](const CertificateSpec& x) { return x.name == s.certificate; })) {
        return c.Fail("client.certificate",
                      "app '" + s.app + "' has no certificate named '" + s.certificate + "'");
      }
    } else {
      if (s.secret.empty() && app->secrets.empty()) {
        return c.Fail("client", "app '" + s.app + "' has no secrets: name one of its certificates");
      }
      if (s.secret.empty()) s.secret = app->secrets.front().name;
      if (s.secret != "wrong" &&
          std::none_of(app->secrets.begin(), app->secrets.end(),
                       [&](const SecretSpec& x) { return x.name == s.secret; })) {
        return c.Fail("client.secret",
                      "app '" + s.app + "' has no secret named '" + s.secret + "'");
      }
    }
  }
  if (s.mailbox.empty()) {
    s.mailbox = world.mailboxes.empty() ? world.on_premises->mailboxes.at(0) : world.mailboxes.front();
  }
  return s;
}

struct StepKey {
  const char* key;
  Step::Kind kind;
};
constexpr StepKey kStepKeys[] = {
    {"deliver", Step::Kind::kDeliver},
    {"expireSecret", Step::Kind::kExpireSecret},
    {"rotateSecret", Step::Kind::kRotateSecret},
    {"grantConsent", Step::Kind::kGrantConsent},
    {"revokeConsent", Step::Kind::kRevokeConsent},
    {"powershell", Step::Kind::kPowerShell},
    {"fault", Step::Kind::kFault},
    {"throttle", Step::Kind::kThrottle},
    {"moveMailbox", Step::Kind::kMoveMailbox},
    {"restart", Step::Kind::kRestart},
    {"crash", Step::Kind::kCrash},
    {"secondProject", Step::Kind::kSecondProject},
    {"invalidateSyncState", Step::Kind::kInvalidateSyncState},
    {"advance", Step::Kind::kAdvance},
    {"control", Step::Kind::kControl},
    {"openClient", Step::Kind::kOpenClient},
    {"updateConfig", Step::Kind::kUpdateConfig},
    {"addCertificate", Step::Kind::kAddCertificate},
    {"removeCertificate", Step::Kind::kRemoveCertificate},
    {"holdConnections", Step::Kind::kHoldConnections},
};

// A PEM certificate name, an app name and no other keys: addCertificate, removeCertificate.
Result<void> CertificateArgs(const Context& c, const json& a, const std::string& w, bool adding) {
  std::set<std::string> keys = {"app", "name"};
  if (adding) keys.insert({"start", "expires"});
  if (auto ok = OnlyKeys(c, a, w, keys); !ok) return ok;
  for (const auto& [k, v] : a.items()) {
    if (!v.is_string() || v.get<std::string>().empty())
      return c.Fail(w + "." + k, "must be a non-empty string");
  }
  if (!a.contains("app") || !a.contains("name"))
    return c.Fail(w, "needs an app and a certificate name");
  return {};
}

Result<Step> ParseStep(const Context& c, const json& j, std::size_t index) {
  const std::string where = "timeline[" + std::to_string(index) + "]";
  if (!j.is_object()) return c.Fail(where, "a step is an object");
  Step step;
  step.where = where;
  std::set<std::string> allowed = {"at", "expect", "mustFail", "output", "capture", "note"};
  for (const auto& k : kStepKeys) allowed.insert(k.key);
  if (auto ok = OnlyKeys(c, j, where, allowed); !ok) return std::unexpected(ok.error());
  auto at = Str(c, j, "at", where);
  if (!at) return std::unexpected(at.error());
  if (at->empty()) return c.Fail(where, "needs \"at\" (\"+65m\")");
  auto offset = ParseOffset(*at);
  if (!offset) return c.Fail(where + ".at", offset.error().message);
  step.at = *offset;
  int actions = 0;
  for (const auto& k : kStepKeys) {
    if (!j.contains(k.key)) continue;
    ++actions;
    step.kind = k.kind;
    step.args = j[k.key];
    step.where = where + "." + k.key;
  }
  if (actions > 1) return c.Fail(where, "one action per step (split it into two steps at the same time)");
  if (j.contains("expect")) {
    auto e = ParseExpectation(c, j["expect"], where + ".expect");
    if (!e) return std::unexpected(e.error());
    step.expect = *e;
  }
  if (actions == 0 && !step.expect) return c.Fail(where, "a step needs an action or an expectation");
  if (j.contains("mustFail")) {
    if (actions == 0) return c.Fail(where + ".mustFail", "only an action can fail");
    const json& f = j["mustFail"];
    ExpectedFailure failure;
    if (f.is_object()) {
      if (auto ok = OnlyKeys(c, f, where + ".mustFail", {"code", "messageContains"}); !ok) {
        return std::unexpected(ok.error());
      }
      auto code = Str(c, f, "code", where + ".mustFail");
      auto msg = Str(c, f, "messageContains", where + ".mustFail");
      if (!code) return std::unexpected(code.error());
      if (!msg) return std::unexpected(msg.error());
      failure = {*code, *msg};
    } else if (!(f.is_boolean() && f.get<bool>())) {
      return c.Fail(where + ".mustFail", "must be true or {\"code\", \"messageContains\"}");
    }
    step.must_fail = failure;
  }
  if (j.contains("output")) {
    if (step.kind == Step::Kind::kControl) {
      step.output = j["output"];
    } else if (step.kind == Step::Kind::kPowerShell) {
      step.output = j["output"].is_array() ? j["output"] : json::array({j["output"]});
    } else {
      return c.Fail(where + ".output", "only for powershell and control");
    }
  }
  if (j.contains("capture")) {
    const std::string cw = where + ".capture";
    if (step.kind != Step::Kind::kPowerShell && step.kind != Step::Kind::kControl) {
      return c.Fail(cw, "only for powershell and control");
    }
    if (!j["capture"].is_object() || j["capture"].empty()) {
      return c.Fail(cw, "maps variable names to what to take (\"AppId\", \"$secret.SecretText\")");
    }
    for (const auto& [name, from] : j["capture"].items()) {
      const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
      });
      if (!plain) return c.Fail(cw + "." + name, "a variable name is letters, digits and _");
      if (!from.is_string() || from.get<std::string>().empty()) {
        return c.Fail(cw + "." + name, "must be a non-empty string");
      }
      step.capture[name] = from.get<std::string>();
    }
  }
  // Each action's value, checked now rather than half-way through a run.
  const json& a = step.args;
  const std::string& w = step.where;
  switch (step.kind) {
    case Step::Kind::kDeliver:
      if (a.is_string()) break;
      if (auto ok = OnlyKeys(c, a, w, {"subject", "to", "from", "count"}); !ok) {
        return std::unexpected(ok.error());
      }
      if (!a.contains("subject") || !a["subject"].is_string()) return c.Fail(w, "needs a subject");
      break;
    case Step::Kind::kExpireSecret:
    case Step::Kind::kRotateSecret:
    case Step::Kind::kGrantConsent:
    case Step::Kind::kRevokeConsent:
      if (!a.is_string() || a.get<std::string>().empty()) return c.Fail(w, "names an app");
      break;
    case Step::Kind::kPowerShell:
      if (!a.is_string() && !a.is_array()) return c.Fail(w, "is a line or an array of lines");
      if (a.is_array() && !std::all_of(a.begin(), a.end(), [](const json& l) { return l.is_string(); })) {
        return c.Fail(w, "is an array of strings");
      }
      break;
    case Step::Kind::kFault:
      if (auto ok = OnlyKeys(c, a, w, {"server", "rule"}); !ok) return std::unexpected(ok.error());
      if (!a.contains("rule") || !a["rule"].is_object()) return c.Fail(w, "needs a rule object");
      break;
    case Step::Kind::kThrottle:
      if (!a.is_object() && !a.is_null()) return c.Fail(w, "is a forced-throttling object or null");
      break;
    case Step::Kind::kMoveMailbox:
      if (auto ok = OnlyKeys(c, a, w, {"mailbox", "phase"}); !ok) return std::unexpected(ok.error());
      if (!a.contains("phase") || (a["phase"] != "begin" && a["phase"] != "complete")) {
        return c.Fail(w + ".phase", "must be begin or complete");
      }
      break;
    case Step::Kind::kSecondProject:
      if (auto ok = OnlyKeys(c, a, w, {"owner"}); !ok) return std::unexpected(ok.error());
      break;
    case Step::Kind::kControl: {
      if (auto ok = OnlyKeys(c, a, w, {"server", "method", "path", "headers", "body", "form"});
          !ok) {
        return std::unexpected(ok.error());
      }
      static const std::set<std::string> kServers = {"aad", "ews", "onprem"};
      static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
      if (!a.contains("server") || !a["server"].is_string() || !kServers.contains(a["server"])) {
        return c.Fail(w + ".server", "must be aad, ews or onprem");
      }
      if (!a.contains("method") || !a["method"].is_string() || !kMethods.contains(a["method"])) {
        return c.Fail(w + ".method", "must be GET, POST, PUT, PATCH or DELETE");
      }
      if (!a.contains("path") || !a["path"].is_string() ||
          !a["path"].get<std::string>().starts_with("/")) {
        return c.Fail(w + ".path", "must be a path starting with /");
      }
      if (a.contains("body") && a.contains("form")) return c.Fail(w, "a body or a form, not both");
      if (a.contains("headers")) {
        if (!a["headers"].is_object()) return c.Fail(w + ".headers", "must map names to strings");
        for (const auto& [k, v] : a["headers"].items()) {
          if (!v.is_string()) return c.Fail(w + ".headers." + k, "must be a string");
        }
      }
      if (a.contains("form")) {
        if (!a["form"].is_object()) return c.Fail(w + ".form", "must map names to strings");
        for (const auto& [k, v] : a["form"].items()) {
          if (!v.is_string()) return c.Fail(w + ".form." + k, "must be a string");
        }
      }
      break;
    }
    case Step::Kind::kOpenClient:
      if (!a.is_object() || !a.empty()) return c.Fail(w, "is {}");
      break;
    case Step::Kind::kUpdateConfig: {
      if (auto ok = OnlyKeys(c, a, w, {"secret", "certificate", "set"}); !ok) {
        return std::unexpected(ok.error());
      }
      if (a.empty()) return c.Fail(w, "changes a secret, a certificate or keys (set)");
      if (a.contains("secret") && a.contains("certificate")) {
        return c.Fail(w, "a secret or a certificate, not both");
      }
      for (const char* k : {"secret", "certificate"}) {
        if (a.contains(k) && (!a[k].is_string() || a[k].get<std::string>().empty())) {
          return c.Fail(w + "." + k, "names one of the client app's credentials");
        }
      }
      if (a.contains("set")) {
        if (!a["set"].is_object() || a["set"].empty())
          return c.Fail(w + ".set", "maps .config keys to values");
        for (const auto& [k, v] : a["set"].items()) {
          if (!k.starts_with("EmailIntegration"))
            return c.Fail(w + ".set." + k, "is not an EmailIntegration* key");
          if (!v.is_string() && !v.is_null())
            return c.Fail(w + ".set." + k, "must be a string, or null to remove it");
        }
      }
      break;
    }
    case Step::Kind::kAddCertificate:
    case Step::Kind::kRemoveCertificate:
      if (auto ok = CertificateArgs(c, a, w, step.kind == Step::Kind::kAddCertificate); !ok) {
        return std::unexpected(ok.error());
      }
      break;
    case Step::Kind::kHoldConnections:
      if (auto n = Count(c, a, w); !n) return std::unexpected(n.error());
      break;
    case Step::Kind::kAdvance:
    case Step::Kind::kCrash:
      // true or {}: between two commits, now; {"afterHanding": N}: inside the next batch, just after the
      // application got its N-th message and before the monitor committed that.
      if (a.is_object()) {
        if (auto ok = OnlyKeys(c, a, w, {"afterHanding"}); !ok) return std::unexpected(ok.error());
        if (a.contains("afterHanding") &&
            (!a["afterHanding"].is_number_unsigned() || a["afterHanding"].get<int>() < 1)) {
          return c.Fail(w + ".afterHanding", "must be a positive count of messages");
        }
      }
      break;
    case Step::Kind::kRestart:
    case Step::Kind::kInvalidateSyncState:
    case Step::Kind::kExpect:
      break;
  }
  return step;
}

}  // namespace

Result<Duration> ParseOffset(const std::string& text) {
  auto bad = [&] {
    return exo::Fail(ErrorCategory::kConfiguration, "BadOffset",
                     "'" + text + "' is not an offset like +65m, 90s, +1h30m or 2d");
  };
  std::size_t i = 0;
  if (i < text.size() && text[i] == '+') ++i;
  if (text.substr(i) == "0") return Duration::zero();
  if (i == text.size()) return bad();
  Duration total{};
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (start == i || i - start > 9) return bad();
    const long long n = std::stoll(text.substr(start, i - start));
    std::string unit;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) unit += text[i++];
    if (unit == "ms") total += std::chrono::milliseconds(n);
    else if (unit == "s") total += std::chrono::seconds(n);
    else if (unit == "m") total += std::chrono::minutes(n);
    else if (unit == "h") total += std::chrono::hours(n);
    else if (unit == "d") total += std::chrono::hours(24 * n);
    else return bad();
  }
  return total;
}

std::string FormatOffset(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  const bool negative = ms < 0;
  if (negative) ms = -ms;
  const long long days = ms / 86'400'000;
  ms %= 86'400'000;
  auto two = [](long long v) { return (v < 10 ? "0" : "") + std::to_string(v); };
  std::string out = negative ? "-" : "+";
  if (days > 0) out += std::to_string(days) + "d";
  out += two(ms / 3'600'000) + ":" + two(ms / 60'000 % 60) + ":" + two(ms / 1000 % 60);
  if (ms % 1000 != 0) {
    const std::string frac = std::to_string(1000 + ms % 1000);
    out += "." + frac.substr(1);
  }
  return out;
}

const char* ToString(Step::Kind kind) {
  for (const auto& k : kStepKeys) {
    if (k.kind == kind) return k.key;
  }
  return "expect";
}

Result<Scenario> ParseScenario(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    return exo::Fail(ErrorCategory::kConfiguration, "ScenarioSyntax",
                     file + ":" + Position(text, e.byte == 0 ? 0 : e.byte - 1) + ": " + e.what(),
                     "JSON with // and /* */ comments; see docs/scenarios.md");
  } catch (const json::exception& e) {
    // The parser also throws out_of_range for a number too large for any JSON number type.
    return exo::Fail(ErrorCategory::kConfiguration, "ScenarioSyntax", file + ": " + e.what(),
                     "JSON with // and /* */ comments; see docs/scenarios.md");
  }
  const Context c(file);
  if (auto ok = OnlyKeys(c, j, "scenario",
                         {"name", "description", "tags", "seed", "transports", "world", "client",
                          "admin", "timeline", "end", "expect"});
      !ok) {
    return std::unexpected(ok.error());
  }
  Scenario s;
  s.file = file;
  auto name = Str(c, j, "name", "scenario");
  auto description = Str(c, j, "description", "scenario");
  auto tags = Strings(c, j, "tags", "scenario");
  auto admin = Strings(c, j, "admin", "scenario");
  if (!name) return std::unexpected(name.error());
  if (!description) return std::unexpected(description.error());
  if (!tags) return std::unexpected(tags.error());
  if (!admin) return std::unexpected(admin.error());
  if (name->empty()) return c.Fail("name", "every scenario has a name");
  s.name = *name;
  s.description = *description;
  s.tags = *tags;
  s.admin = *admin;
  if (j.contains("seed")) {
    if (!j["seed"].is_number_unsigned()) return c.Fail("seed", "must be a non-negative integer");
    s.seed = j["seed"].get<std::uint64_t>();
  }
  if (j.contains("transports")) {
    auto transports = Strings(c, j, "transports", "scenario");
    if (!transports) return std::unexpected(transports.error());
    if (transports->empty()) return c.Fail("transports", "name at least one: ews, graph");
    for (std::size_t i = 0; i < transports->size(); ++i) {
      const std::string& t = (*transports)[i];
      if (t != "ews" && t != "graph") {
        return c.Fail("transports", "'" + t + "' is no transport a scenario runs on: ews, graph");
      }
      if (std::find(transports->begin(), transports->begin() + static_cast<std::ptrdiff_t>(i), t) !=
          transports->begin() + static_cast<std::ptrdiff_t>(i)) {
        return c.Fail("transports", "'" + t + "' is named twice");
      }
    }
    s.transports = *transports;
  }
  if (!j.contains("world")) return c.Fail("world", "missing");
  auto world = ParseWorld(c, j["world"]);
  if (!world) return std::unexpected(world.error());
  s.world = *world;
  auto client = ParseClient(c, j.value("client", json::object()), s.world);
  if (!client) return std::unexpected(client.error());
  s.client = *client;
  if (j.contains("timeline")) {
    if (!j["timeline"].is_array()) return c.Fail("timeline", "must be an array of steps");
    for (std::size_t i = 0; i < j["timeline"].size(); ++i) {
      auto step = ParseStep(c, j["timeline"][i], i);
      if (!step) return std::unexpected(step.error());
      s.timeline.push_back(*step);
    }
  }
  std::stable_sort(s.timeline.begin(), s.timeline.end(),
                   [](const Step& a, const Step& b) { return a.at < b.at; });
  if (std::count_if(s.timeline.begin(), s.timeline.end(),
                    [](const Step& x) { return x.kind == Step::Kind::kOpenClient; }) > 1) {
    return c.Fail("timeline", "the client opens once: one openClient step at most");
  }
  if (!s.timeline.empty()) s.end = s.timeline.back().at;
  if (j.contains("end")) {
    auto e = Str(c, j, "end", "scenario");
    if (!e) return std::unexpected(e.error());
    auto d = ParseOffset(*e);
    if (!d) return c.Fail("end", d.error().message);
    if (*d < s.end) return c.Fail("end", "is before the last step");
    s.end = *d;
  }
  if (j.contains("expect")) {
    auto e = ParseExpectation(c, j["expect"], "expect");
    if (!e) return std::unexpected(e.error());
    s.expect_at_end = *e;
  }
  return s;
}

Result<Scenario> LoadScenario(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return exo::Fail(ErrorCategory::kConfiguration, "ScenarioUnreadable",
                     path + ": " + text.error().message);
  }
  return ParseScenario(*text, path);
}

}  // namespace exo::scenarios
