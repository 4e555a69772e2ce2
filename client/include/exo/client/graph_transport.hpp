// MailboxTransport over Microsoft Graph v1.0: JSON over HTTPS with an app-only bearer token for
// Microsoft Graph, for Exchange Online mailboxes (Graph serves no on-premises mailbox: hybrid REST
// was blocked in March 2023). The replacement for EWS, which Exchange Online turns off on
// 2027-04-01. Written from Microsoft's Graph documentation, not from any mock.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "exo/client/http.hpp"
#include "exo/client/mailbox_transport.hpp"
#include "exo/client/token_provider.hpp"

namespace exo::client {

struct GraphOptions {
  // Where Graph is served, without the version: https://graph.microsoft.com, a national cloud's
  // (https://graph.microsoft.us), or a test server. "/v1.0" is appended.
  std::string base_url = "https://graph.microsoft.com";
  std::string mailbox;  // the SMTP address (user principal name) whose mail is read
  // The token's audience; empty: GraphScopeFor(base_url).
  std::string scope;
};

// The app-only scope for a Graph base URL: "<base>/.default" for Microsoft's Graph hosts (public
// and national clouds), "https://graph.microsoft.com/.default" for any other host (a test server
// stands in for the public cloud, as the harness's EWS stands in for outlook.office365.com).
std::string GraphScopeFor(std::string_view base_url);
// Whether a scope or URL names Microsoft Graph (its hosts, or its app id
// 00000003-0000-0000-c000-000000000000).
bool IsGraphScope(std::string_view scope);
// "/users/{mailbox}" with the address percent-encoded as one path segment ('@' kept); an address
// that begins with '$' becomes "/users('{mailbox}')", as Graph's user-get documentation asks.
std::string GraphUserPath(std::string_view mailbox);

// What the monitor's calls become (https://learn.microsoft.com/graph/api/...):
//   ResolveFolder  GET  /users/{m}/mailFolders/{well-known name}; a path ("Orders/Incoming") walks
//                  msgfolderroot's childFolders by displayName (case-insensitive), creating the
//                  missing ones with POST .../childFolders when asked to.
//   SyncFolder     GET  /users/{m}/mailFolders/{id}/messages/delta?$select=... with
//                  "Prefer: odata.maxpagesize"; the sync state is the @odata.nextLink (more) or
//                  @odata.deltaLink URL as Graph gave it (only its path and query are used: the
//                  token never leaves the configured host).
//   FetchMessages  GET  .../{id}/$value (the MIME); the properties come from the delta entry
//                  that reported the message, or from GET .../{id}?$select=... when none did.
//   MarkRead       PATCH /users/{m}/messages/{id} {"isRead":true}
//   Move           POST /users/{m}/messages/{id}/move {"destinationId":...} -> the new message's id
//   Delete         a move to deleteditems, as EWS's MoveToDeletedItems (Graph's DELETE would put
//                  it in Recoverable Items, out of the user's sight)
//   Reply          POST /users/{m}/messages/{id}/reply {"comment":...} (needs Mail.Send)
//   Watch          false: the monitor polls (change notifications need a public HTTPS endpoint).
//
// Delta entries: "@removed" -> kDeleted (id only). An entry in its standard representation (it
// carries receivedDateTime, which every message has and no update changes) -> kCreated: Graph
// does not say whether such an entry is new or changed, and calling a new message "changed" would
// lose it; the monitor's Message-ID key makes a repeat harmless ("replays" are documented). A
// partial entry is an update, since "updated instances are represented by their id with at least
// the properties that have been updated": with isRead and nothing else -> kReadFlagChanged,
// otherwise kUpdated. Entries of other types (meeting messages) are left out, as EWS leaves out
// MeetingRequest items.
//
// Errors carry Graph's own code (error.code, or the inner code Microsoft documents as more
// specific) and a category: 401 gets one token refresh and one retry, then kAuthentication;
// 403 ErrorAccessDenied is kAuthorization, its remedy naming the ApplicationAccessPolicy ("Access
// to OData is disabled.", or any 403 while the token has the needed role) or the missing
// application permission (Mail.ReadWrite; Mail.Send for Reply) and admin consent; 404
// MailboxNotEnabledForRESTAPI and ErrorInvalidUser are kNotFound naming the mailbox, the licence
// and on-premises; 410, syncStateNotFound and resyncRequired become "ErrorInvalidSyncStateData",
// the code on which the monitor starts again from an empty state; 429 (ApplicationThrottled) is
// kThrottled with retry_after from Retry-After; 5xx and transport failures are kTransient.
// Thread-compatible, like every MailboxTransport.
std::unique_ptr<MailboxTransport> MakeGraphTransport(GraphOptions options, TokenProvider& tokens,
                                                     HttpTransport& http);

}  // namespace exo::client
