// A Microsoft Graph v1.0 subset for directory administration, so the seed's portal steps
// (register the app, add the permission, grant admin consent, create a secret) can be scripted
// as against real Graph. Authenticated with tokens this server issued; answers in Graph's shapes.
#include <strings.h>

#include <cctype>
#include <mutex>
#include <regex>

#include "exo/common/base64.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/jwt.hpp"
#include "internal/routes.hpp"

namespace exo::aad {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kGraphContentType =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
constexpr const char* kMetadata = "https://graph.microsoft.com/v1.0/$metadata";

// Directory role templates allowed to manage app registrations.
const std::vector<std::string> kAppAdminRoles = {
    "62e90394-69f5-4237-9190-012177145e10",  // Global Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  // Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7",  // Cloud Application Administrator
};
// Granting app roles (admin consent) needs more than registering apps.
const std::vector<std::string> kConsentRoles = {
    "62e90394-69f5-4237-9190-012177145e10",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "158c047a-c907-4556-b7ef-446551a6b5f7",
};

std::string UpperHexOf(const std::string& bytes);

struct Caller {
  std::string tenant_id;
  bool may_manage_apps = false;
  bool may_consent = false;
};

class GraphAdmin {
 public:
  GraphAdmin(mock::HttpServer& server, Directory& directory, SigningKeySet& keys, Clock& clock,
             Random& random)
      : server_(server), directory_(directory), keys_(keys), clock_(clock), random_(random) {}

  void Register();

 private:
  void Error(httplib::Response& res, int status, const std::string& code,
             const std::string& message, const httplib::Request& req) {
    const std::string rid = random_.Uuid();
    json inner = {{"date", FormatIso8601(clock_.Now()).substr(0, 19)}, {"request-id", rid}};
    const std::string crid = req.get_header_value("client-request-id");
    inner["client-request-id"] = crid.empty() ? rid : crid;
    res.status = status;
    res.set_header("request-id", rid);
    res.set_header("client-request-id", crid.empty() ? rid : crid);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(json{{"error", {{"code", code}, {"message", message}, {"innerError", inner}}}}.dump(),
                    "application/json");
  }

  void Reply(httplib::Response& res, int status, const json& body, const httplib::Request& req) {
    res.status = status;
    const std::string crid = req.get_header_value("client-request-id");
    const std::string rid = random_.Uuid();
    res.set_header("request-id", rid);
    res.set_header("client-request-id", crid.empty() ? rid : crid);
    res.set_header("Cache-Control", "no-cache");
    if (status == 204) return;
    res.set_content(body.dump(), kGraphContentType);
  }

  void NotFound(httplib::Response& res, const std::string& id, const httplib::Request& req) {
    Error(res, 404, "Request_ResourceNotFound",
          "Resource '" + id +
              "' does not exist or one of its queried reference-property objects are not present.",
          req);
  }

  void Denied(httplib::Response& res, const httplib::Request& req) {
    Error(res, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.",
          req);
  }

