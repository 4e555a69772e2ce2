// The token endpoints (token_service.cpp, sts_routes.cpp): client credentials with a secret or a
// certificate, the password grant, and every AADSTS error in the order Entra checks them.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class TokenEndpointTest : public AadTest {};

std::set<std::string> Keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// ---- Success ----

// Verifies a token for https://graph.microsoft.com/.default is a v1 token as Entra issues for
// Graph: aud https://graph.microsoft.com, issuer sts.windows.net, appid, ver 1.0, and the app's
// Graph roles (Mail.ReadWrite consented in the world) in roles.
TEST_F(TokenEndpointTest, IssuesV1TokenForMicrosoftGraph) {
  const HttpReply grant = Control(
      "POST", std::string("/tenants/") + kTenantId + "/applications/" + kDaemonAppId + "/grants",
      json{{"resource", "Microsoft Graph"}, {"appRole", "Mail.ReadWrite"}});
  ASSERT_LT(grant.status, 300) << grant.body;
  const HttpReply r =
      Token(SecretParams(kDaemonAppId, kDaemonSecret, "https://graph.microsoft.com/.default"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json& c = DecodeAccessToken(r).payload;
  EXPECT_EQ(c["aud"], "https://graph.microsoft.com");
  EXPECT_EQ(c["iss"], std::string("https://sts.windows.net/") + kTenantId + "/");
  EXPECT_EQ(c["appid"], kDaemonAppId);
  EXPECT_EQ(c["ver"], "1.0");
  EXPECT_FALSE(c.contains("azp"));
  EXPECT_EQ(c["roles"], json::array({"Mail.ReadWrite"}));
}

// Verifies a v2 client_credentials request with the secret in the body gets exactly Entra's
// four-field body and a v1 Exchange token with the documented header, claims and signature.
TEST_F(TokenEndpointTest, IssuesV2TokenForSecretInBody) {
  const std::int64_t now = NowUnix();
  const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store, no-cache");
  EXPECT_EQ(r.Header("Pragma"), "no-cache");
  // Date on the server's (simulated) clock, SimulatedClock::DefaultStart(): clients judge the
  // token's lifetime by it.
  EXPECT_EQ(clock_.Now(), SimulatedClock::DefaultStart());
  EXPECT_EQ(r.Header("Date"), "Mon, 02 Nov 2026 09:00:00 GMT");
  EXPECT_EQ(r.Header("x-ms-request-id").size(), 36u);
  EXPECT_EQ(r.Header("x-ms-request-id").substr(34), "00");

  const json body = r.Json();
  EXPECT_EQ(Keys(body),
            (std::set<std::string>{"token_type", "expires_in", "ext_expires_in", "access_token"}));
  // Entra's field order on the wire.
  EXPECT_EQ(r.body.substr(0, 72),
            R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_t)");
  EXPECT_EQ(body["token_type"], "Bearer");
  ASSERT_TRUE(body["expires_in"].is_number_integer());
  EXPECT_EQ(body["expires_in"], 3599);
  ASSERT_TRUE(body["ext_expires_in"].is_number_integer());
  EXPECT_EQ(body["ext_expires_in"], 3599);
  EXPECT_FALSE(body.contains("scope"));
  EXPECT_FALSE(body.contains("refresh_token"));

  const mock::Jwt jwt = DecodeAccessToken(r);
  EXPECT_EQ(jwt.header.value("typ", ""), "JWT");
  EXPECT_EQ(jwt.header.value("alg", ""), "RS256");
  const std::string kid = jwt.header.value("kid", "");
  EXPECT_FALSE(kid.empty());
  EXPECT_EQ(jwt.header.value("x5t", ""), kid);

  const json& c = jwt.payload;
  EXPECT_EQ(c["aud"], "https://outlook.office365.com");
  EXPECT_EQ(c["iss"], std::string("https://sts.windows.net/") + kTenantId + "/");
  EXPECT_EQ(c["idp"], c["iss"]);
  EXPECT_EQ(c["appid"], kDaemonAppId);
  EXPECT_EQ(c["appidacr"], "1");
  EXPECT_EQ(c["oid"], kDaemonSpId);
  EXPECT_EQ(c["sub"], kDaemonSpId);
  EXPECT_EQ(c["tid"], kTenantId);
  EXPECT_EQ(c["ver"], "1.0");
  EXPECT_EQ(c["idtyp"], "app");
  EXPECT_EQ(c["app_displayname"], kDaemonName);
  EXPECT_EQ(c["iat"], now - 300);
  EXPECT_EQ(c["nbf"], now - 300);
  EXPECT_EQ(c["exp"], now + 3600);
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
  EXPECT_TRUE(c.contains("uti"));

  auto key = JwksKey(kid);
  ASSERT_TRUE(key.has_value()) << "kid " << kid << " is not in the JWKS";
  EXPECT_TRUE(mock::VerifyJwtSignature(jwt, *key));
}

// Verifies client_secret_basic: id and secret form-encoded, then base64 in Authorization.
TEST_F(TokenEndpointTest, AcceptsSecretInHttpBasic) {
  const std::string basic =
      "Basic " + Base64Encode(UrlEncode(kDaemonAppId) + ":" + UrlEncode(kDaemonSecret));
  const HttpReply r = Token({{"scope", kExoScope}, {"grant_type", "client_credentials"}},
                            {{"Authorization", basic}});
  const json c = ExpectToken(r);
  EXPECT_EQ(c["appid"], kDaemonAppId);
  EXPECT_EQ(c["appidacr"], "1");
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
  EXPECT_EQ(Keys(r.Json()),
            (std::set<std::string>{"token_type", "expires_in", "ext_expires_in", "access_token"}));
}

// Verifies a token is issued without admin consent, and then carries no roles claim at all.
TEST_F(TokenEndpointTest, OmitsRolesWithoutConsent) {
  const json c = ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  EXPECT_EQ(c["appid"], kReporterAppId);
  EXPECT_FALSE(c.contains("roles")) << c.dump();
}

// Verifies the v1 endpoint takes `resource` and sends every number as a string, plus
// expires_on, not_before and resource.
TEST_F(TokenEndpointTest, V1EndpointSendsNumbersAsStrings) {
  const std::int64_t now = NowUnix();
  const HttpReply r = Token({{"grant_type", "client_credentials"},
                             {"client_id", kDaemonAppId},
                             {"client_secret", kDaemonSecret},
                             {"resource", kExoResource}},
                            {}, kTenantId, /*v2=*/false);
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = r.Json();
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], "3599");
  EXPECT_EQ(body["ext_expires_in"], "3599");
  EXPECT_EQ(body["expires_on"], std::to_string(now + 3600));
  EXPECT_EQ(body["not_before"], std::to_string(now - 300));
  EXPECT_EQ(body["resource"], kExoResource);
  EXPECT_FALSE(body.contains("scope"));
  const json c = DecodeAccessToken(r).payload;
  EXPECT_EQ(c["aud"], kExoResource);
  EXPECT_EQ(body["expires_on"], std::to_string(c["exp"].get<std::int64_t>()));
  EXPECT_EQ(body["not_before"], std::to_string(c["nbf"].get<std::int64_t>()));
}

