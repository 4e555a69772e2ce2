#include "exo/client/token_provider.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "exo/client/graph_transport.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "internal/aad_errors.hpp"

namespace exo::client {

namespace {

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

// A number that AAD sends as a JSON number (v2) or a string (v1).
std::optional<long long> Seconds(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  const auto& v = j[key];
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    // At most 18 digits: std::stoll throws beyond long long, and no lifetime is that long.
    if (!s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), ::isdigit)) {
      return std::stoll(s);
    }
  }
  return std::nullopt;
}

// ---- What the client checks of an access token before caching and sending it ----
//
// The client is not the token's audience: it cannot verify the signature (Microsoft tells clients
// to treat access tokens as opaque, entra-id.md §3.1), so alg, kid, jku, x5u and the signature are
// the resource's business, and the client never fetches anything a token names. What it can check
// is whether the answer is a token it can use for what it asked: a JWT of a sane size, for the
// requested resource, issued by the configured tenant, and alive by the authority's own clock.
// Anything else would be cached and sent only to be refused by Exchange with a 401, over and over;
// refusing it here names the setting to fix instead. Claims a token lacks are not judged.

// An app-only token is 1.5-3 KB. 16 KiB is IIS's default limit for one request header
// (HTTP.sys MaxFieldLength, beyond which it answers 400 "Request Header Too Long"): a larger token
// cannot reach Exchange at all.
constexpr std::size_t kMaxAccessTokenBytes = 16 * 1024;

// The application ids Entra ID writes as aud for the resources the client asks for, with the
// resource URIs that name the same application (Exchange Online accepts both of its URIs).
struct KnownResource {
  const char* app_id;
  std::vector<const char*> uris;
};
const std::vector<KnownResource>& KnownResources() {
  static const auto* known = new std::vector<KnownResource>{
      {"00000002-0000-0ff1-ce00-000000000000",
       {"https://outlook.office365.com", "https://outlook.office.com"}},
      {"00000003-0000-0000-c000-000000000000", {"https://graph.microsoft.com"}}};
  return *known;
}

// Lower case (ASCII: these are URIs and GUIDs), without trailing slashes.
std::string Comparable(std::string_view text) {
  std::string s = AsciiLower(text);
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The known application `resource` (a URI or an app id, compared) belongs to, if any.
const KnownResource* KnownResourceOf(const std::string& resource) {
  for (const KnownResource& k : KnownResources()) {
    if (resource == k.app_id) return &k;
    for (const char* uri : k.uris) {
      if (resource == uri) return &k;
    }
  }
  return nullptr;
}


// The tenant in an Entra issuer: the first path segment of https://sts.windows.net/{tid}/ and
// https://login.microsoftonline.com/{tid}/v2.0 (and their national-cloud hosts).
std::string IssuerTenant(const std::string& iss) {
  const auto scheme = iss.find("://");
  if (scheme == std::string::npos) return {};
  const auto slash = iss.find('/', scheme + 3);
  if (slash == std::string::npos) return {};
  const auto end = iss.find('/', slash + 1);
  return Comparable(iss.substr(slash + 1, end == std::string::npos ? end : end - slash - 1));
}

// The latest time the client reasons about (year 2223): SystemTime counts nanoseconds in 64 bits
// and ends in 2262, so later dates are not dates to us.
constexpr long long kLatestUnixSeconds = 8'000'000'000;

// A NumericDate claim in whole seconds; absent, not a number or out of range: nothing to judge.
std::optional<long long> NumericDate(const nlohmann::json& claims, const char* key) {
  const auto it = claims.find(key);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!(v >= 0 && v <= static_cast<double>(kLatestUnixSeconds))) return std::nullopt;
  return static_cast<long long>(v);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), the authority's own clock.
std::optional<SystemTime> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t seconds = timegm(&tm);
  if (seconds < 0 || seconds > kLatestUnixSeconds) return std::nullopt;
  return FromUnixSeconds(static_cast<std::int64_t>(seconds));
}

constexpr const char* kAuthorityRemedy =
    "check that EmailIntegrationAuthority is the Microsoft identity platform "
    "(https://login.microsoftonline.com) and that no proxy between this machine and it rewrites or "
    "caches its answers";

