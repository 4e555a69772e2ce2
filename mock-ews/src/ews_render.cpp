#include <algorithm>
#include <pugixml.hpp>
#include <string_view>

#include "exo/common/base64.hpp"
#include "exo/common/time_format.hpp"
#include "internal/ews_ops.hpp"
#include "internal/ews_paging.hpp"

namespace exo::mock_ews {

namespace {

// types.xsd DistinguishedFolderIdNameType: names a request may use. The store has only some of
// these folders; the others are well-formed ids of folders it lacks (ErrorFolderNotFound), not
// schema violations.
constexpr std::string_view kDistinguishedFolderNames[] = {"calendar",
                                                          "contacts",
                                                          "deleteditems",
                                                          "drafts",
                                                          "inbox",
                                                          "journal",
                                                          "notes",
                                                          "outbox",
                                                          "sentitems",
                                                          "tasks",
                                                          "msgfolderroot",
                                                          "publicfoldersroot",
                                                          "root",
                                                          "junkemail",
                                                          "searchfolders",
                                                          "voicemail",
                                                          "recoverableitemsroot",
                                                          "recoverableitemsdeletions",
                                                          "recoverableitemsversions",
                                                          "recoverableitemspurges",
                                                          "recoverableitemsdiscoveryholds",
                                                          "archiveroot",
                                                          "archivemsgfolderroot",
                                                          "archivedeleteditems",
                                                          "archiveinbox",
                                                          "archiverecoverableitemsroot",
                                                          "archiverecoverableitemsdeletions",
                                                          "archiverecoverableitemsversions",
                                                          "archiverecoverableitemspurges",
                                                          "archiverecoverableitemsdiscoveryholds",
                                                          "syncissues",
                                                          "conflicts",
                                                          "localfailures",
                                                          "serverfailures",
                                                          "recipientcache",
                                                          "quickcontacts",
                                                          "conversationhistory",
                                                          "adminauditlogs",
                                                          "todosearch",
                                                          "mycontacts",
                                                          "directory",
                                                          "imcontactlist",
                                                          "peopleconnect",
                                                          "favorites",
                                                          "mecontact",
                                                          "personmetadata",
                                                          "teamspaceactivity",
                                                          "teamspacemessaging",
                                                          "teamspaceworkitems",
                                                          "scheduled",
                                                          "orionnotes",
                                                          "tagitems",
                                                          "alltaggeditems",
                                                          "externalcontacts",
                                                          "teamchat",
                                                          "yammerroot",
                                                          "yammerinbound",
                                                          "yammeroutbound",
                                                          "yammerfeeds",
                                                          "onedriveroot",
                                                          "onedriverecylebin",
                                                          "onedrivesystem",
                                                          "onedrivevolume"};

bool IsDistinguishedFolderName(std::string_view name) {
  for (std::string_view n : kDistinguishedFolderNames) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

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
  if (auto b = Child(shape_node, "BodyType")) s.body_type = Text(b);
  for (pugi::xml_node f = Child(shape_node, "AdditionalProperties").first_child(); f;
       f = f.next_sibling()) {
    if (Local(f.name()) == "FieldURI") s.fields.insert(f.attribute("FieldURI").as_string());
  }
  if (s.fields.contains("item:MimeContent")) s.mime = true;
  return s;
}

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
  const bool want_body = shape.bodies && shape.Want("item:Body", true);
  const bool want_text_body = shape.bodies && shape.Want("item:TextBody", false);
  MessageBodies bodies;
  if (want_body || want_text_body) {
    if (auto b = ExtractBodies(*item.mime)) bodies = std::move(*b);
  }
  if (want_body) {
    // Best: the HTML part when there is one, as Exchange answers.
    const bool html = shape.body_type == "HTML" || (shape.body_type == "Best" && bodies.html);
    const std::string text = html ? bodies.html.value_or(bodies.text.value_or(""))
                                  : bodies.text.value_or(bodies.html.value_or(""));
    x += std::string("<t:Body BodyType=\"") + (html ? "HTML" : "Text") + "\">" + Esc(text) +
         "</t:Body>";
  }
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
  if (want_text_body) {
    x += "<t:TextBody BodyType=\"Text\">" + Esc(bodies.text.value_or("")) + "</t:TextBody>";
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

std::string ItemIdXml(std::string_view id, std::string_view change_key) {
  return "<t:ItemId Id=\"" + Esc(id) + "\" ChangeKey=\"" + Esc(change_key) + "\"/>";
}

Result<Mailbox> ResolveInTenant(const Request& r, std::string_view address) {
  auto m = r.store.ResolveMailbox(address, MailboxKey::kSmtpAddress);
  if (!m || m->organization_id != r.caller.tenant_id) {
    return Fail(ErrorCategory::kNotFound, codes::kNonExistentMailbox,
                "The SMTP address has no mailbox associated with it.");
  }
  return m;
}

Result<void> CheckIdTenant(const Request& r, std::string_view id) {
  auto m = r.store.MailboxOfId(id);
  if (!m) return std::unexpected(m.error());
  if (m->organization_id != r.caller.tenant_id) {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidIdMalformed, "Id is malformed.");
  }
  return {};
}

Result<Folder> ResolveFolder(const Request& r, pugi::xml_node node) {
  const std::string_view kind = Local(node.name());
  if (kind == "DistinguishedFolderId") {
    const std::string name = node.attribute("Id").as_string();
    auto which = ParseDistinguishedFolder(name);
    if (!which && IsDistinguishedFolderName(name)) {
      return Fail(ErrorCategory::kNotFound, codes::kFolderNotFound,
                  "The specified folder could not be found in the store.");
    }
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

Result<std::string> CheckedItemId(const Request& r, pugi::xml_node id) {
  if (Local(id.name()) != "ItemId") {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidIdMalformed, "Id is malformed.");
  }
  const std::string item_id = id.attribute("Id").as_string();
  if (auto ok = CheckIdTenant(r, item_id); !ok) return std::unexpected(ok.error());
  return item_id;
}

}  // namespace exo::mock_ews

namespace exo::mock_ews {

Result<PagedView> ParsePagedView(pugi::xml_node indexed, pugi::xml_node fractional) {
  PagedView v;
  pugi::xml_node view = indexed ? indexed : fractional;
  if (!view) return v;
  v.fractional = !indexed;
  if (auto max = view.attribute("MaxEntriesReturned")) {
    if (max.as_llong(0) < 1) {
      return Fail(ErrorCategory::kProtocol, "ErrorInvalidPagingMaxRows",
                  "The maximum number of rows requested for paging is invalid.");
    }
    v.max_count = std::min<std::size_t>(max.as_ullong(), kFindCountLimit);
  }
  if (v.fractional) {
    v.numerator = view.attribute("Numerator").as_llong(-1);
    v.denominator = view.attribute("Denominator").as_llong(0);
    if (v.denominator < 1 || v.numerator < 0 || v.numerator > v.denominator) {
      return Fail(ErrorCategory::kProtocol, "ErrorInvalidFractionalPagingParameters",
                  "The fractional paging parameters are invalid.");
    }
    return v;
  }
  const long long offset = view.attribute("Offset").as_llong(0);
  if (offset < 0) {
    return Fail(ErrorCategory::kProtocol, "ErrorInvalidIndexedPagingParameters",
                "The indexed paging parameters are invalid.");
  }
  v.offset = static_cast<std::size_t>(offset);
  v.from_end = std::string(view.attribute("BasePoint").as_string("Beginning")) == "End";
  return v;
}

PageWindow Window(const PagedView& view, std::size_t total) {
  PageWindow w;
  std::size_t end = total;
  if (view.fractional) {
    w.start = static_cast<std::size_t>(static_cast<std::int64_t>(total) * view.numerator /
                                       view.denominator);
  } else if (view.from_end) {
    // Offset counts back from the end: the page ends `offset` entries before the last one.
    end = total > view.offset ? total - view.offset : 0;
    w.start = end > view.max_count ? end - view.max_count : 0;
  } else {
    w.start = std::min(view.offset, total);
  }
  w.count = std::min(view.max_count, end > w.start ? end - w.start : 0);
  return w;
}

std::string PagingAttributes(const PagedView& view, std::size_t next, std::size_t total) {
  const std::string position = view.fractional
                                   ? " NumeratorOffset=\"" + std::to_string(next) +
                                         "\" AbsoluteDenominator=\"" + std::to_string(total) + "\""
                                   : " IndexedPagingOffset=\"" + std::to_string(next) + "\"";
  return position + " TotalItemsInView=\"" + std::to_string(total) +
         "\" IncludesLastItemInRange=\"" + (next >= total ? "true" : "false") + "\"";
}

}  // namespace exo::mock_ews
