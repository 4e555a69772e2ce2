#include "internal/token_service.hpp"

#include <httplib.h>
#include <strings.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "exo/common/base64.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::aad {
namespace {

// Token signing (one RSA-2048 signature, about 1 ms of CPU) is admitted first come, first served,
// as many at once as there are CPUs, process-wide. With a thread per connection and more
// connections than CPUs, the scheduler otherwise time-slices dozens of half-done signatures and
// lets some wait far longer than others (at 64 connections on 2 CPUs the p99 latency was 13 times
// the median). In order, each request waits about as long as the queue in front of it.
class SigningQueue {
 public:
  explicit SigningQueue(std::size_t slots) : free_(std::max<std::size_t>(slots, 1)) {}

  template <class F>
  auto Run(F&& sign) {
    Acquire();
    struct Release {
      SigningQueue* queue;
      ~Release() { queue->ReleaseSlot(); }
    } release{this};
    return sign();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool admitted = false;
  };

  void Acquire() {
    std::unique_lock lock(mu_);
    if (free_ > 0 && waiting_.empty()) {
      --free_;
      return;
    }
    Waiter self;
    waiting_.push_back(&self);
    self.cv.wait(lock, [&] { return self.admitted; });
  }

  void ReleaseSlot() {
    std::lock_guard lock(mu_);
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    // The slot passes to the oldest waiter. Notified under the lock: the waiter (on its own
    // stack) cannot return before this function has let go of it.
    Waiter* next = waiting_.front();
    waiting_.pop_front();
    next->admitted = true;
    next->cv.notify_one();
  }

  std::mutex mu_;
  std::size_t free_;
  std::deque<Waiter*> waiting_;
};

std::string SignInTurn(const nlohmann::ordered_json& header, const nlohmann::ordered_json& payload,
                       const crypto::PrivateKey& key) {
  static SigningQueue queue(std::thread::hardware_concurrency());
  return queue.Run([&] { return mock::SignJwt(header, payload, key); });
}

using json = nlohmann::ordered_json;
using Form = std::multimap<std::string, std::string>;

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Entra backdates iat and nbf by five minutes to absorb clock skew at the resource.
constexpr auto kBackdate = std::chrono::minutes(5);
// The "wids" Entra puts in app-only tokens [obs: reference sample].
constexpr const char* kAppWids = "0997a1d0-0d1d-4acb-b408-d5ca73121e90";

std::string Param(const Form& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}


bool IEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsFormContentType(const std::string& ct) {
  const std::string media = Lower(ct.substr(0, ct.find(';')));
  std::string trimmed;
  for (char c : media) {
    if (c != ' ' && c != '\t') trimmed += c;
  }
  return trimmed == "application/x-www-form-urlencoded";
}

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool IsOidcScope(const std::string& s) {
  return s == "openid" || s == "profile" || s == "offline_access" || s == "email";
}

std::string UpperHex(const std::string& bytes) {
  std::string h = HexEncode(bytes);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) {
    return static_cast<char>(std::toupper(c));
  });
  return h;
}

// "https://outlook.office365.com/.default" -> "https://outlook.office365.com"; Entra takes
// everything before the last slash as the resource.
std::string ResourceOfScope(const std::string& scope) {
  const auto slash = scope.rfind('/');
  return slash == std::string::npos ? std::string() : scope.substr(0, slash);
}

std::string Uti(Random& r) { return Base64UrlEncode(r.Bytes(16)); }

// Opaque claims real tokens carry; their contents mean nothing to clients.
std::string Aio(Random& r) { return Base64Encode(r.Bytes(40)); }

std::string RhClaim(Random& r) { return "1.A" + Base64UrlEncode(r.Bytes(33)) + "AA."; }

struct ResolvedResource {
  std::string requested;  // as the client named it, for v1 aud and the v1 "resource" field
  const Resource* builtin = nullptr;
  int version = 1;
  std::string app_id;
};

}  // namespace

TokenService::TokenService(Directory& directory, SigningKeySet& keys, Clock& clock, Random& random)
    : directory_(directory), keys_(keys), clock_(clock), random_(random) {}

std::string TokenService::NewTraceId() {
  std::string id = random_.Uuid();
  id[34] = '0';
  id[35] = '0';
  return id;
}

