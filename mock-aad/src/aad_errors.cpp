#include "internal/aad_errors.hpp"

#include "exo/common/time_format.hpp"

namespace exo::aad {

nlohmann::ordered_json AadError::ToJson(const std::string& trace_id, const std::string& correlation_id,
                                SystemTime now) const {
  const std::string ts = FormatAadTimestamp(now);
  // The single-space trailer Entra has used since 2024 (earlier: "\r\n" separators).
  return {{"error", error},
          {"error_description", description + " Trace ID: " + trace_id +
                                    " Correlation ID: " + correlation_id + " Timestamp: " + ts},
          {"error_codes", {code}},
          {"timestamp", ts},
          {"trace_id", trace_id},
          {"correlation_id", correlation_id},
          {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)}};
}

namespace errors {
namespace {
AadError E(int status, const char* error, int code, const std::string& text) {
  return {status, error, code, "AADSTS" + std::to_string(code) + ": " + text};
}
std::string IsoTicks(SystemTime t) { return FormatIso8601Ticks(t); }
}  // namespace

AadError OnlyPost(const std::string& method) {
  return E(400, "invalid_request", 900561,
           "The endpoint only accepts POST, OPTIONS requests. Received a " + method + " request.");
}
AadError MissingParameter(const std::string& name) {
  return E(400, "invalid_request", 900144,
           "The request body must contain the following parameter: '" + name + "'.");
}
AadError UnsupportedGrant(const std::string& grant) {
  return E(400, "unsupported_grant_type", 70003,
           "The app requested an unsupported grant type '" + grant + "'.");
}
AadError TenantNotFound(const std::string& tenant, bool discovery) {
  return E(400, discovery ? "invalid_tenant" : "invalid_request", 90002,
           "Tenant '" + tenant +
               "' not found. Check to make sure you have the correct tenant ID and are signing "
               "into the correct cloud. Check with your subscription administrator, this may "
               "happen if there are no active subscriptions for the tenant.");
}
AadError EmptyGuidTenant() {
  return E(400, "invalid_request", 90002,
           "Requested tenant identifier '00000000-0000-0000-0000-000000000000' is not valid. "
           "Tenant identifiers may not be an empty GUID.");
}
AadError MalformedTenant(const std::string& tenant) {
  return E(400, "invalid_request", 900023,
           "Specified tenant identifier '" + tenant +
               "' is neither a valid DNS name, nor a valid external domain.");
}
AadError NoTenantInfo() {
  return E(400, "invalid_request", 50059,
           "No tenant-identifying information found in either the request or implied by any "
           "provided credentials.");
}
AadError AppNotFound(const std::string& client_id, const std::string& tenant_name) {
  return E(400, "unauthorized_client", 700016,
           "Application with identifier '" + client_id + "' was not found in the directory '" +
               tenant_name +
               "'. This can happen if the application has not been installed by the "
               "administrator of the tenant or consented to by any user in the tenant. You may "
               "have sent your authentication request to the wrong tenant.");
}
AadError AppDisabled(const std::string& app_id, const std::string& display_name) {
  // [infer] status: the error class is unauthorized_client, which Entra sends with 400.
  return E(400, "unauthorized_client", 7000112,
           "Application '" + app_id + "'(" + display_name + ") is disabled.");
}
AadError ExpiredSecret(const std::string& app_id) {
  return E(401, "invalid_client", 7000222,
           "The provided client secret keys for app '" + app_id +
               "' are expired. Visit the Azure portal to create new keys for your app: "
               "https://aka.ms/NewClientSecret, or consider using certificate credentials for "
               "added security: https://aka.ms/certCreds.");
}
AadError InvalidSecret(const std::string& app_id) {
  return E(401, "invalid_client", 7000215,
           "Invalid client secret provided. Ensure the secret being sent in the request is the "
           "client secret value, not the client secret ID, for a secret added to app '" +
               app_id + "'.");
}
AadError MissingCredential() {
  return E(401, "invalid_client", 7000216,
           "'client_assertion', 'client_secret' or 'request' is required for the "
           "'client_credentials' grant type.");
}
AadError MissingCredentialOtherGrant() {
  return E(401, "invalid_client", 7000218,
           "The request body must contain the following parameter: 'client_assertion' or "
           "'client_secret'.");
}
AadError PublicClientWithCredential() {
  return E(401, "invalid_client", 700025,
           "Client is public so neither 'client_assertion' nor 'client_secret' should be "
           "presented.");
}
AadError ScopeMissing() {
  // [infer] code: the text is observed, the number is not.
  return E(400, "invalid_request", 90014,
           "The required field 'scope' is missing from the credential. Ensure that you have all "
           "the necessary parameters for the login request.");
}
AadError ScopeNotDefault(const std::string& scope) {
  return E(400, "invalid_scope", 1002012,
           "The provided value for scope " + scope +
               " is not valid. Client credential flows must have a scope value with /.default "
               "suffixed to the resource identifier (application ID URI).");
}
AadError ScopeInvalid(const std::string& scope) {
  return E(400, "invalid_scope", 70011,
           "The provided request must include a 'scope' input parameter. The provided value for "
           "the input parameter 'scope' is not valid. The scope " + scope + " is not valid.");
}
AadError MultipleResources() {
  return E(400, "invalid_scope", 700022,
           "The provided value for the input parameter scope is not valid because it contains "
           "more than one resource. Scope ... is not valid.");
}
AadError ResourceParameterOnV2() {
  return E(400, "invalid_request", 901002, "The 'resource' request parameter is not supported.");
}
AadError ResourceNotFound(const std::string& resource, const std::string& tenant_name) {
  return E(400, "invalid_resource", 500011,
           "The resource principal named " + resource + " was not found in the tenant named " +
               tenant_name +
               ". This can happen if the application has not been installed by the "
               "administrator of the tenant or consented to by any user in the tenant. You "
               "might have sent your authentication request to the wrong tenant.");
}
AadError AssertionMalformed() {
  return E(400, "invalid_request", 50027, "JWT token is invalid or malformed.");
}
AadError AssertionTypeInvalid() {
  return E(400, "invalid_request", 50027,
           "JWT token is invalid or malformed. client_assertion_type must be "
           "urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
}
AadError CertificateNotRegistered(const std::string& thumbprint, const std::string& app_id) {
  return E(401, "invalid_client", 700027,
           "The certificate with identifier used to sign the client assertion is not registered "
           "on application. [Reason - The key was not found., Thumbprint of key used by client: '" +
               thumbprint +
               "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
               "configured keys for app Id '" + app_id +
               "'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments "
               "to determine the corresponding service endpoint and "
               "https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&"
               "tabs=http to build a query request URL, such as "
               "'https://graph.microsoft.com/beta/applications/" + app_id + "']");
}
AadError CertificateExpired(const std::string& thumbprint, const std::string& app_id) {
  // [infer] Entra treats a key credential outside its dates as not usable.
  return E(401, "invalid_client", 700027,
           "The certificate with identifier used to sign the client assertion is expired on "
           "application. [Reason - The key used is expired., Thumbprint of key used by client: '" +
               thumbprint + "', Configured keys: [app Id '" + app_id + "']]");
}
AadError AssertionSignatureInvalid() {
  return E(401, "invalid_client", 700027, "Client assertion failed signature validation.");
}
AadError AssertionTimeRange(SystemTime now, SystemTime valid_from, SystemTime expiry) {
  return E(401, "invalid_client", 700024,
           "Client assertion is not within its valid time range. Current time: " + IsoTicks(now) +
               ", assertion valid from " + IsoTicks(valid_from) + ", expiry time of assertion " +
               IsoTicks(expiry) +
               ". Review the documentation at "
               "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .");
}
AadError AssertionAudience() {
  return E(401, "invalid_client", 700023,
           "Client assertion audience claim does not match Realm issuer. Review the "
           "documentation at https://learn.microsoft.com/entra/identity-platform/"
           "certificate-credentials.");
}
AadError AssertionIssuer() {
  return E(401, "invalid_client", 700021,
           "Client assertion application identifier doesn't match 'client_id' parameter. Review "
           "the documentation at https://learn.microsoft.com/entra/identity-platform/"
           "certificate-credentials.");
}
AadError AssertionReplayed() {
  // [infer] Entra documents jti replay protection but no public capture shows its answer.
  return E(401, "invalid_client", 50013,
           "Assertion failed signature validation. [Reason - The assertion was already used; "
           "each client assertion must carry a new jti.]");
}
AadError UserNotFound(const std::string& tenant_name) {
  return E(400, "invalid_grant", 50034,
           "The user account {EUII Hidden} does not exist in the " + tenant_name +
               " directory. To sign into this application, the account must be added to the "
               "directory.");
}
AadError InvalidUserPassword() {
  return E(400, "invalid_grant", 50126,
           "Error validating credentials due to invalid username or password.");
}
AadError UserDisabled() {
  return E(400, "invalid_grant", 50057,
           "The user account is disabled. The account has been disabled by an administrator.");
}
AadError UnknownInstance() { return E(400, "invalid_instance", 50049, "Unknown or invalid instance."); }
AadError InvalidBody() { return MissingParameter("grant_type"); }
}  // namespace errors

}  // namespace exo::aad
