// MailboxTransport over Microsoft Graph v1.0, written from Microsoft's documentation
// (microsoftgraph/microsoft-graph-docs-contrib: api-reference/v1.0/api/message-delta.md,
// concepts/delta-query-messages.md, concepts/delta-query-overview.md, concepts/errors.md,
// concepts/throttling.md, message-move.md, message-reply.md, message-update.md,
// outlook-get-mime-message.md, user-get.md; Exchange's application-access-policies page) and
// independent of any mock, so that the two implementations check each other.
#include "exo/client/graph_transport.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "internal/folder_path.hpp"

namespace exo::client {

namespace {

using json = nlohmann::json;

// mailFolder's well-known folder names (resources/mailfolder.md).
constexpr const char* kWellKnown[] = {
    "archive",       "clutter",       "conflicts", "conversationhistory",
    "deleteditems",  "drafts",        "inbox",     "junkemail",
    "localfailures", "msgfolderroot", "outbox",    "recoverableitemsdeletions",
    "scheduled",     "searchfolders", "sentitems", "serverfailures",
    "syncissues"};

// Microsoft Graph's hosts: the public cloud and the national clouds.
constexpr const char* kGraphHosts[] = {"graph.microsoft.com", "graph.microsoft.us",
                                       "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"};
constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";

// What the monitor needs of a message, besides its MIME. receivedDateTime doubles as the mark
// of a delta entry in its standard representation (see ReadChange).
constexpr const char* kSelect =
    "id,internetMessageId,subject,from,receivedDateTime,isRead,changeKey";

// "https://host[:port]" of an absolute URL.
std::string Origin(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto path = url.find('/', scheme + 3);
  return std::string(path == std::string_view::npos ? url : url.substr(0, path));
}

// "/path?query" of an absolute URL ("/" when it has none).
std::string PathAndQuery(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto path = url.find('/', scheme + 3);
  return path == std::string_view::npos ? "/" : std::string(url.substr(path));
}

std::string HostOf(std::string_view url) {
  std::string origin = Origin(url);
  const auto scheme = origin.find("://");
  std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  if (auto colon = host.rfind(':');
      colon != std::string::npos && host.find(']') == std::string::npos) {
    host.resize(colon);
  }
  return AsciiLower(host);
}

// One path segment: RFC 3986 percent-encoding, keeping '@' (a pchar) so addresses read as such.
std::string Segment(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '@') {
      out += c;
    } else {
      out += PercentEncode(std::string_view(&c, 1));
    }
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// isRead is a boolean; Microsoft's own delta example prints it as the string "true".
bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && AsciiLower(it->get<std::string>()) == "true";
}

MailMessage ReadMessage(const json& j) {
  MailMessage m;
  m.id = Str(j, "id");
  m.change_key = Str(j, "changeKey");
  m.internet_message_id = Str(j, "internetMessageId");
  m.subject = Str(j, "subject");
  if (auto from = j.find("from"); from != j.end() && from->is_object()) {
    if (auto address = from->find("emailAddress"); address != from->end() && address->is_object()) {
      m.from = Str(*address, "address");
    }
  }
  m.is_read = Bool(j, "isRead");
  if (auto t = ParseIso8601(Str(j, "receivedDateTime"))) m.received = *t;
  return m;
}

// One delta entry as a FolderChange; nullopt for entries that are not mail to process.
std::optional<FolderChange> ReadChange(const json& entry) {
  if (!entry.is_object() || Str(entry, "id").empty()) return std::nullopt;
  FolderChange change;
  if (entry.contains("@removed")) {
    change.kind = FolderChange::Kind::kDeleted;
    change.message.id = Str(entry, "id");
    return change;
  }
  // eventMessage and its kinds are meeting traffic, which EWS reports as MeetingRequest (and the
  // EWS transport leaves out); no type annotation means the collection's own type, message.
  const std::string type = Str(entry, "@odata.type");
  if (!type.empty() && type != "#microsoft.graph.message") return std::nullopt;
  change.message = ReadMessage(entry);
  if (entry.contains("receivedDateTime")) {
    change.kind = FolderChange::Kind::kCreated;
    return change;
  }
  // A partial entry is an update (delta-query-overview.md: "Updated instances are represented by
  // their id with at least the properties that have been updated"); a new message always comes
  // whole.
  bool other = false;
  for (const auto& [key, value] : entry.items()) {
    if (key == "id" || key == "isRead" || key == "changeKey" || key.starts_with("@odata.")) {
      continue;
    }
    other = true;
  }
  change.kind = entry.contains("isRead") && !other ? FolderChange::Kind::kReadFlagChanged
                                                   : FolderChange::Kind::kUpdated;
  return change;
}

// Which application permission a request needs (permissions tables of each API page).
enum class Need { kRead, kWrite, kSend };

const char* NeedName(Need n) {
  switch (n) {
    case Need::kRead:
      return "Mail.Read";
    case Need::kWrite:
      return "Mail.ReadWrite";
    case Need::kSend:
      return "Mail.Send";
  }
  return "";
}

bool HasRole(const std::vector<std::string>& roles, Need need) {
  auto has = [&](const char* r) { return std::find(roles.begin(), roles.end(), r) != roles.end(); };
  switch (need) {
    case Need::kRead:
      return has("Mail.Read") || has("Mail.ReadWrite");
    case Need::kWrite:
      return has("Mail.ReadWrite");
    case Need::kSend:
      return has("Mail.Send");
  }
  return false;
}

struct Request {
  std::string method = "GET";
  std::string url;
  std::optional<json> body;
  Need need = Need::kRead;
  bool delta = false;     // a delta round: 410 and the sync-state codes mean "start again"
  bool item = false;      // addresses one message: a 404 is ErrorItemNotFound
  bool raw = false;       // $value: the answer is MIME, not JSON
  int max_page_size = 0;  // Prefer: odata.maxpagesize
};

// The error object of a Graph answer (concepts/errors.md): code, message, and the codes of the
// nested innerError objects, which "may be more specific".
struct GraphErrorBody {
  std::string code;
  std::string message;
  std::vector<std::string> inner_codes;
  std::string request_id;
};

GraphErrorBody ParseErrorBody(const std::string& body) {
  GraphErrorBody out;
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return out;
  const json& e = j["error"];
  out.code = Str(e, "code");
  out.message = Str(e, "message");
  const json* inner = &e;
  for (int depth = 0; depth < 8; ++depth) {
    const json* next = nullptr;
    for (const char* key : {"innerError", "innererror"}) {
      if (auto it = inner->find(key); it != inner->end() && it->is_object()) next = &*it;
    }
    if (!next) break;
    if (std::string c = Str(*next, "code"); !c.empty()) out.inner_codes.push_back(c);
    if (std::string id = Str(*next, "request-id"); !id.empty() && out.request_id.empty()) {
      out.request_id = id;
    }
    inner = next;
  }
  return out;
}

bool IsCode(const GraphErrorBody& b, std::string_view code) {
  if (AsciiIEquals(b.code, code)) return true;
  return std::any_of(b.inner_codes.begin(), b.inner_codes.end(),
                     [&](const std::string& c) { return AsciiIEquals(c, code); });
}

std::optional<Duration> RetryAfter(const HttpResponse& r) {
  const std::string v = r.Header("Retry-After");
  if (v.empty() || v.size() > 8 || !std::all_of(v.begin(), v.end(), ::isdigit)) return std::nullopt;
  return std::chrono::seconds(std::stol(v));
}

class GraphTransport final : public MailboxTransport {
 public:
  GraphTransport(GraphOptions options, TokenProvider& tokens, HttpTransport& http)
      : options_(std::move(options)), tokens_(tokens), http_(http) {
    while (options_.base_url.ends_with('/')) options_.base_url.pop_back();
    if (options_.scope.empty()) options_.scope = GraphScopeFor(options_.base_url);
    root_ = options_.base_url + "/v1.0" + GraphUserPath(options_.mailbox);
  }

