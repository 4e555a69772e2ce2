#include "internal/graph_session.hpp"

#include <algorithm>
#include <cctype>

#include "exo/common/random.hpp"

namespace exo::admin {
namespace {

// Connect-MgGraph's welcome (SDK 2.x) [infer: as the SDK prints it; -NoWelcome hides it].
std::string Welcome(const std::string& client_id) {
  return "Welcome to Microsoft Graph!\n\n"
         "Connected via delegated access using " +
         client_id +
         "\n"
         "Readme: https://aka.ms/graph/sdk/powershell\n"
         "SDK Docs: https://aka.ms/graph/sdk/powershell/docs\n"
         "API Docs: https://aka.ms/graph/docs\n\n"
         "NOTE: You can use the -NoWelcome parameter to suppress this message.\n\n";
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 429: return "TooManyRequests";
    default: return "Error";
  }
}

// The SDK cmdlet class's parameter-set suffix, which error ids carry.
std::string Variant(const std::string& cmdlet, bool by_id) {
  const std::string verb = Lower(cmdlet.substr(0, cmdlet.find('-')));
  if (verb == "new") return "CreateExpanded";
  if (verb == "add") return "AddExpanded";
  if (verb == "update") return "UpdateExpanded";
  if (verb == "remove") return "Delete";
  return by_id ? "Get" : "List";
}

// "appId eq 'x' and displayName eq 'y'" -> pairs; nullopt for anything else.
std::optional<std::vector<std::pair<std::string, std::string>>> EqClauses(const std::string& f) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < f.size() && f[i] == ' ') ++i;
  };
  while (true) {
    skip();
    std::string prop;
    while (i < f.size() && (std::isalnum(static_cast<unsigned char>(f[i])) || f[i] == '_')) {
      prop += f[i++];
    }
    skip();
    if (prop.empty() || Lower(f.substr(i, 2)) != "eq") return std::nullopt;
    i += 2;
    skip();
    if (i >= f.size() || f[i] != '\'') return std::nullopt;
    ++i;
    std::string value;
    while (i < f.size()) {
      if (f[i] == '\'' && i + 1 < f.size() && f[i + 1] == '\'') {
        value += '\'';
        i += 2;
      } else if (f[i] == '\'') {
        break;
      } else {
        value += f[i++];
      }
    }
    if (i >= f.size()) return std::nullopt;
    ++i;
    out.emplace_back(prop, value);
    skip();
    if (i >= f.size()) return out;
    if (Lower(f.substr(i, 3)) != "and") return std::nullopt;
    i += 3;
  }
}

bool Matches(const Value& graph, const std::vector<std::pair<std::string, std::string>>& clauses) {
  for (const auto& [prop, want] : clauses) {
    bool ok = false;
    for (auto it = graph.begin(); it != graph.end(); ++it) {
      if (IEquals(it.key(), prop) && it.value().is_string() &&
          IEquals(it.value().get<std::string>(), want)) {
        ok = true;
      }
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Value ToSdkObject(const Value& graph) {
  if (graph.is_array()) {
    Value out = Value::array();
    for (const auto& i : graph) out.push_back(ToSdkObject(i));
    return out;
  }
  if (!graph.is_object()) return graph;
  Value out = Value::object();
  for (auto it = graph.begin(); it != graph.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;
    std::string k = it.key();
    if (!k.empty()) k[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])));
    out[k] = ToSdkObject(it.value());
  }
  return out;
}

Value ToGraphJson(const Value& hashtable) {
  if (hashtable.is_array()) {
    Value out = Value::array();
    for (const auto& i : hashtable) out.push_back(ToGraphJson(i));
    return out;
  }
  if (!hashtable.is_object()) return hashtable;
  Value out = Value::object();
  for (auto it = hashtable.begin(); it != hashtable.end(); ++it) {
    std::string k = it.key();
    if (k.rfind("@exo.", 0) == 0) continue;
    if (!k.empty() && k[0] != '@') {
      k[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(k[0])));
    }
    out[k] = ToGraphJson(it.value());
  }
  return out;
}

GraphSession::GraphSession(HttpsClient& http, std::string authority)
    : http_(http), authority_(std::move(authority)) {}

Outcome GraphSession::Connect(const std::string& tenant, const std::string& user,
                              const std::string& password, bool welcome) {
  if (authority_.empty()) {
    return Outcome::Failed(ToolError("Connect-MgGraph",
                                     "exo-admin needs --ready-file or --authority", "NoEndpoints"));
  }
  auto token =
      PasswordGrant(http_, authority_, tenant, client_id_, kGraphScope, user, password);
  if (!token) {
    ErrorRecord e;
    e.command = "Connect-MgGraph";
    // Azure.Identity's wording for a refused password grant [infer].
    e.message = "UsernamePasswordCredential authentication failed: " + token.error().message;
    e.category = "NotSpecified";
    e.reason = "AuthenticationFailedException";
    e.fqid = "Microsoft.Graph.PowerShell.Authentication.Cmdlets.ConnectMgGraph";
    return Outcome::Failed(e);
  }
  token_ = std::move(*token);
  sign_in_ = SignIn{tenant, user, password};
  Outcome o;
  if (welcome) o.host = Welcome(client_id_);
  return o;
}