// Verifies the v1 endpoint without `resource` is AADSTS900144 naming resource.
TEST_F(TokenEndpointTest, V1EndpointRequiresResource) {
  ExpectAadError(Token({{"grant_type", "client_credentials"},
                        {"client_id", kDaemonAppId},
                        {"client_secret", kDaemonSecret},
                        {"scope", kExoScope}},
                       {}, kTenantId, /*v2=*/false),
                 400, "invalid_request", 900144,
                 "The request body must contain the following parameter: 'resource'.");
}

// Verifies the resource is everything before the last slash of the scope, kept as requested in
// the v1 aud: the app id, or a URI with its trailing slash.
TEST_F(TokenEndpointTest, TakesAudienceFromScopeAsRequested) {
  const json by_id = ExpectToken(Token(
      SecretParams(kDaemonAppId, kDaemonSecret, std::string(kExchangeOnlineAppId) + "/.default")));
  EXPECT_EQ(by_id["aud"], kExchangeOnlineAppId);
  EXPECT_EQ(by_id["roles"], json::array({"full_access_as_app"}));
  const json slash = ExpectToken(
      Token(SecretParams(kDaemonAppId, kDaemonSecret, "https://outlook.office365.com//.default")));
  EXPECT_EQ(slash["aud"], "https://outlook.office365.com/");
  EXPECT_EQ(slash["roles"], json::array({"full_access_as_app"}));
}

// Verifies the tenant segment may be the GUID or any domain of the tenant, in any case, and the
// token always names the tenant by its lower-case GUID.
TEST_F(TokenEndpointTest, AcceptsTenantByGuidOrDomainInAnyCase) {
  std::string upper_guid = kTenantId;
  for (auto& ch : upper_guid) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& tenant :
       {std::string(kTenantId), upper_guid, std::string("contoso.onmicrosoft.com"),
        std::string("CONTOSO.com"), std::string("Contoso.OnMicrosoft.Com")}) {
    SCOPED_TRACE(tenant);
    const json c = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, tenant));
    EXPECT_EQ(c["tid"], kTenantId);
    EXPECT_EQ(c["iss"], std::string("https://sts.windows.net/") + kTenantId + "/");
  }
}

// ---- Tenant errors ----

