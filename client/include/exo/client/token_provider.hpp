// App-only tokens for the client: client_credentials with a secret or a certificate against a
// configurable authority, cached per (tenant, client, scope), refreshed early, fetched
// single-flight.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// How the app proves who it is. The secret is fetched on each token request so a rotated secret
// (hot reload of the config) is used at once.
struct ClientCredential {
  std::string tenant;     // GUID or domain
  std::string client_id;  // app id
  // Exactly one of the two:
  std::function<Result<SecretString>()> secret;      // client_secret in the body
  std::optional<std::filesystem::path> certificate;  // private_key_jwt (RS256, x5t#S256 and x5t)
};

struct AccessToken {
  SecretString value;
  std::string scope;
  MonoTime expires_at{};           // monotonic, from the time of the request, less the skew margin
  MonoTime refresh_at{};           // refresh_in, or half the lifetime with jitter
  std::vector<std::string> roles;  // from the token's payload (read, not verified: the server does)
  std::string audience;
};

struct TokenProviderOptions {
  std::string authority_host = "https://login.microsoftonline.com";
  Duration skew_margin = std::chrono::minutes(5);
  Duration min_backoff = std::chrono::seconds(2);   // after a failed request for this credential
  Duration max_backoff = std::chrono::minutes(10);  // the cap of the exponential back-off
};

// Thread-safe. Errors carry the AADSTS code and the remedy keyed to the seed's steps, e.g.
// AADSTS7000222 -> "the client secret expired: create a new one (seed step 3) and update
// EmailIntegrationClientSecret"; AADSTS7000215 (wrong secret), AADSTS700016 (unknown app in the
// tenant), AADSTS90002 (unknown tenant); a token without the full_access_as_app role ->
// kAuthorization "grant admin consent (seed step 2.3)".
class TokenProvider {
 public:
  TokenProvider(ClientCredential credential, TokenProviderOptions options, HttpTransport& http,
                Clock& clock, Random& random);
  ~TokenProvider();

  // A valid token for `scope`: from the cache, or one request to the authority however many
  // threads ask at once. While the last request failed, returns that error until its back-off ends.
  Result<AccessToken> Get(const std::string& scope);
  // The server rejected `rejected` (HTTP 401): drop it, if it is still the cached one, so the next
  // Get fetches a new token. A token already replaced is left alone (no refresh storms).
  void Invalidate(const std::string& scope, const std::string& rejected);
  // Forget the back-off (the configuration changed).
  void ResetBackoff();
  // Requests made to the authority so far (for tests, scenarios and the doctor).
  std::size_t requests() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace exo::client
