// Autodiscover on the mock-ews listener (reference ews.md §4, docs/mock-ews.md "Autodiscover"):
// v2 JSON (GET /autodiscover/autodiscover.json, unauthenticated), SOAP GetUserSettings (POST
// /autodiscover/autodiscover.svc) and legacy POX (POST /autodiscover/autodiscover.xml), both with
// Exchange Online's bearer-token checks, and per-address redirects for hybrid mailboxes.
#pragma once

#include <memory>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_ews/mock_ews.hpp"
#include "internal/ews_auth.hpp"

namespace exo::mock {
class HttpServer;
}

namespace exo::mock_ews {

// The per-address redirects MockEws::SetAutodiscoverRedirect manages. Thread-safe.
class AutodiscoverRedirects {
 public:
  virtual ~AutodiscoverRedirects() = default;
  virtual Result<void> Set(const std::string& smtp, AutodiscoverRedirect target) = 0;
  virtual bool Clear(const std::string& smtp) = 0;
};

// Who answers autodiscover: Exchange Online (its own mailboxes are UserMSOnline) at the listener's
// URL, or an on-premises server that advertises its public URL.
struct AutodiscoverIdentity {
  bool exchange_online = true;
  std::string public_url;  // empty: the listener's base URL
};

// Registers the autodiscover routes and PUT/DELETE /_exo/autodiscover/{smtp} on `server` (before
// it starts). The routes and the returned handle share the component; every reference passed in
// must outlive the server.
std::shared_ptr<AutodiscoverRedirects> RegisterAutodiscover(mock::HttpServer& server,
                                                            const MailboxStore& store,
                                                            const TokenValidator& tokens,
                                                            Clock& clock,
                                                            AutodiscoverIdentity identity = {});

}  // namespace exo::mock_ews
