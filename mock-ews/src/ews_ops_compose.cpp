// CreateItem (Message, ReplyToItem, ReplyAllToItem, ForwardItem) and SendItem: composing mail as
// the impersonated mailbox, saving drafts, and "sending" by delivering to the store's mailboxes.
// Mail to addresses no mailbox of the store owns leaves nowhere (the mock has no internet); each
// such address is noted on the request's journal entry as the "outbound" annotation.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/mock_kit/journal.hpp"
#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

namespace {

enum class Disposition { kSaveOnly, kSendOnly, kSendAndSaveCopy };
enum class ResponseKind { kReply, kReplyAll, kForward };

// What one CreateItem item or SendItem id turns into before it is saved or sent.
struct Composed {
  std::string mime;
  NewItemOptions options;
};

// Recipients of this request whose address no mailbox of the store owns, in request order.
using Outbound = std::vector<std::string>;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool SameAddress(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// Whether `address` is one of the mailbox's SMTP addresses (primary or proxy).
bool IsOwnAddress(const Mailbox& m, std::string_view address) {
  if (SameAddress(m.primary_smtp_address, address)) return true;
  for (const auto& proxy : m.proxy_addresses) {
    const auto colon = proxy.find(':');
    const std::string_view smtp = colon == std::string::npos
                                      ? std::string_view(proxy)
                                      : std::string_view(proxy).substr(colon + 1);
    if (SameAddress(smtp, address)) return true;
  }
  return false;
}

MailAddress Self(const Request& r) {
  return {r.mailbox.display_name, r.mailbox.primary_smtp_address};
}

// A t:ArrayOfRecipientsType (t:Mailbox children) as addresses; Name is optional.
std::vector<MailAddress> ParseRecipients(pugi::xml_node list) {
  std::vector<MailAddress> out;
  for (pugi::xml_node mb = list.first_child(); mb; mb = mb.next_sibling()) {
    if (mb.type() != pugi::node_element || Local(mb.name()) != "Mailbox") continue;
    out.push_back({Text(Child(mb, "Name")), Text(Child(mb, "EmailAddress"))});
  }
  return out;
}

// Appends the addresses of `more` that `list` (and `except`) does not hold yet.
void AppendUnique(std::vector<MailAddress>& list, const std::vector<MailAddress>& more,
                  const std::function<bool(const MailAddress&)>& except = {}) {
  for (const auto& a : more) {
    if (except && except(a)) continue;
    const bool seen = std::any_of(list.begin(), list.end(), [&](const MailAddress& b) {
      return SameAddress(a.address, b.address);
    });
    if (!seen) list.push_back(a);
  }
}

std::optional<Importance> ParseImportance(pugi::xml_node n) {
  const std::string v = Text(n);
  if (v == "Low") return Importance::kLow;
  if (v == "Normal") return Importance::kNormal;
  if (v == "High") return Importance::kHigh;
  return std::nullopt;
}

// The flags an item's own elements set (IsRead, Categories, Importance), over `options`.
void ApplyItemFlags(pugi::xml_node item, NewItemOptions& options) {
  if (auto v = ParseBool(Text(Child(item, "IsRead")))) options.is_read = *v;
  if (auto cats = Child(item, "Categories")) {
    options.categories.clear();
    for (pugi::xml_node s = cats.first_child(); s; s = s.next_sibling()) {
      if (s.type() == pugi::node_element) options.categories.push_back(Text(s));
    }
  }
  if (auto i = ParseImportance(Child(item, "Importance"))) options.importance = *i;
}

// The subject without one leading reply/forward prefix ("RE: ", "Fw: ", "AW: "): MAPI's
// normalized subject, a prefix being one to three non-space characters, a colon and a space.
std::string NormalizedSubject(const std::string& subject) {
  const auto colon = subject.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 3) return subject;
  for (std::size_t i = 0; i < colon; ++i) {
    if (std::isspace(static_cast<unsigned char>(subject[i])) ||
        std::isdigit(static_cast<unsigned char>(subject[i]))) {
      return subject;
    }
  }
  return subject.substr(colon + 2);
}

// "Monday, November 2, 2026 9:00:00 AM": .NET's en-US long date and long time, as Exchange writes
// the Sent line of a reply header (UTC here: the mock has no mailbox time zone).
std::string LongDateTime(SystemTime t) {
  static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::weekday wd{days};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - days)};
  const long hour = hms.hours().count();
  char time[32];
  std::snprintf(time, sizeof time, "%ld:%02ld:%02ld %s", hour % 12 == 0 ? 12 : hour % 12,
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()),
                hour < 12 ? "AM" : "PM");
  return std::string(kDays[wd.c_encoding()]) + ", " +
         kMonths[static_cast<unsigned>(ymd.month()) - 1] + " " +
         std::to_string(static_cast<unsigned>(ymd.day())) + ", " +
         std::to_string(static_cast<int>(ymd.year())) + " " + time;
}

