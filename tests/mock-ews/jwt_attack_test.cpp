// The JWT attack catalog (issue 8), read as a specification of mock-ews: every forgery starts from
// a real token mock-aad issued, is tampered with (and re-signed where the attack needs it: with an
// attacker's key, with an HMAC keyed by the issuer's public key, or with the issuer's own key when
// the attack is on a claim rather than on the signature), and is sent both to EWS (GetFolder) and
// to Microsoft Graph mail (GET /v1.0/users/{upn}/messages). Each is refused with the diagnostics
// the real service gives:
// - EWS: 401, empty body, WWW-Authenticate with error="invalid_token", and x-ms-diagnostics
//   `<category code>;reason="<OAuthErrors description>";error_category="<name>"` (ews.md §3.1).
//   The reasons are the descriptions of Exchange's Microsoft.Exchange.Security.OAuth.OAuthErrors
//   (decompiled, the [dec] source of ews.md): "The token has an invalid signature." (1001),
//   "The issuer of the token is unknown. Issuer was '{0}'." (2xxx), "The token has expired."
//   (3001, the only lifetime error: ews.md says JWT lifetime failures, not-yet-valid included, map
//   to it), "The audience claim value is invalid '{0}'." and "The tenant for realm '{0}' does not
//   exist."; the category follows the thousands of the error (1xxx invalid_signature 2000000,
//   2xxx invalid_token 2000001, 3xxx token_expired 2000002, 4xxx invalid_resource 2000003, 5xxx
//   invalid_tenant 2000004) [infer from the numbering]. "The token is malformed." is mock-ews's own
//   (Exchange's UnableToReadToken reason embeds its parser's message, not known).
// - Graph: 401 InvalidAuthenticationToken with Graph's challenge. "Signature is invalid." is
//   observed on Graph mail endpoints (Microsoft Q&A 5841715, 2026; wazuh/wazuh-documentation#7620,
//   2024); IDX14100/IDX14120 are Microsoft.IdentityModel's texts for a token without dots and with
//   one dot, the latter observed from Graph (a Google token sent to Graph, noted in a public
//   calendar integration); the audience and lifetime texts are microsoft-graph-docs#16208 and
//   mock-ews's existing table.
// - An over-long Authorization header: a clean 400 before any token check, as IIS answers
//   "HTTP 400 - Bad Request (Request Header too long)" (Microsoft's IIS blog on KB2020943).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <utility>

#include "../common/jwt_forge.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "exo/mock_kit/jwt.hpp"
#include "graph_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using exo::testing::JsonEdit;
using exo::testing::Retoken;
using exo::testing::Rs256;

constexpr const char* kEwsChallenge =
    "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
    "trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", "
    "token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
    "authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
    "error=\"invalid_token\"";
constexpr const char* kGraphChallenge =
    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/"
    "authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
constexpr const char* kOtherTenant = "0b7e5f1c-2d3a-4e6f-9a8b-7c6d5e4f3a2b";
// The longest request header line mock-ews reads, CRLF included: cpp-httplib's
// CPPHTTPLIB_HEADER_MAX_LENGTH, fixed when Debian built the library.
constexpr std::size_t kMaxHeaderLine = 8192;

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

// x-ms-diagnostics as Exchange writes it.
std::string Diagnostics(int code, const std::string& reason, const std::string& category) {
  return std::to_string(code) + ";reason=\"" + reason + "\";error_category=\"" + category + "\"";
}
const std::string kInvalidSignature =
    Diagnostics(2000000, "The token has an invalid signature.", "invalid_signature");
const std::string kMalformed = Diagnostics(2000001, "The token is malformed.", "invalid_token");
const std::string kExpired = Diagnostics(2000002, "The token has expired.", "token_expired");
std::string UnknownIssuer(const std::string& iss) {
  return Diagnostics(2000001, "The issuer of the token is unknown. Issuer was '" + iss + "'.",
                     "invalid_token");
}
std::string InvalidAudience(const std::string& aud) {
  return Diagnostics(2000003, "The audience claim value is invalid '" + aud + "'.",
                     "invalid_resource");
}
std::string UnknownTenant(const std::string& tid) {
  return Diagnostics(2000004, "The tenant for realm '" + tid + "' does not exist.",
                     "invalid_tenant");
}

