// A tenant's token-signing keys fetched from an Entra ID authority (real or mock-aad) through OIDC
// discovery, cached, and refreshed on demand at a bounded rate: what the standalone mock-ews binary
// hands TrustTenant when the issuer is not in the same process.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::mock_ews {

// Where and how to fetch the keys. `authority` is an origin ("https://login.microsoftonline.com",
// "https://127.0.0.1:41234"); the discovery document is {authority}/{tenant}/v2.0/.well-known/
// openid-configuration and the keys are at its jwks_uri.
struct OidcSource {
  std::string authority = "https://login.microsoftonline.com";
  std::string tenant_id;
  // CA certificates (PEM) to verify HTTPS with. Empty: the system store only.
  std::filesystem::path ca_file;
  // Also trust the system store when `ca_file` is set (a harness CA beside the public roots).
  bool also_system_store = false;
  std::chrono::seconds timeout{10};  // connect and read, per request
};

// Fetches the JWKS through discovery over HTTP(S) once, with no caching. Errors: kConfiguration
// (an authority that is not an http(s) origin), kTransient (connection, TLS or HTTP failure; the
// message names the URL and, for TLS, the verification error), kProtocol (a discovery document
// without jwks_uri, a JWKS without a "keys" array).
Result<nlohmann::json> FetchOidcJwks(const OidcSource& source);

// Fetching as a seam: FetchOidcJwks in production, a fake in tests.
using JwksFetch = std::function<Result<nlohmann::json>()>;

struct RemoteJwksPolicy {
  // At most one on-demand fetch (unknown kid, no keys yet, keys too old) per this much of the
  // injected clock's monotonic time, so a flood of tokens with made-up kids cannot turn the mock
  // into a fetch amplifier. Microsoft.IdentityModel's RefreshInterval default.
  Duration min_refresh_interval = std::chrono::minutes(5);
  // Keys older than this are refreshed on the next lookup (Microsoft.IdentityModel's
  // AutomaticRefreshInterval default), so rotation is seen even without an unknown kid.
  Duration max_age = std::chrono::hours(12);
};

// The cached JWKS of one tenant. Thread-safe. A failed fetch keeps the keys already cached; a
// lookup never blocks on the network except the one that performs a due fetch (and lookups that
// have no usable key yet, which wait for that fetch instead of starting their own).
class RemoteJwks {
 public:
  RemoteJwks(JwksFetch fetch, Clock& clock, RemoteJwksPolicy policy = {});

  // Fetches now, whatever the rate limit (start-up, an operator's request). On error the cache is
  // left as it was.
  Result<void> Refresh();

  // The cached keys ({"keys":[...]}, empty before the first successful fetch). Fetches first
  // when there are no keys yet or they are older than max_age, within the rate limit.
  nlohmann::json Keys();
  // Keys(), refreshed first (within the rate limit) when no cached key has `kid`.
  nlohmann::json KeysFor(const std::string& kid);

  // Fetch attempts so far (successful or not), and the last failure, for diagnostics.
  std::size_t fetch_attempts() const;
  std::optional<Error> last_error() const;

 private:
  enum class Need { kAny, kFresh, kKid };
  nlohmann::json Lookup(Need need, const std::string& kid);
  bool HasKid(const std::string& kid) const;  // mu_ held
  void FetchLocked(std::unique_lock<std::mutex>& lock);

  JwksFetch fetch_;
  Clock& clock_;
  RemoteJwksPolicy policy_;
  mutable std::mutex mu_;
  std::condition_variable fetched_;
  std::shared_ptr<const nlohmann::json> keys_;  // null until the first successful fetch
  std::optional<MonoTime> fetched_at_;          // of keys_
  std::optional<MonoTime> last_on_demand_;      // rate limit
  bool fetching_ = false;
  std::size_t attempts_ = 0;
  std::optional<Error> last_error_;
};

}  // namespace exo::mock_ews
