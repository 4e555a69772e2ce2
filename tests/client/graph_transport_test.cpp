// The client's Microsoft Graph transport against canned HTTP answers shaped as Microsoft documents
// them (message-delta.md, delta-query-messages.md, delta-query-overview.md, errors.md,
// throttling.md, application-access-policies): the URLs it builds, delta paging and the kinds of
// change, the MIME, dispositions and reply, and each failure as the typed error the monitor and
// an operator act on.
#include "exo/client/graph_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "exo/common/base64.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "fake_http.hpp"

namespace exo::client::test {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kBase = "https://graph.microsoft.com";
constexpr const char* kUser = "monitor@contoso.com";
constexpr const char* kRoot = "https://graph.microsoft.com/v1.0/users/monitor@contoso.com";

HttpResponse GraphError(int status, const std::string& code, const std::string& message,
                        std::multimap<std::string, std::string> headers = {}) {
  const json body = {{"error",
                      {{"code", code},
                       {"message", message},
                       {"innerError",
                        {{"request-id", "2f038156-cf40-403d-8e46-831fe42a8229"},
                         {"date", "2026-11-02T10:16:21"}}}}}};
  return JsonResponse(status, body.dump(), std::move(headers));
}

// A message as delta and GET return it in its standard representation.
json Message(const std::string& id, const std::string& message_id, const std::string& subject,
             bool is_read = false) {
  return {{"@odata.type", "#microsoft.graph.message"},
          {"@odata.etag", "W/\"CQAAABYAAAARn2vdzPFjSbaPPxzjlzOTAAASsKZz\""},
          {"id", id},
          {"changeKey", "CQAAABYAAAARn2vdzPFjSbaPPxzjlzOTAAASsKZz"},
          {"internetMessageId", message_id},
          {"subject", subject},
          {"from", {{"emailAddress", {{"name", "Dana Swope"}, {"address", "danas@contoso.com"}}}}},
          {"receivedDateTime", "2026-11-02T09:12:44Z"},
          {"isRead", is_read}};
}

class GraphTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_.Respond([this](const HttpRequest& r) -> Result<HttpResponse> {
      if (r.url.find("/oauth2/v2.0/token") != std::string::npos) {
        ++token_requests_;
        const json payload = {{"aud", "https://graph.microsoft.com"},
                              {"roles", roles_},
                              {"jti", std::to_string(token_requests_)}};
        const std::string jwt =
            Base64UrlEncode("{\"alg\":\"RS256\"}") + "." + Base64UrlEncode(payload.dump()) + ".sig";
        return JsonResponse(
            200,
            json{{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", jwt}}.dump());
      }
      graph_.push_back(r);
      if (answers_.empty()) return GraphError(500, "generalException", "no answer scripted");
      auto a = answers_.front();
      answers_.pop_front();
      return a;
    });
    ClientCredential c;
    c.tenant = "contoso.onmicrosoft.com";
    c.client_id = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
    c.secret = [] { return Result<SecretString>(SecretString("s3cret")); };
    tokens_ = std::make_unique<TokenProvider>(c, TokenProviderOptions{}, http_, clock_, random_);
    transport_ = Make(kUser);
  }

  std::unique_ptr<MailboxTransport> Make(const std::string& mailbox) {
    GraphOptions o;
    o.base_url = kBase;
    o.mailbox = mailbox;
    return MakeGraphTransport(o, *tokens_, http_);
  }

  void Answer(Result<HttpResponse> a) { answers_.push_back(std::move(a)); }
  void AnswerJson(int status, const json& body) { Answer(JsonResponse(status, body.dump())); }

  static std::string Header(const HttpRequest& r, const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  }

  FakeHttp http_;
  SimulatedClock clock_;
  SeededRandom random_{3};
  std::vector<std::string> roles_ = {"Mail.ReadWrite"};
  int token_requests_ = 0;
  std::deque<Result<HttpResponse>> answers_;
  std::vector<HttpRequest> graph_;  // the requests that reached Graph
  std::unique_ptr<TokenProvider> tokens_;
  std::unique_ptr<MailboxTransport> transport_;
};

// Verifies the mailbox becomes one escaped path segment, '@' kept, and an address that begins
// with '$' takes the users('...') form Graph's user-get page asks for.
TEST(GraphUrlTest, MailboxIsOneEscapedPathSegment) {
  EXPECT_EQ(GraphUserPath("monitor@contoso.com"), "/users/monitor@contoso.com");
  EXPECT_EQ(GraphUserPath("o'neil+orders@contoso.com"), "/users/o%27neil%2Borders@contoso.com");
  EXPECT_EQ(GraphUserPath("a#b/c?d@contoso.com"), "/users/a%23b%2Fc%3Fd@contoso.com");
  EXPECT_EQ(GraphUserPath("$admin@contoso.com"), "/users('%24admin@contoso.com')");
}

// Verifies the token is asked for Graph's own audience: the national cloud's host for a national
// cloud, the public cloud's for a test server standing in for it.
TEST(GraphUrlTest, ScopeFollowsTheCloud) {
  EXPECT_EQ(GraphScopeFor("https://graph.microsoft.com"), "https://graph.microsoft.com/.default");
  EXPECT_EQ(GraphScopeFor("https://graph.microsoft.us/"), "https://graph.microsoft.us/.default");
  EXPECT_EQ(GraphScopeFor("https://127.0.0.1:8443"), "https://graph.microsoft.com/.default");
  EXPECT_TRUE(IsGraphScope("https://graph.microsoft.com/.default"));
  EXPECT_TRUE(IsGraphScope("00000003-0000-0000-c000-000000000000/.default"));
  EXPECT_FALSE(IsGraphScope("https://outlook.office365.com/.default"));
}

// Verifies a well-known folder is one GET of mailFolders/{name} with a bearer token, and the
// answer's id is the folder id.
TEST_F(GraphTransportTest, ResolvesWellKnownFolder) {
  auto t = Make("o'neil+orders@contoso.com");
  AnswerJson(200, {{"id", "AQMkADNkNAAAgEMAAAA="}, {"displayName", "Inbox"}});
  auto inbox = t->ResolveFolder("Inbox", false);
  ASSERT_TRUE(inbox.has_value()) << inbox.error().Describe();
  EXPECT_EQ(*inbox, "AQMkADNkNAAAgEMAAAA=");
  ASSERT_EQ(graph_.size(), 1u);
  EXPECT_EQ(graph_[0].method, "GET");
  EXPECT_EQ(graph_[0].url,
            "https://graph.microsoft.com/v1.0/users/o%27neil%2Borders@contoso.com/mailFolders/"
            "inbox?$select=id,displayName");
  EXPECT_THAT(Header(graph_[0], "Authorization"), ::testing::StartsWith("Bearer ey"));
  EXPECT_EQ(Header(graph_[0], "Accept"), "application/json");
  EXPECT_EQ(t->Info().protocol, "Graph");
  EXPECT_EQ(t->Info().endpoint, "https://graph.microsoft.com/v1.0");
}

// Verifies a folder path walks msgfolderroot's childFolders by display name (any case), follows
// @odata.nextLink, and creates what is missing under its parent.
TEST_F(GraphTransportTest, ResolvesFolderPathCreatingWhatIsMissing) {
  AnswerJson(200, {{"value", {{{"id", "f-archive"}, {"displayName", "Archive"}}}},
                   {"@odata.nextLink",
                    std::string(kRoot) + "/mailFolders/msgfolderroot/childFolders?$skip=100"}});
  AnswerJson(200, {{"value", {{{"id", "f-processed"}, {"displayName", "processed"}}}}});
  AnswerJson(200, {{"value", json::array()}});
  AnswerJson(201, {{"id", "f-2026"}, {"displayName", "2026"}});
  auto id = transport_->ResolveFolder("Processed/2026", true);
  ASSERT_TRUE(id.has_value()) << id.error().Describe();
  EXPECT_EQ(*id, "f-2026");
  ASSERT_EQ(graph_.size(), 4u);
  EXPECT_EQ(graph_[0].url, std::string(kRoot) +
                               "/mailFolders/msgfolderroot/childFolders?$select=id,displayName&"
                               "$top=100");
  EXPECT_EQ(graph_[1].url,
            std::string(kRoot) + "/mailFolders/msgfolderroot/childFolders?$skip=100");
  EXPECT_EQ(
      graph_[2].url,
      std::string(kRoot) + "/mailFolders/f-processed/childFolders?$select=id,displayName&$top=100");
  EXPECT_EQ(graph_[3].method, "POST");
  EXPECT_EQ(graph_[3].url, std::string(kRoot) + "/mailFolders/f-processed/childFolders");
  EXPECT_EQ(json::parse(graph_[3].body), json({{"displayName", "2026"}}));
}

// Verifies a missing folder that may not be created is ErrorFolderNotFound naming the folder.
TEST_F(GraphTransportTest, MissingFolderIsNotFound) {
  AnswerJson(200, {{"value", json::array()}});
  auto id = transport_->ResolveFolder("Orders/Incoming", false);
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code, "ErrorFolderNotFound");
  EXPECT_EQ(id.error().category, ErrorCategory::kNotFound);
  EXPECT_THAT(id.error().message, HasSubstr("Orders/Incoming"));
}

// Verifies a first sync asks messages/delta of the folder with $select and the page size, reports
// "more" while Graph gives an @odata.nextLink and keeps that link as the sync state, and ends with
// the @odata.deltaLink.
TEST_F(GraphTransportTest, DeltaPagesUntilDeltaLink) {
  const std::string next =
      std::string(kRoot) + "/mailFolders('f-in')/messages/delta?$skiptoken=GwcBoTmPuoTQWfcsAbkYM";
  const std::string delta =
      std::string(kRoot) +
      "/mailFolders('f-in')/messages/delta?$deltatoken=GwcBoTmPuoGNlgXgF1nyUNMXY";
  AnswerJson(200, {{"@odata.nextLink", next},
                   {"value",
                    {Message("m1", "<1@contoso.com>", "Order 1"),
                     Message("m2", "<2@contoso.com>", "Order 2")}}});
  AnswerJson(
      200, {{"@odata.deltaLink", delta}, {"value", {Message("m3", "<3@contoso.com>", "Order 3")}}});
  auto first = transport_->SyncFolder("f-in=", "", 2);
  ASSERT_TRUE(first.has_value()) << first.error().Describe();
  EXPECT_TRUE(first->more);
  EXPECT_EQ(first->sync_state, next);
  ASSERT_EQ(first->changes.size(), 2u);
  EXPECT_EQ(graph_[0].url,
            std::string(kRoot) +
                "/mailFolders/f-in%3D/messages/delta?$select=id,internetMessageId,subject,from,"
                "receivedDateTime,isRead,changeKey");
  EXPECT_EQ(Header(graph_[0], "Prefer"), "odata.maxpagesize=2");

  auto second = transport_->SyncFolder("f-in=", first->sync_state, 2);
  ASSERT_TRUE(second.has_value()) << second.error().Describe();
  EXPECT_FALSE(second->more);
  EXPECT_EQ(second->sync_state, delta);
  EXPECT_EQ(graph_[1].url, next);
  ASSERT_EQ(second->changes.size(), 1u);
  EXPECT_EQ(second->changes[0].message.subject, "Order 3");
}

// Verifies a stored link is followed on the configured host only: its path and query are kept,
// its host is not (the bearer token never goes anywhere else).
TEST_F(GraphTransportTest, LinksAreFollowedOnTheConfiguredHostOnly) {
  AnswerJson(200, {{"@odata.deltaLink", std::string(kRoot) + "/x?$deltatoken=2"},
                   {"value", json::array()}});
  auto page = transport_->SyncFolder(
      "f-in", "https://evil.example/v1.0/users/monitor@contoso.com/x?$deltatoken=1", 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(graph_[0].url, std::string(kRoot) + "/x?$deltatoken=1");
  auto garbage = transport_->SyncFolder("f-in", "not a link", 10);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code, "ErrorInvalidSyncStateData");
}

// Verifies each kind of delta entry: a message in its standard representation is kCreated with
// every field; "@removed" is kDeleted; a partial entry with only isRead is kReadFlagChanged (the
// string "true" of Microsoft's own example included); any other partial entry is kUpdated; a
// meeting message (eventMessage) is left out.
TEST_F(GraphTransportTest, DeltaEntriesBecomeChangesOfTheirKind) {
  json event = Message("m9", "<9@contoso.com>", "Meeting");
  event["@odata.type"] = "#microsoft.graph.eventMessageRequest";
  AnswerJson(200, {{"@odata.deltaLink", std::string(kRoot) + "/d?$deltatoken=2"},
                   {"value",
                    {Message("m1", "<1@contoso.com>", "New order"),
                     {{"@odata.type", "#microsoft.graph.message"},
                      {"id", "m2"},
                      {"@removed", {{"reason", "deleted"}}}},
                     {{"@odata.type", "#microsoft.graph.message"},
                      {"@odata.etag", "W/\"x\""},
                      {"id", "m3"},
                      {"isRead", "true"}},
                     {{"id", "m4"}, {"categories", {"Red category"}}},
                     event}}});
  auto page = transport_->SyncFolder("f-in", std::string(kRoot) + "/d?$deltatoken=1", 50);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->changes.size(), 4u);
  const MailMessage& created = page->changes[0].message;
  EXPECT_EQ(page->changes[0].kind, FolderChange::Kind::kCreated);
  EXPECT_EQ(created.id, "m1");
  EXPECT_EQ(created.internet_message_id, "<1@contoso.com>");
  EXPECT_EQ(created.subject, "New order");
  EXPECT_EQ(created.from, "danas@contoso.com");
  EXPECT_FALSE(created.is_read);
  EXPECT_EQ(created.received, *ParseIso8601("2026-11-02T09:12:44Z"));
  EXPECT_FALSE(created.change_key.empty());
  EXPECT_EQ(page->changes[1].kind, FolderChange::Kind::kDeleted);
  EXPECT_EQ(page->changes[1].message.id, "m2");
  EXPECT_EQ(page->changes[2].kind, FolderChange::Kind::kReadFlagChanged);
  EXPECT_EQ(page->changes[2].message.id, "m3");
  EXPECT_TRUE(page->changes[2].message.is_read);
  EXPECT_EQ(page->changes[3].kind, FolderChange::Kind::kUpdated);
  EXPECT_EQ(page->changes[3].message.id, "m4");
}

