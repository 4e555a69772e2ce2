// mock-ews's Autodiscover end to end (reference ews.md §4, docs/mock-ews.md "Autodiscover"): v2
// JSON without credentials, SOAP GetUserSettings as exchangelib 4.9 sends it, legacy POX, and the
// per-address redirects that model hybrid mailboxes.
#include <gtest/gtest.h>

#include "ews_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

constexpr const char* kChallenge =
    "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
    "trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", "
    "token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
    "authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"";
constexpr const char* kOnPremEws = "https://mail.contoso.com/EWS/Exchange.asmx";
constexpr const char* kGetUserSettingsAction =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";

// exchangelib 4.9's GetUserSettings (services/get_user_settings.py) for `address`, with the
// ExchangeImpersonation header it adds when its credentials carry an identity.
std::string GetUserSettings(const std::string& address,
                            const std::vector<std::string>& settings = {"UserDN", "MailboxDN",
                                                                        "UserDisplayName",
                                                                        "AutoDiscoverSMTPAddress",
                                                                        "ExternalEwsUrl",
                                                                        "EwsSupportedSchemas"},
                            const std::string& version = "Exchange2016",
                            const std::string& action = kGetUserSettingsAction) {
  std::string requested;
  for (const auto& s : settings) requested += "<a:Setting>" + s + "</a:Setting>";
  return "<?xml version='1.0' encoding='utf-8'?>\n"
         "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" "
         "xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" "
         "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><s:Header>"
         "<a:RequestedServerVersion>" +
         version + "</a:RequestedServerVersion><wsa:Action>" + action +
         "</wsa:Action><wsa:To>https://outlook.office365.com/autodiscover/autodiscover.svc"
         "</wsa:To><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>" +
         std::string(kMonitor) +
         "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>"
         "<s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" +
         address + "</a:Mailbox></a:User></a:Users><a:RequestedSettings>" + requested +
         "</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body>"
         "</s:Envelope>";
}

// exchangelib 4.9's POX request (autodiscover/properties.py Autodiscover.payload).
std::string PoxRequest(const std::string& address) {
  return "<?xml version='1.0' encoding='utf-8'?>\n"
         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
         "requestschema/2006\"><Request><EMailAddress>" +
         address +
         "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
         "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>"
         "</Autodiscover>";
}

// The value of UserSetting `name` in a GetUserSettings answer; empty if absent.
std::string Setting(const Soap& soap, const std::string& name) {
  return soap.doc
      .select_node(("//*[local-name()='UserSetting'][*[local-name()='Name']='" + name +
                    "']/*[local-name()='Value']")
                       .c_str())
      .node()
      .text()
      .as_string();
}

// The ErrorCode of the UserSettingError for `name`; empty if absent.
std::string SettingErrorCode(const Soap& soap, const std::string& name) {
  return soap.doc
      .select_node(("//*[local-name()='UserSettingError'][*[local-name()='SettingName']='" + name +
                    "']/*[local-name()='ErrorCode']")
                       .c_str())
      .node()
      .text()
      .as_string();
}

class AutodiscoverTest : public EwsTest {
 protected:
  HttpReply Get(const std::string& path) { return Send(*ews_client_, "GET", path); }

  HttpReply Post(const std::string& path, const std::string& body, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Send(*ews_client_, "POST", path, body, "text/xml; charset=utf-8", headers);
  }

  HttpReply Soap(const std::string& body, const std::string& token) {
    return Post("/autodiscover/autodiscover.svc", body, token);
  }

  HttpReply Control(const std::string& method, const std::string& smtp, const json& body = {}) {
    return Send(*ews_client_, method, "/_exo/autodiscover/" + smtp,
                body.is_null() ? std::string() : body.dump(), "application/json");
  }

  void MakeHybrid(const std::string& smtp) {
    AutodiscoverRedirect r;
    r.ews_url = kOnPremEws;
    ASSERT_TRUE(ews_->SetAutodiscoverRedirect(smtp, r).has_value());
  }
};

// ---- v2 JSON ----------------------------------------------------------------------------------

// Verifies v2 JSON answers a store mailbox with this server's EWS URL, without credentials.
TEST_F(AutodiscoverTest, JsonAnswersEwsUrlForMailbox) {
  const HttpReply r = Get("/autodiscover/autodiscover.json/v1.0/monitor@contoso.com?Protocol=EWS");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"Protocol":"EWS","Url":")" + ews_->ews_url() + R"("})");
}

