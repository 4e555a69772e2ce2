#include "internal/exchange_session.hpp"

#include <algorithm>

#include "exo/common/random.hpp"
#include "exo/exo_admin/format.hpp"

namespace exo::admin {
namespace {

constexpr const char* kModuleVersion = "3.9.0";
// The line of the generated module that raises server errors, as consoles show it
// (docs/research/exo-admin-api.md §4.3).
constexpr const char* kWriteErrorLine = "            Write-ErrorMessage $ErrorObject";
constexpr const char* kServerSideError =
    "A server side error has occurred because of which the operation could not be completed. "
    "Please try again after some time. If the problem still persists, please reach out to MS "
    "support.";

std::string RandomLetters(std::size_t n) {
  const std::string bytes = SecureRandom::Instance().Bytes(n);
  std::string out;
  for (unsigned char c : bytes) out += static_cast<char>('a' + c % 26);
  return out;
}

// Parameter values as the module's Transform-Parameters encodes them: hashtables tagged as
// Exchange.GenericHashTable, collections of them with a "<Name>@odata.type" sibling.
void AddParameter(Value& params, const std::string& name, Value v) {
  auto tag = [](Value& o) {
    if (o.is_object()) {
      for (auto it = o.begin(); it != o.end();) {
        it = it.key().rfind("@exo.", 0) == 0 ? o.erase(it) : std::next(it);
      }
    }
    if (o.is_object() && !o.contains("@odata.type")) {
      Value tagged = {{"@odata.type", "#Exchange.GenericHashTable"}};
      for (auto it = o.begin(); it != o.end(); ++it) tagged[it.key()] = it.value();
      o = std::move(tagged);
    }
  };
  if (v.is_object()) {
    tag(v);
  } else if (v.is_array() && !v.empty() &&
             std::all_of(v.begin(), v.end(), [](const Value& i) { return i.is_object(); })) {
    for (auto& i : v) tag(i);
    params[name + "@odata.type"] = "#Collection(Exchange.GenericHashTable)";
  }
  params[name] = std::move(v);
}

bool AllNul(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

}  // namespace

ExchangeSession::ExchangeSession(HttpsClient& http, Clock& clock, std::string exchange,
                                 std::string authority)
    : http_(http), clock_(clock), exchange_(std::move(exchange)), authority_(std::move(authority)) {}

Result<Token> ExchangeSession::SignIn() {
  switch (sign_in_.kind) {
    case ExchangeSignIn::Kind::kPassword:
      // The module signs work accounts in through /organizations; the UPN names the tenant.
      return PasswordGrant(http_, authority_, "organizations", kExchangePowerShellClientId,
                           kExchangeScope, sign_in_.user, sign_in_.password);
    case ExchangeSignIn::Kind::kCertificate:
      return CertificateGrant(http_, authority_, sign_in_.organization, sign_in_.app_id,
                              kExchangeScope, *sign_in_.certificate, *sign_in_.key, clock_);
    case ExchangeSignIn::Kind::kAccessToken:
      return TokenFromJwt(sign_in_.access_token);
  }
  return Fail(ErrorCategory::kInternal, "SignIn", "unknown sign-in kind");
}

ErrorRecord ExchangeSession::SignInError(const Error& e) const {
  ErrorRecord r;
  r.command = "Connect-ExchangeOnline";
  r.message = e.message;
  r.category = e.category == ErrorCategory::kTransient ? "ConnectionError" : "AuthenticationError";
  // MSAL.NET reports a refused password as a UI-required exception [infer].
  r.reason = e.remedy == "invalid_grant" ? "MsalUiRequiredException" : "MsalServiceException";
  r.fqid = (e.code.empty() ? "SignInFailed" : e.code) + ",Connect-ExchangeOnline";
  return r;
}

Outcome ExchangeSession::Connect(ExchangeSignIn sign_in, bool show_banner) {
  Disconnect();
  if (exchange_.empty() || authority_.empty()) {
    return Outcome::Failed(ToolError("Connect-ExchangeOnline",
                                     "exo-admin needs --ready-file, or --authority and --exchange",
                                     "NoEndpoints"));
  }
  sign_in_ = std::move(sign_in);
  auto token = SignIn();
  if (!token) return Outcome::Failed(SignInError(token.error()));
  const std::string tenant = token->TenantId();
  connection_id_ = SecureRandom::Instance().Uuid();
  const std::string name = "tmpEXO_" + RandomLetters(8) + "." + RandomLetters(3);
  module_path_ = "/tmp/" + name + "/" + name + ".psm1";

  // The module file lists the cmdlets the caller's roles allow; a mock that does not serve it
  // leaves every cmdlet to the server.
  const std::string url = exchange_ + "/AdminApi/v1.0/" + tenant +
                          "/EXOModuleFile?Version=" + kModuleVersion;
  auto reply = http_.Send("GET", url,
                          {{"Authorization", "Bearer " + token->access_token},
                           {"CommandName", "*"},
                           {"ps-version", "5.1.19041.4648"},
                           {"exomodule-version", kModuleVersion},
                           {"is-cloud-shell-environment", "False"},
                           {"X-InitializeConnectionContextObjectIdDynamic", "true"},
                           {"connection-id", connection_id_},
                           {"client-request-id", SecureRandom::Instance().Uuid()},
                           {"Accept", "application/json"}});
  if (!reply) {
    return Outcome::Failed(ToolError("Connect-ExchangeOnline",
                                     "cannot reach Exchange at " + exchange_ + ": " +
                                         reply.error().message,
                                     "ConnectionFailed"));
  }
  allowed_.reset();
  if (reply->status == 200) {
    const auto body = Value::parse(reply->body, nullptr, false);
    if (body.is_object() && body.contains("value") && body["value"].is_array() &&
        !body["value"].empty() && body["value"][0].contains("exportedCmdlets")) {
      std::set<std::string> names;
      std::string list = body["value"][0].value("exportedCmdlets", "");
      std::size_t start = 0;
      while (start <= list.size()) {
        auto comma = list.find(',', start);
        std::string n = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                       : comma - start);
        n.erase(0, n.find_first_not_of(' '));
        if (!n.empty()) names.insert(Lower(n));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      allowed_ = std::move(names);
    }
  } else if (reply->status == 401 || reply->status == 403) {
    const auto body = Value::parse(reply->body, nullptr, false);
    std::string message = "HTTP " + std::to_string(reply->status) + " from " + url;
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
      message = body["error"].value("message", message);
    }
    ErrorRecord e = ToolError("Connect-ExchangeOnline", message, "ConnectFailed");
    e.reason = "SystemException";
    return Outcome::Failed(e);
  }
  token_ = std::move(*token);
  Outcome o;
  if (show_banner) o.host = ExchangeBanner();
  return o;
}

void ExchangeSession::Disconnect() {
  token_.reset();
  allowed_.reset();
}

bool ExchangeSession::MayRun(const std::string& cmdlet) const {
  return !allowed_ || allowed_->count(Lower(cmdlet)) > 0;
}

HeaderList ExchangeSession::Headers(const std::string& cmdlet, const std::string& request_id,
                                    const std::string& warning_action) const {
  std::string anchor;
  if (sign_in_.kind == ExchangeSignIn::Kind::kPassword || !token_->Upn().empty()) {
    anchor = "UPN:" + (token_->Upn().empty() ? sign_in_.user : token_->Upn());
  } else {
    anchor = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + token_->TenantId();
  }
  return {{"Authorization", "Bearer " + token_->access_token},
          {"Accept", "application/json"},
          {"Accept-Charset", "UTF-8"},
          {"X-CmdletName", cmdlet},
          {"client-request-id", request_id},
          {"WarningAction", warning_action},
          {"Prefer", "odata.maxpagesize=1000"},
          {"X-AnchorMailbox", anchor},
          {"connection-id", connection_id_},
          {"X-ResponseFormat", "json"},
          {"X-SerializationLevel", "Partial"},
          {"Accept-Language", "en-US"},
          {"X-ClientModuleVersion", kModuleVersion},
          {"X-ClientApplication", "ExoManagementModule"},
          {"User-Agent",
           "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.4648"}};
}

ErrorRecord ExchangeSession::ErrorFromReply(const HttpReply& reply, const std::string& cmdlet,
                                            const std::string& url) const {
  if (reply.status == 403 && AllNul(reply.body)) {
    // What EXO answers for a cmdlet it does not have; through the module the cmdlet simply does
    // not exist in the session.
    return CommandNotFound(cmdlet);
  }
  const auto body = Value::parse(reply.body, nullptr, false);
  std::string message, target;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const Value& err = body["error"];
    if (err.contains("details") && err["details"].is_array() && !err["details"].empty() &&
        err["details"][0].is_object()) {
      message = err["details"][0].value("message", "");
      target = err["details"][0].value("target", "");
    }
    if (message.empty() && err.contains("innererror") && err["innererror"].is_object() &&
        err["innererror"].contains("internalexception") &&
        err["innererror"]["internalexception"].is_object()) {
      message = err["innererror"]["internalexception"].value("message", "");
    }
    if (message.empty()) message = err.value("message", "");
  }
  ErrorRecord e;
  e.command = "Write-ErrorMessage";
  e.invocation_location = module_path_ + ":1121 char:13";
  e.invocation_line = kWriteErrorLine;
  e.invocation_column = 13;
  e.invocation_length = std::string("Write-ErrorMessage $ErrorObject").size();
  e.activity = cmdlet;
  e.target_name = target;
  e.target_type = reply.Header("x-ExceptionTargetType");
  e.reason = reply.Header("x-ExceptionType").empty() ? "Exception" : reply.Header("x-ExceptionType");
  e.category = "NotSpecified";
  std::string server = reply.Header("X-CalculatedBETarget");
  server = server.substr(0, server.find('.'));
  const std::string context = "[Server=" + server + ",RequestId=" + reply.Header("request-id") +
                              ",TimeStamp=" + reply.Header("Date") + "]";
  if (reply.status == 429) {
    e.message = message.empty() ? "Too many requests" : message;
    e.category = "LimitsExceeded";
    e.fqid = "ThrottlingError," + cmdlet;
    if (!reply.Header("Retry-After").empty()) {
      e.hints.push_back("Exchange asked to retry after " + reply.Header("Retry-After") + " s");
    }
    return e;
  }
  if (message.empty()) {
    e.message = kServerSideError;
    e.category = "ConnectionError";
    e.fqid = "ServerSideError," + cmdlet;
    std::string snippet = reply.body.substr(0, 200);
    if (AllNul(snippet)) snippet.clear();
    e.hints.push_back("POST " + url + " answered HTTP " + std::to_string(reply.status) +
                      (snippet.empty() ? " with no Exchange error body" : ": " + snippet));
    if (reply.status == 404) {
      e.hints.push_back("this mock-ews does not serve InvokeCommand (is it older than the "
                        "admin API?)");
    }
    return e;
  }
  e.message = message;
  e.fqid = context + ",Write-ErrorMessage";
  return e;
}

