// The Entra ID directory mock-aad serves: tenants with their domains, users, app registrations
// with their secrets and certificates, service principals and admin consent, on the harness clock.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"

namespace exo::aad {

// Well-known Microsoft identifiers (real values).
inline constexpr const char* kExchangeOnlineAppId = "00000002-0000-0ff1-ce00-000000000000";
inline constexpr const char* kExchangeOnlineUri = "https://outlook.office365.com";
inline constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";
inline constexpr const char* kGraphUri = "https://graph.microsoft.com";
inline constexpr const char* kFullAccessAsAppRoleId = "dc890d15-9560-4a4c-9b7f-a736ec74ec40";
inline constexpr const char* kExchangeManageAsAppRoleId = "dc50a0fb-09a3-484d-be87-e023b12c6440";
// The Exchange Online PowerShell module's public client (Connect-ExchangeOnline).
inline constexpr const char* kExchangePowerShellClientId = "fb78d390-0c51-40cd-8e17-fdbfab77341b";
inline constexpr const char* kDefaultTenantId = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";
inline constexpr const char* kDefaultTenantDomain = "contoso.onmicrosoft.com";

struct AppRole {
  std::string id;
  std::string value;
};

// A first-party API every tenant knows (Exchange Online, Microsoft Graph).
struct Resource {
  std::string app_id;
  std::string display_name;
  std::vector<std::string> identifier_uris;
  int token_version = 1;  // the access token format this resource accepts
  std::vector<AppRole> app_roles;
  std::string delegated_scopes;  // scp of delegated tokens issued for it
};

struct PasswordCredential {
  std::string key_id;
  std::string display_name;
  std::string hint;         // first three characters, as Graph shows
  std::string secret_hash;  // SHA-256 of the secret text; the text itself is never kept
  SystemTime start, end;
  SystemTime created;  // when it was added, for propagation
};

struct KeyCredential {
  std::string key_id;
  std::string display_name;
  crypto::Certificate certificate;
  SystemTime start, end;
  std::string sha1_thumbprint, sha256_thumbprint;  // raw digests of the DER
};

struct AppRoleAssignment {
  std::string id;
  std::string resource_app_id;
  std::string app_role_id;
  SystemTime created;
};

struct Application {
  std::string app_id;
  std::string object_id;
  std::string display_name;
  std::string sp_object_id;  // empty: no service principal in this tenant
  bool enabled = true;       // the service principal's accountEnabled
  bool public_client = false;
  std::vector<std::string> identifier_uris;
  nlohmann::json required_resource_access = nlohmann::json::array();
  std::vector<PasswordCredential> passwords;
  std::vector<KeyCredential> keys;
  std::vector<AppRoleAssignment> grants;
  SystemTime created;
};

struct User {
  std::string object_id;
  std::string upn;
  std::string display_name;
  std::string password_hash;       // SHA-256
  std::vector<std::string> roles;  // directory role names ("Global Administrator")
  bool enabled = true;
};

struct Tenant {
  std::string id;
  std::string display_name;
  std::vector<std::string> domains;  // the first is the initial domain
  std::vector<User> users;
  std::vector<Application> applications;
  // Extra servicePrincipalNames of this tenant's "Office 365 Exchange Online" service principal:
  // the on-premises EWS/autodiscover origins hybrid modern authentication registers there
  // ("https://mail.contoso.com"), so a token can be issued with one of them as its audience.
  std::vector<std::string> exchange_spns;
};

struct Settings {
  Duration token_lifetime = std::chrono::seconds(3600);
  Duration secret_propagation{};   // a secret younger than this is refused (7000215)
  Duration consent_propagation{};  // a role assignment younger than this is not in tokens yet
  Duration assertion_skew = std::chrono::seconds(300);
  // Token requests per client in `throttle_window` before 429; 0 disables.
  std::uint64_t throttle_limit = 0;
  Duration throttle_window = std::chrono::seconds(60);
  Duration throttle_retry_after = std::chrono::seconds(60);
  bool throttle_plain_body = false;  // "Too Many Requests" text instead of the JSON error

  static Result<Settings> FromJson(const nlohmann::json& j, const Settings& base);
  nlohmann::json ToJson() const;
};

// A secret handed out once, as Graph's addPassword does.
struct NewSecret {
  std::string key_id;
  std::string secret_text;
  std::string hint;
  SystemTime start, end;
};

// Thread-safe. Reads hand out copies so a request sees one consistent view.
class Directory {
 public:
  Directory(Clock& clock, Random& random);

