// The client's integration fixture: mock-aad and mock-ews in-process over HTTPS on one
// SimulatedClock, the harness CA given to the client as its CA bundle, and a monitored mailbox.
// The client reaches them only through their wire protocols, as it would reach Microsoft's.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

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
    transport_.reset();
    tokens_.reset();
    http_.reset();
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
    mock_ews::MessageDraft draft;
    draft.from.address = kSender;
    draft.to.push_back({"", to});
    draft.subject = subject;
    draft.body = "Body of " + subject;
    auto item = ews_->store().DeliverToInbox(to, ews_->store().ComposeMime(draft));
    EXPECT_TRUE(item.has_value());
    return item ? item->fields.internet_message_id : std::string();
  }

  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  SimulatedClock clock_;
  SeededRandom random_{11};
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<mock_ews::MockEws> ews_;
  std::unique_ptr<HttpTransport> http_;
  std::unique_ptr<TokenProvider> tokens_;
  std::unique_ptr<MailboxTransport> transport_;
};

}  // namespace exo::client::test
