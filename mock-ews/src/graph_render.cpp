// Store items and folders as Graph's message and mailFolder resources (message-get.md,
// message-move.md, delta-query-messages.md, resources/mailfolder.md), and the delta-token cache.
#include <algorithm>

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/time_format.hpp"
#include "internal/graph_ops.hpp"
#include "internal/mail_compose.hpp"
#include "internal/text_codec.hpp"
#include "internal/token_codec.hpp"

namespace exo::mock_ews::graph {

namespace {

constexpr std::size_t kPreviewChars = 255;  // "The first 255 characters of the message body."

const char* ImportanceText(Importance i) {
  switch (i) {
    case Importance::kLow:
      return "low";
    case Importance::kHigh:
      return "high";
    default:
      return "normal";
  }
}

// {"emailAddress":{"name","address"}}; an address without a display name shows the address as
// its name, as Exchange fills it (message-move.md's example).
ojson Recipient(const MailAddress& a) {
  ojson email = ojson::object();
  email["name"] = a.name.empty() ? a.address : a.name;
  email["address"] = a.address;
  ojson r = ojson::object();
  r["emailAddress"] = email;
  return r;
}

ojson Recipients(const std::vector<MailAddress>& list) {
  ojson out = ojson::array();
  for (const auto& a : list) out.push_back(Recipient(a));
  return out;
}

// The first `n` code points of UTF-8 `s`.
std::string Utf8Prefix(std::string_view s, std::size_t n) {
  std::size_t i = 0, count = 0;
  while (i < s.size() && count < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    ++count;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

// Exchange's HTML for a text-only message [infer: the converter's exact markup is not shown in
// any capture we found; the body text survives, which is what clients read].
std::string HtmlOfText(std::string_view text) {
  return "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; "
         "charset=utf-8\"></head><body>" +
         TextToHtml(text) + "</body></html>";
}

// A conversation is a thread: the first message id of References, else In-Reply-To, else the
// message's own; the id is "AAQk" (Exchange's conversation-id prefix in Graph answers) and a
// hash of it [infer the hash; the prefix is what message-get.md shows].
std::string ConversationId(const Item& item) {
  const MessageFields& f = item.fields;
  std::string root = !f.references.empty()            ? f.references.front()
                     : !f.in_reply_to.empty()         ? f.in_reply_to
                     : !f.internet_message_id.empty() ? f.internet_message_id
                                                      : item.id;
  std::string raw("\x00\x04\x24\x00", 4);
  raw += crypto::Sha256(item.mailbox + "\n" + root).substr(0, 16);
  return ToGraphId(Base64Encode(raw));
}

}  // namespace

ojson RenderMessage(const Item& item, const Selection& select, BodyFormat body_format,
                    MessageLayout layout) {
  const MessageFields& f = item.fields;
  auto wanted = [&](const char* name) {
    return select.empty() || std::find(select.begin(), select.end(), name) != select.end();
  };
  ojson m = ojson::object();
  if (layout != MessageLayout::kEntity) m["@odata.type"] = "#microsoft.graph.message";
  m["@odata.etag"] = "W/\"" + item.change_key + "\"";
  const std::string id = ToGraphId(item.id);
  if (layout != MessageLayout::kDelta) m["id"] = id;

  std::optional<MessageBodies> bodies;
  if (wanted("body") || wanted("bodyPreview")) {
    auto b = ExtractBodies(*item.mime);
    bodies = b ? std::move(*b) : MessageBodies{};
  }
  auto text_body = [&]() -> std::string {
    if (bodies->text) return *bodies->text;
    return HtmlToText(bodies->html.value_or(""));
  };

  if (wanted("createdDateTime")) m["createdDateTime"] = FormatIso8601(item.date_time_created);
  if (wanted("lastModifiedDateTime")) {
    // The store keeps no modification time: the later of creation and delivery [infer].
    m["lastModifiedDateTime"] =
        FormatIso8601(std::max(item.date_time_created, item.date_time_received));
  }
  if (wanted("changeKey")) m["changeKey"] = item.change_key;
  if (wanted("categories")) {
    ojson cats = ojson::array();
    for (const auto& c : item.categories) cats.push_back(c);
    m["categories"] = cats;
  }
  if (wanted("receivedDateTime")) m["receivedDateTime"] = FormatIso8601(item.date_time_received);
  if (wanted("sentDateTime")) {
    m["sentDateTime"] = FormatIso8601(f.date.value_or(item.date_time_received));
  }
  if (wanted("hasAttachments")) m["hasAttachments"] = f.has_attachments;
  if (wanted("internetMessageId")) {
    m["internetMessageId"] =
        f.internet_message_id.empty() ? ojson(nullptr) : ojson(f.internet_message_id);
  }
  if (wanted("subject")) m["subject"] = f.subject;
  if (wanted("bodyPreview")) {
    std::string preview(internal::TrimWhitespace(text_body()));
    m["bodyPreview"] = Utf8Prefix(preview, kPreviewChars);
  }
  if (wanted("importance")) m["importance"] = ImportanceText(item.importance);
  if (wanted("parentFolderId")) m["parentFolderId"] = ToGraphId(item.parent_folder_id);
  if (wanted("conversationId")) m["conversationId"] = ConversationId(item);
  if (wanted("isDeliveryReceiptRequested")) m["isDeliveryReceiptRequested"] = false;
  if (wanted("isReadReceiptRequested")) m["isReadReceiptRequested"] = false;
  if (wanted("isRead")) m["isRead"] = item.is_read;
  if (wanted("isDraft")) m["isDraft"] = item.is_draft;
  if (wanted("webLink")) {
    m["webLink"] = "https://outlook.office365.com/owa/?ItemID=" + PercentEncode(id) +
                   "&exvsurl=1&viewmodel=ReadMessageItem";
  }
  if (wanted("inferenceClassification")) m["inferenceClassification"] = "focused";
  if (wanted("body")) {
    ojson b = ojson::object();
    if (body_format == BodyFormat::kText) {
      b["contentType"] = "text";
      b["content"] = text_body();
    } else {
      b["contentType"] = "html";
      b["content"] = bodies->html ? *bodies->html : HtmlOfText(bodies->text.value_or(""));
    }
    m["body"] = b;
  }
  const std::optional<MailAddress>& sender = f.sender ? f.sender : f.from;
  if (wanted("sender")) m["sender"] = sender ? Recipient(*sender) : ojson(nullptr);
  if (wanted("from")) m["from"] = f.from ? Recipient(*f.from) : ojson(nullptr);
  if (wanted("toRecipients")) m["toRecipients"] = Recipients(f.to);
  if (wanted("ccRecipients")) m["ccRecipients"] = Recipients(f.cc);
  if (wanted("bccRecipients")) m["bccRecipients"] = Recipients(f.bcc);
  if (wanted("replyTo")) m["replyTo"] = Recipients(f.reply_to);
  if (wanted("flag")) {
    ojson flag = ojson::object();
    flag["flagStatus"] = "notFlagged";
    m["flag"] = flag;
  }
  if (layout == MessageLayout::kDelta) m["id"] = id;
  return m;
}

ojson RenderFolder(const Folder& folder, std::uint64_t size_in_bytes) {
  ojson f = ojson::object();
  f["id"] = ToGraphId(folder.id);
  f["displayName"] = folder.display_name;
  f["parentFolderId"] =
      folder.parent_id.empty() ? ojson(nullptr) : ojson(ToGraphId(folder.parent_id));
  f["childFolderCount"] = folder.child_folder_count;
  f["unreadItemCount"] = folder.unread_count;
  f["totalItemCount"] = folder.total_count;
  f["sizeInBytes"] = size_in_bytes;
  f["isHidden"] = false;
  return f;
}

// ---- DeltaCache ----

std::string DeltaCache::Token(std::uint64_t chain, std::uint32_t generation) const {
  std::string raw;
  for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>((chain >> (8 * i)) & 0xFF));
  for (int i = 3; i >= 0; --i) raw.push_back(static_cast<char>((generation >> (8 * i)) & 0xFF));
  raw += internal::HmacSha256(key_, raw).substr(0, 12);
  return Base64UrlEncode(raw);
}

std::uint64_t DeltaCache::Start() {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_chain_++;
  Chain chain;
  chain.last_used = ++use_counter_;
  chains_.emplace(id, std::move(chain));
  while (chains_.size() > capacity_) {
    auto oldest = std::min_element(
        chains_.begin(), chains_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    chains_.erase(oldest);
  }
  return id;
}

std::optional<DeltaCache::Found> DeltaCache::Find(std::string_view token, GraphError& refusal) {
  refusal = GraphError{410, "SyncStateNotFound", "", {}};
  const std::optional<std::string> raw = Base64Decode(token);
  std::uint64_t chain = 0;
  std::uint32_t generation = 0;
  bool genuine = raw && raw->size() == 24;
  if (genuine) {
    for (int i = 0; i < 8; ++i) chain = (chain << 8) | static_cast<unsigned char>((*raw)[i]);
    for (int i = 8; i < 12; ++i) {
      generation = (generation << 8) | static_cast<unsigned char>((*raw)[i]);
    }
    genuine = internal::HmacSha256(key_, raw->substr(0, 12)).substr(0, 12) == raw->substr(12);
  }
  std::lock_guard lock(mu_);
  auto it = genuine ? chains_.find(chain) : chains_.end();
  if (it == chains_.end()) {
    // A token this cache never issued, or one whose chain it has evicted [infer the wording: the
    // service's message for it is not captured; this is its message for a missing generation].
    refusal.message =
        "The sync state generation is not found; generation=" + std::to_string(generation) +
        ";[highest=0].";
    return std::nullopt;
  }
  Chain& c = it->second;
  auto g = c.generations.find(generation);
  if (g == c.generations.end()) {
    // "The sync state generation is not found; generation=149;[highest=157][157][155][156]."
    // (microsoft-graph-docs#2350): the highest generation, then the ones the cache keeps.
    std::string kept =
        "[highest=" + std::to_string(c.highest) + "][" + std::to_string(c.highest) + "]";
    for (const auto& [n, state] : c.generations) {
      if (n != c.highest) kept += "[" + std::to_string(n) + "]";
    }
    refusal.message =
        "The sync state generation is not found; generation=" + std::to_string(generation) + ";" +
        kept + ".";
    return std::nullopt;
  }
  c.last_used = ++use_counter_;
  return Found{chain, g->second};
}

std::string DeltaCache::Advance(std::uint64_t chain, DeltaState next) {
  std::lock_guard lock(mu_);
  auto it = chains_.find(chain);
  if (it == chains_.end()) {
    // Evicted while the request ran: the new state lives on as a new chain of its own.
    Chain fresh;
    fresh.generations.emplace(0, std::move(next));
    fresh.last_used = ++use_counter_;
    const std::uint64_t id = next_chain_++;
    chains_.emplace(id, std::move(fresh));
    return Token(id, 0);
  }
  Chain& c = it->second;
  const std::uint32_t generation = c.highest + 1;
  c.highest = generation;
  c.generations[generation] = std::move(next);
  while (c.generations.size() > kGenerations) c.generations.erase(c.generations.begin());
  c.last_used = ++use_counter_;
  return Token(chain, generation);
}

void DeltaCache::Clear() {
  std::lock_guard lock(mu_);
  chains_.clear();
}

}  // namespace exo::mock_ews::graph
