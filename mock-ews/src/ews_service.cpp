#include "internal/ews_service.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <pugixml.hpp>
#include <set>
#include <string_view>

#include "exo/common/base64.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/journal.hpp"

namespace exo::mock_ews {

namespace {

constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr const char* kTypesNs = "http://schemas.microsoft.com/exchange/services/2006/types";
constexpr const char* kMessagesNs = "http://schemas.microsoft.com/exchange/services/2006/messages";
constexpr const char* kErrorsNs = "http://schemas.microsoft.com/exchange/services/2006/errors";

// The RequestServerVersion values Exchange Online accepts (types.xsd ExchangeVersionType).
constexpr std::array<std::string_view, 14> kKnownVersions = {
    "Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016",     "V2015_10_05",
    "V2016_01_06",  "V2016_04_13",      "V2016_07_13",  "V2016_10_10"};

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Characters XML 1.0 cannot carry at all are dropped rather than emitted.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

// Element names without their prefix: requests use any prefix (s:, soap:, none).
std::string_view Local(const char* name) {
  std::string_view n(name);
  const auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && Local(c.name()) == local) return c;
  }
  return {};
}

pugi::xml_node FirstElement(pugi::xml_node parent) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return c;
  }
  return {};
}

std::string Text(pugi::xml_node n) {
  std::string s = n.text().as_string();
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// xs:boolean in all its lexical forms ("1", "true", surrounding space).
std::optional<bool> ParseBool(std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return std::nullopt;
}

// ---- Envelopes ----

std::string ServerVersionInfo() {
  return std::string(
             "<h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"20\" "
             "MajorBuildNumber=\"8769\" MinorBuildNumber=\"35\" Version=\"V2018_01_08\" "
             "xmlns:h=\"") +
         kTypesNs +
         "\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>";
}

// A successful response: `op`Response holding the given response messages.
SoapReply Response(std::string_view op, const std::string& messages) {
  SoapReply r;
  r.body = std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"") +
           kSoapNs + "\"><s:Header>" + ServerVersionInfo() +
           "</s:Header><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
           "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><m:" +
           std::string(op) + "Response xmlns:m=\"" + kMessagesNs + "\" xmlns:t=\"" + kTypesNs +
           "\"><m:ResponseMessages>" + messages + "</m:ResponseMessages></m:" + std::string(op) +
           "Response></s:Body></s:Envelope>";
  return r;
}

// A request-level failure: HTTP 500, no s:Header (ews.md §1.4).
SoapReply Fault(const std::string& code, const std::string& faultstring, const std::string& message,
                const std::string& message_xml = {}) {
  SoapReply r;
  r.status = 500;
  r.body = std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"") +
           kSoapNs + "\"><s:Body><s:Fault><faultcode xmlns:a=\"" + kTypesNs + "\">a:" + code +
           "</faultcode><faultstring xml:lang=\"en-US\">" + Esc(faultstring) +
           "</faultstring><detail><e:ResponseCode xmlns:e=\"" + kErrorsNs + "\">" + code +
           "</e:ResponseCode><e:Message xmlns:e=\"" + kErrorsNs + "\">" + Esc(message) +
           "</e:Message>";
  if (!message_xml.empty()) {
    r.body += std::string("<t:MessageXml xmlns:t=\"") + kTypesNs + "\">" + message_xml +
              "</t:MessageXml>";
  }
  r.body += "</detail></s:Fault></s:Body></s:Envelope>";
  return r;
}

SoapReply SchemaFault(const std::string& violation, std::size_t line = 1, std::size_t pos = 1) {
  return Fault("ErrorSchemaValidation", "The request failed schema validation: " + violation,
               "The request failed schema validation.",
               "<t:LineNumber>" + std::to_string(line) + "</t:LineNumber><t:LinePosition>" +
                   std::to_string(pos) + "</t:LinePosition><t:Violation>" + Esc(violation) +
                   "</t:Violation>");
}

SoapReply InvalidRequestFault() {
  return Fault("ErrorInvalidRequest", "The request is invalid.", "The request is invalid.");
}