void TokenService::AddStandardHeaders(HttpAnswer& a, const std::string& trace_id,
                                      const std::string& client_request_id) const {
  a.headers.emplace_back("Cache-Control", "no-store, no-cache");
  a.headers.emplace_back("Pragma", "no-cache");
  a.headers.emplace_back("Expires", "-1");
  a.headers.emplace_back("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  a.headers.emplace_back("P3P", "CP=\"DSP CUR OTPi IND OTRi ONL FIN\"");
  a.headers.emplace_back("x-ms-request-id", trace_id);
  a.headers.emplace_back("x-ms-ests-server", "2.1.19000.0 - ExoHarness ProdSlices");
  a.headers.emplace_back("X-XSS-Protection", "0");
  if (!client_request_id.empty()) a.headers.emplace_back("client-request-id", client_request_id);
}

HttpAnswer TokenService::ErrorAnswer(const AadError& e, const std::string& trace_id,
                                     const std::string& correlation_id) {
  HttpAnswer a;
  a.status = e.status;
  // The messages quote the request (client_id, scope...), which need not be UTF-8: replaced, as
  // a strict dump would throw.
  a.body = e.ToJson(trace_id, correlation_id, clock_.Now())
               .dump(-1, ' ', false, json::error_handler_t::replace);
  AddStandardHeaders(a, trace_id, correlation_id);
  return a;
}

void TokenService::Reset() {
  std::lock_guard lock(mu_);
  seen_jti_.clear();
  recent_.clear();
}

HttpAnswer TokenService::Handle(const TokenRequest& req) {
  const std::string trace = NewTraceId();
  // Entra echoes the client's request id as the correlation id [infer: MSAL sends it for this].
  const std::string corr = req.client_request_id.empty() ? random_.Uuid() : req.client_request_id;
  auto fail = [&](const AadError& e) { return ErrorAnswer(e, trace, corr); };

  if (req.method != "POST") return fail(errors::OnlyPost(req.method));

  // The tenant segment routes the request before the body is read.
  const std::string seg = Lower(req.tenant_segment);
  std::optional<Tenant> tenant;
  const bool multi = seg == "common" || seg == "organizations" || seg == "consumers";
  if (!multi) {
    if (seg == "00000000-0000-0000-0000-000000000000") return fail(errors::EmptyGuidTenant());
    if (!IsGuid(seg) && seg.find('.') == std::string::npos) {
      return fail(errors::MalformedTenant(req.tenant_segment));
    }
    tenant = directory_.FindTenant(seg);
    if (!tenant) return fail(errors::TenantNotFound(req.tenant_segment, false));
  }

  // A body that is not a form is not parsed at all, so grant_type is "missing" [obs].
  if (!IsFormContentType(req.content_type)) return fail(errors::MissingParameter("grant_type"));
  Form form;
  httplib::Params parsed;
  httplib::detail::parse_query_text(req.body, parsed);
  form.insert(parsed.begin(), parsed.end());

  const std::string grant = Param(form, "grant_type");
  if (grant.empty()) return fail(errors::MissingParameter("grant_type"));

  if (grant == "client_credentials") {
    if (multi) return fail(errors::NoTenantInfo());
    return ClientCredentials(req, *tenant, form, trace, corr);
  }
  if (grant == "password") {
    if (multi) {
      // Work accounts sign in through /organizations: the UPN's domain names the tenant.
      const std::string user = Param(form, "username");
      const auto at = user.find('@');
      if (at != std::string::npos) tenant = directory_.FindTenant(user.substr(at + 1));
      if (!tenant) return fail(errors::UserNotFound(seg));
    }
    return Password(req, *tenant, form, trace, corr);
  }
  return fail(errors::UnsupportedGrant(grant));
}

