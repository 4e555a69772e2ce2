// The client's own reading and writing of EWS SOAP (independent of mock-ews by design): envelope
// building with escaping, prefix-agnostic lookups, and response messages and faults as Errors.
#pragma once

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/result.hpp"

namespace exo::client::ews {

inline constexpr const char* kTypes = "http://schemas.microsoft.com/exchange/services/2006/types";
inline constexpr const char* kMessages =
    "http://schemas.microsoft.com/exchange/services/2006/messages";

std::string Escape(std::string_view text);
std::string_view LocalName(const char* qualified);
// The first descendant element (depth first) with local name `name`.
pugi::xml_node Find(pugi::xml_node root, std::string_view name);
// The direct children with local name `name`.
std::vector<pugi::xml_node> Children(pugi::xml_node parent, std::string_view name);
pugi::xml_node Child(pugi::xml_node parent, std::string_view name);

// A full request envelope impersonating `mailbox`.
std::string Envelope(const std::string& version, const std::string& mailbox,
                     const std::string& body);

// A parsed 200 answer: the operation's response messages in order.
struct Answer {
  pugi::xml_document doc;
  std::vector<pugi::xml_node> messages;  // *ResponseMessage elements
  std::string server_version;            // ServerVersionInfo Version, or Major.Minor
};

// An Error for a response message whose ResponseClass is Error (nullopt for Success/Warning):
// ResponseCode as code, MessageText as message, BackOffMilliseconds as retry_after; the category
// decided by the code (ErrorServerBusy: throttled; ErrorItemNotFound: not found; ...).
std::optional<Error> MessageError(pugi::xml_node message);
// Reads an HTTP answer of EWS: 200 -> Answer; 500 with a SOAP fault -> its Error; other statuses
// -> the Error with the status's meaning (401, 403, 503 with Retry-After...).
Result<std::unique_ptr<Answer>> ReadAnswer(const HttpResponse& response,
                                           const std::string& mailbox);
// The category and remedy for an EWS code (fault or message).
Error CodeError(const std::string& code, const std::string& message, int http_status,
                const std::string& mailbox);

// Whether a token scope names Exchange Online (its URI or app id) rather than an on-premises
// server's own URL.
bool IsExchangeOnlineScope(const std::string& scope);
// Re-explains a failure of an on-premises server (`url`, tokens for `scope`): a 401/403 refusal of
// the app-only token or an Entra error for the on-premises audience gets the category and a remedy
// naming app-only OAuth on Exchange Server, the SPN on the Exchange Online service principal and
// the audience. Other errors come back unchanged.
Error ExplainOnPremises(Error e, const std::string& url, const std::string& scope);

}  // namespace exo::client::ews