// Verifies a created entry without internetMessageId (the monitor's key) is completed from the
// message itself before it is reported, and one that is gone by then is left out.
TEST_F(GraphTransportTest, CreatedEntryWithoutMessageIdIsCompleted) {
  json bare1 = Message("m1", "", "First"), bare2 = Message("m2", "", "Second");
  bare1.erase("internetMessageId");
  bare2.erase("internetMessageId");
  AnswerJson(200, {{"@odata.deltaLink", std::string(kRoot) + "/d?$deltatoken=1"},
                   {"value", {bare1, bare2}}});
  AnswerJson(200, Message("m1", "<1@contoso.com>", "First"));
  Answer(GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
  auto page = transport_->SyncFolder("f-in", "", 50);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->changes.size(), 1u);
  EXPECT_EQ(page->changes[0].message.internet_message_id, "<1@contoso.com>");
  EXPECT_EQ(graph_[1].url, std::string(kRoot) +
                               "/messages/m1?$select=id,internetMessageId,subject,from,"
                               "receivedDateTime,isRead,changeKey");
}

// Verifies every documented "start again" answer of a delta link (410 Gone; syncStateNotFound in
// a 40X; resyncRequired, also as an inner code) is ErrorInvalidSyncStateData, the code on which
// the monitor resyncs from an empty state.
TEST_F(GraphTransportTest, ExpiredDeltaStateAsksForResync) {
  Answer(GraphError(410, "SyncStateNotFound", "The sync state generation is not found."));
  Answer(GraphError(400, "syncStateNotFound", "The delta token is expired."));
  const json inner = {{"error",
                       {{"code", "generalException"},
                        {"message", "Resync is required."},
                        {"innerError", {{"code", "resyncRequired"}}}}}};
  AnswerJson(400, inner);
  Answer(HttpResponse{410, {{"Location", std::string(kRoot) + "/d?$deltatoken="}}, ""});
  for (int i = 0; i < 4; ++i) {
    auto page = transport_->SyncFolder("f-in", std::string(kRoot) + "/d?$deltatoken=old", 50);
    ASSERT_FALSE(page.has_value()) << i;
    EXPECT_EQ(page.error().code, "ErrorInvalidSyncStateData") << i;
    EXPECT_THAT(page.error().remedy, HasSubstr("resyncs")) << i;
  }
}

