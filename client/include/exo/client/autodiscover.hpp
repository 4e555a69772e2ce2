// Finding a mailbox's EWS endpoint: Autodiscover v2 (JSON) first, then SOAP GetUserSettings,
// following redirects; a hybrid mailbox's on-premises URL and the token audience it needs.
#pragma once

#include <string>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// One request autodiscover made, and what came back, for the doctor and for errors.
struct AutodiscoverHop {
  std::string request;  // "GET https://…/autodiscover.json/v1.0/a@b?Protocol=EWS"
  std::string answer;   // "302 -> https://…", "200 Url=https://…", "RedirectAddress b@c"…
};

struct EwsEndpoint {
  std::string url;              // the EWS URL to use (EwsOptions::url)
  bool exchange_online = true;  // false: an Exchange Server on-premises (hybrid)
  // The token scope for the URL's audience (EwsOptions::scope): Exchange Online's
  // "https://outlook.office365.com/.default", or on-premises "<scheme>://<host>[:port]/.default",
  // which Entra issues only when that URL is an SPN of the tenant's Exchange Online principal.
  std::string token_scope;
  std::string mailbox;  // the address the answer is for (after RedirectAddress hops)
  std::string source;   // "v2 JSON" or "SOAP GetUserSettings"
  std::vector<AutodiscoverHop> hops;
};

struct AutodiscoverOptions {
  // Where v2 starts: {base_url}/autodiscover/autodiscover.json/v1.0/{smtp}?Protocol=EWS.
  std::string base_url = "https://outlook.office365.com";
  // The SOAP endpoint; empty: {base_url}/autodiscover/autodiscover.svc.
  std::string soap_url;
  // Requests per stage (v2 redirects, SOAP redirects) before giving up.
  int max_hops = 10;
  // Hosts ("host" or "host:port", case-insensitive) that are Exchange Online; their EWS URLs get
  // `exchange_online_scope`. Sovereign clouds and test servers add theirs.
  std::vector<std::string> exchange_online_hosts = {"outlook.office365.com", "outlook.office.com",
                                                    "autodiscover-s.outlook.com"};
  std::string exchange_online_scope = "https://outlook.office365.com/.default";
};

// Discovers `mailbox`'s EWS endpoint. SOAP requests carry a bearer token from `tokens` for the
// audience of the endpoint asked (none when `tokens` is null); v2 needs none. Errors: kNotFound
// "AutodiscoverFailed" or kConfiguration "AutodiscoverRedirectLoop" (a redirect came back to an
// address and server already asked, or the hop limit was reached), their message listing every
// hop and its answer; a token failure is returned as the TokenProvider gave it, remedy extended.
Result<EwsEndpoint> DiscoverEws(const std::string& mailbox, const AutodiscoverOptions& options,
                                HttpTransport& http, TokenProvider* tokens);

// The token scope for an EWS or autodiscover URL under `options` (see EwsEndpoint::token_scope).
std::string TokenScopeFor(const std::string& url, const AutodiscoverOptions& options);

}  // namespace exo::client
