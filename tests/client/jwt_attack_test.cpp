// The JWT attack catalog (issue 8) against the client's own checks: the token endpoint (a
// scripted transport) answers with a forged version of a real mock-aad token, and the token
// provider decides what to do with it.
//
// The decision, per attack. The client is not the token's audience and cannot verify its
// signature, so a forgery of the signature (alg none, HS256 keyed with the issuer's public key,
// an unknown or injected kid, jku and x5u, a corrupted or emptied signature, an issuer host it
// does not know) is the resource's business: the client forwards such a token untouched and never
// fetches anything the token names. What it refuses, with a typed error naming the setting to
// check and without caching the token, is an answer it cannot usefully send: not a JWT at all,
// larger than Exchange accepts in a header, already expired or not yet valid by the authority's
// own clock (its Date header; never this machine's), for another resource than the scope asks,
// or for another tenant than the one configured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/jwt_forge.hpp"
#include "../mock-aad/aad_fixture.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "fake_http.hpp"

namespace exo::client {
namespace {

using exo::testing::Retoken;
using exo::testing::Rs256;
using nlohmann::json;
using test::FakeHttp;
using ::testing::HasSubstr;

constexpr const char* kExoScope = "https://outlook.office365.com/.default";
constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";
constexpr const char* kOtherTenant = "0b7e5f1c-2d3a-4e6f-9a8b-7c6d5e4f3a2b";
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// "Sun, 06 Nov 1994 08:49:37 GMT", as every HTTP server dates its answers.
std::string HttpDate(SystemTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

class ClientJwtAttackTest : public aad::test::AadTest {
 protected:
  void SetUp() override {
    AadTest::SetUp();
    if (HasFatalFailure()) return;
    const aad::test::HttpReply r =
        Token(aad::test::SecretParams(aad::test::kDaemonAppId, aad::test::kDaemonSecret));
    ASSERT_EQ(r.status, 200) << r.body;
    real_ = r.Json().value("access_token", "");
    ASSERT_EQ(std::count(real_.begin(), real_.end(), '.'), 2);
  }

  // The token endpoint's 200 answer carrying `token`, dated by the authority's clock (mock-aad's,
  // which is this test's) unless `dated` is false.
  HttpResponse Answer(const std::string& token, bool dated = true) {
    const json body = {{"token_type", "Bearer"},
                       {"expires_in", 3599},
                       {"ext_expires_in", 3599},
                       {"access_token", token}};
    std::multimap<std::string, std::string> headers;
    if (dated) headers.emplace("Date", HttpDate(clock_.Now()));
    return test::JsonResponse(200, body.dump(), std::move(headers));
  }

  // A provider for the daemon app of `tenant` whose token endpoint answers `answer` first.
  TokenProvider& Provider(HttpResponse answer, const std::string& tenant = aad::test::kTenantId) {
    provider_.reset();
    http_ = std::make_unique<FakeHttp>();
    http_->Enqueue(std::move(answer));
    ClientCredential c;
    c.tenant = tenant;
    c.client_id = aad::test::kDaemonAppId;
    c.secret = [] { return Result<SecretString>(SecretString(aad::test::kDaemonSecret)); };
    provider_ = std::make_unique<TokenProvider>(c, TokenProviderOptions{}, *http_, clock_, random_);
    return *provider_;
  }
  Result<AccessToken> Acquire(const std::string& token, const std::string& scope = kExoScope,
                              const std::string& tenant = aad::test::kTenantId) {
    return Provider(Answer(token), tenant).Get(scope);
  }

  // The forged token is refused with `code` and `category`, the remedy naming `setting`, and is
  // not cached: the next Get asks the authority again and takes the good token it then gives.
  void ExpectRefused(const std::string& forged, const std::string& code, ErrorCategory category,
                     const std::string& setting, const std::string& scope = kExoScope,
                     const std::string& tenant = aad::test::kTenantId) {
    TokenProvider& p = Provider(Answer(forged), tenant);
    auto refused = p.Get(scope);
    ASSERT_FALSE(refused.has_value()) << "accepted: " << forged.substr(0, 200);
    EXPECT_EQ(refused.error().code, code) << refused.error().Describe();
    EXPECT_EQ(refused.error().category, category);
    EXPECT_THAT(refused.error().remedy, HasSubstr(setting));
    EXPECT_EQ(http_->requests().size(), 1u);
    http_->Enqueue(Answer(scope == kExoScope ? real_ : RealFor(scope)));
    p.ResetBackoff();
    auto next = p.Get(scope);
    ASSERT_TRUE(next.has_value()) << next.error().Describe();
    EXPECT_NE(next->value.Reveal(), forged);
    EXPECT_EQ(p.requests(), 2u);
  }

  // The forged token is taken as it is and sent on: one request to the authority, nothing else.
  void ExpectForwarded(const std::string& forged) {
    auto token = Acquire(forged);
    ASSERT_TRUE(token.has_value()) << token.error().Describe();
    EXPECT_EQ(token->value.Reveal(), forged);
    EXPECT_EQ(http_->requests().size(), 1u);
  }

  // The real token re-shaped as the authority would have issued it for `scope`'s resource.
  std::string RealFor(const std::string& scope) const {
    const std::string resource = scope.substr(0, scope.size() - std::string("/.default").size());
    return Claims([&](json& c) { c["aud"] = resource; });
  }
  // The real token with its claims edited (the signature kept: the client cannot check it).
  std::string Claims(const exo::testing::JsonEdit& edit) const { return Retoken(real_, {}, edit); }

  std::int64_t Now() const { return ToUnixSeconds(clock_.Now()); }

  std::string real_;
  SeededRandom random_{5};
  std::unique_ptr<FakeHttp> http_;
  std::unique_ptr<TokenProvider> provider_;
};

// ---- Controls ----

// Verifies the real token is taken and sent as issued, with its roles and audience read.
TEST_F(ClientJwtAttackTest, RealTokenIsAccepted) {
  auto token = Acquire(real_);
  ASSERT_TRUE(token.has_value()) << token.error().Describe();
  EXPECT_EQ(token->value.Reveal(), real_);
  EXPECT_EQ(token->roles, std::vector<std::string>{"full_access_as_app"});
  EXPECT_EQ(token->audience, "https://outlook.office365.com");
}

// ---- Refused: answers the client cannot use ----

// Verifies a token that is not a JWS (no dots, one dot as alg none without its trailing dot or a
// signature cut off with its dot, four segments, characters outside base64url, a header that is
// not JSON, a header injection) is refused as AccessTokenMalformed and never cached.
TEST_F(ClientJwtAttackTest, TokenThatIsNotAJwtIsRefused) {
  const std::string payload = real_.substr(real_.find('.') + 1, real_.rfind('.') - real_.find('.') - 1);
  const std::vector<std::string> forged = {
      "not-a-jwt",
      Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload,
      real_.substr(0, real_.rfind('.')),
      real_ + ".c2ln",
      "!!!." + payload + ".sig",
      Base64UrlEncode("not json") + "." + payload + ".sig",
      real_ + "\r\nX-Injected: 1",
      real_ + " "};
  for (const std::string& token : forged) {
    SCOPED_TRACE(token.substr(0, 60));
    ExpectRefused(token, "AccessTokenMalformed", ErrorCategory::kProtocol,
                  "EmailIntegrationAuthority");
  }
}

// Verifies a token larger than Exchange accepts in a header (IIS's 16 KiB) is refused, just over
// the limit and at 1 MB, while one that fits is taken.
TEST_F(ClientJwtAttackTest, OversizedTokenIsRefused) {
  const std::string over = exo::testing::PaddedToken(real_, kMaxTokenBytes + 3);
  ASSERT_GT(over.size(), kMaxTokenBytes);
  ExpectRefused(over, "AccessTokenTooLarge", ErrorCategory::kProtocol, "EmailIntegrationAuthority");
  ExpectRefused(exo::testing::PaddedToken(real_, 1024 * 1024), "AccessTokenTooLarge",
                ErrorCategory::kProtocol, "EmailIntegrationAuthority");
  const std::string fits = exo::testing::PaddedToken(real_, kMaxTokenBytes);
  ASSERT_GE(fits.size(), kMaxTokenBytes - 3);
  ExpectForwarded(fits);
}

// Verifies a token already expired by the authority's own clock (its Date header), or expired
// before it was issued (exp not after iat, judged without any clock), is refused.
TEST_F(ClientJwtAttackTest, ExpiredTokenIsRefused) {
  const std::int64_t now = Now();
  ExpectRefused(Claims([&](json& c) {
                  c["iat"] = c["nbf"] = now - 7200;
                  c["exp"] = now - 3600;
                }),
                "AccessTokenExpired", ErrorCategory::kProtocol, "EmailIntegrationAuthority");
  ExpectRefused(Claims([&](json& c) { c["exp"] = now; }), "AccessTokenExpired",
                ErrorCategory::kProtocol, "EmailIntegrationAuthority");
  // Without a Date the authority's clock is unknown; exp before iat still gives it away.
  const std::string stillborn = Claims([&](json& c) {
    c["iat"] = c["nbf"] = now;
    c["exp"] = now - 1;
  });
  auto undated = Provider(Answer(stillborn, /*dated=*/false)).Get(kExoScope);
  ASSERT_FALSE(undated.has_value());
  EXPECT_EQ(undated.error().code, "AccessTokenExpired");
}

// Verifies this machine's clock plays no part: with the authority's Date absent, a token whose
// exp is long past by the local clock (a harness on simulated time) is taken, as the service
// judges it by its own clock.
TEST_F(ClientJwtAttackTest, LocalClockIsNeverTheJudge) {
  const std::string token = real_;
  clock_.Advance(std::chrono::hours(24 * 30));
  auto taken = Provider(Answer(token, /*dated=*/false)).Get(kExoScope);
  ASSERT_TRUE(taken.has_value()) << taken.error().Describe();
}

// Verifies a token not valid until an hour from now by the authority's clock is refused, while
// one within the services' five minutes of skew is taken.
TEST_F(ClientJwtAttackTest, NotYetValidTokenIsRefused) {
  const std::int64_t now = Now();
  ExpectRefused(Claims([&](json& c) {
                  c["iat"] = c["nbf"] = now + 3600;
                  c["exp"] = now + 7200;
                }),
                "AccessTokenNotYetValid", ErrorCategory::kProtocol, "EmailIntegrationAuthority");
  ExpectForwarded(Claims([&](json& c) { c["iat"] = c["nbf"] = now + 240; }));
}

// Verifies a token that ends sooner than expires_in says (an answer replayed from a cache) is
// kept only as long as it lives: ten minutes of life are used for five, less the skew margin.
TEST_F(ClientJwtAttackTest, TokenIsKeptNoLongerThanItsExp) {
  const std::int64_t now = Now();
  TokenProvider& p = Provider(Answer(Claims([&](json& c) { c["exp"] = now + 600; })));
  ASSERT_TRUE(p.Get(kExoScope).has_value());
  clock_.Advance(std::chrono::minutes(6));
  http_->Enqueue(Answer(real_));
  auto renewed = p.Get(kExoScope);
  ASSERT_TRUE(renewed.has_value()) << renewed.error().Describe();
  EXPECT_EQ(renewed->value.Reveal(), real_);
  EXPECT_EQ(p.requests(), 2u);
}

// Verifies a token for another resource than the scope asks (Graph's for Exchange Online and the
// other way round, a random application id, another on-premises host) is refused naming the
// scope setting, while every name of the requested resource is taken.
TEST_F(ClientJwtAttackTest, AudienceOfAnotherResourceIsRefused) {
  const std::string guid = SecureRandom::Instance().Uuid();
  for (const std::string& aud : {std::string("https://graph.microsoft.com"),
                                 std::string("00000003-0000-0000-c000-000000000000"), guid,
                                 std::string("https://outlook.office365.com.attacker.example")}) {
    SCOPED_TRACE(aud);
    ExpectRefused(Claims([&](json& c) { c["aud"] = aud; }), "AccessTokenAudience",
                  ErrorCategory::kConfiguration, "EmailIntegrationWebmailDefault");
  }
  ExpectRefused(Claims([](json& c) { c["aud"] = "https://outlook.office365.com"; }),
                "AccessTokenAudience", ErrorCategory::kConfiguration,
                "EmailIntegrationWebmailDefault", kGraphScope);
  ExpectRefused(Claims([](json& c) { c["aud"] = "https://outlook.office365.com"; }),
                "AccessTokenAudience", ErrorCategory::kConfiguration,
                "EmailIntegrationWebmailDefault", "https://mail.contoso.com/.default");

  for (const json& aud : {json("https://outlook.office365.com/"), json("https://Outlook.Office.com"),
                          json("00000002-0000-0ff1-ce00-000000000000"),
                          json::array({guid, "https://outlook.office365.com"})}) {
    SCOPED_TRACE(aud.dump());
    ExpectForwarded(Claims([&](json& c) { c["aud"] = aud; }));
  }
  auto graph = Acquire(Claims([](json& c) { c["aud"] = "00000003-0000-0000-c000-000000000000"; }),
                       kGraphScope);
  EXPECT_TRUE(graph.has_value());
  auto hybrid = Acquire(Claims([](json& c) { c["aud"] = "https://mail.contoso.com"; }),
                        "https://mail.contoso.com/.default");
  EXPECT_TRUE(hybrid.has_value());
}

// Verifies a token for another tenant than the configured tenant id (its tid, its issuer, or
// both) is refused naming EmailIntegrationTenantId; with a domain name configured, a tid that
// disagrees with the issuer's tenant gives the forgery away.
TEST_F(ClientJwtAttackTest, TokenOfAnotherTenantIsRefused) {
  const std::string other_iss = std::string("https://sts.windows.net/") + kOtherTenant + "/";
  ExpectRefused(Claims([](json& c) { c["tid"] = kOtherTenant; }), "AccessTokenTenant",
                ErrorCategory::kConfiguration, "EmailIntegrationTenantId");
  ExpectRefused(Claims([&](json& c) { c["iss"] = other_iss; }), "AccessTokenTenant",
                ErrorCategory::kConfiguration, "EmailIntegrationTenantId");
  ExpectRefused(Claims([&](json& c) {
                  c["iss"] = c["idp"] = other_iss;
                  c["tid"] = kOtherTenant;
                }),
                "AccessTokenTenant", ErrorCategory::kConfiguration, "EmailIntegrationTenantId");
  ExpectRefused(Claims([](json& c) { c["tid"] = kOtherTenant; }), "AccessTokenTenant",
                ErrorCategory::kConfiguration, "EmailIntegrationTenantId", kExoScope,
                "contoso.onmicrosoft.com");
  // Tenant ids compare as GUIDs do, in any letter case.
  std::string upper = aad::test::kTenantId;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ExpectForwarded(Claims([&](json& c) { c["tid"] = upper; }));
}

// Verifies an expires_in too large for any integer (the v1 endpoint sends it as a string) is a
// malformed answer, not an exception out of the provider.
TEST_F(ClientJwtAttackTest, ExpiresInBeyondAnyIntegerIsRefused) {
  const json body = {{"token_type", "Bearer"},
                     {"expires_in", "99999999999999999999999"},
                     {"access_token", real_}};
  auto refused = Provider(test::JsonResponse(200, body.dump())).Get(kExoScope);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, "InvalidTokenResponse");
}

// ---- Forwarded: the resource's business ----

// Verifies signature forgeries the client cannot judge are forwarded untouched and do not crash
// it: alg none (with its trailing dot), HS256 keyed with the issuer's public key, unknown and
// injected kids, a corrupted or emptied signature, and an issuer host it does not know.
TEST_F(ClientJwtAttackTest, SignatureForgeriesAreTheResourcesBusiness) {
  const json jwks = aad_->Jwks();
  const json& jwk = jwks["keys"][0];
  auto published = crypto::PublicKey::FromRsaComponents(*Base64Decode(jwk.value("n", "")),
                                                        *Base64Decode(jwk.value("e", "")));
  ASSERT_TRUE(published.has_value());
  const std::string pem = published->ToPem();
  const auto& attacker = aad::test::StrayCredential();
  std::string corrupted = real_;
  corrupted.back() = corrupted.back() == 'A' ? 'B' : 'A';

  const std::vector<std::string> forged = {
      Retoken(real_, [](json& h) { h["alg"] = "none"; }, {},
              [](const std::string&) { return std::string(); }),
      Retoken(real_, [](json& h) { h["alg"] = "HS256"; }, {},
              [&](const std::string& in) { return exo::testing::HmacSha256(pem, in); }),
      Retoken(real_, [](json& h) { h["alg"] = "HS256"; }, {},
              [&](const std::string& in) {
                return exo::testing::HmacSha256(exo::testing::PublicKeyDer(*published), in);
              }),
      Retoken(real_, [&](json& h) { h["kid"] = h["x5t"] = attacker.X5t(); }, {},
              Rs256(attacker.key)),
      Retoken(real_, [](json& h) { h["kid"] = "../../etc/passwd"; }, {}, Rs256(attacker.key)),
      Retoken(real_, [](json& h) { h["kid"] = "x' OR '1'='1"; }, {}, Rs256(attacker.key)),
      corrupted,
      real_.substr(0, real_.rfind('.') + 1),
      Claims([](json& c) {
        c["iss"] = std::string("https://sts.attacker.example/") + aad::test::kTenantId + "/";
      })};
  for (const std::string& token : forged) {
    SCOPED_TRACE(token.substr(0, 80));
    ExpectForwarded(token);
  }
}

// Verifies jku and x5u headers are never followed: a token naming a key set and a certificate on
// a server the attacker runs is forwarded, and that server receives no request at all.
TEST_F(ClientJwtAttackTest, JkuAndX5uAreNeverFetched) {
  SeededRandom random(9);
  mock::HttpServer attacker_server(mock::ServerOptions{}, clock_, random);
  std::atomic<int> fetches{0};
  attacker_server.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++fetches;
    res.set_content("{\"keys\":[]}", "application/json");
  });
  ASSERT_TRUE(attacker_server.Start().has_value());
  const auto& attacker = aad::test::StrayCredential();
  for (const char* header : {"jku", "x5u"}) {
    SCOPED_TRACE(header);
    ExpectForwarded(Retoken(
        real_,
        [&](json& h) {
          h["kid"] = h["x5t"] = attacker.X5t();
          h[header] = attacker_server.base_url() + "/" + header;
        },
        {}, Rs256(attacker.key)));
  }
  EXPECT_EQ(fetches.load(), 0);
  attacker_server.Stop();
}

}  // namespace
}  // namespace exo::client