std::string DisplayName(const MailAddress& a) { return a.name.empty() ? a.address : a.name; }

std::string Names(const std::vector<MailAddress>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : "; ") + DisplayName(a);
  return out;
}

// The original's header block of a reply or forward, as Exchange's ForwardReplyUtilities writes
// it (From, Sent, To, Cc, Subject), in the body's format.
std::string QuoteHeader(const Item& original, BodyType type) {
  const MessageFields& f = original.fields;
  const std::string from =
      f.from
          ? (f.from->name.empty() ? f.from->address : f.from->name + " <" + f.from->address + ">")
          : std::string();
  const std::string sent = f.date ? LongDateTime(*f.date) : std::string();
  std::vector<std::pair<std::string, std::string>> lines;
  if (!from.empty()) lines.emplace_back("From:", from);
  if (!sent.empty()) lines.emplace_back("Sent:", sent);
  if (!f.to.empty()) lines.emplace_back("To:", Names(f.to));
  if (!f.cc.empty()) lines.emplace_back("Cc:", Names(f.cc));
  lines.emplace_back("Subject:", f.subject);
  std::string out;
  if (type == BodyType::kText) {
    out = "\n________________________________________\n";
    for (const auto& [label, value] : lines) out += label + " " + value + "\n";
    return out;
  }
  out =
      "<HR style=\"display:inline-block;width:98%\" tabindex=\"-1\"><DIV id=divRplyFwdMsg "
      "dir=\"ltr\"><FONT FACE=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "<BR>";
    out += "<B>" + lines[i].first + "</B> " + Esc(lines[i].second);
  }
  return out + "</FONT><DIV>&nbsp;</DIV></DIV>";
}

// Plain text of an HTML body: tags dropped, block ends as line breaks, the common entities read.
std::string HtmlToText(std::string_view html) {
  std::string out;
  for (std::size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '<') {
      const auto end = html.find('>', i);
      if (end == std::string_view::npos) break;
      const std::string tag = Lower(html.substr(i + 1, std::min<std::size_t>(end - i - 1, 4)));
      if (tag.starts_with("br") || tag.starts_with("/p") || tag.starts_with("/div")) out += "\n";
      i = end;
    } else if (html[i] == '&') {
      static constexpr std::pair<const char*, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&nbsp;", ' '}};
      bool matched = false;
      for (const auto& [name, c] : kEntities) {
        if (html.substr(i).starts_with(name)) {
          out += c;
          i += std::string_view(name).size() - 1;
          matched = true;
          break;
        }
      }
      if (!matched) out += '&';
    } else {
      out += html[i];
    }
  }
  return out;
}