// The MessageText Exchange prints for a response code (ews.md §3.5); the store's own text else.
std::string MessageText(const Error& e) {
  if (e.code == codes::kInvalidIdMalformed) return "Id is malformed.";
  if (e.code == codes::kItemNotFound) return "The specified object was not found in the store.";
  if (e.code == codes::kFolderNotFound) {
    return "The specified folder could not be found in the store.";
  }
  if (e.code == codes::kNonExistentMailbox) {
    return "The SMTP address has no mailbox associated with it.";
  }
  if (e.code == codes::kInvalidSyncStateData) {
    return "Synchronization state data is corrupt or otherwise invalid.";
  }
  return e.message;
}

// One response message: `op`ResponseMessage, Success with `payload`, or Error with the empty
// `empty_payload` element(s) the schema expects.
std::string SuccessMessage(std::string_view op, const std::string& payload) {
  return "<m:" + std::string(op) + "ResponseMessage ResponseClass=\"Success\">" +
         "<m:ResponseCode>NoError</m:ResponseCode>" + payload + "</m:" + std::string(op) +
         "ResponseMessage>";
}
std::string ErrorMessage(std::string_view op, const Error& e, const std::string& empty_payload) {
  return "<m:" + std::string(op) + "ResponseMessage ResponseClass=\"Error\"><m:MessageText>" +
         Esc(MessageText(e)) + "</m:MessageText><m:ResponseCode>" + Esc(e.code) +
         "</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>" + empty_payload +
         "</m:" + std::string(op) + "ResponseMessage>";
}

// ---- Shapes ----

enum class BaseShape { kIdOnly, kDefault, kAllProperties };

struct Shape {
  BaseShape base = BaseShape::kIdOnly;
  std::set<std::string> fields;  // AdditionalProperties FieldURIs
  bool mime = false;

  // Whether the property `uri` goes out: in the base shape (`in_default` for Default), or asked.
  bool Want(const std::string& uri, bool in_default) const {
    if (base == BaseShape::kAllProperties) return true;
    if (base == BaseShape::kDefault && in_default) return true;
    return fields.contains(uri);
  }
};

Result<Shape> ParseShape(pugi::xml_node shape_node) {
  Shape s;
  const std::string base = Text(Child(shape_node, "BaseShape"));
  if (base == "IdOnly") {
    s.base = BaseShape::kIdOnly;
  } else if (base == "Default") {
    s.base = BaseShape::kDefault;
  } else if (base == "AllProperties") {
    s.base = BaseShape::kAllProperties;
  } else {
    return Fail(ErrorCategory::kProtocol, "ErrorSchemaValidation",
                "The element 'BaseShape' has an invalid value '" + base + "'.");
  }
  if (auto m = Child(shape_node, "IncludeMimeContent")) s.mime = ParseBool(Text(m)).value_or(false);
  for (pugi::xml_node f = Child(shape_node, "AdditionalProperties").first_child(); f;
       f = f.next_sibling()) {
    if (Local(f.name()) == "FieldURI") s.fields.insert(f.attribute("FieldURI").as_string());
  }
  if (s.fields.contains("item:MimeContent")) s.mime = true;
  return s;
}

// ---- Rendering ----

std::string FolderXml(const Folder& f, const Shape& shape) {
  std::string x =
      "<t:Folder><t:FolderId Id=\"" + Esc(f.id) + "\" ChangeKey=\"" + Esc(f.change_key) + "\"/>";
  if (!f.parent_id.empty() && shape.Want("folder:ParentFolderId", false)) {
    x += "<t:ParentFolderId Id=\"" + Esc(f.parent_id) + "\" ChangeKey=\"AQAAAA==\"/>";
  }
  if (!f.folder_class.empty() && shape.Want("folder:FolderClass", false)) {
    x += "<t:FolderClass>" + Esc(f.folder_class) + "</t:FolderClass>";
  }
  if (shape.Want("folder:DisplayName", true)) {
    x += "<t:DisplayName>" + Esc(f.display_name) + "</t:DisplayName>";
  }
  if (shape.Want("folder:TotalCount", true)) {
    x += "<t:TotalCount>" + std::to_string(f.total_count) + "</t:TotalCount>";
  }
  if (shape.Want("folder:ChildFolderCount", true)) {
    x += "<t:ChildFolderCount>" + std::to_string(f.child_folder_count) + "</t:ChildFolderCount>";
  }
  if (shape.Want("folder:EffectiveRights", false)) {
    x += "<t:EffectiveRights><t:CreateAssociated>true</t:CreateAssociated><t:CreateContents>"
         "true</t:CreateContents><t:CreateHierarchy>true</t:CreateHierarchy><t:Delete>true"
         "</t:Delete><t:Modify>true</t:Modify><t:Read>true</t:Read><t:ViewPrivateItems>true"
         "</t:ViewPrivateItems></t:EffectiveRights>";
  }
  if (shape.Want("folder:UnreadCount", true)) {
    x += "<t:UnreadCount>" + std::to_string(f.unread_count) + "</t:UnreadCount>";
  }
  return x + "</t:Folder>";
}

