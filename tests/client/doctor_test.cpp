// The doctor against the in-process Exchange: one check per link, each failure with the code the
// service gave and the seed step that fixes it; a failed link skips what depends on it; nothing
// is changed anywhere.
#include "exo/client/doctor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "configured_client.hpp"
#include "fake_graph.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;
using Outcome = DoctorCheck::Outcome;

class DoctorTest : public ConfiguredTest {
 protected:
  DoctorReport Run(DoctorOptions options = {}) {
    return RunDoctor(config_file_, clock_, random_, std::move(options));
  }

  // Reads the mailbox over Graph (a test double at https://graph.test, behind the same HTTPS
  // transport as mock-aad and mock-ews).
  DoctorOptions UseGraph(FakeGraph& graph) {
    WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
                {{"EmailIntegrationTransport", "graph"},
                 {"EmailIntegrationGraphUrl", graph.base()}});
    DoctorOptions o;
    o.http = std::make_shared<GraphRouter>(graph, *http_);
    return o;
  }

  static const DoctorCheck& Check(const DoctorReport& r, const std::string& id) {
    for (const auto& c : r.checks) {
      if (c.id == id) return c;
    }
    static const DoctorCheck kMissing = [] {
      DoctorCheck c;
      c.id = "missing";
      return c;
    }();
    ADD_FAILURE() << "no check " << id;
    return kMissing;
  }
};

// Verifies a correct setup passes every check; the transport line says EWS and why (the
// default); before 2027-04-01 an Exchange Online mailbox still read over EWS is a warning that
// names the date, the allow list and the move to Graph.
TEST_F(DoctorTest, HealthySetupPassesWithRetirementWarning) {
  WriteConfig();
  const DoctorReport r = Run();
  EXPECT_EQ(r.failures(), 0) << r.ToText();
  ASSERT_EQ(r.checks.size(), 13u) << r.ToText();
  for (const char* id : {"config", "secret", "authority", "transport", "token", "roles", "audience",
                         "ews", "impersonation", "folder", "disposition", "state"}) {
    EXPECT_EQ(Check(r, id).outcome, Outcome::kPass) << id << "\n" << r.ToText();
  }
  EXPECT_THAT(Check(r, "transport").detail, HasSubstr("EWS at " + ews_->ews_url()));
  EXPECT_THAT(Check(r, "transport").detail,
              HasSubstr("EmailIntegrationTransport=ews (the default)"));
  // The harness serves EWS from a loopback URL, but the token's audience is Exchange Online's.
  const DoctorCheck& retirement = Check(r, "retirement");
  EXPECT_EQ(retirement.outcome, Outcome::kWarn);
  EXPECT_THAT(retirement.detail, HasSubstr("still read over EWS"));
  EXPECT_THAT(retirement.detail, HasSubstr("2027-04-01"));
  EXPECT_THAT(retirement.detail, HasSubstr("EwsAllowedAppIDs"));
  EXPECT_THAT(retirement.remedy, HasSubstr("EmailIntegrationTransport=auto"));
  EXPECT_THAT(retirement.remedy, HasSubstr("Mail.ReadWrite"));
  EXPECT_THAT(r.ToText(), HasSubstr("0 failed, 1 warning(s)"));
}

