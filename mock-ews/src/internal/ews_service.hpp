// The EWS SOAP facade over MailboxStore: envelope checks (size, DOCTYPE, XML, version,
// impersonation) and dispatch to the operations (reference ews.md §1, §2, §3.2).
#pragma once

#include <string>

#include "internal/ews_auth.hpp"
#include "internal/ews_ops.hpp"
#include "internal/soap.hpp"

namespace exo::mock_ews {

// Handles one authenticated request body for `caller`. Thread-safe (the store is).
SoapReply HandleSoap(const EwsContext& context, const EwsCaller& caller, const std::string& body);

}  // namespace exo::mock_ews
