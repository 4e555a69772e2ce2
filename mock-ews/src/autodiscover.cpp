#include "internal/autodiscover.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "exo/mock_kit/journal.hpp"
#include "internal/soap.hpp"

namespace exo::mock_ews {

namespace {

constexpr const char* kAutodiscoverNs = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
constexpr const char* kAddressingNs = "http://www.w3.org/2005/08/addressing";
constexpr const char* kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";
constexpr const char* kGetUserSettingsAction =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";
constexpr const char* kPoxResponseNs =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
constexpr const char* kPoxOutlookNs =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

// Exchange Online's Autodiscover identity: the build of the EWS ServerVersionInfo (soap.cpp),
// "Exchange2015" as EXO's autodiscover.svc names itself, its CasVersion spelling (NN.NN.NNNN.NNN),
// and the ExternalEwsVersion EXO reports (sic).
constexpr const char* kCasVersion = "15.20.8769.035";
constexpr const char* kExternalEwsVersion = "15.00.0000.000";
// POX ServerVersion: the build packed as Exchange does (major<<22 | minor<<16 | 0x8000 | build
// under a 0x7 marker nibble), which exchangelib unpacks as 15.20.8769.
constexpr const char* kPoxServerVersion = "73D4A241";
constexpr const char* kEwsSupportedSchemas =
    "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, "
    "Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016";
constexpr const char* kLegacyOrg =
    "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";
// The affinity group every mailbox of this one-server mock shares (ews.md §1.6).
constexpr const char* kGroupingInformation = "MOCKPR01";

// RequestedServerVersion values the SOAP service accepts: its own enum, which stops at
// Exchange2016 (ews-managed-api#140: "V2015_10_05" is refused, "use Exchange2016").
const std::set<std::string, std::less<>> kAutodiscoverVersions = {
    "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2013", "Exchange2013_SP1", "Exchange2016"};

// Every UserSettingName (setting-soap.md, exchangelib's and ews-javascript-api's enums). Names
// outside it are InvalidSetting; names in it the mock does not model are SettingIsNotAvailable.
const std::set<std::string, std::less<>> kKnownSettings = {
    "UserDisplayName",
    "UserDN",
    "UserDeploymentId",
    "InternalMailboxServer",
    "InternalRpcClientServer",
    "InternalMailboxServerDN",
    "InternalEcpUrl",
    "InternalEcpVoicemailUrl",
    "InternalEcpEmailSubscriptionsUrl",
    "InternalEcpTextMessagingUrl",
    "InternalEcpDeliveryReportUrl",
    "InternalEcpRetentionPolicyTagsUrl",
    "InternalEcpPublishingUrl",
    "InternalEwsUrl",
    "InternalOABUrl",
    "InternalUMUrl",
    "InternalWebClientUrls",
    "MailboxDN",
    "PublicFolderServer",
    "ActiveDirectoryServer",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "ExternalMailboxServerAuthenticationMethods",
    "EcpVoicemailUrlFragment",
    "EcpEmailSubscriptionsUrlFragment",
    "EcpTextMessagingUrlFragment",
    "EcpDeliveryReportUrlFragment",
    "EcpRetentionPolicyTagsUrlFragment",
    "EcpPublishingUrlFragment",
    "ExternalEcpUrl",
    "ExternalEcpVoicemailUrl",
    "ExternalEcpEmailSubscriptionsUrl",
    "ExternalEcpTextMessagingUrl",
    "ExternalEcpDeliveryReportUrl",
    "ExternalEcpRetentionPolicyTagsUrl",
    "ExternalEcpPublishingUrl",
    "ExternalEwsUrl",
    "ExternalOABUrl",
    "ExternalUMUrl",
    "ExternalWebClientUrls",
    "CrossOrganizationSharingEnabled",
    "AlternateMailboxes",
    "CasVersion",
    "EwsSupportedSchemas",
    "InternalPop3Connections",
    "ExternalPop3Connections",
    "InternalImap4Connections",
    "ExternalImap4Connections",
    "InternalSmtpConnections",
    "ExternalSmtpConnections",
    "InternalServerExclusiveConnect",
    "ExternalServerExclusiveConnect",
    "ExchangeRpcUrl",
    "ShowGalAsDefaultView",
    "AutoDiscoverSMTPAddress",
    "InteropExternalEwsUrl",
    "ExternalEwsVersion",
    "InteropExternalEwsVersion",
    "MobileMailboxPolicyInterop",
    "GroupingInformation",
    "UserMSOnline",
    "MapiHttpEnabled",
    "EwsPartnerUrl",
    "DocumentSharingLocations",
    "ExternalPhotosUrl",
    "InternalPhotosUrl",
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// Query values by case-insensitive name: Outlook sends "Email", scripts "email".
std::string Param(const httplib::Request& req, std::string_view name) {
  for (const auto& [key, value] : req.params) {
    if (IEquals(key, name)) return value;
  }
  return {};
}

// "https://mail.contoso.com" from "https://mail.contoso.com/EWS/Exchange.asmx".
std::string Origin(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

bool IsHttpUrl(std::string_view url) {
  return (url.starts_with("https://") && url.size() > 8) ||
         (url.starts_with("http://") && url.size() > 7);
}

// What autodiscover knows about one address.
struct Lookup {
  enum class Kind { kMailbox, kElsewhere, kRedirectAddress, kRedirectUrl, kUnknown };
  Kind kind = Kind::kUnknown;
  std::optional<Mailbox> mailbox;  // the store's mailbox, when there is one
  std::string target;              // EWS URL (kMailbox, kElsewhere) or redirect target
};

// The user-level values GetUserSettings and POX report for a resolved address.
struct UserValues {
  std::string smtp;
  std::string display_name;
  std::string user_dn;
  std::string mailbox_dn;  // empty: not available
  std::string deployment_id;
  std::string ews_url;
  std::string mailbox_server;
  bool ms_online = true;
};

class AutodiscoverService final : public AutodiscoverRedirects {
 public:
  AutodiscoverService(mock::HttpServer& server, const MailboxStore& store,
                      const TokenValidator& tokens, Clock& clock, AutodiscoverIdentity identity)
      : server_(server),
        store_(store),
        tokens_(tokens),
        clock_(clock),
        identity_(std::move(identity)) {}

  Result<void> Set(const std::string& smtp, AutodiscoverRedirect target) override {
    if (smtp.find('@') == std::string::npos) {
      return Fail(ErrorCategory::kConfiguration, "InvalidAddress",
                  "'" + smtp + "' is not an SMTP address", "give the address as user@domain");
    }
    if (target.ews_url.empty() && target.redirect_address.empty() && target.redirect_url.empty()) {
      return Fail(ErrorCategory::kConfiguration, "EmptyAutodiscoverRedirect",
                  "the redirect names no EWS URL, redirect address or redirect URL",
                  "set ewsUrl, redirectAddress or redirectUrl");
    }
    for (const std::string* url : {&target.ews_url, &target.redirect_url}) {
      if (!url->empty() && !IsHttpUrl(*url)) {
        return Fail(ErrorCategory::kConfiguration, "InvalidUrl",
                    "'" + *url + "' is not an http(s) URL", "give an absolute https:// URL");
      }
    }
    if (!target.redirect_address.empty() &&
        target.redirect_address.find('@') == std::string::npos) {
      return Fail(ErrorCategory::kConfiguration, "InvalidAddress",
                  "'" + target.redirect_address + "' is not an SMTP address",
                  "give the redirect address as user@domain");
    }
    std::lock_guard lock(mu_);
    redirects_[Lower(smtp)] = std::move(target);
    return {};
  }

  bool Clear(const std::string& smtp) override {
    std::lock_guard lock(mu_);
    return redirects_.erase(Lower(smtp)) > 0;
  }

  void Register(const std::shared_ptr<AutodiscoverService>& self);

 private:
  // What clients are told: an on-premises server's public URL, not the listener's.
  std::string BaseUrl() const {
    return identity_.public_url.empty() ? server_.base_url() : identity_.public_url;
  }
  std::string EwsUrl() const { return BaseUrl() + "/EWS/Exchange.asmx"; }

  Lookup Find(const std::string& smtp) const {
    Lookup l;
    std::optional<AutodiscoverRedirect> redirect;
    {
      std::lock_guard lock(mu_);
      if (auto it = redirects_.find(Lower(smtp)); it != redirects_.end()) redirect = it->second;
    }
    if (auto m = store_.ResolveMailbox(smtp, MailboxKey::kSmtpAddress)) l.mailbox = *m;
    if (redirect && !redirect->redirect_address.empty()) {
      l.kind = Lookup::Kind::kRedirectAddress;
      l.target = redirect->redirect_address;
    } else if (redirect && !redirect->redirect_url.empty()) {
      l.kind = Lookup::Kind::kRedirectUrl;
      l.target = redirect->redirect_url;
    } else if (redirect) {
      l.kind = Lookup::Kind::kElsewhere;
      l.target = redirect->ews_url;
    } else if (l.mailbox) {
      l.kind = Lookup::Kind::kMailbox;
      l.target = EwsUrl();
    }
    return l;
  }

  // Values for kMailbox and kElsewhere. An address with no mailbox here (a hybrid mail user) gets
  // on-premises-style names built from its local part.
  UserValues Values(const std::string& requested, const Lookup& l) const {
    UserValues v;
    v.ews_url = l.target;
    v.mailbox_server = Origin(l.target).substr(Origin(l.target).find("://") + 3);
    v.ms_online = identity_.exchange_online && l.kind == Lookup::Kind::kMailbox;
    if (l.mailbox) {
      const Mailbox& m = *l.mailbox;
      std::string hex = m.object_guid;
      std::erase(hex, '-');
      const std::string domain = m.primary_smtp_address.substr(m.primary_smtp_address.find('@'));
      v.smtp = m.primary_smtp_address;
      v.display_name = m.display_name.empty() ? m.alias : m.display_name;
      v.user_dn = std::string(kLegacyOrg) + "/cn=Recipients/cn=" + hex + "-" + m.alias;
      v.mailbox_dn = std::string(kLegacyOrg) + "/cn=Configuration/cn=Servers/cn=" + m.object_guid +
                     domain + "/cn=Microsoft Private MDB";
      v.deployment_id = m.organization_id;
    } else {
      const std::string alias = requested.substr(0, requested.find('@'));
      v.smtp = requested;
      v.display_name = alias;
      v.user_dn =
          "/o=First Organization/ou=Exchange Administrative Group "
          "(FYDIBOHF23SPDLT)/cn=Recipients/cn=" +
          alias;
    }
    return v;
  }

  // The value of one modelled setting; nullopt: SettingIsNotAvailable.
  static std::optional<std::string> SettingValue(const UserValues& v, std::string_view name) {
    if (name == "UserDisplayName") return v.display_name;
    if (name == "UserDN") return v.user_dn;
    if (name == "AutoDiscoverSMTPAddress") return v.smtp;
    if (name == "ExternalEwsUrl" || name == "InternalEwsUrl") return v.ews_url;
    if (name == "EwsSupportedSchemas") return std::string(kEwsSupportedSchemas);
    if (name == "CasVersion") return std::string(kCasVersion);
    if (name == "ExternalEwsVersion") return std::string(kExternalEwsVersion);
    if (name == "ExternalMailboxServer") return v.mailbox_server;
    if (name == "UserMSOnline") return std::string(v.ms_online ? "True" : "False");
    if (v.mailbox_dn.empty()) return std::nullopt;  // the rest exist for our own mailboxes only
    if (name == "MailboxDN") return v.mailbox_dn;
    if (name == "UserDeploymentId") return v.deployment_id;
    if (name == "GroupingInformation") return std::string(kGroupingInformation);
    return std::nullopt;
  }

  // Exchange Online answers refused tokens before reading the request: empty body (ews.md §3.1).
  bool Refused(const httplib::Request& req, httplib::Response& res) const {
    EwsCaller caller;
    auto refused = tokens_.Check(req.get_header_value("Authorization"), caller);
    if (!refused) {
      mock::Annotate("tenant", caller.tenant_id);
      mock::Annotate("client_id", caller.app_id);
      return false;
    }
    res.status = refused->status;
    if (!refused->www_authenticate.empty()) {
      res.set_header("WWW-Authenticate", refused->www_authenticate);
    }
    if (!refused->diagnostics.empty()) res.set_header("x-ms-diagnostics", refused->diagnostics);
    return true;
  }

  void HandleJson(const httplib::Request& req, httplib::Response& res, const std::string& smtp,
                  bool query_form) const;
  void HandleSoap(const httplib::Request& req, httplib::Response& res) const;
  void HandlePox(const httplib::Request& req, httplib::Response& res) const;

  std::string UserResponseXml(const std::string& smtp,
                              const std::vector<std::string>& settings) const;

  mock::HttpServer& server_;
  const MailboxStore& store_;
  const TokenValidator& tokens_;
  Clock& clock_;
  const AutodiscoverIdentity identity_;
  mutable std::mutex mu_;
  std::map<std::string, AutodiscoverRedirect> redirects_;  // by lower-case address
};

// ---- Autodiscover v2 (JSON) ----------------------------------------------------------------

void ReplyJsonBody(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_header("Cache-Control", "private");
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

// 302 with ASP.NET's "Object moved" page, as Exchange Online redirects v2 lookups.
void ReplyMoved(httplib::Response& res, const std::string& location) {
  res.status = 302;
  res.set_header("Cache-Control", "private");
  res.set_header("Location", location);
  res.set_content(
      "<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to "
      "<a href=\"" +
          Esc(location) + "\">here</a>.</h2>\r\n</body></html>\r\n",
      "text/html; charset=utf-8");
}

// The path each v2 protocol's URL has on a host; empty for an unknown protocol.
std::string ProtocolPath(std::string_view protocol) {
  const std::string p = Lower(protocol);
  if (p == "ews") return "/EWS/Exchange.asmx";
  if (p == "autodiscoverv1") return "/autodiscover/autodiscover.xml";
  if (p == "activesync") return "/Microsoft-Server-ActiveSync";
  if (p == "rest") return "/api";
  return {};
}

void AutodiscoverService::HandleJson(const httplib::Request& req, httplib::Response& res,
                                     const std::string& smtp, bool query_form) const {
  mock::Annotate("operation", "autodiscover.json");
  const std::string protocol = Param(req, "Protocol");
  const std::string path = ProtocolPath(protocol);
  if (path.empty()) {
    res.set_header("jsonerror", "true");
    ReplyJsonBody(res, 400,
                  {{"ErrorCode", "ProtocolNotSupported"},
                   {"ErrorMessage", "The given protocol value '" + protocol +
                                        "' is not supported. Supported values are "
                                        "'Rest,ActiveSync,Ews,AutodiscoverV1'"}});
    return;
  }
  int redirect_count = 0;
  try {
    redirect_count = std::stoi(Param(req, "RedirectCount"));
  } catch (...) {
    redirect_count = 0;  // absent or not a number: the first hop
  }
  const std::string next_hop = "&Protocol=" + PercentEncode(protocol) +
                               "&RedirectCount=" + std::to_string(redirect_count + 1);
  const Lookup l = Find(smtp);
  switch (l.kind) {
    case Lookup::Kind::kMailbox:
    case Lookup::Kind::kElsewhere: {
      const bool ews = IEquals(protocol, "ews");
      ReplyJsonBody(res, 200,
                    {{"Protocol", protocol}, {"Url", ews ? l.target : Origin(l.target) + path}});
      return;
    }
    case Lookup::Kind::kRedirectAddress:
      ReplyMoved(res, BaseUrl() + "/autodiscover/autodiscover.json?Email=" +
                          PercentEncode(l.target) + next_hop);
      return;
    case Lookup::Kind::kRedirectUrl:
      ReplyMoved(res, Origin(l.target) + "/autodiscover/autodiscover.json?Email=" +
                          PercentEncode(smtp) + next_hop);
      return;
    case Lookup::Kind::kUnknown:
      break;
  }
  // An address Exchange Online does not know: the per-user path form sends the client on to the
  // domain-based query form, which has nowhere further to send it.
  if (!query_form) {
    ReplyMoved(
        res, BaseUrl() + "/autodiscover/autodiscover.json?Email=" + PercentEncode(smtp) + next_hop);
    return;
  }
  res.status = 404;
  res.set_header("Cache-Control", "private");
}

// ---- SOAP Autodiscover -----------------------------------------------------------------------

std::string SoapEnvelope(const std::string& body) {
  return std::string("<s:Envelope xmlns:s=\"") + kSoapNs + "\" xmlns:a=\"" + kAddressingNs +
         "\"><s:Header><a:Action s:mustUnderstand=\"1\">" + kGetUserSettingsAction +
         "Response</a:Action><h:ServerVersionInfo xmlns:h=\"" + kAutodiscoverNs + "\" xmlns:i=\"" +
         kXsiNs +
         "\"><h:MajorVersion>15</h:MajorVersion><h:MinorVersion>20</h:MinorVersion>"
         "<h:MajorBuildNumber>8769</h:MajorBuildNumber><h:MinorBuildNumber>35</h:MinorBuildNumber>"
         "<h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header><s:Body>"
         "<GetUserSettingsResponseMessage xmlns=\"" +
         kAutodiscoverNs + "\"><Response xmlns:i=\"" + kXsiNs + "\">" + body +
         "</Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>";
}

void ReplySoap(httplib::Response& res, int status, const std::string& xml) {
  res.status = status;
  res.set_content(xml, "text/xml; charset=utf-8");
}

// A request-level Autodiscover error: HTTP 200, ErrorCode on Response, no UserResponses.
void ReplyRequestError(httplib::Response& res, const std::string& code,
                       const std::string& message) {
  ReplySoap(res, 200,
            SoapEnvelope("<ErrorCode>" + code + "</ErrorCode><ErrorMessage>" + Esc(message) +
                         "</ErrorMessage>"));
}

// WCF's answer to an Action no operation of the contract has (exchangelib 4.9 maps it to
// ErrorInvalidServerVersion).
void ReplyActionNotSupported(httplib::Response& res, const std::string& action) {
  ReplySoap(res, 500,
            std::string("<s:Envelope xmlns:s=\"") + kSoapNs +
                "\"><s:Body><s:Fault><faultcode "
                "xmlns:a=\"http://schemas.microsoft.com/ws/2005/05/addressing/none\">"
                "a:ActionNotSupported</faultcode><faultstring xml:lang=\"en-US\">The message with "
                "Action '" +
                Esc(action) +
                "' cannot be processed at the receiver, due to a ContractFilter mismatch at the "
                "EndpointDispatcher. This may be because of either a contract mismatch "
                "(mismatched Actions between sender and receiver) or a binding/security mismatch "
                "between the sender and the receiver.  Check that sender and receiver have the "
                "same contract and same binding (including security requirements, e.g. Message, "
                "Transport, None).</faultstring></s:Fault></s:Body></s:Envelope>");
}

std::string UserResponse(const std::string& code, const std::string& message,
                         const std::string& redirect_target, const std::string& errors,
                         const std::string& settings) {
  return "<UserResponse><ErrorCode>" + code + "</ErrorCode><ErrorMessage>" + Esc(message) +
         "</ErrorMessage>" +
         (redirect_target.empty()
              ? std::string("<RedirectTarget i:nil=\"true\"/>")
              : "<RedirectTarget>" + Esc(redirect_target) + "</RedirectTarget>") +
         (errors.empty() ? "<UserSettingErrors/>"
                         : "<UserSettingErrors>" + errors + "</UserSettingErrors>") +
         (settings.empty() ? "<UserSettings/>" : "<UserSettings>" + settings + "</UserSettings>") +
         "</UserResponse>";
}

std::string SettingError(const std::string& code, const std::string& message,
                         const std::string& name) {
  return "<UserSettingError><ErrorCode>" + code + "</ErrorCode><ErrorMessage>" + Esc(message) +
         "</ErrorMessage><SettingName>" + Esc(name) + "</SettingName></UserSettingError>";
}

std::string AutodiscoverService::UserResponseXml(const std::string& smtp,
                                                 const std::vector<std::string>& settings) const {
  const Lookup l = Find(smtp);
  switch (l.kind) {
    case Lookup::Kind::kUnknown:
      return UserResponse("InvalidUser", "Invalid user '" + smtp + "'.", "", "", "");
    case Lookup::Kind::kRedirectAddress:
      return UserResponse("RedirectAddress", "Redirection address.", l.target, "", "");
    case Lookup::Kind::kRedirectUrl:
      return UserResponse("RedirectUrl", "Redirection URL.", l.target, "", "");
    case Lookup::Kind::kMailbox:
    case Lookup::Kind::kElsewhere:
      break;
  }
  const UserValues v = Values(smtp, l);
  std::string values;
  std::string errors;
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : settings) {
    if (!seen.insert(name).second) continue;
    if (!kKnownSettings.contains(name)) {
      errors += SettingError("InvalidSetting", "User setting '" + name + "' is invalid. ", name);
    } else if (auto value = SettingValue(v, name)) {
      values += "<UserSetting i:type=\"StringSetting\"><Name>" + name + "</Name><Value>" +
                Esc(*value) + "</Value></UserSetting>";
    } else {
      // Exchange's own text, trailing space included.
      errors += SettingError("SettingIsNotAvailable",
                             "User setting '" + name + "' is not available. ", name);
    }
  }
  return UserResponse("NoError", "No error.", "", errors, values);
}

void AutodiscoverService::HandleSoap(const httplib::Request& req, httplib::Response& res) const {
  mock::Annotate("operation", "autodiscover.soap");
  if (Refused(req, res)) return;
  pugi::xml_document doc;
  pugi::xml_node envelope;
  if (doc.load_buffer(req.body.data(), req.body.size())) envelope = FirstElement(doc);
  if (!envelope || Local(envelope.name()) != "Envelope") {
    res.status = 400;  // WCF rejects a body that is not a SOAP envelope before dispatching it
    return;
  }
  const pugi::xml_node header = Child(envelope, "Header");
  std::string action = Text(Child(header, "Action"));
  if (action.empty()) {
    // Without WS-Addressing WCF dispatches on the SOAPAction header, quotes stripped.
    action = req.get_header_value("SOAPAction");
    std::erase(action, '"');
  }
  mock::Annotate("action", action);
  if (action != kGetUserSettingsAction) return ReplyActionNotSupported(res, action);
  const std::string version = Text(Child(header, "RequestedServerVersion"));
  if (!kAutodiscoverVersions.contains(version)) {
    // Exchange's own text, double space included.
    return ReplyRequestError(res, "InvalidRequest",
                             "The RequestedServerVersion  header is missing or invalid.");
  }
  const pugi::xml_node request =
      Child(Child(Child(envelope, "Body"), "GetUserSettingsRequestMessage"), "Request");
  const pugi::xml_node users = Child(request, "Users");
  if (!request || !FirstElement(users)) {
    return ReplyRequestError(res, "InvalidRequest", "The request is invalid.");
  }
  std::vector<std::string> settings;
  for (pugi::xml_node s = Child(request, "RequestedSettings").first_child(); s;
       s = s.next_sibling()) {
    if (s.type() == pugi::node_element && Local(s.name()) == "Setting") settings.push_back(Text(s));
  }
  std::string responses;
  for (pugi::xml_node u = users.first_child(); u; u = u.next_sibling()) {
    if (u.type() != pugi::node_element || Local(u.name()) != "User") continue;
    responses += UserResponseXml(Text(Child(u, "Mailbox")), settings);
  }
  ReplySoap(res, 200,
            SoapEnvelope("<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>" +
                         responses + "</UserResponses>"));
}

// ---- POX Autodiscover ------------------------------------------------------------------------

void AutodiscoverService::HandlePox(const httplib::Request& req, httplib::Response& res) const {
  mock::Annotate("operation", "autodiscover.pox");
  if (Refused(req, res)) return;
  pugi::xml_document doc;
  std::string address;
  if (doc.load_buffer(req.body.data(), req.body.size())) {
    address = Text(Child(Child(FirstElement(doc), "Request"), "EMailAddress"));
  }
  const std::string open = std::string(
                               "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover "
                               "xmlns=\"") +
                           kPoxResponseNs + "\">";
  auto error = [&](int code, const std::string& message) {
    // Error sits in the base namespace, Time is the server's time of day.
    const std::string ticks = FormatIso8601Ticks(clock_.Now());
    const auto t = ticks.find('T');
    const std::string time = t == std::string::npos ? ticks : ticks.substr(t + 1, 16);
    ReplySoap(res, 200,
              open + "<Response><Error Time=\"" + time + "\" Id=\"" +
                  std::to_string(ToUnixSeconds(clock_.Now()) & 0x7fffffff) + "\"><ErrorCode>" +
                  std::to_string(code) + "</ErrorCode><Message>" + message +
                  "</Message><DebugData/></Error></Response></Autodiscover>");
  };
  if (address.empty()) return error(600, "Invalid Request");
  const Lookup l = Find(address);
  const std::string account_open = "<Response xmlns=\"" + std::string(kPoxOutlookNs) + "\">";
  switch (l.kind) {
    case Lookup::Kind::kUnknown:
      return error(500, "The email address can't be found.");
    case Lookup::Kind::kRedirectAddress:
      return ReplySoap(res, 200,
                       open + account_open +
                           "<Account><AccountType>email</AccountType><Action>redirectAddr</Action>"
                           "<RedirectAddr>" +
                           Esc(l.target) + "</RedirectAddr></Account></Response></Autodiscover>");
    case Lookup::Kind::kRedirectUrl:
      return ReplySoap(res, 200,
                       open + account_open +
                           "<Account><AccountType>email</AccountType><Action>redirectUrl</Action>"
                           "<RedirectUrl>" +
                           Esc(l.target) + "</RedirectUrl></Account></Response></Autodiscover>");
    case Lookup::Kind::kMailbox:
    case Lookup::Kind::kElsewhere:
      break;
  }
  const UserValues v = Values(address, l);
  std::string user = "<User><DisplayName>" + Esc(v.display_name) + "</DisplayName><LegacyDN>" +
                     Esc(v.user_dn) + "</LegacyDN><AutoDiscoverSMTPAddress>" + Esc(v.smtp) +
                     "</AutoDiscoverSMTPAddress>";
  if (!v.deployment_id.empty()) user += "<DeploymentId>" + Esc(v.deployment_id) + "</DeploymentId>";
  user += "</User>";
  ReplySoap(res, 200,
            open + account_open + user +
                "<Account><AccountType>email</AccountType><Action>settings</Action>"
                "<MicrosoftOnline>" +
                (v.ms_online ? "True" : "False") +
                "</MicrosoftOnline><Protocol><Type>EXPR</Type><Server>" + Esc(v.mailbox_server) +
                "</Server><ServerVersion>" + kPoxServerVersion + "</ServerVersion><ASUrl>" +
                Esc(v.ews_url) + "</ASUrl><EwsUrl>" + Esc(v.ews_url) +
                "</EwsUrl></Protocol></Account></Response></Autodiscover>");
}

// ---- Routes ----------------------------------------------------------------------------------

nlohmann::json RedirectJson(const std::string& smtp, const AutodiscoverRedirect& r) {
  return {{"smtp", smtp},
          {"ewsUrl", r.ews_url},
          {"redirectAddress", r.redirect_address},
          {"redirectUrl", r.redirect_url}};
}

void AutodiscoverService::Register(const std::shared_ptr<AutodiscoverService>& self) {
  // The routes hold the component: it lives exactly as long as the listener's handlers.
  server_.Get(mock::AnyCasePath("/autodiscover/autodiscover.json/v1.0/") + "([^/]+)",
              [self](const httplib::Request& req, httplib::Response& res) {
                self->HandleJson(req, res, req.matches[1], false);
              });
  server_.Get(mock::AnyCasePath("/autodiscover/autodiscover.json"),
              [self](const httplib::Request& req, httplib::Response& res) {
                self->HandleJson(req, res, Param(req, "Email"), true);
              });
  server_.Post(
      mock::AnyCasePath("/autodiscover/autodiscover.svc"),
      [self](const httplib::Request& req, httplib::Response& res) { self->HandleSoap(req, res); });
  server_.Post(
      mock::AnyCasePath("/autodiscover/autodiscover.xml"),
      [self](const httplib::Request& req, httplib::Response& res) { self->HandlePox(req, res); });

  auto& r = server_.router();
  const std::string route = std::string(mock::kControlPrefix) + "/autodiscover/([^/]+)";
  r.Put(route, [self](const httplib::Request& req, httplib::Response& res) {
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return mock::ReplyControlError(res, 400, "InvalidJson",
                                     "the request body is not a JSON object");
    }
    AutodiscoverRedirect target;
    target.ews_url = body.value("ewsUrl", "");
    target.redirect_address = body.value("redirectAddress", "");
    target.redirect_url = body.value("redirectUrl", "");
    const std::string smtp = req.matches[1];
    if (auto set = self->Set(smtp, target); !set) {
      return mock::ReplyControlError(res, 400, set.error().code, set.error().message);
    }
    mock::ReplyJson(res, RedirectJson(smtp, target));
  });
  r.Delete(route, [self](const httplib::Request& req, httplib::Response& res) {
    const std::string smtp = req.matches[1];
    if (!self->Clear(smtp)) {
      return mock::ReplyControlError(res, 404, "NotFound",
                                     "no autodiscover redirect for '" + smtp + "'");
    }
    res.status = 204;
  });
}

}  // namespace

std::shared_ptr<AutodiscoverRedirects> RegisterAutodiscover(mock::HttpServer& server,
                                                            const MailboxStore& store,
                                                            const TokenValidator& tokens,
                                                            Clock& clock,
                                                            AutodiscoverIdentity identity) {
  auto service =
      std::make_shared<AutodiscoverService>(server, store, tokens, clock, std::move(identity));
  service->Register(service);
  return service;
}

std::string MockEws::autodiscover_url() const {
  return base_url() + "/autodiscover/autodiscover.svc";
}

}  // namespace exo::mock_ews
