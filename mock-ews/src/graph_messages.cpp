// Graph's mail operations over the store: mailFolder get, message list/get/$value/update/move/
// delete, reply and sendMail (microsoft-graph-docs-contrib api-reference/v1.0: mailfolder-get,
// user-list-messages, mailfolder-list-messages, message-get, message-update, message-move,
// message-delete, message-reply, user-sendmail).
#include <algorithm>
#include <cctype>

#include "exo/common/base64.hpp"
#include "internal/graph_ops.hpp"
#include "internal/mail_compose.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews::graph {

namespace {

using internal::AsciiIEquals;
using internal::AsciiLower;
using nlohmann::json;

constexpr std::size_t kDefaultPageSize = 10;  // "The default page size is 10 messages."
constexpr std::size_t kMaxPageSize = 1000;    // "within the range of 1 and 1000"

// Well-known folder names (resources/mailfolder.md) the store has, and those it has not.
struct WellKnown {
  const char* name;
  std::optional<DistinguishedFolder> folder;
};
constexpr WellKnown kWellKnown[] = {
    {"msgfolderroot", DistinguishedFolder::kMsgFolderRoot},
    {"inbox", DistinguishedFolder::kInbox},
    {"sentitems", DistinguishedFolder::kSentItems},
    {"deleteditems", DistinguishedFolder::kDeletedItems},
    {"drafts", DistinguishedFolder::kDrafts},
    {"junkemail", DistinguishedFolder::kJunkEmail},
    {"outbox", DistinguishedFolder::kOutbox},
    {"archive", std::nullopt},
    {"clutter", std::nullopt},
    {"conflicts", std::nullopt},
    {"conversationhistory", std::nullopt},
    {"localfailures", std::nullopt},
    {"recoverableitemsdeletions", std::nullopt},
    {"scheduled", std::nullopt},
    {"searchfolders", std::nullopt},
    {"serverfailures", std::nullopt},
    {"syncissues", std::nullopt},
};

GraphError Malformed() {
  return GraphError{400, codes::kInvalidIdMalformed, "Id is malformed.", {}};
}

// An id of another mailbox under this user's path (seen in the field as 404
// ErrorInvalidMailboxItemId; the message's wording is [infer]).
GraphError OtherMailbox() {
  return GraphError{
      404, "ErrorInvalidMailboxItemId", "Item Id doesn't belong to the current mailbox.", {}};
}

GraphError ItemNotFound() {
  return GraphError{
      404, codes::kItemNotFound, "The specified object was not found in the store.", {}};
}

// Appends `from`'s members to `out` (after its @odata.context).
void AppendMembers(ojson& out, const ojson& from) {
  for (auto it = from.begin(); it != from.end(); ++it) out[it.key()] = it.value();
}

// "@odata.context" of answers about the user's messages: users('<key>') with the key as sent
// (an address percent-encoded: users('a%40b.com'), as Graph writes it).
std::string UserContext(const GraphCall& call) {
  return call.base_url + "/v1.0/$metadata#users('" + PercentEncode(call.user_key) + "')";
}

std::string SelectSuffix(const Selection& select) {
  if (select.empty()) return "";
  std::string out = "(";
  for (std::size_t i = 0; i < select.size(); ++i) out += (i ? "," : "") + select[i];
  return out + ")";
}

// A JSON request body. Empty: Graph's "Empty Payload. JSON content expected."; not JSON: its
// "Unable to read JSON request payload…" [obs: both are Graph's common BadRequest texts].
std::optional<GraphError> ParseBody(const GraphCall& call, json& out, bool required) {
  if (internal::TrimWhitespace(call.body).empty()) {
    if (!required) {
      out = json::object();
      return std::nullopt;
    }
    return BadRequest("Empty Payload. JSON content expected.");
  }
  out = json::parse(call.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return BadRequest(
        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
        "payload is of valid JSON format.");
  }
  return std::nullopt;
}

GraphError NoSuchProperty(const std::string& name) {
  return BadRequest("The property '" + name +
                    "' does not exist on type 'microsoft.graph.message'. Make sure to only use "
                    "property names that are defined by the type or mark the type as open type.");
}

GraphError NotConvertible(const char* type) {
  return BadRequest(std::string("Cannot convert a primitive value to the expected type '") + type +
                    "'. See the inner exception for more details.");
}

std::optional<Importance> ParseImportance(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string s = AsciiLower(v.get<std::string>());
  if (s == "low") return Importance::kLow;
  if (s == "normal") return Importance::kNormal;
  if (s == "high") return Importance::kHigh;
  return std::nullopt;
}

// A recipient collection: [{"emailAddress":{"address","name"}}].
std::optional<GraphError> ParseRecipients(const json& v, std::vector<MailAddress>& out) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_array()) return BadRequest("Cannot convert the literal to a collection of recipients.");
  for (const json& r : v) {
    if (!r.is_object() || !r.contains("emailAddress") || !r["emailAddress"].is_object()) {
      return BadRequest("Invalid recipient: an emailAddress object is required.");
    }
    const json& e = r["emailAddress"];
    out.push_back({e.value("name", ""), e.value("address", "")});
  }
  return std::nullopt;
}