// Graph's messages (see the file comment).
constexpr const char* kGraphBadSignature = "Signature is invalid.";
constexpr const char* kGraphExpired = "Lifetime validation failed, the token is expired.";
constexpr const char* kGraphNotYetValid = "Lifetime validation failed, the token is not yet valid.";
constexpr const char* kGraphAudience = "Access token validation failure. Invalid audience.";
constexpr const char* kGraphIssuer = "Access token validation failure. Invalid issuer.";
constexpr const char* kJwsOrJwe =
    "\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): "
    "'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): "
    "'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector."
    "EncodedCiphertext.EncodedAuthenticationTag'.";
const std::string kGraphOneDot =
    std::string("IDX14120: JWT is not well formed, there is only one dot (.).") + kJwsOrJwe;

class JwtAttackTest : public GraphTest {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    if (HasFatalFailure()) return;
    auto ews_jwt = mock::ParseJwt(token_);
    auto graph_jwt = mock::ParseJwt(graph_token_);
    ASSERT_TRUE(ews_jwt.has_value() && graph_jwt.has_value());
    kid_ = ews_jwt->header.value("kid", "");
    // The issuer's signing key, from where mock-aad keeps it (MockAadOptions::ca_dir): claim
    // attacks are signed with it, so their refusal can only come from the claim.
    for (int i = 1; i <= 4 && !issuer_key_; ++i) {
      auto pem = ReadFile(ca_dir_->path() / ("signing-key-" + std::to_string(i) + ".pem"));
      if (!pem) continue;
      auto cert = crypto::Certificate::FromPem(*pem);
      auto key = crypto::PrivateKey::FromPem(*pem);
      if (cert && key && Base64UrlEncode(cert->Sha1Thumbprint()) == kid_) issuer_key_ = *key;
    }
    ASSERT_TRUE(issuer_key_.has_value()) << "no signing-key-N.pem with kid " << kid_;
    const json jwks = aad_->Jwks();
    for (const auto& k : jwks["keys"]) {
      if (k.value("kid", "") != kid_) continue;
      auto key = crypto::PublicKey::FromRsaComponents(*Base64Decode(k.value("n", "")),
                                                      *Base64Decode(k.value("e", "")));
      ASSERT_TRUE(key.has_value());
      published_key_ = *key;
    }
    ASSERT_TRUE(published_key_.has_value());
  }

  // Both endpoints, each with the token made for it.
  HttpReply CallEws(const std::string& token) { return Ews(Envelope(kGetInbox), token); }
  HttpReply CallGraph(const std::string& token) {
    return Graph("GET", Me("/messages"), nullptr, {}, token);
  }

  // `attack` applied to the EWS token is refused by EWS with `ews_diagnostics`, and applied to the
  // Graph token is refused by Graph with `graph_message`.
  void ExpectRefusedByBoth(const std::function<std::string(const std::string& real)>& attack,
                           const std::string& ews_diagnostics, const std::string& graph_message) {
    const HttpReply ews = CallEws(attack(token_));
    EXPECT_EQ(ews.status, 401);
    EXPECT_EQ(ews.body, "");
    EXPECT_EQ(ews.Header("Content-Length"), "0");
    EXPECT_EQ(ews.Header("x-ms-diagnostics"), ews_diagnostics);
    EXPECT_EQ(ews.Header("WWW-Authenticate"), kEwsChallenge);
    const HttpReply graph = CallGraph(attack(graph_token_));
    ExpectGraphError(graph, 401, "InvalidAuthenticationToken", graph_message);
    EXPECT_EQ(graph.Header("WWW-Authenticate"), kGraphChallenge);
  }

  // The token with its header and claims changed, signed again with the issuer's own key.
  std::string Resign(const std::string& token, const JsonEdit& header_edit,
                     const JsonEdit& claims_edit) const {
    return Retoken(token, header_edit, claims_edit, Rs256(*issuer_key_));
  }
  std::string ResignClaims(const std::string& token, const JsonEdit& edit) const {
    return Resign(token, {}, edit);
  }

  // The longest token re-signed by the issuer with a padding claim of at most `size` characters.
  std::string PaddedToken(const std::string& token, std::size_t size) const {
    return exo::testing::PaddedToken(token, size, Rs256(*issuer_key_));
  }

  std::int64_t Now() const { return ToUnixSeconds(clock_.Now()); }

  std::string kid_;
  std::optional<crypto::PrivateKey> issuer_key_;
  std::optional<crypto::PublicKey> published_key_;
};

