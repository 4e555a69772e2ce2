// The Microsoft Graph mail facade's inside: one authorized request (GraphCall), what an operation
// answers (GraphReply), the OData query options it reads ($select, $filter, $orderby), how a
// store item becomes a Graph message, and the delta-token cache. Wire facts and their sources:
// docs/mock-ews.md "Microsoft Graph mail"; [infer] marks what no source showed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews::graph {

using ojson = nlohmann::ordered_json;

// ---- Ids ----

// Graph's id of a store item or folder: the EWS id in base64's URL-safe alphabet ('+' -> '_',
// '/' -> '-', padding kept), as Exchange's REST ids are (microsoft-graph-docs#14419).
std::string ToGraphId(std::string_view store_id);
// The store id of a Graph id; nullopt when it holds characters of the EWS alphabet ('+', '/').
std::optional<std::string> FromGraphId(std::string_view graph_id);

// ---- Answers ----

// A Graph error: {"error":{"code","message","innerError":{…}}} with this status.
struct GraphError {
  int status = 400;
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
};

GraphError BadRequest(std::string message);  // 400 BadRequest
// A store error as Graph passes Exchange's codes through: 404 for the kNotFound category, else
// 400; the message as the store words it.
GraphError FromStoreError(const Error& e);

// What an operation answers: JSON (with `status`), raw bytes (MIME, text/plain), or nothing.
struct GraphReply {
  int status = 200;
  std::optional<ojson> json;
  std::optional<std::string> raw;
  std::string raw_content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<GraphError> error;

  static GraphReply Json(ojson body, int status = 200);
  static GraphReply Empty(int status);
  static GraphReply Fail(GraphError e);
};

// ---- Query options ----

// The request's query string, decoded ('+' as a space, %XX), names as sent.
struct Query {
  std::vector<std::pair<std::string, std::string>> params;
  // The value of `name` (case-insensitive), if given.
  std::optional<std::string> Get(std::string_view name) const;
};
Query ParseQuery(std::string_view raw);
std::string PercentDecode(std::string_view s, bool plus_is_space);

// Canonical message property names a $select, $filter or $orderby may use.
using Selection = std::vector<std::string>;  // empty: every property
// $select=a,b: canonical names in the message's own property order. Error: 400
// RequestBroker--ParseUri for a name that is not a message property.
std::optional<GraphError> ParseSelect(std::string_view text, Selection& out);

struct ItemFilter {
  std::function<bool(const Item&)> matches;  // empty: every item
  std::vector<std::string> properties;       // as they appear, canonical names
};
// $filter over isRead, receivedDateTime, sentDateTime, createdDateTime, lastModifiedDateTime,
// hasAttachments, importance, isDraft, subject, from/emailAddress/address and
// sender/emailAddress/address with eq ne gt ge lt le, and/or/not and parentheses. Errors: 400
// BadRequest "Invalid filter clause: …".
std::optional<GraphError> ParseFilter(std::string_view text, ItemFilter& out);

struct SortKey {
  std::string property;
  bool descending = false;
};
std::optional<GraphError> ParseOrderBy(std::string_view text, std::vector<SortKey>& out);
// Whether `a` sorts before `b` under `keys` (ties: newest received first).
bool SortsBefore(const Item& a, const Item& b, const std::vector<SortKey>& keys);

// ---- Rendering ----

enum class BodyFormat { kHtml, kText };

enum class MessageLayout {
  kEntity,  // @odata.etag, id, then the properties (GET, list, PATCH)
  kTyped,   // @odata.type first, then as kEntity (move's answer)
  kDelta,   // @odata.type, @odata.etag, the properties, id last (delta pages)
};

ojson RenderMessage(const Item& item, const Selection& select, BodyFormat body,
                    MessageLayout layout);
// The mailFolder resource (without @odata.context).
ojson RenderFolder(const Folder& folder, std::uint64_t size_in_bytes);

// ---- Delta tokens ----

