// How the EWS facade answers what ThrottlingPolicy decided (reference ews.md §3.4), and its
// answers to requests that are not SOAP at all: a wrong Content-Type, GET, and the bounds on the
// XML it will walk.
#pragma once

#include <cstddef>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "exo/mock_ews/throttling.hpp"
#include "internal/soap.hpp"

namespace exo::mock_ews {

// Deeper request XML is refused with ErrorSchemaValidation before any operation walks it
// ([infer]: Exchange's own limit is not published; real requests nest about 15 deep).
inline constexpr std::size_t kMaxXmlDepth = 128;

// The answer to a refused SOAP request of operation `op` (fault or response message), with its
// journal annotations ("throttle", "throttle.back_off_ms"). Never for kHttp503: see
// UnavailableBody.
SoapReply ThrottledReply(const ThrottlingPolicy::Decision& d, std::string_view op);
// Annotates the journal entry with an early arrival, if the decision noted one.
void AnnotateEarly(const ThrottlingPolicy::Decision& d);

// The body of the HTTP 503 IIS answers while requests queue (HTTP.sys's page; [infer] its text).
std::string UnavailableBody();

// Whether `content_type` is one EWS's SOAP 1.1 endpoint accepts: text/xml, charset absent or
// UTF-8/UTF-16 ([infer] from WCF's text encoder, which EWS runs on).
bool IsSoapContentType(std::string_view content_type);
// WCF's refusal text for another type, which it sends as the 415 reason phrase [obs
// sherlock1982/ews-managed-api#32].
std::string ContentTypeRefusal(std::string_view content_type);

// The service page WCF shows for GET on the endpoint after authentication [obs davmail#106, on
// premises; EXO inferred].
std::string ServicePage(std::string_view base_url);

// The depth of the deepest element under `root`, walked without recursion; stops counting at
// `limit + 1`.
std::size_t XmlDepth(pugi::xml_node root, std::size_t limit);

}  // namespace exo::mock_ews