std::string MailboxXml(const MailAddress& a) {
  std::string x = "<t:Mailbox>";
  if (!a.name.empty()) x += "<t:Name>" + Esc(a.name) + "</t:Name>";
  return x + "<t:EmailAddress>" + Esc(a.address) +
         "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox>";
}

const char* ImportanceName(Importance i) {
  switch (i) {
    case Importance::kLow:
      return "Low";
    case Importance::kHigh:
      return "High";
    default:
      return "Normal";
  }
}

// A t:Message with the shape's properties, in the order of types.xsd (ItemType, then MessageType).
std::string ItemXml(const Item& item, const Shape& shape) {
  const MessageFields& f = item.fields;
  auto yes_no = [](bool b) { return b ? std::string("true") : std::string("false"); };
  std::string x = "<t:Message>";
  if (shape.mime) {
    x += "<t:MimeContent CharacterSet=\"UTF-8\">" + Base64Encode(*item.mime) + "</t:MimeContent>";
  }
  x += "<t:ItemId Id=\"" + Esc(item.id) + "\" ChangeKey=\"" + Esc(item.change_key) + "\"/>";
  if (shape.Want("item:ParentFolderId", false)) {
    x += "<t:ParentFolderId Id=\"" + Esc(item.parent_folder_id) + "\" ChangeKey=\"AQAAAA==\"/>";
  }
  if (shape.Want("item:ItemClass", false)) x += "<t:ItemClass>IPM.Note</t:ItemClass>";
  if (shape.Want("item:Subject", true)) x += "<t:Subject>" + Esc(f.subject) + "</t:Subject>";
  if (shape.Want("item:Sensitivity", true)) x += "<t:Sensitivity>Normal</t:Sensitivity>";
  if (shape.Want("item:DateTimeReceived", true)) {
    x += "<t:DateTimeReceived>" + FormatIso8601(item.date_time_received) + "</t:DateTimeReceived>";
  }
  if (shape.Want("item:Size", true)) x += "<t:Size>" + std::to_string(item.size) + "</t:Size>";
  if (!item.categories.empty() && shape.Want("item:Categories", false)) {
    x += "<t:Categories>";
    for (const auto& c : item.categories) x += "<t:String>" + Esc(c) + "</t:String>";
    x += "</t:Categories>";
  }
  if (shape.Want("item:Importance", true)) {
    x += std::string("<t:Importance>") + ImportanceName(item.importance) + "</t:Importance>";
  }
  if (!f.in_reply_to.empty() && shape.Want("item:InReplyTo", false)) {
    x += "<t:InReplyTo>" + Esc(f.in_reply_to) + "</t:InReplyTo>";
  }
  if (shape.Want("item:IsDraft", false))
    x += "<t:IsDraft>" + yes_no(item.is_draft) + "</t:IsDraft>";
  if (f.date && shape.Want("item:DateTimeSent", true)) {
    x += "<t:DateTimeSent>" + FormatIso8601(*f.date) + "</t:DateTimeSent>";
  }
  if (shape.Want("item:DateTimeCreated", true)) {
    x += "<t:DateTimeCreated>" + FormatIso8601(item.date_time_created) + "</t:DateTimeCreated>";
  }
  if (shape.Want("item:HasAttachments", true)) {
    x += "<t:HasAttachments>" + yes_no(f.has_attachments) + "</t:HasAttachments>";
  }
  const std::optional<MailAddress>& sender = f.sender ? f.sender : f.from;
  if (sender && shape.Want("message:Sender", false)) {
    x += "<t:Sender>" + MailboxXml(*sender) + "</t:Sender>";
  }
  auto recipients = [&](const char* name, const std::vector<MailAddress>& list, bool in_default) {
    if (list.empty() || !shape.Want(std::string("message:") + name, in_default)) return;
    x += std::string("<t:") + name + ">";
    for (const auto& a : list) x += MailboxXml(a);
    x += std::string("</t:") + name + ">";
  };
  recipients("ToRecipients", f.to, true);
  recipients("CcRecipients", f.cc, true);
  if (f.from && shape.Want("message:From", true)) {
    x += "<t:From>" + MailboxXml(*f.from) + "</t:From>";
  }
  if (!f.internet_message_id.empty() && shape.Want("message:InternetMessageId", false)) {
    x += "<t:InternetMessageId>" + Esc(f.internet_message_id) + "</t:InternetMessageId>";
  }
  if (shape.Want("message:IsRead", true)) x += "<t:IsRead>" + yes_no(item.is_read) + "</t:IsRead>";
  return x + "</t:Message>";
}