std::string TextToHtml(std::string_view text) {
  std::string out = "<div>";
  for (char c : Esc(text)) {
    if (c == '\n') {
      out += "<br>";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out + "</div>";
}

// Removes the named header fields (with their folded lines) from the header section of `mime`
// and puts `prepend` (complete "Name: value\r\n" lines) at its top.
std::string RewriteHeaders(std::string_view mime, const std::vector<std::string>& drop,
                           const std::string& prepend = {}) {
  std::string out = prepend;
  std::size_t pos = 0;
  bool dropping = false;
  while (pos < mime.size()) {
    auto eol = mime.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? mime.size() : eol + 1;
    std::string_view line = mime.substr(pos, next - pos);
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    if (bare.empty()) {  // the end of the header section: the rest is kept verbatim
      out.append(mime.substr(pos));
      return out;
    }
    if (bare.front() == ' ' || bare.front() == '\t') {
      if (!dropping) out.append(line);
    } else {
      const auto colon = bare.find(':');
      const std::string name =
          colon == std::string_view::npos ? std::string() : Lower(bare.substr(0, colon));
      dropping = std::find(drop.begin(), drop.end(), name) != drop.end();
      if (!dropping) out.append(line);
    }
    pos = next;
  }
  return out;
}

// The MIME recipients receive: without the Bcc field, which only the sender's copy keeps.
std::string DeliveredMime(std::string_view mime) { return RewriteHeaders(mime, {"bcc"}); }

Error SendAsDenied() {
  return ProtocolError("ErrorSendAsDenied",
                       "The user account which was used to submit this request does not have the "
                       "right to send mail on behalf of the specified sending account.");
}

// Delivers `mime` to every mailbox of the store one of its recipients (To, Cc, Bcc) names, once
// per mailbox; other addresses go to `outbound`. `no_recipients` is the error a message without
// recipients gets (CreateItem and SendItem answer it with different codes).
Result<void> Submit(const Request& r, const std::string& mime, Error no_recipients,
                    Outbound& outbound) {
  auto fields = ParseMessage(mime);
  if (!fields) return std::unexpected(fields.error());
  if (fields->from && !IsOwnAddress(r.mailbox, fields->from->address)) {
    return std::unexpected(SendAsDenied());
  }
  std::vector<MailAddress> all = fields->to;
  all.insert(all.end(), fields->cc.begin(), fields->cc.end());
  all.insert(all.end(), fields->bcc.begin(), fields->bcc.end());
  if (all.empty()) return std::unexpected(no_recipients);
  for (const auto& a : all) {
    const auto at = a.address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.address.size()) {
      return std::unexpected(ProtocolError("ErrorInvalidRecipients",
                                           "At least one recipient isn't valid., Recipient \"" +
                                               a.address +
                                               "\" isn't resolved. All recipients must be resolved "
                                               "before a message can be submitted."));
    }
  }
  const std::string delivered = DeliveredMime(mime);
  std::vector<std::string> reached;  // mailbox GUIDs already delivered to
  for (const auto& a : all) {
    auto target = r.store.ResolveMailbox(a.address, MailboxKey::kSmtpAddress);
    if (!target) {
      const bool noted = std::any_of(outbound.begin(), outbound.end(), [&](const std::string& o) {
        return SameAddress(o, a.address);
      });
      if (!noted) outbound.push_back(a.address);
      continue;
    }
    if (std::find(reached.begin(), reached.end(), target->object_guid) != reached.end()) continue;
    reached.push_back(target->object_guid);
    auto item = r.store.DeliverToInbox(target->primary_smtp_address, delivered);
    if (!item) return std::unexpected(item.error());
  }
  return {};
}

// A t:Message of CreateItem: MimeContent as it is, or a message composed from its properties
// with the impersonated mailbox as From (unless it names another From, which sending refuses).
Result<Composed> ComposeMessage(const Request& r, pugi::xml_node item) {
  Composed c;
  if (auto mime = Child(item, "MimeContent")) {
    std::string text = mime.text().as_string();
    std::erase_if(text, [](unsigned char ch) { return std::isspace(ch); });
    auto bytes = Base64Decode(text);
    if (!bytes) {
      return Fail(ErrorCategory::kProtocol, "ErrorMimeContentInvalidBase64String",
                  "The MIME content is not a valid Base64 string.");
    }
    c.mime = std::move(*bytes);
    auto fields = ParseMessage(c.mime);
    if (!fields) return std::unexpected(fields.error());
    // Exchange stamps the mailbox as From when the client's MIME names none.
    if (!fields->from) c.mime = "From: " + r.mailbox.primary_smtp_address + "\r\n" + c.mime;
  } else {
    MessageDraft draft;
    draft.from = Self(r);
    if (auto from = Child(Child(item, "From"), "Mailbox")) {
      draft.from = {Text(Child(from, "Name")), Text(Child(from, "EmailAddress"))};
      if (IsOwnAddress(r.mailbox, draft.from.address) && draft.from.name.empty()) {
        draft.from.name = r.mailbox.display_name;
      }
    }
    draft.subject = Text(Child(item, "Subject"));
    if (auto body = Child(item, "Body")) {
      draft.body = body.text().as_string();
      if (Lower(body.attribute("BodyType").as_string("Text")) == "html") {
        draft.body_type = BodyType::kHtml;
      }
    }
    draft.to = ParseRecipients(Child(item, "ToRecipients"));
    draft.cc = ParseRecipients(Child(item, "CcRecipients"));
    draft.bcc = ParseRecipients(Child(item, "BccRecipients"));
    draft.reply_to = ParseRecipients(Child(item, "ReplyTo"));
    if (auto i = ParseImportance(Child(item, "Importance"))) draft.importance = *i;
    c.mime = r.store.ComposeMime(draft);
  }
  ApplyItemFlags(item, c.options);
  return c;
}

// A t:ReplyToItem / t:ReplyAllToItem / t:ForwardItem: the reply or forward Exchange builds from
// the reference item, with NewBodyContent above the quoted original.
Result<Composed> ComposeResponse(const Request& r, pugi::xml_node item, ResponseKind kind) {
  pugi::xml_node ref = Child(item, "ReferenceItemId");
  if (!ref) {
    return Fail(ErrorCategory::kProtocol, "ErrorMissingInformationReferenceItemId",
                "The reference item id is missing.");
  }
  const std::string ref_id = ref.attribute("Id").as_string();
  if (auto ok = CheckIdTenant(r, ref_id); !ok) return std::unexpected(ok.error());
  auto original = r.store.GetItem(ref_id);
  if (!original) return std::unexpected(original.error());
  const MessageFields& of = original->fields;
  auto bodies = ExtractBodies(*original->mime);
  if (!bodies) return std::unexpected(bodies.error());

  MessageDraft draft;
  draft.from = Self(r);
  pugi::xml_node new_body = Child(item, "NewBodyContent");
  const std::string body_type = new_body.attribute("BodyType").as_string();
  if (!body_type.empty()) {
    draft.body_type = Lower(body_type) == "html" ? BodyType::kHtml : BodyType::kText;
  } else {
    draft.body_type = bodies->html ? BodyType::kHtml : BodyType::kText;
  }
  std::string quoted;
  if (draft.body_type == BodyType::kHtml) {
    quoted = bodies->html ? *bodies->html : TextToHtml(bodies->text.value_or(""));
  } else {
    quoted = bodies->text ? *bodies->text : HtmlToText(bodies->html.value_or(""));
  }
  draft.body = std::string(new_body.text().as_string()) + QuoteHeader(*original, draft.body_type) +
               (draft.body_type == BodyType::kText ? "\n" : "") + quoted;

  if (auto subject = Child(item, "Subject")) {
    draft.subject = Text(subject);
  } else {
    draft.subject = std::string(kind == ResponseKind::kForward ? "FW: " : "RE: ") +
                    NormalizedSubject(of.subject);
  }
  auto is_self = [&](const MailAddress& a) { return IsOwnAddress(r.mailbox, a.address); };
  if (kind != ResponseKind::kForward) {
    if (!of.reply_to.empty()) {
      AppendUnique(draft.to, of.reply_to);
    } else if (of.from) {
      AppendUnique(draft.to, {*of.from});
    }
    if (kind == ResponseKind::kReplyAll) {
      AppendUnique(draft.to, of.to, is_self);
      AppendUnique(draft.cc, of.cc, [&](const MailAddress& a) {
        return is_self(a) || std::any_of(draft.to.begin(), draft.to.end(), [&](const auto& t) {
                 return SameAddress(t.address, a.address);
               });
      });
    }
    if (!of.internet_message_id.empty()) {
      draft.in_reply_to = of.internet_message_id;
      draft.references = of.references;
      draft.references.push_back(of.internet_message_id);
    }
  }
  AppendUnique(draft.to, ParseRecipients(Child(item, "ToRecipients")));
  AppendUnique(draft.cc, ParseRecipients(Child(item, "CcRecipients")));
  AppendUnique(draft.bcc, ParseRecipients(Child(item, "BccRecipients")));
  if (auto i = ParseImportance(Child(item, "Importance"))) draft.importance = *i;

  Composed c;
  c.mime = r.store.ComposeMime(draft);
  ApplyItemFlags(item, c.options);
  return c;
}

std::optional<ResponseKind> ResponseKindOf(std::string_view local) {
  if (local == "ReplyToItem") return ResponseKind::kReply;
  if (local == "ReplyAllToItem") return ResponseKind::kReplyAll;
  if (local == "ForwardItem") return ResponseKind::kForward;
  return std::nullopt;
}

// The folder SavedItemFolderId names, for a whole request. Nullopt: none given.
using SaveTarget = std::optional<Result<Folder>>;

Result<Folder> SaveFolder(const Request& r, const SaveTarget& given, DistinguishedFolder fallback) {
  if (given) return *given;
  return r.store.GetDistinguishedFolder(r.mailbox.primary_smtp_address, fallback);
}

// Resolves SavedItemFolderId; the schema errors come back as a fault.
std::optional<SoapReply> ResolveSaveTarget(const Request& r, pugi::xml_node op, SaveTarget& out) {
  pugi::xml_node saved = Child(op, "SavedItemFolderId");
  if (!saved) return std::nullopt;
  Result<Folder> folder = ResolveFolder(r, FirstElement(saved));
  if (!folder && folder.error().code == "ErrorSchemaValidation") {
    return SchemaFault(folder.error().message);
  }
  if (!folder && folder.error().code == codes::kFolderNotFound) {
    Error e = folder.error();
    e.code = "ErrorSavedItemFolderNotFound";
    e.message = "The folder to save the item to could not be found.";
    folder = std::unexpected(e);
  }
  out = std::move(folder);
  return std::nullopt;
}

void AnnotateOutbound(const Outbound& outbound) {
  if (outbound.empty()) return;
  std::string joined;
  for (const auto& a : outbound) joined += (joined.empty() ? "" : ",") + a;
  mock::Annotate("outbound", joined);
}

}  // namespace