// Verifies the path and the query name match in any case, and Protocol is echoed as sent.
TEST_F(AutodiscoverTest, JsonPathAndParameterAreCaseInsensitive) {
  const HttpReply r = Get("/AutoDiscover/AutoDiscover.json/v1.0/Monitor@Contoso.com?protocol=ews");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().value("Protocol", ""), "ews");
  EXPECT_EQ(r.Json().value("Url", ""), ews_->ews_url());
}

// Verifies the other documented protocols answer their own endpoints on this host.
TEST_F(AutodiscoverTest, JsonAnswersAutodiscoverV1AndActiveSync) {
  const HttpReply v1 =
      Get("/autodiscover/autodiscover.json/v1.0/monitor@contoso.com?Protocol=Autodiscoverv1");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(v1.body, R"({"Protocol":"Autodiscoverv1","Url":")" + ews_->base_url() +
                         R"(/autodiscover/autodiscover.xml"})");
  const HttpReply eas =
      Get("/autodiscover/autodiscover.json/v1.0/monitor@contoso.com?Protocol=ActiveSync");
  ASSERT_EQ(eas.status, 200) << eas.body;
  EXPECT_EQ(eas.Json().value("Url", ""), ews_->base_url() + "/Microsoft-Server-ActiveSync");
}

// Verifies an unknown protocol is 400 ProtocolNotSupported with EXO's message and jsonerror.
TEST_F(AutodiscoverTest, JsonUnknownProtocolIsProtocolNotSupported) {
  const HttpReply r = Get("/autodiscover/autodiscover.json/v1.0/monitor@contoso.com?Protocol=XYZ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("jsonerror"), "true");
  EXPECT_EQ(r.Json().value("ErrorCode", ""), "ProtocolNotSupported");
  EXPECT_EQ(r.Json().value("ErrorMessage", ""),
            "The given protocol value 'XYZ' is not supported. Supported values are "
            "'Rest,ActiveSync,Ews,AutodiscoverV1'");
}

// Verifies an unknown address is a 302 to the domain-based query form with RedirectCount=1.
// (The wire says Email=nobody%40contoso.com; cpp-httplib decodes Location as it reads it.)
TEST_F(AutodiscoverTest, JsonUnknownAddressRedirectsToQueryForm) {
  const HttpReply r = Get("/autodiscover/autodiscover.json/v1.0/nobody@contoso.com?Protocol=EWS");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("Location"), ews_->base_url() +
                                      "/autodiscover/autodiscover.json?Email=nobody@contoso.com"
                                      "&Protocol=EWS&RedirectCount=1");
  EXPECT_NE(r.body.find("Object moved"), std::string::npos);
}

// Verifies the query form answers a mailbox, and ends the chain for an unknown address with 404.
TEST_F(AutodiscoverTest, JsonQueryFormAnswersMailboxAndEndsUnknownChain) {
  const HttpReply known =
      Get("/autodiscover/autodiscover.json?Email=monitor%40contoso.com&Protocol=EWS");
  ASSERT_EQ(known.status, 200) << known.body;
  EXPECT_EQ(known.Json().value("Url", ""), ews_->ews_url());
  const HttpReply unknown = Get(
      "/autodiscover/autodiscover.json?Email=nobody%40contoso.com&Protocol=EWS&RedirectCount=1");
  EXPECT_EQ(unknown.status, 404);
}

// Verifies a hybrid (on-premises) mailbox answers the on-premises URLs.
TEST_F(AutodiscoverTest, JsonHybridMailboxAnswersOnPremisesUrl) {
  MakeHybrid("onprem@contoso.com");
  const HttpReply ews = Get("/autodiscover/autodiscover.json/v1.0/onprem@contoso.com?Protocol=EWS");
  ASSERT_EQ(ews.status, 200) << ews.body;
  EXPECT_EQ(ews.Json().value("Url", ""), kOnPremEws);
  const HttpReply eas =
      Get("/autodiscover/autodiscover.json/v1.0/onprem@contoso.com?Protocol=ActiveSync");
  EXPECT_EQ(eas.Json().value("Url", ""), "https://mail.contoso.com/Microsoft-Server-ActiveSync");
}