// Sum of the sizes of the folder's items (mailFolder sizeInBytes).
std::uint64_t FolderSize(const GraphCall& call, const Folder& folder) {
  auto page = call.store.FindItems(folder.id, {});
  std::uint64_t size = 0;
  if (page) {
    for (const Item& i : page->items) size += i.size;
  }
  return size;
}

// The query string without its $skip, for the next page's link.
std::string WithoutSkip(std::string_view raw) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    std::size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    const std::string_view pair = raw.substr(pos, amp - pos);
    const std::string name = PercentDecode(pair.substr(0, pair.find('=')), true);
    if (!pair.empty() && !AsciiIEquals(name, "$skip")) {
      out += (out.empty() ? "" : "&") + std::string(pair);
    }
    pos = amp + 1;
  }
  return out;
}

std::optional<std::size_t> ParseCount(const std::optional<std::string>& text, std::size_t max) {
  if (!text) return std::nullopt;
  if (text->empty() || text->size() > 9 ||
      !std::all_of(text->begin(), text->end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  return std::min<std::size_t>(std::stoul(*text), max);
}

// Properties of a message Graph knows but the mock does not let PATCH change (they are accepted
// and left as they are [infer: Graph changes them on drafts]).
bool IsIgnoredWritable(const std::string& name) {
  static const char* kKnown[] = {"subject",
                                 "body",
                                 "toRecipients",
                                 "ccRecipients",
                                 "bccRecipients",
                                 "replyTo",
                                 "flag",
                                 "from",
                                 "sender",
                                 "inferenceClassification",
                                 "isDeliveryReceiptRequested",
                                 "isReadReceiptRequested",
                                 "internetMessageHeaders"};
  return std::any_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return AsciiIEquals(k, name); });
}

}  // namespace

// ---- Shared ----

BodyFormat PreferredBody(const GraphCall& call) {
  const std::string prefer = AsciiLower(call.prefer);
  const std::size_t at = prefer.find("outlook.body-content-type");
  if (at == std::string::npos) return BodyFormat::kHtml;
  const std::size_t eq = prefer.find('=', at);
  if (eq == std::string::npos) return BodyFormat::kHtml;
  std::string value = prefer.substr(eq + 1, prefer.find(',', eq) - eq - 1);
  std::erase(value, '"');
  return std::string(internal::TrimWhitespace(value)) == "text" ? BodyFormat::kText
                                                                : BodyFormat::kHtml;
}

std::optional<std::size_t> PreferredPageSize(const GraphCall& call) {
  const std::string prefer = AsciiLower(call.prefer);
  const std::size_t at = prefer.find("odata.maxpagesize=");
  if (at == std::string::npos) return std::nullopt;
  std::size_t end = at + 18;
  while (end < prefer.size() && std::isdigit(static_cast<unsigned char>(prefer[end]))) ++end;
  auto n = ParseCount(prefer.substr(at + 18, end - at - 18), kMaxPageSize);
  if (n && *n == 0) return std::nullopt;
  return n;
}

