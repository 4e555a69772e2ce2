// Subscribe, GetEvents, GetStreamingEvents and Unsubscribe against mock-ews (reference ews.md §2.9,
// §2.10), driven on the fixture's SimulatedClock.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "../../mock-ews/src/internal/ews_streams.hpp"
#include "ews_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using namespace std::chrono_literals;

std::string PullSubscribe(const std::string& event_types, int timeout_minutes = 30,
                          const std::string& watermark = {}) {
  return Envelope(
      "<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
      "Id=\"inbox\"/></t:FolderIds><t:EventTypes>" +
      event_types + "</t:EventTypes>" +
      (watermark.empty() ? "" : "<t:Watermark>" + watermark + "</t:Watermark>") + "<t:Timeout>" +
      std::to_string(timeout_minutes) + "</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>");
}

std::string StreamingSubscribe() {
  return Envelope(
      "<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
      "Id=\"inbox\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType>"
      "<t:EventType>CreatedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest>"
      "</m:Subscribe>");
}

std::string GetEvents(const std::string& id, const std::string& watermark) {
  return Envelope("<m:GetEvents><m:SubscriptionId>" + id + "</m:SubscriptionId><m:Watermark>" +
                  watermark + "</m:Watermark></m:GetEvents>");
}

std::string GetStreamingEvents(const std::string& id, int minutes) {
  return Envelope("<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>" + id +
                  "</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>" +
                  std::to_string(minutes) + "</m:ConnectionTimeout></m:GetStreamingEvents>");
}

constexpr const char* kNewMailAndCreated =
    "<t:EventType>NewMailEvent</t:EventType><t:EventType>CreatedEvent</t:EventType>";
constexpr const char* kUnprefixedEnvelope =
    "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">";

// A GetStreamingEvents connection read on its own thread and its own HTTPS client, as
// ews-javascript-api reads it: chunk by chunk, looking for whole envelopes.
class StreamReader {
 public:
  explicit StreamReader(std::unique_ptr<httplib::SSLClient> client) : client_(std::move(client)) {}
  // Keeps what the client received beside the fixture's response corpus, so the schema check
  // sees every streamed envelope as the client saw it.
  ~StreamReader() {
    if (thread_.joinable()) thread_.join();
    const char* dir = std::getenv("EXO_EWS_CORPUS_DIR");
    if (dir == nullptr || *dir == '\0' || received_.empty()) return;
    static int serial = 0;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::filesystem::create_directories(dir);
    std::ofstream(std::string(dir) + "/" + info->test_suite_name() + "." + info->name() +
                      "-stream" + std::to_string(++serial) + ".xml",
                  std::ios::binary)
        << received_;
  }

  void Open(const std::string& envelope, const std::string& token,
            bool hang_up_after_first = false) {
    thread_ = std::thread([this, envelope, token, hang_up_after_first] {
      httplib::Request req;
      req.method = "POST";
      req.path = "/EWS/Exchange.asmx";
      req.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "text/xml; charset=utf-8"},
                     // What exchangelib sends: the stream must still come uncompressed.
                     {"Accept-Encoding", "gzip, deflate"}};
      req.body = envelope;
      req.content_receiver = [this, hang_up_after_first](const char* data, std::size_t n,
                                                         std::uint64_t, std::uint64_t) {
        std::lock_guard lock(mu_);
        received_.append(data, n);
        cv_.notify_all();
        return !(hang_up_after_first && Envelopes() >= 1);
      };
      auto res = client_->send(req);
      std::lock_guard lock(mu_);
      if (res) {
        status_ = res->status;
        transfer_encoding_ = res->get_header_value("Transfer-Encoding");
        content_encoding_ = res->get_header_value("Content-Encoding");
      }
      finished_ = true;
      cv_.notify_all();
    });
  }

  // Waits (bounded by the fixture's one real-time limit) until `n` whole envelopes arrived.
  bool AwaitEnvelopes(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return Envelopes() >= n || finished_; }) &&
           Envelopes() >= n;
  }
  bool AwaitEnd() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return finished_; });
  }
  // The n-th envelope (0-based).
  std::string EnvelopeAt(std::size_t n) {
    std::lock_guard lock(mu_);
    std::size_t pos = 0;
    for (std::size_t i = 0;; ++i) {
      const std::size_t begin = received_.find("<Envelope", pos);
      const std::size_t end = received_.find("</Envelope>", begin);
      if (begin == std::string::npos || end == std::string::npos) return {};
      if (i == n) return received_.substr(begin, end + 11 - begin);
      pos = end;
    }
  }
  std::string received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  int status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string transfer_encoding() {
    std::lock_guard lock(mu_);
    return transfer_encoding_;
  }
  std::string content_encoding() {
    std::lock_guard lock(mu_);
    return content_encoding_;
  }

 private:
  std::size_t Envelopes() const {
    std::size_t count = 0;
    for (std::size_t p = received_.find("</Envelope>"); p != std::string::npos;
         p = received_.find("</Envelope>", p + 1)) {
      ++count;
    }
    return count;
  }

  std::unique_ptr<httplib::SSLClient> client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string received_;
  int status_ = 0;
  std::string transfer_encoding_, content_encoding_;
  bool finished_ = false;
};

