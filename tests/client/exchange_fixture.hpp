// The client's integration fixture: mock-aad and mock-ews in-process over HTTPS on one
// SimulatedClock, the harness CA given to the client as its CA bundle, and a monitored mailbox.
// The client reaches them only through their wire protocols, as it would reach Microsoft's.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "../common/temp_dir.hpp"
#include "../mock-aad/aad_fixture.hpp"
#include "exo/client/ews_transport.hpp"
#include "exo/client/http.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"

namespace exo::client::test {

inline constexpr const char* kMailbox = "monitor@contoso.com";
inline constexpr const char* kSender = "alice@contoso.com";
inline constexpr const char* kOnPremOrigin = "https://mail.contoso.com";
inline constexpr const char* kOnPremEws = "https://mail.contoso.com/EWS/Exchange.asmx";
inline constexpr const char* kOnPremScope = "https://mail.contoso.com/.default";
inline constexpr const char* kHybridUser = "onprem@contoso.com";  // a mail user in Exchange Online

// Sends requests for public origins ("https://mail.contoso.com") to in-process servers
// ("https://127.0.0.1:41234"), as DNS and a port forward would, so the client works with the URLs
// the services advertise. Other URLs pass unchanged.
class RoutedHttpTransport final : public HttpTransport {
 public:
  RoutedHttpTransport(HttpTransport& inner, std::map<std::string, std::string> routes)
      : inner_(inner), routes_(std::move(routes)) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    return inner_.Send(Route(request));
  }
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const ChunkReceiver& receiver,
                                     StreamCancel* cancel = nullptr) override {
    return inner_.SendStreaming(Route(request), receiver, cancel);
  }

 private:
  HttpRequest Route(HttpRequest request) const {
    for (const auto& [from, to] : routes_) {
      if (request.url.size() >= from.size() &&
          std::equal(from.begin(), from.end(), request.url.begin(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }) &&
          (request.url.size() == from.size() || request.url[from.size()] == '/')) {
        request.url = to + request.url.substr(from.size());
        break;
      }
    }
    return request;
  }

  HttpTransport& inner_;
  std::map<std::string, std::string> routes_;
};

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_dir_ = std::make_unique<exo::testing::TempDir>();
    aad::MockAadOptions aad_options;
    aad_options.ca_dir = ca_dir_->path();
    aad_options.world = aad::test::TestWorld();
    aad_options.threads = 4;
    auto aad = aad::MockAad::Start(aad_options, clock_, &clock_);
    ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
    aad_ = std::move(*aad);
    mock_ews::MockEwsOptions ews_options;
    ews_options.ca_dir = ca_dir_->path();
    ews_options.threads = 8;
    auto ews = mock_ews::MockEws::Start(ews_options, clock_, &clock_);
    ASSERT_TRUE(ews.has_value()) << ews.error().Describe();
    ews_ = std::move(*ews);
    ASSERT_TRUE(ews_->TrustTenant({aad::test::kTenantId, [this] { return aad_->Jwks(); }}));
    auto& store = ews_->store();
    ASSERT_TRUE(store.CreateOrganization(aad::test::kTenantId, "Contoso"));
    for (const char* smtp : {kMailbox, kSender}) {
      mock_ews::MailboxSpec spec;
      spec.organization_id = aad::test::kTenantId;
      spec.primary_smtp_address = smtp;
      ASSERT_TRUE(store.CreateMailbox(spec)) << smtp;
    }
    HttpOptions http;
    http.ca_bundle = aad_->ca_file();
    http_ = MakeHttpTransport(http);
    tokens_ = MakeTokens(aad::test::kDaemonAppId, aad::test::kDaemonSecret);
    transport_ = MakeTransport(*tokens_);
  }

  void TearDown() override {
    // Clients first: a server stopping while a kept-alive connection is open waits for it.
    routed_.reset();
    transport_.reset();
    tokens_.reset();
    http_.reset();
    onprem_.reset();
    ews_.reset();
    aad_.reset();
    ca_dir_.reset();
  }

  std::unique_ptr<TokenProvider> MakeTokens(const std::string& app, const std::string& secret) {
    ClientCredential c;
    c.tenant = aad::test::kTenantId;
    c.client_id = app;
    c.secret = [secret] { return Result<SecretString>(SecretString(secret)); };
    TokenProviderOptions o;
    o.authority_host = aad_->base_url();
    return std::make_unique<TokenProvider>(c, o, *http_, clock_, random_);
  }

  std::unique_ptr<MailboxTransport> MakeTransport(TokenProvider& tokens,
                                                  const std::string& mailbox = kMailbox) {
    EwsOptions o;
    o.url = ews_->ews_url();
    o.mailbox = mailbox;
    return MakeEwsTransport(o, tokens, *http_, clock_);
  }

  // Delivers a message from alice to the monitored Inbox; returns its Message-ID.
  std::string Deliver(const std::string& subject, const std::string& to = kMailbox) {
    return DeliverAt(*ews_, subject, to);
  }
  // The same on another server (the on-premises one).
  std::string DeliverAt(mock_ews::MockEws& server, const std::string& subject,
                        const std::string& to = kMailbox) {
    mock_ews::MessageDraft draft;
    draft.from.address = kSender;
    draft.to.push_back({"", to});
    draft.subject = subject;
    draft.body = "Body of " + subject;
    auto item = server.store().DeliverToInbox(to, server.store().ComposeMime(draft));
    EXPECT_TRUE(item.has_value());
    return item ? item->fields.internet_message_id : std::string();
  }

  // An Exchange Server at https://mail.contoso.com (reached through routed_) holding the hybrid
  // user's mailbox, trusting the tenant; Exchange Online knows the user as a mail user whose
  // autodiscover answer points there, and Entra has the URL as an Exchange SPN when `spn`.
  void StartOnPremises(bool app_only_oauth, bool spn = true) {
    mock_ews::MockEwsOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 4;
    options.seed = 2;  // its own ids: a GUID drawn here must not repeat one of Exchange Online's
    options.deployment = mock_ews::Deployment::kExchangeServer;
    options.on_premises.public_url = kOnPremOrigin;
    options.on_premises.app_only_oauth = app_only_oauth;
    auto started = mock_ews::MockEws::Start(options, clock_, &clock_);
    ASSERT_TRUE(started.has_value()) << started.error().Describe();
    onprem_ = std::move(*started);
    ASSERT_TRUE(onprem_->TrustTenant({aad::test::kTenantId, [this] { return aad_->Jwks(); }}));
    ASSERT_TRUE(onprem_->store().CreateOrganization(aad::test::kTenantId, "Contoso"));
    mock_ews::MailboxSpec spec;
    spec.organization_id = aad::test::kTenantId;
    spec.primary_smtp_address = kHybridUser;
    ASSERT_TRUE(onprem_->store().CreateMailbox(spec));
    if (spn) {
      ASSERT_TRUE(aad_->directory().SetExchangeServicePrincipalNames(aad::test::kTenantId,
                                                                     {kOnPremOrigin}));
    }
    mock_ews::AutodiscoverRedirect target;
    target.ews_url = kOnPremEws;
    ASSERT_TRUE(ews_->SetAutodiscoverRedirect(kHybridUser, target));
    routed_ = std::make_unique<RoutedHttpTransport>(
        *http_, std::map<std::string, std::string>{{kOnPremOrigin, onprem_->base_url()}});
  }

  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  SimulatedClock clock_;
  SeededRandom random_{11};
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<mock_ews::MockEws> ews_;
  std::unique_ptr<HttpTransport> http_;
  std::unique_ptr<TokenProvider> tokens_;
  std::unique_ptr<MailboxTransport> transport_;
  std::unique_ptr<mock_ews::MockEws> onprem_;
  std::unique_ptr<RoutedHttpTransport> routed_;
};

}  // namespace exo::client::test
