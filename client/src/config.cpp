#include "exo/client/config.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <pugixml.hpp>
#include <regex>
#include <sstream>

#include "exo/common/file.hpp"
#include "exo/common/text.hpp"

namespace exo::client {

namespace {

constexpr const char* kRemedyAppData =
    "copy the value from the app registration's Overview page (seed step 4, Identify "
    "Application Data)";

Error ConfigError(const std::string& key, const std::string& message, const std::string& remedy) {
  Error e;
  e.category = ErrorCategory::kConfiguration;
  e.code = "InvalidConfiguration";
  e.message = key.empty() ? message : key + ": " + message;
  e.remedy = remedy;
  return e;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}


bool IsDomain(const std::string& s) {
  static const std::regex domain("^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,}$");
  return std::regex_match(s, domain);
}

bool IsSmtp(const std::string& s) {
  const auto at = s.find('@');
  return at != std::string::npos && at > 0 && s.find('@', at + 1) == std::string::npos &&
         IsDomain(s.substr(at + 1)) && s.find_first_of(" \t<>\"") == std::string::npos;
}

// https://host[:port][/path], or http:// for a loopback host (tests only).
bool IsServiceUrl(const std::string& url) {
  static const std::regex https("^https://[^/\\s?#]+(/[^\\s]*)?$");
  static const std::regex loopback(
      "^http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?(/[^\\s]*)?$");
  return std::regex_match(url, https) || std::regex_match(url, loopback);
}

Result<void> CheckUrl(const std::string& key, const std::string& value) {
  if (value.empty() || IsServiceUrl(value)) return {};
  return std::unexpected(ConfigError(key, "'" + value + "' is not an absolute https:// URL",
                                     "use https://host[:port]/path (http:// only for a loopback "
                                     "test server)"));
}

Result<Disposition> ParseDisposition(const std::string& value) {
  const std::string v = Lower(value);
  Disposition d;
  if (v.empty() || v == "markread") {
    d.kind = DispositionKind::kMarkRead;
  } else if (v == "none") {
    d.kind = DispositionKind::kNone;
  } else if (v == "delete") {
    d.kind = DispositionKind::kDelete;
  } else if (v.starts_with("move:") && value.size() > 5) {
    d.kind = DispositionKind::kMove;
    d.folder = Trim(value.substr(5));
  } else {
    return std::unexpected(ConfigError("EmailIntegrationDisposition",
                                       "'" + value + "' is not a disposition",
                                       "use markread, none, delete or move:<folder>"));
  }
  return d;
}

}  // namespace

Result<ClientConfig> ParseClientConfig(std::string_view xml, const std::filesystem::path& source) {
  pugi::xml_document doc;
  // No DOCTYPE processing: a .config never needs one, and entities are how XML bombs work.
  const auto parsed =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default & ~pugi::parse_doctype);
  if (!parsed) {
    return std::unexpected(ConfigError("",
                                       std::string("the file is not well-formed XML: ") +
                                           parsed.description() + " at byte " +
                                           std::to_string(parsed.offset),
                                       "fix the XML of the scheduler's .config"));
  }
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos) {
    return std::unexpected(ConfigError("", "the file declares a DOCTYPE or entities",
                                       "remove the DOCTYPE from the .config"));
  }
  pugi::xml_node settings = doc.child("configuration").child("appSettings");
  if (!settings) {
    return std::unexpected(
        ConfigError("", "no <configuration><appSettings> element",
                    "put the EmailIntegration keys in <appSettings> of the scheduler's .config"));
  }
  std::map<std::string, std::string> keys;
  for (pugi::xml_node add : settings.children("add")) {
    const std::string key = add.attribute("key").as_string();
    if (!key.starts_with("EmailIntegration")) continue;
    if (keys.contains(key)) {
      return std::unexpected(ConfigError(key, "appears more than once",
                                         "keep one <add key=\"" + key + "\"> in <appSettings>"));
    }
    keys[key] = Trim(add.attribute("value").as_string());
  }
  auto take = [&](const char* key) {
    auto it = keys.find(key);
    if (it == keys.end()) return std::string();
    std::string v = it->second;
    keys.erase(it);
    return v;
  };
  auto require = [&](const char* key, const std::string& value,
                     const std::string& remedy) -> Result<void> {
    if (!value.empty()) return {};
    return std::unexpected(ConfigError(key, "is missing or empty", remedy));
  };

  ClientConfig c;
  c.source = source;
  c.app_id = take("EmailIntegrationIdApp");
  if (auto ok = require("EmailIntegrationIdApp", c.app_id, kRemedyAppData); !ok) {
    return std::unexpected(ok.error());
  }
  if (!IsGuid(c.app_id)) {
    return std::unexpected(ConfigError("EmailIntegrationIdApp",
                                       "'" + c.app_id + "' is not a GUID (Application (client) ID)",
                                       kRemedyAppData));
  }
  c.tenant_id = take("EmailIntegrationTenantId");
  if (auto ok = require("EmailIntegrationTenantId", c.tenant_id, kRemedyAppData); !ok) {
    return std::unexpected(ok.error());
  }
  if (!IsGuid(c.tenant_id) && !IsDomain(c.tenant_id)) {
    return std::unexpected(ConfigError(
        "EmailIntegrationTenantId",
        "'" + c.tenant_id + "' is neither a GUID (Directory (tenant) ID) nor a verified domain",
        kRemedyAppData));
  }
  c.encrypted_secret = take("EmailIntegrationClientSecret");
  const std::string certificate = take("EmailIntegrationCertificate");
  if (!certificate.empty()) c.certificate_file = certificate;
  if (c.encrypted_secret.empty() && !c.certificate_file) {
    return std::unexpected(
        ConfigError("EmailIntegrationClientSecret", "is missing or empty",
                    "create a client secret (seed step 3), protect it with `exo-mailbox "
                    "protect-secret` and put the result in EmailIntegrationClientSecret"));
  }
  if (!c.encrypted_secret.empty() && !c.encrypted_secret.starts_with("exo1:")) {
    return std::unexpected(ConfigError(
        "EmailIntegrationClientSecret",
        "holds a value that is not protected (it must start with \"exo1:\"); a plaintext secret "
        "must not be stored in the .config",
        "run `exo-mailbox protect-secret` and store its output instead"));
  }
  const std::string scope = take("EmailIntegrationWebmailDefault");
  if (!scope.empty()) c.scope = scope;
  if (!c.scope.ends_with("/.default") || !IsServiceUrl(c.scope.substr(0, c.scope.size() - 9))) {
    return std::unexpected(ConfigError(
        "EmailIntegrationWebmailDefault", "'" + c.scope + "' is not a resource's .default scope",
        "app-only tokens need the resource's .default scope: "
        "https://outlook.office365.com/.default for Exchange Online"));
  }
  c.mailbox = take("EmailIntegrationMailbox");
  if (auto ok = require("EmailIntegrationMailbox", c.mailbox,
                        "set the monitored mailbox's SMTP address (seed step 6, the account in "
                        "Bizagi Studio)");
      !ok) {
    return std::unexpected(ok.error());
  }
  if (!IsSmtp(c.mailbox)) {
    return std::unexpected(ConfigError("EmailIntegrationMailbox",
                                       "'" + c.mailbox + "' is not an SMTP address",
                                       "use the mailbox's primary SMTP address"));
  }
  const std::string connection = take("EmailIntegrationConnectionType");
  if (!connection.empty() && Lower(connection) != "exchange") {
    return std::unexpected(ConfigError("EmailIntegrationConnectionType",
                                       "is '" + connection + "'; app-only OAuth needs Exchange",
                                       "keep the Connection type as Exchange (seed step 6)"));
  }
  if (!take("EmailIntegrationPassword").empty()) {
    return std::unexpected(ConfigError("EmailIntegrationPassword",
                                       "must be blank: the app authenticates with its own secret",
                                       "leave the password blank (seed step 6)"));
  }
  if (const std::string folder = take("EmailIntegrationFolder"); !folder.empty()) c.folder = folder;
  auto disposition = ParseDisposition(take("EmailIntegrationDisposition"));
  if (!disposition) return std::unexpected(disposition.error());
  c.disposition = *disposition;
  const std::string transport = Lower(take("EmailIntegrationTransport"));
  if (transport.empty() || transport == "ews") {
    c.transport = TransportKind::kEws;
  } else if (transport == "graph") {
    c.transport = TransportKind::kGraph;
  } else if (transport == "auto") {
    c.transport = TransportKind::kAuto;
  } else {
    return std::unexpected(
        ConfigError("EmailIntegrationTransport", "'" + transport + "' is not a transport",
                    "use ews (the default), graph (Microsoft Graph, for Exchange Online) or auto "
                    "(Graph for Exchange Online, EWS for an on-premises mailbox)"));
  }
  if (std::string a = take("EmailIntegrationAuthority"); !a.empty()) {
    while (a.ends_with('/')) a.pop_back();
    c.authority_host = a;
  }
  c.ews_url = take("EmailIntegrationEwsUrl");
  c.autodiscover_url = take("EmailIntegrationAutodiscoverUrl");
  if (std::string g = take("EmailIntegrationGraphUrl"); !g.empty()) {
    // The version is the client's business: "https://graph.microsoft.com/v1.0/" means the host.
    while (g.ends_with('/')) g.pop_back();
    if (Lower(g).ends_with("/v1.0")) g.resize(g.size() - 5);
    if (g.find('?') != std::string::npos || g.find('#') != std::string::npos) {
      return std::unexpected(ConfigError("EmailIntegrationGraphUrl",
                                         "'" + g + "' has a query or fragment",
                                         "use Microsoft Graph's base URL, "
                                         "https://graph.microsoft.com (a national cloud's, or a "
                                         "test server's https://host:port)"));
    }
    c.graph_url = g;
  }
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{"EmailIntegrationAuthority", c.authority_host},
        {"EmailIntegrationEwsUrl", c.ews_url},
        {"EmailIntegrationAutodiscoverUrl", c.autodiscover_url},
        {"EmailIntegrationGraphUrl", c.graph_url}}) {
    if (auto ok = CheckUrl(key, value); !ok) return std::unexpected(ok.error());
  }
  if (const std::string ca = take("EmailIntegrationCaBundle"); !ca.empty()) c.ca_bundle = ca;
  if (const std::string key = take("EmailIntegrationKeyFile"); !key.empty()) c.key_file = key;
  if (const std::string dir = take("EmailIntegrationStateDir"); !dir.empty()) c.state_dir = dir;
  // Relative paths are relative to the .config, as the scheduler resolves them.
  const std::filesystem::path base =
      source.empty() ? std::filesystem::path() : source.parent_path();
  auto resolve = [&](std::filesystem::path& p) {
    if (p.is_relative() && !base.empty()) p = base / p;
  };
  if (c.ca_bundle) resolve(*c.ca_bundle);
  if (c.key_file) resolve(*c.key_file);
  if (c.certificate_file) resolve(*c.certificate_file);
  resolve(c.state_dir);
  // Unknown EmailIntegration keys may be the scheduler's own: reported, not fatal.
  for (const auto& [key, value] : keys) {
    c.warnings.push_back(key + " is not a key this client reads (misspelt? see docs/client.md)");
  }
  return c;
}