// Verifies an unknown tenant, by domain or by GUID, is 400 invalid_request AADSTS90002.
TEST_F(TokenEndpointTest, RejectsUnknownTenant) {
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, "fabrikam.onmicrosoft.com"),
                 400, "invalid_request", 90002,
                 "Tenant 'fabrikam.onmicrosoft.com' not found. Check to make sure you have the "
                 "correct tenant ID and are signing into the correct cloud.");
  const std::string other = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, other), 400,
                 "invalid_request", 90002, "Tenant '" + other + "' not found.");
}

// Verifies client_credentials through /common or /organizations is AADSTS50059.
TEST_F(TokenEndpointTest, RejectsClientCredentialsOnMultiTenantSegments) {
  for (const char* tenant : {"common", "organizations"}) {
    SCOPED_TRACE(tenant);
    ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, tenant), 400,
                   "invalid_request", 50059,
                   "No tenant-identifying information found in either the request or implied by "
                   "any provided credentials.");
  }
}

// Verifies a tenant segment that is neither a GUID nor a DNS name is AADSTS900023.
TEST_F(TokenEndpointTest, RejectsMalformedTenant) {
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, "not_a_tenant"), 400,
                 "invalid_request", 900023,
                 "Specified tenant identifier 'not_a_tenant' is neither a valid DNS name, nor a "
                 "valid external domain.");
}

// Verifies the empty GUID as tenant is AADSTS90002 with its own text.
TEST_F(TokenEndpointTest, RejectsEmptyGuidTenant) {
  ExpectAadError(
      Token(SecretParams(kDaemonAppId, kDaemonSecret), {}, "00000000-0000-0000-0000-000000000000"),
      400, "invalid_request", 90002,
      "Requested tenant identifier '00000000-0000-0000-0000-000000000000' is not "
      "valid. Tenant identifiers may not be an empty GUID.");
}

// ---- Client errors ----

