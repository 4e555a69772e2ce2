#include "internal/ews_auth.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::mock_ews {

namespace {

// Exchange Online's challenge on outlook.office365.com/EWS.
constexpr const char* kChallenge =
    "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
    "trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", "
    "token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
    "authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"";
// Entra ID's own principal id: an on-premises server names it with its tenant as the issuer it
// trusts (its EvoSTS auth server), where Exchange Online says "@*".
constexpr const char* kEntraPrincipal = "00000001-0000-0000-c000-000000000000";
constexpr auto kSkew = std::chrono::minutes(5);

std::string LowerCopy(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "https://Mail.Contoso.com/" -> "https://mail.contoso.com", for comparing audiences.
std::string ComparableAudience(std::string aud) {
  aud = LowerCopy(std::move(aud));
  while (aud.size() > 1 && aud.back() == '/') aud.pop_back();
  return aud;
}

bool HasString(const nlohmann::json& payload, const char* claim, const std::string& value) {
  if (!payload.contains(claim) || !payload[claim].is_array()) return false;
  for (const auto& v : payload[claim]) {
    if (v.is_string() && v.get<std::string>() == value) return true;
  }
  return false;
}

}  // namespace

std::string TokenValidator::Challenge() const {
  if (!policy_.on_premises) return kChallenge;
  // The hybrid modern authentication challenge (MS doc "Using hybrid Modern Authentication with
  // Outlook for iOS and Android", ews.md §4.3): the tenant's Entra ID as the trusted issuer and
  // login.windows.net as the authorization URI. Several trusted tenants are listed comma-separated
  // [infer: a hybrid server trusts one tenant].
  std::string issuers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [tid, source] : tenants_) {
      if (!issuers.empty()) issuers += ",";
      issuers += std::string(kEntraPrincipal) + "@" + tid;
    }
  }
  if (issuers.empty()) issuers = std::string(kEntraPrincipal) + "@*";
  return "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"" +
         issuers +
         "\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
         "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"";
}

AuthFailure TokenValidator::Refuse(int status, int code, const std::string& reason,
                                   const char* category) const {
  AuthFailure f;
  f.status = status;
  if (status == 401) f.www_authenticate = Challenge() + ", error=\"invalid_token\"";
  f.diagnostics =
      std::to_string(code) + ";reason=\"" + reason + "\";error_category=\"" + category + "\"";
  return f;
}

bool TokenValidator::AudienceAccepted(const std::string& aud) const {
  if (policy_.on_premises) return ComparableAudience(aud) == ComparableAudience(policy_.audience);
  // Exchange Online's resource URI, its older one and its application id (ews.md §3.1).
  return aud == "https://outlook.office365.com" || aud == "https://outlook.office365.com/" ||
         aud == "https://outlook.office.com" || aud == "https://outlook.office.com/" ||
         aud == "00000002-0000-0ff1-ce00-000000000000";
}

void TokenValidator::Trust(const std::string& tenant_id, KeySource jwks) {
  std::lock_guard lock(mu_);
  tenants_[LowerCopy(tenant_id)] = std::move(jwks);
}

std::optional<TokenFault> TokenValidator::Inspect(const std::string& authorization,
                                                  const TokenExpectations& expect,
                                                  VerifiedToken& token, std::string* detail) const {
  if (authorization.size() <= 7 || strncasecmp(authorization.c_str(), "Bearer ", 7) != 0) {
    return TokenFault::kMissing;
  }
  auto jwt = mock::ParseJwt(std::string_view(authorization).substr(7));
  if (!jwt) return TokenFault::kMalformed;

  std::map<std::string, KeySource> tenants;
  {
    std::lock_guard lock(mu_);
    tenants = tenants_;
  }
  // Only RS256 with a published key: alg none, HS256 (a public key used as an HMAC secret) and
  // unknown kids all fail here.
  const std::string kid = mock::StringClaim(jwt->header, "kid");
  bool verified = false;
  if (jwt->header.value("alg", "") == "RS256" && !kid.empty()) {
    for (const auto& [tid, source] : tenants) {
      auto key = mock::FindJwk(source(kid), kid);
      if (key && mock::VerifyJwtSignature(*jwt, *key)) {
        verified = true;
        break;
      }
    }
  }
  if (!verified) return TokenFault::kSignature;

  const auto& p = jwt->payload;
  const SystemTime now = clock_.Now();
  auto exp = mock::NumericDate(p, "exp");
  if (!exp || FromUnixSeconds(static_cast<std::int64_t>(*exp)) + kSkew < now) {
    return TokenFault::kExpired;
  }
  if (auto nbf = mock::NumericDate(p, "nbf");
      nbf && FromUnixSeconds(static_cast<std::int64_t>(*nbf)) - kSkew > now) {
    return TokenFault::kNotYetValid;
  }
  const std::string aud =
      p.contains("aud") && p["aud"].is_string() ? p["aud"].get<std::string>() : std::string();
  if (!expect.audience || !expect.audience(aud)) {
    if (detail) *detail = aud;
    return TokenFault::kAudience;
  }
  const std::string iss =
      p.contains("iss") && p["iss"].is_string() ? p["iss"].get<std::string>() : std::string();
  constexpr std::string_view kV1Prefix = "https://sts.windows.net/";
  constexpr std::string_view kV2Prefix = "https://login.microsoftonline.com/";
  constexpr std::string_view kV2Suffix = "/v2.0";
  std::string tid;
  if (iss.starts_with(kV1Prefix) && iss.ends_with("/")) {
    tid = LowerCopy(iss.substr(kV1Prefix.size(), iss.size() - kV1Prefix.size() - 1));
  } else if (expect.accept_v2_issuer && iss.starts_with(kV2Prefix) && iss.ends_with(kV2Suffix) &&
             iss.size() > kV2Prefix.size() + kV2Suffix.size()) {
    tid = LowerCopy(
        iss.substr(kV2Prefix.size(), iss.size() - kV2Prefix.size() - kV2Suffix.size()));
  }
  // The tenant is one path segment ("…/{tid}/../{other}/" is not an issuer of Entra's), and the
  // tid claim, which Exchange resolves the organization by, must be that tenant's: a token whose
  // tid names another tenant was not issued by that tenant's issuer.
  const bool tid_claim_differs = p.contains("tid") && p["tid"].is_string() &&
                                 LowerCopy(p["tid"].get<std::string>()) != tid;
  if (tid.empty() || tid.find('/') != std::string::npos || tid_claim_differs) {
    if (detail) *detail = iss;
    return TokenFault::kIssuer;
  }
  if (!tenants.contains(tid)) {
    if (detail) *detail = tid;
    return TokenFault::kTenant;
  }
  token.tenant_id = tid;
  token.claims = std::move(jwt->payload);
  return std::nullopt;
}