Result<ClientConfig> LoadClientConfig(const std::filesystem::path& file) {
  auto text = ReadFile(file);
  if (!text) {
    Error e = text.error();
    e.category = ErrorCategory::kConfiguration;
    e.remedy = "check the path of the scheduler's .config and that this user may read it";
    return std::unexpected(e);
  }
  return ParseClientConfig(*text, file);
}

Result<std::optional<std::string>> GetConfigValue(const std::filesystem::path& file,
                                                  const std::string& key) {
  auto text = ReadFile(file);
  if (!text) return std::unexpected(text.error());
  pugi::xml_document doc;
  if (!doc.load_buffer(text->data(), text->size(), pugi::parse_default & ~pugi::parse_doctype)) {
    return std::unexpected(ConfigError("", file.string() + " is not a well-formed .config",
                                       "fix the XML of the scheduler's .config"));
  }
  for (pugi::xml_node add : doc.child("configuration").child("appSettings").children("add")) {
    if (key == add.attribute("key").as_string()) {
      return std::optional<std::string>(Trim(add.attribute("value").as_string()));
    }
  }
  return std::optional<std::string>();
}

Result<void> SetConfigValue(const std::filesystem::path& file, const std::string& key,
                            const std::string& value) {
  auto text = ReadFile(file);
  if (!text) return std::unexpected(text.error());
  pugi::xml_document doc;
  // parse_full with whitespace kept, saved raw: the file's comments and layout survive the edit.
  const auto parsed =
      doc.load_buffer(text->data(), text->size(),
                      (pugi::parse_full | pugi::parse_ws_pcdata) & ~pugi::parse_doctype);
  if (!parsed || text->find("<!DOCTYPE") != std::string::npos) {
    return std::unexpected(ConfigError("", file.string() + " is not a well-formed .config",
                                       "fix the XML of the scheduler's .config"));
  }
  pugi::xml_node settings = doc.child("configuration").child("appSettings");
  if (!settings) {
    return std::unexpected(ConfigError("", "no <configuration><appSettings> element",
                                       "put the EmailIntegration keys in <appSettings>"));
  }
  pugi::xml_node target;
  for (pugi::xml_node add : settings.children("add")) {
    if (key == add.attribute("key").as_string()) target = add;
  }
  if (!target) {
    target = settings.append_child("add");
    target.append_attribute("key") = key.c_str();
  }
  if (!target.attribute("value")) target.append_attribute("value");
  target.attribute("value") = value.c_str();
  std::ostringstream out;
  // A declaration the file had is a node of the document and saved as such; none is added.
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  std::error_code ec;
  const auto perms = std::filesystem::status(file, ec).permissions();
  const unsigned mode = ec ? 0600u : static_cast<unsigned>(perms) & 0777u;
  return WriteFileAtomically(file, out.str(), mode);
}

}  // namespace exo::client