std::optional<Folder> ResolveFolderOf(const GraphCall& call, std::string_view name_or_id,
                                      GraphError& refusal) {
  for (const WellKnown& w : kWellKnown) {
    if (!AsciiIEquals(w.name, name_or_id)) continue;
    if (!w.folder) {
      // A well-known folder this mailbox lacks (archive, clutter, …) [infer the answer].
      refusal = ItemNotFound();
      return std::nullopt;
    }
    auto folder = call.store.GetDistinguishedFolder(call.mailbox.primary_smtp_address, *w.folder);
    if (!folder) {
      refusal = FromStoreError(folder.error());
      return std::nullopt;
    }
    return *folder;
  }
  const std::optional<std::string> id = FromGraphId(name_or_id);
  if (!id || id->empty()) {
    refusal = Malformed();
    return std::nullopt;
  }
  auto folder = call.store.GetFolder(*id);
  if (!folder) {
    const Error& e = folder.error();
    // An item id where a folder's is expected reads as malformed [infer].
    refusal = e.code == codes::kItemIdForFolderId      ? Malformed()
              : e.category == ErrorCategory::kNotFound ? ItemNotFound()
                                                       : FromStoreError(e);
    return std::nullopt;
  }
  if (!AsciiIEquals(folder->mailbox, call.mailbox.primary_smtp_address)) {
    refusal = OtherMailbox();
    return std::nullopt;
  }
  return *folder;
}

std::optional<Item> ResolveMessage(const GraphCall& call, GraphError& refusal) {
  const std::optional<std::string> id = FromGraphId(call.message_id);
  if (!id || id->empty()) {
    refusal = Malformed();
    return std::nullopt;
  }
  auto owner = call.store.MailboxOfId(*id);
  if (!owner) {
    refusal = owner.error().code == codes::kInvalidIdMalformed ? Malformed() : ItemNotFound();
    return std::nullopt;
  }
  if (owner->object_guid != call.mailbox.object_guid) {
    refusal = OtherMailbox();
    return std::nullopt;
  }
  auto item = call.store.GetItem(*id);
  if (!item) {
    const Error& e = item.error();
    refusal = e.code == codes::kFolderIdForItemId      ? Malformed()
              : e.category == ErrorCategory::kNotFound ? ItemNotFound()
                                                       : FromStoreError(e);
    return std::nullopt;
  }
  return *item;
}

// ---- Folders ----

namespace {

// $select of a mailFolder: the properties RenderFolder writes.
std::optional<GraphError> ParseFolderSelect(const GraphCall& call, std::vector<std::string>& out) {
  static const char* kFolderProperties[] = {"id",
                                            "displayName",
                                            "parentFolderId",
                                            "childFolderCount",
                                            "unreadItemCount",
                                            "totalItemCount",
                                            "sizeInBytes",
                                            "isHidden"};
  out.clear();
  auto text = call.query.Get("$select");
  if (!text) return std::nullopt;
  std::size_t pos = 0;
  while (pos <= text->size()) {
    std::size_t comma = text->find(',', pos);
    if (comma == std::string::npos) comma = text->size();
    const std::string name(
        internal::TrimWhitespace(std::string_view(*text).substr(pos, comma - pos)));
    pos = comma + 1;
    if (name.empty()) continue;
    const char* const* found =
        std::find_if(std::begin(kFolderProperties), std::end(kFolderProperties),
                     [&](const char* p) { return AsciiIEquals(p, name); });
    if (found == std::end(kFolderProperties)) {
      return GraphError{
          400,
          "RequestBroker--ParseUri",
          "Could not find a property named '" + name + "' on type 'microsoft.graph.mailFolder'.",
          {}};
    }
    out.push_back(*found);
  }
  return std::nullopt;
}

// The folder's properties, only the selected ones (id always).
ojson SelectedFolder(const GraphCall& call, const Folder& folder,
                     const std::vector<std::string>& select) {
  const ojson all = RenderFolder(folder, select.empty() || std::find(select.begin(), select.end(),
                                                                     "sizeInBytes") != select.end()
                                             ? FolderSize(call, folder)
                                             : 0);
  if (select.empty()) return all;
  ojson out = ojson::object();
  for (auto it = all.begin(); it != all.end(); ++it) {
    if (it.key() == "id" || std::find(select.begin(), select.end(), it.key()) != select.end()) {
      out[it.key()] = it.value();
    }
  }
  return out;
}

std::string FolderSelectSuffix(const std::vector<std::string>& select) {
  if (select.empty()) return "";
  std::string out = "(";
  for (std::size_t i = 0; i < select.size(); ++i) out += (i ? "," : "") + select[i];
  return out + ")";
}

}  // namespace