  TransportInfo Info() const override {
    TransportInfo i;
    i.protocol = "Graph";
    i.endpoint = options_.base_url + "/v1.0";
    i.exchange_online = true;  // Graph serves Exchange Online mailboxes only
    i.messages_per_fetch = 1;   // a GET of $value per message: no batch read without JSON $batch
    return i;
  }

  Result<std::string> ResolveFolder(const std::string& name, bool create_if_missing) override {
    const std::string lower = AsciiLower(name);
    if (std::find(std::begin(kWellKnown), std::end(kWellKnown), lower) != std::end(kWellKnown)) {
      return FolderId(lower);
    }
    // A path of display names under the top of the information store ("Processed/2026"). The
    // well-known name serves as msgfolderroot's id in URLs.
    const std::vector<std::string> parts = SplitFolderPath(name);
    if (parts.empty()) return FolderId("msgfolderroot");
    std::string current = "msgfolderroot";
    for (const std::string& part : parts) {
      auto child = ChildFolder(current, part);
      if (!child) return child;
      if (child->empty()) {
        if (!create_if_missing) {
          return Fail(ErrorCategory::kNotFound, "ErrorFolderNotFound",
                      "the mailbox " + options_.mailbox + " has no folder '" + name + "'",
                      "create it, or name an existing folder in EmailIntegrationFolder / "
                      "EmailIntegrationDisposition");
        }
        auto created = CreateFolder(current, part);
        if (!created) return created;
        *child = *created;
      }
      current = *child;
    }
    return current;
  }