// ---- Controls ----

// Verifies the catalog's premise: the real tokens, and the real tokens re-signed unchanged with the
// issuer's key, are accepted, so every refusal below comes from the attack alone.
TEST_F(JwtAttackTest, RealAndResignedTokensAreAccepted) {
  EXPECT_EQ(CallEws(token_).status, 200);
  EXPECT_EQ(CallGraph(graph_token_).status, 200);
  EXPECT_EQ(CallEws(ResignClaims(token_, [](json&) {})).status, 200);
  EXPECT_EQ(CallGraph(ResignClaims(graph_token_, [](json&) {})).status, 200);
}

// ---- The algorithm ----

// Verifies alg "none" with an empty signature (a trailing dot) fails the signature check.
TEST_F(JwtAttackTest, AlgNoneWithTrailingDotIsInvalidSignature) {
  ExpectRefusedByBoth(
      [](const std::string& real) {
        auto jwt = mock::ParseJwt(real);
        jwt->header["alg"] = "none";
        return exo::testing::CompactJws(jwt->header, jwt->payload, "");
      },
      kInvalidSignature, kGraphBadSignature);
}

// Verifies alg "none" without the trailing dot (two segments) is not a JWS at all.
TEST_F(JwtAttackTest, AlgNoneWithoutTrailingDotIsMalformed) {
  ExpectRefusedByBoth(
      [](const std::string& real) {
        auto jwt = mock::ParseJwt(real);
        jwt->header["alg"] = "none";
        return Base64UrlEncode(jwt->header.dump()) + "." + Base64UrlEncode(jwt->payload.dump());
      },
      kMalformed, kGraphOneDot);
}

// Verifies the algorithm-confusion attack is refused: HS256 keyed with the issuer's published
// RSA key, as PEM (with and without its final newline) and as DER.
TEST_F(JwtAttackTest, Hs256KeyedWithThePublicKeyIsInvalidSignature) {
  const std::string pem = published_key_->ToPem();
  std::string pem_trimmed = pem;
  while (!pem_trimmed.empty() && pem_trimmed.back() == '\n') pem_trimmed.pop_back();
  const std::string der = exo::testing::PublicKeyDer(*published_key_);
  ASSERT_FALSE(der.empty());
  for (const std::string& secret : {pem, pem_trimmed, der}) {
    SCOPED_TRACE(secret.size());
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return Retoken(
              real, [](json& h) { h["alg"] = "HS256"; }, {},
              [&](const std::string& input) { return exo::testing::HmacSha256(secret, input); });
        },
        kInvalidSignature, kGraphBadSignature);
  }
}

// ---- The key ----

// Verifies a token signed by a key the issuer never published (its own kid) is refused.
TEST_F(JwtAttackTest, UnknownKidIsInvalidSignature) {
  const auto& attacker = aad::test::StrayCredential();
  ExpectRefusedByBoth(
      [&](const std::string& real) {
        return Retoken(
            real, [&](json& h) { h["kid"] = h["x5t"] = attacker.X5t(); }, {}, Rs256(attacker.key));
      },
      kInvalidSignature, kGraphBadSignature);
}

// Verifies kid values shaped as path traversal and SQL injection are only ever looked up: signed
// by the attacker or even by the issuer's own key, the token names no published key.
TEST_F(JwtAttackTest, InjectedKidIsInvalidSignature) {
  const auto& attacker = aad::test::StrayCredential();
  for (const std::string kid :
       {"../../etc/passwd", "x' OR '1'='1", "/dev/null", "../../../../proc/self/environ"}) {
    SCOPED_TRACE(kid);
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return Retoken(
              real, [&](json& h) { h["kid"] = h["x5t"] = kid; }, {}, Rs256(attacker.key));
        },
        kInvalidSignature, kGraphBadSignature);
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return Resign(real, [&](json& h) { h["kid"] = h["x5t"] = kid; }, nullptr);
        },
        kInvalidSignature, kGraphBadSignature);
  }
}

