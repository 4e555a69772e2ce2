#include "internal/soap.hpp"

#include "exo/common/xml_text.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

std::string Esc(std::string_view s) { return XmlEscape(s); }

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

std::optional<bool> ParseBool(std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return std::nullopt;
}

std::string ServerVersionInfo() {
  return std::string(
             "<h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"20\" "
             "MajorBuildNumber=\"8769\" MinorBuildNumber=\"35\" Version=\"V2018_01_08\" "
             "xmlns:h=\"") +
         kTypesNs +
         "\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>";
}

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

SoapReply Fault(const std::string& code, const std::string& faultstring, const std::string& message,
                const std::string& message_xml) {
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

SoapReply SchemaFault(const std::string& violation, std::size_t line, std::size_t pos) {
  return Fault("ErrorSchemaValidation", "The request failed schema validation: " + violation,
               "The request failed schema validation.",
               "<t:LineNumber>" + std::to_string(line) + "</t:LineNumber><t:LinePosition>" +
                   std::to_string(pos) + "</t:LinePosition><t:Violation>" + Esc(violation) +
                   "</t:Violation>");
}

SoapReply InvalidRequestFault() {
  return Fault("ErrorInvalidRequest", "The request is invalid.", "The request is invalid.");
}

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

Error ProtocolError(std::string code, std::string message) {
  Error e;
  e.category = ErrorCategory::kProtocol;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

}  // namespace exo::mock_ews