Outcome ExchangeSession::Invoke(const BoundCommand& cmd, const std::string& written) {
  const std::string cmdlet = cmd.spec ? cmd.spec->name : written;
  Value params = Value::object();
  std::string warning_action;
  for (const auto& p : cmd.params) {
    if (p.common) {
      if (IEquals(p.name, "WarningAction")) {
        // The module sends Ignore as SilentlyContinue.
        warning_action = IEquals(ToPsString(p.value), "Ignore") ? "SilentlyContinue"
                                                                 : ToPsString(p.value);
      }
      continue;
    }
    AddParameter(params, p.name, p.value);
  }
  const std::string body =
      Value{{"CmdletInput", {{"CmdletName", cmdlet}, {"Parameters", params}}}}.dump();
  const std::string request_id = SecureRandom::Instance().Uuid();
  std::string url = exchange_ + "/adminapi/beta/" + token_->TenantId() + "/InvokeCommand";
  Outcome out;
  bool signed_in_again = false;
  for (int page = 0; page < 10000; ++page) {
    auto reply = http_.Send("POST", url, Headers(cmdlet, request_id, warning_action), body,
                            "application/json");
    if (!reply) {
      ErrorRecord e = ToolError(cmdlet, "cannot reach Exchange: " + reply.error().message,
                                "ConnectionFailed");
      e.category = "ConnectionError";
      return Outcome::Failed(e);
    }
    if (reply->status == 401) {
      // A caller whose role lacks the cmdlet: the module would not have exported it, so the
      // user sees PowerShell's "not recognized".
      const auto refusal = Value::parse(reply->body, nullptr, false);
      if (refusal.is_object() && refusal.contains("error") && refusal["error"].is_object() &&
          StringField(refusal["error"], "message").rfind("User is not allowed to call", 0) == 0) {
        ErrorRecord e = CommandNotFound(written);
        e.hints.push_back("Exchange answered: " + StringField(refusal["error"], "message") +
                          " (the signed-in account lacks the Exchange role for it)");
        return Outcome::Failed(e);
      }
    }
    if (reply->status == 401 && !signed_in_again) {
      // The module refreshes its token when Exchange refuses it; exo-admin signs in again.
      signed_in_again = true;
      auto token = SignIn();
      if (!token) return Outcome::Failed(SignInError(token.error()));
      token_ = std::move(*token);
      --page;
      continue;
    }
    if (reply->status < 200 || reply->status >= 300) {
      out.error = ErrorFromReply(*reply, cmdlet, url);
      return out;
    }
    const auto json = Value::parse(reply->body, nullptr, false);
    if (!json.is_object()) {
      out.error = ToolError(cmdlet, "Exchange answered " + url + " with a body that is not JSON",
                            "ProtocolError");
      return out;
    }
    if (json.contains("@adminapi.warnings") && json["@adminapi.warnings"].is_array()) {
      for (const auto& w : json["@adminapi.warnings"]) {
        if (w.is_string()) out.warnings.push_back(w.get<std::string>());
      }
    }
    if (json.contains("value") && json["value"].is_array()) {
      for (const auto& v : json["value"]) out.output.push_back(v);
    }
    if (!json.contains("@odata.nextLink") || !json["@odata.nextLink"].is_string()) break;
    url = json["@odata.nextLink"].get<std::string>();
  }
  return out;
}

}  // namespace exo::admin
