// App-only tokens: the cache, early refresh, single flight, back-off, and AADSTS errors with
// remedies — against a scripted transport, then against mock-aad over HTTPS.
#include "exo/client/token_provider.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../mock-aad/aad_fixture.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "fake_http.hpp"

namespace exo::client {
namespace {

using test::FakeHttp;
using test::JsonResponse;
using ::testing::HasSubstr;

constexpr const char* kScope = "https://outlook.office365.com/.default";

// An unsigned JWT-shaped token with `roles` (the provider reads, never verifies).
std::string FakeJwt(const std::vector<std::string>& roles, const std::string& id = "1") {
  nlohmann::json payload = {{"aud", "https://outlook.office365.com"}, {"jti", id}};
  if (!roles.empty()) payload["roles"] = roles;
  return Base64UrlEncode("{\"alg\":\"RS256\"}") + "." + Base64UrlEncode(payload.dump()) + ".sig";
}

HttpResponse TokenAnswer(const std::string& id, long expires_in = 3599,
                         std::optional<long> refresh_in = std::nullopt,
                         std::vector<std::string> roles = {"full_access_as_app"}) {
  nlohmann::json body = {{"token_type", "Bearer"},
                         {"expires_in", expires_in},
                         {"ext_expires_in", expires_in},
                         {"access_token", FakeJwt(roles, id)}};
  if (refresh_in) body["refresh_in"] = *refresh_in;
  return JsonResponse(200, body.dump());
}

HttpResponse AadError(int status, const std::string& error, long code, const std::string& text) {
  nlohmann::json body = {
      {"error", error},
      {"error_description", "AADSTS" + std::to_string(code) + ": " + text +
                                "\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: x"},
      {"error_codes", {code}}};
  return JsonResponse(status, body.dump());
}

class TokenProviderTest : public ::testing::Test {
 protected:
  TokenProvider& Provider(TokenProviderOptions options = {}) {
    ClientCredential c;
    c.tenant = "contoso.onmicrosoft.com";
    c.client_id = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
    c.secret = [] { return Result<SecretString>(SecretString("s3cret value&=")); };
    provider_ = std::make_unique<TokenProvider>(c, options, http_, clock_, random_);
    return *provider_;
  }
  FakeHttp http_;
  SimulatedClock clock_;
  SeededRandom random_{7};
  std::unique_ptr<TokenProvider> provider_;
};

// Verifies the request is the client_credentials grant with the secret form-encoded.
TEST_F(TokenProviderTest, SendsClientCredentialsGrant) {
  http_.Enqueue(TokenAnswer("a"));
  ASSERT_TRUE(Provider().Get(kScope).has_value());
  const auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_THAT(reqs[0].body, HasSubstr("grant_type=client_credentials"));
  EXPECT_THAT(reqs[0].body, HasSubstr("scope=https%3A%2F%2Foutlook.office365.com%2F.default"));
  EXPECT_THAT(reqs[0].body, HasSubstr("client_secret=s3cret%20value%26%3D"));
}

// Verifies a token is reused until its refresh time, then fetched anew.
TEST_F(TokenProviderTest, CachesUntilHalfLife) {
  http_.Respond([](const HttpRequest&) { return Result<HttpResponse>(TokenAnswer("x")); });
  TokenProvider& p = Provider();
  auto first = p.Get(kScope);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->roles, std::vector<std::string>{"full_access_as_app"});
  clock_.Advance(std::chrono::minutes(29));
  ASSERT_TRUE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 1u);
  clock_.Advance(std::chrono::minutes(7));  // past half-life plus the largest jitter (6 min)
  ASSERT_TRUE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies refresh_in, when the server sends it, decides the refresh.
TEST_F(TokenProviderTest, HonoursRefreshIn) {
  http_.Respond(
      [](const HttpRequest&) { return Result<HttpResponse>(TokenAnswer("x", 86399, 600)); });
  TokenProvider& p = Provider();
  ASSERT_TRUE(p.Get(kScope).has_value());
  clock_.Advance(std::chrono::seconds(599));
  ASSERT_TRUE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 1u);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies expiry counts from the request on the monotonic clock, less the skew margin: a token
// is never used in its last five minutes, even if refreshing keeps failing.
TEST_F(TokenProviderTest, ExpiryLessSkewMargin) {
  http_.Enqueue(TokenAnswer("a", 3600));
  TokenProvider& p = Provider();
  ASSERT_TRUE(p.Get(kScope).has_value());
  http_.Respond([](const HttpRequest&) {
    return Result<HttpResponse>(std::unexpected(
        Error{ErrorCategory::kTransient, "HTTP transport", "refused", "", std::nullopt, 0}));
  });
  clock_.Advance(std::chrono::minutes(54));
  EXPECT_TRUE(p.Get(kScope).has_value()) << "refresh failed, but the token is still good";
  clock_.Advance(std::chrono::minutes(2));
  auto late = p.Get(kScope);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().category, ErrorCategory::kTransient);
}