class EwsNotifyTest : public EwsTest {
 protected:
  // Subscribes and returns {subscription id, watermark}.
  std::pair<std::string, std::string> Subscribe(const std::string& envelope) {
    const HttpReply r = Ews(envelope, token_);
    EXPECT_EQ(r.status, 200) << r.body;
    Soap soap(r.body);
    EXPECT_EQ(soap.Text("ResponseCode"), "NoError") << r.body;
    return {soap.Text("SubscriptionId"), soap.Text("Watermark")};
  }

  std::unique_ptr<StreamReader> OpenStream(const std::string& id, int minutes,
                                           bool hang_up_after_first = false) {
    auto reader = std::make_unique<StreamReader>(MakeClient(ews_->port()));
    reader->Open(GetStreamingEvents(id, minutes), token_, hang_up_after_first);
    return reader;
  }
};

// Verifies a pull subscription answers with an id and a watermark, as exchangelib reads them.
TEST_F(EwsNotifyTest, PullSubscribeReturnsIdAndWatermark) {
  auto [id, watermark] = Subscribe(PullSubscribe(kNewMailAndCreated));
  EXPECT_FALSE(id.empty());
  EXPECT_FALSE(watermark.empty());
}

// Verifies GetEvents returns the NewMail and Created events of a delivery, in that order, each
// with its own watermark, the item and its parent folder.
TEST_F(EwsNotifyTest, GetEventsReturnsNewMailAndCreatedWithWatermarks) {
  auto [id, watermark] = Subscribe(PullSubscribe(kNewMailAndCreated));
  Deliver("first");
  const HttpReply r = Ews(GetEvents(id, watermark), token_);
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "NoError");
  EXPECT_EQ(soap.Find("Notification").child("t:SubscriptionId").text().as_string(), id);
  EXPECT_EQ(soap.Text("PreviousWatermark"), watermark);
  EXPECT_EQ(soap.Text("MoreEvents"), "false");
  pugi::xml_node first = soap.Find("PreviousWatermark").next_sibling().next_sibling();
  ASSERT_STREQ(first.name(), "t:NewMailEvent") << r.body;
  ASSERT_STREQ(first.next_sibling().name(), "t:CreatedEvent") << r.body;
  for (pugi::xml_node e : {first, first.next_sibling()}) {
    EXPECT_FALSE(std::string(e.child("t:Watermark").text().as_string()).empty());
    EXPECT_EQ(std::string(e.child("t:TimeStamp").text().as_string()), "2026-11-02T09:00:00Z");
    EXPECT_FALSE(std::string(e.child("t:ItemId").attribute("Id").as_string()).empty());
    EXPECT_FALSE(std::string(e.child("t:ParentFolderId").attribute("Id").as_string()).empty());
  }
  EXPECT_EQ(soap.Count("StatusEvent"), 0u);
}

// Verifies GetEvents from a later watermark returns only what happened after it.
TEST_F(EwsNotifyTest, GetEventsResumesFromAWatermark) {
  auto [id, watermark] = Subscribe(PullSubscribe("<t:EventType>NewMailEvent</t:EventType>"));
  Deliver("first");
  Soap first(Ews(GetEvents(id, watermark), token_).body);
  const std::string after_first =
      first.Find("NewMailEvent").child("t:Watermark").text().as_string();
  Deliver("second");
  const HttpReply r = Ews(GetEvents(id, after_first), token_);
  Soap second(r.body);
  EXPECT_EQ(second.Count("NewMailEvent"), 1u) << r.body;
  EXPECT_EQ(second.Text("PreviousWatermark"), after_first);
  EXPECT_NE(second.Find("NewMailEvent").child("t:ItemId").attribute("Id").as_string(),
            first.Find("NewMailEvent").child("t:ItemId").attribute("Id").as_string());
}

// Verifies a subscription with nothing new answers one StatusEvent carrying the watermark.
TEST_F(EwsNotifyTest, GetEventsWithoutEventsReturnsOneStatusEvent) {
  auto [id, watermark] = Subscribe(PullSubscribe(kNewMailAndCreated));
  const HttpReply r = Ews(GetEvents(id, watermark), token_);
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "NoError") << r.body;
  ASSERT_EQ(soap.Count("StatusEvent"), 1u) << r.body;
  EXPECT_EQ(soap.Find("StatusEvent").child("t:Watermark").text().as_string(), watermark);
}

