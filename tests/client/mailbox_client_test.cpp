// MailboxClient end to end: a scheduler .config on disk, mock-aad and mock-ews in-process on the
// simulated clock. What an operator meets: a secret that expires and is rotated in the config
// while the monitor runs, a wrong secret, no consent, a broken edit, two monitors on one mailbox.
#include "exo/client/mailbox_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "configured_client.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;

class MailboxClientTest : public ConfiguredTest {
 protected:
  void TearDown() override {
    monitor_.reset();
    client_.reset();
    ConfiguredTest::TearDown();
  }

  void Open(MailboxClientOptions options = {}) {
    auto client = MailboxClient::Open(LoadConfig(), clock_, random_, std::move(options));
    ASSERT_TRUE(client.has_value()) << client.error().Describe();
    client_ = std::move(*client);
    MonitorOptions base;
    base.use_notifications = false;
    auto monitor = client_->MakeMonitor(
        [this](const HandledMessage& h) -> Result<void> {
          ++handed_[h.idempotency_key];
          return {};
        },
        base);
    ASSERT_TRUE(monitor.has_value()) << monitor.error().Describe();
    monitor_ = *monitor;
  }

  int HandedTimes(const std::string& message_id) {
    auto it = handed_.find(message_id);
    return it == handed_.end() ? 0 : it->second;
  }

  std::unique_ptr<MailboxClient> client_;
  std::shared_ptr<MailboxMonitor> monitor_;
  std::map<std::string, int> handed_;
};

// Verifies the client assembled from the .config alone hands mail over and marks it read.
TEST_F(MailboxClientTest, HandsOverMailOfTheConfiguredMailbox) {
  WriteConfig();
  Open();
  const std::string first = Deliver("Order 1"), second = Deliver("Order 2");
  const MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(HandedTimes(first), 1);
  EXPECT_EQ(HandedTimes(second), 1);
  EXPECT_EQ(s.disposed, 2u);
  EXPECT_EQ(client_->transport().Info().endpoint, ews_->ews_url());
  EXPECT_TRUE(std::filesystem::exists(dir_->path() / "exo-mailbox.db"));
}

// Verifies the seed's worst day: the client secret expires while the monitor runs; the monitor
// backs off with the remedy (create a new secret, update EmailIntegrationClientSecret); the
// operator writes the new secret into the .config, and the monitor resumes without a restart,
// handing the mail that arrived meanwhile over exactly once.
TEST_F(MailboxClientTest, ExpiredSecretThenRotationPickedUpFromTheConfig) {
  WriteConfig(aad::test::kExpiringAppId, aad::test::kExpiringSecret);
  Open();
  const std::string before = Deliver("Before expiry");
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);

  clock_.Advance(std::chrono::minutes(61));  // past the secret's end and the token's lifetime
  const std::string during = Deliver("During the outage");
  MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "AADSTS7000222");
  EXPECT_THAT(s.last_error->remedy, HasSubstr("EmailIntegrationClientSecret"));
  EXPECT_EQ(HandedTimes(during), 0);
  s = monitor_->Step();  // still backing off: nothing changed
  EXPECT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);

  auto added = aad_->directory().AddPassword(aad::test::kTenantId, aad::test::kExpiringAppId,
                                             {{"displayName", "rotated"}});
  ASSERT_TRUE(added.has_value()) << added.error().Describe();
  WriteConfig(aad::test::kExpiringAppId, added->secret_text);
  auto reloaded = client_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.has_value()) << reloaded.error().Describe();
  EXPECT_TRUE(*reloaded);

  s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(HandedTimes(before), 1);
  EXPECT_EQ(HandedTimes(during), 1);
  monitor_->Step();
  EXPECT_EQ(HandedTimes(during), 1);
}