// Verifies 429 ApplicationThrottled is kThrottled carrying Retry-After, and a 503 is transient
// with the server's hint kept.
TEST_F(GraphTransportTest, ThrottlingCarriesRetryAfter) {
  Answer(GraphError(429, "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.", {{"Retry-After", "17"}}));
  auto r = transport_->SyncFolder("f-in", "", 50);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ApplicationThrottled");
  EXPECT_EQ(r.error().category, ErrorCategory::kThrottled);
  EXPECT_EQ(r.error().retry_after, std::chrono::seconds(17));
  EXPECT_EQ(r.error().http_status, 429);
  EXPECT_THAT(r.error().message, HasSubstr("MailboxConcurrency"));

  Answer(GraphError(503, "serviceNotAvailable", "Try again later.", {{"Retry-After", "5"}}));
  auto busy = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().category, ErrorCategory::kTransient);
  EXPECT_EQ(busy.error().retry_after, std::chrono::seconds(5));
}

// Verifies an ApplicationAccessPolicy denial ("Access to OData is disabled.") is kAuthorization
// ErrorAccessDenied whose remedy is the setup step: the mailbox into the policy's group, and the
// wait of more than an hour for Graph to see it.
TEST_F(GraphTransportTest, AccessPolicyDenialNamesThePolicyAndItsDelay) {
  Answer(GraphError(403, "ErrorAccessDenied", "Access to OData is disabled."));
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorAccessDenied");
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthorization);
  EXPECT_THAT(r.error().message, HasSubstr("Access to OData is disabled."));
  EXPECT_THAT(r.error().message, HasSubstr("2f038156-cf40-403d-8e46-831fe42a8229"));
  EXPECT_THAT(r.error().remedy, HasSubstr("group of the ApplicationAccessPolicy"));
  EXPECT_THAT(r.error().remedy, HasSubstr("New-ApplicationAccessPolicy"));
  EXPECT_THAT(r.error().remedy, HasSubstr("more than an hour"));
  EXPECT_THAT(r.error().remedy, HasSubstr(kUser));
}

