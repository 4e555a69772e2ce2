// The out-of-process driver (scenarios/src/remote.cpp): the clock driver's idle rule against
// mock-aad in this process on a SimulatedClock (the test plays the client, through ControlClock
// and plain requests), exo-harness as a child process, and a client command's events and exits.
#include "internal/remote.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "../common/temp_dir.hpp"
#include "exo/client/control_clock.hpp"
#include "exo/common/file.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_kit/http_server.hpp"

namespace exo::scenarios::internal {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t Ms(MonoTime t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

class RemoteClockDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_dir_ = std::make_unique<exo::testing::TempDir>();
    aad_ = StartAad();
  }
  void TearDown() override { aad_.reset(); }

  std::unique_ptr<aad::MockAad> StartAad() {
    aad::MockAadOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 4;
    auto aad = aad::MockAad::Start(options, clock_, &clock_);
    EXPECT_TRUE(aad.has_value()) << aad.error().Describe();
    return aad ? std::move(*aad) : nullptr;
  }

  RemoteClockDriver Driver(std::vector<std::string> urls = {}, bool polls_only = true) {
    RemoteClockDriver::Options o;
    o.control_urls = urls.empty() ? std::vector{aad_->base_url() + "/_exo"} : urls;
    o.ca_bundle = aad_->ca_file();
    o.client_polls_only = polls_only;
    return RemoteClockDriver(o);
  }

  std::unique_ptr<client::ControlClock> ClientClock() {
    client::ControlClockOptions o;
    o.control_url = aad_->base_url() + "/_exo";
    o.ca_bundle = aad_->ca_file();
    auto c = client::ControlClock::Connect(o);
    EXPECT_TRUE(c.has_value()) << c.error().Describe();
    return c ? std::move(*c) : nullptr;
  }

  SimulatedClock clock_;
  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  std::unique_ptr<aad::MockAad> aad_;
};

// Verifies the driver finds the client idle once its monitor waits for a later time, returns that
// time, and AdvanceTo wakes the client there.
TEST_F(RemoteClockDriverTest, IdleWhenTheMonitorWaits) {
  auto client_clock = ClientClock();
  ASSERT_TRUE(client_clock);
  const MonoTime deadline = clock_.Monotonic() + seconds(60);
  auto waited = std::async(std::launch::async, [&] {
    client::ControlClock::ScopedWaitLabel label("monitor");
    return client_clock->WaitUntil(deadline, {});
  });
  RemoteClockDriver driver = Driver();
  auto idle = driver.WaitForIdle(seconds(10));
  ASSERT_TRUE(idle.has_value()) << idle.error().Describe();
  EXPECT_EQ(idle->now_ms, Ms(clock_.Monotonic()));
  EXPECT_EQ(idle->monitor_until_ms, Ms(deadline));
  EXPECT_EQ(idle->parked_until_ms, std::nullopt);
  EXPECT_EQ(idle->next_ms, Ms(deadline));

  ASSERT_TRUE(driver.AdvanceTo(idle->next_ms).has_value());
  EXPECT_FALSE(waited.get());
  EXPECT_EQ(clock_.Monotonic(), deadline);
}