// ---- Request context ----

struct Request {
  MailboxStore& store;
  const EwsCaller& caller;
  Mailbox mailbox;  // the impersonated one
};

// Resolves a body t:Mailbox/t:EmailAddress within the caller's tenant.
Result<Mailbox> ResolveInTenant(const Request& r, std::string_view address) {
  auto m = r.store.ResolveMailbox(address, MailboxKey::kSmtpAddress);
  if (!m || m->organization_id != r.caller.tenant_id) {
    return Fail(ErrorCategory::kNotFound, codes::kNonExistentMailbox,
                "The SMTP address has no mailbox associated with it.");
  }
  return m;
}

// Checks an id belongs to a mailbox of the caller's tenant (ids of other tenants are unknown).
Result<void> CheckIdTenant(const Request& r, std::string_view id) {
  auto m = r.store.MailboxOfId(id);
  if (!m) return std::unexpected(m.error());
  if (m->organization_id != r.caller.tenant_id) {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidIdMalformed, "Id is malformed.");
  }
  return {};
}

// A t:DistinguishedFolderId or t:FolderId to a store folder.
Result<Folder> ResolveFolder(const Request& r, pugi::xml_node node) {
  const std::string_view kind = Local(node.name());
  if (kind == "DistinguishedFolderId") {
    const std::string name = node.attribute("Id").as_string();
    auto which = ParseDistinguishedFolder(name);
    if (!which) {
      return Fail(ErrorCategory::kProtocol, "ErrorSchemaValidation",
                  "The 'Id' attribute is invalid - The value '" + name +
                      "' is invalid according to its datatype "
                      "'http://schemas.microsoft.com/exchange/services/2006/types:"
                      "DistinguishedFolderIdNameType' - The Enumeration constraint failed.");
    }
    std::string owner = r.mailbox.primary_smtp_address;
    if (auto mb = Child(node, "Mailbox")) {
      auto resolved = ResolveInTenant(r, Text(Child(mb, "EmailAddress")));
      if (!resolved) return std::unexpected(resolved.error());
      owner = resolved->primary_smtp_address;
    }
    return r.store.GetDistinguishedFolder(owner, *which);
  }
  if (kind == "FolderId") {
    const std::string id = node.attribute("Id").as_string();
    if (auto ok = CheckIdTenant(r, id); !ok) return std::unexpected(ok.error());
    return r.store.GetFolder(id);
  }
  return Fail(ErrorCategory::kProtocol, "ErrorSchemaValidation",
              "The element '" + std::string(kind) + "' is not a folder id.");
}

// ---- Operations ----

std::string ItemIdXml(std::string_view id, std::string_view change_key) {
  return "<t:ItemId Id=\"" + Esc(id) + "\" ChangeKey=\"" + Esc(change_key) + "\"/>";
}

// The items a request names (t:ItemId), each checked to belong to the caller's tenant.
Result<std::string> CheckedItemId(const Request& r, pugi::xml_node id) {
  if (Local(id.name()) != "ItemId") {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidIdMalformed, "Id is malformed.");
  }
  const std::string item_id = id.attribute("Id").as_string();
  if (auto ok = CheckIdTenant(r, item_id); !ok) return std::unexpected(ok.error());
  return item_id;
}

