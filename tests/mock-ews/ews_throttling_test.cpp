// mock-ews throttling (shared/reference/ews.md §3.4) and its answers to bad input: the policy on
// its own on a simulated clock, then end to end over HTTPS with mock-aad tokens, where a throttled
// or malformed request must never reach the mailbox.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "ews_fixture.hpp"
#include "exo/mock_ews/throttling.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::milliseconds;

// ---- The policy on its own ----

constexpr const char* kApp = "app-1";
constexpr const char* kMailbox = "monitor@contoso.com";

// A budget of three 100 ms requests that recharges 100 ms per second.
ThrottlingLimits SmallBudget() {
  ThrottlingLimits limits;
  limits.max_burst = milliseconds(300);
  limits.request_cost = milliseconds(100);
  limits.recharge_per_hour = milliseconds(360000);
  return limits;
}

// Verifies EXO's EWSMaxConcurrency of 27: 27 requests of one app for one mailbox are in flight
// at once and the 28th is refused for concurrency.
TEST(ThrottlingPolicyTest, TwentyEighthConcurrentRequestIsRefused) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  std::vector<ThrottlingPolicy::Decision> in_flight;
  for (int i = 0; i < 27; ++i) {
    in_flight.push_back(policy.Admit(kApp, kMailbox, false));
    ASSERT_TRUE(in_flight.back().admitted()) << i;
  }
  const auto refused = policy.Admit(kApp, kMailbox, false);
  EXPECT_EQ(refused.reason, ThrottleReason::kConcurrency);
  EXPECT_EQ(refused.limit, 27u);
}

// Verifies a finished request gives its slot back.
TEST(ThrottlingPolicyTest, FinishedRequestFreesItsSlot) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  ThrottlingLimits limits;
  limits.max_concurrency = 1;
  policy.SetLimits(limits);
  { const auto first = policy.Admit(kApp, kMailbox, false); }
  EXPECT_TRUE(policy.Admit(kApp, kMailbox, false).admitted());
}

// Verifies the concurrency limit counts one app on one mailbox: other mailboxes and other apps
// have their own.
TEST(ThrottlingPolicyTest, ConcurrencyIsPerAppAndMailbox) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  ThrottlingLimits limits;
  limits.max_concurrency = 1;
  policy.SetLimits(limits);
  const auto held = policy.Admit(kApp, kMailbox, false);
  EXPECT_TRUE(policy.Admit(kApp, "other@contoso.com", false).admitted());
  EXPECT_TRUE(policy.Admit("app-2", kMailbox, false).admitted());
  EXPECT_FALSE(policy.Admit(kApp, "MONITOR@contoso.com", false).admitted());
}

// Verifies the sixth concurrent SyncFolderItems is refused (ConcurrentSyncCalls 5) in the
// response-message form with a 5000 ms back-off, while other operations still pass.
TEST(ThrottlingPolicyTest, SixthConcurrentSyncIsRefusedInItsResponseMessage) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  std::vector<ThrottlingPolicy::Decision> syncs;
  for (int i = 0; i < 5; ++i) syncs.push_back(policy.Admit(kApp, kMailbox, true));
  const auto refused = policy.Admit(kApp, kMailbox, true);
  EXPECT_EQ(refused.reason, ThrottleReason::kConcurrentSync);
  EXPECT_EQ(refused.form, ThrottleForm::kResponseMessage);
  EXPECT_EQ(refused.back_off_ms, 5000);
  EXPECT_TRUE(policy.Admit(kApp, kMailbox, false).admitted());
}

// Verifies an exhausted budget refuses with the exact time until it can pay for a request, and
// admits again once the clock has moved that far.
TEST(ThrottlingPolicyTest, ExhaustedBudgetAnnouncesTheTimeUntilItRecovers) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  policy.SetLimits(SmallBudget());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(policy.Admit(kApp, kMailbox, false).admitted()) << i;
  const auto refused = policy.Admit(kApp, kMailbox, false);
  EXPECT_EQ(refused.reason, ThrottleReason::kBudget);
  EXPECT_EQ(refused.form, ThrottleForm::kFault);
  EXPECT_EQ(refused.back_off_ms, 1000);
  clock.Advance(milliseconds(999));
  EXPECT_EQ(policy.Admit(kApp, kMailbox, false).back_off_ms, 1);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(policy.Admit(kApp, kMailbox, false).admitted());
}

