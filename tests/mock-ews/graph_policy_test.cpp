// Who may read which mailbox through Graph, read as a specification: the token checks (401
// InvalidAuthenticationToken), the Entra permissions (403 "Access is denied. Check credentials and
// try again."), ApplicationAccessPolicy and RBAC for Applications through the same admin model and
// propagation delays as EWS (403 "Access to OData is disabled."), EWS-only settings that do not
// touch Graph, the hybrid user whose mailbox is on-premises (404 MailboxNotEnabledForRESTAPI), and
// the Outlook throttling limits (429 ApplicationThrottled with Retry-After).
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "graph_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

class GraphPolicyTest : public GraphTest {
 protected:
  ExchangeAdmin& admin() { return ews_->admin(); }
  HttpReply ListInbox(const std::optional<std::string>& token = std::nullopt,
                      const std::string& user = kMonitor) {
    return Graph("GET", "/v1.0/users/" + user + "/mailFolders/inbox/messages", nullptr, {}, token);
  }
  // Moves the shared clock and fetches fresh tokens (mock-aad's live 60-90 minutes).
  void Advance(Duration d) {
    clock_.Advance(d);
    token_ = Token();
    graph_token_ = GraphToken();
  }
};

// ---- Tokens ----

// Verifies a request without a token, with an Exchange Online token (wrong audience) or with a
// forged one is 401 InvalidAuthenticationToken with Graph's challenge.
TEST_F(GraphPolicyTest, TokensGraphDoesNotAcceptAre401) {
  const HttpReply none = ListInbox(std::string());
  ExpectGraphError(none, 401, "InvalidAuthenticationToken", "Access token is empty.");
  EXPECT_EQ(none.Header("WWW-Authenticate"),
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/"
            "oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"");
  ExpectGraphError(ListInbox(token_), 401, "InvalidAuthenticationToken",
                   "Access token validation failure. Invalid audience.");
  std::string forged = graph_token_;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  ExpectGraphError(ListInbox(forged), 401, "InvalidAuthenticationToken", "Signature is invalid.");
  // And the other way round: EWS refuses the Graph token (its audience is not Exchange's).
  const HttpReply ews = Ews(Envelope(kGetInbox), graph_token_);
  EXPECT_EQ(ews.status, 401);
}

// Verifies an expired token is refused once its 5 minutes of skew are over.
TEST_F(GraphPolicyTest, ExpiredTokenIs401) {
  const std::string token = graph_token_;
  clock_.Advance(hours(1) + minutes(6));
  ExpectGraphError(ListInbox(token), 401, "InvalidAuthenticationToken",
                   "Lifetime validation failed, the token is expired.");
}

// ---- Entra permissions ----

// Verifies an app without any Graph mail permission is 403 ErrorAccessDenied, and a Mail.Read app
// reads but may not change anything or send.
TEST_F(GraphPolicyTest, PermissionsComeFromTheTokensRoles) {
  const std::string none = GraphToken(aad::test::kReporterAppId, aad::test::kReporterSecret);
  ExpectGraphError(ListInbox(none), 403, "ErrorAccessDenied",
                   "Access is denied. Check credentials and try again.");
  const std::string reader = GraphToken(kReaderAppId, kReaderSecret);
  const std::string id = DeliverFrom("a@fabrikam.com", "Read only");
  EXPECT_EQ(ListInbox(reader).status, 200);
  EXPECT_EQ(Graph("GET", Me("/messages/" + id), nullptr, {}, reader).status, 200);
  ExpectGraphError(Graph("PATCH", Me("/messages/" + id), {{"isRead", true}}, {}, reader), 403,
                   "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
  ExpectGraphError(Graph("POST", Me("/messages/" + id + "/reply"), {{"comment", "x"}}, {}, reader),
                   403, "ErrorAccessDenied", "");
  // The daemon (Mail.ReadWrite) may.
  EXPECT_EQ(Graph("PATCH", Me("/messages/" + id), {{"isRead", true}}).status, 200);
}

// ---- ApplicationAccessPolicy and RBAC for Applications ----

// Verifies a RestrictAccess policy that leaves the mailbox out is enforced on Graph only after it
// has propagated (65 minutes, while Test-ApplicationAccessPolicy says Denied at once), then answers
// 403 "Access to OData is disabled."; a member of the policy's group is still served.
TEST_F(GraphPolicyTest, AccessPolicyDeniesOnceItHasPropagated) {
  CreateAlice();
  NewDistributionGroupParams g;
  g.name = "Graph Allowed";
  g.type = GroupType::kSecurity;
  g.members = {kAlice};
  ASSERT_TRUE(admin().NewDistributionGroup(kTenantId, g).has_value());
  Advance(hours(2));
  NewApplicationAccessPolicyParams p;
  p.app_ids = {aad::test::kDaemonAppId};
  p.policy_scope_group_id = "Graph Allowed";
  p.access_right = AccessRight::kRestrictAccess;
  ASSERT_TRUE(admin().NewApplicationAccessPolicy(kTenantId, p).has_value());
  auto test = admin().TestApplicationAccessPolicy(kTenantId, {kMonitor, aad::test::kDaemonAppId});
  ASSERT_TRUE(test.has_value());
  EXPECT_EQ(test->access_check_result, "Denied");

  EXPECT_EQ(ListInbox().status, 200);
  Advance(minutes(64));
  EXPECT_EQ(ListInbox().status, 200);
  Advance(minutes(1));
  ExpectGraphError(ListInbox(), 403, "ErrorAccessDenied", "Access to OData is disabled.");
  EXPECT_EQ(ListInbox(std::nullopt, kAlice).status, 200);
  const json journal =
      Send(*ews_client_, "GET", "/_exo/journal?path=/v1.0/&status=403").Json()["entries"];
  ASSERT_FALSE(journal.empty());
  EXPECT_EQ(journal.back()["annotations"]["denied"], "ApplicationAccessPolicy");
}

// Verifies EwsEnabled $false (an EWS setting) blocks EWS after its hour but never Graph.
TEST_F(GraphPolicyTest, EwsSettingsDoNotApplyToGraph) {
  SetOrganizationConfigParams off;
  off.ews_enabled = std::optional<bool>(false);
  ASSERT_TRUE(admin().SetOrganizationConfig(kTenantId, off).has_value());
  Advance(hours(1) + minutes(1));
  EXPECT_EQ(Call(kGetInbox).status, 403);
  EXPECT_EQ(ListInbox().status, 200);
}

// Verifies RBAC for Applications grants Graph without any Entra consent ("Application Mail.Read"
// scoped to a management scope), and a mailbox outside the scope is "Access to OData is
// disabled.".
TEST_F(GraphPolicyTest, RbacRoleGrantsGraphWithinItsScope) {
  CreateAlice();
  ASSERT_TRUE(admin().SetCustomAttribute(kTenantId, kAlice, 1, "graph").has_value());
  NewServicePrincipalParams sp;
  sp.app_id = aad::test::kReporterAppId;
  sp.object_id = "5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293";
  sp.display_name = "Reporter";
  ASSERT_TRUE(admin().NewServicePrincipal(kTenantId, sp).has_value());
  NewManagementScopeParams scope;
  scope.name = "Graph readers";
  scope.recipient_restriction_filter = "CustomAttribute1 -eq 'graph'";
  ASSERT_TRUE(admin().NewManagementScope(kTenantId, scope).has_value());
  NewManagementRoleAssignmentParams assignment;
  assignment.role = "Application Mail.Read";
  assignment.app = aad::test::kReporterAppId;
  assignment.custom_resource_scope = "Graph readers";
  ASSERT_TRUE(admin().NewManagementRoleAssignment(kTenantId, assignment).has_value());

  const std::string reporter = GraphToken(aad::test::kReporterAppId, aad::test::kReporterSecret);
  EXPECT_EQ(ListInbox(reporter, kAlice).status, 200);
  ExpectGraphError(ListInbox(reporter, kMonitor), 403, "ErrorAccessDenied",
                   "Access to OData is disabled.");
  // Mail.Read does not write.
  const std::string id = DeliverFrom("a@fabrikam.com", "Scoped", kAlice);
  ExpectGraphError(Graph("DELETE", std::string("/v1.0/users/") + kAlice + "/messages/" + id,
                         nullptr, {}, reporter),
                   403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
}

// ---- Hybrid ----

// Verifies a user whose mailbox is on-premises (a mail user in Exchange Online) is 404
// MailboxNotEnabledForRESTAPI, and nobody at all is ErrorInvalidUser.
TEST_F(GraphPolicyTest, OnPremisesMailboxIsNotEnabledForRest) {
  NewMailUserParams user;
  user.name = "onprem";
  user.primary_smtp_address = "onprem@contoso.com";
  user.external_email_address = "SMTP:onprem@contoso.mail.onmicrosoft.com";
  ASSERT_TRUE(admin().NewMailUser(kTenantId, user).has_value());
  ExpectGraphError(ListInbox(std::nullopt, "onprem@contoso.com"), 404,
                   "MailboxNotEnabledForRESTAPI",
                   "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
  ExpectGraphError(ListInbox(std::nullopt, "ghost@contoso.com"), 404, "ErrorInvalidUser",
                   "The requested user 'ghost@contoso.com' is invalid.");
}

// ---- Throttling ----

// Verifies requests over the concurrency limit get 429 ApplicationThrottled "Application is over
// its MailboxConcurrency limit." with Retry-After while the others are in flight, and those
// complete once the clock lets them. (The limit is lowered to 2 here because the test server has
// four threads; the default of 4 is GraphThrottlingTest's.)
TEST_F(GraphPolicyTest, ConcurrencyOverTheLimitIs429) {
  GraphThrottlingLimits limits = ews_->graph_throttling().limits();
  EXPECT_EQ(limits.max_concurrency, 4u);
  limits.max_concurrency = 2;
  limits.hold = std::chrono::seconds(2);
  ews_->graph_throttling().SetLimits(limits);
  std::vector<std::future<int>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::async(std::launch::async, [this] {
      auto client = MakeClient(ews_->port());
      httplib::Headers h = {{"Authorization", "Bearer " + graph_token_}};
      return Send(*client, "GET", Me("/mailFolders/inbox/messages"), {}, {}, h).status;
    }));
  }
  ASSERT_TRUE(clock_.AwaitWaiters(2));
  const HttpReply third = ListInbox();
  ExpectGraphError(third, 429, "ApplicationThrottled",
                   "Application is over its MailboxConcurrency limit.");
  EXPECT_EQ(third.Header("Retry-After"), "1");
  clock_.Advance(std::chrono::seconds(2));
  for (auto& f : held) EXPECT_EQ(f.get(), 200);
  limits.hold = {};
  ews_->graph_throttling().SetLimits(limits);
  EXPECT_EQ(ListInbox().status, 200);
}

// Verifies the per-app, per-mailbox request budget: past it 429 with a Retry-After that ends when
// the window has room again, and another mailbox is not affected.
TEST_F(GraphPolicyTest, RequestBudgetIs429UntilTheWindowMoves) {
  CreateAlice();
  GraphThrottlingLimits limits = ews_->graph_throttling().limits();
  EXPECT_EQ(limits.max_requests, 10000u);
  EXPECT_EQ(limits.window, minutes(10));
  limits.max_requests = 3;
  ews_->graph_throttling().SetLimits(limits);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ListInbox().status, 200);
    clock_.Advance(std::chrono::seconds(10));
  }
  const HttpReply over = ListInbox();
  ExpectGraphError(over, 429, "ApplicationThrottled", "");
  EXPECT_EQ(over.Header("Retry-After"), "570");  // the first request leaves the window then
  EXPECT_EQ(ListInbox(std::nullopt, kAlice).status, 200);
  Advance(minutes(10));
  EXPECT_EQ(ListInbox().status, 200);
}

