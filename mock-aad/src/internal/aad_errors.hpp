// The AADSTS error catalogue: exact `error` classes, codes, descriptions and HTTP statuses of
// the token and discovery endpoints (sources in shared/reference/entra-id.md §4).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"

namespace exo::aad {

struct AadError {
  int status = 400;
  std::string error;  // OAuth error class: invalid_client, invalid_request, ...
  int code = 0;       // the AADSTS number
  std::string description;  // "AADSTS7000222: ..." without the trace trailer

  // The JSON body Entra sends, trailer included.
  nlohmann::ordered_json ToJson(const std::string& trace_id, const std::string& correlation_id,
                        SystemTime now) const;
};

namespace errors {
AadError OnlyPost(const std::string& method);
AadError MissingParameter(const std::string& name);
AadError UnsupportedGrant(const std::string& grant);
AadError TenantNotFound(const std::string& tenant, bool discovery);
AadError EmptyGuidTenant();
AadError MalformedTenant(const std::string& tenant);
AadError NoTenantInfo();
AadError AppNotFound(const std::string& client_id, const std::string& tenant_name);
AadError AppDisabled(const std::string& app_id, const std::string& display_name);
AadError ExpiredSecret(const std::string& app_id);
AadError InvalidSecret(const std::string& app_id);
AadError MissingCredential();
AadError MissingCredentialOtherGrant();
AadError PublicClientWithCredential();
AadError ScopeMissing();
AadError ScopeNotDefault(const std::string& scope);
AadError ScopeInvalid(const std::string& scope);
AadError MultipleResources();
AadError ResourceParameterOnV2();
AadError ResourceNotFound(const std::string& resource, const std::string& tenant_name);
AadError AssertionMalformed();
AadError AssertionTypeInvalid();
AadError CertificateNotRegistered(const std::string& thumbprint_hex_upper,
                                  const std::string& app_id);
AadError CertificateExpired(const std::string& thumbprint_hex_upper, const std::string& app_id);
AadError AssertionSignatureInvalid();
AadError AssertionTimeRange(SystemTime now, SystemTime valid_from, SystemTime expiry);
AadError AssertionAudience();
AadError AssertionIssuer();
AadError AssertionReplayed();
AadError UserNotFound(const std::string& tenant_name);
AadError InvalidUserPassword();
AadError UserDisabled();
AadError UnknownInstance();
AadError InvalidBody();
}  // namespace errors

}  // namespace exo::aad
