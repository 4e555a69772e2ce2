#include "internal/remote_jwks.hpp"

#include <httplib.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "exo/common/log.hpp"

namespace exo::mock_ews {

using nlohmann::json;

namespace {

struct SplitUrl {
  std::string origin;  // "https://host:port"
  std::string path;    // "/..." (with the query, if any)
  bool tls = false;
};

Result<SplitUrl> Split(const std::string& url) {
  SplitUrl u;
  std::size_t rest = 0;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = 8;
  } else if (url.starts_with("http://")) {
    rest = 7;
  } else {
    return Fail(ErrorCategory::kConfiguration, "InvalidAuthority",
                "'" + url + "' is not an http(s) URL",
                "give an origin such as https://login.microsoftonline.com");
  }
  const auto slash = url.find('/', rest);
  if (slash == rest) {
    return Fail(ErrorCategory::kConfiguration, "InvalidAuthority", "'" + url + "' has no host");
  }
  u.origin = url.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  return u;
}

// A JSON object from `url`, verifying the server with the source's trust settings.
Result<json> GetJson(const OidcSource& source, const std::string& url) {
  auto u = Split(url);
  if (!u) return std::unexpected(u.error());
  httplib::Client cli(u->origin);
  if (!cli.is_valid()) {
    return Fail(ErrorCategory::kConfiguration, "InvalidAuthority",
                "cannot make an HTTP client for '" + u->origin + "'");
  }
  cli.set_connection_timeout(source.timeout);
  cli.set_read_timeout(source.timeout);
  cli.set_write_timeout(source.timeout);
  if (u->tls) {
    cli.enable_server_certificate_verification(true);
    if (!source.ca_file.empty() && source.also_system_store) {
      // The harness CA beside the public roots, so one setting serves mock-aad and the real
      // login.microsoftonline.com. The client owns the store once it is set.
      X509_STORE* store = X509_STORE_new();
      X509_STORE_set_default_paths(store);
      if (X509_STORE_load_file(store, source.ca_file.c_str()) != 1) {
        X509_STORE_free(store);
        return Fail(ErrorCategory::kConfiguration, "InvalidCaFile",
                    "cannot load CA certificates from " + source.ca_file.string());
      }
      cli.set_ca_cert_store(store);
    } else if (!source.ca_file.empty()) {
      cli.set_ca_cert_path(source.ca_file.string());
    }
  }
  auto res = cli.Get(u->path, {{"Accept", "application/json"}});
  if (!res) {
    std::string why;
    switch (res.error()) {
      case httplib::Error::Connection:
        why = "cannot connect (refused, or no route to the host)";
        break;
      case httplib::Error::ConnectionTimeout:
        why = "timed out connecting";
        break;
      case httplib::Error::Read:
        why = "no complete answer (read failed or timed out)";
        break;
      case httplib::Error::SSLConnection:
        why = "the TLS handshake failed";
        break;
      case httplib::Error::SSLServerVerification:
        why = std::string("its certificate is not trusted: ") +
              X509_verify_cert_error_string(cli.get_openssl_verify_result());
        break;
      default:
        why = httplib::to_string(res.error());
    }
    Error e{ErrorCategory::kTransient,
            "JwksFetchFailed",
            "GET " + url + ": " + why,
            "check that the authority is reachable and that its certificate is trusted "
            "(--ca-file, or --ca-dir with the harness CA)",
            std::nullopt,
            0};
    return std::unexpected(std::move(e));
  }
  if (res->status != 200) {
    // Entra answers an unknown tenant with 400 and an AADSTS description: a setup mistake.
    std::string detail = res->body.substr(0, 300);
    if (auto j = json::parse(res->body, nullptr, false);
        j.is_object() && j.contains("error_description") && j["error_description"].is_string()) {
      detail = j["error_description"];
    }
    const bool client_error = res->status >= 400 && res->status < 500;
    Error e{client_error ? ErrorCategory::kConfiguration : ErrorCategory::kTransient,
            "HTTP " + std::to_string(res->status),
            "GET " + url + " answered " + std::to_string(res->status) + ": " + detail,
            client_error ? "check --authority and the tenant id" : "",
            std::nullopt,
            res->status};
    return std::unexpected(std::move(e));
  }
  auto j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(ErrorCategory::kProtocol, "InvalidJson", "GET " + url + ": not a JSON object");
  }
  return j;
}

}  // namespace

