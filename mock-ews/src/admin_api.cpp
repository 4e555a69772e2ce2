#include "internal/admin_api.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/random.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/journal.hpp"
#include "internal/admin_cmdlets.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;
using internal::AsciiIEquals;
using internal::AsciiLower;

// The Burp capture's Content-Type, on answers and OData errors alike.
constexpr const char* kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
constexpr const char* kODataException = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException";
constexpr const char* kInvokeFrame =
    "   at Microsoft.Exchange.AdminApi.CommandInvocation.CommandInvocation.InvokeCommand("
    "QueryContext queryContext, CmdletInvokeInputType cmdletInvokeInputType)";
constexpr const char* kDirectInvoke =
    "Microsoft.Exchange.Management.PSDirectInvoke.DirectInvokeCmdletExecutionException";
// Directory role template ids that grant the Exchange admin cmdlets (the "wids" claim).
constexpr const char* kGlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10";
constexpr const char* kExchangeAdministrator = "29232cdf-9323-42fd-ade2-1d097af3e4de";
// "Expired or Invalid pagination request. Default Expiry time is 00:30:00" (Q&A 1023619).
constexpr auto kNextLinkLifetime = std::chrono::minutes(30);
constexpr std::size_t kMaxPageSize = 1000;  // -PageSize 1–1000 (Connect-ExchangeOnline doc)


std::string DomainOf(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : AsciiLower(address.substr(at + 1));
}

std::uint32_t Fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string Hex(std::uint32_t v, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 15];
  return out;
}

// The .NET type a cmdlet error's short exception name stands for in details[0].message.
std::string ExceptionTypeName(const std::string& short_name) {
  struct Known {
    const char* name;
    const char* full;
  };
  static constexpr Known kKnown[] = {
      // [obs] research §4.3.
      {"ManagementObjectNotFoundException",
       "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"},
      {"WLCDManagedMemberExistsException",
       "Microsoft.Exchange.Management.Tasks.WLCDManagedMemberExistsException"},
      // [infer] the namespaces these exceptions live in.
      {"ManagementObjectAmbiguousException",
       "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"},
      {"ManagementObjectAlreadyExistsException",
       "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAlreadyExistsException"},
      {"ADObjectAlreadyExistsException",
       "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException"},
      {"ProxyAddressExistsException",
       "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException"},
      {"ParameterBindingException", "System.Management.Automation.ParameterBindingException"},
      {"ArgumentException", "System.ArgumentException"},
      {"InvalidOperationException", "System.InvalidOperationException"},
  };
  for (const Known& k : kKnown) {
    if (short_name == k.name) return k.full;
  }
  if (short_name.find('.') != std::string::npos) return short_name;
  if (short_name.starts_with("Error")) return "Microsoft.Exchange.Data.Storage." + short_name;
  return "Microsoft.Exchange.Management.Tasks." + short_name;  // [infer]
}

// The ErrorId before the first '|': Ex6F9304 for not found (research §4.1); other ids are a hex
// hash we make up in the same shape [infer].
std::string ErrorIdFor(const std::string& full_type) {
  if (full_type.ends_with(".ManagementObjectNotFoundException")) return "Ex6F9304";
  if (full_type.ends_with(".WLCDManagedMemberExistsException")) return "ExB10BE9";
  return "Ex" + Hex(Fnv1a(full_type) & 0xFFFFFFu, 6);
}

ojson Warnings(const std::vector<std::string>& warnings) {
  ojson w = ojson::array();
  for (const std::string& s : warnings) w.push_back(s);
  return w;
}

// Who a token names, and whether Exchange gives them the admin cmdlets.
struct Caller {
  std::string tenant_id;
  bool app_only = false;
  std::string upn;  // delegated
  std::string app_id;
  bool exchange_admin = false;
};

struct PageToken {
  std::string cmdlet;
  std::size_t offset = 0;
  std::int64_t issued = 0;  // Unix seconds
};

class AdminApi {
 public:
  AdminApi(mock::HttpServer& server, const TokenValidator& tokens, ExchangeAdmin& admin,
           MailboxStore& store, Clock& clock, std::uint64_t seed)
      : server_(server),
        tokens_(tokens),
        admin_(admin),
        store_(store),
        clock_(clock),
        random_(seed ^ 0x61646d696e617069ULL) {}

  void Handle(const httplib::Request& req, httplib::Response& res);