// Verifies a mailbox read over Microsoft Graph: the transport line says Graph and why, the token
// is Graph's with Mail.ReadWrite, Graph is reached, and EWS's retirement is no warning.
TEST_F(DoctorTest, GraphTransportPassesWithoutRetirementWarning) {
  ASSERT_TRUE(aad_->directory()
                  .GrantAppRole(aad::test::kTenantId, aad::test::kDaemonAppId,
                                "https://graph.microsoft.com", "Mail.ReadWrite")
                  .has_value());
  FakeGraph graph("https://graph.test", kMailbox);
  const DoctorReport r = Run(UseGraph(graph));
  EXPECT_EQ(r.failures(), 0) << r.ToText();
  EXPECT_EQ(r.warnings(), 0) << r.ToText();
  ASSERT_EQ(r.checks.size(), 13u) << r.ToText();
  EXPECT_THAT(Check(r, "transport").detail, HasSubstr("Microsoft Graph at https://graph.test"));
  EXPECT_THAT(Check(r, "transport").detail, HasSubstr("EmailIntegrationTransport=graph"));
  EXPECT_THAT(Check(r, "token").detail, HasSubstr("https://graph.microsoft.com/.default"));
  EXPECT_EQ(Check(r, "roles").name, "roles contain Mail.ReadWrite");
  EXPECT_THAT(Check(r, "roles").detail, HasSubstr("Mail.ReadWrite"));
  EXPECT_EQ(Check(r, "graph").outcome, Outcome::kPass);
  EXPECT_EQ(Check(r, "retirement").outcome, Outcome::kPass);
  EXPECT_THAT(Check(r, "retirement").detail, HasSubstr("Microsoft Graph"));
  EXPECT_EQ(Check(r, "folder").outcome, Outcome::kPass);
}

// Verifies Graph without its application permission fails the roles check naming Mail.ReadWrite
// and admin consent, and skips what needs the mailbox.
TEST_F(DoctorTest, GraphWithoutPermissionFailsAtTheRoles) {
  FakeGraph graph("https://graph.test", kMailbox);
  const DoctorReport r = Run(UseGraph(graph));
  EXPECT_EQ(Check(r, "roles").outcome, Outcome::kFail) << r.ToText();
  EXPECT_EQ(Check(r, "roles").seed_step, "2.3");
  EXPECT_THAT(Check(r, "roles").remedy, HasSubstr("Mail.ReadWrite"));
  EXPECT_THAT(Check(r, "roles").remedy, HasSubstr("admin consent"));
  EXPECT_EQ(Check(r, "graph").outcome, Outcome::kSkipped);
  EXPECT_EQ(Check(r, "impersonation").outcome, Outcome::kSkipped);
}

// Verifies after the cut-off EWS on Exchange Online is a failure pointing at Graph.
TEST_F(DoctorTest, AfterTheCutOffRetirementFails) {
  WriteConfig();
  DoctorOptions o;
  o.ews_retirement = clock_.Now() - std::chrono::hours(1);
  const DoctorReport r = Run(o);
  EXPECT_EQ(r.failures(), 1);
  EXPECT_EQ(Check(r, "retirement").outcome, Outcome::kFail);
  EXPECT_THAT(Check(r, "retirement").remedy, HasSubstr("Graph"));
}

// Verifies a wrong secret fails the token check with AADSTS7000215 and seed step 3, and skips the
// checks that need a token.
TEST_F(DoctorTest, WrongSecretFailsAtTheToken) {
  WriteConfig(aad::test::kDaemonAppId, "Xy78Q~not-the-secret");
  const DoctorReport r = Run();
  EXPECT_EQ(r.failures(), 1);
  const DoctorCheck& token = Check(r, "token");
  EXPECT_EQ(token.outcome, Outcome::kFail);
  EXPECT_EQ(token.code, "AADSTS7000215");
  EXPECT_EQ(token.seed_step, "3");
  EXPECT_EQ(Check(r, "impersonation").outcome, Outcome::kSkipped);
  EXPECT_THAT(r.ToText(), HasSubstr("fix: "));
}

// Verifies a token without roles is a warning at the roles check (seed step 2.3): RBAC for
// Applications may still let it in, so EWS has the last word, and refuses it with both remedies.
TEST_F(DoctorTest, NoConsentFailsAtTheRoles) {
  WriteConfig(aad::test::kReporterAppId, aad::test::kReporterSecret);
  const DoctorReport r = Run();
  EXPECT_EQ(Check(r, "token").outcome, Outcome::kPass);
  EXPECT_EQ(Check(r, "roles").outcome, Outcome::kWarn) << r.ToText();
  EXPECT_EQ(Check(r, "roles").seed_step, "2.3");
  EXPECT_EQ(Check(r, "impersonation").outcome, Outcome::kFail) << r.ToText();
  EXPECT_EQ(Check(r, "impersonation").code, "NoRoles");
  EXPECT_THAT(Check(r, "impersonation").remedy, HasSubstr("2.3"));
  EXPECT_THAT(Check(r, "impersonation").remedy, HasSubstr("RBAC for Applications"));
}

