// The mailbox monitor against mock-aad and mock-ews on the simulated clock: each message handed
// over once with a stable key, then disposed; failures back off as the server asks; resyncs,
// crashes between steps and lease conflicts lose nothing and repeat nothing.
#include "exo/client/monitor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "exchange_fixture.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/mock_ews/throttling.hpp"

namespace exo::client::test {
namespace {

using ::testing::ElementsAre;

class MonitorTest : public ExchangeTest {
 protected:
  void SetUp() override {
    ExchangeTest::SetUp();
    if (HasFatalFailure()) return;
    auto store = OpenSqliteCheckpointStore(state_dir_.path() / "checkpoint.db");
    ASSERT_TRUE(store.has_value()) << store.error().Describe();
    store_ = std::move(*store);
  }
  void TearDown() override {
    monitor_.reset();
    store_.reset();
    ExchangeTest::TearDown();
  }

  MailboxMonitor& Monitor(Disposition disposition = {}, const std::string& owner = "test:1") {
    MonitorOptions o;
    o.key = {kMailbox, "inbox"};
    o.owner = owner;
    o.disposition = disposition;
    o.use_notifications = false;
    monitor_ = std::make_unique<MailboxMonitor>(
        o, *transport_, *store_,
        [this](const HandledMessage& m) -> Result<void> {
          std::lock_guard lock(mu_);
          if (refuse_next_ > 0) {
            --refuse_next_;
            return Fail(ErrorCategory::kTransient, "AppBusy", "the application is busy");
          }
          subjects_.push_back(m.message.subject);
          keys_.push_back(m.idempotency_key);
          EXPECT_FALSE(m.message.mime.empty());
          cv_.notify_all();
          return {};
        },
        clock_, random_);
    return *monitor_;
  }

  std::vector<std::string> Subjects() {
    std::lock_guard lock(mu_);
    return subjects_;
  }

  // Moves the clock to the monitor's next wake-up and steps it.
  MonitorStatus StepAtWakeup(const MonitorStatus& last) {
    if (last.next_wakeup > clock_.Monotonic())
      clock_.Advance(last.next_wakeup - clock_.Monotonic());
    return monitor_->Step();
  }

  bool IsRead(const std::string& message_id) {
    auto inbox =
        ews_->store().GetDistinguishedFolder(kMailbox, mock_ews::DistinguishedFolder::kInbox);
    auto page = ews_->store().FindItems(inbox->id, mock_ews::ItemView{});
    EXPECT_TRUE(page.has_value());
    for (const auto& item : page->items) {
      if (item.fields.internet_message_id == message_id) return item.is_read;
    }
    return false;
  }

