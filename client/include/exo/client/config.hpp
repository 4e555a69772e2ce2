// The client's configuration: the scheduler's .config keys (as the seed's Bizagi Scheduler reads
// them) plus the endpoint overrides tests and national clouds need, validated key by key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/result.hpp"

namespace exo::client {

// How the client reaches the mailbox (EmailIntegrationTransport): kEws (the default), kGraph
// (Microsoft Graph; Exchange Online only), or kAuto: Graph for an Exchange Online mailbox, EWS for
// one on Exchange Server on-premises, as autodiscover (or an on-premises EmailIntegrationEwsUrl
// and scope) says.
enum class TransportKind { kEws, kGraph, kAuto };

// What the application does with a message once its handler accepted it.
enum class DispositionKind { kNone, kMarkRead, kMove, kDelete };

struct Disposition {
  DispositionKind kind = DispositionKind::kMarkRead;
  std::string
      folder;  // kMove: a distinguished folder name or a path under msgfolderroot ("Processed")
};

// Everything the client needs, parsed and checked. Secrets are not here: `encrypted_secret` is the
// ciphertext from EmailIntegrationClientSecret; SecretBox turns it into the plaintext on demand.
struct ClientConfig {
  // Identity (seed step 4: Identify Application Data).
  std::string app_id;            // EmailIntegrationIdApp: a GUID
  std::string tenant_id;         // EmailIntegrationTenantId: a GUID or a verified domain
  std::string encrypted_secret;  // EmailIntegrationClientSecret: "exo1:..." (see secret_box.hpp)
  std::string scope = "https://outlook.office365.com/.default";  // EmailIntegrationWebmailDefault
  // A certificate credential instead of the secret: PEM with the private key and the certificate.
  std::optional<std::filesystem::path> certificate_file;

  // The mailbox (seed step 6: the account in Bizagi Studio; the password must stay blank).
  std::string mailbox;           // EmailIntegrationMailbox: the SMTP address to impersonate
  std::string folder = "inbox";  // EmailIntegrationFolder
  Disposition
      disposition;  // EmailIntegrationDisposition: "markread", "move:Processed", "delete", "none"
  TransportKind transport = TransportKind::kEws;  // EmailIntegrationTransport

  // Endpoint overrides (tests, national clouds, on-premises). Empty: the public cloud's.
  std::string authority_host = "https://login.microsoftonline.com";  // EmailIntegrationAuthority
  std::string ews_url;           // EmailIntegrationEwsUrl; empty: autodiscover, then EXO's URL
  std::string autodiscover_url;  // EmailIntegrationAutodiscoverUrl
  // EmailIntegrationGraphUrl: where Microsoft Graph is served (no "/v1.0": it is appended).
  std::string graph_url = "https://graph.microsoft.com";
  std::optional<std::filesystem::path>
      ca_bundle;  // EmailIntegrationCaBundle: extra trusted CAs (PEM)

  // Where the secret's key lives (EmailIntegrationKeyFile) and the monitor's state
  // (EmailIntegrationStateDir).
  std::optional<std::filesystem::path> key_file;
  std::filesystem::path state_dir = ".";

  // The file this came from, so a monitor can notice edits (hot reload of a rotated secret).
  std::filesystem::path source;
  // Things worth a look that do not stop the client (EmailIntegration keys it does not know).
  std::vector<std::string> warnings;
};

// Reads a .config (<configuration><appSettings><add key=".." value=".."/>) and validates each key:
// GUIDs in GUID form, the scope ending in "/.default", the connection type "Exchange" with a blank
// password, URLs absolute https (http only for a loopback host). Error (kConfiguration) names the
// key, the value's problem and the seed step that sets it.
Result<ClientConfig> LoadClientConfig(const std::filesystem::path& file);
// The same from the XML text (for tests and the doctor).
Result<ClientConfig> ParseClientConfig(std::string_view xml,
                                       const std::filesystem::path& source = {});

// Sets one <appSettings> key in a .config file (adding the <add> when missing), keeping the rest of
// the file as written and its mode, and replacing it atomically: what `exo-mailbox protect-secret
// --config` uses to store a new ciphertext, which a running monitor then picks up.
// The raw value of one <appSettings> key, unvalidated (empty optional: not present); for tools that
// must read a file the full validation would refuse (one still holding a plaintext secret).
Result<std::optional<std::string>> GetConfigValue(const std::filesystem::path& file,
                                                  const std::string& key);
Result<void> SetConfigValue(const std::filesystem::path& file, const std::string& key,
                            const std::string& value);

}  // namespace exo::client