// Verifies a kid of another JSON type than a string (a number, an object) names no key: refused as
// a bad signature, never answered as a server error or as a malformed request body.
TEST_F(JwtAttackTest, KidOfAnotherTypeIsInvalidSignature) {
  for (const json& kid : {json(42), json::object({{"kid", "x"}}), json::array()}) {
    SCOPED_TRACE(kid.dump());
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return Resign(real, [&](json& h) { h["kid"] = h["x5t"] = kid; }, nullptr);
        },
        kInvalidSignature, kGraphBadSignature);
  }
}

// Verifies a token the issuer signed that names no client (appid and azp absent, or not strings)
// is refused by both (no application access policy could scope it), and that the caller's other
// claims of another type than a string count as absent: never a 500, never Graph's complaint
// about a request body.
TEST_F(JwtAttackTest, TokenNamingNoClientIsRefused) {
  for (const json& value : {json(42), json(nullptr)}) {
    SCOPED_TRACE(value.dump());
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return ResignClaims(real, [&](json& c) {
            for (const char* claim : {"appid", "azp", "idtyp", "oid", "upn"}) {
              if (value.is_null()) {
                c.erase(claim);
              } else {
                c[claim] = value;
              }
            }
          });
        },
        kMalformed, "Access token validation failure.");
  }
  const HttpReply graph = CallGraph(ResignClaims(graph_token_, [](json& c) {
    for (const char* claim : {"idtyp", "oid", "upn", "preferred_username"}) c[claim] = 42;
  }));
  EXPECT_EQ(graph.status, 200) << graph.body;
}

// Verifies jku and x5u headers are never followed: a token signed by the attacker's key, naming
// the attacker's key set (jku) or certificate (x5u) on a server the attacker runs, is refused,
// and that server never receives a request.
TEST_F(JwtAttackTest, JkuAndX5uAreNeverFetched) {
  const auto& attacker = aad::test::StrayCredential();
  const crypto::PublicKey attacker_public = attacker.key.Public();
  SeededRandom random(3);
  mock::HttpServer key_server(mock::ServerOptions{}, clock_, random);
  std::atomic<int> fetches{0};
  key_server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    ++fetches;
    if (req.path == "/cert.pem") {
      res.set_content(attacker.certificate.ToPem(), "application/x-pem-file");
      return;
    }
    const json jwk = {{"kty", "RSA"},
                      {"use", "sig"},
                      {"kid", attacker.X5t()},
                      {"n", Base64UrlEncode(attacker_public.RsaModulus())},
                      {"e", Base64UrlEncode(attacker_public.RsaExponent())}};
    res.set_content(json{{"keys", json::array({jwk})}}.dump(), "application/json");
  });
  ASSERT_TRUE(key_server.Start().has_value());
  const std::string jku = key_server.base_url() + "/keys";
  const std::string x5u = key_server.base_url() + "/cert.pem";

  // With the attacker's kid, and with the issuer's real kid (hoping the header's URL wins).
  for (const bool real_kid : {false, true}) {
    SCOPED_TRACE(real_kid ? "issuer's kid" : "attacker's kid");
    const auto kid_of = [&](const json& h) {
      return real_kid ? h.value("kid", "") : attacker.X5t();
    };
    for (const auto& header : {std::pair<const char*, std::string>{"jku", jku},
                               std::pair<const char*, std::string>{"x5u", x5u}}) {
      const char* name = header.first;
      const std::string& url = header.second;
      SCOPED_TRACE(name);
      ExpectRefusedByBoth(
          [&](const std::string& real) {
            return Retoken(
                real,
                [&](json& h) {
                  h["kid"] = h["x5t"] = kid_of(h);
                  h[name] = url;
                },
                {}, Rs256(attacker.key));
          },
          kInvalidSignature, kGraphBadSignature);
    }
  }
  EXPECT_EQ(fetches.load(), 0);
  key_server.Stop();
}

// ---- Lifetime ----

// Verifies a token whose exp lies an hour back (far beyond the five minutes of skew) is expired,
// even with a valid signature.
TEST_F(JwtAttackTest, ExpiredTokenIsTokenExpired) {
  const std::int64_t now = Now();
  ExpectRefusedByBoth(
      [&](const std::string& real) {
        return ResignClaims(real, [&](json& c) {
          c["iat"] = c["nbf"] = now - 7200;
          c["exp"] = now - 3600;
        });
      },
      kExpired, kGraphExpired);
}