// Verifies a 403 while the token lacks the permission the request needs is NoRoles (EWS's code
// for the same gap) naming that permission of Microsoft Graph and admin consent; the refused token
// is dropped, so consent granted meanwhile counts at the very next call (not at the old token's
// expiry), where the same 403 is the policy.
TEST_F(GraphTransportTest, MissingPermissionNamesMailReadWriteAndConsent) {
  roles_ = {"Mail.Read"};
  Answer(
      GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
  auto r = transport_->MarkRead("m1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "NoRoles");
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthorization);
  EXPECT_THAT(r.error().remedy, HasSubstr("Mail.ReadWrite"));
  EXPECT_THAT(r.error().remedy, HasSubstr("admin consent"));
  EXPECT_THAT(r.error().remedy, HasSubstr("roles: Mail.Read"));
  EXPECT_THAT(r.error().remedy, Not(HasSubstr("ApplicationAccessPolicy")));

  roles_ = {"Mail.ReadWrite"};  // consent granted meanwhile; the Mail.Read token still valid
  clock_.Advance(std::chrono::minutes(1));
  Answer(
      GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
  auto again = transport_->MarkRead("m1");
  ASSERT_FALSE(again.has_value());
  EXPECT_THAT(again.error().remedy, HasSubstr("ApplicationAccessPolicy"));
}

// Verifies a reply without Mail.Send names Mail.Send.
TEST_F(GraphTransportTest, ReplyWithoutMailSendNamesIt) {
  Answer(
      GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
  auto r = transport_->Reply("m1", "Thanks");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().remedy, HasSubstr("Mail.Send"));
}

// Verifies Graph's answer for a mailbox it does not serve (on-premises, unlicensed, soft-deleted)
// is kNotFound MailboxNotEnabledForRESTAPI naming those causes and the auto transport, also when
// the code comes as the inner, more specific one.
TEST_F(GraphTransportTest, MailboxNotEnabledForRestApiNamesOnPremisesAndAuto) {
  Answer(GraphError(404, "MailboxNotEnabledForRESTAPI",
                    "The mailbox is either inactive, soft-deleted, or is hosted on-premise."));
  AnswerJson(403, {{"error",
                    {{"code", "ErrorAccessDenied"},
                     {"message", "Access is denied"},
                     {"innerError", {{"code", "MailboxNotEnabledForRESTAPI"}}}}}});
  for (int i = 0; i < 2; ++i) {
    auto r = transport_->ResolveFolder("inbox", false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "MailboxNotEnabledForRESTAPI") << i;
    EXPECT_EQ(r.error().category, ErrorCategory::kNotFound) << i;
    EXPECT_THAT(r.error().remedy, HasSubstr("on-premises")) << i;
    EXPECT_THAT(r.error().remedy, HasSubstr("EmailIntegrationTransport")) << i;
  }
}

// Verifies an unknown user is kNotFound naming EmailIntegrationMailbox.
TEST_F(GraphTransportTest, UnknownUserNamesTheMailboxKey) {
  Answer(
      GraphError(404, "ErrorInvalidUser", "The requested user 'nobody@contoso.com' is invalid."));
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "ErrorInvalidUser");
  EXPECT_EQ(r.error().category, ErrorCategory::kNotFound);
  EXPECT_THAT(r.error().remedy, HasSubstr("EmailIntegrationMailbox"));
}

// Verifies the MIME comes from $value byte for byte with the properties from the message, and a
// message gone meanwhile is left out instead of failing the batch.
TEST_F(GraphTransportTest, FetchesMimeLeavingOutGoneMessages) {
  const std::string mime =
      "Message-ID: <1@contoso.com>\r\nSubject: Order 1\r\n\r\nBody \xE2\x82\xAC\r\n";
  AnswerJson(200, Message("m1=", "<1@contoso.com>", "Order 1"));
  Answer(HttpResponse{200, {{"Content-Type", "text/plain"}}, mime});
  Answer(GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
  auto messages = transport_->FetchMessages({"m1=", "m2"});
  ASSERT_TRUE(messages.has_value()) << messages.error().Describe();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].id, "m1=");
  EXPECT_EQ((*messages)[0].internet_message_id, "<1@contoso.com>");
  EXPECT_EQ((*messages)[0].mime, mime);
  EXPECT_EQ((*messages)[0].size, mime.size());
  ASSERT_EQ(graph_.size(), 3u);
  EXPECT_EQ(graph_[1].url, std::string(kRoot) + "/messages/m1%3D/$value");
}

