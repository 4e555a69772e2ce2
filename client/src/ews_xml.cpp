#include "internal/ews_xml.hpp"

#include <algorithm>
#include <cctype>

#include "exo/common/xml_text.hpp"

namespace exo::client::ews {

namespace {

constexpr const char* kAccessDeniedRemedy =
    "Exchange refused the app for this mailbox (HTTP 403, no details). Check, in order: an "
    "ApplicationAccessPolicy (RestrictAccess) whose group does not contain the mailbox (seed step "
    "5.7; Test-ApplicationAccessPolicy), RBAC for Applications scopes, the tenant's EWS app allow "
    "list (EwsAllowedAppIDs / EwsEnabled) and the mailbox's licence. Access-policy changes can "
    "take "
    "more than an hour to reach EWS even when Test-ApplicationAccessPolicy already says Granted.";

std::optional<Duration> BackOff(pugi::xml_node message_xml) {
  for (pugi::xml_node v = message_xml.first_child(); v; v = v.next_sibling()) {
    if (LocalName(v.name()) == "Value" &&
        std::string_view(v.attribute("Name").as_string()) == "BackOffMilliseconds") {
      const std::string text = v.text().as_string();
      if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit) && text.size() < 12) {
        return std::chrono::milliseconds(std::stoll(text));
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::string Escape(std::string_view text) { return XmlEscape(text); }

std::string_view LocalName(const char* qualified) {
  std::string_view n(qualified);
  const auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == name) return c;
  }
  return {};
}

std::vector<pugi::xml_node> Children(pugi::xml_node parent, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == name) out.push_back(c);
  }
  return out;
}

pugi::xml_node Find(pugi::xml_node root, std::string_view name) {
  // Iterative, so a deeply nested answer cannot exhaust the stack.
  pugi::xml_node n = root.first_child();
  while (n) {
    if (n.type() == pugi::node_element && LocalName(n.name()) == name) return n;
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && !n.next_sibling() && n != root) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  return {};
}

std::string Envelope(const std::string& version, const std::string& mailbox,
                     const std::string& body) {
  return std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>") +
         "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"" +
         kTypes + "\" xmlns:m=\"" + kMessages +
         "\"><soap:Header><t:RequestServerVersion Version=\"" + Escape(version) +
         "\"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>" + Escape(mailbox) +
         "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
         "<t:TimeZoneContext><t:TimeZoneDefinition Id=\"UTC\"/></t:TimeZoneContext></soap:Header>"
         "<soap:Body>" +
         body + "</soap:Body></soap:Envelope>";
}

Error CodeError(const std::string& code, const std::string& message, int http_status,
                const std::string& mailbox) {
  Error e;
  e.code = code;
  e.message = message;
  e.http_status = http_status;
  if (code == "ErrorServerBusy" || code == "ErrorExceededConnectionCount" ||
      code == "ErrorTooManyObjectsOpened") {
    e.category = ErrorCategory::kThrottled;
    e.remedy = "Exchange throttled the app; the client waits the back-off it was given";
  } else if (code == "ErrorInternalServerError" || code == "ErrorInternalServerTransientError" ||
             code == "ErrorMailboxStoreUnavailable" || code == "ErrorMailboxMoveInProgress" ||
             code == "ErrorTimeoutExpired" || code == "ErrorConnectionFailed") {
    e.category = ErrorCategory::kTransient;
  } else if (code == "ErrorNonExistentMailbox") {
    e.category = ErrorCategory::kNotFound;
    e.remedy = "Exchange Online has no mailbox for " + mailbox +
               ": check EmailIntegrationMailbox; a hybrid mailbox that lives on-premises is found "
               "through autodiscover (leave EmailIntegrationEwsUrl empty)";
  } else if (code == "ErrorItemNotFound" || code == "ErrorFolderNotFound" ||
             code == "ErrorToFolderNotFound" || code == "ErrorSubscriptionNotFound") {
    e.category = ErrorCategory::kNotFound;
  } else if (code == "ErrorAccessDenied" || code == "ErrorImpersonateUserDenied" ||
             code == "ErrorImpersonationDenied") {
    e.category = ErrorCategory::kAuthorization;
    e.remedy = kAccessDeniedRemedy;
  } else if (code == "ErrorInvalidExchangeImpersonationHeaderData") {
    e.category = ErrorCategory::kConfiguration;
    e.remedy =
        "the token is not an app-only token for impersonation: use the client "
        "credentials flow with full_access_as_app (seed step 2.2)";
  } else {
    e.category = ErrorCategory::kProtocol;
  }
  return e;
}

