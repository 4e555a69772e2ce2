// The Graph mail facade's pipeline, one list of small checks each with the real service's answer:
// the bearer token, the route, the user (mailbox, on-premises mail user or nobody), the access
// decision of ExchangeAdmin (access policies, RBAC for Applications, their propagation), the
// Outlook throttling limits, then the operation. Errors use Graph's shape
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
#include <strings.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/journal.hpp"
#include "exo/mock_kit/jwt.hpp"
#include "internal/graph_mail.hpp"
#include "internal/graph_ops.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

namespace {

using graph::GraphCall;
using graph::GraphError;
using graph::GraphReply;
using graph::ojson;
using internal::AsciiIEquals;
using nlohmann::json;

// Microsoft Graph's application id, one of the audiences its tokens carry.
constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";
// The OData answer type Graph sends with JSON bodies.
constexpr const char* kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
// Graph's error answers as captured (Mailozaurr GraphApiErrorParser sample, a 404 from
// /users/{upn}/sendMail): the same type, written with spaces.
constexpr const char* kODataErrorJson =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; "
    "charset=utf-8";
// Graph's 401 challenge (Microsoft's Key Vault developer guide quotes it for graph.microsoft.com;
// the same parameters lead every CAE challenge, e.g. msgraph-sdk-javascript's tests).
constexpr const char* kChallenge =
    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/"
    "authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
// The shape of x-ms-ags-diagnostic in every capture; the values are one front end's [infer].
constexpr const char* kDiagnostic =
    "{\"ServerInfo\":{\"DataCenter\":\"West Europe\",\"Slice\":\"E\",\"Ring\":\"5\","
    "\"ScaleUnit\":\"003\",\"RoleInstance\":\"AM2PEPF0001C6E2\"}}";

// Permissions any one of which an operation accepts (the permissions tables of
// mailfolder-get.md, message-get.md, message-update.md, message-move.md, message-delete.md,
// message-reply.md, user-sendmail.md).
const std::vector<std::string> kFolderRead = {"Mail.ReadBasic.All", "Mail.ReadBasic", "Mail.Read",
                                              "Mail.ReadWrite"};
const std::vector<std::string> kMailRead = {"Mail.Read", "Mail.ReadWrite"};
const std::vector<std::string> kMailWrite = {"Mail.ReadWrite"};
const std::vector<std::string> kMailSend = {"Mail.Send"};

// ---- Routes ----

enum class Op {
  kGetFolder,
  kListMessages,
  kDelta,
  kGetMessage,
  kGetMime,
  kUpdateMessage,
  kDeleteMessage,
  kMoveMessage,
  kReply,
  kSendMail,
  kListChildFolders,
  kCreateChildFolder,
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kGetFolder:
      return "graph.mailFolder.get";
    case Op::kListMessages:
      return "graph.messages.list";
    case Op::kDelta:
      return "graph.messages.delta";
    case Op::kGetMessage:
      return "graph.message.get";
    case Op::kGetMime:
      return "graph.message.value";
    case Op::kUpdateMessage:
      return "graph.message.update";
    case Op::kDeleteMessage:
      return "graph.message.delete";
    case Op::kMoveMessage:
      return "graph.message.move";
    case Op::kReply:
      return "graph.message.reply";
    case Op::kSendMail:
      return "graph.user.sendMail";
    case Op::kListChildFolders:
      return "graph.mailFolder.childFolders.list";
    case Op::kCreateChildFolder:
      return "graph.mailFolder.childFolders.create";
  }
  return "graph";
}

const std::vector<std::string>& PermissionsOf(Op op) {
  switch (op) {
    case Op::kGetFolder:
    case Op::kListChildFolders:
      return kFolderRead;
    case Op::kCreateChildFolder:
    case Op::kUpdateMessage:
    case Op::kDeleteMessage:
    case Op::kMoveMessage:
      return kMailWrite;
    case Op::kReply:
    case Op::kSendMail:
      return kMailSend;
    default:
      return kMailRead;
  }
}

