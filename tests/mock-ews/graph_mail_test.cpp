// Microsoft Graph mail on mock-ews, read as a specification: the resources and their JSON shapes
// (mailFolder, message list/get/$value), the OData options ($select, $filter, $orderby, $top and
// @odata.nextLink), the changes (PATCH, move, DELETE, sendMail, reply), and Graph's ids: EWS ids in
// the URL-safe alphabet, naming the same store items.
#include <gtest/gtest.h>

#include <algorithm>

#include "exo/common/time_format.hpp"
#include "graph_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::minutes;

class GraphMailTest : public GraphTest {
 protected:
  // The store's view of a message named by its Graph id.
  Result<Item> StoreItem(const std::string& graph_id) {
    std::string id = graph_id;
    for (char& c : id) {
      if (c == '_') c = '+';
      if (c == '-') c = '/';
    }
    return ews_->store().GetItem(id);
  }
  Folder Distinguished(const std::string& smtp, DistinguishedFolder f) {
    auto folder = ews_->store().GetDistinguishedFolder(smtp, f);
    EXPECT_TRUE(folder.has_value());
    return folder.value_or(Folder{});
  }
  static std::string GraphId(std::string store_id) {
    for (char& c : store_id) {
      if (c == '+') c = '_';
      if (c == '/') c = '-';
    }
    return store_id;
  }
};