  Result<SyncPage> SyncFolder(const std::string& folder_id, const std::string& sync_state,
                              int max_changes) override {
    Request r;
    r.delta = true;
    r.max_page_size = std::clamp(max_changes, 1, 1000);
    if (sync_state.empty()) {
      // $select is given once: Graph encodes it into the nextLink and deltaLink.
      r.url = root_ + "/mailFolders/" + Segment(folder_id) + "/messages/delta?$select=" + kSelect;
    } else {
      if (!sync_state.starts_with("https://") && !sync_state.starts_with("http://")) {
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidSyncStateData",
                    "the sync state is not a Microsoft Graph delta link",
                    "none: the monitor resyncs the folder, handing nothing twice");
      }
      // The link's path and query on the configured host: the bearer token goes nowhere else.
      r.url = Origin(options_.base_url) + PathAndQuery(sync_state);
    }
    auto answer = SendJson(r);
    if (!answer) return std::unexpected(answer.error());
    const json& body = *answer;
    SyncPage page;
    const std::string next = Str(body, "@odata.nextLink");
    const std::string delta = Str(body, "@odata.deltaLink");
    if (next.empty() && delta.empty()) {
      return Fail(ErrorCategory::kProtocol, "InvalidDeltaResponse",
                  "the delta answer has neither @odata.nextLink nor @odata.deltaLink",
                  "check EmailIntegrationGraphUrl points at Microsoft Graph");
    }
    page.more = !next.empty();
    page.sync_state = page.more ? next : delta;
    if (auto v = body.find("value"); v != body.end() && v->is_array()) {
      for (const json& entry : *v) {
        auto change = ReadChange(entry);
        if (!change) continue;
        if (change->kind == FolderChange::Kind::kCreated && !entry.contains("internetMessageId")) {
          // The Message-ID is the monitor's key: never report a message without asking for it.
          auto full = GetMessage(change->message.id);
          if (!full) return std::unexpected(full.error());
          if (!*full) continue;  // gone meanwhile
          change->message = **full;
        }
        if (change->kind == FolderChange::Kind::kCreated && reported_.size() < kReportedCap) {
          reported_.emplace(change->message.id, change->message);
        }
        page.changes.push_back(std::move(*change));
      }
    }
    return page;
  }

  Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) override {
    std::vector<MailMessage> out;
    for (const std::string& id : ids) {
      // The delta entry carried the same $select: only the MIME is left to read. A message this
      // process did not see in a delta (a restart, a resync past the cap) is read in full.
      Result<std::optional<MailMessage>> message = std::optional<MailMessage>();
      if (auto it = reported_.find(id); it != reported_.end()) {
        message = std::optional<MailMessage>(std::move(it->second));
        reported_.erase(it);
      } else {
        message = GetMessage(id);
      }
      if (!message) return std::unexpected(message.error());
      if (!*message) continue;  // deleted or moved away meanwhile
      Request r;
      r.url = MessageUrl(id) + "/$value";
      r.item = true;
      r.raw = true;
      auto mime = Send(r);
      if (!mime && Gone(mime.error())) continue;
      if (!mime) return std::unexpected(mime.error());
      (*message)->mime = std::move(mime->body);
      (*message)->size = (*message)->mime.size();
      out.push_back(std::move(**message));
    }
    return out;
  }

  Result<void> MarkRead(const std::string& id) override {
    auto answer = Send(OnMessage("PATCH", id, "", json{{"isRead", true}}, Need::kWrite));
    if (!answer) return std::unexpected(answer.error());
    return {};
  }

  Result<std::string> Move(const std::string& id, const std::string& folder_id) override {
    auto answer =
        SendJson(OnMessage("POST", id, "/move", json{{"destinationId", folder_id}}, Need::kWrite));
    if (!answer) return std::unexpected(answer.error());
    // 201 Created with the message in its new folder, under its new id (message-move.md).
    std::string moved = Str(*answer, "id");
    if (moved.empty()) {
      return Fail(ErrorCategory::kProtocol, "InvalidMoveResponse",
                  "the move answer carries no message id");
    }
    return moved;
  }

  Result<void> Delete(const std::string& id) override {
    // To Deleted Items, as EWS's DeleteType MoveToDeletedItems: Graph's DELETE would put the
    // message out of the user's sight in Recoverable Items.
    auto moved = Move(id, "deleteditems");
    if (!moved) return std::unexpected(moved.error());
    return {};
  }

  Result<void> Reply(const std::string& id, const std::string& body_text) override {
    // 202 Accepted; the copy lands in Sent Items.
    auto answer = Send(OnMessage("POST", id, "/reply", json{{"comment", body_text}}, Need::kSend));
    if (!answer) return std::unexpected(answer.error());
    return {};
  }

  // Graph's change notifications need a public HTTPS endpoint for Graph to call (or Event
  // Hubs); a daemon behind a firewall polls the delta instead.
  Result<bool> Watch(const std::string&, std::function<void()>) override { return false; }
  void StopWatching() override {}

 private:
  std::string MessageUrl(const std::string& id) const { return root_ + "/messages/" + Segment(id); }

  // A change to one message: `method` on /messages/{id}{action} with a JSON body.
  Request OnMessage(const char* method, const std::string& id, const char* action, json body,
                    Need need) const {
    Request r;
    r.method = method;
    r.url = MessageUrl(id) + action;
    r.body = std::move(body);
    r.need = need;
    r.item = true;
    return r;
  }

  static bool Gone(const Error& e) {
    return e.code == "ErrorItemNotFound" || e.code == "ErrorInvalidIdMalformed";
  }

  Result<std::string> FolderId(const std::string& well_known) {
    Request r;
    r.url = root_ + "/mailFolders/" + well_known + "?$select=id,displayName";
    auto answer = SendJson(r);
    if (!answer) return std::unexpected(answer.error());
    std::string id = Str(*answer, "id");
    if (id.empty()) {
      return Fail(ErrorCategory::kProtocol, "InvalidFolderResponse",
                  "the mailFolder answer for " + well_known + " carries no id");
    }
    return id;
  }

  // The id of `parent`'s child folder named `name` (case-insensitive), or empty.
  Result<std::string> ChildFolder(const std::string& parent, const std::string& name) {
    Request r;
    r.url =
        root_ + "/mailFolders/" + Segment(parent) + "/childFolders?$select=id,displayName&$top=100";
    for (int pages = 0; pages < 1000; ++pages) {
      auto answer = SendJson(r);
      if (!answer) return std::unexpected(answer.error());
      if (auto v = answer->find("value"); v != answer->end() && v->is_array()) {
        for (const json& f : *v) {
          if (f.is_object() && AsciiLower(Str(f, "displayName")) == AsciiLower(name)) {
            return Str(f, "id");
          }
        }
      }
      const std::string next = Str(*answer, "@odata.nextLink");
      if (next.empty()) return std::string();
      r.url = Origin(options_.base_url) + PathAndQuery(next);
    }
    return std::string();
  }

  Result<std::string> CreateFolder(const std::string& parent, const std::string& name) {
    Request r;
    r.method = "POST";
    r.url = root_ + "/mailFolders/" + Segment(parent) + "/childFolders";
    r.body = json{{"displayName", name}};
    r.need = Need::kWrite;
    auto created = SendJson(r);
    if (!created && created.error().http_status == 409) {
      // Someone created it since we looked (ErrorFolderExists): use theirs.
      auto again = ChildFolder(parent, name);
      if (again && !again->empty()) return again;
    }
    if (!created) return std::unexpected(created.error());
    return Str(*created, "id");
  }

  // The message's properties (no MIME); nullopt when it no longer exists.
  Result<std::optional<MailMessage>> GetMessage(const std::string& id) {
    Request r;
    r.url = MessageUrl(id) + "?$select=" + kSelect;
    r.item = true;
    auto answer = SendJson(r);
    if (!answer && Gone(answer.error())) return std::optional<MailMessage>();
    if (!answer) return std::unexpected(answer.error());
    MailMessage m = ReadMessage(*answer);
    if (m.id.empty()) m.id = id;
    return std::optional<MailMessage>(std::move(m));
  }

  Result<json> SendJson(const Request& r) {
    auto answer = Send(r);
    if (!answer) return std::unexpected(answer.error());
    json body = json::parse(answer->body, nullptr, false);
    if (!body.is_object()) {
      return Fail(ErrorCategory::kProtocol, "InvalidJson",
                  "Microsoft Graph answered " + r.method + " " + PathAndQuery(r.url) +
                      " with HTTP " + std::to_string(answer->status) +
                      " and a body that is not a JSON object",
                  "check EmailIntegrationGraphUrl points at Microsoft Graph, not a proxy's page");
    }
    return body;
  }

  // One request: a token, the exchange, one token refresh after a 401; any status outside 2xx
  // becomes the Error for it.
  Result<HttpResponse> Send(const Request& r) {
    for (int attempt = 0;; ++attempt) {
      auto token = tokens_.Get(options_.scope);
      if (!token) return std::unexpected(token.error());
      HttpRequest req;
      req.method = r.method;
      req.url = r.url;
      req.headers.emplace("Authorization", "Bearer " + token->value.Reveal());
      if (!r.raw) req.headers.emplace("Accept", "application/json");
      if (r.max_page_size > 0) {
        req.headers.emplace("Prefer", "odata.maxpagesize=" + std::to_string(r.max_page_size));
      }
      if (r.body) {
        req.headers.emplace("Content-Type", "application/json");
        req.body = r.body->dump(-1, ' ', false, json::error_handler_t::replace);
      }
      auto res = http_.Send(req);
      if (!res) {
        Error e = res.error();
        e.message = "Microsoft Graph at " + Origin(r.url) + " is unreachable: " + e.message;
        if (e.remedy.empty()) {
          e.remedy =
              "check EmailIntegrationGraphUrl, the network path and proxy, and "
              "EmailIntegrationCaBundle for a TLS-inspecting proxy";
        }
        return std::unexpected(e);
      }
      if (res->status == 401 && attempt == 0) {
        // Revoked or rotated early: one fresh token, then give up.
        tokens_.Invalidate(options_.scope, token->value.Reveal());
        continue;
      }
      if (res->status >= 200 && res->status < 300) return res;
      Error e = Failure(*res, r, token->roles);
      if (e.code == "NoRoles") {
        // Consent granted since this token was issued reaches only a new one: asking again at
        // the next attempt (after the monitor's back-off) is how the monitor recovers within
        // minutes of the grant instead of at the token's expiry.
        tokens_.Invalidate(options_.scope, token->value.Reveal());
      }
      return std::unexpected(e);
    }
  }

  Error Failure(const HttpResponse& res, const Request& r, const std::vector<std::string>& roles) {
    const GraphErrorBody b = ParseErrorBody(res.body);
    Error e;
    e.http_status = res.status;
    e.code = b.code.empty() ? "HTTP " + std::to_string(res.status) : b.code;
    e.message = "Microsoft Graph answered HTTP " + std::to_string(res.status) +
                (b.code.empty() ? "" : " " + b.code) + " to " + r.method + " " +
                PathAndQuery(r.url).substr(0, PathAndQuery(r.url).find('?')) +
                (b.message.empty() ? "" : ": " + b.message) +
                (b.request_id.empty() ? "" : " (request-id " + b.request_id + ")");
    const std::string& mailbox = options_.mailbox;

    for (const char* code : {"MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI"}) {
      if (IsCode(b, code)) {
        e.code = code;
        e.category = ErrorCategory::kNotFound;
        e.remedy = "Microsoft Graph has no Exchange Online mailbox for " + mailbox +
                   ": it is inactive, soft-deleted, without an Exchange Online licence, or on "
                   "Exchange Server on-premises (Graph serves no on-premises mailbox). Check "
                   "EmailIntegrationMailbox and the licence; for an on-premises mailbox set "
                   "EmailIntegrationTransport to auto (or ews)";
        return e;
      }
    }
    if (r.delta &&
        (res.status == 410 || IsCode(b, "syncStateNotFound") || IsCode(b, "resyncRequired") ||
         IsCode(b, "syncStateInvalid") || IsCode(b, "ErrorInvalidSyncStateData"))) {
      // delta-query-overview.md: 410 Gone ("Synchronization reset") or a 40X with
      // syncStateNotFound when the token expired; errors.md: resyncRequired. The monitor knows
      // EWS's name for it and starts again from an empty state.
      e.code = "ErrorInvalidSyncStateData";
      e.category = ErrorCategory::kProtocol;
      e.remedy = "none: the monitor resyncs the folder, handing nothing twice";
      return e;
    }
    if (res.status == 429) {
      // concepts/throttling.md: wait Retry-After seconds. Outlook's limits are per app and
      // mailbox: 4 concurrent requests, 10,000 in 10 minutes.
      e.category = ErrorCategory::kThrottled;
      if (b.code.empty()) e.code = "ApplicationThrottled";
      e.retry_after = RetryAfter(res).value_or(std::chrono::seconds(30));
      e.remedy =
          "Microsoft Graph throttled the app for this mailbox (4 concurrent requests and "
          "10,000 per 10 minutes per app and mailbox); the client waits the Retry-After it "
          "was given";
      return e;
    }
    if (res.status >= 500) {
      e.category = ErrorCategory::kTransient;
      e.retry_after = RetryAfter(res);
      e.remedy = "Microsoft Graph is unavailable for now; the client retries with back-off";
      return e;
    }
    if (res.status == 401) {
      e.category = ErrorCategory::kAuthentication;
      if (b.code.empty()) e.code = "InvalidAuthenticationToken";
      e.remedy = "Microsoft Graph rejected a fresh token: check that it is for " +
                 options_.scope.substr(0, options_.scope.size() - 9) +
                 " (EmailIntegrationGraphUrl), EmailIntegrationTenantId, and this machine's clock";
      return e;
    }
    if (res.status == 403) {
      e.category = ErrorCategory::kAuthorization;
      if (b.code.empty() || AsciiIEquals(b.code, "accessDenied")) e.code = "ErrorAccessDenied";
      const bool odata_disabled =
          b.message.find("Access to OData is disabled") != std::string::npos;
      if (!odata_disabled && !HasRole(roles, r.need)) {
        // EWS's name for the same setup gap (a token without application roles that no RBAC
        // for Applications assignment covers either), so the doctor and runbooks read one code.
        e.code = "NoRoles";
        std::string held;
        for (const auto& role : roles) held += (held.empty() ? "" : ", ") + role;
        e.remedy = std::string("the token for Microsoft Graph carries no ") + NeedName(r.need) +
                   (r.need == Need::kRead ? " or Mail.ReadWrite" : "") +
                   " (roles: " + (held.empty() ? "none" : held) +
                   "): add the Microsoft Graph application permission " +
                   (r.need == Need::kSend ? "Mail.Send" : "Mail.ReadWrite") +
                   " to the app registration (seed step 2.2, as full_access_as_app is for EWS) "
                   "and grant admin consent (seed step 2.3); new tokens carry it within "
                   "minutes. With RBAC for Applications instead, assign the Exchange role "
                   "Application " +
                   (r.need == Need::kSend ? "Mail.Send" : "Mail.ReadWrite") +
                   " with a scope that contains " + mailbox;
        return e;
      }
      // "Access to OData is disabled." is what an ApplicationAccessPolicy (and the organization's
      // user-agent block list, which also applies to REST) answers (application-access-policies;
      // auth-limit-mailbox-access.md).
      e.remedy = "Microsoft Graph refused this app for " + mailbox +
                 ": an ApplicationAccessPolicy restricts the app to a group that does not contain "
                 "the mailbox (seed step 5.7). Add the mailbox to the group of the "
                 "ApplicationAccessPolicy (New-ApplicationAccessPolicy -AppId <app> "
                 "-PolicyScopeGroupId <group> -AccessRight RestrictAccess; check with "
                 "Test-ApplicationAccessPolicy -Identity " +
                 mailbox +
                 " -AppId <app>) and wait: a change can take more than an hour to reach "
                 "Microsoft Graph, even when Test-ApplicationAccessPolicy already says Granted. "
                 "Also check an RBAC for Applications scope and the organization's user-agent "
                 "block list (EwsApplicationAccessPolicy/EwsBlockList), which applies to REST too";
      return e;
    }
    if (res.status == 404) {
      e.category = ErrorCategory::kNotFound;
      if (IsCode(b, "ErrorInvalidUser") || (!r.item && IsCode(b, "ResourceNotFound"))) {
        e.remedy = "the tenant has no user " + mailbox +
                   ": check EmailIntegrationMailbox (seed step 6; the mailbox's primary SMTP "
                   "address or user principal name)";
        return e;
      }
      if (r.item) {
        // Moved or deleted by someone else: the monitor records the message as done.
        e.code = "ErrorItemNotFound";
        return e;
      }
      if (b.code.empty()) e.code = "ErrorFolderNotFound";
      return e;
    }
    if (res.status == 400 && IsCode(b, "ErrorInvalidIdMalformed")) {
      // An id another transport or server issued: the next sync gives the message its id here.
      e.code = "ErrorInvalidIdMalformed";
      e.category = ErrorCategory::kProtocol;
      return e;
    }
    e.category = ErrorCategory::kProtocol;
    e.remedy = "an unexpected answer from Microsoft Graph; check EmailIntegrationGraphUrl";
    return e;
  }

  GraphOptions options_;
  TokenProvider& tokens_;
  HttpTransport& http_;
  std::string root_;  // {base}/v1.0/users/{mailbox}
  // Messages a delta page reported as new, by id, until FetchMessages reads their MIME: their
  // properties then need no GET of their own, which is a third of Graph's requests per message
  // (and of Outlook's 10,000 per 10 minutes). Capped: past it, a message is read in full.
  static constexpr std::size_t kReportedCap = 4096;
  std::unordered_map<std::string, MailMessage> reported_;
};

}  // namespace