GraphReply GetMailFolder(GraphCall& call) {
  std::vector<std::string> select;
  if (auto e = ParseFolderSelect(call, select)) return GraphReply::Fail(*e);
  GraphError refusal;
  auto folder = ResolveFolderOf(call, call.folder, refusal);
  if (!folder) return GraphReply::Fail(refusal);
  ojson body = ojson::object();
  body["@odata.context"] =
      UserContext(call) + "/mailFolders" + FolderSelectSuffix(select) + "/$entity";
  AppendMembers(body, SelectedFolder(call, *folder, select));
  return GraphReply::Json(std::move(body));
}

// GET …/mailFolders/{id}/childFolders: the direct children in creation order, pages of $top
// (default 10) with an @odata.nextLink ($skip) as mailfolder-list-childfolders.md describes.
GraphReply ListChildFolders(GraphCall& call) {
  std::vector<std::string> select;
  if (auto e = ParseFolderSelect(call, select)) return GraphReply::Fail(*e);
  const auto top_text = call.query.Get("$top");
  const auto skip_text = call.query.Get("$skip");
  const std::optional<std::size_t> top = ParseCount(top_text, kMaxPageSize);
  const std::optional<std::size_t> skip = ParseCount(skip_text, SIZE_MAX);
  if ((top_text && !top) || (skip_text && !skip)) {
    return GraphReply::Fail(
        BadRequest("Invalid value for a query option: $top and $skip take "
                   "non-negative integers."));
  }
  GraphError refusal;
  auto parent = ResolveFolderOf(call, call.folder, refusal);
  if (!parent) return GraphReply::Fail(refusal);
  auto children = call.store.ListChildFolders(parent->id);
  if (!children) return GraphReply::Fail(FromStoreError(children.error()));
  const std::size_t page_size = top && *top > 0 ? *top : kDefaultPageSize;
  const std::size_t begin = std::min(skip.value_or(0), children->size());
  const std::size_t end = std::min(children->size(), begin + page_size);
  ojson value = ojson::array();
  for (std::size_t k = begin; k < end; ++k) {
    value.push_back(SelectedFolder(call, (*children)[k], select));
  }
  ojson out = ojson::object();
  out["@odata.context"] = UserContext(call) + "/mailFolders('" + call.folder + "')/childFolders" +
                          FolderSelectSuffix(select);
  if (end < children->size()) {
    const std::string rest = WithoutSkip(call.raw_query);
    out["@odata.nextLink"] = call.base_url + "/v1.0/" + call.user_path + "/mailFolders/" +
                             PercentEncode(call.folder) + "/childFolders?" + rest +
                             (rest.empty() ? "" : "&") + "$skip=" + std::to_string(end);
  }
  out["value"] = std::move(value);
  return GraphReply::Json(std::move(out));
}

