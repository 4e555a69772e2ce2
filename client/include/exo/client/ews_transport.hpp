// MailboxTransport over EWS: SOAP over HTTPS with an app-only bearer token, ExchangeImpersonation
// and X-AnchorMailbox, for Exchange Online and Exchange Server on-premises.
#pragma once

#include <memory>
#include <string>

#include "exo/client/http.hpp"
#include "exo/client/mailbox_transport.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"

namespace exo::client {

struct EwsOptions {
  std::string url;      // https://outlook.office365.com/EWS/Exchange.asmx, or the on-premises one
  std::string mailbox;  // the SMTP address to impersonate
  std::string scope = "https://outlook.office365.com/.default";  // the token's audience
  std::string request_server_version = "Exchange2016";
  int fetch_batch = 50;  // GetItem ids per request
  // Exchange Online turns EWS off for good on this day ("no exceptions past April 2027"): from it a
  // 403 there is the retirement, not a policy to fix.
  SystemTime ews_retirement = std::chrono::sys_days{std::chrono::year{2027} / 4 / 1};
};

// A 401 gets one token refresh (TokenProvider::Invalidate) and one retry, then fails
// (kAuthentication). A bare 403 is kAuthorization "ErrorAccessDenied" whose remedy names the
// possible causes (ApplicationAccessPolicy, RBAC for Applications, the EWS app allow list, the
// licence) and that changes can take more than an hour to reach EWS; on Exchange Online from
// `ews_retirement` on, its remedy says first that EWS is retired there. ErrorServerBusy and 503 are
// kThrottled with retry_after from BackOffMilliseconds / Retry-After. Against an on-premises server
// (a scope that is not Exchange Online's), a refused app-only token is diagnosed for hybrid: 403 ->
// kAuthorization naming app-only OAuth on Exchange Server, 401 -> kAuthentication naming the
// audience; both, and AADSTS500011 for the scope, name the SPN the URL needs on the tenant's
// "Office 365 Exchange Online" service principal.
std::unique_ptr<MailboxTransport> MakeEwsTransport(EwsOptions options, TokenProvider& tokens,
                                                   HttpTransport& http, Clock& clock);

}  // namespace exo::client