// Verifies a client that waits under another name, or not at all, is a hang the driver reports
// with what it saw, never a reason to advance.
TEST_F(RemoteClockDriverTest, NoMonitorWaitIsAHangNamedWithWhatWasSeen) {
  auto client_clock = ClientClock();
  ASSERT_TRUE(client_clock);
  std::atomic<bool> stop{false};
  const MonoTime start = clock_.Monotonic();
  auto waited = std::async(std::launch::async, [&] {
    return client_clock->WaitUntil(start + seconds(30), [&] { return stop.load(); });
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  RemoteClockDriver driver = Driver();
  auto idle = driver.WaitForIdle(milliseconds(100));
  ASSERT_FALSE(idle.has_value());
  EXPECT_EQ(idle.error().code, "ClientHang");
  EXPECT_NE(idle.error().message.find("waiting=[client@30000]"), std::string::npos)
      << idle.error().message;
  EXPECT_NE(idle.error().message.find(aad_->base_url()), std::string::npos);
  stop = true;
  client_clock->Notify();
  EXPECT_TRUE(waited.get());
  EXPECT_EQ(clock_.Monotonic(), start);
}

// Verifies a request parked on the server's clock (a fault's latency) with no monitor wait is a
// polling client blocked on a slow answer: idle until the answer's deadline; and that without
// client_polls_only it is not.
TEST_F(RemoteClockDriverTest, ASlowAnswerIsIdleForAPollingClient) {
  httplib::SSLClient control("127.0.0.1", aad_->port());
  control.set_ca_cert_path(aad_->ca_file().string());
  control.enable_server_certificate_verification(true);
  control.set_read_timeout(10);
  auto rule = control.Post("/_exo/faults", R"({"path": "discovery/keys", "latencyMs": 1500})",
                           "application/json");
  ASSERT_TRUE(rule);
  ASSERT_EQ(rule->status, 201);
  const std::int64_t due = Ms(clock_.Monotonic()) + 1500;
  auto slow = std::async(std::launch::async, [&] {
    httplib::SSLClient client("127.0.0.1", aad_->port());
    client.set_ca_cert_path(aad_->ca_file().string());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(10);
    auto res = client.Get("/common/discovery/keys");
    return res ? res->status : 0;
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  auto strict = Driver({}, /*polls_only=*/false).WaitForIdle(milliseconds(100));
  ASSERT_FALSE(strict.has_value());
  EXPECT_NE(strict.error().message.find("parked=1 (until " + std::to_string(due) + ")"),
            std::string::npos)
      << strict.error().message;

  RemoteClockDriver driver = Driver();
  auto idle = driver.WaitForIdle(seconds(10));
  ASSERT_TRUE(idle.has_value()) << idle.error().Describe();
  EXPECT_EQ(idle->monitor_until_ms, std::nullopt);
  EXPECT_EQ(idle->parked_until_ms, due);
  EXPECT_EQ(idle->next_ms, due);
  ASSERT_TRUE(driver.AdvanceTo(idle->next_ms).has_value());
  EXPECT_EQ(slow.get(), 200);
}

// Verifies AdvanceTo moves servers that share one clock once (the second finds it there), as
// exo-harness's two servers do, and never moves time back.
TEST_F(RemoteClockDriverTest, AdvanceToIsIdempotentAcrossServersOnOneClock) {
  auto second = StartAad();
  ASSERT_TRUE(second);
  RemoteClockDriver driver = Driver({aad_->base_url() + "/_exo", second->base_url() + "/_exo/"});
  const std::int64_t target = Ms(clock_.Monotonic()) + 3600000;
  ASSERT_TRUE(driver.AdvanceTo(target).has_value());
  EXPECT_EQ(Ms(clock_.Monotonic()), target);
  ASSERT_TRUE(driver.AdvanceTo(target - 1000).has_value());
  EXPECT_EQ(Ms(clock_.Monotonic()), target);
  for (std::size_t i = 0; i < 2; ++i) {
    auto read = driver.Read(i);
    ASSERT_TRUE(read.has_value()) << read.error().Describe();
    EXPECT_EQ(read->monotonic_ms, target);
  }
}

// Verifies a request being worked on (in flight, not parked) on any server keeps the client from
// being idle even while its monitor waits, and that once it is answered the client is idle.
TEST(RemoteClockDriverActivityTest, WorkInFlightIsNotIdle) {
  SimulatedClock clock;
  SeededRandom random(7);
  mock::ServerOptions options;
  options.threads = 4;
  mock::HttpServer server(options, clock, random);
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  server.Get("/work", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    released.wait();
    res.set_content("done", "text/plain");
  });
  mock::RegisterCommonControlRoutes(server, &clock);
  ASSERT_TRUE(server.Start().has_value());
  const std::string control = server.base_url() + "/_exo";

  auto work = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(10);
    auto res = c.Get("/work");
    return res ? res->status : 0;
  });
  entered.get_future().wait();
  auto wait = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(40);
    auto res = c.Post("/_exo/clock/wait", R"({"untilMs": 5000, "who": "monitor", "id": "m"})",
                      "application/json");
    return res ? json::parse(res->body) : json();
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  RemoteClockDriver::Options o;
  o.control_urls = {control};
  RemoteClockDriver driver(o);
  auto busy = driver.WaitForIdle(milliseconds(100));
  ASSERT_FALSE(busy.has_value());
  EXPECT_NE(busy.error().message.find("inFlight=1 parked=0 waiting=[monitor@5000]"),
            std::string::npos)
      << busy.error().message;

  release.set_value();
  EXPECT_EQ(work.get(), 200);
  auto idle = driver.WaitForIdle(seconds(10));
  ASSERT_TRUE(idle.has_value()) << idle.error().Describe();
  EXPECT_EQ(idle->next_ms, 5000);
  ASSERT_TRUE(driver.AdvanceTo(5000).has_value());
  EXPECT_EQ(wait.get()["reached"], true);
  server.Stop();
}

// ---- Processes ----

// Waits (bounded, real time) until the client's events file holds `n` events; real process
// output, not simulated time.
ClientProcess::Events AwaitEvents(ClientProcess& c, std::size_t n) {
  ClientProcess::Events all;
  for (int i = 0; i < 5000 && all.events.size() < n; ++i) {
    auto more = c.ReadEvents();
    for (auto& e : more.events) all.events.push_back(std::move(e));
    for (auto& e : more.errors) all.errors.push_back(std::move(e));
    if (all.events.size() < n) RealClock::Instance().SleepFor(milliseconds(2));
  }
  return all;
}

// Verifies exo-harness starts with its ready file, lists both servers' control APIs on one
// simulated clock, and stops on SIGTERM with exit code 0.
TEST(HarnessProcessTest, StartsReadyAndStops) {
  exo::testing::TempDir dir;
  HarnessProcess::Options o;
  o.binary = EXO_HARNESS_BIN;
  o.args = {"--clock", "simulated", "--start-time", "2027-01-04T08:00:00Z",
            "--seed",  "3",         "--ca-dir",     (dir.path() / "ca").string()};
  o.work_dir = dir.path() / "harness";
  auto h = HarnessProcess::Start(o);
  ASSERT_TRUE(h.has_value()) << h.error().Describe();
  EXPECT_EQ((*h)->ready()["clock"], "simulated");
  ASSERT_EQ((*h)->control_urls().size(), 2u);
  EXPECT_TRUE(std::filesystem::exists((*h)->ca_file()));

  {
    RemoteClockDriver::Options d;
    d.control_urls = (*h)->control_urls();
    d.ca_bundle = (*h)->ca_file();
    RemoteClockDriver driver(d);
    ASSERT_TRUE(driver.AdvanceTo(90000).has_value());
    for (std::size_t i = 0; i < 2; ++i) {
      auto read = driver.Read(i);
      ASSERT_TRUE(read.has_value()) << read.error().Describe();
      EXPECT_EQ(read->monotonic_ms, 90000);  // one clock behind both servers
    }
  }  // its kept-alive connections closed: a server's stop waits for idle ones
  const ExitStatus stopped = (*h)->Stop();
  EXPECT_EQ(stopped.code, 0) << stopped.Describe();
  EXPECT_EQ(stopped.signal, 0);
}

// Verifies a harness that exits before it is ready is reported with its exit status and what it
// said on standard error.
TEST(HarnessProcessTest, ReportsAHarnessThatDiesBeforeReady) {
  exo::testing::TempDir dir;
  HarnessProcess::Options o;
  o.binary = EXO_HARNESS_BIN;
  o.args = {"--clock", "simulated", "--world", (dir.path() / "missing.json").string()};
  o.work_dir = dir.path() / "harness";
  auto h = HarnessProcess::Start(o);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, "HarnessStart");
  EXPECT_NE(h.error().message.find("exited before it was ready (exit code"), std::string::npos)
      << h.error().message;
  EXPECT_NE(h.error().message.find("missing.json"), std::string::npos) << h.error().message;
}

