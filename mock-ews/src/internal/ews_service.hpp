// The EWS SOAP facade over MailboxStore: envelope checks (size, DOCTYPE, XML, version,
// impersonation), operation dispatch and schema-shaped responses (reference ews.md §1, §2, §3.2).
#pragma once

#include <string>

#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/ews_auth.hpp"

namespace exo::mock_ews {

// One SOAP answer: HTTP status (200, or 500 for faults) and the XML body.
struct SoapReply {
  int status = 200;
  std::string body;
};

// Handles one authenticated request body for `caller`. Thread-safe (the store is).
SoapReply HandleSoap(MailboxStore& store, const EwsCaller& caller, const std::string& body);

}  // namespace exo::mock_ews