// Verifies a request that arrives before its back-off elapsed is noted as early, by how much,
// and one that waits is not.
TEST(ThrottlingPolicyTest, RetryBeforeTheBackOffElapsedIsEarly) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  ForcedThrottling force;
  force.back_off_ms = 5000;
  force.times = 1;
  policy.Force(force);
  ASSERT_FALSE(policy.Admit(kApp, kMailbox, false).admitted());
  clock.Advance(milliseconds(1000));
  const auto early = policy.Admit(kApp, kMailbox, false);
  EXPECT_TRUE(early.admitted());
  ASSERT_TRUE(early.early.has_value());
  EXPECT_EQ(*early.early, milliseconds(4000));
  clock.Advance(milliseconds(4000));
  EXPECT_FALSE(policy.Admit(kApp, kMailbox, false).early.has_value());
  EXPECT_EQ(policy.early_retries(), 1u);
}

// Verifies a forced answer for N requests stops after N, and clears itself.
TEST(ThrottlingPolicyTest, ForcedAnswerRunsOutAfterItsCount) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  ForcedThrottling force;
  force.times = 2;
  policy.Force(force);
  EXPECT_EQ(policy.Admit(kApp, kMailbox, false).reason, ThrottleReason::kForced);
  EXPECT_EQ(policy.Admit(kApp, kMailbox, false).reason, ThrottleReason::kForced);
  EXPECT_TRUE(policy.Admit(kApp, kMailbox, false).admitted());
  EXPECT_FALSE(policy.forced().has_value());
}

// Verifies the control form rejects a misspelt key and changes nothing then.
TEST(ThrottlingPolicyTest, UpdateRejectsUnknownKeysWithoutChangingAnything) {
  SimulatedClock clock;
  ThrottlingPolicy policy(clock);
  const auto updated = policy.Update({{"maxConcurrency", 3}, {"maxConcurency", 4}});
  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, "InvalidThrottling");
  EXPECT_EQ(policy.limits().max_concurrency, 27u);
}

// ---- End to end ----

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>"
    "<t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

const std::string kSyncInbox =
    "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
    "<m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>"
    "<m:MaxChangesReturned>100</m:MaxChangesReturned></m:SyncFolderItems>";

// Checks a SOAP fault's shape (ews.md §1.4): HTTP 500, no header, faultcode and ResponseCode.
void ExpectFault(const HttpReply& r, const std::string& code) {
  EXPECT_EQ(r.status, 500) << r.body;
  Soap soap(r.body);
  ASSERT_TRUE(soap.ok) << r.body;
  EXPECT_FALSE(soap.Find("Header")) << r.body;
  EXPECT_EQ(soap.Text("faultcode"), "a:" + code);
  EXPECT_EQ(soap.Find("ResponseCode").parent().name(), std::string("detail"));
  EXPECT_EQ(soap.Text("ResponseCode"), code);
}

// The BackOffMilliseconds value of an answer; empty when there is none.
std::string BackOff(const HttpReply& r) {
  Soap soap(r.body);
  return soap.doc.select_node("//*[local-name()='Value'][@Name='BackOffMilliseconds']")
      .node()
      .text()
      .as_string();
}

class ThrottlingTest : public EwsTest {
 protected:
  HttpReply Put(const json& body) {
    return Send(*ews_client_, "PUT", "/_exo/throttling", body.dump(), "application/json");
  }
  json State() { return Send(*ews_client_, "GET", "/_exo/throttling").Json(); }
  json Journal(const std::string& query) {
    return Send(*ews_client_, "GET", "/_exo/journal?" + query).Json().value("entries", json());
  }
  HttpReply EwsAs(const std::string& body, const std::string& content_type) {
    return Send(*ews_client_, "POST", "/EWS/Exchange.asmx", body, content_type,
                {{"Authorization", "Bearer " + token_}});
  }

