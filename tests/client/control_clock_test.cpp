// ControlClock against mock-aad's control API on a SimulatedClock the test owns, as exo-scenario
// would drive a client in another process: the test plays the runner and advances the clock.
#include "exo/client/control_clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "../common/temp_dir.hpp"
#include "exo/mock_aad/mock_aad.hpp"

namespace exo::client {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class ControlClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_dir_ = std::make_unique<exo::testing::TempDir>();
    aad::MockAadOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 4;
    auto aad = aad::MockAad::Start(options, clock_, &clock_);
    ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
    aad_ = std::move(*aad);
    HttpOptions h;
    h.ca_bundle = aad_->ca_file();
    http_ = MakeHttpTransport(h);
    control_ = aad_->base_url() + "/_exo";
  }

  void TearDown() override {
    http_.reset();
    aad_.reset();
  }

  std::unique_ptr<ControlClock> Connect(milliseconds poll_timeout = milliseconds(20000)) {
    ControlClockOptions o;
    o.control_url = control_ + "/";  // a trailing slash is forgiven
    o.ca_bundle = aad_->ca_file();
    o.poll_timeout = poll_timeout;
    auto c = ControlClock::Connect(o);
    EXPECT_TRUE(c.has_value()) << c.error().Describe();
    return c ? std::move(*c) : nullptr;
  }

  // What the runner sees: GET /_exo/clock.
  json Read() {
    auto res = http_->Send(HttpRequest{"GET", control_ + "/clock", {}, {}});
    EXPECT_TRUE(res.has_value());
    return res ? json::parse(res->body) : json();
  }

  // GET /_exo/clock until `pred` holds (a client thread about to post its wait); the limit only
  // bounds a broken test.
  json AwaitRead(const std::function<bool(const json&)>& pred) {
    // Bounded by real time, not a count of reads: on a loaded CI machine a read can take long.
    json j;
    const auto give_up = RealClock::Instance().Monotonic() + std::chrono::seconds(60);
    while (RealClock::Instance().Monotonic() < give_up) {
      j = Read();
      if (pred(j)) return j;
      std::this_thread::yield();
    }
    ADD_FAILURE() << "never saw the expected clock state: " << j.dump();
    return j;
  }

  SimulatedClock clock_;
  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<HttpTransport> http_;
  std::string control_;
};

// Verifies Now() and Monotonic() read the harness's clock on every call, following its advances.
TEST_F(ControlClockTest, NowAndMonotonicFollowTheHarness) {
  auto clock = Connect();
  ASSERT_TRUE(clock);
  EXPECT_EQ(clock->Now(), clock_.Now());
  EXPECT_EQ(clock->Monotonic(), clock_.Monotonic());
  clock_.Advance(minutes(65) + milliseconds(250));
  EXPECT_EQ(clock->Now(), clock_.Now());
  EXPECT_EQ(clock->Monotonic(), clock_.Monotonic());
}

// Verifies a wait is listed on the harness under the thread's label (the monitor's), blocks until
// the runner advances the clock to it, and then reports the deadline reached (false).
TEST_F(ControlClockTest, WaitUntilReturnsWhenTheRunnerAdvances) {
  auto clock = Connect();
  ASSERT_TRUE(clock);
  const MonoTime deadline = clock_.Monotonic() + seconds(60);
  auto waited = std::async(std::launch::async, [&] {
    ControlClock::ScopedWaitLabel label("monitor");
    return clock->WaitUntil(deadline, [] { return false; });
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  const json seen = Read();
  ASSERT_EQ(seen["waiting"].size(), 1u) << seen.dump();
  EXPECT_EQ(seen["waiting"][0]["who"], "monitor");
  EXPECT_EQ(seen["waiting"][0]["untilMs"], 60000);
  EXPECT_EQ(seen["inFlight"], 0);

  clock_.AdvanceTo(deadline);
  EXPECT_FALSE(waited.get());
  EXPECT_GE(clock->Monotonic(), deadline);
  EXPECT_TRUE(Read()["waiting"].empty());
}

// Verifies Notify() from another thread ends a wait whose predicate holds, without any time
// passing, and the harness no longer lists the wait once WaitUntil has returned.
TEST_F(ControlClockTest, NotifyInterruptsAWait) {
  auto clock = Connect();
  ASSERT_TRUE(clock);
  std::atomic<bool> stop{false};
  const MonoTime start = clock_.Monotonic();
  auto waited = std::async(std::launch::async, [&] {
    ControlClock::ScopedWaitLabel label("monitor");
    return clock->WaitUntil(start + minutes(60), [&] { return stop.load(); });
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  clock->Notify();  // the predicate is still false: the wait goes on
  stop = true;
  clock->Notify();
  EXPECT_TRUE(waited.get());
  EXPECT_TRUE(Read()["waiting"].empty());
  EXPECT_EQ(clock_.Monotonic(), start);
}

// Verifies an unlabelled thread waits as the default "client", and a wait that reaches the
// server's real-time limit is posted again until the clock gets there.
TEST_F(ControlClockTest, PostsAgainAfterTheRealTimeLimit) {
  auto clock = Connect(milliseconds(20));
  ASSERT_TRUE(clock);
  const MonoTime deadline = clock_.Monotonic() + seconds(5);
  auto waited = std::async(std::launch::async, [&] { return clock->WaitUntil(deadline, {}); });
  // Ids end with the attempt: anything but "-0" is this wait posted again.
  const json again = AwaitRead([](const json& j) {
    if (j["waiting"].empty()) return false;
    const std::string id = j["waiting"][0]["id"];
    return id.size() > 2 && id.substr(id.size() - 2) != "-0";
  });
  EXPECT_EQ(again["waiting"][0]["who"], "client");
  clock_.AdvanceTo(deadline);
  EXPECT_FALSE(waited.get());
}

// Verifies a past deadline returns at once, and a predicate that already holds returns true.
TEST_F(ControlClockTest, PastDeadlineAndHeldPredicateReturnAtOnce) {
  auto clock = Connect();
  ASSERT_TRUE(clock);
  clock_.Advance(seconds(10));
  EXPECT_FALSE(clock->WaitUntil(clock->Monotonic() - seconds(1), {}));
  EXPECT_TRUE(clock->WaitUntil(clock->Monotonic() + minutes(1), [] { return true; }));
  EXPECT_EQ(clock_.WaiterCount(), 0u);
}

// Verifies Connect refuses a harness on real time (its waits would be refused) and an address
// that is no control API, each with a remedy.
TEST_F(ControlClockTest, ConnectRefusesWhatItCannotWaitOn) {
  exo::testing::TempDir dir;
  OffsetClock offset;
  aad::MockAadOptions options;
  options.ca_dir = dir.path();
  options.threads = 2;
  auto real = aad::MockAad::Start(options, offset, &offset);
  ASSERT_TRUE(real.has_value()) << real.error().Describe();
  ControlClockOptions o;
  o.control_url = (*real)->base_url() + "/_exo";
  o.ca_bundle = (*real)->ca_file();
  auto c = ControlClock::Connect(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, "NotSimulated");
  EXPECT_NE(c.error().remedy.find("--clock simulated"), std::string::npos);

  o.control_url = aad_->base_url() + "/nowhere";
  o.ca_bundle = aad_->ca_file();
  c = ControlClock::Connect(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, "ClockUrl");
}

}  // namespace
}  // namespace exo::client
