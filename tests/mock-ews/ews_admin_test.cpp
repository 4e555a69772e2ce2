// ExchangeAdmin enforced on EWS end to end: mock-aad tokens over HTTPS, exchangelib-shaped SOAP,
// the simulated clock moved past each propagation delay. A refusal is a bare HTTP 403.
#include <gtest/gtest.h>

#include "ews_fixture.hpp"
#include "exo/common/time_format.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

class EwsAdminTest : public EwsTest {
 protected:
  ExchangeAdmin& admin() { return ews_->admin(); }

  // Moves the shared clock and fetches a fresh token (mock-aad's live 60-90 minutes).
  void Advance(Duration d) {
    clock_.Advance(d);
    token_ = Token();
  }

  // The bare refusal: 403, no body, no SOAP, no Content-Type, no x-ms-diagnostics.
  static void ExpectBare403(const HttpReply& r) {
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(r.body.empty()) << r.body;
    EXPECT_FALSE(r.HasHeader("Content-Type"));
    EXPECT_FALSE(r.HasHeader("x-ms-diagnostics"));
    EXPECT_FALSE(r.HasHeader("WWW-Authenticate"));
  }
};

// Verifies a mailbox outside the RestrictAccess group is served until the policy has propagated
// (65 min, while Test-ApplicationAccessPolicy already says Denied) and gets a bare 403 after.
TEST_F(EwsAdminTest, MailboxOutsideRestrictGroupIsRefusedOnlyAfterTheDelay) {
  MailboxSpec other;
  other.organization_id = aad::test::kTenantId;
  other.primary_smtp_address = "allowed@contoso.com";
  ASSERT_TRUE(ews_->store().CreateMailbox(other).has_value());
  NewDistributionGroupParams g;
  g.name = "EWS Allowed";
  g.type = GroupType::kSecurity;
  g.members = {"allowed@contoso.com"};
  ASSERT_TRUE(admin().NewDistributionGroup(kTenantId, g).has_value());
  Advance(hours(2));
  NewApplicationAccessPolicyParams p;
  p.app_ids = {aad::test::kDaemonAppId};
  p.policy_scope_group_id = "EWS Allowed";
  p.access_right = AccessRight::kRestrictAccess;
  ASSERT_TRUE(admin().NewApplicationAccessPolicy(kTenantId, p).has_value());
  auto test = admin().TestApplicationAccessPolicy(kTenantId, {kMonitor, aad::test::kDaemonAppId});
  ASSERT_TRUE(test.has_value());
  EXPECT_EQ(test->access_check_result, "Denied");

  EXPECT_EQ(Call(kGetInbox).status, 200);
  Advance(minutes(64));
  EXPECT_EQ(Call(kGetInbox).status, 200);
  Advance(minutes(1));
  ExpectBare403(Call(kGetInbox));
  // The member of the group is still served.
  const std::string header =
      "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
      "<t:ConnectingSID><t:PrimarySmtpAddress>allowed@contoso.com</t:PrimarySmtpAddress>"
      "</t:ConnectingSID></t:ExchangeImpersonation>";
  EXPECT_EQ(Ews(Envelope(kGetInbox, header), token_).status, 200);
}

// Verifies EwsAllowedAppIDs without the app blocks its EWS once the list has propagated (24 h).
TEST_F(EwsAdminTest, AllowListWithoutTheAppBlocksItAfterTwentyFourHours) {
  SetOrganizationConfigParams on;
  on.ews_enabled = std::optional<bool>(true);
  on.ews_allowed_app_ids = std::optional<std::string>(aad::test::kDaemonAppId);
  ASSERT_TRUE(admin().SetOrganizationConfig(kTenantId, on).has_value());
  Advance(hours(24));
  EXPECT_EQ(Call(kGetInbox).status, 200);
  SetOrganizationConfigParams other;
  other.ews_allowed_app_ids = std::optional<std::string>(kReaderAppId);
  ASSERT_TRUE(admin().SetOrganizationConfig(kTenantId, other).has_value());
  Advance(hours(23));
  EXPECT_EQ(Call(kGetInbox).status, 200);
  Advance(hours(1));
  ExpectBare403(Call(kGetInbox));
}

// Verifies organization EwsEnabled=False reaches EWS after an hour.
TEST_F(EwsAdminTest, OrganizationEwsDisabledIsRefusedAfterOneHour) {
  SetOrganizationConfigParams off;
  off.ews_enabled = std::optional<bool>(false);
  ASSERT_TRUE(admin().SetOrganizationConfig(kTenantId, off).has_value());
  Advance(minutes(59));
  EXPECT_EQ(Call(kGetInbox).status, 200);
  Advance(minutes(1));
  ExpectBare403(Call(kGetInbox));
}

// Verifies a mailbox with only an Exchange Online Kiosk licence gets a bare 403 (the simulated
// clock starts in November 2026, after the 2026-10-01 enforcement).
TEST_F(EwsAdminTest, KioskLicensedMailboxIsRefused) {
  ASSERT_TRUE(admin().SetLicenses(kTenantId, kMonitor, {"EXCHANGEDESKLESS"}).has_value());
  Advance(hours(1));
  ExpectBare403(Call(kGetInbox));
  ASSERT_TRUE(admin().SetLicenses(kTenantId, kMonitor, {"EXCHANGEENTERPRISE"}).has_value());
  Advance(hours(1));
  EXPECT_EQ(Call(kGetInbox).status, 200);
}

// Verifies the control API shows the admin state with pending propagation, and sets the
// front-end count.
TEST_F(EwsAdminTest, ControlApiShowsStateAndSetsPropagation) {
  SetOrganizationConfigParams off;
  off.ews_enabled = std::optional<bool>(false);
  ASSERT_TRUE(admin().SetOrganizationConfig(kTenantId, off).has_value());
  const HttpReply state = Send(*ews_client_, "GET", "/_exo/admin/state");
  ASSERT_EQ(state.status, 200) << state.body;
  const json org = state.Json()["organizations"][0];
  EXPECT_EQ(org["organizationConfig"]["ewsEnabled"], false);
  EXPECT_TRUE(org["organizationConfig"]["ewsEnabledPropagatesUntil"].is_string());
  const HttpReply put =
      Send(*ews_client_, "PUT", "/_exo/admin/propagation",
           R"({"frontEnds": 3, "ewsEnabled": {"latestMinutes": 5}})", "application/json");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(admin().propagation().front_ends, 3u);
  EXPECT_EQ(admin().propagation().ews_enabled.latest, minutes(5));
  const HttpReply bad = Send(*ews_client_, "PUT", "/_exo/admin/propagation", R"({"frontEnds": 0})",
                             "application/json");
  EXPECT_EQ(bad.status, 400);
}

}  // namespace
}  // namespace exo::mock_ews::test