Outcome GraphSession::ConnectWithToken(const std::string& access_token, bool welcome) {
  auto token = TokenFromJwt(access_token);
  if (!token) return Outcome::Failed(ToolError("Connect-MgGraph", token.error().message));
  token_ = std::move(*token);
  sign_in_.reset();  // a token given as is cannot be renewed
  Outcome o;
  if (welcome) o.host = Welcome(token_->claims.value("appid", token_->claims.value("azp", "")));
  return o;
}

Result<Value> GraphSession::Request(const std::string& method, const std::string& path,
                                    const Value& body, const std::string& cmdlet,
                                    std::optional<ErrorRecord>& error) {
  const std::string url = authority_ + "/v1.0" + path;
  auto send = [&] {
    return http_.Send(method, url,
                      {{"Authorization", "Bearer " + token_->access_token},
                       {"Accept", "application/json"},
                       {"client-request-id", SecureRandom::Instance().Uuid()},
                       {"SdkVersion", "graph-powershell/2.25.0"},
                       {"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/5.1.19041.4648"}},
                      body.is_null() ? std::string() : body.dump(), "application/json");
  };
  auto reply = send();
  if (reply && reply->status == 401 && sign_in_) {
    // Expired (or revoked) under a long script: sign in again as the SDK's refresh would.
    auto renewed = PasswordGrant(http_, authority_, sign_in_->tenant, client_id_, kGraphScope,
                                 sign_in_->user, sign_in_->password);
    if (renewed) {
      token_ = std::move(*renewed);
      reply = send();
    }
  }
  if (!reply) {
    error = ToolError(cmdlet, "cannot reach Microsoft Graph at " + authority_ + ": " +
                                  reply.error().message,
                      "ConnectionFailed");
    return std::unexpected(reply.error());
  }
  const auto json = Value::parse(reply->body, nullptr, false);
  if (reply->status >= 200 && reply->status < 300) {
    return json.is_discarded() ? Value() : json;
  }
  std::string code = "HTTP" + std::to_string(reply->status), message = reply->body;
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    code = json["error"].value("code", code);
    message = json["error"].value("message", message);
  }
  const bool by_id = path.find('/', 1) != std::string::npos || path.find('(') != std::string::npos;
  const std::string variant = Variant(cmdlet, by_id);
  std::string klass = cmdlet;
  klass.erase(std::remove(klass.begin(), klass.end(), '-'), klass.end());
  ErrorRecord e;
  e.command = cmdlet;
  e.message = message + "\n\nStatus: " + std::to_string(reply->status) + " (" +
              ReasonPhrase(reply->status) + ")\nErrorCode: " + code +
              "\nDate: " + reply->Header("Date");
  e.category = "InvalidOperation";
  e.activity = cmdlet + "_" + variant;
  e.reason = "Exception";
  e.fqid = code + ",Microsoft.Graph.PowerShell.Cmdlets." + klass + "_" + variant;
  error = e;
  Error err;
  err.code = code;
  err.http_status = reply->status;
  return std::unexpected(err);
}

