// The concurrent paths, written to be run under ThreadSanitizer (the tsan preset; CI's TSan job):
// the token cache's single flight under refreshes and invalidations, the monitor's Run loop woken
// by notification threads while others read its status and move the clock, and the mocks' HTTP
// server with its bounded thread pool under many clients and a stop in the middle of traffic.
// They assert outcomes too, so they also run in every other build. They link only exo::common,
// exo::mock_kit and exo::client: the TSan build compiles nothing else.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../client/fake_http.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/client/monitor.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_kit/http_server.hpp"

namespace exo {
namespace {

using client::test::FakeHttp;
using client::test::JsonResponse;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kScope = "https://outlook.office365.com/.default";

// --- tokens -------------------------------------------------------------------------------------

client::HttpResponse TokenAnswer(int serial, long expires_in) {
  const std::string payload = R"({"aud":"https://outlook.office365.com","jti":")" +
                              std::to_string(serial) + R"(","roles":["full_access_as_app"]})";
  const std::string jwt =
      Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode(payload) + ".sig";
  return JsonResponse(200, R"({"token_type":"Bearer","expires_in":)" +
                               std::to_string(expires_in) + R"(,"access_token":")" + jwt + "\"}");
}

// Many threads take tokens while one moves the clock past refresh points and another invalidates
// what it was given, as 401s would: every Get succeeds, and refreshes stay single-flight (never
// more requests than refresh points plus invalidations).
TEST(TokenProviderConcurrency, GetsRefreshesAndInvalidationsRace) {
  FakeHttp http;
  std::atomic<int> serial{0};
  http.Respond([&](const client::HttpRequest&) { return TokenAnswer(++serial, 3600); });
  SimulatedClock clock;
  SeededRandom random{11};
  client::ClientCredential credential;
  credential.tenant = "contoso.onmicrosoft.com";
  credential.client_id = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
  credential.secret = [] { return Result<client::SecretString>(client::SecretString("s3cret")); };
  client::TokenProvider tokens(credential, {}, http, clock, random);

  constexpr int kReaders = 8;
  constexpr int kRounds = 200;
  constexpr int kClockSteps = 20;
  constexpr int kInvalidations = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (!tokens.Get(kScope)) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kClockSteps; ++i) clock.Advance(minutes(40));  // past half-life each time
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kInvalidations; ++i) {
      if (auto t = tokens.Get(kScope)) tokens.Invalidate(kScope, std::string(t->value.Reveal()));
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(tokens.requests(), static_cast<std::size_t>(1 + kClockSteps + kInvalidations));
}

// --- the monitor --------------------------------------------------------------------------------

// An in-memory mailbox behind the transport interface: another thread delivers into it and fires
// the Watch callback as a streaming notification would, from its own thread.
class MemoryMailbox final : public client::MailboxTransport {
 public:
  void Deliver(int n) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      client::MailMessage m;
      m.id = "id-" + std::to_string(n);
      m.change_key = "ck";
      m.internet_message_id = "<" + std::to_string(n) + "@contoso.com>";
      m.subject = "Message " + std::to_string(n);
      m.from = "sender@contoso.com";
      m.mime = "Subject: " + m.subject + "\r\n\r\nbody\r\n";
      messages_[m.id] = m;
      pending_.push_back(m.id);
      notify = on_change_;
    }
    if (notify) notify();
  }

  client::TransportInfo Info() const override { return {"Memory", "memory:", "", true, ""}; }
  Result<std::string> ResolveFolder(const std::string&, bool) override { return "inbox"; }
  Result<client::SyncPage> SyncFolder(const std::string&, const std::string& state,
                                      int max_changes) override {
    std::lock_guard lock(mu_);
    // The sync state is the count of deliveries already reported.
    std::size_t from = state.empty() ? 0 : std::stoul(state);
    client::SyncPage page;
    while (from < pending_.size() && static_cast<int>(page.changes.size()) < max_changes) {
      client::FolderChange c;
      c.message = messages_.at(pending_[from++]);
      c.message.mime.clear();
      page.changes.push_back(std::move(c));
    }
    page.sync_state = std::to_string(from);
    page.more = from < pending_.size();
    return page;
  }
  Result<std::vector<client::MailMessage>> FetchMessages(
      const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    std::vector<client::MailMessage> out;
    for (const auto& id : ids) {
      if (auto it = messages_.find(id); it != messages_.end()) out.push_back(it->second);
    }
    return out;
  }
  Result<void> MarkRead(const std::string& id) override {
    std::lock_guard lock(mu_);
    messages_.at(id).is_read = true;
    return {};
  }
  Result<std::string> Move(const std::string& id, const std::string&) override { return id; }
  Result<void> Delete(const std::string&) override { return {}; }
  Result<void> Reply(const std::string&, const std::string&) override { return {}; }
  Result<bool> Watch(const std::string&, std::function<void()> on_change) override {
    std::lock_guard lock(mu_);
    on_change_ = std::move(on_change);
    return true;
  }
  void StopWatching() override {
    std::lock_guard lock(mu_);
    on_change_ = nullptr;
  }
  std::size_t read_count() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [id, m] : messages_) n += m.is_read;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, client::MailMessage> messages_;
  std::vector<std::string> pending_;
  std::function<void()> on_change_;
};