std::optional<HttpAnswer> TokenService::Throttle(const std::string& client_id,
                                                 const std::string& trace,
                                                 const std::string& corr) {
  const Settings s = directory_.settings();
  if (s.throttle_limit == 0) return std::nullopt;
  const MonoTime now = clock_.Monotonic();
  {
    std::lock_guard lock(mu_);
    auto& times = recent_[Lower(client_id)];
    while (!times.empty() && now - times.front() >= s.throttle_window) times.pop_front();
    if (times.size() < s.throttle_limit) {
      times.push_back(now);
      return std::nullopt;
    }
  }
  HttpAnswer a;
  a.status = 429;
  const auto retry = std::chrono::duration_cast<std::chrono::seconds>(s.throttle_retry_after);
  if (s.throttle_plain_body) {
    // One observed 429 carried a plain-text body [obs MSAL.NET #2855].
    a.content_type = "text/plain";
    a.body = "Too Many Requests";
    AddStandardHeaders(a, trace, corr);
  } else {
    a = ErrorAnswer({429, "temporarily_unavailable", 90055,
                     "AADSTS90055: There are too many incoming requests. Retry after " +
                         std::to_string(retry.count()) + " seconds."},
                    trace, corr);
  }
  a.headers.emplace_back("Retry-After", std::to_string(retry.count()));
  return a;
}