// Verifies an expired secret is 401 AADSTS7000222 from the instant it ends, while a token issued
// before keeps its exp and its valid signature.
TEST_F(TokenEndpointTest, RejectsExpiredSecretButEarlierTokenStaysValid) {
  const std::int64_t issued_at = NowUnix();
  const HttpReply first = Token(SecretParams(kExpiringAppId, kExpiringSecret));
  const json before = ExpectToken(first);
  EXPECT_EQ(before["exp"], issued_at + 3600);

  clock_.Advance(minutes(30) - seconds(1));
  ExpectToken(Token(SecretParams(kExpiringAppId, kExpiringSecret)));

  clock_.Advance(seconds(1));  // the secret's endDateTime
  ExpectAadError(Token(SecretParams(kExpiringAppId, kExpiringSecret)), 401, "invalid_client",
                 7000222,
                 std::string("The provided client secret keys for app '") + kExpiringAppId +
                     "' are expired. Visit the Azure portal to create new keys for your app: "
                     "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                     "for added security: https://aka.ms/certCreds.");

  // The token from before is self-contained: same exp, still in the future, still verifies.
  const mock::Jwt jwt = DecodeAccessToken(first);
  EXPECT_EQ(jwt.payload["exp"], issued_at + 3600);
  EXPECT_GT(jwt.payload["exp"].get<std::int64_t>(), NowUnix());
  auto key = JwksKey(jwt.header.value("kid", ""));
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(mock::VerifyJwtSignature(jwt, *key));
}

// Verifies a wrong secret is 401 AADSTS7000215 naming the app, and correlation_id echoes the
// client-request-id header.
TEST_F(TokenEndpointTest, RejectsWrongSecret) {
  const std::string corr = "5f0c2e1d-8b7a-4c6d-9e5f-1a2b3c4d5e6f";
  ExpectAadError(Token(SecretParams(kDaemonAppId, "Xy78Q~notTheSecretAtAll0123456789abcdefg"),
                       {{"client-request-id", corr}}),
                 401, "invalid_client", 7000215,
                 std::string("Invalid client secret provided. Ensure the secret being sent in the "
                             "request is the client secret value, not the client secret ID, for a "
                             "secret added to app '") +
                     kDaemonAppId + "'.",
                 corr);
}

// Verifies msal-node's client-request-id in the query string is echoed as the correlation id.
TEST_F(TokenEndpointTest, EchoesClientRequestIdFromQuery) {
  const std::string corr = "11111111-2222-4333-8444-555555555555";
  const HttpReply r = Send("POST", TokenPath() + "?client-request-id=" + corr,
                           EncodeParams(SecretParams(kDaemonAppId, "wrong")), kFormType);
  ExpectAadError(r, 401, "invalid_client", 7000215, "Invalid client secret provided.", corr);
}

// Verifies an app id not registered in the tenant is 400 unauthorized_client AADSTS700016.
TEST_F(TokenEndpointTest, RejectsUnknownApplication) {
  const std::string app = "7f8e9d0c-1b2a-4394-8576-a6b5c4d3e2f1";
  ExpectAadError(Token(SecretParams(app, kDaemonSecret)), 400, "unauthorized_client", 700016,
                 "Application with identifier '" + app +
                     "' was not found in the directory 'Contoso'. This can happen if the "
                     "application has not been installed by the administrator of the tenant or "
                     "consented to by any user in the tenant.");
}

// Verifies a disabled app is 400 unauthorized_client AADSTS7000112 with its display name.
TEST_F(TokenEndpointTest, RejectsDisabledApplication) {
  ExpectAadError(
      Token(SecretParams(kDisabledAppId, kDisabledSecret)), 400, "unauthorized_client", 7000112,
      std::string("Application '") + kDisabledAppId + "'(" + kDisabledName + ") is disabled.");
}

// Verifies neither secret nor assertion is 401 AADSTS7000216.
TEST_F(TokenEndpointTest, RejectsRequestWithoutCredential) {
  ExpectAadError(Token({{"client_id", kDaemonAppId},
                        {"scope", kExoScope},
                        {"grant_type", "client_credentials"}}),
                 401, "invalid_client", 7000216,
                 "'client_assertion', 'client_secret' or 'request' is required for the "
                 "'client_credentials' grant type.");
}

// Verifies a missing client_id is AADSTS900144 naming client_id.
TEST_F(TokenEndpointTest, RejectsMissingClientId) {
  ExpectAadError(Token({{"scope", kExoScope},
                        {"client_secret", kDaemonSecret},
                        {"grant_type", "client_credentials"}}),
                 400, "invalid_request", 900144,
                 "The request body must contain the following parameter: 'client_id'.");
}

// ---- Request shape errors ----

// Verifies a form without grant_type is AADSTS900144 naming grant_type.
TEST_F(TokenEndpointTest, RejectsMissingGrantType) {
  ExpectAadError(
      Token({{"client_id", kDaemonAppId}, {"scope", kExoScope}, {"client_secret", kDaemonSecret}}),
      400, "invalid_request", 900144,
      "The request body must contain the following parameter: 'grant_type'.");
}

// Verifies a JSON body is not parsed at all, so grant_type is reported missing.
TEST_F(TokenEndpointTest, RejectsJsonBodyAsMissingGrantType) {
  const json body = {{"grant_type", "client_credentials"},
                     {"client_id", kDaemonAppId},
                     {"client_secret", kDaemonSecret},
                     {"scope", kExoScope}};
  ExpectAadError(Send("POST", TokenPath(), body.dump(), "application/json"), 400, "invalid_request",
                 900144, "The request body must contain the following parameter: 'grant_type'.");
}

// Verifies a grant type Entra does not support here is AADSTS70003.
TEST_F(TokenEndpointTest, RejectsUnsupportedGrantType) {
  ExpectAadError(Token({{"client_id", kDaemonAppId}, {"grant_type", "magic_link"}}), 400,
                 "unsupported_grant_type", 70003,
                 "The app requested an unsupported grant type 'magic_link'.");
}

// Verifies a v2 request without scope is refused with the observed text (code 90014).
TEST_F(TokenEndpointTest, RejectsMissingScope) {
  ExpectAadError(Token({{"client_id", kDaemonAppId},
                        {"client_secret", kDaemonSecret},
                        {"grant_type", "client_credentials"}}),
                 400, "invalid_request", 90014,
                 "The required field 'scope' is missing from the credential.");
}

// Verifies client credentials with a scope other than <resource>/.default is AADSTS1002012.
TEST_F(TokenEndpointTest, RejectsScopeWithoutDefaultSuffix) {
  const std::string scope = "https://outlook.office365.com/EWS.AccessAsUser.All";
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret, scope)), 400, "invalid_scope",
                 1002012,
                 "The provided value for scope " + scope +
                     " is not valid. Client credential flows must have a scope value with "
                     "/.default suffixed to the resource identifier (application ID URI).");
}

// Verifies a scope that names no resource is AADSTS70011.
TEST_F(TokenEndpointTest, RejectsMalformedScope) {
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret, "full_access_as_app")), 400,
                 "invalid_scope", 70011,
                 "The provided request must include a 'scope' input parameter. The provided "
                 "value for the input parameter 'scope' is not valid. The scope "
                 "full_access_as_app is not valid.");
}

// Verifies scopes of two resources in one request are AADSTS700022.
TEST_F(TokenEndpointTest, RejectsScopesOfTwoResources) {
  ExpectAadError(
      Token(SecretParams(
          kDaemonAppId, kDaemonSecret,
          "https://outlook.office365.com/.default https://graph.microsoft.com/.default")),
      400, "invalid_scope", 700022,
      "The provided value for the input parameter scope is not valid because it contains more "
      "than one resource.");
}

// Verifies a well-formed scope for a resource nobody registered is AADSTS500011.
TEST_F(TokenEndpointTest, RejectsUnknownResource) {
  ExpectAadError(
      Token(SecretParams(kDaemonAppId, kDaemonSecret, "https://api.fabrikam.example/.default")),
      400, "invalid_resource", 500011,
      "The resource principal named https://api.fabrikam.example was not found in the tenant "
      "named Contoso.");
}

