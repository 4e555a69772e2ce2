// Graph's message delta over the store's change log, read as a specification: a round pages with
// @odata.nextLink ($skiptoken) until an @odata.deltaLink ($deltatoken); the next round reports only
// what changed (new and updated messages in full, removed ones as "@removed"); options of the
// first request travel in the tokens; a token the cache no longer holds is 410 SyncStateNotFound.
#include <gtest/gtest.h>

#include "graph_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::minutes;

class GraphDeltaTest : public GraphTest {
 protected:
  // Follows one link (absolute, on mock-ews) with the page size the client prefers.
  HttpReply Follow(const std::string& link, int page_size = 0) {
    httplib::Headers headers;
    if (page_size > 0) headers.emplace("Prefer", "odata.maxpagesize=" + std::to_string(page_size));
    return Graph("GET", link.substr(ews_->base_url().size()), nullptr, headers);
  }
  std::string Start(const std::string& query = "") {
    return ews_->base_url() + Me("/mailFolders/inbox/messages/delta" + query);
  }
  // Runs a whole round from `link`; returns the deltaLink and collects the entries.
  std::string Round(const std::string& link, json& entries, int page_size = 0) {
    std::string next = link;
    for (int pages = 0; pages < 50; ++pages) {
      const HttpReply r = Follow(next, page_size);
      EXPECT_EQ(r.status, 200) << r.body;
      const json j = r.Json();
      for (const auto& e : j["value"]) entries.push_back(e);
      if (j.contains("@odata.deltaLink")) return j["@odata.deltaLink"];
      next = j.value("@odata.nextLink", "");
      if (next.empty()) break;
    }
    ADD_FAILURE() << "no deltaLink";
    return "";
  }
};

// Verifies the first round pages by Prefer: odata.maxpagesize with $skiptoken links under the
// documented context, and ends with a $deltatoken link; the next round returns the new message, the
// one marked read (in full) and the deleted one ("@removed": deleted), and the round after that
// nothing.
TEST_F(GraphDeltaTest, RoundsReportOnlyWhatChanged) {
  const std::string first = DeliverFrom("a@fabrikam.com", "One");
  const std::string second = DeliverFrom("a@fabrikam.com", "Two");
  DeliverFrom("a@fabrikam.com", "Three");

  const HttpReply page1 = Follow(Start("?$select=subject,isRead"), 2);
  ASSERT_EQ(page1.status, 200) << page1.body;
  const json j1 = page1.Json();
  EXPECT_EQ(j1["@odata.context"], ews_->base_url() + "/v1.0/$metadata#Collection(message)");
  ASSERT_EQ(j1["value"].size(), 2u);
  const std::string next = j1.value("@odata.nextLink", "");
  EXPECT_TRUE(next.starts_with(ews_->base_url() +
                               "/v1.0/users/monitor%40contoso.com/mailFolders('inbox')/"
                               "messages/delta?$skiptoken="))
      << next;
  EXPECT_FALSE(j1.contains("@odata.deltaLink"));
  // Each entry: type, etag, the selected properties, the id last.
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(page1.body);
  for (auto it = ordered["value"][0].begin(); it != ordered["value"][0].end(); ++it) {
    keys.push_back(it.key());
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"@odata.type", "@odata.etag", "subject", "isRead", "id"}));

  const HttpReply page2 = Follow(next, 2);
  ASSERT_EQ(page2.status, 200) << page2.body;
  ASSERT_EQ(page2.Json()["value"].size(), 1u);
  const std::string delta = page2.Json().value("@odata.deltaLink", "");
  EXPECT_NE(delta.find("/messages/delta?$deltatoken="), std::string::npos) << delta;

  clock_.Advance(minutes(5));
  const std::string fourth = DeliverFrom("a@fabrikam.com", "Four");
  ASSERT_EQ(Graph("PATCH", Me("/messages/" + first), {{"isRead", true}}).status, 200);
  ASSERT_EQ(Graph("DELETE", Me("/messages/" + second)).status, 204);

  json changes = json::array();
  const std::string delta2 = Round(delta, changes);
  ASSERT_EQ(changes.size(), 3u) << changes.dump();
  std::map<std::string, json> by_id;
  for (const auto& c : changes) by_id[c["id"].get<std::string>()] = c;
  EXPECT_EQ(by_id[fourth]["subject"], "Four");
  EXPECT_EQ(by_id[first]["isRead"], true);
  EXPECT_EQ(by_id[first]["subject"], "One");  // updated messages come in full ($select kept)
  EXPECT_EQ(by_id[second], json({{"@odata.type", "#microsoft.graph.message"},
                                 {"id", second},
                                 {"@removed", {{"reason", "deleted"}}}}));

  json none = json::array();
  Round(delta2, none);
  EXPECT_TRUE(none.empty()) << none.dump();
}