// POST …/mailFolders/{id}/childFolders {"displayName"}: 201 Created with the new folder
// (mailfolder-post-childfolders.md); a sibling of the same name is 409 ErrorFolderExists.
GraphReply CreateChildFolder(GraphCall& call) {
  json body;
  if (auto e = ParseBody(call, body, /*required=*/true)) return GraphReply::Fail(*e);
  const json name = body.value("displayName", json());
  if (!name.is_string() || name.get<std::string>().empty()) {
    return GraphReply::Fail(GraphError{
        400, "ErrorInvalidParameter", "The value of the parameter 'DisplayName' is empty.", {}});
  }
  GraphError refusal;
  auto parent = ResolveFolderOf(call, call.folder, refusal);
  if (!parent) return GraphReply::Fail(refusal);
  auto created = call.store.CreateFolder(parent->id, name.get<std::string>());
  if (!created) {
    if (created.error().code == codes::kFolderExists) {
      return GraphReply::Fail(GraphError{
          409, codes::kFolderExists, "A folder with the specified name already exists.", {}});
    }
    return GraphReply::Fail(FromStoreError(created.error()));
  }
  ojson out = ojson::object();
  out["@odata.context"] =
      UserContext(call) + "/mailFolders('" + call.folder + "')/childFolders/$entity";
  AppendMembers(out, RenderFolder(*created, 0));
  return GraphReply::Json(std::move(out), 201);
}

// ---- Lists ----

GraphReply ListMessages(GraphCall& call) {
  Selection select;
  if (auto s = call.query.Get("$select")) {
    if (auto e = ParseSelect(*s, select)) return GraphReply::Fail(*e);
  }
  ItemFilter filter;
  if (auto f = call.query.Get("$filter")) {
    if (auto e = ParseFilter(*f, filter)) return GraphReply::Fail(*e);
  }
  std::vector<SortKey> order;
  if (auto o = call.query.Get("$orderby")) {
    if (auto e = ParseOrderBy(*o, order)) return GraphReply::Fail(*e);
  }
  // "Properties that appear in $orderby must also appear in $filter", in the same order and
  // before any others (user-list-messages.md "Using filter and orderby in the same query").
  if (filter.matches && !order.empty()) {
    std::vector<std::string> seen;
    for (const auto& p : filter.properties) {
      if (std::find(seen.begin(), seen.end(), p) == seen.end()) seen.push_back(p);
    }
    bool efficient = order.size() <= seen.size();
    for (std::size_t k = 0; efficient && k < order.size(); ++k) {
      efficient = seen[k] == order[k].property;
    }
    if (!efficient) {
      return GraphReply::Fail(GraphError{400,
                                         "InefficientFilter",
                                         "The restriction or sort order is too complex for this "
                                         "operation.",
                                         {}});
    }
  }
  const auto top_text = call.query.Get("$top");
  const auto skip_text = call.query.Get("$skip");
  const std::optional<std::size_t> top = ParseCount(top_text, kMaxPageSize);
  const std::optional<std::size_t> skip = ParseCount(skip_text, SIZE_MAX);
  if ((top_text && !top) || (skip_text && !skip)) {
    return GraphReply::Fail(
        BadRequest("Invalid value for a query option: $top and $skip take "
                   "non-negative integers."));
  }
  const std::size_t page_size = top && *top > 0 ? *top : kDefaultPageSize;
  const std::size_t offset = skip.value_or(0);

  // Every matching item of the folder (or of the mailbox's IPM subtree).
  std::vector<Folder> folders;
  if (!call.folder.empty()) {
    GraphError refusal;
    auto folder = ResolveFolderOf(call, call.folder, refusal);
    if (!folder) return GraphReply::Fail(refusal);
    folders.push_back(*folder);
  } else {
    auto root = call.store.GetDistinguishedFolder(call.mailbox.primary_smtp_address,
                                                  DistinguishedFolder::kMsgFolderRoot);
    if (!root) return GraphReply::Fail(FromStoreError(root.error()));
    auto tree = call.store.ListChildFolders(root->id, /*deep=*/true);
    if (!tree) return GraphReply::Fail(FromStoreError(tree.error()));
    folders = std::move(*tree);
  }
  std::vector<Item> items;
  for (const Folder& folder : folders) {
    ItemView view;
    view.filter = filter.matches;
    auto page = call.store.FindItems(folder.id, view);
    if (!page) return GraphReply::Fail(FromStoreError(page.error()));
    for (Item& i : page->items) items.push_back(std::move(i));
  }
  // Newest received first unless $orderby says otherwise.
  std::stable_sort(items.begin(), items.end(),
                   [&](const Item& a, const Item& b) { return SortsBefore(a, b, order); });

  const BodyFormat body = PreferredBody(call);
  ojson value = ojson::array();
  const std::size_t begin = std::min(offset, items.size());
  const std::size_t end = std::min(items.size(), begin + page_size);
  for (std::size_t k = begin; k < end; ++k) {
    value.push_back(RenderMessage(items[k], select, body, MessageLayout::kEntity));
  }
  ojson out = ojson::object();
  const std::string collection =
      call.folder.empty() ? "/messages" : "/mailFolders('" + call.folder + "')/messages";
  out["@odata.context"] = UserContext(call) + collection + SelectSuffix(select);
  if (auto count = call.query.Get("$count"); count && AsciiIEquals(*count, "true")) {
    out["@odata.count"] = items.size();
  }
  if (end < items.size()) {
    const std::string path = call.folder.empty()
                                 ? "/messages"
                                 : "/mailFolders/" + PercentEncode(call.folder) + "/messages";
    const std::string rest = WithoutSkip(call.raw_query);
    out["@odata.nextLink"] = call.base_url + "/v1.0/" + call.user_path + path + "?" + rest +
                             (rest.empty() ? "" : "&") + "$skip=" + std::to_string(end);
  }
  out["value"] = std::move(value);
  GraphReply reply = GraphReply::Json(std::move(out));
  if (body == BodyFormat::kText) {
    reply.headers.emplace_back("Preference-Applied", "outlook.body-content-type=\"text\"");
  }
  return reply;
}

