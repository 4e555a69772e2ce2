// The mock-aad test fixture: one exo::aad::MockAad in-process on port 0 over HTTPS, on a
// SimulatedClock the test and the control API share, with a known world (a tenant, a daemon app
// with a secret, a certificate and consent, and a few apps that fail in specific ways), and an
// HTTPS client that trusts only the harness CA. Helpers build token requests and client
// assertions, decode tokens and check Entra's error shape field by field.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

#include "../common/temp_dir.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_aad/directory.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::aad::test {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
// Ordered request parameters: a form body or a query string.
using Params = std::vector<std::pair<std::string, std::string>>;

// The world every test starts from (ids from shared/reference/entra-id.md).
inline constexpr const char* kTenantId = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";
inline constexpr const char* kTenantName = "Contoso";
inline constexpr const char* kAdminUpn = "admin@contoso.onmicrosoft.com";
inline constexpr const char* kAdminPassword = "Harness-Admin-Pa55!";
// Consented to full_access_as_app; a secret and a certificate.
inline constexpr const char* kDaemonAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
inline constexpr const char* kDaemonSpId = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
inline constexpr const char* kDaemonName = "Contoso Mail Daemon";
inline constexpr const char* kDaemonSecret = "Xy78Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456-";
// No admin consent.
inline constexpr const char* kReporterAppId = "2b3c4d5e-6f70-4819-8a2b-3c4d5e6f7081";
inline constexpr const char* kReporterSecret = "Rep8Q~reporterSecretValue0123456789abcde";
// Service principal disabled.
inline constexpr const char* kDisabledAppId = "4d5e6f70-8192-4a3b-9c4d-5e6f70819203";
inline constexpr const char* kDisabledName = "Retired Sync";
inline constexpr const char* kDisabledSecret = "Dis8Q~disabledSecretValue0123456789abcde";
// A consented app whose only secret ends 30 minutes after the world is loaded.
inline constexpr const char* kExpiringAppId = "5e6f7081-92a3-4b4c-8d5e-6f708192a3b4";
inline constexpr const char* kExpiringSecret = "Exp8Q~expiringSecretValue0123456789abcde";

inline constexpr const char* kExoScope = "https://outlook.office365.com/.default";
inline constexpr const char* kExoResource = "https://outlook.office365.com";
inline constexpr const char* kFormType = "application/x-www-form-urlencoded";
inline constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// RFC 3986 percent-encoding of everything but the unreserved characters.
inline std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

inline std::string EncodeParams(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UrlEncode(k) + "=" + UrlEncode(v);
  }
  return out;
}

// Client-credentials parameters with a secret in the body.
inline Params SecretParams(const std::string& client_id, const std::string& secret,
                           const std::string& scope = kExoScope) {
  return {{"client_id", client_id},
          {"scope", scope},
          {"client_secret", secret},
          {"grant_type", "client_credentials"}};
}

// An RSA key with a self-signed certificate, as an app registers for private_key_jwt.
struct TestCredential {
  crypto::PrivateKey key;
  crypto::Certificate certificate;

  std::string X5t() const { return Base64UrlEncode(certificate.Sha1Thumbprint()); }
  std::string X5tS256() const { return Base64UrlEncode(certificate.Sha256Thumbprint()); }
  // "Qcd5WlCdWRf6LiME70LHTexSsPk=": MSAL Python's padded base64url.
  std::string X5tPadded() const {
    std::string s = X5t();
    while (s.size() % 4 != 0) s += '=';
    return s;
  }
};

// The i-th test key: from EXO_SIGNING_KEY_POOL when scripts/test.sh shares one (made there by the
// first process that needs it, written atomically), else generated.
inline Result<crypto::PrivateKey> TestKey(int i) {
  const char* pool = std::getenv("EXO_SIGNING_KEY_POOL");
  if (pool == nullptr || *pool == '\0') return crypto::PrivateKey::GenerateRsa(2048);
  const auto path = std::filesystem::path(pool) / ("test-credential-" + std::to_string(i) + ".pem");
  if (auto text = ReadFile(path)) {
    if (auto key = crypto::PrivateKey::FromPem(*text)) return key;
  }
  auto key = crypto::PrivateKey::GenerateRsa(2048);
  if (!key) return key;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  (void)WriteFileAtomically(path, key->ToPem(), 0600);
  return key;
}