Result<json> FetchOidcJwks(const OidcSource& source) {
  std::string authority = source.authority;
  while (authority.ends_with("/")) authority.pop_back();
  const std::string discovery =
      authority + "/" + source.tenant_id + "/v2.0/.well-known/openid-configuration";
  auto config = GetJson(source, discovery);
  if (!config) return std::unexpected(config.error());
  if (!config->contains("jwks_uri") || !(*config)["jwks_uri"].is_string()) {
    return Fail(ErrorCategory::kProtocol, "InvalidDiscovery", discovery + " has no jwks_uri");
  }
  const std::string jwks_uri = (*config)["jwks_uri"];
  auto jwks = GetJson(source, jwks_uri);
  if (!jwks) return std::unexpected(jwks.error());
  if (!jwks->contains("keys") || !(*jwks)["keys"].is_array()) {
    return Fail(ErrorCategory::kProtocol, "InvalidJwks", jwks_uri + " has no \"keys\" array");
  }
  return jwks;
}

RemoteJwks::RemoteJwks(JwksFetch fetch, Clock& clock, RemoteJwksPolicy policy)
    : fetch_(std::move(fetch)), clock_(clock), policy_(policy) {}

Result<void> RemoteJwks::Refresh() {
  std::unique_lock lock(mu_);
  fetched_.wait(lock, [this] { return !fetching_; });
  FetchLocked(lock);
  if (last_error_) return std::unexpected(*last_error_);
  return {};
}

json RemoteJwks::Keys() { return Lookup(Need::kAny, {}); }

json RemoteJwks::KeysFor(const std::string& kid) { return Lookup(Need::kKid, kid); }

json RemoteJwks::Lookup(Need need, const std::string& kid) {
  std::unique_lock lock(mu_);
  const MonoTime now = clock_.Monotonic();
  const bool usable = keys_ && (need != Need::kKid || HasKid(kid));
  const bool stale = !fetched_at_ || now - *fetched_at_ >= policy_.max_age;
  if (!usable || stale) {
    if (fetching_) {
      // One fetch serves every lookup that arrives while it runs; those with nothing usable wait
      // for it rather than start their own.
      if (!usable) fetched_.wait(lock, [this] { return !fetching_; });
    } else if (!last_on_demand_ || now - *last_on_demand_ >= policy_.min_refresh_interval) {
      last_on_demand_ = now;
      FetchLocked(lock);
    }
  }
  std::shared_ptr<const json> snapshot = keys_;
  lock.unlock();
  return snapshot ? *snapshot : json{{"keys", json::array()}};
}

bool RemoteJwks::HasKid(const std::string& kid) const {
  for (const auto& k : (*keys_)["keys"]) {
    if (k.is_object() && k.value("kid", "") == kid) return true;
  }
  return false;
}

void RemoteJwks::FetchLocked(std::unique_lock<std::mutex>& lock) {
  fetching_ = true;
  ++attempts_;
  lock.unlock();
  Result<json> fetched = fetch_ ? fetch_()
                                : Fail(ErrorCategory::kConfiguration, "NoJwksSource",
                                       "no way to fetch keys was configured");
  const MonoTime at = clock_.Monotonic();
  lock.lock();
  if (fetched) {
    keys_ = std::make_shared<const json>(std::move(*fetched));
    fetched_at_ = at;
    last_error_.reset();
  } else {
    // The keys already cached stay in service: an issuer outage must not fail every request.
    last_error_ = fetched.error();
    log::Get("mock-ews")
        ->warn("fetching signing keys failed: {} ({})", fetched.error().Describe(),
               keys_ ? "serving the cached keys" : "no keys yet");
  }
  fetching_ = false;
  fetched_.notify_all();
}

std::size_t RemoteJwks::fetch_attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

std::optional<Error> RemoteJwks::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace exo::mock_ews