SoapReply GetFolderOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "FolderShape"));
  if (!shape) return SchemaFault(shape.error().message);
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "FolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == "ErrorSchemaValidation") {
      return SchemaFault(folder.error().message);
    }
    messages += folder ? SuccessMessage("GetFolder",
                                        "<m:Folders>" + FolderXml(*folder, *shape) + "</m:Folders>")
                       : ErrorMessage("GetFolder", folder.error(), "<m:Folders/>");
  }
  return Response("GetFolder", messages);
}

// The one restriction a mail monitor sends: message:IsRead equal (or not) to a constant.
Result<std::function<bool(const Item&)>> ParseRestriction(pugi::xml_node restriction) {
  if (!restriction) return std::function<bool(const Item&)>();
  pugi::xml_node cmp = FirstElement(restriction);
  const std::string_view kind = cmp ? Local(cmp.name()) : std::string_view();
  const std::string field = Child(cmp, "FieldURI").attribute("FieldURI").as_string();
  const auto value =
      ParseBool(Child(Child(cmp, "FieldURIOrConstant"), "Constant").attribute("Value").as_string());
  if ((kind != "IsEqualTo" && kind != "IsNotEqualTo") || field != "message:IsRead" || !value) {
    return Fail(ErrorCategory::kProtocol, "ErrorUnsupportedQueryFilter",
                "The restriction or sort order is too complex for this operation.");
  }
  const bool want = kind == "IsEqualTo" ? *value : !*value;
  return std::function<bool(const Item&)>([want](const Item& i) { return i.is_read == want; });
}

SoapReply FindItemOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  shape->mime = false;  // FindItem never returns MIME content
  const std::string traversal = op.attribute("Traversal").as_string("Shallow");
  if (traversal != "Shallow" && traversal != "Deep" && traversal != "SoftDeleted" &&
      traversal != "Associated") {
    return SchemaFault("The 'Traversal' attribute is invalid - The value '" + traversal +
                       "' is invalid according to its datatype.");
  }
  ItemView view;
  auto filter = ParseRestriction(Child(op, "Restriction"));
  if (!filter) {
    Error e = filter.error();
    return Response("FindItem", ErrorMessage("FindItem", e, ""));
  }
  view.filter = *filter;
  if (auto order = Child(Child(op, "SortOrder"), "FieldOrder")) {
    if (std::string(order.attribute("Order").as_string("Ascending")) == "Ascending") {
      view.sort = SortOrder::kReceivedAscending;
    }
  }
  bool from_end = false;
  std::size_t offset = 0, max_count = 1000;  // EWSFindCountLimit
  if (auto page = Child(op, "IndexedPageItemView")) {
    offset = page.attribute("Offset").as_ullong(0);
    if (auto max = page.attribute("MaxEntriesReturned")) {
      max_count = std::min<std::size_t>(max.as_ullong(1000), 1000);
    }
    from_end = std::string(page.attribute("BasePoint").as_string("Beginning")) == "End";
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ParentFolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == "ErrorSchemaValidation") {
      return SchemaFault(folder.error().message);
    }
    if (!folder) {
      messages += ErrorMessage("FindItem", folder.error(), "");
      continue;
    }
    ItemView v = view;
    v.offset = offset;
    v.max_count = max_count;
    if (from_end) {
      // Offset counts back from the end: the page ends `offset` items before the last one.
      ItemView count = view;
      count.max_count = 0;
      auto total = r.store.FindItems(folder->id, count);
      const std::size_t n = total ? total->total_count : 0;
      const std::size_t end = n > offset ? n - offset : 0;
      v.offset = end > max_count ? end - max_count : 0;
      v.max_count = end - v.offset;
    }
    auto page = r.store.FindItems(folder->id, v);
    if (!page) {
      messages += ErrorMessage("FindItem", page.error(), "");
      continue;
    }
    std::string items;
    for (const auto& item : page->items) items += ItemXml(item, *shape);
    messages += SuccessMessage(
        "FindItem", "<m:RootFolder IndexedPagingOffset=\"" + std::to_string(page->next_offset) +
                        "\" TotalItemsInView=\"" + std::to_string(page->total_count) +
                        "\" IncludesLastItemInRange=\"" + (page->includes_last ? "true" : "false") +
                        "\"><t:Items>" + items + "</t:Items></m:RootFolder>");
  }
  return Response("FindItem", messages);
}