std::optional<Error> MessageError(pugi::xml_node message) {
  if (std::string_view(message.attribute("ResponseClass").as_string()) != "Error") {
    return std::nullopt;
  }
  Error e = CodeError(Child(message, "ResponseCode").text().as_string(),
                      Child(message, "MessageText").text().as_string(), 200, "");
  e.retry_after = BackOff(Child(message, "MessageXml"));
  if (e.category == ErrorCategory::kThrottled && !e.retry_after) {
    e.retry_after = std::chrono::seconds(1);  // Exchange sometimes omits it; never zero
  }
  return e;
}

Result<std::unique_ptr<Answer>> ReadAnswer(const HttpResponse& response,
                                           const std::string& mailbox) {
  auto answer = std::make_unique<Answer>();
  const bool xml =
      !response.body.empty() && answer->doc.load_buffer(response.body.data(), response.body.size(),
                                                        pugi::parse_default & ~pugi::parse_doctype);
  if (response.status == 500 && xml) {
    pugi::xml_node fault = Find(answer->doc, "Fault");
    if (fault) {
      std::string code = Find(fault, "ResponseCode").text().as_string();
      if (code.empty()) {
        code = Child(fault, "faultcode").text().as_string();
        code = std::string(LocalName(code.c_str()));
      }
      Error e = CodeError(code, Child(fault, "faultstring").text().as_string(), 500, mailbox);
      e.retry_after = BackOff(Find(fault, "MessageXml"));
      if (e.category == ErrorCategory::kThrottled && !e.retry_after) {
        e.retry_after = std::chrono::seconds(1);
      }
      return std::unexpected(e);
    }
  }
  if (response.status != 200) {
    Error e;
    e.http_status = response.status;
    e.code = "HTTP " + std::to_string(response.status);
    const std::string diagnostics = response.Header("x-ms-diagnostics");
    e.message = "EWS answered HTTP " + std::to_string(response.status) +
                (diagnostics.empty() ? "" : " (" + diagnostics + ")");
    if (response.status == 401 && diagnostics.find("no permissions") != std::string::npos) {
      // A token without roles that no RBAC for Applications assignment covers either.
      e.category = ErrorCategory::kAuthorization;
      e.code = "NoRoles";
      e.message = "Exchange refused a token without application roles" +
                  (diagnostics.empty() ? std::string() : " (" + diagnostics + ")");
      e.remedy =
          "add the application permission full_access_as_app of Office 365 Exchange Online (seed "
          "step 2.2) and grant admin consent (seed step 2.3), or assign the app a role through RBAC "
          "for Applications (New-ManagementRoleAssignment -App … -Role \"Application "
          "EWS.AccessAsApp\"); consent can take a few minutes to reach new tokens";
    } else if (response.status == 401) {
      e.category = ErrorCategory::kAuthentication;
      e.remedy = "Exchange rejected the token (see x-ms-diagnostics): check the tenant, the "
                 "scope https://outlook.office365.com/.default and this machine's clock";
    } else if (response.status == 403) {
      e.category = ErrorCategory::kAuthorization;
      if (diagnostics.find("not enough scope") != std::string::npos) {
        e.code = "ErrorAccessDenied";
        e.remedy =
            "the token's roles do not include full_access_as_app (EWS needs it; Mail.Read "
            "is for Graph): add it (seed step 2.2) and grant admin consent (seed step 2.3)";
      } else {
        e.code = "ErrorAccessDenied";
        e.remedy = kAccessDeniedRemedy;
      }
    } else if (response.status == 503 || response.status == 429) {
      e.category = ErrorCategory::kThrottled;
      const std::string retry = response.Header("Retry-After");
      if (!retry.empty() && retry.size() < 9 &&
          std::all_of(retry.begin(), retry.end(), ::isdigit)) {
        e.retry_after = std::chrono::seconds(std::stol(retry));
      } else {
        e.retry_after = std::chrono::seconds(30);
      }
      e.remedy = "Exchange is overloaded; the client waits Retry-After";
    } else if (response.status >= 500) {
      e.category = ErrorCategory::kTransient;
    } else {
      e.category = ErrorCategory::kProtocol;
      e.remedy = "check EmailIntegrationEwsUrl: it must end in /EWS/Exchange.asmx";
    }
    return std::unexpected(e);
  }
  if (!xml) {
    return Fail(ErrorCategory::kProtocol, "InvalidSoap",
                "EWS answered 200 with a body that is not XML",
                "check EmailIntegrationEwsUrl points at Exchange, not a proxy's login page");
  }
  if (pugi::xml_node info = Find(answer->doc, "ServerVersionInfo")) {
    answer->server_version = info.attribute("Version").as_string();
    if (answer->server_version.empty()) {
      answer->server_version = std::string(info.attribute("MajorVersion").as_string()) + "." +
                               info.attribute("MinorVersion").as_string();
    }
  }
  pugi::xml_node messages = Find(answer->doc, "ResponseMessages");
  if (!messages) {
    return Fail(ErrorCategory::kProtocol, "InvalidSoap", "the EWS answer has no ResponseMessages");
  }
  for (pugi::xml_node m = messages.first_child(); m; m = m.next_sibling()) {
    if (m.type() == pugi::node_element) answer->messages.push_back(m);
  }
  return answer;
}