// ---- One message ----

GraphReply GetMessage(GraphCall& call) {
  Selection select;
  if (auto s = call.query.Get("$select")) {
    if (auto e = ParseSelect(*s, select)) return GraphReply::Fail(*e);
  }
  GraphError refusal;
  auto item = ResolveMessage(call, refusal);
  if (!item) return GraphReply::Fail(refusal);
  const BodyFormat body = PreferredBody(call);
  ojson out = ojson::object();
  out["@odata.context"] = UserContext(call) + "/messages" + SelectSuffix(select) + "/$entity";
  AppendMembers(out, RenderMessage(*item, select, body, MessageLayout::kEntity));
  GraphReply reply = GraphReply::Json(std::move(out));
  if (body == BodyFormat::kText) {
    reply.headers.emplace_back("Preference-Applied", "outlook.body-content-type=\"text\"");
  }
  return reply;
}

// The message's MIME, as stored ("Content-type: text/plain", message-get.md example 4).
GraphReply GetMessageMime(GraphCall& call) {
  GraphError refusal;
  auto item = ResolveMessage(call, refusal);
  if (!item) return GraphReply::Fail(refusal);
  GraphReply reply;
  reply.raw = *item->mime;
  reply.raw_content_type = "text/plain";
  return reply;
}

GraphReply UpdateMessage(GraphCall& call) {
  json body;
  if (auto e = ParseBody(call, body, /*required=*/true)) return GraphReply::Fail(*e);
  ItemUpdate update;
  for (const auto& [name, v] : body.items()) {
    if (name.starts_with("@odata.")) continue;
    if (AsciiIEquals(name, "isRead")) {
      if (!v.is_boolean()) return GraphReply::Fail(NotConvertible("Edm.Boolean"));
      update.is_read = v.get<bool>();
    } else if (AsciiIEquals(name, "categories")) {
      if (!v.is_array()) return GraphReply::Fail(NotConvertible("Collection(Edm.String)"));
      std::vector<std::string> cats;
      for (const json& c : v) {
        if (!c.is_string()) return GraphReply::Fail(NotConvertible("Edm.String"));
        cats.push_back(c.get<std::string>());
      }
      update.categories = std::move(cats);
    } else if (AsciiIEquals(name, "importance")) {
      auto i = ParseImportance(v);
      if (!i) {
        return GraphReply::Fail(BadRequest("The value '" + v.dump() +
                                           "' is not valid for the enum type "
                                           "'microsoft.graph.importance'."));
      }
      update.importance = *i;
    } else if (!IsIgnoredWritable(name)) {
      return GraphReply::Fail(NoSuchProperty(name));
    }
  }
  GraphError refusal;
  auto item = ResolveMessage(call, refusal);
  if (!item) return GraphReply::Fail(refusal);
  auto updated = call.store.UpdateItem(item->id, update);
  if (!updated) return GraphReply::Fail(FromStoreError(updated.error()));
  ojson out = ojson::object();
  out["@odata.context"] = UserContext(call) + "/messages/$entity";
  AppendMembers(out, RenderMessage(*updated, {}, PreferredBody(call), MessageLayout::kEntity));
  return GraphReply::Json(std::move(out));
}