// Verifies a message a delta page reported is fetched with its $value alone (the page carried its
// properties: two requests per message, not three), one the page gone meanwhile is left out, and
// one this transport never saw in a delta (after a restart) is read in full.
TEST_F(GraphTransportTest, MessagesFromTheDeltaNeedOnlyTheirMime) {
  const std::string delta = std::string(kRoot) + "/mailFolders('f-in')/messages/delta?$deltatoken=x";
  AnswerJson(200, {{"@odata.deltaLink", delta},
                   {"value",
                    {Message("m1", "<1@contoso.com>", "Order 1"),
                     Message("m2", "<2@contoso.com>", "Order 2")}}});
  ASSERT_TRUE(transport_->SyncFolder("f-in", "", 512).has_value());
  const std::string mime = "Message-ID: <1@contoso.com>\r\nSubject: Order 1\r\n\r\nBody\r\n";
  Answer(HttpResponse{200, {{"Content-Type", "text/plain"}}, mime});
  Answer(GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
  auto messages = transport_->FetchMessages({"m1", "m2"});
  ASSERT_TRUE(messages.has_value()) << messages.error().Describe();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].subject, "Order 1");
  EXPECT_EQ((*messages)[0].internet_message_id, "<1@contoso.com>");
  EXPECT_EQ((*messages)[0].mime, mime);
  ASSERT_EQ(graph_.size(), 3u);  // the delta page, m1's $value, m2's $value (404)
  EXPECT_EQ(graph_[1].url, std::string(kRoot) + "/messages/m1/$value");
  EXPECT_EQ(graph_[2].url, std::string(kRoot) + "/messages/m2/$value");

  AnswerJson(200, Message("m9", "<9@contoso.com>", "Never in a delta"));
  Answer(HttpResponse{200, {{"Content-Type", "text/plain"}}, "Subject: x\r\n\r\n"});
  auto full = transport_->FetchMessages({"m9"});
  ASSERT_TRUE(full.has_value()) << full.error().Describe();
  ASSERT_EQ(graph_.size(), 5u);
  EXPECT_THAT(graph_[3].url, HasSubstr("/messages/m9?$select="));
}