// ---- GraphThrottling, in-process ----

// Verifies the default limits: 4 in flight per app and mailbox, then 10,000 requests per 10
// minutes, counted per app and mailbox.
TEST(GraphThrottlingTest, DefaultsAreFourConcurrentAndTenThousandPerTenMinutes) {
  SimulatedClock clock;
  GraphThrottling t(clock);
  std::vector<GraphThrottling::Decision> in_flight;
  for (int i = 0; i < 4; ++i) {
    in_flight.push_back(t.Admit("app", "mbx"));
    EXPECT_TRUE(in_flight.back().admitted());
  }
  auto fifth = t.Admit("app", "mbx");
  EXPECT_EQ(fifth.reason, GraphThrottleReason::kConcurrency);
  EXPECT_EQ(fifth.retry_after_seconds, 1);
  EXPECT_TRUE(t.Admit("app", "other mailbox").admitted());
  EXPECT_TRUE(t.Admit("other app", "mbx").admitted());
  in_flight.clear();
  clock.Advance(std::chrono::seconds(2));
  t.ResetState();
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(t.Admit("app", "mbx").admitted()) << i;
  }
  auto over = t.Admit("app", "mbx");
  EXPECT_EQ(over.reason, GraphThrottleReason::kRate);
  EXPECT_EQ(over.retry_after_seconds, 600);
  // Coming back early is noticed.
  EXPECT_FALSE(t.Admit("app", "mbx").admitted());
  EXPECT_EQ(t.early_retries(), 1u);
  clock.Advance(minutes(10));
  EXPECT_TRUE(t.Admit("app", "mbx").admitted());
}

}  // namespace
}  // namespace exo::mock_ews::test