// Verifies a message moved out of the folder is reported removed there and new in the destination's
// own delta.
TEST_F(GraphDeltaTest, MovedMessageLeavesOneFolderForAnother) {
  const std::string id = DeliverFrom("a@fabrikam.com", "Travels");
  json initial = json::array();
  const std::string inbox_delta = Round(Start(), initial);
  ASSERT_EQ(initial.size(), 1u);
  json junk_initial = json::array();
  const std::string junk_delta =
      Round(ews_->base_url() + Me("/mailFolders/junkemail/messages/delta"), junk_initial);
  EXPECT_TRUE(junk_initial.empty());

  const HttpReply moved =
      Graph("POST", Me("/messages/" + id + "/move"), {{"destinationId", "junkemail"}});
  ASSERT_EQ(moved.status, 201) << moved.body;
  json inbox_changes = json::array(), junk_changes = json::array();
  Round(inbox_delta, inbox_changes);
  Round(junk_delta, junk_changes);
  ASSERT_EQ(inbox_changes.size(), 1u);
  EXPECT_EQ(inbox_changes[0]["id"], id);
  EXPECT_TRUE(inbox_changes[0].contains("@removed"));
  ASSERT_EQ(junk_changes.size(), 1u);
  EXPECT_EQ(junk_changes[0]["id"], moved.Json()["id"]);
}

// Verifies changeType=created, given on the first request, keeps later rounds to new messages.
TEST_F(GraphDeltaTest, ChangeTypeCreatedReportsOnlyNewMessages) {
  const std::string old = DeliverFrom("a@fabrikam.com", "Old");
  json initial = json::array();
  const std::string delta = Round(Start("?changeType=created"), initial);
  ASSERT_EQ(initial.size(), 1u);
  ASSERT_EQ(Graph("PATCH", Me("/messages/" + old), {{"isRead", true}}).status, 200);
  DeliverFrom("a@fabrikam.com", "New");
  json changes = json::array();
  Round(delta, changes);
  ASSERT_EQ(changes.size(), 1u) << changes.dump();
  EXPECT_EQ(changes[0]["subject"], "New");
}

// Verifies the token cache keeps a round's last three generations: reusing a deltaLink three
// rounds old is 410 SyncStateNotFound with the service's generation message; a link one round
// old still works; a token the service never issued is 410 too.
TEST_F(GraphDeltaTest, StaleOrInvalidTokenIsSyncStateNotFound) {
  DeliverFrom("a@fabrikam.com", "One");
  json ignored = json::array();
  const std::string d1 = Round(Start(), ignored);
  const std::string d2 = Round(d1, ignored);
  const std::string d3 = Round(d2, ignored);
  const std::string d4 = Round(d3, ignored);
  EXPECT_EQ(Follow(d3).status, 200);  // a retry of the previous round is fine
  const HttpReply stale = Follow(d1);
  ExpectGraphError(stale, 410, "SyncStateNotFound", "");
  EXPECT_TRUE(stale.Json()["error"]["message"].get<std::string>().starts_with(
      "The sync state generation is not found; generation=1;[highest="))
      << stale.body;
  ExpectGraphError(
      Graph("GET", Me("/mailFolders/inbox/messages/delta?$deltatoken=GwcBoTmPuoGNlgXgF1nyUNMXY")),
      410, "SyncStateNotFound", "");
  // A token of the inbox used on another folder.
  const std::string token = d4.substr(d4.find("$deltatoken="));
  ExpectGraphError(Graph("GET", Me("/mailFolders/junkemail/messages/delta?" + token)), 410,
                   "SyncStateNotFound", "The sync state root folder is not found.");
}

// Verifies delta's documented limits: $filter only on receivedDateTime, and delta is per folder.
TEST_F(GraphDeltaTest, UnsupportedOptionsAreRefused) {
  EXPECT_EQ(
      Graph("GET", Me("/mailFolders/inbox/messages/delta?$filter=isRead%20eq%20false")).status,
      400);
  EXPECT_EQ(Graph("GET", Me("/messages/delta")).status, 400);
  DeliverFrom("a@fabrikam.com", "Recent");
  const json page = Graph("GET", Me("/mailFolders/inbox/messages/"
                                    "delta?$filter=receivedDateTime%20ge%202026-01-01T00:00:00Z"))
                        .Json();
  EXPECT_EQ(page["value"].size(), 1u);
}

}  // namespace
}  // namespace exo::mock_ews::test
