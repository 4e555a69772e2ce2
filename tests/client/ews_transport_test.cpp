// The client's EWS transport against mock-ews: sync, fetch with MIME, dispositions, reply,
// folder paths, streaming notifications, and each failure as a typed error with its remedy.
#include "exo/client/ews_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "exchange_fixture.hpp"
#include "exo/common/time_format.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;

// Verifies a first sync reports every message as created, a second only what changed since.
TEST_F(ExchangeTest, SyncReportsCreatesThenChanges) {
  const std::string id1 = Deliver("Order 1");
  Deliver("Order 2");
  auto inbox = transport_->ResolveFolder("inbox", false);
  ASSERT_TRUE(inbox.has_value()) << inbox.error().Describe();
  auto first = transport_->SyncFolder(*inbox, "", 512);
  ASSERT_TRUE(first.has_value()) << first.error().Describe();
  ASSERT_EQ(first->changes.size(), 2u);
  EXPECT_EQ(first->changes[0].kind, FolderChange::Kind::kCreated);
  EXPECT_EQ(first->changes[0].message.subject, "Order 1");
  EXPECT_EQ(first->changes[0].message.internet_message_id, id1);
  EXPECT_EQ(first->changes[0].message.from, kSender);
  EXPECT_FALSE(first->more);
  Deliver("Order 3");
  ASSERT_TRUE(transport_->MarkRead(first->changes[0].message.id));
  auto second = transport_->SyncFolder(*inbox, first->sync_state, 512);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->changes.size(), 2u);
  // In the order they happened: the delivery, then the read flag.
  EXPECT_EQ(second->changes[0].kind, FolderChange::Kind::kCreated);
  EXPECT_EQ(second->changes[0].message.subject, "Order 3");
  EXPECT_EQ(second->changes[1].kind, FolderChange::Kind::kReadFlagChanged);
  EXPECT_EQ(second->changes[1].message.id, first->changes[0].message.id);
  EXPECT_EQ(transport_->Info().protocol, "EWS");
  EXPECT_FALSE(transport_->Info().server_version.empty());
}

// Verifies paging: more is set until the last batch.
TEST_F(ExchangeTest, SyncPagesWithMore) {
  for (int i = 0; i < 5; ++i) Deliver("Mail " + std::to_string(i));
  auto inbox = *transport_->ResolveFolder("inbox", false);
  std::string state;
  std::size_t seen = 0;
  int calls = 0;
  for (bool more = true; more; ++calls) {
    auto page = transport_->SyncFolder(inbox, state, 2);
    ASSERT_TRUE(page.has_value());
    seen += page->changes.size();
    state = page->sync_state;
    more = page->more;
  }
  EXPECT_EQ(seen, 5u);
  EXPECT_EQ(calls, 3);
}

// Verifies MIME comes back byte for byte, in batches, and deleted ids are skipped.
TEST_F(ExchangeTest, FetchesMimeSkippingDeleted) {
  Deliver("A");
  Deliver("B");
  auto inbox = *transport_->ResolveFolder("inbox", false);
  auto page = *transport_->SyncFolder(inbox, "", 512);
  std::vector<std::string> ids = {page.changes[0].message.id, page.changes[1].message.id};
  ASSERT_TRUE(transport_->Delete(ids[1]));
  auto messages = transport_->FetchMessages(ids);
  ASSERT_TRUE(messages.has_value()) << messages.error().Describe();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_THAT((*messages)[0].mime, HasSubstr("Subject: A"));
  EXPECT_EQ((*messages)[0].mime, *ews_->store().GetItem(ids[0])->mime);
}

// Verifies a folder path is created on demand and a move returns the new id.
TEST_F(ExchangeTest, MovesIntoCreatedFolderPath) {
  Deliver("To file");
  auto inbox = *transport_->ResolveFolder("inbox", false);
  auto missing = transport_->ResolveFolder("Processed/2026", false);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "ErrorFolderNotFound");
  auto target = transport_->ResolveFolder("Processed/2026", true);
  ASSERT_TRUE(target.has_value()) << target.error().Describe();
  EXPECT_EQ(*transport_->ResolveFolder("processed/2026", false), *target);
  auto page = *transport_->SyncFolder(inbox, "", 512);
  auto moved = transport_->Move(page.changes[0].message.id, *target);
  ASSERT_TRUE(moved.has_value()) << moved.error().Describe();
  EXPECT_NE(*moved, page.changes[0].message.id);
  EXPECT_EQ(ews_->store().GetItem(*moved)->parent_folder_id, *target);
}

// Verifies a reply reaches the sender's Inbox.
TEST_F(ExchangeTest, ReplyArrivesAtSender) {
  Deliver("Question");
  auto inbox = *transport_->ResolveFolder("inbox", false);
  auto page = *transport_->SyncFolder(inbox, "", 512);
  auto replied = transport_->Reply(page.changes[0].message.id, "Answer");
  ASSERT_TRUE(replied.has_value()) << replied.error().Describe();
  auto alice_inbox =
      ews_->store().GetDistinguishedFolder(kSender, mock_ews::DistinguishedFolder::kInbox);
  ASSERT_TRUE(alice_inbox.has_value());
  EXPECT_EQ(alice_inbox->total_count, 1u);
}

// Verifies a bad sync state is ErrorInvalidSyncStateData, so the monitor can resync.
TEST_F(ExchangeTest, InvalidSyncState) {
  auto inbox = *transport_->ResolveFolder("inbox", false);
  auto r = transport_->SyncFolder(inbox, "bm90IGEgc3RhdGU=", 512);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorInvalidSyncStateData");
}

