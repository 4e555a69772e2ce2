#include "exo/mock_aad/directory.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "exo/common/base64.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/json_fields.hpp"
#include "exo/mock_kit/world_format.hpp"

namespace exo::aad {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

namespace {

using nlohmann::json;

std::unexpected<Error> Invalid(const std::string& why) {
  return Fail(ErrorCategory::kConfiguration, "InvalidWorld", why);
}
std::unexpected<Error> NotFound(const std::string& what) {
  return Fail(ErrorCategory::kNotFound, "NotFound", what);
}

Result<void> StringFields(const json& object, std::initializer_list<std::string_view> strings) {
  if (auto bad = mock::CheckStringFields(object, strings)) return Invalid(*bad);
  return {};
}

std::string Item(const std::string& list, std::size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

// The array `object`[`key`], or an empty one when absent (CheckWorldShape has seen to the type).
const json& Entries(const json& object, const char* key) {
  static const json none = json::array();
  return object.contains(key) ? object[key] : none;
}

// "2027-01-31T00:00:00Z", or "+90d" / "-1h" relative to `now`.
Result<SystemTime> ParseTime(const json& j, const char* field, SystemTime now) {
  if (!j.is_string()) return Invalid(std::string(field) + " must be a string");
  const std::string s = j.get<std::string>();
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (auto d = ParseDuration(s)) return now + std::chrono::duration_cast<SystemTime::duration>(*d);
  } else if (auto t = ParseIso8601(s)) {
    return *t;
  }
  return Invalid(std::string(field) + " '" + s + "' is neither ISO 8601 nor like +90d");
}

// Resource names compare case-insensitively and without trailing slashes.
std::string ComparableUri(const std::string& uri) {
  std::string n = Lower(uri);
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

// A servicePrincipalName the hybrid setup registers: an absolute http(s) URL with a host.
Result<std::string> ParseSpnUrl(const json& j, const std::string& where) {
  static const std::regex re("^https?://[^/?#\\s]+(/[^?#\\s]*)?$", std::regex::icase);
  if (!j.is_string() || !std::regex_match(j.get<std::string>(), re)) {
    return Invalid(where + ": each exchangeServicePrincipalNames entry is an absolute https URL "
                   "such as \"https://mail.contoso.com\"");
  }
  return j.get<std::string>();
}

std::string OptString(const json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->is_string() ? it->get<std::string>() : fallback;
}

const std::vector<Resource>& BuiltInResources() {
  // Role ids are Microsoft's real ones. Delegated scopes are what the admin tools request
  // [infer: the exact scp of Exchange admin and Graph admin tokens is not documented].
  static const std::vector<Resource> resources = {
      {kExchangeOnlineAppId,
       "Office 365 Exchange Online",
       {kExchangeOnlineUri, "https://outlook.office.com", "https://ps.outlook.com"},
       1,
       {{kFullAccessAsAppRoleId, "full_access_as_app"},
        {kExchangeManageAsAppRoleId, "Exchange.ManageAsApp"},
        {"810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read"},
        {"e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Mail.ReadWrite"},
        {"b633e1c5-b582-4048-a93e-9f11b44c7e96", "Mail.Send"}},
       "AdminApi.AccessAsUser.All FfoPowerShell.AccessAsUser.All "
       "RemotePowerShell.AccessAsUser.All EWS.AccessAsUser.All"},
      // Graph accepts v1.0 tokens (accessTokenAcceptedVersion null): iss https://sts.windows.net/
      // {tid}/, aud as requested, appid, ver "1.0", as decoded client-credentials tokens for
      // https://graph.microsoft.com/.default show (microsoftgraph/msgraph-sample-android#29 has
      // one with aud the app id; public auth-flow write-ups show aud https://graph.microsoft.com).
      {kGraphAppId,
       "Microsoft Graph",
       {kGraphUri, "https://graph.microsoft.com/"},
       1,
       {{"810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read"},
        {"e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Mail.ReadWrite"},
        {"b633e1c5-b582-4048-a93e-9f11b44c7e96", "Mail.Send"},
        {"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All"},
        {"06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All"},
        {"df021288-bdef-4463-88db-98f22de89214", "User.Read.All"}},
       "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All Directory.AccessAsUser.All "
       "User.Read"},
  };
  return resources;
}

}  // namespace

// ---- Settings ----

Result<Settings> Settings::FromJson(const json& j, const Settings& base) {
  if (!j.is_object()) return Invalid("settings must be an object");
  Settings s = base;
  auto secs = [&](const char* key, Duration& out) -> Result<void> {
    if (!j.contains(key)) return {};
    if (!j[key].is_number() || j[key].get<double>() < 0) {
      return Invalid(std::string("settings.") + key + " must be a number >= 0");
    }
    out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(j[key].get<double>()));
    return {};
  };
  for (const auto& [k, v] : j.items()) {
    static const std::vector<std::string> known = {
        "tokenLifetimeSeconds", "secretPropagationSeconds", "consentPropagationSeconds",
        "assertionClockSkewSeconds", "throttleLimit", "throttleWindowSeconds",
        "throttleRetryAfterSeconds", "throttlePlainBody"};
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return Invalid("unknown setting '" + k + "'");
    }
  }
  if (auto r = secs("tokenLifetimeSeconds", s.token_lifetime); !r) return std::unexpected(r.error());
  if (auto r = secs("secretPropagationSeconds", s.secret_propagation); !r) return std::unexpected(r.error());
  if (auto r = secs("consentPropagationSeconds", s.consent_propagation); !r) return std::unexpected(r.error());
  if (auto r = secs("assertionClockSkewSeconds", s.assertion_skew); !r) return std::unexpected(r.error());
  if (auto r = secs("throttleWindowSeconds", s.throttle_window); !r) return std::unexpected(r.error());
  if (auto r = secs("throttleRetryAfterSeconds", s.throttle_retry_after); !r) return std::unexpected(r.error());
  if (j.contains("throttleLimit")) {
    // JSON built in C++ holds a literal 5 as a signed integer; parsed text holds it unsigned.
    const json& limit = j["throttleLimit"];
    if (!limit.is_number_unsigned() &&
        !(limit.is_number_integer() && limit.get<std::int64_t>() >= 0)) {
      return Invalid("settings.throttleLimit must be an integer >= 0");
    }
    s.throttle_limit = limit.get<std::uint64_t>();
  }
  if (j.contains("throttlePlainBody")) {
    if (!j["throttlePlainBody"].is_boolean()) return Invalid("settings.throttlePlainBody is a boolean");
    s.throttle_plain_body = j["throttlePlainBody"].get<bool>();
  }
  if (s.token_lifetime < std::chrono::seconds(60)) {
    return Invalid("settings.tokenLifetimeSeconds must be at least 60");
  }
  return s;
}