SoapReply GetItemOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<Item> item = [&]() -> Result<Item> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return r.store.GetItem(*item_id);
    }();
    messages += item
                    ? SuccessMessage("GetItem", "<m:Items>" + ItemXml(*item, *shape) + "</m:Items>")
                    : ErrorMessage("GetItem", item.error(), "<m:Items/>");
  }
  return Response("GetItem", messages);
}

SoapReply SyncFolderItemsOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  shape->mime = false;
  const std::string empty_payload =
      "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>";
  auto folder = ResolveFolder(r, FirstElement(Child(op, "SyncFolderId")));
  if (!folder && folder.error().code == "ErrorSchemaValidation") {
    return SchemaFault(folder.error().message);
  }
  if (!folder) {
    return Response("SyncFolderItems",
                    ErrorMessage("SyncFolderItems", folder.error(), empty_payload));
  }
  const std::string max_text = Text(Child(op, "MaxChangesReturned"));
  const int max_changes = max_text.empty() ? 0 : std::atoi(max_text.c_str());
  if (max_changes < 1 || max_changes > 512) {
    return SchemaFault("The element 'MaxChangesReturned' has an invalid value '" + max_text +
                       "' - The value must be between 1 and 512.");
  }
  std::vector<std::string> ignore;
  for (pugi::xml_node i = FirstElement(Child(op, "Ignore")); i; i = i.next_sibling()) {
    if (i.type() == pugi::node_element) ignore.push_back(i.attribute("Id").as_string());
  }
  auto batch =
      r.store.SyncFolderItems(folder->id, Text(Child(op, "SyncState")), max_changes, ignore);
  if (!batch) {
    return Response("SyncFolderItems",
                    ErrorMessage("SyncFolderItems", batch.error(), empty_payload));
  }
  std::string changes;
  for (const SyncChange& c : batch->changes) {
    switch (c.kind) {
      case SyncChangeKind::kCreate:
      case SyncChangeKind::kUpdate: {
        if (!c.item) break;
        const char* tag = c.kind == SyncChangeKind::kCreate ? "Create" : "Update";
        changes += std::string("<t:") + tag + ">" + ItemXml(*c.item, *shape) + "</t:" + tag + ">";
        break;
      }
      case SyncChangeKind::kReadFlagChange:
        changes += "<t:ReadFlagChange>" +
                   ItemIdXml(c.item_id, c.item ? c.item->change_key : "CQAAAA==") + "<t:IsRead>" +
                   (c.item && c.item->is_read ? "true" : "false") +
                   "</t:IsRead></t:ReadFlagChange>";
        break;
      case SyncChangeKind::kDelete:
        changes += "<t:Delete>" + ItemIdXml(c.item_id, "CQAAAA==") + "</t:Delete>";
        break;
    }
  }
  return Response(
      "SyncFolderItems",
      SuccessMessage("SyncFolderItems",
                     "<m:SyncState>" + Esc(batch->sync_state) +
                         "</m:SyncState><m:IncludesLastItemInRange>" +
                         (batch->includes_last_item_in_range ? "true" : "false") +
                         "</m:IncludesLastItemInRange><m:Changes>" + changes + "</m:Changes>"));
}

// The updates a mail monitor makes: SetItemField message:IsRead (any xs:boolean form).
Result<ItemUpdate> ParseUpdates(pugi::xml_node updates) {
  ItemUpdate update;
  for (pugi::xml_node u = FirstElement(updates); u; u = u.next_sibling()) {
    if (u.type() != pugi::node_element) continue;
    const std::string field = Child(u, "FieldURI").attribute("FieldURI").as_string();
    if (Local(u.name()) == "SetItemField" && field == "message:IsRead") {
      pugi::xml_node item = FirstElement(u);
      while (item && Local(item.name()) == "FieldURI") item = item.next_sibling();
      if (auto v = ParseBool(Text(Child(item, "IsRead")))) {
        update.is_read = *v;
        continue;
      }
    }
    Error e;
    e.category = ErrorCategory::kProtocol;
    e.code = "ErrorInvalidPropertyRequest";
    e.message = "Property is not valid for this object type.";
    return std::unexpected(e);
  }
  return update;
}