// Verifies GET mailFolders/inbox answers the folder under its real id with its counts and the
// answer headers every Graph response carries.
TEST_F(GraphMailTest, MailFolderByWellKnownNameHasItsIdAndCounts) {
  DeliverFrom("sender@fabrikam.com", "One");
  DeliverFrom("sender@fabrikam.com", "Two");
  const HttpReply r = Graph("GET", Me("/mailFolders/inbox"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"),
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
            "charset=utf-8");
  EXPECT_EQ(r.Header("OData-Version"), "4.0");
  EXPECT_EQ(r.Header("request-id").size(), 36u);
  EXPECT_EQ(r.Header("client-request-id"), r.Header("request-id"));
  EXPECT_TRUE(r.HasHeader("x-ms-ags-diagnostic"));
  const json f = r.Json();
  EXPECT_EQ(
      f["@odata.context"],
      ews_->base_url() + "/v1.0/$metadata#users('monitor%40contoso.com')/mailFolders/$entity");
  const Folder inbox = Distinguished(kMonitor, DistinguishedFolder::kInbox);
  EXPECT_EQ(f["id"], GraphId(inbox.id));
  EXPECT_EQ(f["displayName"], "Inbox");
  EXPECT_EQ(f["parentFolderId"], GraphId(inbox.parent_id));
  EXPECT_EQ(f["childFolderCount"], 0);
  EXPECT_EQ(f["totalItemCount"], 2);
  EXPECT_EQ(f["unreadItemCount"], 2);
  EXPECT_GT(f["sizeInBytes"].get<int>(), 0);
  EXPECT_EQ(f["isHidden"], false);
  // The id works as well as the name, and a client-request-id is echoed.
  const HttpReply by_id = Graph("GET", Me("/mailFolders/" + f["id"].get<std::string>()), nullptr,
                                {{"client-request-id", "7a3f0c52-0000-4000-8000-000000000001"}});
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(by_id.Json()["displayName"], "Inbox");
  EXPECT_EQ(by_id.Header("client-request-id"), "7a3f0c52-0000-4000-8000-000000000001");
}

// Verifies a list is newest first, each message with its etag and id and only the $select'ed
// properties, under the collection's @odata.context.
TEST_F(GraphMailTest, ListsNewestFirstWithSelect) {
  DeliverFrom("a@fabrikam.com", "First");
  clock_.Advance(minutes(1));
  DeliverFrom("b@fabrikam.com", "Second");
  const HttpReply r = Graph("GET", Me("/mailFolders/inbox/messages?$select=subject,isRead"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j["@odata.context"],
            ews_->base_url() +
                "/v1.0/$metadata#users('monitor%40contoso.com')/mailFolders('inbox')/"
                "messages(subject,isRead)");
  ASSERT_EQ(j["value"].size(), 2u);
  EXPECT_EQ(j["value"][0]["subject"], "Second");
  EXPECT_EQ(j["value"][1]["subject"], "First");
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(r.body);
  for (auto it = ordered["value"][0].begin(); it != ordered["value"][0].end(); ++it) {
    keys.push_back(it.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"@odata.etag", "id", "subject", "isRead"}));
  EXPECT_FALSE(j.contains("@odata.nextLink"));
}

// Verifies $top cuts a page and @odata.nextLink ($skip, the other options kept) leads to the rest;
// $count adds the total.
TEST_F(GraphMailTest, PagesWithTopAndNextLink) {
  for (const char* s : {"A", "B", "C"}) {
    DeliverFrom("a@fabrikam.com", s);
    clock_.Advance(minutes(1));
  }
  const HttpReply first =
      Graph("GET", Me("/mailFolders/inbox/messages?$select=subject&$top=2&$count=true"));
  ASSERT_EQ(first.status, 200) << first.body;
  const json j = first.Json();
  EXPECT_EQ(j["@odata.count"], 3);
  ASSERT_EQ(j["value"].size(), 2u);
  const std::string next = j.value("@odata.nextLink", "");
  EXPECT_EQ(next, ews_->base_url() +
                      "/v1.0/users/monitor%40contoso.com/mailFolders/inbox/"
                      "messages?$select=subject&$top=2&$count=true&$skip=2");
  const HttpReply second = Graph("GET", next.substr(ews_->base_url().size()));
  ASSERT_EQ(second.status, 200) << second.body;
  ASSERT_EQ(second.Json()["value"].size(), 1u);
  EXPECT_EQ(second.Json()["value"][0]["subject"], "A");
  EXPECT_FALSE(second.Json().contains("@odata.nextLink"));
}

// Verifies the default page is 10 messages.
TEST_F(GraphMailTest, DefaultPageIsTenMessages) {
  for (int i = 0; i < 12; ++i) DeliverFrom("a@fabrikam.com", "M" + std::to_string(i));
  const json j = Graph("GET", Me("/mailFolders/inbox/messages?$select=id")).Json();
  EXPECT_EQ(j["value"].size(), 10u);
  EXPECT_TRUE(j.contains("@odata.nextLink"));
}

// Verifies $filter on isRead and on receivedDateTime (ISO literal, UTC), and that an $orderby on a
// property the filter does not start with is InefficientFilter, as Graph answers.
TEST_F(GraphMailTest, FiltersOnIsReadAndReceivedDateTime) {
  const std::string early = DeliverFrom("a@fabrikam.com", "Early");
  clock_.Advance(minutes(30));
  const std::string cutoff = FormatIso8601(clock_.Now());
  DeliverFrom("a@fabrikam.com", "Late");
  ASSERT_EQ(Graph("PATCH", Me("/messages/" + early), {{"isRead", true}}).status, 200);

  const json unread =
      Graph("GET", Me("/mailFolders/inbox/messages?$filter=isRead%20eq%20false")).Json();
  ASSERT_EQ(unread["value"].size(), 1u);
  EXPECT_EQ(unread["value"][0]["subject"], "Late");

  const json recent =
      Graph("GET", Me("/mailFolders/inbox/messages?$filter=receivedDateTime%20ge%20" + cutoff +
                      "&$orderby=receivedDateTime%20desc"))
          .Json();
  ASSERT_EQ(recent["value"].size(), 1u) << recent.dump();
  EXPECT_EQ(recent["value"][0]["subject"], "Late");

  ExpectGraphError(Graph("GET", Me("/mailFolders/inbox/messages?$filter=isRead%20eq%20false&"
                                   "$orderby=receivedDateTime%20desc")),
                   400, "InefficientFilter",
                   "The restriction or sort order is too complex for this operation.");
  ExpectGraphError(Graph("GET", Me("/mailFolders/inbox/messages?$filter=colour%20eq%20'red'")), 400,
                   "BadRequest",
                   "Invalid filter clause: Could not find a property named 'colour' on type "
                   "'microsoft.graph.message'.");
  ExpectGraphError(Graph("GET", Me("/mailFolders/inbox/messages?$select=colour")), 400,
                   "RequestBroker--ParseUri",
                   "Could not find a property named 'colour' on type 'microsoft.graph.message'.");
}

// Verifies one message in full: Graph's property order, from/sender as emailAddress objects,
// ISO times with Z, the etag holding the changeKey, and an id that is the store item's EWS id in
// the URL-safe alphabet.
TEST_F(GraphMailTest, GetMessageHasGraphShape) {
  const std::string id = DeliverFrom("sender@fabrikam.com", "Quarterly numbers");
  const HttpReply r = Graph("GET", Me("/messages/" + id));
  ASSERT_EQ(r.status, 200) << r.body;
  const json m = r.Json();
  auto item = StoreItem(id);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(m["@odata.context"],
            ews_->base_url() + "/v1.0/$metadata#users('monitor%40contoso.com')/messages/$entity");
  EXPECT_EQ(m["id"], id);
  EXPECT_EQ(id.find_first_of("+/"), std::string::npos);
  EXPECT_EQ(m["changeKey"], item->change_key);
  EXPECT_EQ(m["@odata.etag"], "W/\"" + item->change_key + "\"");
  EXPECT_EQ(m["subject"], "Quarterly numbers");
  EXPECT_EQ(m["receivedDateTime"], FormatIso8601(item->date_time_received));
  EXPECT_EQ(m["receivedDateTime"].get<std::string>().back(), 'Z');
  EXPECT_EQ(m["internetMessageId"], item->fields.internet_message_id);
  EXPECT_EQ(m["from"],
            json({{"emailAddress",
                   {{"name", "sender@fabrikam.com"}, {"address", "sender@fabrikam.com"}}}}));
  EXPECT_EQ(m["sender"], m["from"]);
  EXPECT_EQ(m["toRecipients"][0]["emailAddress"]["address"], kMonitor);
  EXPECT_EQ(m["isRead"], false);
  EXPECT_EQ(m["importance"], "normal");
  EXPECT_EQ(m["parentFolderId"], GraphId(item->parent_folder_id));
  EXPECT_EQ(m["body"]["contentType"], "html");
  EXPECT_EQ(m["bodyPreview"], "Hi");
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(r.body);
  for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
  const std::vector<std::string> expected = {"@odata.context",
                                             "@odata.etag",
                                             "id",
                                             "createdDateTime",
                                             "lastModifiedDateTime",
                                             "changeKey",
                                             "categories",
                                             "receivedDateTime",
                                             "sentDateTime",
                                             "hasAttachments",
                                             "internetMessageId",
                                             "subject",
                                             "bodyPreview",
                                             "importance",
                                             "parentFolderId",
                                             "conversationId",
                                             "isDeliveryReceiptRequested",
                                             "isReadReceiptRequested",
                                             "isRead",
                                             "isDraft",
                                             "webLink",
                                             "inferenceClassification",
                                             "body",
                                             "sender",
                                             "from",
                                             "toRecipients",
                                             "ccRecipients",
                                             "bccRecipients",
                                             "replyTo",
                                             "flag"};
  EXPECT_EQ(keys, expected);

  // Prefer: outlook.body-content-type="text" gives the text body and says so.
  const HttpReply text = Graph("GET", Me("/messages/" + id + "?$select=body"), nullptr,
                               {{"Prefer", "outlook.body-content-type=\"text\""}});
  EXPECT_EQ(text.Json()["body"]["contentType"], "text");
  EXPECT_EQ(text.Header("Preference-Applied"), "outlook.body-content-type=\"text\"");
}

// Verifies $value is the stored MIME as text/plain.
TEST_F(GraphMailTest, ValueIsTheStoredMime) {
  const std::string id = DeliverFrom("sender@fabrikam.com", "Raw");
  const HttpReply r = Graph("GET", Me("/mailFolders/inbox/messages/" + id + "/$value"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/plain");
  auto item = StoreItem(id);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(r.body, *item->mime);
  EXPECT_NE(r.body.find("Subject: Raw"), std::string::npos);
}

// Verifies PATCH isRead marks the store item read and gives it a new change key.
TEST_F(GraphMailTest, PatchMarksReadAndChangesTheChangeKey) {
  const std::string id = DeliverFrom("sender@fabrikam.com", "Read me");
  const std::string before = StoreItem(id)->change_key;
  const HttpReply r = Graph("PATCH", Me("/messages/" + id), {{"isRead", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["isRead"], true);
  EXPECT_NE(r.Json()["changeKey"], before);
  EXPECT_TRUE(StoreItem(id)->is_read);
  ExpectGraphError(Graph("PATCH", Me("/messages/" + id), {{"colour", "red"}}), 400, "BadRequest",
                   "The property 'colour' does not exist on type 'microsoft.graph.message'. Make "
                   "sure to only use property names that are defined by the type or mark the type "
                   "as open type.");
  ExpectGraphError(Graph("PATCH", Me("/messages/" + id)), 400, "BadRequest",
                   "Empty Payload. JSON content expected.");
}

// Verifies move answers 201 with the message under its new id in the destination (a well-known
// name or an id), and the old id is gone.
TEST_F(GraphMailTest, MoveReturnsTheMessageWithItsNewId) {
  const std::string id = DeliverFrom("sender@fabrikam.com", "Move me");
  const HttpReply r =
      Graph("POST", Me("/messages/" + id + "/move"), {{"destinationId", "deleteditems"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json m = r.Json();
  EXPECT_EQ(m["@odata.context"], ews_->base_url() + "/v1.0/$metadata#message");
  EXPECT_EQ(m["@odata.type"], "#microsoft.graph.message");
  EXPECT_NE(m["id"], id);
  EXPECT_EQ(m["parentFolderId"],
            GraphId(Distinguished(kMonitor, DistinguishedFolder::kDeletedItems).id));
  ExpectGraphError(Graph("GET", Me("/messages/" + id)), 404, "ErrorItemNotFound",
                   "The specified object was not found in the store.");
  EXPECT_EQ(Graph("GET", Me("/messages/" + m["id"].get<std::string>())).status, 200);
}

// Verifies DELETE answers 204 and the message is gone from its folder and not in Deleted Items.
TEST_F(GraphMailTest, DeleteRemovesTheMessage) {
  const std::string id = DeliverFrom("sender@fabrikam.com", "Delete me");
  const HttpReply r = Graph("DELETE", Me("/messages/" + id));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Graph("GET", Me("/messages/" + id)).status, 404);
  EXPECT_EQ(Distinguished(kMonitor, DistinguishedFolder::kDeletedItems).total_count, 0u);
  EXPECT_EQ(Distinguished(kMonitor, DistinguishedFolder::kInbox).total_count, 0u);
}

// Verifies sendMail answers 202 with no body, delivers to the store's mailbox, keeps a read copy
// in Sent Items, and notes the address no mailbox owns in the journal.
TEST_F(GraphMailTest, SendMailDeliversAndKeepsASentCopy) {
  CreateAlice();
  const json mail = {{"message",
                      {{"subject", "Lunch?"},
                       {"body", {{"contentType", "Text"}, {"content", "At noon."}}},
                       {"toRecipients",
                        {{{"emailAddress", {{"address", kAlice}}}},
                         {{"emailAddress", {{"address", "bob@fabrikam.com"}}}}}}}},
                     {"saveToSentItems", true}};
  const HttpReply r = Graph("POST", Me("/sendMail"), mail);
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.body.empty());
  const Folder alice_inbox = Distinguished(kAlice, DistinguishedFolder::kInbox);
  auto got = ews_->store().FindItems(alice_inbox.id, {});
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->items.size(), 1u);
  EXPECT_EQ(got->items[0].fields.subject, "Lunch?");
  EXPECT_EQ(got->items[0].fields.from->address, kMonitor);
  auto sent =
      ews_->store().FindItems(Distinguished(kMonitor, DistinguishedFolder::kSentItems).id, {});
  ASSERT_EQ(sent->items.size(), 1u);
  EXPECT_TRUE(sent->items[0].is_read);
  const json journal = Send(*ews_client_, "GET", "/_exo/journal?path=/sendMail").Json()["entries"];
  ASSERT_FALSE(journal.empty());
  EXPECT_EQ(journal.back()["annotations"]["outbound"], "bob@fabrikam.com");

  ExpectGraphError(Graph("POST", Me("/sendMail"), {{"message", {{"subject", "Nobody"}}}}), 400,
                   "ErrorInvalidRecipients",
                   "At least one recipient isn't valid., A message can't be sent because it "
                   "contains no recipients.");
}

// Verifies reply answers 202 and the sender gets "RE: subject" threaded to the original, the
// comment above the quoted message; a copy stays in Sent Items.
TEST_F(GraphMailTest, ReplyGoesToTheSenderThreaded) {
  CreateAlice();
  const std::string id = DeliverFrom(kAlice, "Invoice 42");
  const HttpReply r = Graph("POST", Me("/messages/" + id + "/reply"), {{"comment", "Paid."}});
  EXPECT_EQ(r.status, 202) << r.body;
  auto got = ews_->store().FindItems(Distinguished(kAlice, DistinguishedFolder::kInbox).id, {});
  ASSERT_EQ(got->items.size(), 1u);
  const Item& reply = got->items[0];
  EXPECT_EQ(reply.fields.subject, "RE: Invoice 42");
  EXPECT_EQ(reply.fields.in_reply_to, StoreItem(id)->fields.internet_message_id);
  EXPECT_NE(reply.mime->find("Paid."), std::string::npos);
  EXPECT_EQ(Distinguished(kMonitor, DistinguishedFolder::kSentItems).total_count, 1u);
}

// Verifies the id errors: a malformed id is 400 ErrorInvalidIdMalformed; another mailbox's item
// under this user's path is 404 ErrorInvalidMailboxItemId.
TEST_F(GraphMailTest, MalformedAndForeignIdsAreRefused) {
  CreateAlice();
  ExpectGraphError(Graph("GET", Me("/messages/AAMkNotAnId")), 400, "ErrorInvalidIdMalformed",
                   "Id is malformed.");
  const std::string alices = DeliverFrom("x@fabrikam.com", "Hers", kAlice);
  ExpectGraphError(Graph("GET", Me("/messages/" + alices)), 404, "ErrorInvalidMailboxItemId", "");
  EXPECT_EQ(Graph("GET", std::string("/v1.0/users/") + kAlice + "/messages/" + alices).status, 200);
}

// Verifies the user errors: nobody is 404 ErrorInvalidUser naming the key; /me is for delegated
// tokens only; an unknown segment is 400 "Resource not found for the segment".
TEST_F(GraphMailTest, UserAndRouteErrors) {
  ExpectGraphError(Graph("GET", "/v1.0/users/nobody@contoso.com/mailFolders/inbox/messages"), 404,
                   "ErrorInvalidUser", "The requested user 'nobody@contoso.com' is invalid.");
  ExpectGraphError(Graph("GET", "/v1.0/me/messages"), 400, "BadRequest",
                   "/me request is only valid with delegated authentication flow.");
  ExpectGraphError(Graph("GET", Me("/calendars")), 400, "BadRequest",
                   "Resource not found for the segment 'calendars'.");
}

// Verifies the whole-mailbox list and the OData key syntax in paths (users('x')/mailFolders('y')).
TEST_F(GraphMailTest, MailboxWideListAndKeySyntax) {
  const std::string id = DeliverFrom("a@fabrikam.com", "Anywhere");
  ASSERT_EQ(Graph("POST", Me("/messages/" + id + "/move"), {{"destinationId", "junkemail"}}).status,
            201);
  DeliverFrom("a@fabrikam.com", "Inbox one");
  EXPECT_EQ(Graph("GET", Me("/messages?$select=subject")).Json()["value"].size(), 2u);
  const HttpReply keyed = Graph(
      "GET", std::string("/v1.0/users('") + kMonitor + "')/mailFolders('JunkEmail')/messages");
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  ASSERT_EQ(keyed.Json()["value"].size(), 1u);
  EXPECT_EQ(keyed.Json()["value"][0]["subject"], "Anywhere");
}

// Verifies childFolders: creation (201), the same name again (409 ErrorFolderExists), and the
// list with $select.
TEST_F(GraphMailTest, ChildFoldersAreListedAndCreated) {
  const HttpReply created =
      Graph("POST", Me("/mailFolders/inbox/childFolders"), {{"displayName", "Processed"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["displayName"], "Processed");
  ExpectGraphError(
      Graph("POST", Me("/mailFolders/inbox/childFolders"), {{"displayName", "processed"}}), 409,
      "ErrorFolderExists", "A folder with the specified name already exists.");
  const json list =
      Graph("GET", Me("/mailFolders/inbox/childFolders?$select=id,displayName")).Json();
  ASSERT_EQ(list["value"].size(), 1u);
  EXPECT_EQ(list["value"][0], json({{"id", created.Json()["id"]}, {"displayName", "Processed"}}));
  // The new folder takes messages.
  const std::string id = DeliverFrom("a@fabrikam.com", "File me");
  EXPECT_EQ(
      Graph("POST", Me("/messages/" + id + "/move"), {{"destinationId", created.Json()["id"]}})
          .status,
      201);
}

}  // namespace
}  // namespace exo::mock_ews::test
