// XML character data and attribute values as text: escaping for anything that writes XML by hand
// (SOAP envelopes on either side). Generic: no knowledge of any XML vocabulary.
#pragma once

#include <string>
#include <string_view>

namespace exo {

// `text` with & < > " ' escaped, safe in element content and in either quoting of an attribute.
// Control characters XML 1.0 cannot carry at all (below 0x20 except tab, LF, CR) are dropped
// rather than emitted, so the result is always well-formed.
std::string XmlEscape(std::string_view text);

}  // namespace exo