SoapReply UpdateItemOp(const Request& r, pugi::xml_node op) {
  const bool check_key =
      std::string(op.attribute("ConflictResolution").as_string("AutoResolve")) == "NeverOverwrite";
  std::string messages;
  for (pugi::xml_node change = FirstElement(Child(op, "ItemChanges")); change;
       change = change.next_sibling()) {
    if (change.type() != pugi::node_element) continue;
    pugi::xml_node id = Child(change, "ItemId");
    Result<Item> item = [&]() -> Result<Item> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      auto update = ParseUpdates(Child(change, "Updates"));
      if (!update) return std::unexpected(update.error());
      return r.store.UpdateItem(*item_id, *update,
                                check_key ? id.attribute("ChangeKey").as_string() : "");
    }();
    messages +=
        item ? SuccessMessage("UpdateItem",
                              "<m:Items><t:Message>" + ItemIdXml(item->id, item->change_key) +
                                  "</t:Message></m:Items><m:ConflictResults><t:Count>0"
                                  "</t:Count></m:ConflictResults>")
             : ErrorMessage("UpdateItem", item.error(), "<m:Items/>");
  }
  return Response("UpdateItem", messages);
}

SoapReply MoveItemOp(const Request& r, pugi::xml_node op) {
  auto target = ResolveFolder(r, FirstElement(Child(op, "ToFolderId")));
  if (!target && target.error().code == "ErrorSchemaValidation") {
    return SchemaFault(target.error().message);
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<Item> item = [&]() -> Result<Item> {
      if (!target) {
        Error e = target.error();
        if (e.code == codes::kFolderNotFound) e.code = codes::kToFolderNotFound;
        return std::unexpected(e);
      }
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return r.store.MoveItem(*item_id, target->id);
    }();
    messages += item ? SuccessMessage("MoveItem", "<m:Items><t:Message>" +
                                                      ItemIdXml(item->id, item->change_key) +
                                                      "</t:Message></m:Items>")
                     : ErrorMessage("MoveItem", item.error(), "<m:Items/>");
  }
  return Response("MoveItem", messages);
}

SoapReply DeleteItemOp(const Request& r, pugi::xml_node op) {
  const std::string type = op.attribute("DeleteType").as_string();
  DeleteMode mode;
  if (type == "HardDelete") {
    mode = DeleteMode::kHardDelete;
  } else if (type == "SoftDelete") {
    mode = DeleteMode::kSoftDelete;
  } else if (type == "MoveToDeletedItems") {
    mode = DeleteMode::kMoveToDeletedItems;
  } else {
    return SchemaFault("The 'DeleteType' attribute is invalid - The value '" + type +
                       "' is invalid according to its datatype.");
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<void> deleted = [&]() -> Result<void> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return r.store.DeleteItem(*item_id, mode);
    }();
    messages += deleted ? SuccessMessage("DeleteItem", "")
                        : ErrorMessage("DeleteItem", deleted.error(), "");
  }
  return Response("DeleteItem", messages);
}

// exchangelib's version probe: it needs only the ServerVersionInfo header, so every id answers
// ErrorInvalidIdMalformed (the mock converts no ids).
SoapReply ConvertIdOp(pugi::xml_node op) {
  Error malformed;
  malformed.category = ErrorCategory::kProtocol;
  malformed.code = codes::kInvalidIdMalformed;
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "SourceIds")); id; id = id.next_sibling()) {
    if (id.type() == pugi::node_element) messages += ErrorMessage("ConvertId", malformed, "");
  }
  return Response("ConvertId", messages);
}

// ---- Envelope header ----