// Verifies a pull subscription nobody polls expires after its Timeout on the server's clock.
TEST_F(EwsNotifyTest, PullSubscriptionExpiresAfterItsTimeout) {
  auto [id, watermark] = Subscribe(PullSubscribe(kNewMailAndCreated, 1));
  clock_.Advance(2min);
  Soap soap(Ews(GetEvents(id, watermark), token_).body);
  EXPECT_EQ(soap.Find("GetEventsResponseMessage").attribute("ResponseClass").as_string(),
            std::string("Error"));
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorExpiredSubscription");
}

// Verifies Unsubscribe ends a subscription: GetEvents then reports it unknown, with Exchange's
// text.
TEST_F(EwsNotifyTest, UnsubscribeEndsTheSubscription) {
  auto [id, watermark] = Subscribe(PullSubscribe(kNewMailAndCreated));
  Soap unsubscribed(Ews(Envelope("<m:Unsubscribe><m:SubscriptionId>" + id +
                                 "</m:SubscriptionId></m:Unsubscribe>"),
                        token_)
                        .body);
  EXPECT_EQ(unsubscribed.Text("ResponseCode"), "NoError");
  Soap soap(Ews(GetEvents(id, watermark), token_).body);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorSubscriptionNotFound");
  EXPECT_EQ(soap.Text("MessageText"), "The specified subscription was not found.");
}

// Verifies a streaming subscription answers with an id and, as in Exchange Online, no watermark.
TEST_F(EwsNotifyTest, StreamingSubscribeReturnsNoWatermark) {
  const HttpReply r = Ews(StreamingSubscribe(), token_);
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "NoError") << r.body;
  EXPECT_FALSE(soap.Text("SubscriptionId").empty());
  EXPECT_EQ(soap.Count("Watermark"), 0u);
}

// Verifies the mock refuses push subscriptions with a clear error instead of never pushing.
TEST_F(EwsNotifyTest, PushSubscribeIsRefused) {
  const HttpReply r = Ews(
      Envelope("<m:Subscribe><m:PushSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
               "Id=\"inbox\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType>"
               "</t:EventTypes><t:StatusFrequency>1</t:StatusFrequency><t:URL>https://"
               "listener.example/ews</t:URL></m:PushSubscriptionRequest></m:Subscribe>"),
      token_);
  Soap soap(r.body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidRequest") << r.body;
}

// Verifies pull and streaming subscriptions are not interchangeable.
TEST_F(EwsNotifyTest, GetEventsRefusesAStreamingSubscription) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  Soap soap(Ews(GetEvents(id, "AAAAAA=="), token_).body);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidPullSubscriptionId");
}

// Verifies a Timeout outside 1..1440 minutes fails schema validation.
TEST_F(EwsNotifyTest, PullTimeoutOutOfRangeIsASchemaFault) {
  const HttpReply r = Ews(PullSubscribe(kNewMailAndCreated, 1441), token_);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorSchemaValidation");
}

// Verifies a delivery reaches an open GetStreamingEvents connection as a chunk holding one whole,
// unprefixed envelope (the only form ews-javascript-api recognises) with the NewMailEvent.
TEST_F(EwsNotifyTest, StreamingDeliversNewMailInAnUnprefixedEnvelope) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  auto reader = OpenStream(id, 30);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Deliver("streamed");
  ASSERT_TRUE(reader->AwaitEnvelopes(1)) << reader->received();
  const std::string envelope = reader->EnvelopeAt(0);
  EXPECT_EQ(envelope.rfind(kUnprefixedEnvelope, 0), 0u) << envelope;
  Soap soap(envelope);
  ASSERT_TRUE(soap.ok) << envelope;
  EXPECT_EQ(soap.Text("ResponseCode"), "NoError");
  EXPECT_EQ(soap.Find("Notification").child("t:SubscriptionId").text().as_string(), id);
  EXPECT_EQ(soap.Count("NewMailEvent"), 1u) << envelope;
  EXPECT_EQ(soap.Count("CreatedEvent"), 1u) << envelope;
  EXPECT_EQ(soap.Count("Watermark"), 0u);  // streaming events carry none
  EXPECT_FALSE(
      std::string(soap.Find("NewMailEvent").child("t:ItemId").attribute("Id").as_string()).empty());

  clock_.Advance(30min);
  ASSERT_TRUE(reader->AwaitEnd());
  EXPECT_EQ(reader->status(), 200);
  EXPECT_EQ(reader->transfer_encoding(), "chunked");
  EXPECT_EQ(reader->content_encoding(), "");
}