  // Validates the bearer token as Graph would: signed by us, unexpired, audience Graph.
  std::optional<Caller> Authenticate(const httplib::Request& req, httplib::Response& res);
  std::optional<nlohmann::json> Body(const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (req.body.empty() || j.is_discarded() || !j.is_object()) {
      Error(res, 400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.", req);
      return std::nullopt;
    }
    return j;
  }

  json AppJson(const Application& a) const;
  json SpJson(const Tenant& t, const Application& a) const;
  json ResourceSpJson(const Tenant& t, const Resource& r) const;
  json AssignmentJson(const Tenant& t, const Application& a, const AppRoleAssignment& g) const;
  // Authenticates, checks the write permission when `write`, and finds the application the path
  // names; on any failure the answer is already in `res`.
  std::optional<std::pair<Caller, Application>> AppFromPath(const httplib::Request& req,
                                                            httplib::Response& res, bool write) {
    auto c = Authenticate(req, res);
    if (!c) return std::nullopt;
    if (write && !c->may_manage_apps) {
      Denied(res, req);
      return std::nullopt;
    }
    std::string ref = req.matches[1];
    if (ref[0] == '/') ref = ref.substr(1);
    auto a = FindApp(*directory_.FindTenant(c->tenant_id), ref);
    if (!a) {
      NotFound(res, ref, req);
      return std::nullopt;
    }
    return std::make_pair(*c, *a);
  }

  // Resolves /applications/{id} or /applications(appId='...') to the app id.
  std::optional<Application> FindApp(const Tenant& t, const std::string& object_id) const;
  std::optional<Application> FindAppBySp(const Tenant& t, const std::string& sp_id) const;

  void ErrorFrom(const exo::Error& e, httplib::Response& res, const httplib::Request& req) {
    if (e.category == ErrorCategory::kNotFound) {
      Error(res, 404, "Request_ResourceNotFound", e.message, req);
    } else {
      Error(res, 400, "Request_BadRequest", e.message, req);
    }
  }

  mock::HttpServer& server_;
  Directory& directory_;
  SigningKeySet& keys_;
  Clock& clock_;
  Random& random_;
};

std::string UpperHexOf(const std::string& bytes) {
  std::string h = HexEncode(bytes);
  for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

// Resource service principals are first-party; their object ids are stable per tenant.
std::string ResourceSpId(const std::string& tenant_id, const std::string& app_id) {
  const std::string h = HexEncode(crypto::Sha1(tenant_id + "/" + app_id));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-8" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

std::optional<Caller> GraphAdmin::Authenticate(const httplib::Request& req,
                                               httplib::Response& res) {
  mock::Annotate("operation", "graph." + req.method + " " + req.path);
  const std::string auth = req.get_header_value("Authorization");
  if (auth.size() < 8 || strncasecmp(auth.c_str(), "Bearer ", 7) != 0) {
    Error(res, 401, "InvalidAuthenticationToken", "Access token is empty.", req);
    return std::nullopt;
  }
  auto jwt = mock::ParseJwt(auth.substr(7));
  if (!jwt) {
    Error(res, 401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.", req);
    return std::nullopt;
  }
  const std::string kid = mock::StringClaim(jwt->header, "kid");
  std::optional<crypto::PublicKey> key;
  key = mock::FindJwk(keys_.Jwks(""), kid);
  if (!key || !mock::VerifyJwtSignature(*jwt, *key)) {
    Error(res, 401, "InvalidAuthenticationToken", "Access token validation failure.", req);
    return std::nullopt;
  }
  const auto& p = jwt->payload;
  const std::string aud = mock::StringClaim(p, "aud");
  if (aud != kGraphUri && aud != kGraphAppId && aud != std::string(kGraphUri) + "/") {
    Error(res, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.",
          req);
    return std::nullopt;
  }
  auto exp = mock::NumericDate(p, "exp");
  if (!exp || FromUnixSeconds(static_cast<std::int64_t>(*exp)) + std::chrono::minutes(5) < clock_.Now()) {
    Error(res, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.",
          req);
    return std::nullopt;
  }
  Caller c;
  c.tenant_id = mock::StringClaim(p, "tid");
  if (!directory_.FindTenant(c.tenant_id)) {
    Error(res, 401, "InvalidAuthenticationToken", "Access token validation failure.", req);
    return std::nullopt;
  }
  auto has = [&](const char* claim, const std::vector<std::string>& wanted) {
    if (!p.contains(claim) || !p[claim].is_array()) return false;
    for (const auto& v : p[claim]) {
      if (v.is_string() && std::find(wanted.begin(), wanted.end(), v.get<std::string>()) != wanted.end()) {
        return true;
      }
    }
    return false;
  };
  const bool app_token = mock::StringClaim(p, "idtyp") == "app";
  if (app_token) {
    c.may_manage_apps = has("roles", {"Application.ReadWrite.All"});
    c.may_consent = c.may_manage_apps && has("roles", {"AppRoleAssignment.ReadWrite.All"});
  } else {
    c.may_manage_apps = has("wids", kAppAdminRoles);
    c.may_consent = has("wids", kConsentRoles);
  }
  return c;
}

json GraphAdmin::AppJson(const Application& a) const {
  json pw = json::array(), keys = json::array();
  for (const auto& p : a.passwords) {
    pw.push_back({{"customKeyIdentifier", nullptr},
                  {"displayName", p.display_name.empty() ? json(nullptr) : json(p.display_name)},
                  {"endDateTime", FormatIso8601(p.end)},
                  {"hint", p.hint},
                  {"keyId", p.key_id},
                  {"secretText", nullptr},
                  {"startDateTime", FormatIso8601(p.start)}});
  }
  for (const auto& k : a.keys) {
    keys.push_back({{"customKeyIdentifier", UpperHexOf(k.sha1_thumbprint)},
                    {"displayName", k.display_name.empty() ? json("CN=" + k.certificate.SubjectCommonName()) : json(k.display_name)},
                    {"endDateTime", FormatIso8601(k.end)},
                    {"key", nullptr},
                    {"keyId", k.key_id},
                    {"startDateTime", FormatIso8601(k.start)},
                    {"type", "AsymmetricX509Cert"},
                    {"usage", "Verify"}});
  }
  return {{"@odata.context", std::string(kMetadata) + "#applications/$entity"},
          {"id", a.object_id},
          {"deletedDateTime", nullptr},
          {"appId", a.app_id},
          {"createdDateTime", FormatIso8601(a.created)},
          {"displayName", a.display_name},
          {"identifierUris", a.identifier_uris},
          {"isFallbackPublicClient", a.public_client},
          {"signInAudience", "AzureADMyOrg"},
          {"keyCredentials", keys},
          {"passwordCredentials", pw},
          {"requiredResourceAccess", a.required_resource_access}};
}

json GraphAdmin::SpJson(const Tenant& t, const Application& a) const {
  (void)t;
  return {{"@odata.context", std::string(kMetadata) + "#servicePrincipals/$entity"},
          {"id", a.sp_object_id},
          {"accountEnabled", a.enabled},
          {"appDisplayName", a.display_name},
          {"appId", a.app_id},
          {"appOwnerOrganizationId", t.id},
          {"displayName", a.display_name},
          {"servicePrincipalNames", {a.app_id}},
          {"servicePrincipalType", "Application"},
          {"signInAudience", "AzureADMyOrg"},
          {"appRoles", json::array()}};
}

json GraphAdmin::ResourceSpJson(const Tenant& t, const Resource& r) const {
  json roles = json::array();
  for (const auto& role : r.app_roles) {
    roles.push_back({{"allowedMemberTypes", {"Application"}},
                     {"displayName", role.value},
                     {"id", role.id},
                     {"isEnabled", true},
                     {"origin", "Application"},
                     {"value", role.value}});
  }
  return {{"@odata.context", std::string(kMetadata) + "#servicePrincipals/$entity"},
          {"id", ResourceSpId(t.id, r.app_id)},
          {"accountEnabled", true},
          {"appDisplayName", r.display_name},
          {"appId", r.app_id},
          {"appOwnerOrganizationId", "f8cdef31-a31e-4b4a-93e4-5f571e91255a"},
          {"displayName", r.display_name},
          {"servicePrincipalNames", r.identifier_uris},
          {"servicePrincipalType", "Application"},
          {"appRoles", roles}};
}

json GraphAdmin::AssignmentJson(const Tenant& t, const Application& a,
                                const AppRoleAssignment& g) const {
  const Resource* r = Directory::FindResource(g.resource_app_id);
  return {{"@odata.context", std::string(kMetadata) + "#servicePrincipals('" + a.sp_object_id +
                                 "')/appRoleAssignments/$entity"},
          {"id", g.id},
          {"deletedDateTime", nullptr},
          {"appRoleId", g.app_role_id},
          {"createdDateTime", FormatIso8601(g.created)},
          {"principalDisplayName", a.display_name},
          {"principalId", a.sp_object_id},
          {"principalType", "ServicePrincipal"},
          {"resourceDisplayName", r ? r->display_name : ""},
          {"resourceId", ResourceSpId(t.id, g.resource_app_id)}};
}

std::optional<Application> GraphAdmin::FindApp(const Tenant& t, const std::string& ref) const {
  static const std::regex by_app_id(R"(^\(appId='([^']+)'\)$)", std::regex::icase);
  std::smatch m;
  const bool is_app_id = std::regex_match(ref, m, by_app_id);
  for (const auto& a : t.applications) {
    if (is_app_id ? Lower(a.app_id) == Lower(m[1]) : Lower(a.object_id) == Lower(ref)) return a;
  }
  return std::nullopt;
}

std::optional<Application> GraphAdmin::FindAppBySp(const Tenant& t, const std::string& ref) const {
  for (const auto& a : t.applications) {
    if (!a.sp_object_id.empty() && Lower(a.sp_object_id) == Lower(ref)) return a;
  }
  return std::nullopt;
}

void GraphAdmin::Register() {
  auto& router = server_;
  const std::string app_ref = R"(/v1\.0/applications(/[0-9a-fA-F-]{36}|\(appId='[^']+'\)))";

  router.Post(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    if (!c->may_manage_apps) return Denied(res, req);
    auto body = Body(req, res);
    if (!body) return;
    nlohmann::json spec = *body;
    for (const char* k : {"passwordCredentials", "keyCredentials", "appId", "id"}) spec.erase(k);
    if (!spec.contains("displayName")) {
      return Error(res, 400, "Request_BadRequest",
                   "Property 'displayName' is required when creating the entity.", req);
    }
    auto a = directory_.CreateApplication(c->tenant_id, spec);
    if (!a) return ErrorFrom(a.error(), res, req);
    Reply(res, 201, AppJson(*a), req);
  });

  router.Get(R"(/v1\.0/applications)", [this](const httplib::Request& req, httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    auto t = directory_.FindTenant(c->tenant_id);
    json list = json::array();
    for (const auto& a : t->applications) {
      json j = AppJson(a);
      j.erase("@odata.context");
      list.push_back(j);
    }
    Reply(res, 200, {{"@odata.context", std::string(kMetadata) + "#applications"}, {"value", list}}, req);
  });

  router.Get(app_ref, [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/false);
    if (!found) return;
    const Application* a = &found->second;
    Reply(res, 200, AppJson(*a), req);
  });

  router.Patch(app_ref, [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/true);
    if (!found) return;
    const Caller* c = &found->first;
    const Application* a = &found->second;
    auto body = Body(req, res);
    if (!body) return;
    auto u = directory_.UpdateApplication(c->tenant_id, a->app_id, *body);
    if (!u) return ErrorFrom(u.error(), res, req);
    Reply(res, 204, {}, req);
  });

  router.Delete(app_ref, [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/true);
    if (!found) return;
    const Caller* c = &found->first;
    const Application* a = &found->second;
    auto d = directory_.DeleteApplication(c->tenant_id, a->app_id);
    if (!d) return ErrorFrom(d.error(), res, req);
    Reply(res, 204, {}, req);
  });

