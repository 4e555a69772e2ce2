// Exchange's bearer-token checks for EWS (reference ews.md §3.1, §4.3), as Exchange Online or an
// on-premises server does them: what a request's Authorization header must carry, and the exact
// 401/403 answer when it does not.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exo/common/clock.hpp"

namespace exo::mock_ews {

// The caller a valid token names.
struct EwsCaller {
  std::string tenant_id;  // lower-case
  std::string app_id;
  bool app_only = true;
  std::vector<std::string> roles;  // the token's roles claim (Entra-granted app permissions)
};

// A token whose signature, lifetime, audience and issuer passed; what it may do is the caller's
// to decide (EWS: Check; the admin API: its own role checks).
struct VerifiedToken {
  std::string tenant_id;  // lower-case, from the issuer
  nlohmann::json claims;
};

// The refusal of a token: status 401 or 403, and the header values Exchange sends (empty body).
struct AuthFailure {
  int status = 401;
  std::string www_authenticate;  // empty: not sent
  std::string diagnostics;       // x-ms-diagnostics; empty: not sent
};

// Why a bearer token was refused before any permission was looked at, in the order the checks run.
enum class TokenFault {
  kMissing,      // no "Bearer <token>" Authorization header
  kMalformed,    // not a JWS compact serialization
  kSignature,    // not RS256, unknown kid, or a signature that does not verify
  kExpired,      // exp (plus 5 minutes of skew) has passed
  kNotYetValid,  // nbf (minus 5 minutes of skew) lies ahead
  kAudience,     // aud is not one the service accepts
  kIssuer,       // no issuer, one not Entra ID's form for a tenant, or a tid naming another tenant
  kTenant,       // the issuer is not a trusted tenant's
};

// What a service expects of a token besides a valid signature and lifetime: its audiences, and
// whether v2.0 tokens (issuer https://login.microsoftonline.com/{tid}/v2.0) are accepted beside
// v1.0 ones (https://sts.windows.net/{tid}/).
struct TokenExpectations {
  std::function<bool(const std::string& aud)> audience;
  bool accept_v2_issuer = false;
};

// Whose tokens the server is: Exchange Online's (audience https://outlook.office365.com), or an
// on-premises server's in a hybrid organization (audience = its public URL; app-only tokens only
// when app-only OAuth is configured there).
struct AudiencePolicy {
  bool on_premises = false;
  std::string audience;         // on-premises: "https://mail.contoso.com" (no trailing slash)
  bool app_only_oauth = false;  // on-premises: V1S2SAppOnly and the partner app's permissions
};

// Holds the trusted tenants' JWKS sources. Thread-safe.
class TokenValidator {
 public:
  explicit TokenValidator(Clock& clock, AudiencePolicy policy = {})
      : clock_(clock), policy_(std::move(policy)) {}

  // The tenant's key set, given the kid the token names (so a cache can refetch on a rotation).
  using KeySource = std::function<nlohmann::json(const std::string& kid)>;
  void Trust(const std::string& tenant_id, KeySource jwks);
  // Whether the app (tenant id, app id) holds an RBAC for Applications grant EWS honours
  // (`Application EWS.AccessAsApp`); the admin model then decides per mailbox.
  using RbacGrantLookup =
      std::function<bool(const std::string& tenant_id, const std::string& app_id)>;
  // Checks an Authorization header value in Exchange's order: presence, structure, signature
  // (RS256 by kid), lifetime (5 minutes skew), audience, issuer, permissions. With `rbac`, a
  // token without full_access_as_app (or with no roles at all: an app moved to RBAC has its Entra
  // consent removed) passes when the app holds an RBAC grant; autodiscover passes none, as RBAC
  // application roles do not reach it.
  std::optional<AuthFailure> Check(const std::string& authorization, EwsCaller& caller,
                                   const RbacGrantLookup* rbac = nullptr) const;
  // The same checks up to and including the issuer, without the EWS permission checks.
  std::optional<AuthFailure> Verify(const std::string& authorization, VerifiedToken& token) const;
  // The service-neutral checks (structure, signature, lifetime, `expect`'s audience and issuer) for
  // a facade that answers refusals in its own way (Microsoft Graph). `detail` gets the offending
  // aud, issuer or tenant when there is one.
  std::optional<TokenFault> Inspect(const std::string& authorization,
                                    const TokenExpectations& expect, VerifiedToken& token,
                                    std::string* detail = nullptr) const;
  // A refusal with this server's challenge (401) and x-ms-diagnostics `code;reason;category`.
  AuthFailure Refuse(int status, int code, const std::string& reason, const char* category) const;

 private:
  // The Bearer challenge this server sends (without error=).
  std::string Challenge() const;
  bool AudienceAccepted(const std::string& aud) const;

  Clock& clock_;
  const AudiencePolicy policy_;
  mutable std::mutex mu_;
  std::map<std::string, KeySource> tenants_;
};

}  // namespace exo::mock_ews