std::unexpected<Error> Refuse(ErrorCategory category, const char* code, std::string message,
                              std::string remedy) {
  return Fail(category, code, "the token endpoint's access token " + std::move(message),
              std::move(remedy));
}

// What the checks learnt: the claims, and when the token ends by the authority's clock.
struct TokenFacts {
  nlohmann::json claims;
  std::optional<Duration> remaining;  // exp less the answer's Date, when both are known
};

// The checks above, for a token asked for `scope` from `tenant` (a GUID or a domain name),
// answered at `date` by the authority's clock, if it said.
Result<TokenFacts> InspectAccessToken(const std::string& token, const std::string& scope,
                                      const std::string& tenant, std::optional<SystemTime> date) {
  if (token.size() > kMaxAccessTokenBytes) {
    return Refuse(ErrorCategory::kProtocol, "AccessTokenTooLarge",
                  "is " + std::to_string(token.size()) + " bytes, more than Exchange accepts in a "
                  "header (" + std::to_string(kMaxAccessTokenBytes) + ")",
                  kAuthorityRemedy);
  }
  // Only base64url and dots: anything else (spaces, CR LF) would also corrupt the request header.
  const bool charset_ok = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  const auto dots = std::count(token.begin(), token.end(), '.');
  const auto malformed = [&](const std::string& why) {
    return Refuse(ErrorCategory::kProtocol, "AccessTokenMalformed",
                  "is not a JWT (" + why + ")", kAuthorityRemedy);
  };
  if (!charset_ok) return malformed("characters outside base64url");
  TokenFacts facts;
  // An encrypted token (JWE, five segments) is opaque to us: the service reads it.
  if (dots == 4) return facts;
  if (dots != 2) return malformed("a JWS has three segments, this one " + std::to_string(dots + 1));
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  const auto header_bytes = Base64Decode(token.substr(0, a));
  const auto payload_bytes = Base64Decode(token.substr(a + 1, b - a - 1));
  const auto header = header_bytes ? nlohmann::json::parse(*header_bytes, nullptr, false)
                                   : nlohmann::json();
  facts.claims = payload_bytes ? nlohmann::json::parse(*payload_bytes, nullptr, false)
                               : nlohmann::json();
  if (!header.is_object() || !facts.claims.is_object()) {
    return malformed("its header and payload are not base64url JSON objects");
  }
  const nlohmann::json& claims = facts.claims;

  // Audience: the resource the scope names ("<resource>/.default").
  constexpr std::string_view kDefault = "/.default";
  if (scope.ends_with(kDefault) && claims.contains("aud")) {
    const std::string resource = Comparable(scope.substr(0, scope.size() - kDefault.size()));
    const KnownResource* known = KnownResourceOf(resource);
    std::vector<std::string> auds;
    if (claims["aud"].is_string()) auds.push_back(claims["aud"]);
    if (claims["aud"].is_array()) {
      for (const auto& v : claims["aud"]) {
        if (v.is_string()) auds.push_back(v);
      }
    }
    const bool ours = std::any_of(auds.begin(), auds.end(), [&](const std::string& raw) {
      const std::string aud = Comparable(raw);
      if (aud == resource) return true;
      if (known) return KnownResourceOf(aud) == known;
      // A resource we do not know by id: its application id is the only other name it has.
      return IsGuid(aud);
    });
    if (!ours) {
      return Refuse(ErrorCategory::kConfiguration, "AccessTokenAudience",
                    "is for '" + (auds.empty() ? std::string() : auds.front()) + "', not for " +
                        resource + " that the scope " + scope + " asks for",
                    "check EmailIntegrationWebmailDefault (https://outlook.office365.com/.default "
                    "for Exchange Online) and " + std::string(kAuthorityRemedy));
    }
  }

  // Tenant: tid and the issuer's tenant agree with each other and, for a configured tenant id,
  // with it (a domain name cannot be compared without asking the directory).
  const std::string tid =
      claims.contains("tid") && claims["tid"].is_string()
          ? Comparable(claims["tid"].get<std::string>())
          : "";
  const std::string iss_tenant =
      claims.contains("iss") && claims["iss"].is_string() ? IssuerTenant(claims["iss"]) : "";
  const std::string configured = Comparable(tenant);
  const auto wrong_tenant = [&](const std::string& found, const std::string& expected) {
    return Refuse(ErrorCategory::kConfiguration, "AccessTokenTenant",
                  "was issued for tenant '" + found + "', not '" + expected + "'",
                  "check EmailIntegrationTenantId (seed step 4, the Directory (tenant) ID) and " +
                      std::string(kAuthorityRemedy));
  };
  if (!tid.empty() && !iss_tenant.empty() && IsGuid(iss_tenant) && tid != iss_tenant) {
    return wrong_tenant(tid, iss_tenant);
  }
  if (IsGuid(configured)) {
    if (!tid.empty() && tid != configured) return wrong_tenant(tid, configured);
    if (IsGuid(iss_tenant) && iss_tenant != configured) return wrong_tenant(iss_tenant, configured);
  }

  // Lifetime, by the authority's clock (its Date header), never by ours: this machine's clock may
  // be off, and so may the authority's, while the service judges with its own.
  const auto exp = NumericDate(claims, "exp");
  const auto nbf = NumericDate(claims, "nbf");
  const auto iat = NumericDate(claims, "iat");
  const auto dead_on_issue = (exp && nbf && *exp <= *nbf) || (exp && iat && *exp <= *iat);
  // The services allow five minutes of skew between their clock and the issuer's; a token already
  // expired by the issuer's clock would be good for those minutes at best.
  constexpr auto kSkew = std::chrono::minutes(5);
  if (exp && (dead_on_issue || (date && FromUnixSeconds(*exp) <= *date))) {
    return Refuse(ErrorCategory::kProtocol, "AccessTokenExpired",
                  "expired at " + FormatIso8601(FromUnixSeconds(*exp)) +
                      (date ? " (the authority's clock said " + FormatIso8601(*date) + ")"
                            : std::string(" (before it was issued)")),
                  kAuthorityRemedy);
  }
  if (nbf && date && FromUnixSeconds(*nbf) - kSkew > *date) {
    return Refuse(ErrorCategory::kProtocol, "AccessTokenNotYetValid",
                  "is not valid before " + FormatIso8601(FromUnixSeconds(*nbf)) +
                      " (the authority's clock said " + FormatIso8601(*date) + ")",
                  kAuthorityRemedy);
  }
  if (exp && date) facts.remaining = FromUnixSeconds(*exp) - *date;
  return facts;
}

}  // namespace