// The impersonated mailbox from s:Header, or the fault Exchange answers with.
Result<Mailbox> Impersonate(MailboxStore& store, const EwsCaller& caller, pugi::xml_node header,
                            SoapReply& fault) {
  constexpr const char* kMustBePresent =
      "ExchangeImpersonation SOAP header must be present for this type of OAuth token.";
  pugi::xml_node imp = Child(header, "ExchangeImpersonation");
  if (!imp) {
    fault = Fault("ErrorInvalidExchangeImpersonationHeaderData", kMustBePresent, kMustBePresent);
    return Fail(ErrorCategory::kAuthorization, "ErrorInvalidExchangeImpersonationHeaderData",
                kMustBePresent);
  }
  // exchangelib may send two children (upn and smtp): the first non-empty one counts.
  pugi::xml_node sid = Child(imp, "ConnectingSID");
  std::string key, key_name;
  MailboxKey how = MailboxKey::kAny;
  for (pugi::xml_node c = sid.first_child(); c && key.empty(); c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const std::string_view name = Local(c.name());
    if (name == "PrimarySmtpAddress" || name == "SmtpAddress") {
      how = MailboxKey::kSmtpAddress;
    } else if (name == "PrincipalName") {
      how = MailboxKey::kUserPrincipalName;
    } else if (name == "SID") {
      how = MailboxKey::kSid;
    } else {
      continue;
    }
    key = Text(c);
    key_name = name;
  }
  if (key.empty()) {
    const std::string text =
        "The impersonation header data is invalid: the caller did not specify a UPN, an e-mail "
        "address, or a user SID.";
    fault = Fault("ErrorInvalidExchangeImpersonationHeaderData", text, text);
    return Fail(ErrorCategory::kProtocol, "ErrorInvalidExchangeImpersonationHeaderData", text);
  }
  auto mailbox = store.ResolveMailbox(key, how);
  if (!mailbox || mailbox->organization_id != caller.tenant_id) {
    const std::string text = "The SMTP address has no mailbox associated with it.";
    const std::string value_name = key_name == "PrincipalName" ? "PrincipalName"
                                   : key_name == "SID"         ? "SID"
                                                               : "SmtpAddress";
    fault = Fault(codes::kNonExistentMailbox, text, text,
                  "<t:Value Name=\"" + value_name + "\">" + Esc(key) + "</t:Value>");
    return Fail(ErrorCategory::kNotFound, codes::kNonExistentMailbox, text);
  }
  return mailbox;
}

}  // namespace

SoapReply HandleSoap(MailboxStore& store, const EwsCaller& caller, const std::string& body) {
  // Entity declarations are how XML bombs work; EWS requests never need a DTD.
  std::string upper = body;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper.find("<!DOCTYPE") != std::string::npos || upper.find("<!ENTITY") != std::string::npos) {
    return SchemaFault("For security reasons DTD is prohibited in this XML document.");
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default & ~pugi::parse_doctype);
  if (!parsed) {
    std::size_t line = 1, pos = 1;
    for (std::ptrdiff_t i = 0; i < parsed.offset && static_cast<std::size_t>(i) < body.size();
         ++i) {
      if (body[static_cast<std::size_t>(i)] == '\n') {
        ++line;
        pos = 1;
      } else {
        ++pos;
      }
    }
    return SchemaFault(std::string(body.empty() ? "Root element is missing."
                                                : "Data at the root level is invalid.") +
                           " Line " + std::to_string(line) + ", position " + std::to_string(pos) +
                           ".",
                       line, pos);
  }
  pugi::xml_node envelope = doc.document_element();
  if (Local(envelope.name()) != "Envelope") {
    return SchemaFault("The root element must be a SOAP Envelope.");
  }
  pugi::xml_node header = Child(envelope, "Header");
  pugi::xml_node soap_body = Child(envelope, "Body");
  pugi::xml_node op = FirstElement(soap_body);
  if (!op) return SchemaFault("The SOAP Body is missing or empty.");

  if (pugi::xml_node version = Child(header, "RequestServerVersion")) {
    const std::string v = version.attribute("Version").as_string();
    if (std::find(kKnownVersions.begin(), kKnownVersions.end(), v) == kKnownVersions.end()) {
      return InvalidRequestFault();
    }
  }
  SoapReply fault;
  auto mailbox = Impersonate(store, caller, header, fault);
  if (!mailbox) return fault;
  const Request request{store, caller, *mailbox};

  const std::string_view name = Local(op.name());
  mock::Annotate("operation", "ews." + std::string(name));
  mock::Annotate("mailbox", mailbox->primary_smtp_address);
  if (name == "GetFolder") return GetFolderOp(request, op);
  if (name == "FindItem") return FindItemOp(request, op);
  if (name == "GetItem") return GetItemOp(request, op);
  if (name == "ConvertId") return ConvertIdOp(op);
  if (name == "SyncFolderItems") return SyncFolderItemsOp(request, op);
  if (name == "UpdateItem") return UpdateItemOp(request, op);
  if (name == "MoveItem") return MoveItemOp(request, op);
  if (name == "DeleteItem") return DeleteItemOp(request, op);
  return InvalidRequestFault();
}

}  // namespace exo::mock_ews