// DELETE is a soft delete: the message leaves its folder and Deleted Items alike, into the
// Recoverable Items the mock does not keep (Remove-MgUserMessage feedback,
// msgraph-sdk-powershell#3265: "it can be recovered from recoverable items").
GraphReply DeleteMessage(GraphCall& call) {
  GraphError refusal;
  auto item = ResolveMessage(call, refusal);
  if (!item) return GraphReply::Fail(refusal);
  if (auto deleted = call.store.DeleteItem(item->id, DeleteMode::kSoftDelete); !deleted) {
    return GraphReply::Fail(FromStoreError(deleted.error()));
  }
  return GraphReply::Empty(204);
}

// POST …/move {"destinationId"}: 201 Created with the message under its new id (message-move.md).
GraphReply MoveMessage(GraphCall& call) {
  json body;
  if (auto e = ParseBody(call, body, /*required=*/true)) return GraphReply::Fail(*e);
  const json destination = body.value("destinationId", json());
  if (!destination.is_string() || destination.get<std::string>().empty()) {
    return GraphReply::Fail(Malformed());  // [infer: the answer to a missing destination]
  }
  GraphError refusal;
  auto item = ResolveMessage(call, refusal);
  if (!item) return GraphReply::Fail(refusal);
  auto folder = ResolveFolderOf(call, destination.get<std::string>(), refusal);
  if (!folder) return GraphReply::Fail(refusal);
  auto moved = call.store.MoveItem(item->id, folder->id);
  if (!moved) return GraphReply::Fail(FromStoreError(moved.error()));
  ojson out = ojson::object();
  out["@odata.context"] = call.base_url + "/v1.0/$metadata#message";
  AppendMembers(out, RenderMessage(*moved, {}, PreferredBody(call), MessageLayout::kTyped));
  return GraphReply::Json(std::move(out), 201);
}

// ---- Sending ----

namespace {

// What sending as the mailbox does after composing: deliver, and keep a copy in Sent Items.
GraphReply Submit(GraphCall& call, const std::string& mime, bool save_copy) {
  Error no_recipients;
  no_recipients.category = ErrorCategory::kProtocol;
  no_recipients.code = "ErrorInvalidRecipients";
  no_recipients.message =
      "At least one recipient isn't valid., A message can't be sent because it contains no "
      "recipients.";
  auto sent = SubmitToStore(call.store, call.mailbox, mime, no_recipients, call.outbound);
  if (!sent) {
    GraphError e = FromStoreError(sent.error());
    if (e.code == "ErrorSendAsDenied") e.status = 403;
    return GraphReply::Fail(e);
  }
  if (save_copy) {
    auto sent_items = call.store.GetDistinguishedFolder(call.mailbox.primary_smtp_address,
                                                        DistinguishedFolder::kSentItems);
    if (!sent_items) return GraphReply::Fail(FromStoreError(sent_items.error()));
    NewItemOptions options;
    options.is_read = true;
    auto copy = call.store.CreateItem(sent_items->id, mime, options);
    if (!copy) return GraphReply::Fail(FromStoreError(copy.error()));
  }
  return GraphReply::Empty(202);
}

}  // namespace