// A path segment: "mailFolders", "inbox", or the OData key form "mailFolders('inbox')".
struct Segment {
  std::string name;
  std::optional<std::string> key;
};

std::vector<Segment> SplitPath(std::string_view path) {
  std::vector<Segment> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string seg = graph::PercentDecode(path.substr(pos, slash - pos), false);
    pos = slash + 1;
    if (seg.empty()) continue;
    Segment s;
    const std::size_t open = seg.find("('");
    if (open != std::string::npos && seg.size() >= open + 4 && seg.ends_with("')")) {
      s.name = seg.substr(0, open);
      s.key = seg.substr(open + 2, seg.size() - open - 4);
    } else {
      s.name = seg;
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool Is(const Segment& s, std::string_view name) {
  return !s.key && (AsciiIEquals(s.name, name) ||
                    AsciiIEquals(s.name, "microsoft.graph." + std::string(name)) ||
                    AsciiIEquals(s.name, std::string(name) + "()") ||
                    AsciiIEquals(s.name, "microsoft.graph." + std::string(name) + "()"));
}

struct Route {
  Op op = Op::kGetFolder;
  bool me = false;
  std::string user_key;
  std::string folder;
  std::string message_id;
};

GraphError NoSegment(const std::string& name) {
  return graph::BadRequest("Resource not found for the segment '" + name + "'.");
}

// Reads the segments after /v1.0/. Unknown segments: 400 "Resource not found for the segment";
// a known resource with a method it does not take: 405 [infer the body].
std::optional<GraphError> ParseRoute(const std::string& method, const std::vector<Segment>& segs,
                                     Route& r) {
  std::size_t i = 0;
  if (segs.empty()) return NoSegment("");
  if (AsciiIEquals(segs[0].name, "me") && !segs[0].key) {
    r.me = true;
    i = 1;
  } else if (AsciiIEquals(segs[0].name, "users")) {
    if (segs[0].key) {
      r.user_key = *segs[0].key;
      i = 1;
    } else if (segs.size() > 1) {
      r.user_key = segs[1].name;
      i = 2;
    } else {
      return graph::BadRequest("Unsupported request: the collection of users is not served.");
    }
  } else {
    return NoSegment(segs[0].name);
  }
  auto take_key = [&](std::string& out) -> bool {
    if (segs[i].key) {
      out = *segs[i].key;
      ++i;
      return true;
    }
    if (i + 1 < segs.size()) {
      out = segs[i + 1].name;
      i += 2;
      return true;
    }
    ++i;
    return false;
  };
  auto method_is = [&](const char* m) { return method == m; };
  auto unsupported = [&]() {
    return GraphError{405,
                      "BadRequest",
                      "The HTTP method '" + method + "' is not supported on this resource.",
                      {}};
  };
  if (i == segs.size()) {
    return graph::BadRequest("Unsupported request: reading the user is not served here.");
  }
  if (Is(segs[i], "sendMail")) {
    if (i + 1 != segs.size()) return NoSegment(segs[i + 1].name);
    if (!method_is("POST")) return unsupported();
    r.op = Op::kSendMail;
    return std::nullopt;
  }
  bool in_folder = false;
  if (AsciiIEquals(segs[i].name, "mailFolders")) {
    in_folder = true;
    const bool has_key = segs[i].key || i + 1 < segs.size();
    if (!has_key)
      return graph::BadRequest("Unsupported request: listing mail folders is not served.");
    take_key(r.folder);
    if (i == segs.size()) {
      if (!method_is("GET")) return unsupported();
      r.op = Op::kGetFolder;
      return std::nullopt;
    }
    if (AsciiIEquals(segs[i].name, "childFolders") && !segs[i].key && i + 1 == segs.size()) {
      if (method_is("GET")) {
        r.op = Op::kListChildFolders;
      } else if (method_is("POST")) {
        r.op = Op::kCreateChildFolder;
      } else {
        return unsupported();
      }
      return std::nullopt;
    }
  }
  if (!AsciiIEquals(segs[i].name, "messages")) return NoSegment(segs[i].name);
  // messages, messages/delta, messages/{id}[/$value|/move|/reply]
  if (!segs[i].key && i + 1 == segs.size()) {
    if (!method_is("GET")) return unsupported();
    r.op = Op::kListMessages;
    return std::nullopt;
  }
  if (!segs[i].key && Is(segs[i + 1], "delta")) {
    if (i + 2 != segs.size()) return NoSegment(segs[i + 2].name);
    if (!in_folder) {
      // Delta is a per-folder function (delta-query-messages.md) [infer the wording].
      return graph::BadRequest(
          "Unsupported request: Change tracking is not supported against "
          "'microsoft.graph.message'.");
    }
    if (!method_is("GET")) return unsupported();
    r.op = Op::kDelta;
    return std::nullopt;
  }
  take_key(r.message_id);
  if (i == segs.size()) {
    if (method_is("GET")) {
      r.op = Op::kGetMessage;
    } else if (method_is("PATCH")) {
      r.op = Op::kUpdateMessage;
    } else if (method_is("DELETE")) {
      r.op = Op::kDeleteMessage;
    } else {
      return unsupported();
    }
    return std::nullopt;
  }
  if (i + 1 != segs.size()) return NoSegment(segs[i + 1].name);
  if (segs[i].name == "$value" && !segs[i].key) {
    if (!method_is("GET")) return unsupported();
    r.op = Op::kGetMime;
    return std::nullopt;
  }
  if (Is(segs[i], "move") || Is(segs[i], "reply")) {
    if (!method_is("POST")) return unsupported();
    r.op = Is(segs[i], "move") ? Op::kMoveMessage : Op::kReply;
    return std::nullopt;
  }
  return NoSegment(segs[i].name);
}

// ---- The caller ----

struct GraphCaller {
  std::string tenant_id;
  std::string app_id;
  bool app_only = true;
  std::vector<std::string> permissions;  // roles (app-only) or scp (delegated)
  std::string user_oid;                  // delegated: the signed-in user
  std::string user_upn;
};

std::vector<std::string> StringsOf(const json& claims, const char* name) {
  std::vector<std::string> out;
  if (!claims.contains(name)) return out;
  const json& v = claims[name];
  if (v.is_array()) {
    for (const auto& s : v) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
  } else if (v.is_string()) {  // scp is one space-separated string
    std::string s = v.get<std::string>();
    std::size_t pos = 0;
    while (pos < s.size()) {
      std::size_t space = s.find(' ', pos);
      if (space == std::string::npos) space = s.size();
      if (space > pos) out.push_back(s.substr(pos, space - pos));
      pos = space + 1;
    }
  }
  return out;
}

// The message Graph gives each token fault, 401 InvalidAuthenticationToken: microsoft-graph-docs
// #16208 for the audience; "Signature is invalid." as observed on Graph mail endpoints (Microsoft
// Q&A 5841715, wazuh/wazuh-documentation#7620); Microsoft.IdentityModel's IDX14100 and IDX14120 for
// a token without dots and with one (the latter observed from Graph for a token of another
// provider); mock-aad's Graph subset for the lifetime; the issuer's wording is [infer].
// `dots`: how many the token has.
std::string TokenFaultMessage(TokenFault fault, std::size_t dots) {
  constexpr const char* kCompactFormats =
      "\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): "
      "'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): "
      "'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector."
      "EncodedCiphertext.EncodedAuthenticationTag'.";
  switch (fault) {
    case TokenFault::kMissing:
      return "Access token is empty.";
    case TokenFault::kMalformed:
      if (dots == 1) {
        return std::string("IDX14120: JWT is not well formed, there is only one dot (.).") +
               kCompactFormats;
      }
      return std::string("IDX14100: JWT is not well formed, there are no dots (.).") +
             kCompactFormats;
    case TokenFault::kSignature:
      return "Signature is invalid.";
    case TokenFault::kExpired:
      return "Lifetime validation failed, the token is expired.";
    case TokenFault::kNotYetValid:
      return "Lifetime validation failed, the token is not yet valid.";
    case TokenFault::kAudience:
      return "Access token validation failure. Invalid audience.";
    case TokenFault::kIssuer:
    case TokenFault::kTenant:
      return "Access token validation failure. Invalid issuer.";
  }
  return "Access token validation failure.";
}

// ---- The service ----

class GraphService {
 public:
  GraphService(mock::HttpServer& server, GraphMailDeps deps)
      : server_(server),
        deps_(std::move(deps)),
        random_(deps_.seed ^ 0x6772617068ULL),
        delta_(random_.Bytes(32), deps_.delta_cache_capacity) {}

  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::string request_id;
    {
      std::lock_guard lock(random_mu_);
      request_id = random_.Uuid();
    }
    std::string client_request_id = req.get_header_value("client-request-id");
    if (client_request_id.empty()) client_request_id = request_id;
    GraphReply reply;
    try {
      reply = Serve(req);
    } catch (const std::exception& e) {
      // A body whose values have the wrong JSON types (nlohmann's type errors) [infer the text].
      reply = GraphReply::Fail(graph::BadRequest(
          std::string("Unable to read JSON request payload. Please ensure Content-Type header is "
                      "set and payload is of valid JSON format. (") +
          e.what() + ")"));
    }
    Send(res, reply, request_id, client_request_id);
  }

  GraphThrottling& throttling() { return deps_.throttling; }

 private:
  GraphReply Serve(const httplib::Request& req) {
    mock::Annotate("operation", "graph");
    // The token first: Graph authenticates before it looks at the resource.
    GraphCaller caller;
    if (auto refused = Authenticate(req, caller)) return *refused;
    mock::Annotate("tenant", caller.tenant_id);
    mock::Annotate("client_id", caller.app_id);

    const std::string target = req.target.empty() ? req.path : req.target;
    const std::size_t question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string raw_query =
        question == std::string::npos ? std::string() : target.substr(question + 1);
    constexpr std::string_view kVersion = "/v1.0/";
    std::vector<Segment> segs = SplitPath(std::string_view(path).substr(kVersion.size()));
    Route route;
    if (auto bad = ParseRoute(req.method, segs, route)) return GraphReply::Fail(*bad);
    mock::Annotate("operation", OpName(route.op));

    // The user.
    std::string user_path;
    if (route.me) {
      if (caller.app_only) {
        return GraphReply::Fail(
            graph::BadRequest("/me request is only valid with delegated authentication flow."));
      }
      route.user_key = caller.user_oid;
      user_path = "me";
    } else {
      user_path = "users/" + PercentEncode(route.user_key);
    }
    GraphError refusal;
    std::optional<Mailbox> mailbox = FindMailbox(caller, route.user_key, refusal);
    if (!mailbox) return GraphReply::Fail(refusal);

    // Authorization, as the Graph front end serving the request believes it now.
    if (auto denied = Authorize(caller, *mailbox, PermissionsOf(route.op))) {
      return GraphReply::Fail(*denied);
    }

    // Throttling: per app and mailbox.
    GraphThrottling::Decision admission =
        deps_.throttling.Admit(caller.app_id, mailbox->object_guid);
    if (admission.early) {
      mock::Annotate(
          "throttle.early_retry",
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(*admission.early).count()));
    }
    if (!admission.admitted()) {
      const bool concurrency = admission.reason == GraphThrottleReason::kConcurrency;
      mock::Annotate("throttle", concurrency ? "MailboxConcurrency" : "MailboxRequestRate");
      // "Application is over its MailboxConcurrency limit." [obs: magodo/terraform-provider-outlook
      // #21, alcionai/corso#3695]; the rate limit's text follows its pattern [infer].
      GraphError e{429,
                   "ApplicationThrottled",
                   concurrency ? "Application is over its MailboxConcurrency limit."
                               : "Application is over its MailboxRequestRate limit.",
                   {{"Retry-After", std::to_string(admission.retry_after_seconds)}}};
      return GraphReply::Fail(e);
    }
    if (admission.hold.count() > 0) deps_.clock.SleepFor(admission.hold);

    GraphCall call{deps_.store,
                   deps_.clock,
                   delta_,
                   *mailbox,
                   server_.base_url(),
                   user_path,
                   route.user_key,
                   route.folder,
                   route.message_id,
                   graph::ParseQuery(raw_query),
                   raw_query,
                   req.body,
                   JoinedHeader(req, "Prefer"),
                   {}};
    GraphReply reply = Dispatch(route.op, call);
    if (!call.outbound.empty()) {
      std::string joined;
      for (const auto& a : call.outbound) joined += (joined.empty() ? "" : ",") + a;
      mock::Annotate("outbound", joined);
    }
    return reply;
  }

  static std::string JoinedHeader(const httplib::Request& req, const char* name) {
    std::string out;
    const std::size_t n = req.get_header_value_count(name);
    for (std::size_t k = 0; k < n; ++k) {
      if (!out.empty()) out += ", ";
      out += req.get_header_value(name, k);
    }
    return out;
  }

  GraphReply Dispatch(Op op, GraphCall& call) {
    switch (op) {
      case Op::kGetFolder:
        return graph::GetMailFolder(call);
      case Op::kListMessages:
        return graph::ListMessages(call);
      case Op::kDelta:
        return graph::MessageDelta(call);
      case Op::kGetMessage:
        return graph::GetMessage(call);
      case Op::kGetMime:
        return graph::GetMessageMime(call);
      case Op::kUpdateMessage:
        return graph::UpdateMessage(call);
      case Op::kDeleteMessage:
        return graph::DeleteMessage(call);
      case Op::kMoveMessage:
        return graph::MoveMessage(call);
      case Op::kReply:
        return graph::ReplyToMessage(call);
      case Op::kSendMail:
        return graph::SendMail(call);
      case Op::kListChildFolders:
        return graph::ListChildFolders(call);
      case Op::kCreateChildFolder:
        return graph::CreateChildFolder(call);
    }
    return GraphReply::Fail(graph::BadRequest("Unsupported request."));
  }

  std::optional<GraphReply> Authenticate(const httplib::Request& req, GraphCaller& caller) {
    TokenExpectations expect;
    expect.audience = [](const std::string& aud) {
      return aud == "https://graph.microsoft.com" || aud == "https://graph.microsoft.com/" ||
             aud == kGraphAppId;
    };
    // v1.0 tokens are what Entra issues for Graph; v2.0 ones are accepted too.
    expect.accept_v2_issuer = true;
    VerifiedToken token;
    const std::string authorization = req.get_header_value("Authorization");
    if (auto fault = deps_.tokens.Inspect(authorization, expect, token)) {
      mock::Annotate("denied", "token");
      GraphError e{401,
                   "InvalidAuthenticationToken",
                   TokenFaultMessage(*fault, static_cast<std::size_t>(std::count(
                                                 authorization.begin(), authorization.end(), '.'))),
                   {{"WWW-Authenticate", kChallenge}}};
      return GraphReply::Fail(e);
    }
    const json& claims = token.claims;
    caller.tenant_id = token.tenant_id;
    // Claims of another type than Entra's (a token signed with a registered remote JWKS says
    // anything) count as absent, never as a type error answered as a bad request body.
    caller.app_id = mock::StringClaim(claims, "appid");
    if (caller.app_id.empty()) caller.app_id = mock::StringClaim(claims, "azp");
    if (caller.app_id.empty()) {
      // No client named (see ews_auth.cpp): no application access policy could scope it.
      mock::Annotate("denied", "token");
      return GraphReply::Fail(GraphError{401,
                                         "InvalidAuthenticationToken",
                                         "Access token validation failure.",
                                         {{"WWW-Authenticate", kChallenge}}});
    }
    const std::vector<std::string> roles = StringsOf(claims, "roles");
    const std::vector<std::string> scopes = StringsOf(claims, "scp");
    caller.app_only = scopes.empty() || mock::StringClaim(claims, "idtyp") == "app";
    caller.permissions = caller.app_only ? roles : scopes;
    caller.user_oid = mock::StringClaim(claims, "oid");
    caller.user_upn = mock::StringClaim(claims, "upn");
    if (caller.user_upn.empty()) caller.user_upn = mock::StringClaim(claims, "preferred_username");
    return std::nullopt;
  }

  // The mailbox a user key names in the caller's tenant: SMTP address, UPN, mailbox GUID or the
  // Entra object id. A hybrid user whose mailbox is on-premises is a mail user in Exchange
  // Online: 404 MailboxNotEnabledForRESTAPI (exchange-admin.md §4: "The mailbox is either
  // inactive, soft-deleted, or is hosted on-premise."); anyone else 404 ErrorInvalidUser "The
  // requested user 'x' is invalid." (captures in Mailozaurr and others).
  std::optional<Mailbox> FindMailbox(const GraphCaller& caller, const std::string& key,
                                     GraphError& refusal) {
    auto found = deps_.store.ResolveMailbox(key);
    if (found && found->organization_id == caller.tenant_id) return *found;
    for (const Mailbox& m : deps_.store.ListMailboxes(caller.tenant_id)) {
      if (!m.directory_object_id.empty() && AsciiIEquals(m.directory_object_id, key)) return m;
    }
    if (auto r = deps_.admin.GetRecipient(caller.tenant_id, key);
        r && r->kind == RecipientKind::kMailUser &&
        (AsciiIEquals(r->primary_smtp_address, key) || AsciiIEquals(r->guid, key))) {
      mock::Annotate("denied", "MailboxNotEnabledForRESTAPI");
      refusal = GraphError{404,
                           "MailboxNotEnabledForRESTAPI",
                           "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
                           {}};
      return std::nullopt;
    }
    refusal =
        GraphError{404, "ErrorInvalidUser", "The requested user '" + key + "' is invalid.", {}};
    return std::nullopt;
  }

  // 403 ErrorAccessDenied in both cases Graph distinguishes: no permission at all ("Access is
  // denied. Check credentials and try again.", python-o365#855, msgraph-sdk-php#1094) and an
  // access policy or RBAC scope that leaves the mailbox out ("Access to OData is disabled.",
  // the application-access-policies page, exchange-admin.md §1.6).
  std::optional<GraphError> Authorize(const GraphCaller& caller, const Mailbox& mailbox,
                                      const std::vector<std::string>& permissions) {
    const GraphError no_permission{
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", {}};
    if (!caller.app_only) {
      // Delegated: the signed-in user's own mailbox with a scope for it; policies apply to apps.
      bool own = AsciiIEquals(mailbox.directory_object_id, caller.user_oid) ||
                 AsciiIEquals(mailbox.user_principal_name, caller.user_upn);
      bool scoped = false;
      for (const auto& p : caller.permissions) {
        for (const auto& want : permissions) scoped = scoped || AsciiIEquals(p, want);
      }
      if (own && scoped) return std::nullopt;
      mock::Annotate("denied", "NoPermission");
      return no_permission;
    }
    GraphAccessRequest request;
    request.organization_id = caller.tenant_id;
    request.app_id = caller.app_id;
    request.mailbox = mailbox.object_guid;
    request.roles = caller.permissions;
    request.permissions = permissions;
    const GraphAccessDecision decision = deps_.admin.AuthorizeGraph(request);
    mock::Annotate("front_end", std::to_string(decision.front_end));
    if (decision.allowed()) {
      if (decision.granted_by == "RBAC") mock::Annotate("granted_by", "RBAC");
      return std::nullopt;
    }
    mock::Annotate("denied", ToString(decision.denial));
    mock::Annotate("denied.detail", decision.detail);
    if (decision.denial == GraphDenial::kAccessPolicy) {
      return GraphError{403, "ErrorAccessDenied", "Access to OData is disabled.", {}};
    }
    return no_permission;
  }

  void Send(httplib::Response& res, const GraphReply& reply, const std::string& request_id,
            const std::string& client_request_id) {
    const SystemTime now = deps_.clock.Now();
    res.status = reply.status;
    res.set_header("Cache-Control", "private");
    res.set_header("request-id", request_id);
    res.set_header("client-request-id", client_request_id);
    res.set_header("x-ms-ags-diagnostic", kDiagnostic);
    res.set_header("Strict-Transport-Security", "max-age=31536000");
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    if (reply.error) {
      for (const auto& [k, v] : reply.error->headers) res.set_header(k, v);
      mock::Annotate("error", reply.error->code);
      std::string date = FormatIso8601(now);
      if (!date.empty() && date.back() == 'Z') date.pop_back();  // "2019-05-24T10:16:21"
      ojson inner = ojson::object();
      inner["date"] = date;
      inner["request-id"] = request_id;
      inner["client-request-id"] = client_request_id;
      ojson error = ojson::object();
      error["code"] = reply.error->code;
      error["message"] = reply.error->message;
      error["innerError"] = inner;
      ojson body = ojson::object();
      body["error"] = error;
      res.set_content(body.dump(), kODataErrorJson);
      return;
    }
    if (reply.json) {
      res.set_header("OData-Version", "4.0");
      res.set_content(reply.json->dump(), kODataJson);
    } else if (reply.raw) {
      res.set_content(*reply.raw, reply.raw_content_type);
    }
  }

  mock::HttpServer& server_;
  GraphMailDeps deps_;
  std::mutex random_mu_;
  SeededRandom random_;
  graph::DeltaCache delta_;
};

void ReplyControlJson(httplib::Response& res, const json& body, int status = 200) {
  mock::ReplyJson(res, body, status);
}

}  // namespace