json Settings::ToJson() const {
  auto secs = [](Duration d) { return std::chrono::duration<double>(d).count(); };
  return {{"tokenLifetimeSeconds", secs(token_lifetime)},
          {"secretPropagationSeconds", secs(secret_propagation)},
          {"consentPropagationSeconds", secs(consent_propagation)},
          {"assertionClockSkewSeconds", secs(assertion_skew)},
          {"throttleLimit", throttle_limit},
          {"throttleWindowSeconds", secs(throttle_window)},
          {"throttleRetryAfterSeconds", secs(throttle_retry_after)},
          {"throttlePlainBody", throttle_plain_body}};
}

// ---- Directory ----

Directory::Directory(Clock& clock, Random& random) : clock_(clock), random_(random) {}

const std::vector<Resource>& Directory::Resources() { return BuiltInResources(); }

const Resource* Directory::FindResource(const std::string& name) {
  const std::string n = ComparableUri(name);
  for (const auto& r : BuiltInResources()) {
    if (n == r.app_id || n == Lower(r.display_name)) return &r;
    for (const auto& uri : r.identifier_uris) {
      if (n == ComparableUri(uri)) return &r;
    }
  }
  return nullptr;
}

const Resource* Directory::FindResource(const Tenant& tenant, const std::string& name) {
  if (const Resource* r = FindResource(name)) return r;
  const std::string n = ComparableUri(name);
  for (const auto& spn : tenant.exchange_spns) {
    if (n == ComparableUri(spn)) return FindResource(kExchangeOnlineAppId);
  }
  return nullptr;
}