// Verifies the v1 `resource` parameter on the v2 endpoint is AADSTS901002.
TEST_F(TokenEndpointTest, RejectsResourceParameterOnV2) {
  Params params = SecretParams(kDaemonAppId, kDaemonSecret);
  params.emplace_back("resource", kExoResource);
  ExpectAadError(Token(params), 400, "invalid_request", 901002,
                 "The 'resource' request parameter is not supported.");
}

// Verifies GET on the token endpoint is AADSTS900561.
TEST_F(TokenEndpointTest, RejectsGetOnTokenEndpoint) {
  ExpectAadError(Get(TokenPath()), 400, "invalid_request", 900561,
                 "The endpoint only accepts POST, OPTIONS requests. Received a GET request.");
}

// Verifies a charset parameter on the form content type (as MSAL sends it) is accepted.
TEST_F(TokenEndpointTest, AcceptsFormContentTypeWithCharset) {
  for (const char* type :
       {"application/x-www-form-urlencoded;charset=UTF-8",
        "application/x-www-form-urlencoded; charset=utf-8", "Application/X-WWW-Form-Urlencoded"}) {
    SCOPED_TRACE(type);
    ExpectToken(
        Send("POST", TokenPath(), EncodeParams(SecretParams(kDaemonAppId, kDaemonSecret)), type));
  }
}

// Verifies the telemetry parameters msal-node and MSAL Python send, and OIDC scopes next to
// .default, are ignored.
TEST_F(TokenEndpointTest, IgnoresUnknownParameters) {
  Params params = SecretParams(kDaemonAppId, kDaemonSecret,
                               std::string(kExoScope) + " openid profile offline_access");
  for (const auto& extra : Params{{"x-client-SKU", "msal.js.node"},
                                  {"x-client-VER", "7.2.3"},
                                  {"x-client-OS", "linux"},
                                  {"x-client-CPU", "x64"},
                                  {"x-ms-lib-capability", "retry-after, h429"},
                                  {"x-client-current-telemetry", "5|771,2,,,|,"},
                                  {"x-client-last-telemetry", "5|0|||0,0"},
                                  {"client-request-id", "0b7e5a3c-2d41-4f6e-9a8b-7c6d5e4f3a01"},
                                  {"client_info", "1"},
                                  {"response_type", "token"}}) {
    params.push_back(extra);
  }
  const HttpReply r = Token(params, {{"x-client-SKU", "MSAL.Python"}, {"x-client-VER", "1.21.0"}});
  const json c = ExpectToken(r);
  EXPECT_EQ(c["aud"], kExoResource);
  EXPECT_EQ(Keys(r.Json()),
            (std::set<std::string>{"token_type", "expires_in", "ext_expires_in", "access_token"}));
}

// ---- Propagation ----

// Verifies a secret added while secretPropagationSeconds is 300 is refused as unknown (7000215)
// until 300 s have passed on the harness clock, while older secrets keep working.
TEST_F(TokenEndpointTest, RefusesNewSecretUntilPropagated) {
  ASSERT_EQ(Control("PATCH", "/settings", json{{"secretPropagationSeconds", 300}}).status, 200);
  const HttpReply added = Control(
      "POST",
      std::string("/tenants/") + kTenantId + "/applications/" + kReporterAppId + "/passwords",
      json{{"displayName", "rotated"}});
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string secret = added.Json().value("secretText", "");
  ASSERT_EQ(secret.size(), 40u);

  ExpectAadError(Token(SecretParams(kReporterAppId, secret)), 401, "invalid_client", 7000215,
                 "Invalid client secret provided.");
  ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  clock_.Advance(seconds(299));
  ExpectAadError(Token(SecretParams(kReporterAppId, secret)), 401, "invalid_client", 7000215,
                 "Invalid client secret provided.");
  clock_.Advance(seconds(1));
  const json c = ExpectToken(Token(SecretParams(kReporterAppId, secret)));
  EXPECT_EQ(c["appid"], kReporterAppId);
}

// Verifies admin consent granted while consentPropagationSeconds is 300 shows up in the roles
// claim only once 300 s have passed.
TEST_F(TokenEndpointTest, AddsRolesOnlyAfterConsentPropagates) {
  ASSERT_EQ(Control("PATCH", "/settings", json{{"consentPropagationSeconds", 300}}).status, 200);
  const HttpReply granted = Control(
      "POST", std::string("/tenants/") + kTenantId + "/applications/" + kReporterAppId + "/grants",
      json{{"resource", kExoResource}, {"appRole", "full_access_as_app"}});
  ASSERT_EQ(granted.status, 201) << granted.body;

  json c = ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  EXPECT_FALSE(c.contains("roles")) << c.dump();
  clock_.Advance(seconds(299));
  c = ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  EXPECT_FALSE(c.contains("roles")) << c.dump();
  clock_.Advance(seconds(1));
  c = ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
}