  // Delivers a message and returns its id, to show later that it was not touched.
  std::string DeliverOne() {
    const HttpReply r = Control(std::string("/_exo/mailboxes/") + kMonitor + "/deliver",
                                {{"from", "sender@fabrikam.com"}, {"subject", "Keep me"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", "");
  }
  std::size_t InboxCount() {
    auto inbox = ews_->store().GetDistinguishedFolder(kMonitor, DistinguishedFolder::kInbox);
    return inbox ? inbox->total_count : 0;
  }
  static std::string DeleteItem(const std::string& id) {
    return "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"" + id +
           "\"/></m:ItemIds></m:DeleteItem>";
  }
};

// Verifies an exhausted budget answers the SOAP fault ErrorServerBusy with the back-off until it
// recovers in MessageXml (exchangelib's back_off), and serves again once the clock got there.
TEST_F(ThrottlingTest, ExhaustedBudgetIsServerBusyFaultUntilItRecovers) {
  ASSERT_EQ(
      Put({{"maxBurstMs", 300}, {"requestCostMs", 100}, {"rechargeMsPerHour", 360000}}).status,
      200);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Ews(Envelope(kGetInbox), token_).status, 200) << i;
  const HttpReply busy = Ews(Envelope(kGetInbox), token_);
  ExpectFault(busy, "ErrorServerBusy");
  EXPECT_EQ(BackOff(busy), "1000");
  EXPECT_NE(Soap(busy.body).Text("faultstring").find("Suggested backoff time 1000 ms."),
            std::string::npos)
      << busy.body;
  clock_.Advance(milliseconds(1000));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
}

// Verifies a forced fault answers N requests with the given BackOffMilliseconds, leaves the
// mailbox alone, and ends after N.
TEST_F(ThrottlingTest, ForcedFaultAnswersTheNextRequestsAndTouchesNothing) {
  const std::string id = DeliverOne();
  ASSERT_EQ(Put({{"force", {{"form", "fault"}, {"backOffMs", 250}, {"times", 2}}}}).status, 200);
  for (int i = 0; i < 2; ++i) {
    const HttpReply busy = Ews(Envelope(DeleteItem(id)), token_);
    ExpectFault(busy, "ErrorServerBusy");
    EXPECT_EQ(BackOff(busy), "250");
  }
  EXPECT_EQ(InboxCount(), 1u);
  EXPECT_TRUE(State()["force"].is_null());
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
}

// Verifies a forced fault without a back-off carries no MessageXml, and one of 0 says 0.
TEST_F(ThrottlingTest, ForcedFaultBackOffCanBeMissingOrZero) {
  ASSERT_EQ(Put({{"force", {{"backOffMs", nullptr}, {"times", 1}}}}).status, 200);
  const HttpReply missing = Ews(Envelope(kGetInbox), token_);
  ExpectFault(missing, "ErrorServerBusy");
  EXPECT_FALSE(Soap(missing.body).Find("MessageXml")) << missing.body;

  ASSERT_EQ(Put({{"force", {{"backOffMs", 0}, {"times", 1}}}}).status, 200);
  const HttpReply zero = Ews(Envelope(kGetInbox), token_);
  ExpectFault(zero, "ErrorServerBusy");
  EXPECT_EQ(BackOff(zero), "0");
}

// Verifies the response-message form: HTTP 200, the operation's response with one Error message
// ErrorServerBusy, its BackOffMilliseconds, and the elements clients read before the code
// (SyncFolderItems: SyncState, IncludesLastItemInRange).
TEST_F(ThrottlingTest, ForcedMessageFormIsServerBusyInsideA200Response) {
  ASSERT_EQ(Put({{"force", {{"form", "message"}, {"backOffMs", 5000}, {"times", 1}}}}).status, 200);
  const HttpReply r = Ews(Envelope(kSyncInbox), token_);
  EXPECT_EQ(r.status, 200);
  Soap soap(r.body);
  ASSERT_TRUE(soap.ok) << r.body;
  EXPECT_TRUE(soap.Find("ServerVersionInfo"));
  const pugi::xml_node message = soap.Find("SyncFolderItemsResponseMessage");
  EXPECT_EQ(std::string(message.attribute("ResponseClass").value()), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorServerBusy");
  EXPECT_EQ(BackOff(r), "5000");
  EXPECT_TRUE(soap.Find("SyncState")) << r.body;
  EXPECT_EQ(soap.Text("IncludesLastItemInRange"), "true");
}

// Verifies the response-message form for operations whose messages need payload elements (the
// schema corpus check validates each of these 200 answers against messages.xsd).
TEST_F(ThrottlingTest, ForcedMessageFormFitsEachOperation) {
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"GetFolder", kGetInbox},
      {"GetItem",
       "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds>"
       "<t:ItemId Id=\"AAMk\"/></m:ItemIds></m:GetItem>"},
      {"FindItem",
       "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
       "</m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
       "</m:ParentFolderIds></m:FindItem>"},
      {"DeleteItem", DeleteItem("AAMk")},
  };
  ASSERT_EQ(Put({{"force", {{"form", "message"}, {"backOffMs", 1000}}}}).status, 200);
  for (const auto& [op, body] : requests) {
    const HttpReply r = Ews(Envelope(body), token_);
    EXPECT_EQ(r.status, 200) << op;
    Soap soap(r.body);
    EXPECT_EQ(soap.Text("ResponseCode"), "ErrorServerBusy") << op;
    EXPECT_TRUE(soap.Find(op + "ResponseMessage")) << r.body;
  }
}

// Verifies a forced window ends on the server's clock, not the wall clock.
TEST_F(ThrottlingTest, ForcedWindowEndsOnTheServersClock) {
  ASSERT_EQ(Put({{"force", {{"forMs", 60000}}}}).status, 200);
  ExpectFault(Ews(Envelope(kGetInbox), token_), "ErrorServerBusy");
  ExpectFault(Ews(Envelope(kGetInbox), token_), "ErrorServerBusy");
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
}

// Verifies the forced 503: before any SOAP processing, Retry-After in seconds and
// X-BackEndHttpStatus as outlook.office365.com sends them, an HTML body.
TEST_F(ThrottlingTest, Forced503CarriesRetryAfter) {
  ASSERT_EQ(Put({{"force", {{"form", "503"}, {"retryAfterSeconds", 30}, {"times", 1}}}}).status,
            200);
  const HttpReply r = Ews(Envelope(kGetInbox), token_);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "30");
  EXPECT_EQ(r.Header("X-BackEndHttpStatus"), "503");
  EXPECT_NE(r.body.find("Service Unavailable"), std::string::npos);
  const json throttled = Journal("throttle=503");
  EXPECT_EQ(throttled.size(), 1u);
}