// Verifies the config watcher thread notices the rotated secret on the clock, with no explicit
// reload call.
TEST_F(MailboxClientTest, WatcherReloadsOnItsOwn) {
  WriteConfig(aad::test::kDaemonAppId, "Xy78Q~not-the-secret");
  Open();
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kBackingOff);
  client_->WatchConfig(std::chrono::seconds(2));
  // The watcher is parked once its next check is due 2 s from now.
  auto parked = [this] {
    const MonoTime due = clock_.Monotonic() + std::chrono::seconds(2);
    for (long spins = 0; spins < 100'000'000 && clock_.NextWakeup() != due; ++spins) {
      std::this_thread::yield();
    }
    return clock_.NextWakeup() == due;
  };
  ASSERT_TRUE(parked());
  WriteConfig();
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(parked());
  EXPECT_EQ(client_->config().encrypted_secret, LoadConfig().encrypted_secret);
  EXPECT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
}

// Verifies a wrong secret is an authentication error naming the fix (the secret's Value, not its
// ID), and that the credential backs off instead of hammering the authority.
TEST_F(MailboxClientTest, WrongSecretIsExplainedAndBacksOff) {
  WriteConfig(aad::test::kDaemonAppId, "Xy78Q~not-the-secret");
  Open();
  MonitorStatus s = monitor_->Step();
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "AADSTS7000215");
  EXPECT_EQ(s.last_error->category, ErrorCategory::kAuthentication);
  EXPECT_THAT(s.last_error->remedy, HasSubstr("Value"));
  const std::size_t requests = client_->tokens().requests();
  for (int i = 0; i < 5; ++i) monitor_->Step();
  EXPECT_EQ(client_->tokens().requests(), requests);
}

// Verifies an app without admin consent is told to grant it (seed step 2.3).
TEST_F(MailboxClientTest, NoConsentPointsAtStep23) {
  WriteConfig(aad::test::kReporterAppId, aad::test::kReporterSecret);
  Open();
  const MonitorStatus s = monitor_->Step();
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "NoRoles");
  EXPECT_THAT(s.last_error->remedy, HasSubstr("2.3"));
}

// Verifies a broken edit of the .config is reported once and changes nothing: the monitor keeps
// the configuration it had.
TEST_F(MailboxClientTest, BrokenEditKeepsTheRunningConfiguration) {
  WriteConfig();
  Open();
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
  std::ofstream(config_file_, std::ios::trunc) << "<configuration><appSettings>";
  auto r = client_->ReloadIfChanged();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(r.error().message, HasSubstr("not used"));
  auto again = client_->ReloadIfChanged();
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  const std::string id = Deliver("After the broken edit");
  EXPECT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
  EXPECT_EQ(HandedTimes(id), 1);
}

// Verifies two processes (two projects) cannot monitor one mailbox folder: the second is refused
// with an error naming the holder (the seed: one mailbox per project).
TEST_F(MailboxClientTest, SecondMonitorIsRefusedByTheLease) {
  WriteConfig();
  MailboxClientOptions first;
  first.owner = "scheduler-a:101:ProjectA";
  Open(first);
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);

  MailboxClientOptions second_options;
  second_options.owner = "scheduler-b:202:ProjectB";
  auto second = MailboxClient::Open(LoadConfig(), clock_, random_, second_options);
  ASSERT_TRUE(second.has_value());
  auto monitor = (*second)->MakeMonitor([](const HandledMessage&) { return Result<void>(); });
  ASSERT_TRUE(monitor.has_value());
  const MonitorStatus s = (*monitor)->Step();
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "LeaseHeld");
  EXPECT_THAT(s.last_error->message, HasSubstr("scheduler-a:101:ProjectA"));
}

// Verifies Open refuses a configuration with no way to decrypt the secret, naming both ways.
TEST_F(MailboxClientTest, NoKeySourceIsAConfigurationError) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret, {{"EmailIntegrationKeyFile", ""}});
  MailboxClientOptions o;
  o.key_environment_variable = "EXO_TEST_UNSET_KEY_VARIABLE";
  auto client = MailboxClient::Open(LoadConfig(), clock_, random_, o);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(client.error().remedy, HasSubstr("EmailIntegrationKeyFile"));
  EXPECT_THAT(client.error().remedy, HasSubstr("EXO_TEST_UNSET_KEY_VARIABLE"));
}