// Verifies an unknown mailbox is ErrorNonExistentMailbox with the hybrid hint.
TEST_F(ExchangeTest, UnknownMailbox) {
  auto t = MakeTransport(*tokens_, "nobody@contoso.com");
  auto r = t->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorNonExistentMailbox");
  EXPECT_EQ(r.error().category, ErrorCategory::kNotFound);
  EXPECT_THAT(r.error().remedy, HasSubstr("autodiscover"));
}

// Verifies a token with Mail.Read only (a Graph permission) is a 403 whose remedy names
// full_access_as_app.
TEST_F(ExchangeTest, WrongRoleIsExplained) {
  // The answer Exchange gives a Mail.Read-only token, forced with the harness's fault API.
  httplib::SSLClient control("127.0.0.1", ews_->port());
  control.set_ca_cert_path(ews_->ca_file().string());
  const std::string rule =
      R"({"path":"/EWS/Exchange.asmx","status":403,"body":"","headers":{"x-ms-diagnostics":"2000008;reason=\"The token contains not enough scope to make this call.\";error_category=\"invalid_grant\""},"times":1})";
  auto added = control.Post("/_exo/faults", rule, "application/json");
  ASSERT_TRUE(added) << "control API unreachable";
  ASSERT_LT(added->status, 300) << added->body;
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthorization);
  EXPECT_THAT(r.error().remedy, HasSubstr("full_access_as_app"));
}

// Verifies a bare 403 (access policy) names the causes and the propagation delay.
TEST_F(ExchangeTest, BareForbiddenNamesPolicyAndPropagation) {
  httplib::SSLClient control("127.0.0.1", ews_->port());
  control.set_ca_cert_path(ews_->ca_file().string());
  auto added = control.Post("/_exo/faults",
                            R"({"path":"/EWS/Exchange.asmx","status":403,"body":"","times":1})",
                            "application/json");
  ASSERT_TRUE(added);
  ASSERT_LT(added->status, 300) << added->body;
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorAccessDenied");
  EXPECT_THAT(r.error().remedy, HasSubstr("ApplicationAccessPolicy"));
  EXPECT_THAT(r.error().remedy, HasSubstr("more than an hour"));
  EXPECT_THAT(r.error().remedy, ::testing::Not(HasSubstr("turned EWS off")));
}

// Verifies that after Exchange Online's EWS retirement (2027-04-01) the 403 every request gets
// says that EWS is gone there and names Graph, before the usual causes of a 403.
TEST_F(ExchangeTest, ForbiddenAfterRetirementSaysEwsIsRetired) {
  clock_.SetNow(*ParseIso8601("2027-04-01T00:00:01Z"));  // mock-ews refuses all EWS from now
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorAccessDenied");
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthorization);
  EXPECT_THAT(r.error().remedy, HasSubstr("turned EWS off for good on 2027-04-01"));
  EXPECT_THAT(r.error().remedy, HasSubstr("Microsoft Graph"));
  EXPECT_THAT(r.error().remedy, HasSubstr("ApplicationAccessPolicy"));
}

// Verifies one 401 gets one fresh token and a retry; a second 401 fails as authentication.
TEST_F(ExchangeTest, OneRefreshAfter401) {
  httplib::SSLClient control("127.0.0.1", ews_->port());
  control.set_ca_cert_path(ews_->ca_file().string());
  ASSERT_TRUE(control.Post("/_exo/faults",
                           R"({"path":"/EWS/Exchange.asmx","status":401,"body":"","times":1})",
                           "application/json"));
  ASSERT_TRUE(transport_->ResolveFolder("inbox", false).has_value());
  EXPECT_EQ(tokens_->requests(), 2u);
  ASSERT_TRUE(control.Post("/_exo/faults",
                           R"({"path":"/EWS/Exchange.asmx","status":401,"body":"","times":2})",
                           "application/json"));
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthentication);
  EXPECT_EQ(tokens_->requests(), 3u);
}

// Verifies ErrorServerBusy becomes a throttling error carrying BackOffMilliseconds.
TEST_F(ExchangeTest, ServerBusyCarriesBackOff) {
  httplib::SSLClient control("127.0.0.1", ews_->port());
  control.set_ca_cert_path(ews_->ca_file().string());
  auto forced =
      control.Put("/_exo/throttling", R"({"force":{"form":"fault","backOffMs":7000,"times":1}})",
                  "application/json");
  ASSERT_TRUE(forced);
  ASSERT_LT(forced->status, 300) << forced->body;
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorServerBusy");
  EXPECT_EQ(r.error().category, ErrorCategory::kThrottled);
  EXPECT_EQ(r.error().retry_after, std::chrono::milliseconds(7000));
}

// Verifies a streaming subscription wakes the watcher when mail arrives.
TEST_F(ExchangeTest, StreamingWakesOnNewMail) {
  auto inbox = *transport_->ResolveFolder("inbox", false);
  std::atomic<int> changes{0};
  std::mutex mu;
  std::condition_variable cv;
  auto watching = transport_->Watch(inbox, [&] {
    {
      std::lock_guard lock(mu);
      ++changes;
    }
    cv.notify_all();
  });
  ASSERT_TRUE(watching.has_value());
  {
    // The first wake-up comes once the subscription exists.
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return changes.load() >= 1; });
  }
  clock_.AwaitWaiters(1);  // the server's stream is parked waiting for events
  Deliver("Pushed");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return changes.load() >= 2; });
  }
  transport_->StopWatching();
  EXPECT_GE(changes.load(), 2);
}

}  // namespace
}  // namespace exo::client::test