struct TokenProvider::State {
  ClientCredential credential;
  TokenProviderOptions options;
  HttpTransport& http;
  Clock& clock;
  Random& random;
  std::atomic<std::size_t> requests{0};

  struct Entry {
    std::optional<AccessToken> token;
    bool in_flight = false;
    std::optional<Error> last_error;
    MonoTime retry_at{};
    Duration backoff{};
  };
  std::mutex mu;
  std::condition_variable cv;  // in_flight ended (not a timed wait)
  std::map<std::string, Entry> entries;

  State(ClientCredential c, TokenProviderOptions o, HttpTransport& h, Clock& k, Random& r)
      : credential(std::move(c)), options(std::move(o)), http(h), clock(k), random(r) {}

  std::string TokenUrl() const {
    return options.authority_host + "/" + credential.tenant + "/oauth2/v2.0/token";
  }

  Result<std::string> ClientAssertion() {
    auto pem = ReadFile(*credential.certificate);
    if (!pem) {
      return Fail(ErrorCategory::kConfiguration, "CertificateUnreadable",
                  "cannot read " + credential.certificate->string() + ": " + pem.error().message,
                  "point EmailIntegrationCertificate at a PEM file with the certificate and its "
                  "private key");
    }
    auto key = crypto::PrivateKey::FromPem(*pem);
    auto cert = crypto::Certificate::FromPem(*pem);
    if (!key || !cert) {
      return Fail(ErrorCategory::kConfiguration, "CertificateUnreadable",
                  credential.certificate->string() +
                      " must hold both a certificate and its RSA private key (PEM)",
                  "export the certificate with its private key as PEM");
    }
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
    nlohmann::ordered_json header = {{"alg", "RS256"},
                                     {"typ", "JWT"},
                                     {"x5t", Base64UrlEncode(cert->Sha1Thumbprint())},
                                     {"x5t#S256", Base64UrlEncode(cert->Sha256Thumbprint())}};
    nlohmann::ordered_json claims = {{"aud", TokenUrl()},
                                     {"iss", credential.client_id},
                                     {"sub", credential.client_id},
                                     {"jti", random.Uuid()},
                                     {"nbf", now},
                                     {"iat", now},
                                     {"exp", now + 600}};
    const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    auto signature = key->Sign(crypto::SignatureScheme::kRsaPkcs1Sha256, input);
    if (!signature) return std::unexpected(signature.error());
    return input + "." + Base64UrlEncode(*signature);
  }

