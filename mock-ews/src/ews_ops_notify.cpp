// Subscribe (pull and streaming), GetEvents, GetStreamingEvents, Unsubscribe.
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

SoapReply SubscribeOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

SoapReply GetEventsOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

SoapReply GetStreamingEventsOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

SoapReply UnsubscribeOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

}  // namespace exo::mock_ews
