#include "internal/ews_service.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <pugixml.hpp>
#include <string_view>
#include <utility>

#include "exo/mock_kit/journal.hpp"
#include "internal/ews_admission.hpp"
#include "internal/ews_ops.hpp"
#include "internal/throttling.hpp"

namespace exo::mock_ews {

namespace {

// The RequestServerVersion values Exchange Online accepts (types.xsd ExchangeVersionType).
constexpr std::array<std::string_view, 14> kKnownVersions = {
    "Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016",     "V2015_10_05",
    "V2016_01_06",  "V2016_04_13",      "V2016_07_13",  "V2016_10_10"};

using OpHandler = SoapReply (*)(const Request&, pugi::xml_node);

// Every operation the mock serves; anything else is ErrorInvalidRequest, as Exchange answers an
// operation it does not know.
constexpr std::array<std::pair<std::string_view, OpHandler>, 18> kOperations = {{
    {"GetFolder", GetFolderOp},
    {"FindFolder", FindFolderOp},
    {"CreateFolder", CreateFolderOp},
    {"FindItem", FindItemOp},
    {"GetItem", GetItemOp},
    {"UpdateItem", UpdateItemOp},
    {"MoveItem", MoveItemOp},
    {"CopyItem", CopyItemOp},
    {"DeleteItem", DeleteItemOp},
    {"SyncFolderItems", SyncFolderItemsOp},
    {"CreateItem", CreateItemOp},
    {"SendItem", SendItemOp},
    {"Subscribe", SubscribeOp},
    {"GetEvents", GetEventsOp},
    {"GetStreamingEvents", GetStreamingEventsOp},
    {"Unsubscribe", UnsubscribeOp},
    {"ConvertId", ConvertIdOp},
    {"ResolveNames", ResolveNamesOp},
}};

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

SoapReply HandleSoap(const EwsContext& context, const EwsCaller& caller, const std::string& body) {
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
  // Nothing below recurses, but operations walk what they are given: refuse absurd nesting here,
  // at a cost bounded by the body size the server accepts.
  if (XmlDepth(doc, kMaxXmlDepth) > kMaxXmlDepth) {
    return SchemaFault("The XML nesting depth exceeds the maximum of " +
                       std::to_string(kMaxXmlDepth) + ".");
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
  auto mailbox = Impersonate(context.store, caller, header, fault);
  if (!mailbox) return fault;
  const Request request{context.store, caller, *mailbox, context.clock};

  const std::string_view name = Local(op.name());
  mock::Annotate("operation", "ews." + std::string(name));
  mock::Annotate("mailbox", mailbox->primary_smtp_address);
  // A mailbox in the middle of a move between Exchange Online and on-premises answers nothing
  // until the move completes; clients are expected to retry [infer: fault at the impersonation
  // stage; text from Exchange's ErrorMailboxMoveInProgress description, responsecode.md].
  if (context.moving && context.moving(mailbox->primary_smtp_address)) {
    const std::string text = "Mailbox move in progress. Try again later.";
    return Fault("ErrorMailboxMoveInProgress", text, text);
  }
  // The admin's gates and policies need the target mailbox, so they come after impersonation
  // and before throttling (exchange-admin.md, modeling checklist 4).
  if (context.admin) {
    if (auto refused = AdmitToMailbox(*context.admin, caller, *mailbox)) return *refused;
  }
  OpHandler handler = nullptr;
  for (const auto& [op_name, h] : kOperations) {
    if (op_name == name) handler = h;
  }
  if (!handler) return InvalidRequestFault();
  // Budgets are per app and impersonated mailbox (ews.md §3.4), so throttling comes only now.
  ThrottlingPolicy::Decision admission;
  if (context.throttling) {
    admission = context.throttling->Admit(caller.app_id, mailbox->primary_smtp_address,
                                          name == "SyncFolderItems");
    AnnotateEarly(admission);
    if (!admission.admitted()) return ThrottledReply(admission, name);
    if (admission.hold.count() > 0) context.clock.SleepFor(admission.hold);
  }
  return handler(request, op);
}

}  // namespace exo::mock_ews