// Verifies a retry before the back-off elapsed is annotated in the journal with how early it
// was and counted in GET /_exo/throttling, and one after it is not.
TEST_F(ThrottlingTest, EarlyRetryIsAnnotatedAndCounted) {
  ASSERT_EQ(Put({{"force", {{"backOffMs", 5000}, {"times", 1}}}}).status, 200);
  ExpectFault(Ews(Envelope(kGetInbox), token_), "ErrorServerBusy");
  EXPECT_EQ(Journal("throttle=ErrorServerBusy").size(), 1u);
  clock_.Advance(milliseconds(1000));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
  const json early = Journal("throttle.early_retry=true");
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0]["annotations"].value("throttle.early_by_ms", ""), "4000");
  EXPECT_EQ(State().value("earlyRetries", 0), 1);

  clock_.Advance(milliseconds(4000));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
  EXPECT_EQ(Journal("throttle.early_retry=true").size(), 1u);
  EXPECT_EQ(State().value("earlyRetries", 0), 1);
}

// Verifies a retry sooner than a 503's Retry-After counts as early too.
TEST_F(ThrottlingTest, RetryBeforeRetryAfterIsEarly) {
  ASSERT_EQ(Put({{"force", {{"form", "503"}, {"retryAfterSeconds", 30}, {"times", 1}}}}).status,
            200);
  ASSERT_EQ(Ews(Envelope(kGetInbox), token_).status, 503);
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token_).status, 200);
  const json early = Journal("throttle.early_retry=true");
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0]["annotations"].value("throttle.early_by_ms", ""), "20000");
}