Outcome GraphSession::Run(const BoundCommand& cmd, const std::string& written) {
  const std::string name = cmd.spec->name;
  const std::string n = Lower(name);
  Outcome out;
  std::optional<ErrorRecord> error;
  auto emit = [&](const Value& v) { out.output.push_back(ToSdkObject(v)); };
  auto body_or = [&](Value fallback) {
    if (const auto* b = cmd.Find("BodyParameter")) return ToGraphJson(b->value);
    return fallback;
  };
  auto fields = [&](std::initializer_list<const char*> names) {
    Value body = Value::object();
    for (const char* f : names) {
      if (const auto* p = cmd.Find(f)) {
        std::string k = f;
        k[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(k[0])));
        body[k] = ToGraphJson(p->value);
      }
    }
    return body;
  };
  auto fail = [&]() {
    out.error = error;
    return out;
  };

  if (n == "new-mgapplication") {
    auto r = Request("POST", "/applications",
                     body_or(fields({"DisplayName", "SignInAudience", "IdentifierUris",
                                     "RequiredResourceAccess", "IsFallbackPublicClient",
                                     "Description", "Notes", "Tags"})),
                     name, error);
    if (!r) return fail();
    emit(*r);
  } else if (n == "get-mgapplication") {
    if (cmd.Has("ApplicationId")) {
      auto r = Request("GET", "/applications/" + cmd.String("ApplicationId"), nullptr, name, error);
      if (!r) return fail();
      emit(*r);
      return out;
    }
    std::vector<std::pair<std::string, std::string>> clauses;
    if (cmd.Has("Filter")) {
      auto c = EqClauses(cmd.String("Filter"));
      if (!c) {
        return Outcome::Failed(ToolError(
            name, "mock-aad's Graph subset has no $filter; exo-admin evaluates -Filter itself and "
                  "understands only \"property eq 'value'\" clauses joined by 'and'",
            "FilterNotSupported"));
      }
      clauses = *c;
    }
    auto r = Request("GET", "/applications", nullptr, name, error);
    if (!r) return fail();
    long long top = cmd.Has("Top") ? cmd.Find("Top")->value.get<long long>() : -1;
    for (const auto& a : (*r)["value"]) {
      if (top == 0) break;
      if (!Matches(a, clauses)) continue;
      emit(a);
      if (top > 0) --top;
    }
  } else if (n == "update-mgapplication") {
    auto r = Request("PATCH", "/applications/" + cmd.String("ApplicationId"),
                     body_or(fields({"DisplayName", "SignInAudience", "IdentifierUris",
                                     "RequiredResourceAccess", "IsFallbackPublicClient",
                                     "Description", "Notes"})),
                     name, error);
    if (!r) return fail();
  } else if (n == "remove-mgapplication") {
    auto r = Request("DELETE", "/applications/" + cmd.String("ApplicationId"), nullptr, name, error);
    if (!r) return fail();
  } else if (n == "add-mgapplicationpassword") {
    Value body = Value::object();
    if (const auto* pc = cmd.Find("PasswordCredential")) {
      body["passwordCredential"] = ToGraphJson(pc->value);
    }
    auto r = Request("POST", "/applications/" + cmd.String("ApplicationId") + "/addPassword",
                     body_or(body), name, error);
    if (!r) return fail();
    emit(*r);
  } else if (n == "remove-mgapplicationpassword") {
    auto r = Request("POST", "/applications/" + cmd.String("ApplicationId") + "/removePassword",
                     body_or(fields({"KeyId"})), name, error);
    if (!r) return fail();
  } else if (n == "new-mgserviceprincipal") {
    auto r = Request("POST", "/servicePrincipals", body_or(fields({"AppId", "AccountEnabled"})),
                     name, error);
    if (!r) return fail();
    emit(*r);
  } else if (n == "get-mgserviceprincipal") {
    std::string path;
    if (cmd.Has("ServicePrincipalId")) {
      path = "/servicePrincipals/" + cmd.String("ServicePrincipalId");
    } else {
      auto c = EqClauses(cmd.String("Filter"));
      if (!c || c->size() != 1 || !IEquals(c->front().first, "appId")) {
        return Outcome::Failed(ToolError(
            name, "mock-aad serves service principals one at a time; use -ServicePrincipalId "
                  "<id> or -Filter \"appId eq '<app id>'\"",
            "FilterNotSupported"));
      }
      path = "/servicePrincipals(appId='" + c->front().second + "')";
    }
    auto r = Request("GET", path, nullptr, name, error);
    if (!r) {
      // A filter that matches nothing returns nothing.
      if (!cmd.Has("ServicePrincipalId") && r.error().http_status == 404) return out;
      return fail();
    }
    emit(*r);
  } else if (n == "update-mgserviceprincipal") {
    auto r = Request("PATCH", "/servicePrincipals/" + cmd.String("ServicePrincipalId"),
                     body_or(fields({"AccountEnabled"})), name, error);
    if (!r) return fail();
  } else if (n == "new-mgserviceprincipalapproleassignment") {
    auto r = Request("POST",
                     "/servicePrincipals/" + cmd.String("ServicePrincipalId") + "/appRoleAssignments",
                     body_or(fields({"PrincipalId", "ResourceId", "AppRoleId"})), name, error);
    if (!r) return fail();
    emit(*r);
  } else if (n == "get-mgserviceprincipalapproleassignment") {
    std::string path = "/servicePrincipals/" + cmd.String("ServicePrincipalId") + "/appRoleAssignments";
    auto r = Request("GET", path, nullptr, name, error);
    if (!r) return fail();
    for (const auto& g : (*r)["value"]) {
      if (cmd.Has("AppRoleAssignmentId") &&
          !IEquals(g.value("id", ""), cmd.String("AppRoleAssignmentId"))) {
        continue;
      }
      emit(g);
    }
  } else if (n == "remove-mgserviceprincipalapproleassignment") {
    auto r = Request("DELETE",
                     "/servicePrincipals/" + cmd.String("ServicePrincipalId") +
                         "/appRoleAssignments/" + cmd.String("AppRoleAssignmentId"),
                     nullptr, name, error);
    if (!r) return fail();
  } else {
    return Outcome::Failed(ToolError(written, "exo-admin does not map " + name + " to Graph"));
  }
  return out;
}

}  // namespace exo::admin
