// CreateItem (Message, ReplyToItem, ForwardItem) and SendItem.
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

SoapReply CreateItemOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

SoapReply SendItemOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

}  // namespace exo::mock_ews