// Verifies PUT /_exo/throttling refuses an unknown key with 400 and names it.
TEST_F(ThrottlingTest, ControlRejectsUnknownKeys) {
  const HttpReply r = Put({{"maxConcurency", 4}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("maxConcurency"), std::string::npos) << r.body;
  EXPECT_EQ(State().value("maxConcurrency", 0), 27);
}

// Verifies the in-process handle and the control API are one policy.
TEST_F(ThrottlingTest, InProcessLimitsShowInTheControlApi) {
  ThrottlingLimits limits = ews_->throttling().limits();
  limits.max_concurrency = 9;
  ews_->throttling().SetLimits(limits);
  EXPECT_EQ(State().value("maxConcurrency", 0), 9);
}

// 28 requests in flight need as many server threads (the fixture starts the server with 4).
class ThrottlingConcurrencyTest : public ThrottlingTest {
 protected:
  void SetUp() override {
    ThrottlingTest::SetUp();
    if (HasFatalFailure()) return;
    ews_client_.reset();
    MockEwsOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 40;
    auto ews = MockEws::Start(options, clock_, &clock_);
    ASSERT_TRUE(ews.has_value()) << ews.error().Describe();
    ews_ = std::move(*ews);
    ASSERT_TRUE(ews_->TrustTenant({kTenantId, [this] { return aad_->Jwks(); }}).has_value());
    ews_client_ = MakeClient(ews_->port());
    ASSERT_EQ(Control("/_exo/mailboxes", {{"organization", kTenantId}, {"smtp", kMonitor}}).status,
              201);
  }
};

// Verifies that with 27 requests of the app for the mailbox in flight, the 28th gets the fault
// ErrorExceededConnectionCount with Exchange's policy values, and the 27 then finish normally.
TEST_F(ThrottlingConcurrencyTest, TwentyEighthConcurrentRequestExceedsConnectionCount) {
  // Admitted requests hold their slot for a second of server time: in flight until we advance.
  ASSERT_EQ(Put({{"holdMs", 1000}}).status, 200);
  std::vector<int> statuses(27, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 27; ++i) {
    clients.emplace_back([this, i, &statuses] {
      auto client = MakeClient(ews_->port());
      statuses[static_cast<std::size_t>(i)] =
          Send(*client, "POST", "/EWS/Exchange.asmx", Envelope(kGetInbox),
               "text/xml; charset=utf-8", {{"Authorization", "Bearer " + token_}})
              .status;
    });
  }
  ASSERT_TRUE(clock_.AwaitWaiters(27));
  const HttpReply refused = Ews(Envelope(kGetInbox), token_);
  clock_.Advance(milliseconds(1000));
  for (auto& t : clients) t.join();

  ExpectFault(refused, "ErrorExceededConnectionCount");
  Soap soap(refused.body);
  EXPECT_EQ(soap.Text("faultstring"),
            "You have exceeded the available concurrent connections for your account.  Try again "
            "once your other requests have completed.");
  EXPECT_STREQ(soap.doc.select_node("//*[@Name='Policy']").node().text().as_string(),
               "MaxConcurrency");
  EXPECT_STREQ(soap.doc.select_node("//*[@Name='MaxConcurrencyLimit']").node().text().as_string(),
               "27");
  for (int s : statuses) EXPECT_EQ(s, 200);
  EXPECT_EQ(State()["throttled"].value("ErrorExceededConnectionCount", 0), 1);
}

// ---- Bad input: bounded cost, no mailbox change ----

// Verifies a JSON Content-Type is refused as WCF refuses it: 415, empty body, before SOAP.
TEST_F(ThrottlingTest, JsonContentTypeIs415) {
  const HttpReply r = EwsAs(Envelope(kGetInbox), "application/json");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.body, "");
  const json rejected = Journal("status=415");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["annotations"].value("rejected", ""),
            "Cannot process the message because the content type 'application/json' was not the "
            "expected type 'text/xml; charset=utf-8'.");
}