bool IsExchangeOnlineScope(const std::string& scope) {
  std::string s = scope;
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* exo : {"https://outlook.office365.com", "https://outlook.office.com",
                          "https://outlook.office365.us", "https://outlook.office.de",
                          "https://partner.outlook.cn", "00000002-0000-0ff1-ce00-000000000000"}) {
    if (s.starts_with(exo)) return true;
  }
  return false;
}

Error ExplainOnPremises(Error e, const std::string& url, const std::string& scope) {
  std::string audience = scope;
  if (audience.ends_with("/.default")) audience.resize(audience.size() - 9);
  const std::string spn =
      audience + " must be a servicePrincipalName of the tenant's \"Office 365 Exchange Online\" "
                 "service principal (00000002-0000-0ff1-ce00-000000000000; hybrid modern "
                 "authentication: Update-MgServicePrincipal -ServicePrincipalNames)";
  if (e.code == "AADSTS500011") {
    // Entra does not know the on-premises URL as a resource: the SPN is missing.
    e.category = ErrorCategory::kConfiguration;
    e.remedy = "Entra ID issues tokens for the on-premises server " + url + " only when " + spn +
               "; add it, or use the Exchange Online endpoint";
    return e;
  }
  if (e.http_status == 403) {
    e.category = ErrorCategory::kAuthorization;
    e.message = "the on-premises Exchange server " + url + " refused the app-only token: " +
                e.message;
    e.remedy =
        "app-only OAuth is not configured on this Exchange Server (Microsoft documents EWS "
        "app-only OAuth for Exchange Online only). On-premises it takes, on every server that "
        "serves EWS, the V1S2SAppOnly profile in OAuthHttpModule.Profiles and AppOnlyPermissions "
        "on the partner application (an unsupported configuration) — or move the mailbox to "
        "Exchange Online. Also check the token: its audience " +
        spn + ", and the app needs full_access_as_app with admin consent (seed steps 2.2, 2.3)";
    return e;
  }
  if (e.http_status == 401) {
    e.category = ErrorCategory::kAuthentication;
    e.message = "the on-premises Exchange server " + url + " rejected the token: " + e.message;
    if (e.message.find("2000003") != std::string::npos ||
        e.message.find("invalid_resource") != std::string::npos) {
      // "… Expected 'https://mail.contoso.com'. Actual '…'." names the audience to ask for.
      std::string expected = audience;
      if (auto at = e.message.find("Expected '"); at != std::string::npos) {
        const auto end = e.message.find('\'', at + 10);
        if (end != std::string::npos) expected = e.message.substr(at + 10, end - at - 10);
      }
      e.remedy = "the token's audience is not the one this server expects: request the scope " +
                 expected + "/.default for " + url + "; " + expected +
                 spn.substr(audience.size());
    } else {
      e.remedy =
          "hybrid modern authentication must accept Entra ID tokens on this server: the EvoSTS "
          "auth server as default authorization endpoint (Set-AuthServer EvoSTS "
          "-IsDefaultAuthorizationEndpoint $true; Set-OrganizationConfig "
          "-OAuth2ClientProfileEnabled $true); the token's audience " +
          spn + "; app-only tokens also need app-only OAuth configured on the server";
    }
  }
  return e;
}

}  // namespace exo::client::ews