// ---- Certificates (private_key_jwt) ----

// Verifies msal-node's assertion (RS256, unpadded x5t, aud = this token endpoint) gets a token
// with appidacr "2".
TEST_F(TokenEndpointTest, AcceptsRs256AssertionWithX5t) {
  const json c = ExpectToken(Token(AssertionParams(DaemonAssertion(AssertionClaims()))));
  EXPECT_EQ(c["appid"], kDaemonAppId);
  EXPECT_EQ(c["appidacr"], "2");
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
}

// Verifies MSAL Python's assertion: x5t with '=' padding, no nbf, float iat and exp.
TEST_F(TokenEndpointTest, AcceptsPaddedX5tWithoutNbfAndFloatTimes) {
  const auto& cred = DaemonCredential();
  ojson claims = AssertionClaims();
  claims.erase("nbf");
  claims["iat"] = static_cast<double>(NowUnix()) + 0.193;
  claims["exp"] = static_cast<double>(NowUnix()) + 600.193;
  const std::string assertion =
      mock::SignJwt(AssertionHeader("RS256", "x5t", cred.X5tPadded()), claims, cred.key);
  ASSERT_NE(cred.X5tPadded(), cred.X5t());  // a SHA-1 thumbprint always needs padding
  const json c = ExpectToken(Token(AssertionParams(assertion)));
  EXPECT_EQ(c["appidacr"], "2");
}

// Verifies the 2025 documented form: PS256 with x5t#S256.
TEST_F(TokenEndpointTest, AcceptsPs256AssertionWithX5tS256) {
  const auto& cred = DaemonCredential();
  const std::string assertion = mock::SignJwt(AssertionHeader("PS256", "x5t#S256", cred.X5tS256()),
                                              AssertionClaims(), cred.key);
  const json c = ExpectToken(Token(AssertionParams(assertion)));
  EXPECT_EQ(c["appidacr"], "2");
}

// Verifies the audience may name the tenant by domain or be the v1 token endpoint.
TEST_F(TokenEndpointTest, AcceptsAudienceUnderAnyTenantAlias) {
  for (const std::string& aud : {aad_->base_url() + "/contoso.com/oauth2/v2.0/token",
                                 aad_->base_url() + "/" + kTenantId + "/oauth2/token"}) {
    SCOPED_TRACE(aud);
    ojson claims = AssertionClaims();
    claims["aud"] = aud;
    ExpectToken(Token(AssertionParams(DaemonAssertion(claims))));
  }
}

// Verifies a thumbprint no key credential of the app has is 700027 "not registered", with the
// thumbprint in upper-case hex.
TEST_F(TokenEndpointTest, RejectsAssertionWithUnregisteredThumbprint) {
  const auto& stray = StrayCredential();
  const std::string assertion =
      mock::SignJwt(AssertionHeader("RS256", "x5t", stray.X5t()), AssertionClaims(), stray.key);
  std::string hex = HexEncode(stray.certificate.Sha1Thumbprint());
  for (auto& ch : hex) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ExpectAadError(Token(AssertionParams(assertion)), 401, "invalid_client", 700027,
                 "The certificate with identifier used to sign the client assertion is not "
                 "registered on application. [Reason - The key was not found., Thumbprint of key "
                 "used by client: '" +
                     hex + "'");
}

// Verifies an assertion naming the registered certificate but signed by another key is 700027
// "failed signature validation".
TEST_F(TokenEndpointTest, RejectsAssertionWithBadSignature) {
  const std::string assertion =
      mock::SignJwt(AssertionHeader("RS256", "x5t", DaemonCredential().X5t()), AssertionClaims(),
                    StrayCredential().key);
  ExpectAadError(Token(AssertionParams(assertion)), 401, "invalid_client", 700027,
                 "Client assertion failed signature validation.");
}

// Verifies an assertion expired beyond the allowed skew is 700024 with the times in the text.
TEST_F(TokenEndpointTest, RejectsExpiredAssertion) {
  ojson claims = AssertionClaims();
  const std::int64_t now = NowUnix();
  claims["nbf"] = now - 900;
  claims["exp"] = now - 301;
  ExpectAadError(Token(AssertionParams(DaemonAssertion(claims))), 401, "invalid_client", 700024,
                 "Client assertion is not within its valid time range. Current time: " +
                     FormatIso8601Ticks(clock_.Now()) + ", assertion valid from " +
                     FormatIso8601Ticks(FromUnixSeconds(now - 900)) +
                     ", expiry time of assertion " +
                     FormatIso8601Ticks(FromUnixSeconds(now - 301)) + ".");
}