std::string GraphScopeFor(std::string_view base_url) {
  const std::string host = HostOf(base_url);
  for (const char* h : kGraphHosts) {
    if (host == h) return "https://" + host + "/.default";
  }
  return "https://graph.microsoft.com/.default";
}

bool IsGraphScope(std::string_view scope) {
  if (AsciiLower(scope).starts_with(kGraphAppId)) return true;
  if (scope.find("://") == std::string_view::npos) return false;
  const std::string host = HostOf(scope);
  return std::any_of(std::begin(kGraphHosts), std::end(kGraphHosts),
                     [&](const char* h) { return host == h; });
}

std::string GraphUserPath(std::string_view mailbox) {
  if (mailbox.starts_with('$')) {
    // user-get.md: "If the userPrincipalName begins with a $ character, remove the slash (/)
    // after /users and enclose the userPrincipalName in parentheses and single quotes".
    std::string quoted;
    for (char c : mailbox) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return "/users('" + Segment(quoted) + "')";
  }
  return "/users/" + Segment(mailbox);
}

std::unique_ptr<MailboxTransport> MakeGraphTransport(GraphOptions options, TokenProvider& tokens,
                                                     HttpTransport& http) {
  return std::make_unique<GraphTransport>(std::move(options), tokens, http);
}

}  // namespace exo::client