std::shared_ptr<void> RegisterGraphMail(mock::HttpServer& server, GraphMailDeps deps) {
  auto service = std::make_shared<GraphService>(server, std::move(deps));
  GraphService* s = service.get();
  auto handler = [s](const httplib::Request& req, httplib::Response& res) { s->Handle(req, res); };
  const std::string pattern = R"(/v1\.0/.*)";
  server.Get(pattern, handler);
  server.Post(pattern, handler);
  server.Patch(pattern, handler);
  server.Delete(pattern, handler);

  // Control API: the Graph throttling limits and per app/mailbox state.
  auto& r = server.router();
  const std::string p = std::string(mock::kControlPrefix) + "/graph/throttling";
  r.Get(p, [s](const httplib::Request&, httplib::Response& res) {
    ReplyControlJson(res, s->throttling().ToJson());
  });
  r.Put(p, [s](const httplib::Request& req, httplib::Response& res) {
    const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      return mock::ReplyControlError(res, 400, "InvalidJson", "the request body is not JSON");
    }
    if (auto updated = s->throttling().Update(body); !updated) {
      return mock::ReplyControlError(res, 400, updated.error().code, updated.error().message);
    }
    ReplyControlJson(res, s->throttling().ToJson());
  });
  r.Post(p + "/reset", [s](const httplib::Request&, httplib::Response& res) {
    s->throttling().ResetState();
    ReplyControlJson(res, s->throttling().ToJson());
  });
  return service;
}

}  // namespace exo::mock_ews