// Verifies a body without Content-Type is refused with 415 as well.
TEST_F(ThrottlingTest, MissingContentTypeIs415) {
  EXPECT_EQ(EwsAs(Envelope(kGetInbox), "").status, 415);
}

// Verifies text/xml is accepted without a charset and with any letter case.
TEST_F(ThrottlingTest, TextXmlWithoutCharsetIsAccepted) {
  EXPECT_EQ(EwsAs(Envelope(kGetInbox), "Text/XML").status, 200);
}

// Verifies a body that is not XML is the fault ErrorSchemaValidation.
TEST_F(ThrottlingTest, NonXmlBodyIsSchemaValidationFault) {
  ExpectFault(EwsAs("{\"GetFolder\": {}}", "text/xml; charset=utf-8"), "ErrorSchemaValidation");
}

// Verifies 100 000 nested elements are refused with ErrorSchemaValidation and the operation in
// the same body never runs.
TEST_F(ThrottlingTest, DeeplyNestedBodyIsSchemaValidationFault) {
  const std::string id = DeliverOne();
  std::string nested;
  nested.reserve(100000 * 7);
  for (int i = 0; i < 100000; ++i) nested += "<t:a>";
  for (int i = 0; i < 100000; ++i) nested += "</t:a>";
  const HttpReply r = Ews(Envelope(DeleteItem(id) + nested), token_);
  ExpectFault(r, "ErrorSchemaValidation");
  EXPECT_NE(Soap(r.body).Text("Violation").find("nesting depth"), std::string::npos) << r.body;
  EXPECT_EQ(InboxCount(), 1u);
}

// Verifies a body over the server's limit is 413 without reaching SOAP processing.
TEST_F(ThrottlingTest, OversizedBodyIs413) {
  const std::string id = DeliverOne();
  const std::string padding(4 * 1024 * 1024, ' ');
  const HttpReply r = Ews(Envelope(DeleteItem(id)) + padding, token_);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(InboxCount(), 1u);
}

// Verifies an operation EWS does not have is the fault ErrorInvalidRequest.
TEST_F(ThrottlingTest, UnknownOperationIsInvalidRequest) {
  const HttpReply r = Ews(Envelope("<m:FrobnicateItem/>"), token_);
  ExpectFault(r, "ErrorInvalidRequest");
  EXPECT_EQ(Soap(r.body).Text("faultstring"), "The request is invalid.");
}

// Verifies GET needs a token like POST, and then shows WCF's service page, not SOAP.
TEST_F(ThrottlingTest, GetOnTheEndpointShowsTheServicePage) {
  EXPECT_EQ(Send(*ews_client_, "GET", "/EWS/Exchange.asmx").status, 401);
  const HttpReply r = Send(*ews_client_, "GET", "/EWS/Exchange.asmx", "", "",
                           {{"Authorization", "Bearer " + token_}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("You have created a service."), std::string::npos) << r.body;
  // The page is no SOAP answer: keep it out of the schema corpus, which takes every 200 of this
  // path from the journal.
  EXPECT_EQ(Send(*ews_client_, "DELETE", "/_exo/journal").status, 204);
}

}  // namespace
}  // namespace exo::mock_ews::test