 private:
  // Token checks beyond the shared signature/lifetime/audience/issuer ones; nullopt: refused
  // (`res` answered).
  std::optional<Caller> Authorize(const httplib::Request& req, httplib::Response& res);
  bool TenantMatches(const std::string& path_tenant, const Caller& caller) const;
  void CommonHeaders(httplib::Response& res, const std::string& backend);
  void ReplyODataError(httplib::Response& res, int status, const ojson& error,
                       const std::string& exception_type = {});
  void ReplyInvalidOperation(httplib::Response& res, const std::string& why);
  std::string Origin(const httplib::Request& req) const;
  std::optional<PageToken> DecodePageToken(const std::string& token) const;
  std::string EncodePageToken(const PageToken& token) const;

  mock::HttpServer& server_;
  const TokenValidator& tokens_;
  ExchangeAdmin& admin_;
  MailboxStore& store_;
  Clock& clock_;
  SeededRandom random_;
  // Cmdlets run one at a time: New-Mailbox checks, then creates in two models, and a concurrent
  // cmdlet must not slip in between.
  std::mutex run_mu_;
};

void AdminApi::CommonHeaders(httplib::Response& res, const std::string& backend) {
  res.set_header("request-id", random_.Uuid());
  res.set_header("X-CalculatedBETarget", backend);
  res.set_header("OData-Version", "4.0");
  res.set_header("Cache-Control", "no-cache");  // Date: every mock-kit server sets it
}

void AdminApi::ReplyODataError(httplib::Response& res, int status, const ojson& error,
                               const std::string& exception_type) {
  res.status = status;
  if (!exception_type.empty()) res.set_header("x-ExceptionType", exception_type);
  res.set_content(ojson{{"error", error}}.dump(), kODataJson);
}

// A request the service cannot take as an invocation at all: the shape of the one such answer
// captured (an expired page, Q&A 1023619), whose reason sits in innererror.internalexception.
void AdminApi::ReplyInvalidOperation(httplib::Response& res, const std::string& why) {
  ojson error = {{"code", "BadRequest"},
                 {"message", "Invalid Operation"},
                 {"innererror",
                  {{"message", "Invalid Operation"},
                   {"type", kODataException},
                   {"stacktrace", kInvokeFrame},
                   {"internalexception",
                    {{"message", why}, {"type", "System.Exception"}, {"stacktrace", ""}}}}}};
  ReplyODataError(res, 400, error);
}

std::string AdminApi::Origin(const httplib::Request& req) const {
  const std::string host = req.get_header_value("Host");
  if (host.empty()) return server_.base_url();
  return std::string(server_.tls() ? "https://" : "http://") + host;
}

std::string AdminApi::EncodePageToken(const PageToken& token) const {
  return Base64UrlEncode(
      json{{"c", token.cmdlet}, {"o", token.offset}, {"t", token.issued}}.dump());
}

std::optional<PageToken> AdminApi::DecodePageToken(const std::string& token) const {
  auto raw = Base64Decode(token);
  if (!raw) return std::nullopt;
  const json j = json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("c") || !j["c"].is_string() || !j.contains("o") ||
      !j["o"].is_number_unsigned() || !j.contains("t") || !j["t"].is_number_integer()) {
    return std::nullopt;
  }
  PageToken t;
  t.cmdlet = j["c"].get<std::string>();
  t.offset = j["o"].get<std::size_t>();
  t.issued = j["t"].get<std::int64_t>();
  return t;
}