  // One request to the authority. Never holds the lock.
  Result<AccessToken> Fetch(const std::string& scope) {
    std::vector<std::pair<std::string, std::string>> form = {{"client_id", credential.client_id},
                                                             {"scope", scope},
                                                             {"grant_type", "client_credentials"}};
    std::optional<SecretString> secret;
    if (credential.certificate) {
      auto assertion = ClientAssertion();
      if (!assertion) return std::unexpected(assertion.error());
      form.emplace_back("client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.emplace_back("client_assertion", *assertion);
    } else if (credential.secret) {
      auto s = credential.secret();
      if (!s) return std::unexpected(s.error());
      secret = std::move(*s);
    } else {
      return Fail(ErrorCategory::kConfiguration, "NoCredential",
                  "neither a client secret nor a certificate is configured",
                  "set EmailIntegrationClientSecret (seed step 3)");
    }
    HttpRequest req;
    req.method = "POST";
    req.url = TokenUrl();
    req.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    req.headers.emplace("Accept", "application/json");
    req.body = FormEncode(form);
    if (secret) {
      req.body += "&" + FormEncode({{"client_secret", secret->Reveal()}});
    }
    const MonoTime asked = clock.Monotonic();
    ++requests;
    auto res = http.Send(req);
    // The body held the secret: wipe it before anything else can copy it.
    std::fill(req.body.begin(), req.body.end(), '\0');
    if (!res) {
      Error e = res.error();
      e.message = "the token endpoint " + TokenUrl() + " is unreachable: " + e.message;
      if (e.remedy.empty()) e.remedy = "check EmailIntegrationAuthority and the network";
      return std::unexpected(e);
    }
    if (res->status != 200) return std::unexpected(ParseTokenError(*res));
    const auto body = nlohmann::json::parse(res->body, nullptr, false);
    const auto lifetime = body.is_object() ? Seconds(body, "expires_in") : std::nullopt;
    // Entra's longest-lived tokens last a day; a lifetime beyond a year is not one.
    constexpr long long kLongestLifetime = 365LL * 24 * 3600;
    if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
        !lifetime || *lifetime <= 0 || *lifetime > kLongestLifetime) {
      return Fail(ErrorCategory::kProtocol, "InvalidTokenResponse",
                  "the token endpoint's answer has no access_token and expires_in",
                  "check EmailIntegrationAuthority points at a Microsoft identity platform");
    }
    auto facts = InspectAccessToken(body["access_token"].get<std::string>(), scope,
                                    credential.tenant, ParseHttpDate(res->Header("Date")));
    if (!facts) return std::unexpected(facts.error());
    AccessToken t;
    t.value = SecretString(body["access_token"].get<std::string>());
    t.scope = scope;
    // A token that ends sooner than expires_in says (an answer replayed by a cache) is kept only
    // as long as it lives.
    const Duration life = std::min<Duration>(std::chrono::seconds(*lifetime),
                                             facts->remaining.value_or(Duration::max()));
    // Expiry counts from when we asked, on the monotonic clock: immune to this machine's wall
    // clock and to the server's. Short-lived tokens keep at least half their life.
    const Duration margin = std::min<Duration>(options.skew_margin, life / 2);
    t.expires_at = asked + life - margin;
    if (auto refresh_in = Seconds(body, "refresh_in");
        refresh_in && *refresh_in > 0 && *refresh_in <= *lifetime) {
      t.refresh_at = std::min(asked + std::chrono::seconds(*refresh_in), t.expires_at);
    } else {
      // Half-life plus up to a tenth of the life of jitter, so many clients do not refresh at once.
      const auto jitter = std::chrono::duration_cast<Duration>(life / 10 * random.Unit());
      t.refresh_at = std::min(asked + life / 2 + jitter, t.expires_at);
    }
    const nlohmann::json& claims = facts->claims;
    if (claims.contains("roles") && claims["roles"].is_array()) {
      for (const auto& r : claims["roles"]) {
        if (r.is_string()) t.roles.push_back(r.get<std::string>());
      }
    }
    if (claims.contains("aud") && claims["aud"].is_string()) t.audience = claims["aud"];
    // No roles is not an error here: Exchange Online authorizes an app through RBAC for
    // Applications without any Entra consent (Microsoft's migration guide says to remove the
    // consent afterwards), so only the service can say no. It does, with 401 "The token contains
    // no permissions", which the transports turn into NoRoles with both remedies.
    return t;
  }