// What a delta round remembers between its pages: the store's sync state and the options of the
// first request, which Graph encodes into its links.
struct DeltaState {
  std::string sync_state;
  std::string folder_id;  // store id
  std::string select;     // $select as given
  std::string filter;     // $filter as given
  std::string change_type;
  bool newest_first = false;  // $orderby=receivedDateTime desc
  std::size_t page_size = 0;  // $top; 0: none
};

// Outlook's delta-token cache: each delta round (a chain of tokens starting at an initial delta
// request) keeps its newest kGenerations generations; older tokens of the chain, tokens of a
// chain the cache evicted (it holds `capacity` chains, least recently used out) and tokens it
// never issued are not found: 410 SyncStateNotFound (delta-query-overview.md "Token duration";
// microsoft-graph-docs#2162, #2350). Thread-safe.
class DeltaCache {
 public:
  static constexpr std::uint32_t kGenerations = 3;

  DeltaCache(std::string key, std::size_t capacity) : key_(std::move(key)), capacity_(capacity) {}

  // A new chain (an initial delta request); its first page's state comes with Advance.
  std::uint64_t Start();
  // The state a token stands for, or the 410 answer.
  struct Found {
    std::uint64_t chain = 0;
    DeltaState state;
  };
  std::optional<Found> Find(std::string_view token, GraphError& refusal);
  // The chain's next generation; returns its token.
  std::string Advance(std::uint64_t chain, DeltaState next);
  void Clear();

 private:
  struct Chain {
    std::uint32_t highest = 0;
    std::map<std::uint32_t, DeltaState> generations;
    std::uint64_t last_used = 0;
  };
  std::string Token(std::uint64_t chain, std::uint32_t generation) const;

  const std::string key_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::map<std::uint64_t, Chain> chains_;
  std::uint64_t next_chain_ = 1;
  std::uint64_t use_counter_ = 0;
};

}  // namespace exo::mock_ews::graph

namespace exo::mock_ews::graph {

// One authenticated, authorized, admitted request for one mailbox.
struct GraphCall {
  MailboxStore& store;
  Clock& clock;
  DeltaCache& delta;
  Mailbox mailbox;
  std::string base_url;    // "https://127.0.0.1:41234": where links point
  std::string user_path;   // the user segment as sent, re-encoded: "users/a%40b.com" or "me"
  std::string user_key;    // the key as sent (decoded): "a@b.com"
  std::string folder;      // mailFolders/{folder} as sent (decoded); empty: none
  std::string message_id;  // messages/{id} as sent (decoded); empty: none
  Query query;
  std::string raw_query;
  std::string body;
  std::string prefer;                 // the Prefer header(s), joined with ", "
  std::vector<std::string> outbound;  // recipients no mailbox of the store owns (journal)
};

// ---- Operations (graph_messages.cpp, graph_delta.cpp) ----

GraphReply GetMailFolder(GraphCall& call);
GraphReply ListChildFolders(GraphCall& call);
GraphReply CreateChildFolder(GraphCall& call);
GraphReply ListMessages(GraphCall& call);  // in call.folder, or the whole mailbox
GraphReply GetMessage(GraphCall& call);
GraphReply GetMessageMime(GraphCall& call);
GraphReply UpdateMessage(GraphCall& call);
GraphReply DeleteMessage(GraphCall& call);
GraphReply MoveMessage(GraphCall& call);
GraphReply ReplyToMessage(GraphCall& call);
GraphReply SendMail(GraphCall& call);
GraphReply MessageDelta(GraphCall& call);

// Shared by the operations: a folder by well-known name or id, a message by id, each checked to
// belong to the call's mailbox.
std::optional<Folder> ResolveFolderOf(const GraphCall& call, std::string_view name_or_id,
                                      GraphError& refusal);
std::optional<Item> ResolveMessage(const GraphCall& call, GraphError& refusal);
// The body format the Prefer header asks for (outlook.body-content-type="text").
BodyFormat PreferredBody(const GraphCall& call);
// "odata.maxpagesize=N" from Prefer, if any.
std::optional<std::size_t> PreferredPageSize(const GraphCall& call);

}  // namespace exo::mock_ews::graph