std::optional<Caller> AdminApi::Authorize(const httplib::Request& req, httplib::Response& res) {
  auto refuse = [&res](const AuthFailure& f) {
    // As EWS: the challenge and x-ms-diagnostics, no body (research §2 [infer] for adminapi).
    res.status = f.status;
    if (!f.www_authenticate.empty()) res.set_header("WWW-Authenticate", f.www_authenticate);
    if (!f.diagnostics.empty()) res.set_header("x-ms-diagnostics", f.diagnostics);
    return std::nullopt;
  };
  VerifiedToken token;
  if (auto refused = tokens_.Verify(req.get_header_value("Authorization"), token)) {
    return refuse(*refused);
  }
  const json& c = token.claims;
  Caller caller;
  caller.tenant_id = token.tenant_id;
  caller.app_id = c.value("appid", c.value("azp", ""));
  auto has = [&c](const char* claim, const char* value) {
    if (!c.contains(claim) || !c[claim].is_array()) return false;
    for (const json& v : c[claim]) {
      if (v.is_string() && AsciiIEquals(v.get<std::string>(), value)) return true;
    }
    return false;
  };
  if (c.contains("scp") && c["scp"].is_string()) {
    // Delegated: the module's pre-authorised AdminApi.AccessAsUser.All, or Exchange.Manage for
    // third-party apps (research §2); then the user's directory roles decide the cmdlets.
    bool scoped = false;
    const std::string scp = c["scp"].get<std::string>();
    std::size_t pos = 0;
    while (pos < scp.size()) {
      std::size_t end = scp.find(' ', pos);
      if (end == std::string::npos) end = scp.size();
      const std::string_view s = std::string_view(scp).substr(pos, end - pos);
      scoped = scoped || AsciiIEquals(s, "AdminApi.AccessAsUser.All") ||
               AsciiIEquals(s, "Exchange.Manage");
      pos = end + 1;
    }
    if (!scoped) {
      return refuse(tokens_.Refuse(403, 2000008,
                                   "The token contains not enough scope to make this call.",
                                   "invalid_grant"));  // [infer] EWS's answer
    }
    caller.upn = c.value("upn", c.value("unique_name", ""));
    caller.exchange_admin =
        has("wids", kGlobalAdministrator) || has("wids", kExchangeAdministrator);
    return caller;
  }
  // App-only: Exchange.ManageAsApp. Without it Connect-ExchangeOnline fails "UnAuthorized"
  // (Microsoft365DSC#4380), hence 401 [infer: headers as EWS's].
  caller.app_only = true;
  const bool has_roles = c.contains("roles") && c["roles"].is_array() && !c["roles"].empty();
  if (!has_roles) {
    return refuse(tokens_.Refuse(
        401, 2000008, "The token contains no permissions, or permissions can not be understood.",
        "invalid_grant"));
  }
  if (!has("roles", "Exchange.ManageAsApp")) {
    return refuse(tokens_.Refuse(
        401, 2000008, "The token contains not enough scope to make this call.", "invalid_grant"));
  }
  // The service principal also needs a directory role (Exchange Administrator, …) that Exchange
  // reads from the token; mock-aad cannot assign directory roles to service principals, so
  // Exchange.ManageAsApp alone admits the app [infer].
  caller.exchange_admin = true;
  return caller;
}

bool AdminApi::TenantMatches(const std::string& path_tenant, const Caller& caller) const {
  const std::string t = AsciiLower(path_tenant);
  if (IsGuid(t)) return t == caller.tenant_id;
  // A domain of the organization: its name when that is a domain, an address of any of its
  // recipients, or the signed-in user's own domain.
  if (!caller.upn.empty() && DomainOf(caller.upn) == t) return true;
  for (const Organization& o : store_.ListOrganizations()) {
    if (AsciiIEquals(o.id, caller.tenant_id) && AsciiIEquals(o.name, t)) return true;
  }
  for (const Mailbox& m : store_.ListMailboxes(caller.tenant_id)) {
    if (DomainOf(m.user_principal_name) == t) return true;
    for (const std::string& proxy : m.proxy_addresses) {
      if (DomainOf(proxy) == t) return true;
    }
  }
  for (const Recipient& r : admin_.ListRecipients(caller.tenant_id)) {
    if (DomainOf(r.primary_smtp_address) == t) return true;
  }
  return false;
}

// X-AnchorMailbox routes the call to the back end holding that mailbox; here it picks the back-end
// name reported in X-CalculatedBETarget, so one anchor always lands on one "server". Forms the
// module and other clients send: UPN:, SMTP:, MBX:, APP:SystemMailbox{…}@tenant, TID:, OID:.
// Anything else is ignored, as a front end falls back to other routing hints [infer: no capture
// of a malformed anchor's answer].
std::string Backend(const std::string& anchor, const std::string& tenant_id) {
  static const char* const kForms[] = {"UPN", "SMTP", "MBX", "APP", "TID", "OID"};
  std::string key = tenant_id;
  const std::size_t colon = anchor.find(':');
  bool valid = false;
  if (colon != std::string::npos && colon + 1 < anchor.size()) {
    const std::string_view form = std::string_view(anchor).substr(0, colon);
    for (const char* f : kForms) valid = valid || AsciiIEquals(form, f);
  }
  if (valid) {
    key = AsciiLower(anchor);
    mock::Annotate("anchor", anchor);
  } else if (!anchor.empty()) {
    mock::Annotate("anchor.ignored", anchor);
  }
  const std::uint32_t h = Fnv1a(key);
  // The shape of a real EXO mailbox server name (the capture's PAXPR07MB8842…) [infer].
  return "AM" + std::to_string(h % 9 + 1) + "PR0" + std::to_string((h >> 4) % 9 + 1) + "MB" +
         std::to_string(1000 + (h >> 8) % 9000) + ".eurprd0" + std::to_string((h >> 20) % 9 + 1) +
         ".prod.outlook.com";
}