// Verifies that with no EWS URL configured the endpoint comes from autodiscover.
TEST_F(MailboxClientTest, AutodiscoversTheEndpointWhenNoneIsConfigured) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationEwsUrl", ""},
               {"EmailIntegrationAutodiscoverUrl", ews_->autodiscover_url()}});
  Open();
  auto endpoint = client_->Endpoint();
  ASSERT_TRUE(endpoint.has_value()) << endpoint.error().Describe();
  EXPECT_EQ(endpoint->endpoint, ews_->ews_url());
  const std::string id = Deliver("Found by autodiscover");
  EXPECT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
  EXPECT_EQ(HandedTimes(id), 1);
}

// Verifies the seed's propagation trap end to end: an ApplicationAccessPolicy that leaves the
// monitored mailbox out starts refusing EWS only after its delay, and the monitor backs off with a
// remedy naming the policy and the delay. The admin adds the mailbox to the group:
// Test-ApplicationAccessPolicy says Granted at once while EWS still refuses; once the change has
// propagated, the mail that arrived meanwhile is handed over exactly once.
TEST_F(MailboxClientTest, AccessDeniedThenGrantedAfterPropagation) {
  using mock_ews::AccessRight;
  auto& admin = ews_->admin();
  mock_ews::NewDistributionGroupParams group;
  group.name = "EWS Allowed";
  group.primary_smtp_address = "ews-allowed@contoso.com";
  group.type = mock_ews::GroupType::kSecurity;
  group.members = {kSender};
  ASSERT_TRUE(admin.NewDistributionGroup(aad::test::kTenantId, group).has_value());
  clock_.Advance(std::chrono::hours(2));  // the group itself has propagated
  mock_ews::NewApplicationAccessPolicyParams policy;
  policy.app_ids = {aad::test::kDaemonAppId};
  policy.policy_scope_group_id = "ews-allowed@contoso.com";
  policy.access_right = AccessRight::kRestrictAccess;
  policy.description = "Restrict this app to members of EWS Allowed";
  ASSERT_TRUE(admin.NewApplicationAccessPolicy(aad::test::kTenantId, policy).has_value());

  WriteConfig();
  Open();
  const std::string before = Deliver("Before the policy reached EWS");
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);  // not propagated yet
  EXPECT_EQ(HandedTimes(before), 1);

  clock_.Advance(std::chrono::minutes(66));
  const std::string during = Deliver("While access is denied");
  MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->category, ErrorCategory::kAuthorization);
  EXPECT_THAT(s.last_error->remedy, HasSubstr("ApplicationAccessPolicy"));
  EXPECT_THAT(s.last_error->remedy, HasSubstr("hour"));

  ASSERT_TRUE(
      admin.AddDistributionGroupMember(aad::test::kTenantId, {"ews-allowed@contoso.com", kMailbox})
          .has_value());
  auto test =
      admin.TestApplicationAccessPolicy(aad::test::kTenantId, {kMailbox, aad::test::kDaemonAppId});
  ASSERT_TRUE(test.has_value());
  EXPECT_EQ(test->access_check_result, "Granted");  // the cmdlet sees the new configuration
  clock_.Advance(std::chrono::minutes(10));
  s = monitor_->Step();
  EXPECT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);  // EWS does not, yet
  EXPECT_EQ(HandedTimes(during), 0);

  clock_.Advance(std::chrono::minutes(60));
  s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(HandedTimes(during), 1);
  EXPECT_EQ(HandedTimes(before), 1);
  monitor_->Step();
  EXPECT_EQ(HandedTimes(during), 1);
}

