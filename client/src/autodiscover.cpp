// Autodiscover as Outlook and Microsoft's own scripts do it for EWS: the unauthenticated v2 JSON
// lookup first (CSS-Exchange Get-ProtocolEndpointViaAutoDv2.ps1, gscales' hybrid modern auth
// sample), then SOAP GetUserSettings with a bearer token (reference ews.md §4.2), each following
// the redirects the service gives, with a hop limit and loop detection.
#include "exo/client/autodiscover.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "exo/common/base64.hpp"
#include "internal/ews_xml.hpp"

namespace exo::client {

namespace {

using ews::Child;
using ews::Children;
using ews::Escape;
using ews::Find;

constexpr const char* kGetUserSettingsAction =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "https://mail.contoso.com" from "https://mail.contoso.com/EWS/Exchange.asmx".
std::string Origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto end = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, end);
}

// "mail.contoso.com" or "127.0.0.1:8443", lower-case.
std::string HostPort(const std::string& url) {
  const std::string origin = Origin(url);
  const auto scheme = origin.find("://");
  return Lower(scheme == std::string::npos ? origin : origin.substr(scheme + 3));
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The address a v2 URL asks about: the path form's last segment or the query form's Email.
std::string AddressOf(const std::string& url) {
  const std::string lower = Lower(url);
  if (auto at = lower.find("email="); at != std::string::npos) {
    const auto end = url.find('&', at);
    return Lower(PercentDecode(url.substr(at + 6, end == std::string::npos ? end : end - at - 6)));
  }
  if (auto at = lower.find("/v1.0/"); at != std::string::npos) {
    const auto end = url.find_first_of("?#", at + 6);
    return Lower(PercentDecode(url.substr(at + 6, end == std::string::npos ? end : end - at - 6)));
  }
  return {};
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Where a stage stopped.
enum class Outcome { kFound, kFailed, kLoop };

struct Found {
  std::string url;
  std::string mailbox;
  bool says_exchange_online = false;  // SOAP UserMSOnline
};

class Discovery {
 public:
  Discovery(const std::string& mailbox, const AutodiscoverOptions& options, HttpTransport& http,
            TokenProvider* tokens)
      : mailbox_(mailbox), options_(options), http_(http), tokens_(tokens) {}

  Result<EwsEndpoint> Run() {
    const std::string base = Origin(options_.base_url);
    Outcome v2 = TryV2(base + "/autodiscover/autodiscover.json/v1.0/" + PercentEncode(mailbox_) +
                       "?Protocol=EWS");
    if (v2 == Outcome::kFound) return Endpoint("v2 JSON");
    Outcome soap = TrySoap(options_.soap_url.empty() ? base + "/autodiscover/autodiscover.svc"
                                                     : options_.soap_url);
    if (soap == Outcome::kFound) return Endpoint("SOAP GetUserSettings");
    return std::unexpected(Failure(v2 == Outcome::kLoop || soap == Outcome::kLoop));
  }

 private:
  Outcome TryV2(std::string url) {
    std::set<std::string> asked;
    for (int hop = 0;; ++hop) {
      const std::string request = "GET " + url;
      if (hop >= options_.max_hops) {
        hops_.push_back({request, "not sent: " + std::to_string(options_.max_hops) +
                                      " v2 requests without an answer"});
        return Outcome::kLoop;
      }
      // Exchange counts hops in RedirectCount, so the URLs differ each time: a loop is the same
      // address asked of the same server again in the same form (an unknown address is sent from
      // the per-user path to the query form once, legitimately).
      const bool query_form = Lower(url).find("email=") != std::string::npos;
      const std::string key =
          Lower(Origin(url)) + "|" + AddressOf(url) + (query_form ? "|query" : "|path");
      if (!asked.insert(key).second) {
        hops_.push_back({request, "not sent: this server was already asked about " +
                                      AddressOf(url) + " (a redirect loop)"});
        return Outcome::kLoop;
      }
      HttpRequest req;
      req.method = "GET";
      req.url = url;
      req.headers.emplace("Accept", "application/json");
      auto res = http_.Send(req);
      if (!res) {
        hops_.push_back({request, res.error().Describe()});
        return Outcome::kFailed;
      }
      if (IsRedirect(res->status)) {
        std::string location = res->Header("Location");
        if (location.empty()) {
          hops_.push_back({request, std::to_string(res->status) + " without a Location"});
          return Outcome::kFailed;
        }
        if (location.front() == '/') location = Origin(url) + location;
        hops_.push_back({request, std::to_string(res->status) + " -> " + location});
        url = location;
        continue;
      }
      const nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
      if (res->status == 200 && body.is_object() && body.contains("Url") &&
          body["Url"].is_string() && !body["Url"].get<std::string>().empty()) {
        found_.url = body["Url"].get<std::string>();
        found_.mailbox = AddressOf(url).empty() ? mailbox_ : AddressOf(url);
        hops_.push_back({request, "200 Url=" + found_.url});
        return Outcome::kFound;
      }
      std::string answer = std::to_string(res->status);
      if (body.is_object() && body.contains("ErrorCode") && body["ErrorCode"].is_string()) {
        // value() would throw on an ErrorMessage that is not a string.
        const auto message = body.find("ErrorMessage");
        answer += " " + body["ErrorCode"].get<std::string>() + ": " +
                  (message != body.end() && message->is_string() ? message->get<std::string>()
                                                                 : std::string());
      } else if (res->status == 200) {
        answer += " without a Url";
      }
      hops_.push_back({request, answer});
      return Outcome::kFailed;
    }
  }

  static std::string SoapRequest(const std::string& endpoint, const std::string& address) {
    return std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>") +
           "<soap:Envelope xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" "
           "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
           "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>"
           "<a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>" +
           kGetUserSettingsAction + "</wsa:Action><wsa:To>" + Escape(endpoint) +
           "</wsa:To></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request>"
           "<a:Users><a:User><a:Mailbox>" +
           Escape(address) +
           "</a:Mailbox></a:User></a:Users><a:RequestedSettings>"
           "<a:Setting>ExternalEwsUrl</a:Setting><a:Setting>InternalEwsUrl</a:Setting>"
           "<a:Setting>UserMSOnline</a:Setting><a:Setting>AutoDiscoverSMTPAddress</a:Setting>"
           "</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body>"
           "</soap:Envelope>";
  }

  Outcome TrySoap(std::string endpoint) {
    std::string address = mailbox_;
    std::set<std::string> asked;
    for (int hop = 0;; ++hop) {
      const std::string request = "POST " + endpoint + " GetUserSettings(" + address + ")";
      if (hop >= options_.max_hops) {
        hops_.push_back({request, "not sent: " + std::to_string(options_.max_hops) +
                                      " SOAP requests without an answer"});
        return Outcome::kLoop;
      }
      if (!asked.insert(Lower(endpoint) + "|" + Lower(address)).second) {
        hops_.push_back({request, "not sent: already asked (a redirect loop)"});
        return Outcome::kLoop;
      }
      HttpRequest req;
      req.method = "POST";
      req.url = endpoint;
      req.headers.emplace("Content-Type", "text/xml; charset=utf-8");
      req.headers.emplace("Accept", "text/xml");
      req.headers.emplace("X-AnchorMailbox", address);
      std::string scope, token;
      if (tokens_ != nullptr) {
        scope = TokenScopeFor(endpoint, options_);
        auto t = tokens_->Get(scope);
        if (!t) {
          hops_.push_back({request, "not sent: no token for " + scope + ": " + t.error().Describe()});
          return Outcome::kFailed;
        }
        token = t->value.Reveal();
        req.headers.emplace("Authorization", "Bearer " + token);
      }
      req.body = SoapRequest(endpoint, address);
      auto res = http_.Send(req);
      if (!res) {
        hops_.push_back({request, res.error().Describe()});
        return Outcome::kFailed;
      }
      if (res->status != 200) {
        const std::string diagnostics = res->Header("x-ms-diagnostics");
        hops_.push_back({request, "HTTP " + std::to_string(res->status) +
                                      (diagnostics.empty() ? "" : " (" + diagnostics + ")")});
        last_status_ = res->status;
        // A rejected token is dropped so the next attempt (a later discovery) fetches a new one.
        if (res->status == 401 && tokens_ != nullptr) tokens_->Invalidate(scope, token);
        return Outcome::kFailed;
      }
      pugi::xml_document doc;
      if (!doc.load_buffer(res->body.data(), res->body.size(),
                           pugi::parse_default & ~pugi::parse_doctype)) {
        hops_.push_back({request, "200 with a body that is not XML"});
        return Outcome::kFailed;
      }
      const pugi::xml_node response = Find(doc, "Response");
      const std::string request_code = Child(response, "ErrorCode").text().as_string();
      if (request_code != "NoError") {
        hops_.push_back({request, (request_code.empty() ? std::string("no ErrorCode")
                                                        : request_code) +
                                      ": " + Child(response, "ErrorMessage").text().as_string()});
        return Outcome::kFailed;
      }
      const pugi::xml_node user = Child(Child(response, "UserResponses"), "UserResponse");
      const std::string code = Child(user, "ErrorCode").text().as_string();
      const std::string target = Child(user, "RedirectTarget").text().as_string();
      if (code == "RedirectAddress" && !target.empty()) {
        hops_.push_back({request, "RedirectAddress " + target});
        address = target;
        continue;
      }
      if (code == "RedirectUrl" && !target.empty()) {
        hops_.push_back({request, "RedirectUrl " + target});
        endpoint = target;
        continue;
      }
      if (code != "NoError") {
        hops_.push_back({request, (code.empty() ? std::string("no UserResponse") : code) + ": " +
                                      Child(user, "ErrorMessage").text().as_string()});
        return Outcome::kFailed;
      }
      std::map<std::string, std::string> settings;
      for (pugi::xml_node s : Children(Child(user, "UserSettings"), "UserSetting")) {
        settings[Child(s, "Name").text().as_string()] = Child(s, "Value").text().as_string();
      }
      found_.url = !settings["ExternalEwsUrl"].empty() ? settings["ExternalEwsUrl"]
                                                       : settings["InternalEwsUrl"];
      if (found_.url.empty()) {
        hops_.push_back({request, "NoError without ExternalEwsUrl or InternalEwsUrl"});
        return Outcome::kFailed;
      }
      found_.mailbox = address;
      found_.says_exchange_online = Lower(settings["UserMSOnline"]) == "true";
      hops_.push_back({request, "NoError ExternalEwsUrl=" + found_.url});
      return Outcome::kFound;
    }
  }

  EwsEndpoint Endpoint(const std::string& source) const {
    EwsEndpoint e;
    e.url = found_.url;
    e.mailbox = found_.mailbox;
    e.source = source;
    e.hops = hops_;
    AutodiscoverOptions o = options_;
    if (found_.says_exchange_online) o.exchange_online_hosts.push_back(HostPort(found_.url));
    e.token_scope = TokenScopeFor(found_.url, o);
    e.exchange_online = e.token_scope == options_.exchange_online_scope;
    return e;
  }

  Error Failure(bool loop) const {
    Error e;
    e.category = loop ? ErrorCategory::kConfiguration : ErrorCategory::kNotFound;
    e.code = loop ? "AutodiscoverRedirectLoop" : "AutodiscoverFailed";
    e.http_status = last_status_;
    e.message = "autodiscover found no EWS URL for " + mailbox_ + ":";
    for (std::size_t i = 0; i < hops_.size(); ++i) {
      e.message += " " + std::to_string(i + 1) + ") " + hops_[i].request + " -> " +
                   hops_[i].answer + ";";
    }
    e.message.pop_back();
    e.remedy =
        loop ? "autodiscover redirects in a circle: fix the redirect it names (the mail user's "
               "target address in Exchange Online, the on-premises autodiscover virtual "
               "directory), or set EmailIntegrationEwsUrl to the mailbox's EWS URL"
             : "check EmailIntegrationMailbox and that autodiscover is published for its domain "
               "(EmailIntegrationAutodiscoverUrl), or set EmailIntegrationEwsUrl to the mailbox's "
               "EWS URL (an on-premises server also needs the token scope "
               "https://<its host>/.default)";
    return e;
  }

  const std::string mailbox_;
  const AutodiscoverOptions& options_;
  HttpTransport& http_;
  TokenProvider* tokens_;
  std::vector<AutodiscoverHop> hops_;
  Found found_;
  int last_status_ = 0;
};

}  // namespace

std::string TokenScopeFor(const std::string& url, const AutodiscoverOptions& options) {
  const std::string host = HostPort(url);
  for (const auto& h : options.exchange_online_hosts) {
    if (Lower(h) == host) return options.exchange_online_scope;
  }
  // Hybrid modern authentication: the on-premises origin is the resource (an SPN of the
  // tenant's Exchange Online service principal), as Microsoft's own samples derive it.
  return Origin(url) + "/.default";
}

Result<EwsEndpoint> DiscoverEws(const std::string& mailbox, const AutodiscoverOptions& options,
                                HttpTransport& http, TokenProvider* tokens) {
  if (mailbox.find('@') == std::string::npos) {
    return Fail(ErrorCategory::kConfiguration, "InvalidMailbox",
                "'" + mailbox + "' is not an SMTP address",
                "set EmailIntegrationMailbox to the monitored mailbox's address");
  }
  return Discovery(mailbox, options, http, tokens).Run();
}

}  // namespace exo::client