  void Failed(Entry& e, const Error& error, MonoTime now) {
    const Duration floor = error.retry_after.value_or(options.min_backoff);
    const Duration doubled = e.backoff == Duration{} ? options.min_backoff : e.backoff * 2;
    e.backoff = std::min(options.max_backoff, std::max(doubled, floor));
    // Up to a fifth more, so a fleet that failed together does not retry together.
    const auto jitter = std::chrono::duration_cast<Duration>(e.backoff / 5 * random.Unit());
    e.retry_at = now + e.backoff + jitter;
    e.last_error = error;
    log::Get("client.tokens")
        ->warn("token request for {} failed: {}; next attempt in {} s", error.code,
               error.Describe(),
               std::chrono::duration_cast<std::chrono::seconds>(e.backoff + jitter).count());
  }
};

TokenProvider::TokenProvider(ClientCredential credential, TokenProviderOptions options,
                             HttpTransport& http, Clock& clock, Random& random)
    : state_(std::make_unique<State>(std::move(credential), std::move(options), http, clock,
                                     random)) {}
TokenProvider::~TokenProvider() = default;

Result<AccessToken> TokenProvider::Get(const std::string& scope) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  for (;;) {
    State::Entry& e = s.entries[scope];
    const MonoTime now = s.clock.Monotonic();
    const bool valid = e.token && now < e.token->expires_at;
    const bool may_ask = !e.in_flight && now >= e.retry_at;
    if (valid && (now < e.token->refresh_at || !may_ask)) return *e.token;
    if (!valid && e.in_flight) {
      s.cv.wait(lock, [&] { return !e.in_flight; });
      continue;
    }
    if (!valid && !may_ask) {
      Error err = *e.last_error;
      err.retry_after = e.retry_at - now;
      return std::unexpected(err);
    }
    // This thread asks; the others wait for it (or keep using a token that is still valid).
    e.in_flight = true;
    lock.unlock();
    Result<AccessToken> fetched = s.Fetch(scope);
    lock.lock();
    State::Entry& done = s.entries[scope];
    done.in_flight = false;
    if (fetched) {
      done.token = *fetched;
      done.last_error.reset();
      done.backoff = {};
      done.retry_at = {};
    } else {
      s.Failed(done, fetched.error(), s.clock.Monotonic());
    }
    s.cv.notify_all();
    if (fetched) return fetched;
    // A proactive refresh that failed still leaves a usable token.
    if (done.token && s.clock.Monotonic() < done.token->expires_at) return *done.token;
    return fetched;
  }
}

void TokenProvider::Invalidate(const std::string& scope, const std::string& rejected) {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(scope);
  if (it != state_->entries.end() && it->second.token &&
      it->second.token->value.Reveal() == rejected) {
    it->second.token.reset();
  }
}

void TokenProvider::ResetBackoff() {
  std::lock_guard lock(state_->mu);
  for (auto& [scope, e] : state_->entries) {
    e.backoff = {};
    e.retry_at = {};
    e.last_error.reset();
  }
}

std::size_t TokenProvider::requests() const { return state_->requests.load(); }

}  // namespace exo::client