// Verifies an idle stream sends ConnectionStatus OK at the heartbeat, well inside the 45 s
// ews-javascript-api waits before it declares the connection dead.
TEST_F(EwsNotifyTest, StreamingSendsKeepAliveAtTheHeartbeat) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  auto reader = OpenStream(id, 30);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  clock_.Advance(29s);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EXPECT_EQ(reader->received(), "");
  clock_.Advance(1s);
  ASSERT_TRUE(reader->AwaitEnvelopes(1)) << reader->received();
  Soap soap(reader->EnvelopeAt(0));
  EXPECT_EQ(soap.Text("ConnectionStatus"), "OK");
  EXPECT_EQ(soap.Count("Notifications"), 0u);

  clock_.Advance(30min);
  ASSERT_TRUE(reader->AwaitEnd());
}

// Verifies the stream ends with ConnectionStatus Closed when its ConnectionTimeout elapses.
TEST_F(EwsNotifyTest, StreamingClosesAfterConnectionTimeout) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  auto reader = OpenStream(id, 1);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  clock_.Advance(1min);
  ASSERT_TRUE(reader->AwaitEnd());
  Soap last(reader->EnvelopeAt(0));
  EXPECT_EQ(last.Text("ConnectionStatus"), "Closed") << reader->received();
  EXPECT_EQ(last.Text("ResponseCode"), "NoError");
}

// Verifies unknown and pull subscription ids are refused in the streaming form: the ids in
// ErrorSubscriptionIds, then ConnectionStatus Closed, in one unprefixed envelope.
TEST_F(EwsNotifyTest, StreamingRefusesBadSubscriptionIds) {
  auto [pull_id, unused] = Subscribe(PullSubscribe(kNewMailAndCreated));
  auto reader = OpenStream(pull_id, 30);
  ASSERT_TRUE(reader->AwaitEnd());
  const std::string envelope = reader->EnvelopeAt(0);
  EXPECT_EQ(envelope.rfind(kUnprefixedEnvelope, 0), 0u) << reader->received();
  Soap soap(envelope);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidSubscription");
  EXPECT_EQ(soap.Find("ErrorSubscriptionIds").child("t:SubscriptionId").text().as_string(),
            pull_id);
  EXPECT_EQ(soap.Text("ConnectionStatus"), "Closed");

  auto [stream_id, unused2] = Subscribe(StreamingSubscribe());
  Ews(Envelope("<m:Unsubscribe><m:SubscriptionId>" + stream_id +
               "</m:SubscriptionId></m:Unsubscribe>"),
      token_);
  auto gone = OpenStream(stream_id, 30);
  ASSERT_TRUE(gone->AwaitEnd());
  EXPECT_EQ(Soap(gone->EnvelopeAt(0)).Text("ResponseCode"), "ErrorSubscriptionNotFound");
}

// Verifies a ConnectionTimeout outside 1..30 minutes fails schema validation.
TEST_F(EwsNotifyTest, StreamingConnectionTimeoutOutOfRangeIsASchemaFault) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  const HttpReply r = Ews(GetStreamingEvents(id, 31), token_);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorSchemaValidation");
}

// Verifies a client that hangs up does not keep a server thread: the stream notices at its next
// write and the server goes on serving (it has only 4 threads here).
TEST_F(EwsNotifyTest, StreamingEndsWhenTheClientHangsUp) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  auto reader = OpenStream(id, 30, /*hang_up_after_first=*/true);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Deliver("one");
  ASSERT_TRUE(reader->AwaitEnd());
  // The stream learns at a write: over TLS the first one after the hang-up may still be
  // accepted by the kernel, the next one fails. Each heartbeat moves the stream's deadline, so a
  // changed NextWakeup (or none) shows the stream has handled it.
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  for (int i = 0; i < 4 && clock_.WaiterCount() > 0; ++i) {
    const auto before = clock_.NextWakeup();
    clock_.Advance(30s);
    const auto limit = std::chrono::steady_clock::now() + 10s;  // the one real-time wait limit
    while (clock_.NextWakeup() == before && std::chrono::steady_clock::now() < limit) {
      std::this_thread::yield();
    }
  }
  EXPECT_EQ(clock_.WaiterCount(), 0u);
  EXPECT_EQ(Ews(PullSubscribe(kNewMailAndCreated), token_).status, 200);
}

// Verifies shutting the server down ends an open stream at once (no clock advance needed).
TEST_F(EwsNotifyTest, EndingStreamsLetsTheServerStopWithAStreamOpen) {
  auto [id, unused] = Subscribe(StreamingSubscribe());
  auto reader = OpenStream(id, 30);
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  EndStreams(ews_->store());
  ews_->Stop();
  EXPECT_TRUE(reader->AwaitEnd());
}

}  // namespace
}  // namespace exo::mock_ews::test