// Verifies one request to the authority however many threads ask at once.
TEST_F(TokenProviderTest, SingleFlight) {
  TokenProvider& p = Provider();
  http_.Hold();
  http_.Enqueue(TokenAnswer("only"));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      if (p.Get(kScope)) ++ok;
    });
  }
  http_.AwaitRequests(1);
  http_.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(p.requests(), 1u);
}

// Verifies Invalidate drops only the token the server rejected, so a late 401 on an old token
// does not throw away a fresh one.
TEST_F(TokenProviderTest, InvalidateOnlyTheRejectedToken) {
  http_.Respond([n = 0](const HttpRequest&) mutable {
    return Result<HttpResponse>(TokenAnswer(std::to_string(++n)));
  });
  TokenProvider& p = Provider();
  const std::string first = p.Get(kScope)->value.Reveal();
  p.Invalidate(kScope, first);
  const std::string second = p.Get(kScope)->value.Reveal();
  EXPECT_NE(first, second);
  p.Invalidate(kScope, first);  // stale rejection
  EXPECT_EQ(p.Get(kScope)->value.Reveal(), second);
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies an expired secret is AADSTS7000222 with the seed's step 3 as the remedy, and that the
// provider backs off instead of asking again at once.
TEST_F(TokenProviderTest, ExpiredSecretBacksOff) {
  http_.Respond([](const HttpRequest&) {
    return Result<HttpResponse>(
        AadError(401, "invalid_client", 7000222, "The provided client secret keys are expired."));
  });
  TokenProvider& p = Provider();
  auto r = p.Get(kScope);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "AADSTS7000222");
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthentication);
  EXPECT_THAT(r.error().remedy, HasSubstr("seed step 3"));
  EXPECT_EQ(r.error().message, "AADSTS7000222: The provided client secret keys are expired.");
  auto again = p.Get(kScope);
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.error().retry_after.has_value());
  EXPECT_EQ(p.requests(), 1u) << "no request during the back-off";
  clock_.Advance(std::chrono::seconds(3));
  EXPECT_FALSE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 2u);
  // Doubling: 4 s (+jitter) now, so 3 s later is still inside the back-off.
  clock_.Advance(std::chrono::seconds(3));
  EXPECT_FALSE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies the back-off stops doubling at its cap, and ResetBackoff (config reloaded) retries now.
TEST_F(TokenProviderTest, BackoffIsCappedAndResettable) {
  http_.Respond([](const HttpRequest&) {
    return Result<HttpResponse>(AadError(401, "invalid_client", 7000215, "Invalid client secret."));
  });
  TokenProviderOptions o;
  o.max_backoff = std::chrono::seconds(60);
  TokenProvider& p = Provider(o);
  for (int i = 0; i < 10; ++i) {
    (void)p.Get(kScope);
    clock_.Advance(std::chrono::seconds(73));  // the cap plus the largest jitter
  }
  EXPECT_EQ(p.requests(), 10u) << "after each back-off (at most the cap) one new request";
  (void)p.Get(kScope);
  clock_.Advance(std::chrono::seconds(59));
  (void)p.Get(kScope);
  EXPECT_EQ(p.requests(), 11u) << "still inside the capped back-off";
  p.ResetBackoff();
  (void)p.Get(kScope);
  EXPECT_EQ(p.requests(), 12u);
}