// Prefer: odata.maxpagesize=N (tmpEXO); 0 when absent.
std::size_t PageSize(const std::string& prefer) {
  static const std::regex re("odata\\.maxpagesize\\s*=\\s*([0-9]{1,9})", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(prefer, m, re)) return 0;
  const std::size_t n = static_cast<std::size_t>(std::stoul(m[1].str()));
  return std::clamp<std::size_t>(n, 1, kMaxPageSize);
}

// $select=a,b keeps those properties and their annotations.
void Select(std::vector<ojson>& objects, const std::string& select) {
  std::set<std::string> keep;
  std::size_t pos = 0;
  while (pos <= select.size()) {
    std::size_t end = select.find(',', pos);
    if (end == std::string::npos) end = select.size();
    const std::string name =
        AsciiLower(internal::TrimWhitespace(std::string_view(select).substr(pos, end - pos)));
    if (!name.empty()) keep.insert(name);
    pos = end + 1;
  }
  if (keep.empty()) return;
  for (ojson& o : objects) {
    ojson kept = ojson::object();
    for (auto it = o.begin(); it != o.end(); ++it) {
      const std::string base = AsciiLower(it.key().substr(0, it.key().find('@')));
      if (keep.contains(base)) kept[it.key()] = it.value();
    }
    o = std::move(kept);
  }
}

