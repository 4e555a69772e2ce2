// Where EWS asks ExchangeAdmin whether the app may reach the impersonated mailbox, and how it
// answers when not: a bare HTTP 403 (exchange-admin.md §1.6, ews.md §3.1).
#pragma once

#include <optional>
#include <string>

#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/ews_auth.hpp"
#include "internal/soap.hpp"

namespace exo::mock_ews {

// nullopt: go on to throttling. Otherwise the refusal, annotated in the journal ("denied" = the
// EwsDenial, "front_end").
std::optional<SoapReply> AdmitToMailbox(ExchangeAdmin& admin, const EwsCaller& caller,
                                        const Mailbox& mailbox);

// Whether the app's service principal holds an `Application EWS.AccessAsApp` assignment in the
// newest configuration (any scope): the token check then leaves the decision to AdmitToMailbox.
bool HoldsEwsRbacGrant(const ExchangeAdmin& admin, const std::string& tenant_id,
                       const std::string& app_id);

}  // namespace exo::mock_ews