  // Replaces the whole directory with `world` (format: docs/mock-aad.md). On error nothing
  // changes. Relative times ("-1d") are resolved against the clock now.
  Result<void> Load(const nlohmann::json& world);
  // Adds the tenants and applications of `world` to what exists (same format).
  Result<void> Merge(const nlohmann::json& world);
  // The default world: one tenant, one Global Administrator with `admin_password`.
  static nlohmann::json DefaultWorld(const std::string& admin_password);
  // Everything but secret hashes, as JSON (the control API's state dump).
  nlohmann::json Dump() const;

  Settings settings() const;
  void set_settings(const Settings& s);

  // Lookups by GUID or any verified domain, case-insensitively.
  std::optional<Tenant> FindTenant(const std::string& id_or_domain) const;
  std::optional<Application> FindApplication(const std::string& tenant_id,
                                             const std::string& app_id) const;
  // By UPN, case-insensitively, in the tenant named by the UPN's domain or `tenant_id`.
  std::optional<User> FindUser(const std::string& tenant_id, const std::string& upn) const;
  static const std::vector<Resource>& Resources();
  // By app id, identifier URI (case-insensitive, trailing slash ignored) or display name.
  static const Resource* FindResource(const std::string& name);
  // FindResource, or Exchange Online when `name` is one of `tenant`'s extra Exchange SPNs (same
  // matching rules): what a token request for that resource gets in this tenant.
  static const Resource* FindResource(const Tenant& tenant, const std::string& name);
  static bool IsFirstPartyPublicClient(const std::string& client_id);

  // Administration, as Graph and the portal do it. Unknown tenant or app: kNotFound.
  Result<Application> CreateApplication(const std::string& tenant_id, const nlohmann::json& spec);
  Result<Application> UpdateApplication(const std::string& tenant_id, const std::string& app_id,
                                        const nlohmann::json& patch);
  Result<void> DeleteApplication(const std::string& tenant_id, const std::string& app_id);
  // Creates the service principal if the app has none; returns its object id.
  Result<std::string> CreateServicePrincipal(const std::string& tenant_id,
                                             const std::string& app_id);
  Result<NewSecret> AddPassword(const std::string& tenant_id, const std::string& app_id,
                                const nlohmann::json& spec);
  Result<void> RemovePassword(const std::string& tenant_id, const std::string& app_id,
                              const std::string& key_id);
  Result<KeyCredential> AddKey(const std::string& tenant_id, const std::string& app_id,
                               const nlohmann::json& spec);
  Result<void> RemoveKey(const std::string& tenant_id, const std::string& app_id,
                         const std::string& key_id);
  Result<void> SetEnabled(const std::string& tenant_id, const std::string& app_id, bool enabled);
  // Admin consent of an application permission; `role` is the role's value or id.
  Result<AppRoleAssignment> GrantAppRole(const std::string& tenant_id, const std::string& app_id,
                                         const std::string& resource, const std::string& role);
  Result<void> RevokeAppRole(const std::string& tenant_id, const std::string& app_id,
                             const std::string& resource, const std::string& role);
  Result<User> AddUser(const std::string& tenant_id, const nlohmann::json& spec);
  // Replaces the extra servicePrincipalNames of the tenant's Exchange Online service principal
  // (hybrid modern authentication: the on-premises URLs). Each must be an absolute http(s) URL;
  // error (kConfiguration) otherwise and nothing changes; unknown tenant: kNotFound.
  Result<void> SetExchangeServicePrincipalNames(const std::string& tenant_id,
                                                const std::vector<std::string>& urls);

  // Generates a secret in the current Entra format (40 characters, "Q~" at position 4).
  std::string GenerateSecretText();
  static std::string HashSecret(const std::string& text);

 private:
  Result<std::vector<Tenant>> ParseWorld(const nlohmann::json& world);
  Tenant* MutableTenant(const std::string& id_or_domain);
  Application* MutableApp(Tenant& t, const std::string& app_id);

  Clock& clock_;
  Random& random_;
  mutable std::mutex mu_;
  std::vector<Tenant> tenants_;
  Settings settings_;
};

// Lower-case copy, for case-insensitive identifiers.
std::string Lower(std::string s);

}  // namespace exo::aad
