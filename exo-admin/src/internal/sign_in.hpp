// Token requests to mock-aad as the modules' MSAL makes them: the password grant (ROPC) for an
// administrator with a Microsoft public client id, and client credentials with a certificate
// assertion for app-only Exchange sign-in.
#pragma once

#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/result.hpp"
#include "exo/exo_admin/powershell.hpp"
#include "internal/https_client.hpp"

namespace exo::admin {

// The modules' public client ids, as mock-aad knows them (docs/mock-aad.md).
inline constexpr const char* kExchangePowerShellClientId = "fb78d390-0c51-40cd-8e17-fdbfab77341b";
inline constexpr const char* kGraphPowerShellClientId = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
inline constexpr const char* kExchangeScope = "https://outlook.office365.com/.default";
inline constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";

struct Token {
  std::string access_token;
  Value claims;  // the payload, read without verification (the client only routes on it)
  std::string TenantId() const { return claims.value("tid", ""); }
  std::string Upn() const { return claims.value("upn", ""); }
};

// A refused request carries Entra's answer: code "AADSTS50126" (from error_codes), message the
// error_description, http_status; category kAuthentication.
Result<Token> PasswordGrant(HttpsClient& http, const std::string& authority,
                            const std::string& tenant, const std::string& client_id,
                            const std::string& scope, const std::string& user,
                            const std::string& password);

// Client credentials with a private_key_jwt assertion signed by `key` (x5t from `cert`).
Result<Token> CertificateGrant(HttpsClient& http, const std::string& authority,
                               const std::string& tenant, const std::string& client_id,
                               const std::string& scope, const crypto::Certificate& cert,
                               const crypto::PrivateKey& key, Clock& clock);

// A token given as is (-AccessToken): its payload decoded.
Result<Token> TokenFromJwt(const std::string& jwt);

// A certificate and its key from a PEM file (both blocks) or a PKCS#12 (.pfx) file.
Result<std::pair<crypto::Certificate, crypto::PrivateKey>> LoadCertificateFile(
    const std::string& path, const std::string& password);

}  // namespace exo::admin
