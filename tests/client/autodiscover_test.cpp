// Autodiscover (client/src/autodiscover.cpp) against in-process mock-ews servers over HTTPS: v2
// JSON, the SOAP fallback, redirects and loops, and the hybrid path to an on-premises Exchange
// Server whose tokens mock-aad issues for its own URL; plus the EWS transport's diagnosis when
// that server refuses an app-only token.
#include "exo/client/autodiscover.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "exchange_fixture.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;

class AutodiscoverTest : public ExchangeTest {
 protected:
  // Where discovery starts (the Exchange Online mock), which counts as Exchange Online.
  AutodiscoverOptions Options() const {
    AutodiscoverOptions o;
    o.base_url = ews_->base_url();
    o.exchange_online_hosts.push_back(ews_->base_url().substr(std::string("https://").size()));
    return o;
  }

  // Makes the Exchange Online mock answer every v2 JSON request with 404 (v2 not published).
  void BreakV2() {
    HttpRequest req;
    req.method = "POST";
    req.url = ews_->base_url() + "/_exo/faults";
    req.headers.emplace("Content-Type", "application/json");
    req.body = nlohmann::json{{"path", "autodiscover\\.json"}, {"status", 404}}.dump();
    auto res = http_->Send(req);
    ASSERT_TRUE(res.has_value()) << res.error().Describe();
    ASSERT_LT(res->status, 300) << res->body;
  }

  void Redirect(const std::string& from, const std::string& to_address) {
    mock_ews::AutodiscoverRedirect target;
    target.redirect_address = to_address;
    ASSERT_TRUE(ews_->SetAutodiscoverRedirect(from, target));
  }
};

// Verifies v2 JSON alone finds an Exchange Online mailbox: one unauthenticated GET, the EXO scope.
TEST_F(AutodiscoverTest, V2JsonFindsExchangeOnlineMailbox) {
  auto found = DiscoverEws(kMailbox, Options(), *http_, tokens_.get());
  ASSERT_TRUE(found.has_value()) << found.error().Describe();
  EXPECT_EQ(found->url, ews_->ews_url());
  EXPECT_TRUE(found->exchange_online);
  EXPECT_EQ(found->token_scope, "https://outlook.office365.com/.default");
  EXPECT_EQ(found->source, "v2 JSON");
  ASSERT_EQ(found->hops.size(), 1u);
  EXPECT_EQ(found->hops[0].request, "GET " + ews_->base_url() +
                                        "/autodiscover/autodiscover.json/v1.0/"
                                        "monitor%40contoso.com?Protocol=EWS");
  EXPECT_EQ(found->hops[0].answer, "200 Url=" + ews_->ews_url());
  EXPECT_EQ(tokens_->requests(), 0u);
}

// Verifies a failing v2 lookup falls back to SOAP GetUserSettings with an Exchange Online token.
TEST_F(AutodiscoverTest, FallsBackToSoapWhenV2Fails) {
  BreakV2();
  auto found = DiscoverEws(kMailbox, Options(), *http_, tokens_.get());
  ASSERT_TRUE(found.has_value()) << found.error().Describe();
  EXPECT_EQ(found->source, "SOAP GetUserSettings");
  EXPECT_EQ(found->url, ews_->ews_url());
  EXPECT_TRUE(found->exchange_online);
  ASSERT_EQ(found->hops.size(), 2u);
  EXPECT_EQ(found->hops[0].answer, "404");
  EXPECT_THAT(found->hops[1].request, HasSubstr("/autodiscover/autodiscover.svc GetUserSettings"));
  EXPECT_EQ(tokens_->requests(), 1u);
}

// Verifies RedirectAddress is followed in both protocols: v2's 302 to the query form and SOAP's
// RedirectAddress, ending at the target mailbox.
TEST_F(AutodiscoverTest, FollowsRedirectAddress) {
  Redirect("alias@contoso.com", kMailbox);
  auto v2 = DiscoverEws("alias@contoso.com", Options(), *http_, tokens_.get());
  ASSERT_TRUE(v2.has_value()) << v2.error().Describe();
  EXPECT_EQ(v2->url, ews_->ews_url());
  EXPECT_EQ(v2->mailbox, kMailbox);
  ASSERT_EQ(v2->hops.size(), 2u);
  EXPECT_THAT(v2->hops[0].answer, HasSubstr("302 -> "));
  EXPECT_THAT(v2->hops[0].answer, HasSubstr("/autodiscover/autodiscover.json?Email=monitor"));

  BreakV2();
  auto soap = DiscoverEws("alias@contoso.com", Options(), *http_, tokens_.get());
  ASSERT_TRUE(soap.has_value()) << soap.error().Describe();
  EXPECT_EQ(soap->source, "SOAP GetUserSettings");
  EXPECT_EQ(soap->mailbox, kMailbox);
  ASSERT_EQ(soap->hops.size(), 3u);
  EXPECT_EQ(soap->hops[1].answer, std::string("RedirectAddress ") + kMailbox);
}

