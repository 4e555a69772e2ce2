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

#include "exo/common/clock.hpp"

namespace exo::mock_ews {

// The caller a valid token names.
struct EwsCaller {
  std::string tenant_id;  // lower-case
  std::string app_id;
  bool app_only = true;
};

// The refusal of a token: status 401 or 403, and the header values Exchange sends (empty body).
struct AuthFailure {
  int status = 401;
  std::string www_authenticate;  // empty: not sent
  std::string diagnostics;       // x-ms-diagnostics; empty: not sent
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
  // Checks an Authorization header value in Exchange's order: presence, structure, signature
  // (RS256 by kid), lifetime (5 minutes skew), audience, issuer, permissions.
  std::optional<AuthFailure> Check(const std::string& authorization, EwsCaller& caller) const;

 private:
  // The Bearer challenge this server sends (without error=).
  std::string Challenge() const;
  AuthFailure Refuse(int status, int code, const std::string& reason, const char* category) const;
  bool AudienceAccepted(const std::string& aud) const;

  Clock& clock_;
  const AudiencePolicy policy_;
  mutable std::mutex mu_;
  std::map<std::string, KeySource> tenants_;
};

}  // namespace exo::mock_ews