SoapReply CreateItemOp(const Request& r, pugi::xml_node op) {
  std::optional<Disposition> disposition;
  if (auto attr = op.attribute("MessageDisposition")) {
    const std::string v = attr.as_string();
    if (v == "SaveOnly") {
      disposition = Disposition::kSaveOnly;
    } else if (v == "SendOnly") {
      disposition = Disposition::kSendOnly;
    } else if (v == "SendAndSaveCopy") {
      disposition = Disposition::kSendAndSaveCopy;
    } else {
      return SchemaFault("The 'MessageDisposition' attribute is invalid - The value '" + v +
                         "' is invalid according to its datatype "
                         "'http://schemas.microsoft.com/exchange/services/2006/types:"
                         "MessageDispositionType' - The Enumeration constraint failed.");
    }
  }
  SaveTarget save_target;
  if (auto fault = ResolveSaveTarget(r, op, save_target)) return *fault;
  pugi::xml_node items = Child(op, "Items");
  // Only mail is modelled: other item kinds (calendar, contacts, tasks) fail the whole request.
  for (pugi::xml_node item = FirstElement(items); item; item = item.next_sibling()) {
    if (item.type() != pugi::node_element) continue;
    const std::string_view kind = Local(item.name());
    if (kind != "Message" && !ResponseKindOf(kind)) return InvalidRequestFault();
  }

  Outbound outbound;
  std::string messages;
  for (pugi::xml_node item = FirstElement(items); item; item = item.next_sibling()) {
    if (item.type() != pugi::node_element) continue;
    Result<std::optional<Item>> created = [&]() -> Result<std::optional<Item>> {
      if (!disposition) {
        return Fail(ErrorCategory::kProtocol, "ErrorMessageDispositionRequired",
                    "MessageDisposition attribute is required.");
      }
      if (save_target && !*save_target) return std::unexpected(save_target->error());
      const std::string_view kind = Local(item.name());
      Result<Composed> composed = kind == "Message"
                                      ? ComposeMessage(r, item)
                                      : ComposeResponse(r, item, *ResponseKindOf(kind));
      if (!composed) return std::unexpected(composed.error());
      if (*disposition == Disposition::kSaveOnly) {
        auto folder = SaveFolder(r, save_target, DistinguishedFolder::kDrafts);
        if (!folder) return std::unexpected(folder.error());
        composed->options.is_draft = true;
        auto saved = r.store.CreateItem(folder->id, composed->mime, composed->options);
        if (!saved) return std::unexpected(saved.error());
        return std::optional<Item>(*saved);
      }
      auto sent = Submit(r, composed->mime,
                         ProtocolError("ErrorInvalidRecipients",
                                       "At least one recipient isn't valid., A message can't be "
                                       "sent because it contains no recipients."),
                         outbound);
      if (!sent) return std::unexpected(sent.error());
      if (*disposition == Disposition::kSendAndSaveCopy) {
        auto folder = SaveFolder(r, save_target, DistinguishedFolder::kSentItems);
        if (!folder) return std::unexpected(folder.error());
        composed->options.is_read = true;
        composed->options.is_draft = false;
        auto saved = r.store.CreateItem(folder->id, composed->mime, composed->options);
        if (!saved) return std::unexpected(saved.error());
      }
      return std::optional<Item>();
    }();
    if (!created) {
      messages += ErrorMessage("CreateItem", created.error(), "<m:Items/>");
    } else if (*created) {
      messages += SuccessMessage(
          "CreateItem", "<m:Items><t:Message>" + ItemIdXml((*created)->id, (*created)->change_key) +
                            "</t:Message></m:Items>");
    } else {
      messages += SuccessMessage("CreateItem", "<m:Items/>");
    }
  }
  AnnotateOutbound(outbound);
  return Response("CreateItem", messages);
}

