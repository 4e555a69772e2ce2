#include "exo/client/token_provider.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "exo/client/graph_transport.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
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
    if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) return std::stoll(s);
  }
  return std::nullopt;
}

// The token's payload, read without verifying (the resource verifies; we only look at roles
// and audience to explain failures early).
nlohmann::json Payload(const std::string& token) {
  const auto a = token.find('.');
  const auto b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return {};
  auto bytes = Base64Decode(token.substr(a + 1, b - a - 1));
  if (!bytes) return {};
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  return j.is_object() ? j : nlohmann::json();
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
    if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
        !lifetime || *lifetime <= 0) {
      return Fail(ErrorCategory::kProtocol, "InvalidTokenResponse",
                  "the token endpoint's answer has no access_token and expires_in",
                  "check EmailIntegrationAuthority points at a Microsoft identity platform");
    }
    AccessToken t;
    t.value = SecretString(body["access_token"].get<std::string>());
    t.scope = scope;
    const Duration life = std::chrono::seconds(*lifetime);
    // Expiry counts from when we asked, on the monotonic clock: immune to this machine's wall
    // clock and to the server's. Short-lived tokens keep at least half their life.
    const Duration margin = std::min<Duration>(options.skew_margin, life / 2);
    t.expires_at = asked + life - margin;
    if (auto refresh_in = Seconds(body, "refresh_in"); refresh_in && *refresh_in > 0) {
      t.refresh_at = std::min(asked + std::chrono::seconds(*refresh_in), t.expires_at);
    } else {
      // Half-life plus up to a tenth of the life of jitter, so many clients do not refresh at once.
      const auto jitter = std::chrono::duration_cast<Duration>(life / 10 * random.Unit());
      t.refresh_at = std::min(asked + life / 2 + jitter, t.expires_at);
    }
    const nlohmann::json claims = Payload(t.value.Reveal());
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
