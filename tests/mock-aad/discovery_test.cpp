// Discovery and keys (sts_routes.cpp, signing_keys.cpp): the OIDC documents, the JWKS, instance
// discovery, and signing-key rotation with overlap.
#include <gtest/gtest.h>

#include <string>

#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

class DiscoveryTest : public AadTest {
 protected:
  // The path part of a URL this server handed out, after checking it points back here.
  std::string PathOf(const std::string& url) {
    const std::string origin = aad_->base_url();
    EXPECT_EQ(url.substr(0, origin.size()), origin) << url;
    return url.substr(origin.size());
  }

  std::vector<std::string> Kids() {
    std::vector<std::string> out;
    const json jwks = FetchJwks();
    for (const auto& k : jwks["keys"]) out.push_back(k.value("kid", ""));
    return out;
  }

  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  static void ExpectDiscoveryHeaders(const HttpReply& r) {
    EXPECT_EQ(r.Header("Cache-Control"), "max-age=86400, private");
    EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(r.Header("Content-Type"), "application/json; charset=utf-8");
    EXPECT_EQ(r.Header("x-ms-request-id").size(), 36u);
  }
};

// Verifies the v2 OIDC document, asked for by domain or by GUID, names the tenant by GUID in
// every endpoint, on this server's origin, with the v2 issuer.
TEST_F(DiscoveryTest, ServesV2OpenIdConfigurationByDomainAndGuid) {
  const std::string base = aad_->base_url() + "/" + kTenantId;
  for (const std::string& tenant : {std::string(kTenantId), std::string("contoso.com"),
                                    std::string("CONTOSO.onmicrosoft.com")}) {
    SCOPED_TRACE(tenant);
    const HttpReply r = Get("/" + tenant + "/v2.0/.well-known/openid-configuration");
    ASSERT_EQ(r.status, 200) << r.body;
    ExpectDiscoveryHeaders(r);
    const json doc = r.Json();
    EXPECT_EQ(doc["issuer"],
              std::string("https://login.microsoftonline.com/") + kTenantId + "/v2.0");
    EXPECT_EQ(doc["token_endpoint"], base + "/oauth2/v2.0/token");
    EXPECT_EQ(doc["authorization_endpoint"], base + "/oauth2/v2.0/authorize");
    EXPECT_EQ(doc["device_authorization_endpoint"], base + "/oauth2/v2.0/devicecode");
    EXPECT_EQ(doc["end_session_endpoint"], base + "/oauth2/v2.0/logout");
    EXPECT_EQ(doc["jwks_uri"], base + "/discovery/v2.0/keys");
    EXPECT_EQ(doc["token_endpoint_auth_methods_supported"],
              json::array({"client_secret_post", "private_key_jwt", "client_secret_basic"}));
    EXPECT_EQ(doc["id_token_signing_alg_values_supported"], json::array({"RS256"}));
    EXPECT_TRUE(doc["tenant_region_scope"].is_string());
  }
}

// Verifies the v1 OIDC document: sts.windows.net issuer, /oauth2/token, the common JWKS.
TEST_F(DiscoveryTest, ServesV1OpenIdConfiguration) {
  for (const std::string& tenant : {std::string(kTenantId), std::string("contoso.com")}) {
    SCOPED_TRACE(tenant);
    const HttpReply r = Get("/" + tenant + "/.well-known/openid-configuration");
    ASSERT_EQ(r.status, 200) << r.body;
    ExpectDiscoveryHeaders(r);
    const json doc = r.Json();
    EXPECT_EQ(doc["issuer"], std::string("https://sts.windows.net/") + kTenantId + "/");
    EXPECT_EQ(doc["token_endpoint"], aad_->base_url() + "/" + kTenantId + "/oauth2/token");
    EXPECT_EQ(doc["authorization_endpoint"],
              aad_->base_url() + "/" + kTenantId + "/oauth2/authorize");
    EXPECT_EQ(doc["jwks_uri"], aad_->base_url() + "/common/discovery/keys");
    EXPECT_EQ(doc["microsoft_multi_refresh_token"], true);
  }
}