// POST /users/{id}/sendMail {"message": {…}, "saveToSentItems"}: 202 Accepted (user-sendmail.md).
GraphReply SendMail(GraphCall& call) {
  json body;
  if (auto e = ParseBody(call, body, /*required=*/true)) return GraphReply::Fail(*e);
  const json message = body.value("message", json());
  if (!message.is_object()) {
    return GraphReply::Fail(BadRequest("The 'message' parameter is required."));  // [infer]
  }
  MessageDraft draft;
  draft.from = {call.mailbox.display_name, call.mailbox.primary_smtp_address};
  if (message.contains("from") && message["from"].is_object() &&
      message["from"].contains("emailAddress")) {
    const json& e = message["from"]["emailAddress"];
    draft.from = {e.value("name", ""), e.value("address", "")};
    if (IsOwnAddress(call.mailbox, draft.from.address) && draft.from.name.empty()) {
      draft.from.name = call.mailbox.display_name;
    }
  }
  draft.subject = message.value("subject", "");
  if (message.contains("body") && message["body"].is_object()) {
    draft.body = message["body"].value("content", "");
    if (AsciiIEquals(message["body"].value("contentType", "text"), "html")) {
      draft.body_type = BodyType::kHtml;
    }
  }
  for (const auto& [key, list] :
       {std::pair<const char*, std::vector<MailAddress>*>{"toRecipients", &draft.to},
        {"ccRecipients", &draft.cc},
        {"bccRecipients", &draft.bcc},
        {"replyTo", &draft.reply_to}}) {
    if (message.contains(key)) {
      if (auto e = ParseRecipients(message[key], *list)) return GraphReply::Fail(*e);
    }
  }
  if (message.contains("importance")) {
    if (auto i = ParseImportance(message["importance"])) draft.importance = *i;
  }
  const json save = body.value("saveToSentItems", json(true));
  const bool save_copy = save.is_boolean() ? save.get<bool>() : true;
  return Submit(call, call.store.ComposeMime(draft), save_copy);
}

// POST …/reply {"comment", "message"}: the reply Exchange builds (RE: subject, the original's
// Reply-To or From, the comment above the quoted original), sent and kept in Sent Items; 202
// Accepted (message-reply.md).
GraphReply ReplyToMessage(GraphCall& call) {
  json body;
  if (auto e = ParseBody(call, body, /*required=*/false)) return GraphReply::Fail(*e);
  GraphError refusal;
  auto original = ResolveMessage(call, refusal);
  if (!original) return GraphReply::Fail(refusal);
  ResponseInput input;
  input.kind = ResponseKind::kReply;
  const std::string comment = body.value("comment", "");
  const json message = body.value("message", json::object());
  if (message.is_object()) {
    for (const auto& [key, list] :
         {std::pair<const char*, std::vector<MailAddress>*>{"toRecipients", &input.to},
          {"ccRecipients", &input.cc},
          {"bccRecipients", &input.bcc}}) {
      if (message.contains(key)) {
        if (auto e = ParseRecipients(message[key], *list)) return GraphReply::Fail(*e);
      }
    }
    if (message.contains("subject") && message["subject"].is_string()) {
      input.subject = message["subject"].get<std::string>();
    }
  }
  // The comment goes above the quoted original in the original's format.
  auto bodies = ExtractBodies(*original->mime);
  const bool html = bodies && bodies->html;
  input.new_body = html ? TextToHtml(comment) : comment;
  auto draft = ComposeResponseDraft(*original, call.mailbox, input);
  if (!draft) return GraphReply::Fail(FromStoreError(draft.error()));
  return Submit(call, call.store.ComposeMime(*draft), /*save_copy=*/true);
}

}  // namespace exo::mock_ews::graph