std::optional<AuthFailure> TokenValidator::Verify(const std::string& authorization,
                                                  VerifiedToken& token) const {
  TokenExpectations expect;
  expect.audience = [this](const std::string& aud) { return AudienceAccepted(aud); };
  std::string detail;
  const std::optional<TokenFault> fault = Inspect(authorization, expect, token, &detail);
  if (!fault) return std::nullopt;
  switch (*fault) {
    case TokenFault::kMissing: {
      AuthFailure f;
      f.www_authenticate = Challenge();  // no credentials: the bare challenge (RFC 6750 §3)
      return f;
    }
    case TokenFault::kMalformed:
      return Refuse(401, 2000001, "The token is malformed.", "invalid_token");
    case TokenFault::kSignature:
      return Refuse(401, 2000000, "The token has an invalid signature.", "invalid_signature");
    case TokenFault::kExpired:
      return Refuse(401, 2000002, "The token has expired.", "token_expired");
    case TokenFault::kNotYetValid:
      // Exchange has one lifetime error, TokenExpired: JWT lifetime failures of either kind map to
      // it (ews.md §3.1, the OAuthErrors descriptions).
      return Refuse(401, 2000002, "The token has expired.", "token_expired");
    case TokenFault::kAudience:
      if (policy_.on_premises) {
        // The on-premises text (MS doc on hybrid modern authentication, ews.md §4.3).
        return Refuse(401, 2000003,
                      "The hostname component of the audience claim value is invalid. Expected '" +
                          policy_.audience + "'. Actual '" + detail + "'.",
                      "invalid_resource");
      }
      return Refuse(401, 2000003, "The audience claim value is invalid '" + detail + "'.",
                    "invalid_resource");
    case TokenFault::kIssuer:
      // OAuthErrors MissingIssuer and NoConfiguredIssuerMatched (2xxx: invalid_token).
      if (detail.empty()) {
        return Refuse(401, 2000001, "The token is missing the issuer.", "invalid_token");
      }
      return Refuse(401, 2000001, "The issuer of the token is unknown. Issuer was '" + detail + "'.",
                    "invalid_token");
    case TokenFault::kTenant:
      return Refuse(401, 2000004, "The tenant for realm '" + detail + "' does not exist.",
                    "invalid_tenant");
  }
  return Refuse(401, 2000001, "The token is malformed.", "invalid_token");
}

std::optional<AuthFailure> TokenValidator::Check(const std::string& authorization,
                                                 EwsCaller& caller,
                                                 const RbacGrantLookup* rbac) const {
  VerifiedToken token;
  if (auto refused = Verify(authorization, token)) return refused;
  const nlohmann::json& p = token.claims;
  std::string app_id = mock::StringClaim(p, "appid");
  if (app_id.empty()) app_id = mock::StringClaim(p, "azp");
  // Entra names the client in every token (appid in v1.0, azp in v2.0). A signed token without
  // one (a custom issuer behind a remote JWKS) would otherwise be no app at all, which no
  // ApplicationAccessPolicy scopes: refused as unreadable [infer: no reference gives the text].
  if (app_id.empty()) return Refuse(401, 2000001, "The token is malformed.", "invalid_token");
  // Exchange Online honours RBAC for Applications without any Entra consent ("remove the Entra
  // consent when you move to RBAC", application-rbac FAQ), so both permission refusals below give
  // way to an RBAC grant; which mailboxes it covers is the admin model's call (AuthorizeEws).
  const bool has_roles = p.contains("roles") && p["roles"].is_array() && !p["roles"].empty();
  const bool full_access = HasString(p, "roles", "full_access_as_app");
  const bool rbac_grant =
      !full_access && rbac && *rbac && !policy_.on_premises && (*rbac)(token.tenant_id, app_id);
  if (!has_roles && !rbac_grant) {
    return Refuse(401, 2000008,
                  "The token contains no permissions, or permissions can not be understood.",
                  "invalid_grant");
  }
  // On-premises, an app-only token meets the server's OAuth profiles next: without app-only
  // OAuth configured even full_access_as_app is "not enough scope" (Garethp/php-ews#222: aud the
  // on-premises host, roles full_access_as_app, 403).
  if ((!full_access && !rbac_grant) || (policy_.on_premises && !policy_.app_only_oauth)) {
    return Refuse(403, 2000008, "The token contains not enough scope to make this call.",
                  "invalid_grant");
  }
  caller.tenant_id = token.tenant_id;
  caller.app_id = app_id;
  caller.app_only = true;
  caller.roles.clear();
  if (has_roles) {
    for (const auto& r : p["roles"]) {
      if (r.is_string()) caller.roles.push_back(r.get<std::string>());
    }
  }
  return std::nullopt;
}

}  // namespace exo::mock_ews
