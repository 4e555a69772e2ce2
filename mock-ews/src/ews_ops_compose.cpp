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
#include "internal/mail_compose.hpp"

namespace exo::mock_ews {

namespace {

enum class Disposition { kSaveOnly, kSendOnly, kSendAndSaveCopy };

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

// Delivers `mime` as the impersonated mailbox (see SubmitToStore).
Result<void> Submit(const Request& r, const std::string& mime, const Error& no_recipients,
                    Outbound& outbound) {
  return SubmitToStore(r.store, r.mailbox, mime, no_recipients, outbound);
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

  ResponseInput input;
  input.kind = kind;
  pugi::xml_node new_body = Child(item, "NewBodyContent");
  input.new_body = new_body.text().as_string();
  const std::string body_type = new_body.attribute("BodyType").as_string();
  if (!body_type.empty()) {
    input.body_type = Lower(body_type) == "html" ? BodyType::kHtml : BodyType::kText;
  }
  if (auto subject = Child(item, "Subject")) input.subject = Text(subject);
  input.to = ParseRecipients(Child(item, "ToRecipients"));
  input.cc = ParseRecipients(Child(item, "CcRecipients"));
  input.bcc = ParseRecipients(Child(item, "BccRecipients"));
  input.importance = ParseImportance(Child(item, "Importance"));
  auto draft = ComposeResponseDraft(*original, r.mailbox, input);
  if (!draft) return std::unexpected(draft.error());

  Composed c;
  c.mime = r.store.ComposeMime(*draft);
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