// Verifies mark-read is a PATCH of isRead, a move POSTs destinationId and returns the id the
// message has in its new folder, and delete is a move to Deleted Items.
TEST_F(GraphTransportTest, DispositionsAreThePatchAndMoves) {
  AnswerJson(200, Message("m1", "<1@contoso.com>", "Order 1", true));
  ASSERT_TRUE(transport_->MarkRead("m1").has_value());
  EXPECT_EQ(graph_[0].method, "PATCH");
  EXPECT_EQ(graph_[0].url, std::string(kRoot) + "/messages/m1");
  EXPECT_EQ(json::parse(graph_[0].body), json({{"isRead", true}}));
  EXPECT_EQ(Header(graph_[0], "Content-Type"), "application/json");

  AnswerJson(201, Message("m1-moved", "<1@contoso.com>", "Order 1", true));
  auto moved = transport_->Move("m1", "f-processed");
  ASSERT_TRUE(moved.has_value()) << moved.error().Describe();
  EXPECT_EQ(*moved, "m1-moved");
  EXPECT_EQ(graph_[1].method, "POST");
  EXPECT_EQ(graph_[1].url, std::string(kRoot) + "/messages/m1/move");
  EXPECT_EQ(json::parse(graph_[1].body), json({{"destinationId", "f-processed"}}));

  AnswerJson(201, Message("m1-deleted", "<1@contoso.com>", "Order 1", true));
  ASSERT_TRUE(transport_->Delete("m1-moved").has_value());
  EXPECT_EQ(json::parse(graph_[2].body), json({{"destinationId", "deleteditems"}}));

  Answer(GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
  auto gone = transport_->MarkRead("m7");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, "ErrorItemNotFound");  // the monitor records it as done
}