  // {"passwordCredential": {"displayName": "...", "endDateTime": "..."}}: secretText once.
  router.Post(app_ref + "/addPassword", [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/true);
    if (!found) return;
    const Caller* c = &found->first;
    const Application* a = &found->second;
    nlohmann::json spec = nlohmann::json::object();
    if (!req.body.empty()) {
      auto body = Body(req, res);
      if (!body) return;
      if (body->contains("passwordCredential") && (*body)["passwordCredential"].is_object()) {
        spec = (*body)["passwordCredential"];
      }
    }
    spec.erase("secretText");  // Graph generates the secret; a caller cannot choose it
    spec.erase("keyId");
    auto s = directory_.AddPassword(c->tenant_id, a->app_id, spec);
    if (!s) return ErrorFrom(s.error(), res, req);
    Reply(res, 200,
          {{"@odata.context", std::string(kMetadata) + "#microsoft.graph.passwordCredential"},
           {"customKeyIdentifier", nullptr},
           {"displayName", spec.value("displayName", "").empty() ? json(nullptr) : json(spec.value("displayName", ""))},
           {"endDateTime", FormatIso8601(s->end)},
           {"hint", s->hint},
           {"keyId", s->key_id},
           {"secretText", s->secret_text},
           {"startDateTime", FormatIso8601(s->start)}},
          req);
  });