// Verifies the common document keeps {tenantid} placeholders and a null region.
TEST_F(DiscoveryTest, CommonConfigurationUsesTenantPlaceholder) {
  const HttpReply r = Get("/common/v2.0/.well-known/openid-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  const json doc = r.Json();
  EXPECT_EQ(doc["issuer"], "https://login.microsoftonline.com/{tenantid}/v2.0");
  EXPECT_EQ(doc["token_endpoint"], aad_->base_url() + "/common/oauth2/v2.0/token");
  EXPECT_TRUE(doc["tenant_region_scope"].is_null());
}

// Verifies the endpoints the document advertises work when followed: the JWKS and the token
// endpoint (an assertion addressed to the advertised token endpoint is accepted).
TEST_F(DiscoveryTest, AdvertisedEndpointsWork) {
  const json doc = Get("/contoso.com/v2.0/.well-known/openid-configuration").Json();
  const HttpReply keys = Get(PathOf(doc.value("jwks_uri", "")));
  ASSERT_EQ(keys.status, 200) << keys.body;
  ASSERT_FALSE(keys.Json()["keys"].empty());
  EXPECT_EQ(keys.Json()["keys"][0]["issuer"],
            std::string("https://login.microsoftonline.com/") + kTenantId + "/v2.0");

  ojson claims = AssertionClaims();
  claims["aud"] = doc.value("token_endpoint", "");
  const HttpReply r = Send("POST", PathOf(doc.value("token_endpoint", "")),
                           EncodeParams(AssertionParams(DaemonAssertion(claims))), kFormType);
  ExpectToken(r);
}

// Verifies discovery for an unknown tenant is 400 invalid_tenant AADSTS90002, echoing the
// client-request-id MSAL sends.
TEST_F(DiscoveryTest, RejectsUnknownTenant) {
  const std::string corr = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
  for (const std::string& path :
       {std::string("/fabrikam.com/v2.0/.well-known/openid-configuration"),
        std::string("/fabrikam.com/.well-known/openid-configuration"),
        std::string("/fabrikam.com/discovery/v2.0/keys")}) {
    SCOPED_TRACE(path);
    ExpectAadError(Get(path, {{"client-request-id", corr}}), 400, "invalid_tenant", 90002,
                   "Tenant 'fabrikam.com' not found. Check to make sure you have the correct "
                   "tenant ID and are signing into the correct cloud.",
                   corr);
  }
}

// Verifies every JWKS key is an RSA signing key whose kid and x5t are the base64url SHA-1 of its
// certificate, and whose n and e are that certificate's public key.
TEST_F(DiscoveryTest, JwksKeysMatchTheirCertificates) {
  for (const std::string& path :
       {std::string("/common/discovery/keys"), std::string("/discovery/keys"),
        std::string("/") + kTenantId + "/discovery/v2.0/keys",
        std::string("/discovery/v2.0/keys")}) {
    SCOPED_TRACE(path);
    const HttpReply r = Get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    ExpectDiscoveryHeaders(r);
    const json keys = r.Json()["keys"];
    ASSERT_EQ(keys.size(), 2u);
    for (const auto& k : keys) {
      EXPECT_EQ(k["kty"], "RSA");
      EXPECT_EQ(k["use"], "sig");
      ASSERT_TRUE(k["x5c"].is_array() && !k["x5c"].empty());
      auto der = Base64Decode(k["x5c"][0].get<std::string>());
      ASSERT_TRUE(der.has_value());
      const std::string thumb = Base64UrlEncode(crypto::Sha1(*der));
      EXPECT_EQ(k["kid"], thumb);
      EXPECT_EQ(k["x5t"], thumb);
      auto cert = crypto::Certificate::FromDer(*der);
      ASSERT_TRUE(cert.has_value());
      EXPECT_EQ(Base64Decode(k.value("n", "")), cert->Public().RsaModulus());
      EXPECT_EQ(Base64Decode(k.value("e", "")), cert->Public().RsaExponent());
    }
  }
  EXPECT_EQ(FetchJwks("/common/discovery/keys")["keys"][0]["issuer"],
            "https://sts.windows.net/{tenantid}/");
  EXPECT_EQ(FetchJwks(std::string("/") + kTenantId + "/discovery/keys")["keys"][0]["issuer"],
            std::string("https://sts.windows.net/") + kTenantId + "/");
  EXPECT_EQ(FetchJwks("/common/discovery/keys"), json(aad_->Jwks()));
}

// Verifies instance discovery knows this server's host with and without the port (MSAL Python
// drops it) and points at this server's tenant discovery document.
TEST_F(DiscoveryTest, InstanceDiscoveryKnowsThisHost) {
  const std::string host_port = "127.0.0.1:" + std::to_string(aad_->port());
  for (const std::string& host : {host_port, std::string("127.0.0.1")}) {
    SCOPED_TRACE(host);
    const std::string auth = "https://" + host + "/" + kTenantId + "/oauth2/v2.0/authorize";
    const HttpReply r =
        Get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + UrlEncode(auth));
    ASSERT_EQ(r.status, 200) << r.body;
    const json body = r.Json();
    EXPECT_EQ(body["api-version"], "1.1");
    EXPECT_EQ(body["tenant_discovery_endpoint"],
              aad_->base_url() + "/" + kTenantId + "/v2.0/.well-known/openid-configuration");
    ASSERT_TRUE(body["metadata"].is_array() && !body["metadata"].empty());
    const json& ours = body["metadata"][0];
    EXPECT_EQ(ours["preferred_network"], host_port);
    EXPECT_EQ(ours["preferred_cache"], host_port);
    EXPECT_EQ(ours["aliases"], json::array({host_port, "127.0.0.1"}));
  }
}