// Verifies a client command runs in its working directory with the added environment, its
// events are read as they are appended (a broken line reported, a partial line kept for later),
// and Kill() is a SIGKILL.
TEST(ClientProcessTest, TailsEventsAndKills) {
  exo::testing::TempDir dir;
  ClientProcess::Options o;
  const auto events = dir.path() / "events.jsonl";
  o.argv = {"sh", "-c",
            "printf '{\"event\":\"env\",\"foo\":\"%s\",\"pwd\":\"%s\"}\\nnot json\\n' \"$FOO\" "
            "\"$PWD\" >> \"$EVENTS\"; printf '{\"event\":\"half' >> \"$EVENTS\"; exec sleep 600"};
  o.environment = {{"FOO", "bar baz"}, {"EVENTS", events.string()}};
  o.working_dir = dir.path();
  o.stdout_file = dir.path() / "out.txt";
  o.stderr_file = dir.path() / "err.txt";
  o.events_file = events;
  auto c = ClientProcess::Start(o);
  ASSERT_TRUE(c.has_value()) << c.error().Describe();
  auto seen = AwaitEvents(**c, 1);
  ASSERT_EQ(seen.events.size(), 1u);
  EXPECT_EQ(seen.events[0]["foo"], "bar baz");
  EXPECT_EQ(std::filesystem::path(seen.events[0]["pwd"].get<std::string>()), dir.path());
  ASSERT_EQ(seen.errors.size(), 1u);
  EXPECT_NE(seen.errors[0].find("line 2 is no JSON object: not json"), std::string::npos)
      << seen.errors[0];

  std::ofstream(events, std::ios::app) << "\"}\n";  // the half line completed
  auto rest = (*c)->ReadEvents();
  ASSERT_EQ(rest.events.size(), 1u);
  EXPECT_EQ(rest.events[0]["event"], "half");
  EXPECT_FALSE((*c)->Exited().has_value());

  const ExitStatus killed = (*c)->Kill();
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.Describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ((*c)->Exited()->signal, SIGKILL);
}