// Verifies a secret protected under another key fails "secret decrypts" naming protect-secret.
TEST_F(DoctorTest, SecretUnderAnotherKey) {
  auto keys = Keys(aad::test::kDaemonAppId, aad::test::kDaemonSecret);
  const auto other = dir_->path() / "other.key";
  ASSERT_TRUE(SecretKey::Generate(other).has_value());
  keys["EmailIntegrationKeyFile"] = other.string();
  WriteConfig(keys);
  const DoctorReport r = Run();
  EXPECT_EQ(Check(r, "secret").outcome, Outcome::kFail);
  EXPECT_THAT(Check(r, "secret").remedy, HasSubstr("protect-secret"));
  EXPECT_EQ(Check(r, "authority").outcome, Outcome::kSkipped);
}

// Verifies a broken .config is one failure (the key named), the rest skipped.
TEST_F(DoctorTest, BrokenConfig) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTenantId", "not-a-tenant"}});
  const DoctorReport r = Run();
  EXPECT_EQ(r.failures(), 1);
  EXPECT_EQ(Check(r, "config").outcome, Outcome::kFail);
  EXPECT_THAT(Check(r, "config").detail, HasSubstr("EmailIntegrationTenantId"));
  EXPECT_EQ(Check(r, "token").outcome, Outcome::kSkipped);
}

// Verifies an unknown tenant fails at the authority, before any token request.
TEST_F(DoctorTest, UnknownTenantFailsAtTheAuthority) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTenantId", "0b0b0b0b-1111-4222-8333-444455556666"}});
  const DoctorReport r = Run();
  EXPECT_EQ(Check(r, "authority").outcome, Outcome::kFail) << r.ToText();
  EXPECT_EQ(Check(r, "authority").seed_step, "4");
}

// Verifies a missing folder fails "folder is readable" with the folder named.
TEST_F(DoctorTest, MissingFolder) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationFolder", "Orders/Incoming"}});
  const DoctorReport r = Run();
  EXPECT_EQ(Check(r, "impersonation").outcome, Outcome::kPass);
  EXPECT_EQ(Check(r, "folder").outcome, Outcome::kFail) << r.ToText();
  EXPECT_THAT(Check(r, "folder").remedy, HasSubstr("Orders/Incoming"));
}

// Verifies the JSON report carries every check with outcome, step and remedy, and that running
// the doctor changed nothing: no state database, the mail still unread.
TEST_F(DoctorTest, JsonReportAndNoSideEffects) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationDisposition", "move:Processed"}});
  Deliver("Untouched");
  const DoctorReport r = Run();
  const auto j = r.ToJson();
  EXPECT_EQ(j["failures"], 0);
  ASSERT_EQ(j["checks"].size(), 13u);
  EXPECT_EQ(j["checks"][0]["id"], "config");
  EXPECT_EQ(j["checks"][0]["outcome"], "pass");
  EXPECT_EQ(Check(r, "disposition").outcome, Outcome::kWarn);  // Processed does not exist yet
  EXPECT_FALSE(std::filesystem::exists(dir_->path() / "exo-mailbox.db"));
  auto inbox = transport_->ResolveFolder("inbox", false);
  ASSERT_TRUE(inbox.has_value());
  auto sync = transport_->SyncFolder(*inbox, "", 10);
  ASSERT_TRUE(sync.has_value());
  ASSERT_EQ(sync->changes.size(), 1u);
  EXPECT_FALSE(sync->changes[0].message.is_read);
  EXPECT_FALSE(transport_->ResolveFolder("Processed", false).has_value());
}

}  // namespace
}  // namespace exo::client::test