// Verifies 429 with Retry-After is a throttling error whose hint the back-off honours.
TEST_F(TokenProviderTest, ThrottlingHonoursRetryAfter) {
  http_.Enqueue(JsonResponse(429, "{}", {{"Retry-After", "30"}}));
  http_.Respond([](const HttpRequest&) { return Result<HttpResponse>(TokenAnswer("x")); });
  TokenProvider& p = Provider();
  auto r = p.Get(kScope);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kThrottled);
  EXPECT_EQ(r.error().retry_after, std::chrono::seconds(30));
  clock_.Advance(std::chrono::seconds(29));
  EXPECT_FALSE(p.Get(kScope).has_value());
  clock_.Advance(std::chrono::seconds(8));  // 30 s plus the largest jitter
  EXPECT_TRUE(p.Get(kScope).has_value());
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies a token without roles is handed out, not refused: RBAC for Applications authorizes
// apps without Entra consent, so only Exchange can say no (and the transport explains it).
TEST_F(TokenProviderTest, TokenWithoutRolesIsLeftToTheService) {
  http_.Enqueue(TokenAnswer("x", 3599, std::nullopt, {}));
  auto r = Provider().Get(kScope);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_TRUE(r->roles.empty());
}

// Verifies garbage from the authority is a protocol error, not a crash or a default token.
TEST_F(TokenProviderTest, MalformedAnswers) {
  http_.Enqueue(JsonResponse(200, "{\"access_token\": 5}"));
  http_.Enqueue(HttpResponse{200, {}, "<html>proxy login</html>"});
  http_.Enqueue(HttpResponse{400, {}, "not json"});
  TokenProvider& p = Provider();
  EXPECT_EQ(p.Get(kScope).error().code, "InvalidTokenResponse");
  p.ResetBackoff();
  EXPECT_EQ(p.Get(kScope).error().code, "InvalidTokenResponse");
  p.ResetBackoff();
  EXPECT_EQ(p.Get(kScope).error().code, "HTTP 400");
}

// Verifies an AADSTS number too long to be a code is no code (it threw out of std::stol: found by
// fuzz_jwt_client), and that a real code mentioned after it is still found.
TEST_F(TokenProviderTest, AadstsNumberBeyondRangeIsNoCode) {
  const std::string huge = "AADSTS700022222222222222222222222222222222";
  http_.Enqueue(JsonResponse(
      401, nlohmann::json{{"error", "invalid_client"}, {"error_description", huge + ": no."}}.dump()));
  http_.Enqueue(JsonResponse(
      401, nlohmann::json{{"error", "invalid_client"},
                          {"error_description", huge + ", then AADSTS7000215: Invalid client "
                                                       "secret provided."}}
               .dump()));
  TokenProvider& p = Provider();
  auto first = p.Get(kScope);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, "invalid_client");
  EXPECT_EQ(first.error().category, ErrorCategory::kAuthentication);
  p.ResetBackoff();
  auto second = p.Get(kScope);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "AADSTS7000215");
}

// Verifies the certificate credential sends a private_key_jwt assertion with x5t and x5t#S256,
// audience the token endpoint, signed by the certificate's key.
TEST_F(TokenProviderTest, CertificateAssertion) {
  exo::testing::TempDir dir;
  auto key = crypto::PrivateKey::GenerateRsa(2048);
  ASSERT_TRUE(key.has_value());
  auto cert = crypto::Certificate::SelfSigned(*key, "daemon", clock_.Now(),
                                              clock_.Now() + std::chrono::hours(24));
  ASSERT_TRUE(cert.has_value());
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "daemon.pem", key->ToPem() + cert->ToPem(), 0600));
  ClientCredential c;
  c.tenant = "contoso.onmicrosoft.com";
  c.client_id = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
  c.certificate = dir.path() / "daemon.pem";
  http_.Enqueue(TokenAnswer("x"));
  TokenProvider p(c, {}, http_, clock_, random_);
  ASSERT_TRUE(p.Get(kScope).has_value());
  const std::string body = http_.requests().at(0).body;
  EXPECT_THAT(body, HasSubstr("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
                              "assertion-type%3Ajwt-bearer"));
  EXPECT_EQ(body.find("client_secret"), std::string::npos);
  const auto start = body.find("client_assertion=") + 17;
  const std::string jwt = body.substr(start, body.find('&', start) - start);
  const auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  auto header = nlohmann::json::parse(*Base64Decode(jwt.substr(0, dot1)));
  auto claims = nlohmann::json::parse(*Base64Decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["x5t"], Base64UrlEncode(cert->Sha1Thumbprint()));
  EXPECT_EQ(header["x5t#S256"], Base64UrlEncode(cert->Sha256Thumbprint()));
  EXPECT_EQ(claims["aud"],
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(claims["iss"], c.client_id);
  EXPECT_EQ(claims["sub"], c.client_id);
  EXPECT_TRUE(cert->Public().Verify(crypto::SignatureScheme::kRsaPkcs1Sha256, jwt.substr(0, dot2),
                                    *Base64Decode(jwt.substr(dot2 + 1))));
}