bool Directory::IsFirstPartyPublicClient(const std::string& client_id) {
  // Exchange Online PowerShell, Azure CLI, Microsoft Graph PowerShell, Azure PowerShell.
  static const std::vector<std::string> ids = {kExchangePowerShellClientId,
                                               "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                                               "14d82eec-204b-4c2f-b7e8-296a70dab67e",
                                               "1950a258-227b-4e31-a9cf-717495945fc2"};
  return std::find(ids.begin(), ids.end(), Lower(client_id)) != ids.end();
}

std::string Directory::HashSecret(const std::string& text) {
  return HexEncode(crypto::Sha256(text));
}

std::string Directory::GenerateSecretText() {
  // Current secrets: three characters, a version digit, "Q~", then 34 more (40 in all), from
  // the URL-unreserved alphabet (Microsoft's scanner pattern for AAD client secrets).
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~.-";
  constexpr std::size_t kLetters = sizeof kAlphabet - 1;
  std::string s;
  for (int i = 0; i < 3; ++i) s += kAlphabet[SecureRandom::Instance().Below(kLetters - 4)];
  s += "8Q~";
  for (int i = 0; i < 34; ++i) s += kAlphabet[SecureRandom::Instance().Below(kLetters)];
  return s;
}

json Directory::DefaultWorld(const std::string& admin_password) {
  return {{"tenants",
           {{{"id", kDefaultTenantId},
             {"displayName", "Contoso"},
             {"domains", {kDefaultTenantDomain}},
             {"users",
              {{{"userPrincipalName", std::string("admin@") + kDefaultTenantDomain},
                {"displayName", "Harness Administrator"},
                {"password", admin_password},
                {"roles", {"Global Administrator"}}}}}}}}};
}