// Verifies a redirect loop stops at the first repeated question in both protocols and fails with
// AutodiscoverRedirectLoop listing every hop and its answer.
TEST_F(AutodiscoverTest, RedirectLoopIsClearError) {
  Redirect("a@contoso.com", "b@contoso.com");
  Redirect("b@contoso.com", "a@contoso.com");
  auto found = DiscoverEws("a@contoso.com", Options(), *http_, tokens_.get());
  ASSERT_FALSE(found.has_value());
  const Error& e = found.error();
  EXPECT_EQ(e.code, "AutodiscoverRedirectLoop");
  EXPECT_EQ(e.category, ErrorCategory::kConfiguration);
  EXPECT_THAT(e.message, HasSubstr("1) GET "));
  EXPECT_THAT(e.message, HasSubstr("302 -> "));
  EXPECT_THAT(e.message, HasSubstr("RedirectAddress b@contoso.com"));
  EXPECT_THAT(e.message, HasSubstr("RedirectAddress a@contoso.com"));
  EXPECT_THAT(e.message, HasSubstr("a redirect loop"));
  EXPECT_THAT(e.remedy, HasSubstr("EmailIntegrationEwsUrl"));
}

// Verifies an address nobody knows fails with AutodiscoverFailed naming each answer.
TEST_F(AutodiscoverTest, UnknownAddressFails) {
  auto found = DiscoverEws("nobody@contoso.com", Options(), *http_, tokens_.get());
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, "AutodiscoverFailed");
  EXPECT_EQ(found.error().category, ErrorCategory::kNotFound);
  EXPECT_THAT(found.error().message, HasSubstr("-> 404"));
  EXPECT_THAT(found.error().message, HasSubstr("InvalidUser"));
}

// Verifies the hybrid path end to end: Exchange Online has no mailbox for the mail user,
// autodiscover points at the on-premises server, mock-aad issues a token for its URL (the SPN),
// the server accepts it, and the Inbox syncs through MakeEwsTransport.
TEST_F(AutodiscoverTest, HybridMailboxSyncsOnPremises) {
  StartOnPremises(/*app_only_oauth=*/true);
  auto cloud = MakeTransport(*tokens_, kHybridUser);
  auto missing = cloud->ResolveFolder("inbox", false);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "ErrorNonExistentMailbox");

  auto found = DiscoverEws(kHybridUser, Options(), *routed_, tokens_.get());
  ASSERT_TRUE(found.has_value()) << found.error().Describe();
  EXPECT_EQ(found->url, kOnPremEws);
  EXPECT_FALSE(found->exchange_online);
  EXPECT_EQ(found->token_scope, kOnPremScope);

  mock_ews::MessageDraft draft;
  draft.from.address = kSender;
  draft.to.push_back({"", kHybridUser});
  draft.subject = "Invoice 42";
  draft.body = "on-premises";
  ASSERT_TRUE(onprem_->store().DeliverToInbox(kHybridUser, onprem_->store().ComposeMime(draft)));

  EwsOptions o;
  o.url = found->url;
  o.mailbox = kHybridUser;
  o.scope = found->token_scope;
  auto transport = MakeEwsTransport(o, *tokens_, *routed_, clock_);
  EXPECT_FALSE(transport->Info().exchange_online);
  auto inbox = transport->ResolveFolder("inbox", false);
  ASSERT_TRUE(inbox.has_value()) << inbox.error().Describe();
  auto page = transport->SyncFolder(*inbox, "", 50);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->changes.size(), 1u);
  EXPECT_EQ(page->changes[0].message.subject, "Invoice 42");
}