// Verifies a token not valid before an hour from now is refused; Exchange reports every lifetime
// failure as its one lifetime error, "The token has expired." (ews.md §3.1).
TEST_F(JwtAttackTest, NotBeforeInTheFutureIsTokenExpired) {
  const std::int64_t now = Now();
  ExpectRefusedByBoth(
      [&](const std::string& real) {
        return ResignClaims(real, [&](json& c) {
          c["iat"] = c["nbf"] = now + 3600;
          c["exp"] = now + 7200;
        });
      },
      kExpired, kGraphNotYetValid);
}

// ---- Audience ----

// Verifies each service refuses the other's audience and a random GUID, naming the audience.
TEST_F(JwtAttackTest, AudienceOfAnotherResourceIsRefused) {
  const std::string guid = SecureRandom::Instance().Uuid();
  for (const std::string& aud : {std::string("https://graph.microsoft.com"),
                                std::string("00000003-0000-0000-c000-000000000000"), guid}) {
    SCOPED_TRACE(aud);
    const HttpReply ews = CallEws(ResignClaims(token_, [&](json& c) { c["aud"] = aud; }));
    EXPECT_EQ(ews.status, 401);
    EXPECT_EQ(ews.Header("x-ms-diagnostics"), InvalidAudience(aud));
    EXPECT_EQ(ews.Header("WWW-Authenticate"), kEwsChallenge);
  }
  for (const std::string& aud : {std::string("https://outlook.office365.com"),
                                std::string("00000002-0000-0ff1-ce00-000000000000"), guid}) {
    SCOPED_TRACE(aud);
    ExpectGraphError(CallGraph(ResignClaims(graph_token_, [&](json& c) { c["aud"] = aud; })), 401,
                     "InvalidAuthenticationToken", kGraphAudience);
  }
}

// Verifies the audiences Exchange Online does accept for EWS (ews.md §3.1: its resource URI, the
// older outlook.office.com and its application id) pass, so the refusals above are about the
// audience's value, not its presence.
TEST_F(JwtAttackTest, ExchangeAudiencesAreAccepted) {
  for (const std::string aud : {"https://outlook.office365.com", "https://outlook.office365.com/",
                                "https://outlook.office.com", "00000002-0000-0ff1-ce00-000000000000"}) {
    SCOPED_TRACE(aud);
    EXPECT_EQ(CallEws(ResignClaims(token_, [&](json& c) { c["aud"] = aud; })).status, 200);
  }
}

// ---- Issuer and tenant ----

// Verifies a token issued for another tenant (its iss and tid) is refused as an unknown tenant.
TEST_F(JwtAttackTest, IssuerOfAnotherTenantIsInvalidTenant) {
  ExpectRefusedByBoth(
      [this](const std::string& real) {
        return ResignClaims(real, [](json& c) {
          c["iss"] = c["idp"] = std::string("https://sts.windows.net/") + kOtherTenant + "/";
          c["tid"] = kOtherTenant;
        });
      },
      UnknownTenant(kOtherTenant), kGraphIssuer);
}

// Verifies an issuer that is not Entra ID's for a tenant (another authority, the v2.0 issuer EWS
// never gets, none at all) is an unknown issuer, named in the answer.
TEST_F(JwtAttackTest, IssuerOfAnotherAuthorityIsUnknownIssuer) {
  const std::string tenant = aad::test::kTenantId;
  for (const std::string& iss : {"https://sts.attacker.example/" + tenant + "/",
                                "https://sts.windows.net.attacker.example/" + tenant + "/",
                                "https://sts.windows.net/" + tenant + "/../" + kOtherTenant + "/"}) {
    SCOPED_TRACE(iss);
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          return ResignClaims(real, [&](json& c) { c["iss"] = iss; });
        },
        UnknownIssuer(iss), kGraphIssuer);
  }
  const std::string v2 = "https://login.microsoftonline.com/" + tenant + "/v2.0";
  const HttpReply ews = CallEws(ResignClaims(token_, [&](json& c) { c["iss"] = v2; }));
  EXPECT_EQ(ews.status, 401);
  EXPECT_EQ(ews.Header("x-ms-diagnostics"), UnknownIssuer(v2));
  ExpectRefusedByBoth(
      [this](const std::string& real) {
        return ResignClaims(real, [](json& c) { c.erase("iss"); });
      },
      Diagnostics(2000001, "The token is missing the issuer.", "invalid_token"), kGraphIssuer);
}