Result<std::vector<Tenant>> Directory::ParseWorld(const json& world) {
  // Every member known and of its type first (mock-kit's world format, shared with mock-ews):
  // a typo must not load a world without what the file meant to declare.
  if (auto bad = mock::CheckWorldShape(world)) return Invalid(*bad);
  std::vector<Tenant> out;
  if (!world.contains("tenants")) return out;
  for (const auto& tj : world["tenants"]) {
    Tenant t;
    t.id = Lower(OptString(tj, "id"));
    if (!IsGuid(t.id)) return Invalid("tenant id '" + t.id + "' is not a GUID");
    t.display_name = OptString(tj, "displayName", "Tenant " + t.id.substr(0, 8));
    if (tj.contains("domains")) {
      if (!tj["domains"].is_array()) return Invalid("tenant " + t.id + ": domains is an array");
      for (const auto& d : tj["domains"]) {
        if (!d.is_string() || d.get<std::string>().find('.') == std::string::npos) {
          return Invalid("tenant " + t.id + ": each domain is a DNS name");
        }
        t.domains.push_back(Lower(d.get<std::string>()));
      }
    }
    if (tj.contains("exchangeServicePrincipalNames")) {
      const json& spns = tj["exchangeServicePrincipalNames"];
      if (!spns.is_array()) {
        return Invalid("tenant " + t.id + ": exchangeServicePrincipalNames is an array");
      }
      for (const auto& u : spns) {
        auto url = ParseSpnUrl(u, "tenant " + t.id);
        if (!url) return std::unexpected(url.error());
        t.exchange_spns.push_back(*url);
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<void> Directory::Load(const json& world) {
  Directory scratch(clock_, random_);
  if (auto r = scratch.Merge(world); !r) return r;
  std::scoped_lock lock(mu_, scratch.mu_);
  tenants_ = std::move(scratch.tenants_);
  settings_ = scratch.settings_;
  return {};
}

Result<void> Directory::Merge(const json& world) {
  // Build on a copy so a failure half-way changes nothing.
  Directory copy(clock_, random_);
  {
    std::lock_guard lock(mu_);
    copy.tenants_ = tenants_;
    copy.settings_ = settings_;
  }
  const SystemTime now = clock_.Now();
  auto tenants = copy.ParseWorld(world);
  if (!tenants) return std::unexpected(tenants.error());
  if (world.contains("settings")) {
    auto s = Settings::FromJson(world["settings"], copy.settings_);
    if (!s) return std::unexpected(s.error());
    copy.settings_ = *s;
  }
  for (auto& t : *tenants) {
    // A domain is verified in one tenant only; a second claim would silently route its
    // requests to whichever tenant comes first.
    for (const auto& d : t.domains) {
      const Tenant* owner = copy.MutableTenant(d);
      if (owner && owner->id != t.id) {
        return Invalid("tenant " + t.id + ": domain " + d + " already belongs to tenant " +
                       owner->id);
      }
    }
    if (!copy.MutableTenant(t.id)) {
      // Only a new tenant gets a default initial domain: an existing one keeps its own.
      if (t.domains.empty()) t.domains.push_back("tenant" + t.id.substr(0, 8) + ".onmicrosoft.com");
      copy.tenants_.push_back(t);
    } else if (auto* existing = copy.MutableTenant(t.id)) {
      for (const auto& d : t.domains) {
        if (std::find(existing->domains.begin(), existing->domains.end(), d) ==
            existing->domains.end()) {
          existing->domains.push_back(d);
        }
      }
      for (const auto& spn : t.exchange_spns) {
        const bool known = std::any_of(
            existing->exchange_spns.begin(), existing->exchange_spns.end(),
            [&](const std::string& e) { return ComparableUri(e) == ComparableUri(spn); });
        if (!known) existing->exchange_spns.push_back(spn);
      }
    }
  }
  const json& tenant_list = Entries(world, "tenants");
  for (std::size_t ti = 0; ti < tenant_list.size(); ++ti) {
    const json& tj = tenant_list[ti];
    const std::string tid = Lower(OptString(tj, "id"));
    const json& users = Entries(tj, "users");
    for (std::size_t ui = 0; ui < users.size(); ++ui) {
      const std::string where = Item(Item("tenants", ti) + ".users", ui);
      if (auto r = copy.AddUser(tid, users[ui]); !r) {
        return Invalid(where + ": " + r.error().message);
      }
    }
    const json& applications = Entries(tj, "applications");
    for (std::size_t ai = 0; ai < applications.size(); ++ai) {
      const json& aj = applications[ai];
      const std::string where = Item(Item("tenants", ti) + ".applications", ai);
      json spec = aj;
      for (const char* k : {"passwordCredentials", "keyCredentials", "appRoleAssignments"}) {
        spec.erase(k);
      }
      auto app = copy.CreateApplication(tid, spec);
      if (!app) return Invalid(where + ": " + app.error().message);
      const std::string& app_id = app->app_id;
      if (aj.value("servicePrincipal", true)) {
        auto sp = copy.CreateServicePrincipal(tid, app_id);
        if (!sp) return std::unexpected(sp.error());
        if (aj.contains("servicePrincipalId")) {
          const std::string spid = Lower(OptString(aj, "servicePrincipalId"));
          if (!IsGuid(spid)) return Invalid("servicePrincipalId must be a GUID");
          copy.MutableApp(*copy.MutableTenant(tid), app_id)->sp_object_id = spid;
        }
      }
      for (const auto& pj : Entries(aj, "passwordCredentials")) {
        if (auto r = copy.AddPassword(tid, app_id, pj); !r) {
          return Invalid(where + ": " + r.error().message);
        }
      }
      for (const auto& kj : Entries(aj, "keyCredentials")) {
        if (auto r = copy.AddKey(tid, app_id, kj); !r) {
          return Invalid(where + ": " + r.error().message);
        }
      }
      for (const auto& gj : Entries(aj, "appRoleAssignments")) {
        auto r = copy.GrantAppRole(tid, app_id, OptString(gj, "resource"), OptString(gj, "appRole"));
        if (!r) return Invalid(where + ": " + r.error().message);
        // Assignments from the world file exist from the start: no propagation wait.
        auto* a = copy.MutableApp(*copy.MutableTenant(tid), app_id);
        a->grants.back().created = now - std::chrono::hours(24 * 365);
      }
      // The same for secrets: a world file describes a settled directory.
      auto* a = copy.MutableApp(*copy.MutableTenant(tid), app_id);
      for (auto& p : a->passwords) p.created = now - std::chrono::hours(24 * 365);
    }
  }
  std::scoped_lock lock(mu_, copy.mu_);
  tenants_ = std::move(copy.tenants_);
  settings_ = copy.settings_;
  return {};
}

json Directory::Dump() const {
  std::lock_guard lock(mu_);
  json tenants = json::array();
  for (const auto& t : tenants_) {
    json users = json::array();
    for (const auto& u : t.users) {
      users.push_back({{"id", u.object_id},
                       {"userPrincipalName", u.upn},
                       {"displayName", u.display_name},
                       {"roles", u.roles},
                       {"accountEnabled", u.enabled}});
    }
    json apps = json::array();
    for (const auto& a : t.applications) {
      json pw = json::array(), keys = json::array(), grants = json::array();
      for (const auto& p : a.passwords) {
        pw.push_back({{"keyId", p.key_id},
                      {"displayName", p.display_name},
                      {"hint", p.hint},
                      {"startDateTime", FormatIso8601(p.start)},
                      {"endDateTime", FormatIso8601(p.end)}});
      }
      for (const auto& k : a.keys) {
        keys.push_back({{"keyId", k.key_id},
                        {"displayName", k.display_name},
                        {"customKeyIdentifier", Base64Encode(k.sha1_thumbprint)},
                        {"startDateTime", FormatIso8601(k.start)},
                        {"endDateTime", FormatIso8601(k.end)}});
      }
      for (const auto& g : a.grants) {
        grants.push_back({{"id", g.id},
                          {"resourceId", g.resource_app_id},
                          {"appRoleId", g.app_role_id},
                          {"createdDateTime", FormatIso8601(g.created)}});
      }
      apps.push_back({{"appId", a.app_id},
                      {"id", a.object_id},
                      {"displayName", a.display_name},
                      {"servicePrincipalId", a.sp_object_id.empty() ? json(nullptr) : json(a.sp_object_id)},
                      {"enabled", a.enabled},
                      {"isFallbackPublicClient", a.public_client},
                      {"identifierUris", a.identifier_uris},
                      {"requiredResourceAccess", a.required_resource_access},
                      {"passwordCredentials", pw},
                      {"keyCredentials", keys},
                      {"appRoleAssignments", grants}});
    }
    tenants.push_back({{"id", t.id},
                       {"displayName", t.display_name},
                       {"domains", t.domains},
                       {"exchangeServicePrincipalNames", t.exchange_spns},
                       {"users", users},
                       {"applications", apps}});
  }
  return {{"tenants", tenants}, {"settings", settings_.ToJson()}};
}

Settings Directory::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void Directory::set_settings(const Settings& s) {
  std::lock_guard lock(mu_);
  settings_ = s;
}

Tenant* Directory::MutableTenant(const std::string& id_or_domain) {
  const std::string key = Lower(id_or_domain);
  for (auto& t : tenants_) {
    if (t.id == key) return &t;
    if (std::find(t.domains.begin(), t.domains.end(), key) != t.domains.end()) return &t;
  }
  return nullptr;
}

Application* Directory::MutableApp(Tenant& t, const std::string& app_id) {
  const std::string key = Lower(app_id);
  for (auto& a : t.applications) {
    if (a.app_id == key) return &a;
  }
  return nullptr;
}

std::optional<Tenant> Directory::FindTenant(const std::string& id_or_domain) const {
  std::lock_guard lock(mu_);
  auto* t = const_cast<Directory*>(this)->MutableTenant(id_or_domain);
  if (!t) return std::nullopt;
  return *t;
}

std::optional<Application> Directory::FindApplication(const std::string& tenant_id,
                                                      const std::string& app_id) const {
  std::lock_guard lock(mu_);
  auto* self = const_cast<Directory*>(this);
  auto* t = self->MutableTenant(tenant_id);
  if (!t) return std::nullopt;
  auto* a = self->MutableApp(*t, app_id);
  if (!a) return std::nullopt;
  return *a;
}

std::optional<User> Directory::FindUser(const std::string& tenant_id, const std::string& upn) const {
  std::lock_guard lock(mu_);
  const std::string key = Lower(upn);
  auto* t = const_cast<Directory*>(this)->MutableTenant(tenant_id);
  if (!t) return std::nullopt;
  for (const auto& u : t->users) {
    if (Lower(u.upn) == key) return u;
  }
  return std::nullopt;
}

Result<Application> Directory::CreateApplication(const std::string& tenant_id, const json& spec) {
  if (!spec.is_object()) return Invalid("an application is a JSON object");
  if (auto r = StringFields(spec, {"appId", "id", "displayName"}); !r) {
    return std::unexpected(r.error());
  }
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application a;
  a.app_id = Lower(OptString(spec, "appId", random_.Uuid()));
  if (!IsGuid(a.app_id)) return Invalid("appId '" + a.app_id + "' is not a GUID");
  if (MutableApp(*t, a.app_id)) return Invalid("an application with appId " + a.app_id + " exists");
  a.object_id = Lower(OptString(spec, "id", random_.Uuid()));
  if (!IsGuid(a.object_id)) return Invalid("id '" + a.object_id + "' is not a GUID");
  a.display_name = OptString(spec, "displayName", "");
  if (a.display_name.empty()) return Invalid("displayName is required");
  if (spec.contains("enabled")) {
    if (!spec["enabled"].is_boolean()) return Invalid("enabled is a boolean");
    a.enabled = spec["enabled"].get<bool>();
  }
  if (spec.contains("isFallbackPublicClient")) {
    if (!spec["isFallbackPublicClient"].is_boolean()) return Invalid("isFallbackPublicClient is a boolean");
    a.public_client = spec["isFallbackPublicClient"].get<bool>();
  }
  if (spec.contains("identifierUris")) {
    if (!spec["identifierUris"].is_array()) return Invalid("identifierUris is an array of strings");
    for (const auto& u : spec["identifierUris"]) {
      if (!u.is_string()) return Invalid("identifierUris is an array of strings");
      a.identifier_uris.push_back(u.get<std::string>());
    }
  }
  if (spec.contains("requiredResourceAccess")) {
    if (!spec["requiredResourceAccess"].is_array()) return Invalid("requiredResourceAccess is an array");
    a.required_resource_access = spec["requiredResourceAccess"];
  }
  a.created = now;
  t->applications.push_back(a);
  return a;
}

Result<Application> Directory::UpdateApplication(const std::string& tenant_id,
                                                 const std::string& app_id, const json& patch) {
  if (!patch.is_object()) return Invalid("a patch is a JSON object");
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  Application updated = *a;
  for (const auto& [k, v] : patch.items()) {
    if (k == "displayName" && v.is_string() && !v.get<std::string>().empty()) {
      updated.display_name = v.get<std::string>();
    } else if (k == "requiredResourceAccess" && v.is_array()) {
      updated.required_resource_access = v;
    } else if (k == "identifierUris" && v.is_array()) {
      updated.identifier_uris.clear();
      for (const auto& u : v) {
        if (!u.is_string()) return Invalid("identifierUris is an array of strings");
        updated.identifier_uris.push_back(u.get<std::string>());
      }
    } else if (k == "isFallbackPublicClient" && v.is_boolean()) {
      updated.public_client = v.get<bool>();
    } else if (k == "passwordCredentials" || k == "keyCredentials") {
      return Invalid("use addPassword/addKey to change " + k);
    } else {
      return Invalid("property '" + k + "' cannot be updated or has the wrong type");
    }
  }
  *a = updated;
  return updated;
}

Result<void> Directory::DeleteApplication(const std::string& tenant_id, const std::string& app_id) {
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  const std::string key = Lower(app_id);
  if (std::erase_if(t->applications, [&](const Application& a) { return a.app_id == key; }) == 0) {
    return NotFound("application '" + app_id + "' not found");
  }
  return {};
}

Result<std::string> Directory::CreateServicePrincipal(const std::string& tenant_id,
                                                      const std::string& app_id) {
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  if (a->sp_object_id.empty()) a->sp_object_id = random_.Uuid();
  return a->sp_object_id;
}

Result<NewSecret> Directory::AddPassword(const std::string& tenant_id, const std::string& app_id,
                                         const json& spec) {
  if (!spec.is_object()) return Invalid("a password credential is a JSON object");
  if (auto r = StringFields(spec, {"secretText", "displayName", "keyId"}); !r) {
    return std::unexpected(r.error());
  }
  const SystemTime now = clock_.Now();
  NewSecret secret;
  secret.secret_text = OptString(spec, "secretText");
  if (secret.secret_text.empty()) secret.secret_text = GenerateSecretText();
  secret.start = now;
  if (spec.contains("startDateTime") && !spec["startDateTime"].is_null()) {
    auto s = ParseTime(spec["startDateTime"], "startDateTime", now);
    if (!s) return std::unexpected(s.error());
    secret.start = *s;
  }
  // Graph's default: two years after the start.
  secret.end = secret.start + std::chrono::hours(24 * 730);
  if (spec.contains("endDateTime") && !spec["endDateTime"].is_null()) {
    auto e = ParseTime(spec["endDateTime"], "endDateTime", now);
    if (!e) return std::unexpected(e.error());
    secret.end = *e;
  }
  if (secret.end <= secret.start) return Invalid("endDateTime must be after startDateTime");
  secret.hint = secret.secret_text.substr(0, 3);
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  secret.key_id = Lower(OptString(spec, "keyId", random_.Uuid()));
  PasswordCredential p{secret.key_id, OptString(spec, "displayName"), secret.hint,
                       HashSecret(secret.secret_text), secret.start, secret.end, now};
  a->passwords.push_back(p);
  return secret;
}

Result<void> Directory::RemovePassword(const std::string& tenant_id, const std::string& app_id,
                                       const std::string& key_id) {
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  const std::string key = Lower(key_id);
  if (std::erase_if(a->passwords, [&](const PasswordCredential& p) { return p.key_id == key; }) == 0) {
    return NotFound("no password credential with keyId '" + key_id + "'");
  }
  return {};
}

Result<KeyCredential> Directory::AddKey(const std::string& tenant_id, const std::string& app_id,
                                        const json& spec) {
  if (!spec.is_object()) return Invalid("a key credential is a JSON object");
  if (auto r = StringFields(spec, {"certificatePem", "key", "keyId", "displayName"}); !r) {
    return std::unexpected(r.error());
  }
  const SystemTime now = clock_.Now();
  std::optional<crypto::Certificate> cert;
  if (spec.contains("certificatePem") && spec["certificatePem"].is_string()) {
    auto c = crypto::Certificate::FromPem(spec["certificatePem"].get<std::string>());
    if (!c) return Invalid("certificatePem is not a PEM certificate");
    cert = *c;
  } else if (spec.contains("key") && spec["key"].is_string()) {
    auto der = Base64Decode(spec["key"].get<std::string>());
    if (!der) return Invalid("key is not base64");
    auto c = crypto::Certificate::FromDer(*der);
    if (!c) return Invalid("key is not a DER certificate");
    cert = *c;
  } else {
    return Invalid("a key credential needs certificatePem or key (base64 DER)");
  }
  if (!cert->Public().IsRsa()) return Invalid("only RSA certificates can sign client assertions");
  KeyCredential k{Lower(OptString(spec, "keyId", random_.Uuid())), OptString(spec, "displayName"),
                  *cert, cert->NotBefore(), cert->NotAfter(), cert->Sha1Thumbprint(),
                  cert->Sha256Thumbprint()};
  if (spec.contains("startDateTime") && !spec["startDateTime"].is_null()) {
    auto s = ParseTime(spec["startDateTime"], "startDateTime", now);
    if (!s) return std::unexpected(s.error());
    k.start = *s;
  }
  if (spec.contains("endDateTime") && !spec["endDateTime"].is_null()) {
    auto e = ParseTime(spec["endDateTime"], "endDateTime", now);
    if (!e) return std::unexpected(e.error());
    k.end = *e;
  }
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  a->keys.push_back(k);
  return k;
}

Result<void> Directory::RemoveKey(const std::string& tenant_id, const std::string& app_id,
                                  const std::string& key_id) {
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  const std::string key = Lower(key_id);
  if (std::erase_if(a->keys, [&](const KeyCredential& k) { return k.key_id == key; }) == 0) {
    return NotFound("no key credential with keyId '" + key_id + "'");
  }
  return {};
}

Result<void> Directory::SetEnabled(const std::string& tenant_id, const std::string& app_id,
                                   bool enabled) {
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  a->enabled = enabled;
  return {};
}

Result<AppRoleAssignment> Directory::GrantAppRole(const std::string& tenant_id,
                                                  const std::string& app_id,
                                                  const std::string& resource,
                                                  const std::string& role) {
  const Resource* r = FindResource(resource);
  if (!r) return NotFound("resource '" + resource + "' is not a known API");
  const AppRole* found = nullptr;
  for (const auto& ar : r->app_roles) {
    if (ar.value == role || ar.id == Lower(role)) found = &ar;
  }
  if (!found) return NotFound("'" + r->display_name + "' has no application permission '" + role + "'");
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  for (const auto& g : a->grants) {
    if (g.resource_app_id == r->app_id && g.app_role_id == found->id) return g;  // idempotent
  }
  if (a->sp_object_id.empty()) a->sp_object_id = random_.Uuid();
  AppRoleAssignment g{random_.Uuid(), r->app_id, found->id, now};
  a->grants.push_back(g);
  return g;
}

Result<void> Directory::RevokeAppRole(const std::string& tenant_id, const std::string& app_id,
                                      const std::string& resource, const std::string& role) {
  const Resource* r = FindResource(resource);
  if (!r) return NotFound("resource '" + resource + "' is not a known API");
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  Application* a = MutableApp(*t, app_id);
  if (!a) return NotFound("application '" + app_id + "' not found");
  const auto removed = std::erase_if(a->grants, [&](const AppRoleAssignment& g) {
    if (g.resource_app_id != r->app_id) return false;
    for (const auto& ar : r->app_roles) {
      if (ar.id == g.app_role_id && (ar.value == role || ar.id == Lower(role))) return true;
    }
    return false;
  });
  if (removed == 0) return NotFound("no such app role assignment");
  return {};
}

Result<User> Directory::AddUser(const std::string& tenant_id, const json& spec) {
  if (!spec.is_object()) return Invalid("a user is a JSON object");
  if (auto r = StringFields(spec, {"userPrincipalName", "id", "displayName", "password"}); !r) {
    return std::unexpected(r.error());
  }
  if (spec.contains("accountEnabled") && !spec["accountEnabled"].is_boolean()) {
    return Invalid("accountEnabled is true or false");
  }
  User u;
  u.upn = OptString(spec, "userPrincipalName");
  if (u.upn.find('@') == std::string::npos) return Invalid("userPrincipalName must be user@domain");
  u.object_id = Lower(OptString(spec, "id", random_.Uuid()));
  u.display_name = OptString(spec, "displayName", u.upn.substr(0, u.upn.find('@')));
  const std::string password = OptString(spec, "password");
  if (password.empty()) return Invalid("user " + u.upn + " needs a password");
  u.password_hash = HashSecret(password);
  if (spec.contains("roles")) {
    if (!spec["roles"].is_array()) return Invalid("roles is an array of role names");
    for (const auto& r : spec["roles"]) {
      if (!r.is_string()) return Invalid("roles is an array of role names");
      u.roles.push_back(r.get<std::string>());
    }
  }
  if (spec.contains("accountEnabled") && spec["accountEnabled"].is_boolean()) {
    u.enabled = spec["accountEnabled"].get<bool>();
  }
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  for (const auto& existing : t->users) {
    if (Lower(existing.upn) == Lower(u.upn)) return Invalid("user " + u.upn + " exists");
  }
  t->users.push_back(u);
  return u;
}

Result<void> Directory::SetExchangeServicePrincipalNames(const std::string& tenant_id,
                                                         const std::vector<std::string>& urls) {
  std::vector<std::string> parsed;
  for (const auto& u : urls) {
    auto url = ParseSpnUrl(u, "tenant " + tenant_id);
    if (!url) return std::unexpected(url.error());
    parsed.push_back(*url);
  }
  std::lock_guard lock(mu_);
  Tenant* t = MutableTenant(tenant_id);
  if (!t) return NotFound("tenant '" + tenant_id + "' not found");
  t->exchange_spns = std::move(parsed);
  return {};
}

}  // namespace exo::aad