void AdminApi::Handle(const httplib::Request& req, httplib::Response& res) {
  mock::Annotate("operation", "adminapi");
  auto caller = Authorize(req, res);
  if (!caller) return;
  mock::Annotate("tenant", caller->tenant_id);
  mock::Annotate("caller", caller->app_only ? "app:" + caller->app_id : caller->upn);
  const std::string path_tenant = req.matches[1];
  const std::string backend = Backend(req.get_header_value("X-AnchorMailbox"), caller->tenant_id);
  CommonHeaders(res, backend);
  if (!TenantMatches(path_tenant, *caller)) {
    // [infer] no capture; the Unauthorized OData error the service gives callers it refuses.
    const std::string why =
        "The tenant '" + path_tenant + "' in the request URL isn't the caller's organization.";
    return ReplyODataError(res, 401,
                           {{"code", "Unauthorized"},
                            {"message", why},
                            {"innererror", {{"message", why}, {"type", kODataException}}}});
  }
  // The module asks for CliXml; the mock answers JSON either way (docs/mock-ews.md).
  if (const std::string format = req.get_header_value("X-ResponseFormat"); !format.empty()) {
    mock::Annotate("responseFormat", format);
  }

  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return ReplyInvalidOperation(res, "The request body is not a JSON object.");  // [infer]
  }
  const json input = body.value("CmdletInput", json());
  if (!input.is_object() || !input.contains("CmdletName") || !input["CmdletName"].is_string() ||
      input["CmdletName"].get<std::string>().empty()) {
    return ReplyInvalidOperation(res, "CmdletInput.CmdletName is missing.");  // [infer]
  }
  const std::string name = input["CmdletName"].get<std::string>();
  mock::Annotate("cmdlet", name);
  const Cmdlet* cmdlet = FindCmdlet(name);
  if (!cmdlet) {
    // Measured: 403 (LiveTests 2026-09-25). The real body is NUL bytes declared gzip, which an
    // HTTP client honouring Content-Encoding cannot decode; the mock sends it empty.
    res.status = 403;
    return;
  }
  if (!caller->exchange_admin) {
    // office-docs-powershell#7970: the adminapi's answer to a caller whose role lacks the
    // cmdlet (the module hides such cmdlets, so users see "not recognized" instead).
    const std::string why = std::string("User is not allowed to call ") + CmdletName(*cmdlet);
    return ReplyODataError(res, 401,
                           {{"code", "Unauthorized"},
                            {"message", why},
                            {"innererror", {{"message", why}, {"type", kODataException}}}});
  }

  std::size_t offset = 0;
  if (req.has_param("$skiptoken")) {
    auto token = DecodePageToken(req.get_param_value("$skiptoken"));
    const std::int64_t now = ToUnixSeconds(clock_.Now());
    if (!token || !IsReadOnly(*cmdlet) || !AsciiIEquals(token->cmdlet, CmdletName(*cmdlet)) ||
        now - token->issued > std::chrono::seconds(kNextLinkLifetime).count() ||
        now < token->issued) {
      return ReplyInvalidOperation(
          res, "Expired or Invalid pagination request. Default Expiry time is 00:30:00");
    }
    offset = token->offset;
  }

  CmdletContext context{admin_, store_, caller->tenant_id, DomainOf(caller->upn)};
  Result<CmdletOutput> output;
  {
    std::lock_guard lock(run_mu_);
    output = RunCmdlet(*cmdlet, input.value("Parameters", json()), context);
  }
  if (!output) {
    const Error& e = output.error();
    const bool not_found = e.category == ErrorCategory::kNotFound;
    const std::string full = ExceptionTypeName(e.code);
    const std::string short_name = full.substr(full.rfind('.') + 1);
    mock::Annotate("error", short_name);
    // The OData error of idx:42988615043 (research §4.1), warnings pair inside `error`.
    ojson error = {
        {"code", not_found ? "NotFound" : "BadRequest"},
        {"message", "Error executing cmdlet"},
        {"details",
         {{{"code", "Client"},
           {"target", ""},
           {"message", ErrorIdFor(full) + "|" + full + "|" + e.message}}}},
        {"innererror",
         {{"message", "Error executing cmdlet"},
          {"type", kODataException},
          {"stacktrace", kInvokeFrame},
          {"internalexception",
           {{"message", std::string("Exception of type '") + kDirectInvoke + "' was thrown."},
            {"type", kDirectInvoke},
            {"stacktrace", ""}}}}},
        {"adminapi.warnings@odata.type", "#Collection(String)"},
        {"@adminapi.warnings", ojson::array()}};
    return ReplyODataError(res, not_found ? 404 : 400, error, short_name);
  }

  std::vector<ojson> objects = std::move(output->objects);
  if (req.has_param("$select")) Select(objects, req.get_param_value("$select"));
  const std::size_t page = IsReadOnly(*cmdlet) ? PageSize(req.get_header_value("Prefer")) : 0;
  std::optional<std::string> next_link;
  if (offset > 0 || page > 0) {
    const std::size_t first = std::min(offset, objects.size());
    const std::size_t last = page > 0 ? std::min(objects.size(), first + page) : objects.size();
    if (last < objects.size()) {
      PageToken next{CmdletName(*cmdlet), last, ToUnixSeconds(clock_.Now())};
      std::string link = Origin(req) + req.path + "?$skiptoken=" + EncodePageToken(next);
      if (req.has_param("$select")) {
        link += "&$select=" + PercentEncode(req.get_param_value("$select"));
      }
      next_link = std::move(link);
    }
    objects = std::vector<ojson>(objects.begin() + static_cast<std::ptrdiff_t>(first),
                                 objects.begin() + static_cast<std::ptrdiff_t>(last));
  }

  // Key order as captured: context, warnings type, warnings, value, next link.
  ojson answer = ojson::object();
  answer["@odata.context"] = Origin(req) + "/adminapi/beta/" + path_tenant +
                             "/$metadata#Collection(Exchange.GenericHashTable)";
  answer["adminapi.warnings@odata.type"] = "#Collection(String)";
  answer["@adminapi.warnings"] = Warnings(output->warnings);
  if (output->confirmation) answer["@adminapi.confirmationmessage"] = *output->confirmation;
  answer["value"] = ojson(objects);
  if (next_link) answer["@odata.nextLink"] = *next_link;
  res.status = 200;
  res.set_content(answer.dump(), kODataJson);
}

}  // namespace

void RegisterAdminApi(mock::HttpServer& server, const TokenValidator& tokens, ExchangeAdmin& admin,
                      MailboxStore& store, Clock& clock, std::uint64_t seed) {
  auto api = std::make_shared<AdminApi>(server, tokens, admin, store, clock, seed);
  server.Post(
      mock::AnyCasePath("/adminapi/beta/") + "([^/]+)" + mock::AnyCasePath("/InvokeCommand"),
      [api](const httplib::Request& req, httplib::Response& res) { api->Handle(req, res); });
}

}  // namespace exo::mock_ews