HttpAnswer TokenService::ClientCredentials(const TokenRequest& req, const Tenant& tenant,
                                           const Form& form, const std::string& trace,
                                           const std::string& corr) {
  auto fail = [&](const AadError& e) { return ErrorAnswer(e, trace, corr); };
  const SystemTime now = clock_.Now();
  const Settings settings = directory_.settings();

  // client_secret_basic: RFC 6749 form-encodes id and secret before base64; accept either.
  std::string client_id = Param(form, "client_id");
  std::string secret = Param(form, "client_secret");
  bool has_secret = form.count("client_secret") > 0;
  if (req.authorization.size() > 6 && strncasecmp(req.authorization.c_str(), "Basic ", 6) == 0) {
    if (auto decoded = Base64Decode(req.authorization.substr(6))) {
      const auto colon = decoded->find(':');
      if (colon != std::string::npos) {
        const std::string id = decoded->substr(0, colon);
        if (client_id.empty()) client_id = httplib::detail::decode_url(id, true);
        secret = decoded->substr(colon + 1);
        has_secret = true;
      }
    }
  }
  if (client_id.empty()) return fail(errors::MissingParameter("client_id"));

  if (auto throttled = Throttle(client_id, trace, corr)) return *throttled;

  auto app = directory_.FindApplication(tenant.id, client_id);
  if (!app) return fail(errors::AppNotFound(client_id, tenant.display_name));
  if (app->sp_object_id.empty()) {
    // [infer, low confidence] the 2026 end of service-principal-less authentication.
    return fail({400, "invalid_client", 7000229,
                 "AADSTS7000229: The client application " + app->app_id +
                     " is missing service principal in the tenant " + tenant.id + "."});
  }
  if (!app->enabled) return fail(errors::AppDisabled(app->app_id, app->display_name));

  const std::string assertion = Param(form, "client_assertion");
  std::string appidacr;
  if (has_secret) {
    appidacr = "1";
    const std::string hash = Directory::HashSecret(secret);
    const std::string decoded_hash = Directory::HashSecret(httplib::detail::decode_url(secret, true));
    const PasswordCredential* match = nullptr;
    for (const auto& p : app->passwords) {
      if (p.secret_hash == hash || p.secret_hash == decoded_hash) match = &p;
    }
    if (!match) return fail(errors::InvalidSecret(app->app_id));
    if (now >= match->end) return fail(errors::ExpiredSecret(app->app_id));
    // A secret not yet valid, or still propagating, is refused like an unknown one [infer].
    if (now < match->start || now - match->created < settings.secret_propagation) {
      return fail(errors::InvalidSecret(app->app_id));
    }
  } else if (!assertion.empty() || form.count("client_assertion_type")) {
    appidacr = "2";
    if (auto e = CheckAssertion(req, tenant, *app, client_id, assertion,
                                Param(form, "client_assertion_type"))) {
      return fail(*e);
    }
  } else {
    return fail(errors::MissingCredential());
  }

  // Scope (v2) or resource (v1).
  ResolvedResource res;
  if (req.v2) {
    if (form.count("resource")) return fail(errors::ResourceParameterOnV2());
    const std::string scope = Param(form, "scope");
    if (scope.empty()) return fail(errors::ScopeMissing());
    std::vector<std::string> resources;
    for (const auto& s : SplitSpaces(scope)) {
      if (IsOidcScope(s)) continue;  // tolerated next to .default [obs]
      const std::string r = ResourceOfScope(s);
      if (r.empty()) return fail(errors::ScopeInvalid(s));
      if (s.substr(s.rfind('/')) != "/.default") return fail(errors::ScopeNotDefault(scope));
      if (std::find(resources.begin(), resources.end(), r) == resources.end()) {
        resources.push_back(r);
      }
    }
    if (resources.empty()) return fail(errors::ScopeInvalid(scope));
    if (resources.size() > 1) return fail(errors::MultipleResources());
    res.requested = resources.front();
  } else {
    res.requested = Param(form, "resource");
    if (res.requested.empty()) return fail(errors::MissingParameter("resource"));
  }
  // A hybrid tenant's on-premises URLs are names of Exchange Online here (extra SPNs): the token
  // gets Exchange's roles and the URL as requested as its v1 aud.
  res.builtin = Directory::FindResource(tenant, res.requested);
  if (res.builtin) {
    res.version = res.builtin->token_version;
    res.app_id = res.builtin->app_id;
  } else {
    // An API registered in this tenant, named by its app id or identifier URI.
    for (const auto& a : tenant.applications) {
      bool match = IEquals(a.app_id, res.requested);
      for (const auto& uri : a.identifier_uris) match = match || IEquals(uri, res.requested);
      if (match) res.app_id = a.app_id;
    }
    if (res.app_id.empty()) {
      return fail(errors::ResourceNotFound(res.requested, tenant.display_name));
    }
  }

  // Roles: admin consent that has propagated. None consented: the token has no roles claim.
  json roles = json::array();
  if (res.builtin) {
    for (const auto& g : app->grants) {
      if (g.resource_app_id != res.app_id) continue;
      if (now - g.created < settings.consent_propagation) continue;
      for (const auto& r : res.builtin->app_roles) {
        if (r.id == g.app_role_id) roles.push_back(r.value);
      }
    }
  }

  const auto iat = ToUnixSeconds(now - kBackdate);
  const auto exp = ToUnixSeconds(now + settings.token_lifetime);
  json claims;
  if (res.version == 2) {
    claims = {{"aud", res.app_id},
              {"iss", "https://login.microsoftonline.com/" + tenant.id + "/v2.0"},
              {"iat", iat},
              {"nbf", iat},
              {"exp", exp},
              {"aio", Aio(random_)},
              {"app_displayname", app->display_name},
              {"azp", app->app_id},
              {"azpacr", appidacr},
              {"idtyp", "app"},
              {"oid", app->sp_object_id},
              {"rh", RhClaim(random_)},
              {"sub", app->sp_object_id},
              {"tid", tenant.id},
              {"uti", Uti(random_)},
              {"ver", "2.0"},
              {"wids", {kAppWids}}};
  } else {
    const std::string iss = "https://sts.windows.net/" + tenant.id + "/";
    claims = {{"aud", res.requested},
              {"iss", iss},
              {"iat", iat},
              {"nbf", iat},
              {"exp", exp},
              {"aio", Aio(random_)},
              {"app_displayname", app->display_name},
              {"appid", app->app_id},
              {"appidacr", appidacr},
              {"idp", iss},
              {"idtyp", "app"},
              {"oid", app->sp_object_id},
              {"rh", RhClaim(random_)},
              {"sub", app->sp_object_id},
              {"tid", tenant.id},
              {"uti", Uti(random_)},
              {"ver", "1.0"},
              {"wids", {kAppWids}},
              {"xms_idrel", "7 20"}};
  }
  if (!roles.empty()) claims["roles"] = roles;
  return Success(req, claims, res.version == 2, res.requested, "", json::object(), trace, corr);
}