// Verifies a hybrid mailbox needs no special configuration: Exchange Online answers
// ErrorNonExistentMailbox for the mail user, the client asks autodiscover, takes a token for the
// on-premises audience and hands the mail over from the Exchange Server.
TEST_F(MailboxClientTest, HybridMailboxIsFollowedOnPremises) {
  StartOnPremises(/*app_only_oauth=*/true);
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationMailbox", kHybridUser}});
  MailboxClientOptions o;
  o.http = std::shared_ptr<HttpTransport>(routed_.get(), [](HttpTransport*) {});
  Open(o);
  const std::string id = DeliverAt(*onprem_, "Invoice on-premises", kHybridUser);

  const MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(HandedTimes(id), 1);
  const TransportInfo info = client_->transport().Info();
  EXPECT_EQ(info.endpoint, kOnPremEws);
  EXPECT_FALSE(info.exchange_online);
  auto inbox =
      onprem_->store().GetDistinguishedFolder(kHybridUser, mock_ews::DistinguishedFolder::kInbox);
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->unread_count, 0u);
  EXPECT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
  EXPECT_EQ(HandedTimes(id), 1);
}

// Verifies a mailbox that moves from Exchange Online to the on-premises server mid-run: during the
// move the monitor backs off (ErrorMailboxMoveInProgress is transient); afterwards Exchange Online
// knows the user only as a mail user, autodiscover points on-premises, and the monitor follows
// with no configuration change, handing over what it had not yet seen and nothing twice.
TEST_F(MailboxClientTest, MailboxMovedOnPremisesMidRun) {
  StartOnPremises(/*app_only_oauth=*/true);
  WriteConfig();
  MailboxClientOptions o;
  o.http = std::shared_ptr<HttpTransport>(routed_.get(), [](HttpTransport*) {});
  Open(o);
  const std::string first = Deliver("Before the move");
  ASSERT_EQ(monitor_->Step().phase, MonitorStatus::Phase::kHealthy);
  const std::string second = Deliver("Arrived just before the move");

  ASSERT_TRUE(ews_->BeginMailboxMove(kMailbox).has_value());
  MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "ErrorMailboxMoveInProgress");
  EXPECT_EQ(s.last_error->category, ErrorCategory::kTransient);

  auto moved = ews_->CompleteMailboxMove(kMailbox, *onprem_);
  ASSERT_TRUE(moved.has_value()) << moved.error().Describe();
  auto recipient = ews_->admin().GetRecipient(aad::test::kTenantId, kMailbox);
  ASSERT_TRUE(recipient.has_value());
  EXPECT_EQ(recipient->kind, mock_ews::RecipientKind::kMailUser);
  const std::string third = DeliverAt(*onprem_, "After the move");

  s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(client_->transport().Info().endpoint, kOnPremEws);
  EXPECT_EQ(HandedTimes(first), 1);
  EXPECT_EQ(HandedTimes(second), 1);
  EXPECT_EQ(HandedTimes(third), 1);
  monitor_->Step();
  EXPECT_EQ(handed_.size(), 3u);
  for (const auto& [key, times] : handed_) EXPECT_EQ(times, 1) << key;
}

// Verifies an Exchange Server that refuses app-only tokens is diagnosed as such, naming the
// on-premises configuration, instead of a generic 403.
TEST_F(MailboxClientTest, OnPremisesRefusingAppOnlyIsDiagnosed) {
  StartOnPremises(/*app_only_oauth=*/false);
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationMailbox", kHybridUser}});
  MailboxClientOptions o;
  o.http = std::shared_ptr<HttpTransport>(routed_.get(), [](HttpTransport*) {});
  Open(o);
  const MonitorStatus s = monitor_->Step();
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->category, ErrorCategory::kAuthorization);
  EXPECT_THAT(s.last_error->remedy, HasSubstr("not configured on this Exchange Server"));
}

}  // namespace
}  // namespace exo::client::test
