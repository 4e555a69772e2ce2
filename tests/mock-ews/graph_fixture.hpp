// The Microsoft Graph test fixture: the EWS fixture's mock-aad and mock-ews (one SimulatedClock,
// one CA, the tenant trusted in-process, monitor@contoso.com), with Graph consent for three apps as
// an admin would grant it in Entra: the daemon app Mail.ReadWrite and Mail.Send, the reader app
// Mail.Read, the reporter app nothing. Requests go to /v1.0 on mock-ews as a Graph SDK sends
// them, with tokens from mock-aad's token endpoint for https://graph.microsoft.com/.default.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ews_fixture.hpp"

namespace exo::mock_ews::test {

inline constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";
inline constexpr const char* kAlice = "alice@contoso.com";
inline constexpr const char* kJsonType = "application/json";

class GraphTest : public EwsTest {
 protected:
  void SetUp() override {
    EwsTest::SetUp();
    if (HasFatalFailure()) return;
    Grant(aad::test::kDaemonAppId, "Mail.ReadWrite");
    Grant(aad::test::kDaemonAppId, "Mail.Send");
    Grant(kReaderAppId, "Mail.Read");
    graph_token_ = GraphToken();
    ASSERT_FALSE(graph_token_.empty());
  }

  // Admin consent to a Microsoft Graph application permission, through mock-aad's control API.
  void Grant(const std::string& app_id, const std::string& role) {
    const HttpReply r =
        Send(*aad_client_, "POST",
             std::string("/_exo/tenants/") + aad::test::kTenantId + "/applications/" + app_id +
                 "/grants",
             json{{"resource", "Microsoft Graph"}, {"appRole", role}}.dump(), kJsonType);
    ASSERT_LT(r.status, 300) << r.body;
  }

  std::string GraphToken(const std::string& client_id = aad::test::kDaemonAppId,
                         const std::string& secret = aad::test::kDaemonSecret) {
    return Token(client_id, secret, kGraphScope);
  }

  // One Graph request on mock-ews with `token` (empty: no Authorization header).
  HttpReply Graph(const std::string& method, const std::string& path, const json& body = nullptr,
                  httplib::Headers headers = {}, std::optional<std::string> token = std::nullopt) {
    const std::string t = token.value_or(graph_token_);
    if (!t.empty()) headers.emplace("Authorization", "Bearer " + t);
    return Send(*ews_client_, method, path, body.is_null() ? std::string() : body.dump(),
                body.is_null() ? std::string() : kJsonType, headers);
  }

  // "/v1.0/users/monitor@contoso.com" + `rest`.
  static std::string Me(const std::string& rest) {
    return std::string("/v1.0/users/") + kMonitor + rest;
  }

  // Delivers a message from `from` to `to`'s Inbox and returns its Graph id.
  std::string DeliverFrom(const std::string& from, const std::string& subject,
                          const std::string& to = kMonitor) {
    const HttpReply r = Control(std::string("/_exo/mailboxes/") + to + "/deliver",
                                {{"from", from}, {"to", to}, {"subject", subject}, {"body", "Hi"}});
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id = r.Json().value("id", "");
    for (char& c : id) {
      if (c == '+') c = '_';
      if (c == '/') c = '-';
    }
    return id;
  }

  void CreateAlice() {
    MailboxSpec spec;
    spec.organization_id = aad::test::kTenantId;
    spec.primary_smtp_address = kAlice;
    spec.display_name = "Alice";
    ASSERT_TRUE(ews_->store().CreateMailbox(spec).has_value());
  }

  // Asserts Graph's error shape: status, code, message, innerError with date and request ids.
  static void ExpectGraphError(const HttpReply& r, int status, const std::string& code,
                               const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
    if (!message.empty()) {
      EXPECT_EQ(j["error"].value("message", ""), message) << r.body;
    }
    const json inner = j["error"].value("innerError", json::object());
    EXPECT_EQ(inner.value("request-id", ""), r.Header("request-id"));
    EXPECT_EQ(inner.value("client-request-id", ""), r.Header("client-request-id"));
    EXPECT_EQ(inner.value("date", "").size(), 19u) << "yyyy-MM-ddTHH:mm:ss without a zone";
  }

  std::string graph_token_;  // the daemon app's Graph token (Mail.ReadWrite, Mail.Send)
};

}  // namespace exo::mock_ews::test