// Verifies a tid that disagrees with the issuer's tenant is refused: the issuer is not the one of
// the tenant the token claims to be for.
TEST_F(JwtAttackTest, TenantIdOfAnotherTenantIsUnknownIssuer) {
  const std::string iss = std::string("https://sts.windows.net/") + aad::test::kTenantId + "/";
  ExpectRefusedByBoth(
      [this](const std::string& real) {
        return ResignClaims(real, [](json& c) { c["tid"] = kOtherTenant; });
      },
      UnknownIssuer(iss), kGraphIssuer);
}

// ---- The signature ----

// Verifies a token whose signature was removed (empty third segment, or no third segment at all)
// is refused.
TEST_F(JwtAttackTest, StrippedSignatureIsRefused) {
  ExpectRefusedByBoth(
      [](const std::string& real) { return real.substr(0, real.rfind('.') + 1); },
      kInvalidSignature, kGraphBadSignature);
  ExpectRefusedByBoth([](const std::string& real) { return real.substr(0, real.rfind('.')); },
                      kMalformed, kGraphOneDot);
}

// Verifies flipping one bit of one signature byte, first and last, fails the signature check.
TEST_F(JwtAttackTest, CorruptedSignatureIsInvalidSignature) {
  for (const bool last : {false, true}) {
    SCOPED_TRACE(last ? "last byte" : "first byte");
    ExpectRefusedByBoth(
        [&](const std::string& real) {
          const auto dot = real.rfind('.');
          std::string signature = *Base64Decode(real.substr(dot + 1));
          char& byte = last ? signature.back() : signature.front();
          byte = static_cast<char>(byte ^ 0x01);
          return real.substr(0, dot + 1) + Base64UrlEncode(signature);
        },
        kInvalidSignature, kGraphBadSignature);
  }
}

// ---- Size ----

// Verifies an Authorization header longer than mock-ews reads (cpp-httplib's 8 KiB header line,
// where IIS has its MaxFieldLength) is a clean 400 before any token check, for a 1 MB token and
// one just past the limit, and that the server goes on serving.
TEST_F(JwtAttackTest, OversizedTokenIsBadRequest) {
  const std::size_t largest = kMaxHeaderLine - std::string("Authorization: Bearer \r\n").size();
  for (const std::size_t size : {largest + 4, std::size_t{1024 * 1024}}) {
    SCOPED_TRACE(size);
    const std::string ews_token = PaddedToken(token_, size);
    const std::string graph_token = PaddedToken(graph_token_, size);
    ASSERT_GT(ews_token.size(), largest);
    ASSERT_GT(graph_token.size(), largest);
    const HttpReply ews = CallEws(ews_token);
    EXPECT_EQ(ews.status, 400);
    EXPECT_FALSE(ews.HasHeader("x-ms-diagnostics"));
    EXPECT_EQ(CallGraph(graph_token).status, 400);
    EXPECT_EQ(CallEws(token_).status, 200);
    EXPECT_EQ(CallGraph(graph_token_).status, 200);
  }
}

// Verifies a validly signed token that just fits the header limit is judged on its merits
// (accepted), so the limit above is the header's and not the token checks'.
TEST_F(JwtAttackTest, TokenAtTheSizeLimitIsAccepted) {
  const std::size_t largest = kMaxHeaderLine - std::string("Authorization: Bearer \r\n").size();
  const std::string ews_token = PaddedToken(token_, largest);
  const std::string graph_token = PaddedToken(graph_token_, largest);
  ASSERT_LE(ews_token.size(), largest);
  ASSERT_GE(ews_token.size(), largest - 3);
  EXPECT_EQ(CallEws(ews_token).status, 200);
  EXPECT_EQ(CallGraph(graph_token).status, 200);
}

}  // namespace
}  // namespace exo::mock_ews::test
