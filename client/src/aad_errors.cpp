#include "internal/aad_errors.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>

namespace exo::client {

namespace {

struct Known {
  long code;
  ErrorCategory category;
  const char* remedy;
};

// The AADSTS codes a daemon meets, with what fixes each (reference entra-id.md; the seed's steps).
constexpr Known kKnown[] = {
    {7000222, ErrorCategory::kAuthentication,
     "the client secret expired: create a new one (seed step 3), protect it with `exo-mailbox "
     "protect-secret` and update EmailIntegrationClientSecret; the client picks it up without a "
     "restart"},
    {7000215, ErrorCategory::kAuthentication,
     "the client secret is wrong: copy the secret's Value, not its Secret ID (seed step 3.2), "
     "protect it and update EmailIntegrationClientSecret; a secret created only minutes ago may "
     "not have reached every Entra ID server yet: wait a few minutes before replacing it"},
    {7000216, ErrorCategory::kConfiguration,
     "no client secret or certificate was sent: set EmailIntegrationClientSecret (seed step 3)"},
    {700016, ErrorCategory::kConfiguration,
     "no application with this id in the tenant: check EmailIntegrationIdApp and "
     "EmailIntegrationTenantId (seed step 4); a newly registered app can take a few minutes to "
     "appear"},
    {7000112, ErrorCategory::kAuthorization,
     "the application is disabled in the tenant: an administrator must enable its service "
     "principal (Enterprise applications > Properties > Enabled for users to sign-in)"},
    {90002, ErrorCategory::kConfiguration,
     "no such tenant: check EmailIntegrationTenantId (seed step 4, Directory (tenant) ID)"},
    {900023, ErrorCategory::kConfiguration,
     "the tenant id is malformed: use the Directory (tenant) ID GUID or a verified domain "
     "(seed step 4)"},
    {70011, ErrorCategory::kConfiguration,
     "the scope is not valid for client credentials: EmailIntegrationWebmailDefault must be "
     "https://outlook.office365.com/.default"},
    {1002012, ErrorCategory::kConfiguration,
     "the scope is not valid for client credentials: EmailIntegrationWebmailDefault must be "
     "https://outlook.office365.com/.default"},
    {500011, ErrorCategory::kConfiguration,
     "the resource in the scope does not exist in the tenant: check EmailIntegrationWebmailDefault "
     "(https://outlook.office365.com/.default) and that the tenant has Exchange Online"},
    {700027, ErrorCategory::kAuthentication,
     "the certificate assertion's signature does not verify: upload this certificate to the app "
     "registration (Certificates & secrets) or use the matching private key"},
    {700024, ErrorCategory::kAuthentication,
     "the certificate assertion is outside its validity window: check this machine's clock"},
    {700023, ErrorCategory::kAuthentication,
     "the certificate assertion's audience is wrong: check EmailIntegrationAuthority and "
     "EmailIntegrationTenantId"},
    {700021, ErrorCategory::kAuthentication, "the certificate assertion is malformed"},
    {50059, ErrorCategory::kConfiguration,
     "no tenant was named: set EmailIntegrationTenantId (seed step 4)"},
    {900144, ErrorCategory::kConfiguration, "the token request lacks a required parameter"},
    {900561, ErrorCategory::kConfiguration,
     "the token endpoint needs POST: check EmailIntegrationAuthority"},
    {50027, ErrorCategory::kProtocol, "the identity platform refused a malformed assertion"},
};

}  // namespace

std::optional<long> FirstAadstsCode(const std::string& text) {
  // Scanned by hand: std::stol threw on a run of digits beyond long's range (fuzz_jwt_client,
  // regression aadsts-code-beyond-long), and libstdc++'s std::regex recurses per character of a
  // match. Entra's codes have five to seven digits; "AADSTS" followed by a longer number than a
  // long holds names no code, and the next mention is tried.
  constexpr std::string_view kPrefix = "AADSTS";
  for (std::size_t at = text.find(kPrefix); at != std::string::npos;
       at = text.find(kPrefix, at + kPrefix.size())) {
    const char* begin = text.data() + at + kPrefix.size();
    const char* end = text.data() + text.size();
    if (begin == end || *begin < '0' || *begin > '9') continue;
    long code = 0;
    if (std::from_chars(begin, end, code).ec == std::errc()) return code;
  }
  return std::nullopt;
}

Error ParseTokenError(const HttpResponse& response) {
  Error e;
  e.http_status = response.status;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  std::string oauth_error, description;
  std::optional<long> code;
  if (body.is_object()) {
    // Not value(): it throws on a member of another type.
    if (body.contains("error") && body["error"].is_string()) oauth_error = body["error"];
    if (body.contains("error_description") && body["error_description"].is_string()) {
      description = body["error_description"];
    }
    if (body.contains("error_codes") && body["error_codes"].is_array() &&
        !body["error_codes"].empty() && body["error_codes"][0].is_number_integer()) {
      code = body["error_codes"][0].get<long>();
    }
  }
  if (!code) code = FirstAadstsCode(description);
  // The first line of the description is the sentence; the rest are Trace ID and timestamps.
  e.message = description.substr(0, description.find_first_of("\r\n"));
  if (e.message.empty())
    e.message = "the token endpoint answered HTTP " + std::to_string(response.status);

  const std::string retry_after = response.Header("Retry-After");
  if (response.status == 429 || (response.status >= 500 && response.status <= 599)) {
    e.category = response.status == 429 ? ErrorCategory::kThrottled : ErrorCategory::kTransient;
    e.code = code ? "AADSTS" + std::to_string(*code) : "HTTP " + std::to_string(response.status);
    // Under nine digits (three years), as ews_xml.cpp reads it: longer ones overflowed stol or
    // the nanoseconds of a Duration.
    if (!retry_after.empty() && retry_after.size() < 9 &&
        std::all_of(retry_after.begin(), retry_after.end(), ::isdigit)) {
      e.retry_after = std::chrono::seconds(std::stol(retry_after));
    }
    e.remedy = "the identity platform is busy; the client retries after the back-off it asked for";
    return e;
  }
  if (code) {
    e.code = "AADSTS" + std::to_string(*code);
    for (const Known& k : kKnown) {
      if (k.code == *code) {
        e.category = k.category;
        e.remedy = k.remedy;
        return e;
      }
    }
  } else {
    e.code = oauth_error.empty() ? "HTTP " + std::to_string(response.status) : oauth_error;
  }
  // Unknown codes: decide by the OAuth error, so retry policy stays right.
  if (oauth_error == "invalid_client" || oauth_error == "unauthorized_client") {
    e.category = ErrorCategory::kAuthentication;
  } else if (oauth_error == "invalid_request" || oauth_error == "invalid_scope") {
    e.category = ErrorCategory::kConfiguration;
  } else if (response.status == 401 || response.status == 400) {
    e.category = ErrorCategory::kAuthentication;
  } else {
    e.category = ErrorCategory::kProtocol;
  }
  e.remedy = "see https://login.microsoftonline.com/error?code=" +
             (code ? std::to_string(*code) : std::string("0"));
  return e;
}

}  // namespace exo::client