// Verifies a redirect URL sends v2 clients to that host's autodiscover with the next hop count.
TEST_F(AutodiscoverTest, JsonRedirectUrlSendsClientToOtherHost) {
  AutodiscoverRedirect r;
  r.redirect_url = "https://autodiscover.fabrikam.com/autodiscover/autodiscover.svc";
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect("moved@contoso.com", r).has_value());
  const HttpReply reply =
      Get("/autodiscover/autodiscover.json/v1.0/moved@contoso.com?Protocol=EWS&RedirectCount=2");
  EXPECT_EQ(reply.status, 302);
  EXPECT_EQ(reply.Header("Location"),
            "https://autodiscover.fabrikam.com/autodiscover/autodiscover.json?Email="
            "moved@contoso.com&Protocol=EWS&RedirectCount=3");
}

// ---- SOAP GetUserSettings -------------------------------------------------------------------

// Verifies SOAP autodiscover needs a token: 401, the bare challenge, an empty body.
TEST_F(AutodiscoverTest, SoapWithoutTokenIsBareChallenge) {
  const HttpReply r = Soap(GetUserSettings(kMonitor), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("WWW-Authenticate"), kChallenge);
}

// Verifies a token without full_access_as_app is refused as on EWS (403, empty body).
TEST_F(AutodiscoverTest, SoapTokenWithoutFullAccessIsForbidden) {
  const HttpReply r = Soap(GetUserSettings(kMonitor), Token(kReaderAppId, kReaderSecret));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "");
}