SoapReply SendItemOp(const Request& r, pugi::xml_node op) {
  const std::string save_attr = op.attribute("SaveItemToFolder").as_string();
  const auto save = ParseBool(save_attr);
  if (!save) {
    return SchemaFault(op.attribute("SaveItemToFolder")
                           ? "The 'SaveItemToFolder' attribute is invalid - The value '" +
                                 save_attr +
                                 "' is invalid according to its datatype "
                                 "'http://www.w3.org/2001/XMLSchema:boolean'."
                           : "The required attribute 'SaveItemToFolder' is missing.");
  }
  SaveTarget save_target;
  if (auto fault = ResolveSaveTarget(r, op, save_target)) return *fault;
  Outbound outbound;
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<void> sent = [&]() -> Result<void> {
      if (save_target && !*save) {
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidSendItemSaveSettings",
                    "SavedItemFolderId is not allowed when SaveItemToFolder is false.");
      }
      if (save_target && !*save_target) return std::unexpected(save_target->error());
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      auto draft = r.store.GetItem(*item_id);
      if (!draft) return std::unexpected(draft.error());
      if (!draft->is_draft) {
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidItemForOperationSendItem",
                    "The item is not valid for the SendItem operation.");
      }
      // Sending stamps the submit time, as transport does.
      const std::string mime = RewriteHeaders(*draft->mime, {"date"},
                                              "Date: " + FormatRfc5322Date(r.clock.Now()) + "\r\n");
      auto submitted = Submit(r, mime,
                              ProtocolError("ErrorMissingRecipients",
                                            "A message needs to have at least one recipient."),
                              outbound);
      if (!submitted) return std::unexpected(submitted.error());
      if (*save) {
        auto folder = SaveFolder(r, save_target, DistinguishedFolder::kSentItems);
        if (!folder) return std::unexpected(folder.error());
        NewItemOptions options;
        options.is_read = true;
        options.is_draft = false;
        options.categories = draft->categories;
        options.importance = draft->importance;
        auto copy = r.store.CreateItem(folder->id, mime, options);
        if (!copy) return std::unexpected(copy.error());
      }
      return r.store.DeleteItem(draft->id, DeleteMode::kHardDelete);
    }();
    messages += sent ? SuccessMessage("SendItem", "") : ErrorMessage("SendItem", sent.error(), "");
  }
  AnnotateOutbound(outbound);
  return Response("SendItem", messages);
}

}  // namespace exo::mock_ews
