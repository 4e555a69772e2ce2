// SOAP plumbing shared by every EWS operation: prefix-agnostic reading of request XML, escaping,
// and the envelopes Exchange Online answers with (reference ews.md §1): responses with
// ServerVersionInfo, faults at HTTP 500, response messages in Success or Error.
#pragma once

#include <functional>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "exo/common/result.hpp"

namespace exo::mock_ews {

inline constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kTypesNs = "http://schemas.microsoft.com/exchange/services/2006/types";
inline constexpr const char* kMessagesNs =
    "http://schemas.microsoft.com/exchange/services/2006/messages";
inline constexpr const char* kErrorsNs =
    "http://schemas.microsoft.com/exchange/services/2006/errors";

// One SOAP answer: HTTP status (200, or 500 for faults) and the XML body. A streaming answer
// (GetStreamingEvents) sets `stream` instead of `body`: the server calls it with a writer until
// it returns false; the writer returns false once the client has gone.
struct SoapReply {
  int status = 200;
  std::string body;
  std::function<bool(const std::function<bool(std::string_view)>& write)> stream;
};

// XML text with the five predefined entities escaped; characters XML 1.0 cannot carry dropped.
std::string Esc(std::string_view s);
// Element names without their prefix: requests use any prefix (s:, soap:, none).
std::string_view Local(const char* name);
// The first child element with local name `local`; empty if none.
pugi::xml_node Child(pugi::xml_node parent, std::string_view local);
pugi::xml_node FirstElement(pugi::xml_node parent);
// The element's text, surrounding white space trimmed.
std::string Text(pugi::xml_node n);
// xs:boolean in all its lexical forms ("1", "true"); nullopt for anything else.
std::optional<bool> ParseBool(std::string_view v);

// <h:ServerVersionInfo .../> as Exchange Online sends it.
std::string ServerVersionInfo();
// A successful response: `op`Response holding the given response messages.
SoapReply Response(std::string_view op, const std::string& messages);
// A request-level failure: HTTP 500, no s:Header (ews.md §1.4).
SoapReply Fault(const std::string& code, const std::string& faultstring, const std::string& message,
                const std::string& message_xml = {});
SoapReply SchemaFault(const std::string& violation, std::size_t line = 1, std::size_t pos = 1);
SoapReply InvalidRequestFault();

// The MessageText Exchange prints for a response code (ews.md §3.5); the error's own text else.
std::string MessageText(const Error& e);
// One response message: `op`ResponseMessage, Success with `payload`, or Error with the empty
// `empty_payload` element(s) the schema expects.
std::string SuccessMessage(std::string_view op, const std::string& payload);
std::string ErrorMessage(std::string_view op, const Error& e, const std::string& empty_payload);
// An Error with category kProtocol, `code` and `message`, for ErrorMessage.
Error ProtocolError(std::string code, std::string message);

}  // namespace exo::mock_ews
