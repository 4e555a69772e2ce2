// Microsoft Graph mail on mock-ews (/v1.0/users/{id|upn}/...): the same mailbox store and the
// same ExchangeAdmin policy engine as EWS, answered as graph.microsoft.com answers app-only
// clients. docs/mock-ews.md "Microsoft Graph mail" lists the endpoints, the wire facts and their
// sources.
#pragma once

#include <cstdint>
#include <memory>

#include "exo/common/clock.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/graph_throttling.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "internal/ews_auth.hpp"

namespace exo::mock_ews {

struct GraphMailDeps {
  MailboxStore& store;
  ExchangeAdmin& admin;
  const TokenValidator& tokens;
  GraphThrottling& throttling;
  Clock& clock;
  std::uint64_t seed = 1;                    // request ids and the delta-token key
  std::size_t delta_cache_capacity = 10000;  // delta rounds remembered [infer]
};

// Registers GET/POST/PATCH/DELETE /v1.0/... and the control routes GET/PUT
// /_exo/graph/throttling, POST /_exo/graph/throttling/reset on `server`. Everything in `deps`
// must outlive the server; the returned handle keeps the facade alive and must too.
std::shared_ptr<void> RegisterGraphMail(mock::HttpServer& server, GraphMailDeps deps);

}  // namespace exo::mock_ews