  router.Post(app_ref + "/removePassword", [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/true);
    if (!found) return;
    const Caller* c = &found->first;
    const Application* a = &found->second;
    auto body = Body(req, res);
    if (!body) return;
    auto d = directory_.RemovePassword(c->tenant_id, a->app_id, body->value("keyId", ""));
    if (!d) return ErrorFrom(d.error(), res, req);
    Reply(res, 204, {}, req);
  });

  // {"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "<base64 DER>"},
  //  "proof": "..."}. The proof-of-possession JWT is not checked [simplification, documented].
  router.Post(app_ref + "/addKey", [this](const httplib::Request& req, httplib::Response& res) {
    auto found = AppFromPath(req, res, /*write=*/true);
    if (!found) return;
    const Caller* c = &found->first;
    const Application* a = &found->second;
    auto body = Body(req, res);
    if (!body) return;
    if (!body->contains("keyCredential") || !(*body)["keyCredential"].is_object()) {
      return Error(res, 400, "Request_BadRequest", "keyCredential is required.", req);
    }
    auto k = directory_.AddKey(c->tenant_id, a->app_id, (*body)["keyCredential"]);
    if (!k) return ErrorFrom(k.error(), res, req);
    Reply(res, 200,
          {{"@odata.context", std::string(kMetadata) + "#microsoft.graph.keyCredential"},
           {"customKeyIdentifier", UpperHexOf(k->sha1_thumbprint)},
           {"displayName", k->display_name},
           {"endDateTime", FormatIso8601(k->end)},
           {"key", nullptr},
           {"keyId", k->key_id},
           {"startDateTime", FormatIso8601(k->start)},
           {"type", "AsymmetricX509Cert"},
           {"usage", "Verify"}},
          req);
  });

  // {"appId": "..."}
  router.Post(R"(/v1\.0/servicePrincipals)", [this](const httplib::Request& req, httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    if (!c->may_manage_apps) return Denied(res, req);
    auto body = Body(req, res);
    if (!body) return;
    const std::string app_id = body->value("appId", "");
    auto before = directory_.FindApplication(c->tenant_id, app_id);
    if (!before) {
      return Error(res, 400, "Request_BadRequest",
                   "The appId '" + app_id + "' of the service principal does not reference a valid application object.",
                   req);
    }
    if (!before->sp_object_id.empty()) {
      return Error(res, 409, "Request_MultipleObjectsWithSameKeyValue",
                   "The service principal cannot be created, updated, or restored because the "
                   "service principal name " + app_id + " is already in use.",
                   req);
    }
    auto sp = directory_.CreateServicePrincipal(c->tenant_id, app_id);
    if (!sp) return ErrorFrom(sp.error(), res, req);
    auto t = directory_.FindTenant(c->tenant_id);
    Reply(res, 201, SpJson(*t, *directory_.FindApplication(c->tenant_id, app_id)), req);
  });

  const std::string sp_ref = R"(/v1\.0/servicePrincipals(/[0-9a-fA-F-]{36}|\(appId='([^']+)'\)))";
  auto resolve_sp = [this](const Tenant& t, const httplib::Request& req)
      -> std::pair<std::optional<Application>, const Resource*> {
    std::string ref = req.matches[1];
    if (ref[0] == '/') {
      ref = ref.substr(1);
      for (const auto& r : Directory::Resources()) {
        if (ResourceSpId(t.id, r.app_id) == Lower(ref)) return {std::nullopt, &r};
      }
      return {FindAppBySp(t, ref), nullptr};
    }
    const std::string app_id = req.matches[2];
    if (const Resource* r = Directory::FindResource(app_id); r && r->app_id == Lower(app_id)) {
      return {std::nullopt, r};
    }
    auto a = directory_.FindApplication(t.id, app_id);
    if (a && a->sp_object_id.empty()) a.reset();
    return {a, nullptr};
  };

  router.Get(sp_ref, [this, resolve_sp](const httplib::Request& req, httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    auto t = directory_.FindTenant(c->tenant_id);
    auto [app, resource] = resolve_sp(*t, req);
    if (resource) return Reply(res, 200, ResourceSpJson(*t, *resource), req);
    if (!app) return NotFound(res, req.matches[1], req);
    Reply(res, 200, SpJson(*t, *app), req);
  });

  // {"accountEnabled": false} disables sign-in (AADSTS7000112).
  router.Patch(sp_ref, [this, resolve_sp](const httplib::Request& req, httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    if (!c->may_manage_apps) return Denied(res, req);
    auto t = directory_.FindTenant(c->tenant_id);
    auto [app, resource] = resolve_sp(*t, req);
    if (resource) return Denied(res, req);
    if (!app) return NotFound(res, req.matches[1], req);
    auto body = Body(req, res);
    if (!body) return;
    if (body->contains("accountEnabled")) {
      if (!(*body)["accountEnabled"].is_boolean()) {
        return Error(res, 400, "Request_BadRequest", "accountEnabled must be a boolean.", req);
      }
      auto e = directory_.SetEnabled(c->tenant_id, app->app_id, (*body)["accountEnabled"].get<bool>());
      if (!e) return ErrorFrom(e.error(), res, req);
    }
    Reply(res, 204, {}, req);
  });

  // Admin consent of an application permission:
  // {"principalId": "<client sp id>", "resourceId": "<resource sp id>", "appRoleId": "<role id>"}
  router.Post(sp_ref + "/appRoleAssignments", [this, resolve_sp](const httplib::Request& req,
                                                             httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    if (!c->may_consent) return Denied(res, req);
    auto t = directory_.FindTenant(c->tenant_id);
    auto [app, resource] = resolve_sp(*t, req);
    if (!app && !resource) return NotFound(res, req.matches[1], req);
    auto body = Body(req, res);
    if (!body) return;
    // The path may name the client (principal) or the resource; the body says which is which.
    const std::string principal = Lower(body->value("principalId", ""));
    const std::string resource_sp = Lower(body->value("resourceId", ""));
    const std::string role_id = Lower(body->value("appRoleId", ""));
    auto client = FindAppBySp(*t, principal);
    if (!client) return NotFound(res, principal, req);
    const Resource* target = nullptr;
    for (const auto& r : Directory::Resources()) {
      if (ResourceSpId(t->id, r.app_id) == resource_sp) target = &r;
    }
    if (!target) return NotFound(res, resource_sp, req);
    auto g = directory_.GrantAppRole(t->id, client->app_id, target->app_id, role_id);
    if (!g) {
      return Error(res, 400, "Request_BadRequest",
                   "Permission being assigned was not found on application '" + target->app_id + "'.",
                   req);
    }
    Reply(res, 201, AssignmentJson(*t, *client, *g), req);
  });

  router.Get(sp_ref + "/appRoleAssignments", [this, resolve_sp](const httplib::Request& req,
                                                            httplib::Response& res) {
    auto c = Authenticate(req, res);
    if (!c) return;
    auto t = directory_.FindTenant(c->tenant_id);
    auto [app, resource] = resolve_sp(*t, req);
    if (!app && !resource) return NotFound(res, req.matches[1], req);
    json list = json::array();
    if (app) {
      for (const auto& g : app->grants) {
        json j = AssignmentJson(*t, *app, g);
        j.erase("@odata.context");
        list.push_back(j);
      }
    }
    Reply(res, 200, {{"value", list}}, req);
  });

  router.Delete(sp_ref + R"(/appRoleAssignments/([0-9a-fA-F-]{36}))",
           [this, resolve_sp](const httplib::Request& req, httplib::Response& res) {
             auto c = Authenticate(req, res);
             if (!c) return;
             if (!c->may_consent) return Denied(res, req);
             auto t = directory_.FindTenant(c->tenant_id);
             auto [app, resource] = resolve_sp(*t, req);
             if (!app) return NotFound(res, req.matches[1], req);
             const std::string id = Lower(req.matches[3]);
             for (const auto& g : app->grants) {
               if (g.id != id) continue;
               const Resource* res_def = Directory::FindResource(g.resource_app_id);
               auto e = directory_.RevokeAppRole(t->id, app->app_id, g.resource_app_id, g.app_role_id);
               if (!e || !res_def) return ErrorFrom(e.error(), res, req);
               return Reply(res, 204, {}, req);
             }
             NotFound(res, id, req);
           });
}

}  // namespace

std::shared_ptr<void> RegisterGraphAdminRoutes(mock::HttpServer& server, Directory& directory,
                                               SigningKeySet& keys, Clock& clock, Random& random) {
  auto admin = std::make_shared<GraphAdmin>(server, directory, keys, clock, random);
  admin->Register();
  return admin;
}

}  // namespace exo::aad