// Verifies SOAP autodiscover follows Exchange Online's RedirectUrl to the on-premises
// autodiscover, asking it with a token for the on-premises audience.
TEST_F(AutodiscoverTest, SoapRedirectUrlReachesOnPremises) {
  StartOnPremises(/*app_only_oauth=*/true);
  mock_ews::AutodiscoverRedirect target;
  target.redirect_url = std::string(kOnPremOrigin) + "/autodiscover/autodiscover.svc";
  ASSERT_TRUE(ews_->SetAutodiscoverRedirect(kHybridUser, target));
  BreakV2();
  auto found = DiscoverEws(kHybridUser, Options(), *routed_, tokens_.get());
  ASSERT_TRUE(found.has_value()) << found.error().Describe();
  EXPECT_EQ(found->source, "SOAP GetUserSettings");
  EXPECT_EQ(found->url, kOnPremEws);
  EXPECT_FALSE(found->exchange_online);
  EXPECT_EQ(found->token_scope, kOnPremScope);
  ASSERT_EQ(found->hops.size(), 3u);
  EXPECT_EQ(found->hops[1].answer, "RedirectUrl " + target.redirect_url);
}

// Verifies an on-premises server without app-only OAuth configured gives the transport's clear
// diagnosis: kAuthorization naming the on-premises configuration, the SPN and the audience.
TEST_F(AutodiscoverTest, OnPremisesWithoutAppOnlyOAuthIsDiagnosed) {
  StartOnPremises(/*app_only_oauth=*/false);
  EwsOptions o;
  o.url = kOnPremEws;
  o.mailbox = kHybridUser;
  o.scope = kOnPremScope;
  auto transport = MakeEwsTransport(o, *tokens_, *routed_, clock_);
  auto inbox = transport->ResolveFolder("inbox", false);
  ASSERT_FALSE(inbox.has_value());
  const Error& e = inbox.error();
  EXPECT_EQ(e.category, ErrorCategory::kAuthorization);
  EXPECT_EQ(e.http_status, 403);
  EXPECT_THAT(e.message, HasSubstr("not enough scope"));
  EXPECT_THAT(e.message, HasSubstr(kOnPremEws));
  EXPECT_THAT(e.remedy, HasSubstr("app-only OAuth is not configured"));
  EXPECT_THAT(e.remedy, HasSubstr("V1S2SAppOnly"));
  EXPECT_THAT(e.remedy, HasSubstr("Office 365 Exchange Online"));
  EXPECT_THAT(e.remedy, HasSubstr(std::string(kOnPremOrigin) + " must be a servicePrincipalName"));
}

// Verifies a token for the Exchange Online audience sent on-premises is diagnosed as the wrong
// audience, naming the scope to request.
TEST_F(AutodiscoverTest, OnPremisesWrongAudienceIsDiagnosed) {
  StartOnPremises(/*app_only_oauth=*/true);
  EwsOptions o;
  o.url = kOnPremEws;
  o.mailbox = kHybridUser;
  // The mistake: the default scope, Exchange Online's. The server's 401 names the audience it
  // expects, and the remedy turns it into the scope to request and the SPN it needs.
  auto transport = MakeEwsTransport(o, *tokens_, *routed_, clock_);
  auto inbox = transport->ResolveFolder("inbox", false);
  ASSERT_FALSE(inbox.has_value());
  EXPECT_EQ(inbox.error().category, ErrorCategory::kAuthentication);
  EXPECT_EQ(inbox.error().http_status, 401);
  EXPECT_THAT(inbox.error().message, HasSubstr("2000003"));
  EXPECT_THAT(inbox.error().remedy, HasSubstr(std::string("request the scope ") + kOnPremScope));
  EXPECT_THAT(inbox.error().remedy,
              HasSubstr(std::string(kOnPremOrigin) + " must be a servicePrincipalName"));
}

// Verifies that without the SPN Entra refuses the on-premises audience (AADSTS500011) and the
// transport's remedy names the SPN to add.
TEST_F(AutodiscoverTest, OnPremisesWithoutSpnNamesTheSpn) {
  StartOnPremises(/*app_only_oauth=*/true, /*spn=*/false);
  EwsOptions o;
  o.url = kOnPremEws;
  o.mailbox = kHybridUser;
  o.scope = kOnPremScope;
  auto transport = MakeEwsTransport(o, *tokens_, *routed_, clock_);
  auto inbox = transport->ResolveFolder("inbox", false);
  ASSERT_FALSE(inbox.has_value());
  EXPECT_EQ(inbox.error().code, "AADSTS500011");
  EXPECT_EQ(inbox.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(inbox.error().remedy,
              HasSubstr(std::string(kOnPremOrigin) + " must be a servicePrincipalName"));
}

}  // namespace
}  // namespace exo::client::test
