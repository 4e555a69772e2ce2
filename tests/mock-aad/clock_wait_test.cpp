// Simulated time across processes (mock-kit's control routes, served by every mock): the long
// poll POST /_exo/clock/wait, its cancel, GET /_exo/clock's "waiting", "inFlight" and "parked",
// and POST /_exo/clock/advance {"toMs"}. Against mock-aad on a SimulatedClock, and a bare
// mock-kit HttpServer where a request must stay in flight without waiting on the clock.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "aad_fixture.hpp"
#include "exo/mock_kit/http_server.hpp"

namespace exo::aad::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t Ms(MonoTime t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

class ClockWaitTest : public AadTest {
 protected:
  // A long poll on its own connection (the fixture's client belongs to the test's thread).
  std::future<HttpReply> WaitAsync(json body) {
    return std::async(std::launch::async, [this, body = std::move(body)] {
      httplib::SSLClient client("127.0.0.1", aad_->port());
      client.set_ca_cert_path(aad_->ca_file().string());
      client.enable_server_certificate_verification(true);
      client.set_read_timeout(40);  // above the server's 30 s cap: the server ends every wait
      HttpReply reply;
      auto res = client.Post("/_exo/clock/wait", body.dump(), "application/json");
      if (!res) {
        reply.transport_error = res.error();
        return reply;
      }
      reply.status = res->status;
      reply.body = res->body;
      return reply;
    });
  }

  json Clock() {
    const HttpReply r = Control("GET", "/clock");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }

  // GET /_exo/clock until `pred` holds: for state another thread is about to reach (a server
  // thread finishing its answer). The limit only bounds a broken test.
  json AwaitClock(const std::function<bool(const json&)>& pred) {
    json j;
    for (int i = 0; i < 10000; ++i) {
      j = Clock();
      if (pred(j)) return j;
      std::this_thread::yield();
    }
    ADD_FAILURE() << "GET /_exo/clock never showed the expected state: " << j.dump();
    return j;
  }
};

// Verifies a wait blocks until the clock is advanced to its untilMs, is listed with its who and
// untilMs while it blocks, answers reached=true with the clock's time, and leaves the list.
TEST_F(ClockWaitTest, ReturnsWhenTheClockIsAdvancedToIt) {
  const std::int64_t until = Ms(clock_.Monotonic()) + 60000;
  auto wait = WaitAsync({{"untilMs", until}, {"who", "monitor"}, {"id", "m-1"}});
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  const json listed = Clock();
  ASSERT_EQ(listed["waiting"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["waiting"][0], (json{{"id", "m-1"}, {"who", "monitor"}, {"untilMs", until}}));
  EXPECT_EQ(listed["inFlight"], 0);  // the control API is not the client's traffic
  EXPECT_EQ(listed["nextWakeupMs"], until);

  const HttpReply advanced = Control("POST", "/clock/advance", json{{"toMs", until}});
  ASSERT_EQ(advanced.status, 200) << advanced.body;
  const HttpReply r = wait.get();
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j["reached"], true);
  EXPECT_EQ(j["monotonicMs"], until);
  EXPECT_EQ(j["now"], FormatIso8601Ticks(clock_.Now()));
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_TRUE(Clock()["waiting"].empty());
}

// Verifies a wait for a time already reached answers at once, without being listed.
TEST_F(ClockWaitTest, AnswersAtOnceForAPastTime) {
  Control("POST", "/clock/advance", json{{"seconds", 10}});
  const HttpReply r = Control("POST", "/clock/wait", json{{"untilMs", 5000}, {"who", "monitor"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["reached"], true);
  EXPECT_EQ(r.Json()["monotonicMs"], Ms(clock_.Monotonic()));
}

// Verifies a wait ends after its real-time timeoutMs with reached=false and reason "timeout",
// simulated time unmoved and the waiter gone from the list.
TEST_F(ClockWaitTest, GivesUpAfterItsRealTimeout) {
  const std::int64_t start = Ms(clock_.Monotonic());
  const HttpReply r = Control("POST", "/clock/wait",
                              json{{"untilMs", start + 1000}, {"who", "w"}, {"timeoutMs", 50}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j["reached"], false);
  EXPECT_EQ(j["reason"], "timeout");
  EXPECT_EQ(j["monotonicMs"], start);
  EXPECT_TRUE(Clock()["waiting"].empty());
  EXPECT_EQ(clock_.WaiterCount(), 0u);
}

// Verifies DELETE /_exo/clock/wait/{id} takes the wait off the list before it answers, and the
// wait ends with reason "cancelled"; a cancel that overtakes its wait ends that wait on arrival.
TEST_F(ClockWaitTest, CancelEndsAWaitEvenOneNotArrivedYet) {
  auto wait = WaitAsync({{"untilMs", Ms(clock_.Monotonic()) + 1000}, {"id", "c-1"}});
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  const HttpReply cancelled = Control("DELETE", "/clock/wait/c-1");
  EXPECT_EQ(cancelled.status, 204);
  EXPECT_TRUE(Clock()["waiting"].empty());
  const HttpReply r = wait.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["reached"], false);
  EXPECT_EQ(r.Json()["reason"], "cancelled");

  EXPECT_EQ(Control("DELETE", "/clock/wait/c-2").status, 204);
  const HttpReply late = Control("POST", "/clock/wait",
                                 json{{"untilMs", Ms(clock_.Monotonic()) + 1000}, {"id", "c-2"}});
  ASSERT_EQ(late.status, 200) << late.body;
  EXPECT_EQ(late.Json()["reason"], "cancelled");
  EXPECT_EQ(clock_.WaiterCount(), 0u);
}

// Verifies a wait whose client hung up (it gave up, or died) is no longer listed as waiting.
TEST_F(ClockWaitTest, AClientThatHungUpIsNotWaiting) {
  httplib::SSLClient client("127.0.0.1", aad_->port());
  client.set_ca_cert_path(aad_->ca_file().string());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(40);
  auto wait = std::async(std::launch::async, [&] {
    return client.Post("/_exo/clock/wait",
                       json{{"untilMs", Ms(clock_.Monotonic()) + 1000}, {"who", "monitor"}}.dump(),
                       "application/json");
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  ASSERT_EQ(Clock()["waiting"].size(), 1u);
  client.stop();  // shuts the connection down, as a killed process's kernel would
  EXPECT_FALSE(wait.get());
  AwaitClock([](const json& j) { return j["waiting"].empty(); });
}

// Verifies a server that stops ends its waits at once (reason "stopping"), long before their
// real-time limit.
TEST_F(ClockWaitTest, StoppingTheServerEndsWaits) {
  auto wait = WaitAsync(
      {{"untilMs", Ms(clock_.Monotonic()) + 1000}, {"who", "monitor"}, {"timeoutMs", 30000}});
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  client_.reset();  // an idle kept-alive connection would hold up the stop
  aad_->Stop();
  const HttpReply r = wait.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["reached"], false);
  EXPECT_EQ(r.Json()["reason"], "stopping");
}

// Verifies a request that waits on the clock in the middle of its answer (a fault's latency) is
// in flight and parked until its deadline, and neither once it is answered.
TEST_F(ClockWaitTest, ListsRequestsInFlightAndParked) {
  json idle = Clock();
  EXPECT_EQ(idle["inFlight"], 0);
  EXPECT_EQ(idle["parked"], 0);
  EXPECT_EQ(idle["parkedUntilMs"], nullptr);
  ASSERT_EQ(
      Control("POST", "/faults", json{{"path", "discovery/keys"}, {"latencyMs", 2000}}).status,
      201);
  const std::int64_t due = Ms(clock_.Monotonic()) + 2000;
  auto slow = std::async(std::launch::async, [this] {
    httplib::SSLClient client("127.0.0.1", aad_->port());
    client.set_ca_cert_path(aad_->ca_file().string());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(10);
    auto res = client.Get("/common/discovery/keys");
    return res ? res->status : 0;
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  const json parked = AwaitClock([](const json& j) { return j["parked"] == 1; });
  EXPECT_EQ(parked["inFlight"], 1);
  EXPECT_EQ(parked["parkedUntilMs"], due);
  EXPECT_TRUE(parked["waiting"].empty());  // a server's own wait is no remote waiter

  Control("POST", "/clock/advance", json{{"toMs", due}});
  EXPECT_EQ(slow.get(), 200);
  // The answer reaches the client just before the server thread counts it done.
  const json done = AwaitClock([](const json& j) { return j["inFlight"] == 0; });
  EXPECT_EQ(done["parked"], 0);
}

// Verifies POST /_exo/clock/advance {"toMs"} moves monotonic time to exactly that instant, and a
// repeat or an earlier instant changes nothing.
TEST_F(ClockWaitTest, AdvancesToAMonotonicInstant) {
  const std::int64_t target = Ms(clock_.Monotonic()) + 90500;
  const SystemTime now = clock_.Now();
  HttpReply r = Control("POST", "/clock/advance", json{{"toMs", target}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["monotonicMs"], target);
  EXPECT_EQ(clock_.Now(), now + milliseconds(90500));
  EXPECT_EQ(Control("POST", "/clock/advance", json{{"toMs", target}}).Json()["monotonicMs"],
            target);
  EXPECT_EQ(Control("POST", "/clock/advance", json{{"toMs", 0}}).Json()["monotonicMs"], target);
  EXPECT_EQ(Control("POST", "/clock/advance", json{{"toMs", "soon"}}).status, 400);
}

// Verifies malformed waits are refused with 400 InvalidWait.
TEST_F(ClockWaitTest, RefusesMalformedWaits) {
  for (const json& body : {json::object(), json{{"untilMs", "later"}}, json{{"untilMs", -1}},
                           json{{"untilMs", 1}, {"who", ""}}, json{{"untilMs", 1}, {"who", 3}},
                           json{{"untilMs", 1}, {"timeoutMs", -5}},
                           json{{"untilMs", 1}, {"id", std::string(200, 'x')}}}) {
    const HttpReply r = Control("POST", "/clock/wait", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(r.Json()["error"]["code"], "InvalidWait") << body.dump();
  }
}

// Verifies a server on real (offset) time refuses waits with 409 and says why.
TEST(ClockWaitRealTimeTest, NeedsASimulatedClock) {
  exo::testing::TempDir dir;
  OffsetClock clock;
  MockAadOptions options;
  options.ca_dir = dir.path();
  options.threads = 2;
  auto aad = MockAad::Start(options, clock, &clock);
  ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
  httplib::SSLClient client("127.0.0.1", (*aad)->port());
  client.set_ca_cert_path((*aad)->ca_file().string());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(10);
  auto res = client.Post("/_exo/clock/wait", R"({"untilMs": 1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["error"]["code"], "NotSimulated");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("--clock simulated"),
            std::string::npos);
}

// Verifies "inFlight" counts a request that is being handled without waiting on the clock (and
// so is not parked), and the control API's own requests never.
TEST(ClockActivityTest, CountsARequestInProgress) {
  SimulatedClock clock;
  SeededRandom random(1);
  mock::ServerOptions options;
  options.threads = 4;
  mock::HttpServer server(options, clock, random);
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  server.Get("/hold", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    released.wait();
    res.set_content("done", "text/plain");
  });
  mock::RegisterCommonControlRoutes(server, &clock);
  ASSERT_TRUE(server.Start().has_value());
  httplib::Client control("127.0.0.1", server.port());
  control.set_read_timeout(10);
  auto read = [&] {
    auto res = control.Get("/_exo/clock");
    EXPECT_TRUE(res);
    return res ? json::parse(res->body) : json();
  };
  EXPECT_EQ(read()["inFlight"], 0);

  auto held = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(10);
    auto res = client.Get("/hold");
    return res ? res->status : 0;
  });
  entered.get_future().wait();
  const json busy = read();
  EXPECT_EQ(busy["inFlight"], 1);
  EXPECT_EQ(busy["parked"], 0);
  release.set_value();
  EXPECT_EQ(held.get(), 200);
  json after = read();
  for (int i = 0; i < 10000 && after["inFlight"] != 0; ++i) {
    std::this_thread::yield();
    after = read();
  }
  EXPECT_EQ(after["inFlight"], 0);
  server.Stop();
}

}  // namespace
}  // namespace exo::aad::test