// Run() on its own thread while a delivery thread signals changes, a clock thread moves time and
// the test reads status(), calls Wake() and Retry(): every message is handed exactly once and
// marked read, and Stop() ends Run() promptly.
TEST(MonitorConcurrency, RunWithNotificationsStatusReadersAndStop) {
  constexpr int kMessages = 300;
  MemoryMailbox mailbox;
  auto store = client::MakeMemoryCheckpointStore();
  SimulatedClock clock;
  SeededRandom random{5};
  std::mutex handed_mu;
  std::multiset<std::string> handed;
  client::MonitorOptions options;
  options.key = {"shared@contoso.com", "inbox"};
  options.owner = "tsan:1";
  options.poll_interval = seconds(30);
  options.fetch_batch = 7;
  std::atomic<std::size_t> statuses{0};
  options.on_status = [&](const client::MonitorStatus&) { ++statuses; };
  client::MailboxMonitor monitor(
      options, mailbox, *store,
      [&](const client::HandledMessage& h) -> Result<void> {
        std::lock_guard lock(handed_mu);
        handed.insert(h.idempotency_key);
        return {};
      },
      clock, random);

  std::thread runner([&] { monitor.Run(); });
  std::thread deliveries([&] {
    for (int i = 0; i < kMessages; ++i) mailbox.Deliver(i);
  });
  std::atomic<bool> done{false};
  std::thread ticker([&] {
    while (!done) clock.Advance(seconds(5));
  });
  auto all_handed = [&] {
    std::lock_guard lock(handed_mu);
    return handed.size() >= kMessages;
  };
  while (!all_handed() || mailbox.read_count() < kMessages) {
    (void)monitor.status();
    monitor.Wake();
    if (statuses % 50 == 0) monitor.Retry();
    std::this_thread::yield();
  }
  deliveries.join();
  monitor.Stop();
  runner.join();
  done = true;
  ticker.join();

  std::lock_guard lock(handed_mu);
  EXPECT_EQ(handed.size(), static_cast<std::size_t>(kMessages));
  for (const auto& key : handed) EXPECT_EQ(handed.count(key), 1u) << key;
  EXPECT_EQ(monitor.status().phase, client::MonitorStatus::Phase::kStopped);
}

// --- the mocks' HTTP server ---------------------------------------------------------------------

// More clients than worker threads, all at once, while others read the journal and the activity
// counters: every request is answered, the journal stays within its ring, and Stop() in the middle
// of a last burst returns (the burst's requests fail or succeed, none hangs).
TEST(HttpServerConcurrency, ManyClientsThenStopUnderLoad) {
  SimulatedClock clock;
  SeededRandom random{3};
  mock::ServerOptions options;
  options.name = "tsan";
  options.threads = 8;
  options.journal_capacity = 100;
  mock::HttpServer server(options, clock, random);
  std::atomic<int> handled{0};
  server.Post("/echo", [&](const httplib::Request& req, httplib::Response& res) {
    ++handled;
    res.set_content(req.body, "text/plain");
  });
  ASSERT_TRUE(server.Start());

  constexpr int kClients = 32;
  constexpr int kRequests = 40;
  std::atomic<int> ok{0};
  std::atomic<bool> stop_readers{false};
  std::thread reader([&] {
    while (!stop_readers) {
      (void)server.journal().size();
      (void)server.activity();
    }
  });
  std::mutex errors_mu;
  std::set<std::string> errors;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", server.port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(c) + ":" + std::to_string(i);
        auto res = http.Post("/echo", body, "text/plain");
        if (res && res->status == 200 && res->body == body) {
          ++ok;
        } else {
          std::lock_guard lock(errors_mu);
          errors.insert(res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests) << ::testing::PrintToString(errors);
  EXPECT_LE(server.journal().size(), options.journal_capacity);

  // A last burst, and Stop() while it is in flight.
  std::vector<std::thread> burst;
  for (int c = 0; c < kClients; ++c) {
    burst.emplace_back([&] {
      httplib::Client http("127.0.0.1", server.port());
      http.set_connection_timeout(seconds(5));
      for (int i = 0; i < 5; ++i) (void)http.Post("/echo", "x", "text/plain");
    });
  }
  server.Stop();
  for (auto& t : burst) t.join();
  stop_readers = true;
  reader.join();
  EXPECT_GE(handled.load(), kClients * kRequests);
}

}  // namespace
}  // namespace exo
