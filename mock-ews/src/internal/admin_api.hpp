// Exchange Online PowerShell V3's REST transport on mock-ews: POST
// /adminapi/beta/{tenant}/InvokeCommand with {"CmdletInput":{"CmdletName","Parameters"}}, answered
// as the service answers the ExchangeOnlineManagement module (docs/research/exo-admin-api.md):
// OData JSON with @adminapi.warnings and paging, errors as OData errors with the cmdlet's
// exception, bearer tokens for https://outlook.office365.com from an Exchange admin user or an app
// with Exchange.ManageAsApp. docs/mock-ews.md "Admin API" lists what is inferred.
#pragma once

#include <cstdint>

#include "exo/common/clock.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "internal/ews_auth.hpp"

namespace exo::mock_ews {

// Registers the route (path in any letter case) on `server`. `tokens`, `admin`, `store` and
// `clock` must outlive the server; `seed` makes request ids and back-end names reproducible.
void RegisterAdminApi(mock::HttpServer& server, const TokenValidator& tokens, ExchangeAdmin& admin,
                      MailboxStore& store, Clock& clock, std::uint64_t seed);

}  // namespace exo::mock_ews
