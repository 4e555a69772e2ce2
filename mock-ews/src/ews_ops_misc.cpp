// ConvertId and ResolveNames.
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

// exchangelib's version probe: it needs only the ServerVersionInfo header, so every id answers
// ErrorInvalidIdMalformed (the mock converts no ids).
SoapReply ConvertIdOp(const Request&, pugi::xml_node op) {
  Error malformed;
  malformed.category = ErrorCategory::kProtocol;
  malformed.code = codes::kInvalidIdMalformed;
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "SourceIds")); id; id = id.next_sibling()) {
    if (id.type() == pugi::node_element) messages += ErrorMessage("ConvertId", malformed, "");
  }
  return Response("ConvertId", messages);
}

SoapReply ResolveNamesOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

}  // namespace exo::mock_ews