// Verifies a reply POSTs the comment and accepts 202.
TEST_F(GraphTransportTest, ReplyPostsTheComment) {
  roles_ = {"Mail.ReadWrite", "Mail.Send"};
  Answer(HttpResponse{202, {}, ""});
  ASSERT_TRUE(transport_->Reply("m1", "Thanks \"Dana\"").has_value());
  EXPECT_EQ(graph_[0].url, std::string(kRoot) + "/messages/m1/reply");
  EXPECT_EQ(json::parse(graph_[0].body), json({{"comment", "Thanks \"Dana\""}}));
}

// Verifies one 401 gets one fresh token and one retry; a second 401 is kAuthentication.
TEST_F(GraphTransportTest, OneTokenRefreshAfter401) {
  Answer(GraphError(401, "InvalidAuthenticationToken", "Access token has expired."));
  AnswerJson(200, {{"id", "f-in"}});
  ASSERT_TRUE(transport_->ResolveFolder("inbox", false).has_value());
  EXPECT_EQ(token_requests_, 2);
  Answer(GraphError(401, "InvalidAuthenticationToken", "Access token has expired."));
  Answer(GraphError(401, "InvalidAuthenticationToken", "Access token has expired."));
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kAuthentication);
  EXPECT_EQ(r.error().code, "InvalidAuthenticationToken");
  EXPECT_EQ(token_requests_, 3);
}

// Verifies a network failure is kTransient naming Graph's host, and Graph has no server push here:
// Watch says false, so the monitor polls.
TEST_F(GraphTransportTest, TransportFailureIsTransientAndWatchPolls) {
  Answer(Fail(ErrorCategory::kTransient, "HTTP transport", "connection refused"));
  auto r = transport_->ResolveFolder("inbox", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kTransient);
  EXPECT_THAT(r.error().message, HasSubstr("https://graph.microsoft.com"));
  auto watching = transport_->Watch("f-in", [] {});
  ASSERT_TRUE(watching.has_value());
  EXPECT_FALSE(*watching);
}

}  // namespace
}  // namespace exo::client::test