// Verifies MSAL Python's api-version 1.0 is echoed.
TEST_F(DiscoveryTest, InstanceDiscoveryEchoesApiVersion) {
  const std::string auth = aad_->base_url() + "/" + kTenantId + "/oauth2/v2.0/authorize";
  const HttpReply r =
      Get("/common/discovery/instance?api-version=1.0&authorization_endpoint=" + UrlEncode(auth));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["api-version"], "1.0");
}

// Verifies instance discovery for a host that is neither this server nor a Microsoft cloud is
// 400 invalid_instance AADSTS50049.
TEST_F(DiscoveryTest, InstanceDiscoveryRejectsUnknownHost) {
  const std::string corr = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
  for (const std::string& auth :
       {std::string("https://login.fabrikam.example/") + kTenantId + "/oauth2/v2.0/authorize",
        std::string("not a url")}) {
    SCOPED_TRACE(auth);
    ExpectAadError(
        Get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + UrlEncode(auth),
            {{"client-request-id", corr}}),
        400, "invalid_instance", 50049, "Unknown or invalid instance.", corr);
  }
}

// Verifies rotation: the new key signs new tokens, the old key stays published so tokens it
// signed still verify, and retiring it removes it from the JWKS; the signer cannot be retired.
TEST_F(DiscoveryTest, RotatesAndRetiresSigningKeys) {
  const HttpReply before = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  const mock::Jwt old_token = DecodeAccessToken(before);
  const std::string old_kid = old_token.header.value("kid", "");
  ASSERT_TRUE(Contains(Kids(), old_kid));

  const HttpReply rotated = Control("POST", "/keys/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_kid = rotated.Json().value("signer", "");
  ASSERT_FALSE(new_kid.empty());
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(Kids().size(), 3u);
  EXPECT_TRUE(Contains(Kids(), new_kid));
  EXPECT_TRUE(Contains(Kids(), old_kid));

  const mock::Jwt new_token = DecodeAccessToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(new_token.header.value("kid", ""), new_kid);
  EXPECT_EQ(new_token.header.value("x5t", ""), new_kid);
  auto new_key = JwksKey(new_kid);
  ASSERT_TRUE(new_key.has_value());
  EXPECT_TRUE(mock::VerifyJwtSignature(new_token, *new_key));
  auto old_key = JwksKey(old_kid);
  ASSERT_TRUE(old_key.has_value());
  EXPECT_TRUE(mock::VerifyJwtSignature(old_token, *old_key));

  const HttpReply signer_retired = Control("DELETE", "/keys/" + new_kid);
  EXPECT_EQ(signer_retired.status, 409) << signer_retired.body;
  EXPECT_EQ(signer_retired.Json()["error"]["code"], "CannotRetire");

  const HttpReply retired = Control("DELETE", "/keys/" + old_kid);
  ASSERT_EQ(retired.status, 200) << retired.body;
  EXPECT_FALSE(Contains(Kids(), old_kid));
  EXPECT_TRUE(Contains(Kids(), new_kid));
  EXPECT_FALSE(JwksKey(old_kid).has_value());
}

// Verifies the in-process rotation API agrees with the control API's view.
TEST_F(DiscoveryTest, InProcessRotationPublishesKey) {
  auto kid = aad_->RotateSigningKey();
  ASSERT_TRUE(kid.has_value());
  EXPECT_TRUE(Contains(Kids(), *kid));
  const json state = Control("GET", "/state").Json();
  EXPECT_EQ(state["signer"], *kid);
  const mock::Jwt token = DecodeAccessToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(token.header.value("kid", ""), *kid);
  EXPECT_FALSE(aad_->RetireSigningKey(*kid));  // the signer
}

}  // namespace
}  // namespace exo::aad::test