// Verifies an assertion that becomes valid only beyond the skew is 700024.
TEST_F(TokenEndpointTest, RejectsAssertionWithFutureNbf) {
  ojson claims = AssertionClaims();
  claims["nbf"] = NowUnix() + 301;
  claims["exp"] = NowUnix() + 900;
  ExpectAadError(Token(AssertionParams(DaemonAssertion(claims))), 401, "invalid_client", 700024,
                 "Client assertion is not within its valid time range.");
}

// Verifies an assertion addressed to another token endpoint is 700023.
TEST_F(TokenEndpointTest, RejectsAssertionWithWrongAudience) {
  ojson claims = AssertionClaims();
  claims["aud"] =
      "https://login.microsoftonline.com/0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token";
  ExpectAadError(Token(AssertionParams(DaemonAssertion(claims))), 401, "invalid_client", 700023,
                 "Client assertion audience claim does not match Realm issuer.");
}

// Verifies an assertion whose iss is not the client_id is 700021.
TEST_F(TokenEndpointTest, RejectsAssertionWithForeignIssuer) {
  ojson claims = AssertionClaims();
  claims["iss"] = kReporterAppId;
  ExpectAadError(Token(AssertionParams(DaemonAssertion(claims))), 401, "invalid_client", 700021,
                 "Client assertion application identifier doesn't match 'client_id' parameter.");
}

// Verifies a jti can be used once: the replay is refused as invalid_client.
TEST_F(TokenEndpointTest, RejectsReplayedAssertion) {
  const std::string assertion = DaemonAssertion(AssertionClaims());
  ExpectToken(Token(AssertionParams(assertion)));
  ExpectAadError(Token(AssertionParams(assertion)), 401, "invalid_client", 50013,
                 "Assertion failed signature validation. [Reason - The assertion was already "
                 "used");
}

// Verifies an unsigned (alg none) assertion naming a registered certificate is refused.
TEST_F(TokenEndpointTest, RejectsUnsignedAssertion) {
  const ojson header = {{"alg", "none"}, {"typ", "JWT"}, {"x5t", DaemonCredential().X5t()}};
  const std::string assertion =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(AssertionClaims().dump()) + ".";
  ExpectAadError(Token(AssertionParams(assertion)), 401, "invalid_client", 700027,
                 "Client assertion failed signature validation.");
}

// Verifies an assertion that is not a JWT is AADSTS50027.
TEST_F(TokenEndpointTest, RejectsGarbageAssertion) {
  ExpectAadError(Token(AssertionParams("this-is-not-a-jwt")), 400, "invalid_request", 50027,
                 "JWT token is invalid or malformed.");
}

// Verifies a certificate credential past its endDateTime no longer authenticates (700027).
TEST_F(TokenEndpointTest, RejectsAssertionAfterKeyCredentialEnds) {
  clock_.Advance(std::chrono::hours(24 * 366));
  ExpectAadError(Token(AssertionParams(DaemonAssertion(AssertionClaims()))), 401, "invalid_client",
                 700027,
                 "The certificate with identifier used to sign the client assertion is expired "
                 "on application.");
}

// ---- Password grant (Connect-ExchangeOnline -Credential) ----

class PasswordGrantTest : public AadTest {
 protected:
  void SetUp() override { StartServer(std::nullopt); }  // the default world

  Params PasswordParams(const std::string& user, const std::string& password) {
    return {{"client_id", kExchangePowerShellClientId},
            {"grant_type", "password"},
            {"username", user},
            {"password", password},
            {"scope", kExoScope}};
  }
};

// Verifies the default admin gets a delegated Exchange token through the Exchange PowerShell
// client, with upn, scp, idtyp user and the Global Administrator role template in wids.
TEST_F(PasswordGrantTest, IssuesUserTokenForDefaultAdmin) {
  const HarnessIdentity id = aad_->identity();
  ASSERT_FALSE(id.admin_upn.empty());
  ASSERT_FALSE(id.admin_password.empty());
  EXPECT_EQ(id.tenant_id, kTenantId);

  const HttpReply r = Token(PasswordParams(id.admin_upn, id.admin_password));
  const json c = ExpectToken(r);
  EXPECT_EQ(c["upn"], id.admin_upn);
  EXPECT_EQ(c["idtyp"], "user");
  EXPECT_EQ(c["aud"], kExoResource);
  EXPECT_EQ(c["appid"], kExchangePowerShellClientId);
  EXPECT_EQ(c["tid"], kTenantId);
  ASSERT_TRUE(c.contains("scp"));
  EXPECT_EQ(c["scp"], Directory::FindResource(kExoResource)->delegated_scopes);
  ASSERT_TRUE(c.contains("wids") && c["wids"].is_array());
  EXPECT_NE(
      std::find(c["wids"].begin(), c["wids"].end(), json("62e90394-69f5-4237-9190-012177145e10")),
      c["wids"].end())
      << c["wids"].dump();
  const json body = r.Json();
  EXPECT_TRUE(body.contains("refresh_token"));
  EXPECT_TRUE(body.contains("scope"));
}

