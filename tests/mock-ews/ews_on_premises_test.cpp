// mock-ews as an on-premises Exchange Server of a hybrid organization (Deployment::kExchangeServer,
// reference ews.md §4.3): tokens for its own URL from mock-aad (an SPN of the tenant's Exchange
// Online service principal), the hybrid challenge, and the 401/403 answers Exchange Server gives.
#include <gtest/gtest.h>

#include "ews_fixture.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::mock_ews::test {
namespace {

constexpr const char* kOnPremUrl = "https://mail.contoso.com";
constexpr const char* kOnPremScope = "https://mail.contoso.com/.default";

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

// The challenge of an on-premises server whose auth server is the tenant's Entra ID.
std::string OnPremChallenge() {
  return std::string(
             "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
             "trusted_issuers=\"00000001-0000-0000-c000-000000000000@") +
         kTenantId +
         "\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
         "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"";
}

class OnPremisesTest : public EwsTest {
 protected:
  void SetUp() override {
    EwsTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(aad_->directory().SetExchangeServicePrincipalNames(kTenantId, {kOnPremUrl}));
  }

  void TearDown() override {
    onprem_client_.reset();
    onprem_.reset();
    EwsTest::TearDown();
  }

  // Starts the on-premises server with the monitored mailbox, trusting the test tenant.
  void StartOnPremises(bool app_only_oauth) {
    MockEwsOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 4;
    options.deployment = Deployment::kExchangeServer;
    options.on_premises.public_url = std::string(kOnPremUrl) + "/";
    options.on_premises.app_only_oauth = app_only_oauth;
    auto started = MockEws::Start(options, clock_, &clock_);
    ASSERT_TRUE(started.has_value()) << started.error().Describe();
    onprem_ = std::move(*started);
    ASSERT_TRUE(onprem_->TrustTenant({kTenantId, [this] { return aad_->Jwks(); }}));
    ASSERT_TRUE(onprem_->store().CreateOrganization(kTenantId, "Contoso"));
    MailboxSpec spec;
    spec.organization_id = kTenantId;
    spec.primary_smtp_address = kMonitor;
    ASSERT_TRUE(onprem_->store().CreateMailbox(spec));
    onprem_client_ = MakeClient(onprem_->port());
  }

  HttpReply OnPrem(const std::string& token, const std::string& path = "/EWS/Exchange.asmx") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Send(*onprem_client_, "POST", path, Envelope(kGetInbox), "text/xml; charset=utf-8",
                headers);
  }

  std::unique_ptr<MockEws> onprem_;
  std::unique_ptr<httplib::SSLClient> onprem_client_;
};

// Verifies a token whose aud is the server's public URL (trailing slash of the option dropped) is
// accepted when app-only OAuth is configured, and autodiscover advertises the public URL.
TEST_F(OnPremisesTest, AcceptsTokenForItsOwnAudience) {
  StartOnPremises(/*app_only_oauth=*/true);
  EXPECT_EQ(onprem_->public_url(), kOnPremUrl);
  const std::string token = Token(aad::test::kDaemonAppId, aad::test::kDaemonSecret, kOnPremScope);
  ASSERT_EQ(mock::ParseJwt(token)->payload.value("aud", ""), kOnPremUrl);
  const HttpReply r = OnPrem(token);
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(soap.Find("GetFolderResponseMessage").attribute("ResponseClass").as_string(),
            std::string("Success"));
  const HttpReply ad = Send(*onprem_client_, "GET",
                            "/autodiscover/autodiscover.json/v1.0/monitor@contoso.com?Protocol=EWS");
  ASSERT_EQ(ad.status, 200) << ad.body;
  EXPECT_EQ(ad.Json().value("Url", ""), std::string(kOnPremUrl) + "/EWS/Exchange.asmx");
}

// Verifies an Exchange Online token (aud outlook.office365.com) is 401 2000003 with the on-premises
// hostname text, the hybrid challenge naming the tenant, and an empty body.
TEST_F(OnPremisesTest, RefusesExchangeOnlineAudience) {
  StartOnPremises(/*app_only_oauth=*/true);
  const HttpReply r = OnPrem(token_);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("Content-Length"), "0");
  EXPECT_EQ(r.Header("x-ms-diagnostics"),
            "2000003;reason=\"The hostname component of the audience claim value is invalid. "
            "Expected 'https://mail.contoso.com'. Actual 'https://outlook.office365.com'.\";"
            "error_category=\"invalid_resource\"");
  EXPECT_EQ(r.Header("WWW-Authenticate"), OnPremChallenge() + ", error=\"invalid_token\"");
}

// Verifies a request without a bearer token gets the bare hybrid challenge.
TEST_F(OnPremisesTest, MissingBearerIsHybridChallenge) {
  StartOnPremises(/*app_only_oauth=*/true);
  const HttpReply r = OnPrem("");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), OnPremChallenge());
}

// Verifies that without app-only OAuth configured a valid full_access_as_app token for the right
// audience is 403 "not enough scope" with an empty body and no challenge (php-ews#222).
TEST_F(OnPremisesTest, AppOnlyNotConfiguredIs403NotEnoughScope) {
  StartOnPremises(/*app_only_oauth=*/false);
  const HttpReply r =
      OnPrem(Token(aad::test::kDaemonAppId, aad::test::kDaemonSecret, kOnPremScope));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("x-ms-diagnostics"),
            "2000008;reason=\"The token contains not enough scope to make this call.\";"
            "error_category=\"invalid_grant\"");
  EXPECT_EQ(r.Header("WWW-Authenticate"), "");
  // Autodiscover SOAP sits behind the same check.
  EXPECT_EQ(OnPrem(Token(aad::test::kDaemonAppId, aad::test::kDaemonSecret, kOnPremScope),
                   "/autodiscover/autodiscover.svc")
                .status,
            403);
}

// Verifies the TLS certificate names the public host, so a client resolving mail.contoso.com to
// the listener verifies it.
TEST_F(OnPremisesTest, CertificateCarriesPublicHostName) {
  StartOnPremises(/*app_only_oauth=*/true);
  httplib::SSLClient client("mail.contoso.com", onprem_->port());
  client.set_hostname_addr_map({{"mail.contoso.com", "127.0.0.1"}});
  client.set_ca_cert_path(onprem_->ca_file().string());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(10);
  client.set_read_timeout(10);
  auto res = client.Get("/EWS/Exchange.asmx");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401);
}

// Verifies an on-premises server without a usable public URL does not start.
TEST_F(OnPremisesTest, StartNeedsPublicOrigin) {
  for (const char* bad : {"", "mail.contoso.com", "https://mail.contoso.com/EWS/Exchange.asmx"}) {
    MockEwsOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 1;
    options.deployment = Deployment::kExchangeServer;
    options.on_premises.public_url = bad;
    auto started = MockEws::Start(options, clock_, &clock_);
    ASSERT_FALSE(started.has_value()) << bad;
    EXPECT_EQ(started.error().code, "InvalidPublicUrl");
    EXPECT_EQ(started.error().category, ErrorCategory::kConfiguration);
  }
}

}  // namespace
}  // namespace exo::mock_ews::test