std::optional<AadError> TokenService::CheckAssertion(const TokenRequest& req, const Tenant& tenant,
                                                     const Application& app,
                                                     const std::string& client_id,
                                                     const std::string& assertion,
                                                     const std::string& assertion_type) {
  if (assertion_type != kJwtBearer) return errors::AssertionTypeInvalid();
  if (assertion.empty()) return errors::MissingCredential();
  auto jwt = mock::ParseJwt(assertion);
  if (!jwt) return errors::AssertionMalformed();
  const std::string alg = jwt->header.value("alg", "");
  if (alg != "RS256" && alg != "PS256") return errors::AssertionSignatureInvalid();

  // x5t (SHA-1) or x5t#S256, with or without base64 padding (MSAL Python pads).
  const KeyCredential* key = nullptr;
  std::string presented;
  for (const char* h : {"x5t#S256", "x5t"}) {
    if (!jwt->header.contains(h) || !jwt->header[h].is_string()) continue;
    auto thumb = Base64Decode(jwt->header[h].get<std::string>());
    if (!thumb) continue;
    if (presented.empty()) presented = *thumb;
    for (const auto& k : app.keys) {
      if ((std::string(h) == "x5t" && k.sha1_thumbprint == *thumb) ||
          (std::string(h) == "x5t#S256" && k.sha256_thumbprint == *thumb)) {
        key = &k;
      }
    }
    if (key) break;
  }
  if (!key) return errors::CertificateNotRegistered(UpperHex(presented), app.app_id);
  if (!mock::VerifyJwtSignature(*jwt, key->certificate.Public())) {
    return errors::AssertionSignatureInvalid();
  }
  const SystemTime now = clock_.Now();
  if (now < key->start || now >= key->end) {
    return errors::CertificateExpired(UpperHex(key->sha1_thumbprint), app.app_id);
  }
  const auto& p = jwt->payload;
  if (mock::StringClaim(p, "iss") != client_id || mock::StringClaim(p, "sub") != client_id) {
    return errors::AssertionIssuer();
  }

  // aud: this server's token endpoint (v1 or v2), under any name of the tenant.
  bool aud_ok = false;
  auto check_aud = [&](const std::string& aud) {
    std::vector<std::string> names = tenant.domains;
    names.push_back(tenant.id);
    names.push_back(req.tenant_segment);
    for (const auto& n : names) {
      for (const char* suffix : {"/oauth2/v2.0/token", "/oauth2/token", "/v2.0"}) {
        if (IEquals(aud, req.origin + "/" + n + suffix) ||
            IEquals(aud, "https://login.microsoftonline.com/" + n + suffix)) {
          aud_ok = true;
        }
      }
    }
  };
  if (p.contains("aud") && p["aud"].is_string()) check_aud(p["aud"].get<std::string>());
  if (p.contains("aud") && p["aud"].is_array()) {
    for (const auto& a : p["aud"]) {
      if (a.is_string()) check_aud(a.get<std::string>());
    }
  }
  if (!aud_ok) return errors::AssertionAudience();

  // exp required; nbf optional (MSAL Python omits it); floats allowed.
  const auto skew = directory_.settings().assertion_skew;
  auto exp = mock::NumericDate(p, "exp");
  auto nbf = mock::NumericDate(p, "nbf");
  const SystemTime exp_t = FromUnixSeconds(exp ? static_cast<std::int64_t>(*exp) : 0);
  const SystemTime nbf_t = FromUnixSeconds(nbf ? static_cast<std::int64_t>(*nbf) : 0);
  if (!exp || now > exp_t + skew || (nbf && now + skew < nbf_t)) {
    return errors::AssertionTimeRange(now, nbf_t, exp_t);
  }

  if (p.contains("jti") && p["jti"].is_string()) {
    std::lock_guard lock(mu_);
    std::erase_if(seen_jti_, [&](const auto& kv) { return kv.second + skew < now; });
    const std::string jti = client_id + "|" + p["jti"].get<std::string>();
    if (!seen_jti_.emplace(jti, exp_t).second) return errors::AssertionReplayed();
  }
  return std::nullopt;
}