// Verifies /organizations routes a work account by its UPN's domain.
TEST_F(PasswordGrantTest, RoutesOrganizationsByUpnDomain) {
  const HarnessIdentity id = aad_->identity();
  const json c =
      ExpectToken(Token(PasswordParams(id.admin_upn, id.admin_password), {}, "organizations"));
  EXPECT_EQ(c["tid"], kTenantId);
  EXPECT_EQ(c["upn"], id.admin_upn);
}

// Verifies a disabled user with the right password is AADSTS50057.
TEST_F(PasswordGrantTest, RejectsDisabledUser) {
  const json world = {{"tenants",
                       {{{"id", kTenantId},
                         {"users",
                          {{{"userPrincipalName", "gone@contoso.onmicrosoft.com"},
                            {"password", "Gone-Pa55"},
                            {"accountEnabled", false}}}}}}}};
  ASSERT_EQ(Control("POST", "/world", world).status, 200);
  ExpectAadError(Token(PasswordParams("gone@contoso.onmicrosoft.com", "Gone-Pa55")), 400,
                 "invalid_grant", 50057,
                 "The user account is disabled. The account has been disabled by an "
                 "administrator.");
}

// Verifies a wrong password is 400 invalid_grant AADSTS50126.
TEST_F(PasswordGrantTest, RejectsWrongPassword) {
  ExpectAadError(Token(PasswordParams(aad_->identity().admin_upn, "not-the-password")), 400,
                 "invalid_grant", 50126,
                 "Error validating credentials due to invalid username or password.");
}

// Verifies an unknown user is 400 invalid_grant AADSTS50034.
TEST_F(PasswordGrantTest, RejectsUnknownUser) {
  ExpectAadError(Token(PasswordParams("nobody@contoso.onmicrosoft.com", "whatever")), 400,
                 "invalid_grant", 50034,
                 "The user account {EUII Hidden} does not exist in the Contoso directory.");
}

// ---- Throttling ----

// Verifies throttleLimit 2 makes the third request in the window a JSON 429 with Retry-After,
// and the window reopens on the harness clock.
TEST_F(TokenEndpointTest, ThrottlesWithJsonBodyAndRetryAfter) {
  ASSERT_EQ(Control("PATCH", "/settings", json{{"throttleLimit", 2}}).status, 200);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  ExpectAadError(r, 429, "temporarily_unavailable", 90055,
                 "There are too many incoming requests. Retry after 60 seconds.");
  EXPECT_EQ(r.Header("Retry-After"), "60");
  clock_.Advance(seconds(60));
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies throttlePlainBody sends the observed plain-text 429 body, still with Retry-After.
TEST_F(TokenEndpointTest, ThrottlesWithPlainBody) {
  ASSERT_EQ(
      Control("PATCH", "/settings", json{{"throttleLimit", 2}, {"throttlePlainBody", true}}).status,
      200);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, "Too Many Requests");
  EXPECT_EQ(r.Header("Content-Type").substr(0, 10), "text/plain");
  EXPECT_EQ(r.Header("Retry-After"), "60");
  EXPECT_FALSE(r.Header("x-ms-request-id").empty());
}

// ---- Bad input ----

// Verifies a body over the size limit gets 413 and the server keeps serving.
TEST_F(TokenEndpointTest, RefusesOversizedBody) {
  const std::string huge = "grant_type=client_credentials&junk=" + std::string(5 << 20, 'a');
  const HttpReply r = Send("POST", TokenPath(), huge, kFormType);
  EXPECT_EQ(r.status, 413) << (r.transport_error ? httplib::to_string(*r.transport_error) : "");
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies broken percent-escapes and empty pairs in a form get an AADSTS answer, not a crash.
TEST_F(TokenEndpointTest, AnswersMalformedFormWithAadError) {
  const HttpReply r = Send("POST", TokenPath(),
                           "&&=&grant_type=client_credentials&client_id=%zz%&"
                           "scope=%E0%A4%A&client_secret&%",
                           kFormType);
  ExpectAadError(r, 400, "unauthorized_client", 700016, "Application with identifier '%zz%'");
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies random bytes as a form body are answered as a missing grant_type and the server
// keeps serving.
TEST_F(TokenEndpointTest, AnswersRandomBytesBody) {
  SeededRandom random(7);
  for (const char* type : {kFormType, "application/octet-stream"}) {
    SCOPED_TRACE(type);
    std::string bytes = random.Bytes(8192);
    std::replace(bytes.begin(), bytes.end(), '=', 'x');  // no key=value pair can form
    ExpectAadError(Send("POST", TokenPath(), bytes, type), 400, "invalid_request", 900144,
                   "The request body must contain the following parameter: 'grant_type'.");
  }
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

}  // namespace
}  // namespace exo::aad::test