// ---- Against mock-aad over HTTPS ----

class TokenProviderAadTest : public aad::test::AadTest {
 protected:
  // The client first: a server stopping while a kept-alive connection is open waits for it.
  void TearDown() override {
    provider_.reset();
    http_.reset();
    aad::test::AadTest::TearDown();
  }
  Result<AccessToken> Get(const std::string& app, const std::string& secret) {
    HttpOptions h;
    h.ca_bundle = aad_->ca_file();
    http_ = MakeHttpTransport(h);
    ClientCredential c;
    c.tenant = aad::test::kTenantId;
    c.client_id = app;
    c.secret = [secret] { return Result<SecretString>(SecretString(secret)); };
    TokenProviderOptions o;
    o.authority_host = aad_->base_url();
    provider_ = std::make_unique<TokenProvider>(c, o, *http_, clock_, random_);
    return provider_->Get(kScope);
  }
  std::unique_ptr<HttpTransport> http_;
  SeededRandom random_{3};
  std::unique_ptr<TokenProvider> provider_;
};

// Verifies a real token from mock-aad over verified TLS, with the consented role.
TEST_F(TokenProviderAadTest, GetsTokenFromMockAad) {
  auto t = Get(aad::test::kDaemonAppId, aad::test::kDaemonSecret);
  ASSERT_TRUE(t.has_value()) << t.error().Describe();
  EXPECT_EQ(t->roles, std::vector<std::string>{"full_access_as_app"});
  EXPECT_EQ(t->audience, "https://outlook.office365.com");
}

// Verifies mock-aad's wrong-secret and expired-secret answers become the typed errors.
TEST_F(TokenProviderAadTest, WrongAndExpiredSecrets) {
  auto wrong = Get(aad::test::kDaemonAppId, "Xy78Q~wrong");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, "AADSTS7000215");
  EXPECT_THAT(wrong.error().remedy, HasSubstr("Value, not its Secret ID"));
  // Entra refuses a brand-new secret the same way for a while (anchors.md: rejected right after
  // creation), so the remedy must not send the operator to replace a secret that is right.
  EXPECT_THAT(wrong.error().remedy, HasSubstr("created only minutes ago"));
  clock_.Advance(std::chrono::minutes(31));
  auto expired = Get(aad::test::kExpiringAppId, aad::test::kExpiringSecret);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, "AADSTS7000222");
  EXPECT_THAT(expired.error().remedy, HasSubstr("EmailIntegrationClientSecret"));
}

// Verifies an app without consent gets a token without roles (Exchange decides), and a
// certificate the server does not trust fails as a configuration error naming the CA bundle.
TEST_F(TokenProviderAadTest, NoConsentAndUntrustedServer) {
  auto none = Get(aad::test::kReporterAppId, aad::test::kReporterSecret);
  ASSERT_TRUE(none.has_value()) << none.error().Describe();
  EXPECT_TRUE(none->roles.empty());
  http_ = MakeHttpTransport({});
  ClientCredential c;
  c.tenant = aad::test::kTenantId;
  c.client_id = aad::test::kDaemonAppId;
  c.secret = [] { return Result<SecretString>(SecretString(aad::test::kDaemonSecret)); };
  TokenProviderOptions o;
  o.authority_host = aad_->base_url();
  TokenProvider p(c, o, *http_, clock_, random_);
  auto untrusted = p.Get(kScope);
  ASSERT_FALSE(untrusted.has_value());
  EXPECT_EQ(untrusted.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(untrusted.error().remedy, HasSubstr("EmailIntegrationCaBundle"));
}

}  // namespace
}  // namespace exo::client