// Verifies exchangelib's six settings come back for a mailbox, in EXO's envelope.
TEST_F(AutodiscoverTest, SoapAnswersRequestedSettingsForMailbox) {
  const HttpReply r = Soap(GetUserSettings(kMonitor), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap soap(r.body);
  ASSERT_TRUE(soap.ok) << r.body;
  EXPECT_EQ(soap.Text("Action"), std::string(kGetUserSettingsAction) + "Response");
  EXPECT_EQ(soap.Text("Version"), "Exchange2015");
  EXPECT_EQ(soap.Find("Response").child("ErrorCode").text().as_string(), std::string("NoError"));
  EXPECT_EQ(soap.Find("UserResponse").child("ErrorCode").text().as_string(),
            std::string("NoError"));
  EXPECT_EQ(soap.Count("UserSettingError"), 0u) << r.body;
  EXPECT_EQ(soap.Count("UserSetting"), 6u);
  EXPECT_EQ(Setting(soap, "ExternalEwsUrl"), ews_->ews_url());
  EXPECT_EQ(Setting(soap, "AutoDiscoverSMTPAddress"), kMonitor);
  EXPECT_EQ(Setting(soap, "UserDisplayName"), "Monitor");
  EXPECT_TRUE(Setting(soap, "UserDN")
                  .starts_with("/o=ExchangeLabs/ou=Exchange Administrative "
                               "Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="));
  EXPECT_TRUE(Setting(soap, "MailboxDN").ends_with("@contoso.com/cn=Microsoft Private MDB"));
  EXPECT_TRUE(Setting(soap, "EwsSupportedSchemas").ends_with("Exchange2015, Exchange2016"));
}

// Verifies an address with no mailbox is a per-user InvalidUser, the request still NoError.
TEST_F(AutodiscoverTest, SoapUnknownAddressIsInvalidUser) {
  const HttpReply r = Soap(GetUserSettings("nobody@contoso.com"), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap soap(r.body);
  EXPECT_EQ(soap.Find("Response").child("ErrorCode").text().as_string(), std::string("NoError"));
  const pugi::xml_node user = soap.Find("UserResponse");
  EXPECT_EQ(user.child("ErrorCode").text().as_string(), std::string("InvalidUser"));
  EXPECT_EQ(user.child("ErrorMessage").text().as_string(),
            std::string("Invalid user 'nobody@contoso.com'."));
  EXPECT_EQ(soap.Count("UserSetting"), 0u);
}

// Verifies unknown setting names are InvalidSetting and unmodelled ones SettingIsNotAvailable,
// per setting, beside the settings that do have values.
TEST_F(AutodiscoverTest, SoapReportsSettingErrorsPerSetting) {
  const HttpReply r =
      Soap(GetUserSettings(kMonitor, {"ExternalEwsUrl", "NoSuchSetting", "PublicFolderServer"}),
           Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap soap(r.body);
  EXPECT_EQ(soap.Find("UserResponse").child("ErrorCode").text().as_string(),
            std::string("NoError"));
  EXPECT_EQ(Setting(soap, "ExternalEwsUrl"), ews_->ews_url());
  EXPECT_EQ(SettingErrorCode(soap, "NoSuchSetting"), "InvalidSetting");
  EXPECT_EQ(SettingErrorCode(soap, "PublicFolderServer"), "SettingIsNotAvailable");
  EXPECT_EQ(soap.doc
                .select_node("//*[local-name()='UserSettingError'][*[local-name()='SettingName']="
                             "'PublicFolderServer']/*[local-name()='ErrorMessage']")
                .node()
                .text()
                .as_string(),
            std::string("User setting 'PublicFolderServer' is not available. "));
}

// Verifies redirect addresses and URLs come back as RedirectAddress / RedirectUrl targets.
TEST_F(AutodiscoverTest, SoapAnswersRedirectAddressAndRedirectUrl) {
  AutodiscoverRedirect address;
  address.redirect_address = "user@contoso.mail.onmicrosoft.com";
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect("alias@contoso.com", address).has_value());
  AutodiscoverRedirect url;
  url.redirect_url = "https://autodiscover.fabrikam.com/autodiscover/autodiscover.svc";
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect("moved@contoso.com", url).has_value());

  mock_ews::test::Soap by_address(Soap(GetUserSettings("alias@contoso.com"), Token()).body);
  EXPECT_EQ(by_address.Find("UserResponse").child("ErrorCode").text().as_string(),
            std::string("RedirectAddress"));
  EXPECT_EQ(by_address.Text("RedirectTarget"), "user@contoso.mail.onmicrosoft.com");
  mock_ews::test::Soap by_url(Soap(GetUserSettings("moved@contoso.com"), Token()).body);
  EXPECT_EQ(by_url.Find("UserResponse").child("ErrorCode").text().as_string(),
            std::string("RedirectUrl"));
  EXPECT_EQ(by_url.Text("RedirectTarget"), url.redirect_url);
}

// Verifies a hybrid mailbox's settings carry the on-premises EWS URL and UserMSOnline False.
TEST_F(AutodiscoverTest, SoapHybridMailboxAnswersOnPremisesEwsUrl) {
  MakeHybrid("onprem@contoso.com");
  const HttpReply r =
      Soap(GetUserSettings("onprem@contoso.com", {"ExternalEwsUrl", "UserMSOnline", "MailboxDN"}),
           Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap soap(r.body);
  EXPECT_EQ(Setting(soap, "ExternalEwsUrl"), kOnPremEws);
  EXPECT_EQ(Setting(soap, "UserMSOnline"), "False");
  EXPECT_EQ(SettingErrorCode(soap, "MailboxDN"), "SettingIsNotAvailable");
}

// Verifies a RequestedServerVersion outside Autodiscover's enum is a request-level InvalidRequest.
TEST_F(AutodiscoverTest, SoapUnsupportedVersionIsInvalidRequest) {
  const HttpReply r = Soap(GetUserSettings(kMonitor, {"ExternalEwsUrl"}, "V2015_10_05"), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap soap(r.body);
  EXPECT_EQ(soap.Find("Response").child("ErrorCode").text().as_string(),
            std::string("InvalidRequest"));
  EXPECT_EQ(soap.Find("Response").child("ErrorMessage").text().as_string(),
            std::string("The RequestedServerVersion  header is missing or invalid."));
  EXPECT_EQ(soap.Count("UserResponse"), 0u);
}

// Verifies an Action the service does not implement is WCF's ContractFilter fault at HTTP 500.
TEST_F(AutodiscoverTest, SoapUnknownActionIsContractFilterFault) {
  const std::string action =
      "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetDomainSettings";
  const HttpReply r =
      Soap(GetUserSettings(kMonitor, {"ExternalEwsUrl"}, "Exchange2016", action), Token());
  EXPECT_EQ(r.status, 500);
  mock_ews::test::Soap soap(r.body);
  EXPECT_EQ(soap.Text("faultcode"), "a:ActionNotSupported");
  EXPECT_NE(soap.Text("faultstring").find("ContractFilter mismatch"), std::string::npos);
}

// ---- POX --------------------------------------------------------------------------------------

// Verifies POX autodiscover needs a token like SOAP.
TEST_F(AutodiscoverTest, PoxWithoutTokenIsBareChallenge) {
  const HttpReply r = Post("/Autodiscover/Autodiscover.xml", PoxRequest(kMonitor), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("WWW-Authenticate"), kChallenge);
}

// Verifies POX answers a mailbox with an EXPR protocol carrying the EWS URL.
TEST_F(AutodiscoverTest, PoxAnswersEwsUrlForMailbox) {
  const HttpReply r = Post("/Autodiscover/Autodiscover.xml", PoxRequest(kMonitor), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap pox(r.body);
  ASSERT_TRUE(pox.ok) << r.body;
  EXPECT_EQ(pox.Text("Action"), "settings");
  EXPECT_EQ(pox.Text("Type"), "EXPR");
  EXPECT_EQ(pox.Text("EwsUrl"), ews_->ews_url());
  EXPECT_EQ(pox.Text("AutoDiscoverSMTPAddress"), kMonitor);
}

// Verifies an unknown address is POX error 500 with the text exchangelib maps to
// ErrorNonExistentMailbox.
TEST_F(AutodiscoverTest, PoxUnknownAddressIsError500) {
  const HttpReply r =
      Post("/autodiscover/autodiscover.xml", PoxRequest("nobody@contoso.com"), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  mock_ews::test::Soap pox(r.body);
  EXPECT_EQ(pox.Text("ErrorCode"), "500");
  EXPECT_EQ(pox.Text("Message"), "The email address can't be found.");
}

// Verifies a redirect address is POX Action redirectAddr.
TEST_F(AutodiscoverTest, PoxAnswersRedirectAddr) {
  AutodiscoverRedirect r;
  r.redirect_address = "user@contoso.mail.onmicrosoft.com";
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect("alias@contoso.com", r).has_value());
  mock_ews::test::Soap pox(
      Post("/autodiscover/autodiscover.xml", PoxRequest("alias@contoso.com"), Token()).body);
  EXPECT_EQ(pox.Text("Action"), "redirectAddr");
  EXPECT_EQ(pox.Text("RedirectAddr"), r.redirect_address);
}

// ---- Control API ------------------------------------------------------------------------------

// Verifies PUT sets a redirect that v2 JSON follows, DELETE removes it, a second DELETE is 404.
TEST_F(AutodiscoverTest, ControlApiSetsAndRemovesRedirect) {
  const HttpReply put = Control("PUT", "onprem@contoso.com", {{"ewsUrl", kOnPremEws}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Json().value("ewsUrl", ""), kOnPremEws);
  const std::string path = "/autodiscover/autodiscover.json/v1.0/onprem@contoso.com?Protocol=EWS";
  EXPECT_EQ(Get(path).Json().value("Url", ""), kOnPremEws);

  EXPECT_EQ(Control("DELETE", "onprem@contoso.com").status, 204);
  EXPECT_EQ(Get(path).status, 302);
  const HttpReply again = Control("DELETE", "onprem@contoso.com");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.Json()["error"].value("code", ""), "NotFound");
}

// Verifies PUT refuses a redirect with no target and one whose URL is not http(s).
TEST_F(AutodiscoverTest, ControlApiRejectsInvalidRedirect) {
  const HttpReply empty = Control("PUT", "onprem@contoso.com", json::object());
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Json()["error"].value("code", ""), "EmptyAutodiscoverRedirect");
  const HttpReply ftp = Control("PUT", "onprem@contoso.com", {{"ewsUrl", "ftp://mail.contoso"}});
  EXPECT_EQ(ftp.status, 400);
  EXPECT_EQ(ftp.Json()["error"].value("code", ""), "InvalidUrl");
}

// Verifies the in-process API refuses an address without '@' and reports removals.
TEST_F(AutodiscoverTest, SetAutodiscoverRedirectValidatesAddress) {
  AutodiscoverRedirect r;
  r.ews_url = kOnPremEws;
  auto bad = ews_->SetAutodiscoverRedirect("not-an-address", r);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, "InvalidAddress");
  EXPECT_FALSE(ews_->ClearAutodiscoverRedirect("onprem@contoso.com"));
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect("onprem@contoso.com", r).has_value());
  EXPECT_TRUE(ews_->ClearAutodiscoverRedirect("ONPREM@contoso.com"));
  EXPECT_EQ(ews_->autodiscover_url(), ews_->base_url() + "/autodiscover/autodiscover.svc");
}

}  // namespace
}  // namespace exo::mock_ews::test
