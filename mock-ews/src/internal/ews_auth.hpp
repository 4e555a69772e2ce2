// Exchange Online's bearer-token checks for EWS (reference ews.md §3.1): what a request's
// Authorization header must carry, and the exact 401/403 answer when it does not.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

// Holds the trusted tenants' JWKS sources. Thread-safe.
class TokenValidator {
 public:
  explicit TokenValidator(Clock& clock) : clock_(clock) {}

  // The tenant's key set, given the kid the token names (so a cache can refetch on a rotation).
  using KeySource = std::function<nlohmann::json(const std::string& kid)>;
  void Trust(const std::string& tenant_id, KeySource jwks);
  // Checks an Authorization header value in Exchange's order: presence, structure, signature
  // (RS256 by kid), lifetime (5 minutes skew), audience, issuer, permissions.
  std::optional<AuthFailure> Check(const std::string& authorization, EwsCaller& caller) const;

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, KeySource> tenants_;
};

}  // namespace exo::mock_ews