  exo::testing::TempDir state_dir_;
  std::unique_ptr<CheckpointStore> store_;
  std::unique_ptr<MailboxMonitor> monitor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> subjects_, keys_;
  int refuse_next_ = 0;
};

// Verifies unread mail is handed over oldest first, keyed by Message-ID, then marked read; a
// second round hands nothing again.
TEST_F(MonitorTest, HandsEachMessageOnceThenMarksRead) {
  const std::string first = Deliver("Order 1");
  Deliver("Order 2");
  MonitorStatus st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  EXPECT_THAT(Subjects(), ElementsAre("Order 1", "Order 2"));
  EXPECT_EQ(keys_[0], first);
  EXPECT_TRUE(IsRead(first));
  EXPECT_EQ(st.handed, 2u);
  EXPECT_EQ(st.disposed, 2u);
  EXPECT_EQ(st.pending, 0u);
  Deliver("Order 3");
  st = StepAtWakeup(st);
  EXPECT_THAT(Subjects(), ElementsAre("Order 1", "Order 2", "Order 3"));
  st = StepAtWakeup(st);
  EXPECT_EQ(Subjects().size(), 3u);
}

// Verifies mail that was already read when first seen is not handed over.
TEST_F(MonitorTest, SkipsMailAlreadyRead) {
  Deliver("Old");
  auto inbox = *transport_->ResolveFolder("inbox", false);
  auto page = *transport_->SyncFolder(inbox, "", 10);
  ASSERT_TRUE(transport_->MarkRead(page.changes[0].message.id));
  Deliver("New");
  Monitor().Step();
  EXPECT_THAT(Subjects(), ElementsAre("New"));
}

// Verifies the move disposition files handed mail into a folder created on demand.
TEST_F(MonitorTest, MovesToProcessedFolder) {
  Deliver("File me");
  Disposition move;
  move.kind = DispositionKind::kMove;
  move.folder = "Processed";
  MonitorStatus st = Monitor(move).Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  auto inbox =
      ews_->store().GetDistinguishedFolder(kMailbox, mock_ews::DistinguishedFolder::kInbox);
  EXPECT_EQ(inbox->total_count, 0u);
  auto processed = transport_->ResolveFolder("Processed", false);
  ASSERT_TRUE(processed.has_value());
  EXPECT_EQ(ews_->store().GetFolder(*processed)->total_count, 1u);
}

// Verifies a handler failure backs off and hands the message again later, without handing the
// ones before it twice.
TEST_F(MonitorTest, HandlerFailureRetriesLater) {
  Deliver("A");
  Deliver("B");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(Subjects().size(), 2u);
  Deliver("C");
  {
    std::lock_guard lock(mu_);
    refuse_next_ = 1;
  }
  st = StepAtWakeup(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  EXPECT_EQ(st.last_error->code, "AppBusy");
  EXPECT_EQ(Subjects().size(), 2u);
  st = StepAtWakeup(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy);
  EXPECT_THAT(Subjects(), ElementsAre("A", "B", "C"));
}

// Verifies a sync state the server no longer accepts leads to a full resync that hands nothing
// twice and still finds the new mail.
TEST_F(MonitorTest, InvalidSyncStateResyncsWithoutRepeats) {
  Deliver("Before");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(Subjects().size(), 1u);
  ASSERT_TRUE(store_->CommitSyncBatch({kMailbox, "inbox"}, "bm90IGEgc3luYyBzdGF0ZQ==", {}));
  Deliver("After");
  st = StepAtWakeup(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  EXPECT_EQ(st.resyncs, 1u);
  EXPECT_THAT(Subjects(), ElementsAre("Before", "After"));
}

// Verifies a disposition that failed (the monitor died, or EWS failed) is applied by the next
// run without handing the message again.
TEST_F(MonitorTest, PendingDispositionSurvivesRestart) {
  const std::string id = Deliver("Half done");
  httplib::SSLClient control("127.0.0.1", ews_->port());
  control.set_ca_cert_path(ews_->ca_file().string());
  ASSERT_TRUE(control.Post("/_exo/faults",
                           R"({"path":"/EWS/Exchange.asmx","bodyContains":"UpdateItem",)"
                           R"("status":503,"headers":{"Retry-After":"5"},"body":"","times":1})",
                           "application/json"));
  MonitorStatus st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  EXPECT_EQ(st.pending, 1u);
  EXPECT_FALSE(IsRead(id));
  monitor_.reset();  // the process ends
  clock_.Advance(std::chrono::seconds(10));
  st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  EXPECT_TRUE(IsRead(id));
  EXPECT_THAT(Subjects(), ElementsAre("Half done"));
}

// Verifies a second monitor of the same mailbox is refused with the holder's name.
TEST_F(MonitorTest, LeaseConflictNamesHolder) {
  Deliver("Mine");
  Monitor({}, "host-a:100:ProjectA").Step();
  auto other_store = OpenSqliteCheckpointStore(state_dir_.path() / "checkpoint.db");
  ASSERT_TRUE(other_store.has_value());
  MonitorOptions o;
  o.key = {kMailbox, "inbox"};
  o.owner = "host-b:200:ProjectB";
  o.use_notifications = false;
  int handed = 0;
  MailboxMonitor second(
      o, *transport_, **other_store,
      [&](const HandledMessage&) -> Result<void> {
        ++handed;
        return {};
      },
      clock_, random_);
  MonitorStatus st = second.Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "LeaseHeld");
  EXPECT_THAT(st.last_error->message, ::testing::HasSubstr("host-a:100:ProjectA"));
  EXPECT_EQ(handed, 0);
}

// Verifies ErrorServerBusy's BackOffMilliseconds decides the next attempt, and the server sees
// no retry before it elapsed.
TEST_F(MonitorTest, HonoursServerBackOff) {
  Deliver("Busy");
  mock_ews::ForcedThrottling busy;
  busy.back_off_ms = 30000;
  busy.times = 1;
  ews_->throttling().Force(busy);
  MonitorStatus st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  EXPECT_EQ(st.last_error->code, "ErrorServerBusy");
  EXPECT_GE(st.next_wakeup - clock_.Monotonic(), std::chrono::seconds(30));
  st = StepAtWakeup(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  EXPECT_THAT(Subjects(), ElementsAre("Busy"));
  EXPECT_EQ(ews_->throttling().early_retries(), 0u);
}

// Verifies a token that expires between rounds is replaced without a failed request.
TEST_F(MonitorTest, TokenExpiryBetweenRounds) {
  Deliver("One");
  MonitorStatus st = Monitor().Step();
  const std::size_t before = tokens_->requests();
  clock_.Advance(std::chrono::hours(2));
  Deliver("Two");
  st = monitor_->Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  EXPECT_EQ(tokens_->requests(), before + 1);
  EXPECT_THAT(Subjects(), ElementsAre("One", "Two"));
}

// Verifies a token that expires in the middle of a round (between two hand-overs, with fetches
// and dispositions still to go) is replaced by one refresh, and the round finishes without a
// failure or a repeat.
TEST_F(MonitorTest, TokenExpiryMidRound) {
  for (int i = 0; i < 6; ++i) Deliver("Mid " + std::to_string(i));
  MonitorOptions o;
  o.key = {kMailbox, "inbox"};
  o.owner = "test:1";
  o.use_notifications = false;
  o.fetch_batch = 2;  // several fetches per round, so some happen after the expiry
  int handed = 0;
  monitor_ = std::make_unique<MailboxMonitor>(
      o, *transport_, *store_,
      [&](const HandledMessage&) -> Result<void> {
        if (++handed == 3) clock_.Advance(std::chrono::hours(2));  // the cached token is dead
        return {};
      },
      clock_, random_);
  const std::size_t before = tokens_->requests();
  const MonitorStatus st = monitor_->Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy)
      << (st.last_error ? st.last_error->Describe() : "");
  EXPECT_EQ(handed, 6);
  EXPECT_EQ(st.disposed, 6u);
  EXPECT_EQ(tokens_->requests(), before + 2);  // the first token, and one refresh
}

// Verifies Run() sleeps on the clock until a streaming notification wakes it for new mail.
TEST_F(MonitorTest, NotificationWakesRun) {
  MonitorOptions o;
  o.key = {kMailbox, "inbox"};
  o.owner = "test:run";
  o.poll_interval = std::chrono::hours(1);
  o.lease_ttl = std::chrono::hours(4);
  monitor_ = std::make_unique<MailboxMonitor>(
      o, *transport_, *store_,
      [this](const HandledMessage& m) -> Result<void> {
        std::lock_guard lock(mu_);
        subjects_.push_back(m.message.subject);
        cv_.notify_all();
        return {};
      },
      clock_, random_);
  std::thread runner([this] { monitor_->Run(); });
  // Parked: the monitor waiting for its wake-up and the server's stream waiting for events.
  clock_.AwaitWaiters(2);
  Deliver("Pushed");
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !subjects_.empty(); });
  }
  monitor_->Stop();
  runner.join();
  EXPECT_THAT(Subjects(), ElementsAre("Pushed"));
  EXPECT_EQ(monitor_->status().phase, MonitorStatus::Phase::kStopped);
}

}  // namespace
}  // namespace exo::client::test