// Made once per process (and shared across processes when the pool is set): RSA key generation
// is the slowest thing these tests do.
inline const TestCredential& MakeCredential(int index) {
  static const std::vector<TestCredential> creds = [] {
    std::vector<TestCredential> out;
    const SystemTime start = SimulatedClock::DefaultStart();
    for (int i = 0; i < 2; ++i) {
      auto key = TestKey(i);
      EXPECT_TRUE(key.has_value());
      auto cert = crypto::Certificate::SelfSigned(*key, "daemon-" + std::to_string(i),
                                                  start - std::chrono::hours(24 * 30),
                                                  start + std::chrono::hours(24 * 365 * 5));
      EXPECT_TRUE(cert.has_value());
      out.push_back({*key, *cert});
    }
    return out;
  }();
  return creds.at(static_cast<std::size_t>(index));
}
// Registered on the daemon app.
inline const TestCredential& DaemonCredential() { return MakeCredential(0); }
// Registered nowhere.
inline const TestCredential& StrayCredential() { return MakeCredential(1); }

inline json TestWorld() {
  const json exo_consent = {{{"resource", kExoResource}, {"appRole", "full_access_as_app"}}};
  return {{"tenants",
           {{{"id", kTenantId},
             {"displayName", kTenantName},
             {"domains", {"contoso.onmicrosoft.com", "contoso.com"}},
             {"users",
              {{{"userPrincipalName", kAdminUpn},
                {"displayName", "Harness Admin"},
                {"password", kAdminPassword},
                {"roles", {"Global Administrator"}}}}},
             {"applications",
              {{{"appId", kDaemonAppId},
                {"displayName", kDaemonName},
                {"servicePrincipalId", kDaemonSpId},
                {"passwordCredentials",
                 {{{"secretText", kDaemonSecret},
                   {"displayName", "ci"},
                   {"startDateTime", "-1d"},
                   {"endDateTime", "+180d"}}}},
                {"keyCredentials",
                 {{{"certificatePem", DaemonCredential().certificate.ToPem()},
                   {"startDateTime", "-1d"},
                   {"endDateTime", "+1y"}}}},
                {"appRoleAssignments", exo_consent}},
               {{"appId", kReporterAppId},
                {"displayName", "Contoso Reporter"},
                {"passwordCredentials", {{{"secretText", kReporterSecret}}}}},
               {{"appId", kDisabledAppId},
                {"displayName", kDisabledName},
                {"enabled", false},
                {"passwordCredentials", {{{"secretText", kDisabledSecret}}}}},
               {{"appId", kExpiringAppId},
                {"displayName", "Short Lived"},
                {"passwordCredentials",
                 {{{"secretText", kExpiringSecret},
                   {"startDateTime", "-1d"},
                   {"endDateTime", "+30m"}}}},
                {"appRoleAssignments", exo_consent}}}}}}}};
}

// One HTTP exchange as the test saw it. status 0: no response (see `transport_error`).
struct HttpReply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::optional<httplib::Error> transport_error;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool HasHeader(const std::string& name) const { return headers.count(name) > 0; }
  // The body as JSON; discarded (is_discarded()) when it is not JSON.
  json Json() const { return json::parse(body, nullptr, false); }
};

class AadTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(TestWorld()); }
  void TearDown() override { StopServer(); }

  // (Re)starts the server with `world` (nullopt: Directory::DefaultWorld). Fatal on failure.
  void StartServer(std::optional<json> world) {
    StopServer();
    ca_dir_ = std::make_unique<exo::testing::TempDir>();
    MockAadOptions options;
    options.ca_dir = ca_dir_->path();
    options.world = std::move(world);
    options.threads = 4;
    auto started = MockAad::Start(options, clock_, &clock_);
    ASSERT_TRUE(started.has_value()) << started.error().Describe();
    aad_ = std::move(*started);
    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1", aad_->port());
    client_->set_ca_cert_path(aad_->ca_file().string());
    client_->enable_server_certificate_verification(true);
    // The one wait limit: a hung server fails the test instead of blocking it.
    client_->set_connection_timeout(10);
    client_->set_read_timeout(10);
    client_->set_write_timeout(10);
    // Serve one request before the test runs: stopping a server whose listener thread has not
    // yet entered its accept loop hangs (see StopTest.StopsRightAfterStart).
    const HttpReply probe = Get("/_exo/clock");
    ASSERT_EQ(probe.status, 200) << probe.body;
  }

  void StopServer() {
    client_.reset();
    aad_.reset();
    ca_dir_.reset();
  }

  HttpReply Send(const std::string& method, const std::string& path, const std::string& body = {},
                 const std::string& content_type = {}, const httplib::Headers& headers = {}) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = headers;
    req.body = body;
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
    HttpReply reply;
    auto res = client_->send(req);
    if (!res) {
      reply.transport_error = res.error();
      return reply;
    }
    reply.status = res->status;
    reply.body = res->body;
    reply.headers = res->headers;
    return reply;
  }

  HttpReply Get(const std::string& path, const httplib::Headers& headers = {}) {
    return Send("GET", path, {}, {}, headers);
  }

  // A control API call with an optional JSON body.
  HttpReply Control(const std::string& method, const std::string& path,
                    const std::optional<json>& body = std::nullopt) {
    return Send(method, std::string("/_exo") + path, body ? body->dump() : std::string(),
                body ? "application/json" : "");
  }

  static std::string TokenPath(const std::string& tenant = kTenantId, bool v2 = true) {
    return "/" + tenant + (v2 ? "/oauth2/v2.0/token" : "/oauth2/token");
  }

  HttpReply Token(const Params& params, const httplib::Headers& headers = {},
                  const std::string& tenant = kTenantId, bool v2 = true) {
    return Send("POST", TokenPath(tenant, v2), EncodeParams(params), kFormType, headers);
  }

  // The token endpoint URL a client assertion names as its audience.
  std::string TokenEndpoint(const std::string& tenant = kTenantId) const {
    return aad_->base_url() + TokenPath(tenant);
  }

  std::int64_t NowUnix() const { return ToUnixSeconds(clock_.Now()); }

  // Standard assertion claims for `client_id`, valid now for ten minutes.
  ojson AssertionClaims(const std::string& client_id = kDaemonAppId) {
    static std::atomic<int> counter{0};
    const std::int64_t now = NowUnix();
    return {{"aud", TokenEndpoint()},
            {"iss", client_id},
            {"sub", client_id},
            {"jti", "jti-" + std::to_string(++counter) + "-" + SecureRandom::Instance().Uuid()},
            {"nbf", now},
            {"iat", now},
            {"exp", now + 600}};
  }

  static ojson AssertionHeader(const std::string& alg, const std::string& thumb_name,
                               const std::string& thumb) {
    return {{"alg", alg}, {"typ", "JWT"}, {thumb_name, thumb}};
  }

  static Params AssertionParams(const std::string& assertion,
                                const std::string& client_id = kDaemonAppId) {
    return {{"client_id", client_id},
            {"scope", kExoScope},
            {"client_assertion_type", kJwtBearer},
            {"client_assertion", assertion},
            {"grant_type", "client_credentials"}};
  }

  // The RS256/x5t assertion msal-node sends, signed with the daemon's registered key.
  std::string DaemonAssertion(const ojson& claims) {
    const auto& c = DaemonCredential();
    return mock::SignJwt(AssertionHeader("RS256", "x5t", c.X5t()), claims, c.key);
  }

  // The decoded access_token of a successful token response. Fatal if absent or malformed.
  static mock::Jwt DecodeAccessToken(const HttpReply& reply) {
    const json body = reply.Json();
    EXPECT_TRUE(body.is_object() && body.contains("access_token")) << reply.body;
    auto jwt = mock::ParseJwt(body.value("access_token", std::string()));
    EXPECT_TRUE(jwt.has_value()) << reply.body;
    return jwt ? *jwt : mock::Jwt{};
  }

  json FetchJwks(const std::string& path = "/common/discovery/keys") {
    const HttpReply r = Get(path);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }

  // The published key with `kid`, built from its n and e as a resource would.
  std::optional<crypto::PublicKey> JwksKey(const std::string& kid) {
    const json jwks = FetchJwks();
    for (const auto& k : jwks.value("keys", json::array())) {
      if (k.value("kid", "") != kid) continue;
      auto n = Base64Decode(k.value("n", ""));
      auto e = Base64Decode(k.value("e", ""));
      if (!n || !e) return std::nullopt;
      auto key = crypto::PublicKey::FromRsaComponents(*n, *e);
      if (!key) return std::nullopt;
      return *key;
    }
    return std::nullopt;
  }

  // Checks an Entra error answer field by field: status, error, error_codes, the description's
  // prefix and trailer, timestamp, trace and correlation ids, error_uri and content type.
  // `correlation_id`: the client-request-id the request sent, if any.
  void ExpectAadError(const HttpReply& reply, int status, const std::string& error, int code,
                      const std::string& description_prefix, const std::string& correlation_id = {},
                      std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()),
                                 "response: " + reply.body);
    EXPECT_EQ(reply.status, status);
    EXPECT_EQ(reply.Header("Content-Type"), "application/json; charset=utf-8");
    const json body = reply.Json();
    ASSERT_TRUE(body.is_object());
    EXPECT_EQ(body.value("error", ""), error);
    ASSERT_TRUE(body.contains("error_codes") && body["error_codes"].is_array() &&
                !body["error_codes"].empty());
    EXPECT_EQ(body["error_codes"][0], code);
    const std::string trace_id = body.value("trace_id", "");
    EXPECT_EQ(trace_id, reply.Header("x-ms-request-id"));
    EXPECT_TRUE(std::regex_match(
        trace_id, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{10}00$")))
        << trace_id;
    const std::string corr = body.value("correlation_id", "");
    if (!correlation_id.empty()) {
      EXPECT_EQ(corr, correlation_id);
      EXPECT_EQ(reply.Header("client-request-id"), correlation_id);
    } else {
      EXPECT_EQ(corr.size(), 36u);
    }
    const std::string ts = FormatAadTimestamp(clock_.Now());
    EXPECT_EQ(body.value("timestamp", ""), ts);
    const std::string description = body.value("error_description", "");
    const std::string full_prefix = "AADSTS" + std::to_string(code) + ": " + description_prefix;
    EXPECT_EQ(description.substr(0, full_prefix.size()), full_prefix);
    const std::string trailer =
        " Trace ID: " + trace_id + " Correlation ID: " + corr + " Timestamp: " + ts;
    EXPECT_TRUE(description.size() > trailer.size() &&
                description.compare(description.size() - trailer.size(), trailer.size(), trailer) ==
                    0)
        << "no trailer '" << trailer << "' in: " << description;
    EXPECT_TRUE(std::regex_search(description, std::regex(" Timestamp: \\d{4}-\\d{2}-\\d{2} "
                                                          "\\d{2}:\\d{2}:\\d{2}Z$")));
    EXPECT_EQ(body.value("error_uri", ""),
              "https://login.microsoftonline.com/error?code=" + std::to_string(code));
  }

  // Asserts a 200 token response and returns its access token's claims.
  json ExpectToken(const HttpReply& reply,
                   std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()),
                                 "response: " + reply.body);
    EXPECT_EQ(reply.status, 200);
    return DecodeAccessToken(reply).payload;
  }

  SimulatedClock clock_;
  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  std::unique_ptr<MockAad> aad_;
  std::unique_ptr<httplib::SSLClient> client_;
};

}  // namespace exo::aad::test