HttpAnswer TokenService::Password(const TokenRequest& req, const Tenant& tenant, const Form& form,
                                  const std::string& trace, const std::string& corr) {
  auto fail = [&](const AadError& e) { return ErrorAnswer(e, trace, corr); };
  const SystemTime now = clock_.Now();
  const Settings settings = directory_.settings();
  const std::string client_id = Lower(Param(form, "client_id"));
  if (client_id.empty()) return fail(errors::MissingParameter("client_id"));
  if (auto throttled = Throttle(client_id, trace, corr)) return *throttled;

  // The client: a Microsoft public client (Exchange Online PowerShell, Azure CLI...) or an app of
  // the tenant, public or with its secret.
  std::string client_name = "Microsoft Exchange REST API Based Powershell";
  if (!Directory::IsFirstPartyPublicClient(client_id)) {
    auto app = directory_.FindApplication(tenant.id, client_id);
    if (!app) return fail(errors::AppNotFound(client_id, tenant.display_name));
    if (!app->enabled) return fail(errors::AppDisabled(app->app_id, app->display_name));
    client_name = app->display_name;
    if (!app->public_client) {
      const std::string secret = Param(form, "client_secret");
      if (secret.empty()) return fail(errors::MissingCredentialOtherGrant());
      bool ok = false;
      for (const auto& p : app->passwords) {
        ok = ok || (p.secret_hash == Directory::HashSecret(secret) && now < p.end && now >= p.start);
      }
      if (!ok) return fail(errors::InvalidSecret(app->app_id));
    }
  } else if (client_id == "04b07795-8ddb-461a-bbee-02f9e1bf7b46") {
    client_name = "Microsoft Azure CLI";
  } else if (client_id == "14d82eec-204b-4c2f-b7e8-296a70dab67e") {
    client_name = "Microsoft Graph Command Line Tools";
  }

  const std::string username = Param(form, "username");
  if (username.empty()) return fail(errors::MissingParameter("username"));
  const std::string password = Param(form, "password");
  if (password.empty()) return fail(errors::MissingParameter("password"));
  auto user = directory_.FindUser(tenant.id, username);
  if (!user) return fail(errors::UserNotFound(tenant.display_name));
  if (user->password_hash != Directory::HashSecret(password)) {
    return fail(errors::InvalidUserPassword());
  }
  if (!user->enabled) return fail(errors::UserDisabled());

  // Delegated scopes: "<resource>/.default" or "<resource>/<scope>", plus OIDC scopes.
  std::string requested;
  bool openid = false;
  std::vector<std::string> scopes;
  if (req.v2) {
    const std::string scope = Param(form, "scope");
    if (scope.empty()) return fail(errors::ScopeMissing());
    for (const auto& s : SplitSpaces(scope)) {
      if (IsOidcScope(s)) {
        openid = openid || s == "openid";
        continue;
      }
      const std::string r = ResourceOfScope(s);
      if (r.empty()) return fail(errors::ScopeInvalid(s));
      if (!requested.empty() && !IEquals(requested, r)) return fail(errors::MultipleResources());
      requested = r;
      scopes.push_back(s);
    }
    if (requested.empty()) requested = kGraphUri;  // OIDC scopes alone: Microsoft Graph
  } else {
    requested = Param(form, "resource");
    if (requested.empty()) return fail(errors::MissingParameter("resource"));
  }
  const Resource* resource = Directory::FindResource(tenant, requested);
  if (!resource) return fail(errors::ResourceNotFound(requested, tenant.display_name));

  // Directory role template ids for the user's roles (the "wids" claim).
  static const std::map<std::string, std::string> kRoleTemplates = {
      {"global administrator", "62e90394-69f5-4237-9190-012177145e10"},
      {"exchange administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
      {"application administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"},
      {"cloud application administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"},
      {"application developer", "cf1c38e5-3621-4004-a7cb-879624dced7c"}};
  json wids = json::array();
  for (const auto& r : user->roles) {
    auto it = kRoleTemplates.find(Lower(r));
    if (it != kRoleTemplates.end()) wids.push_back(it->second);
  }
  wids.push_back("b79fbf4d-3ef9-4689-8143-76b194e85509");  // every member user

  const auto iat = ToUnixSeconds(now - kBackdate);
  const auto exp = ToUnixSeconds(now + settings.token_lifetime);
  const bool v2_token = resource->token_version == 2;
  const std::string iss = v2_token ? "https://login.microsoftonline.com/" + tenant.id + "/v2.0"
                                   : "https://sts.windows.net/" + tenant.id + "/";
  // Claim order as Entra writes it: aud, iss, then the rest.
  json claims = {{"aud", v2_token ? resource->app_id : requested},
                 {"iss", iss},
                 {"iat", iat},
                 {"nbf", iat},
                 {"exp", exp},
                 {"acr", "1"},
                 {"aio", Aio(random_)},
                 {"amr", {"pwd"}},
                 {"app_displayname", client_name},
                 {"idtyp", "user"},
                 {"ipaddr", "127.0.0.1"},
                 {"name", user->display_name},
                 {"oid", user->object_id},
                 {"rh", RhClaim(random_)},
                 {"scp", resource->delegated_scopes},
                 {"sid", random_.Uuid()},
                 {"sub", Base64UrlEncode(crypto::Sha256(user->object_id + client_id)).substr(0, 43)},
                 {"tid", tenant.id},
                 {"unique_name", user->upn},
                 {"upn", user->upn},
                 {"uti", Uti(random_)},
                 {"wids", wids}};
  if (v2_token) {
    claims["azp"] = client_id;
    claims["azpacr"] = "0";
    claims["ver"] = "2.0";
  } else {
    claims["appid"] = client_id;
    claims["appidacr"] = "0";
    claims["idp"] = iss;
    claims["ver"] = "1.0";
  }

  // Granted scopes as the v2 response lists them.
  std::string scope_field;
  for (const auto& s : SplitSpaces(resource->delegated_scopes)) {
    scope_field += (scope_field.empty() ? "" : " ") + requested + "/" + s;
  }
  json extra = {{"refresh_token", "0.A" + Base64UrlEncode(random_.Bytes(96))}};
  if (openid) {
    const json id_claims = {{"aud", client_id},
                            {"iss", "https://login.microsoftonline.com/" + tenant.id + "/v2.0"},
                            {"iat", iat},
                            {"nbf", iat},
                            {"exp", exp},
                            {"name", user->display_name},
                            {"oid", user->object_id},
                            {"preferred_username", user->upn},
                            {"sub", claims["sub"]},
                            {"tid", tenant.id},
                            {"ver", "2.0"}};
    const SigningKey signer = keys_.Signer();
    extra["id_token"] = SignInTurn({{"typ", "JWT"}, {"alg", "RS256"}, {"kid", signer.kid}},
                                   id_claims, signer.key);
    scope_field += " openid profile offline_access";
  }
  if (Param(form, "client_info") == "1") {
    extra["client_info"] =
        Base64UrlEncode(json({{"uid", user->object_id}, {"utid", tenant.id}}).dump());
  }
  return Success(req, claims, resource->token_version == 2, requested, scope_field, extra, trace,
                 corr);
}

HttpAnswer TokenService::Success(const TokenRequest& req, const json& claims, bool v2_token,
                                 const std::string& resource_as_requested,
                                 const std::string& scope_field, const json& extra,
                                 const std::string& trace, const std::string& corr) {
  const SigningKey signer = keys_.Signer();
  // v1 tokens carry x5t and kid (equal); v2 tokens only kid.
  json header = {{"typ", "JWT"}, {"alg", "RS256"}};
  if (!v2_token) header["x5t"] = signer.kid;
  header["kid"] = signer.kid;
  const std::string token = SignInTurn(header, claims, signer.key);

  const std::int64_t exp = claims["exp"].get<std::int64_t>();
  const std::int64_t now = ToUnixSeconds(clock_.Now());
  // Observed: expires_in is one second short of exp - now (3599 for an hour).
  const std::int64_t expires_in = exp - now - 1;
  json body;
  if (req.v2) {
    body = {{"token_type", "Bearer"}};
    if (!scope_field.empty()) body["scope"] = scope_field;
    body["expires_in"] = expires_in;
    body["ext_expires_in"] = expires_in;
    body["access_token"] = token;
  } else {
    // The v1 endpoint sends every number as a string.
    body = {{"token_type", "Bearer"},
            {"expires_in", std::to_string(expires_in)},
            {"ext_expires_in", std::to_string(expires_in)},
            {"expires_on", std::to_string(exp)},
            {"not_before", std::to_string(claims["nbf"].get<std::int64_t>())},
            {"resource", resource_as_requested},
            {"access_token", token}};
    if (!scope_field.empty()) body["scope"] = claims.value("scp", "");
  }
  for (const auto& [k, v] : extra.items()) body[k] = v;
  HttpAnswer a;
  a.body = body.dump(-1, ' ', false, json::error_handler_t::replace);  // echoes the request
  AddStandardHeaders(a, trace, corr);
  return a;
}

}  // namespace exo::aad