// Verifies Stop() sends SIGTERM to the client's process group and reports how it exited.
TEST(ClientProcessTest, StopIsASigterm) {
  exo::testing::TempDir dir;
  ClientProcess::Options o;
  const auto events = dir.path() / "events.jsonl";
  o.argv = {"sh", "-c",
            "trap 'exit 3' TERM; echo '{\"event\":\"ready\"}' >> \"$EVENTS\"; sleep 600 & wait"};
  o.environment = {{"EVENTS", events.string()}};
  o.stdout_file = dir.path() / "out.txt";
  o.stderr_file = dir.path() / "err.txt";
  o.events_file = events;
  auto c = ClientProcess::Start(o);
  ASSERT_TRUE(c.has_value()) << c.error().Describe();
  ASSERT_EQ(AwaitEvents(**c, 1).events.size(), 1u);  // its trap is set
  const ExitStatus stopped = (*c)->Stop();
  EXPECT_EQ(stopped.code, 3) << stopped.Describe();
}

// Verifies a command that cannot be started is an error naming it.
TEST(ClientProcessTest, ReportsACommandThatCannotStart) {
  exo::testing::TempDir dir;
  ClientProcess::Options o;
  o.argv = {"exo-no-such-client-binary"};
  o.stdout_file = dir.path() / "out.txt";
  o.stderr_file = dir.path() / "err.txt";
  auto c = ClientProcess::Start(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, "ClientStart");
  EXPECT_NE(c.error().message.find("exo-no-such-client-binary"), std::string::npos);
}

}  // namespace
}  // namespace exo::scenarios::internal
