// The token-signing keys mock-aad publishes in its JWKS: several at once, one of them signing,
// rotated with overlap as Entra does (the old key stays published until retired).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/crypto.hpp"
#include "exo/common/result.hpp"

namespace exo::aad {

struct SigningKey {
  std::string kid;  // base64url SHA-1 of the certificate (= x5t)
  crypto::PrivateKey key;
  crypto::Certificate certificate;
};

// Thread-safe.
class SigningKeySet {
 public:
  // `count` keys, the first signing. Keys come from a process-wide pool so that many mocks in
  // one test process do not each pay for RSA key generation; with a `cache_dir` they are also
  // kept there (signing-key-N.pem: key and certificate), so a restarted server starts in
  // milliseconds and keeps its kids.
  static Result<std::unique_ptr<SigningKeySet>> Create(std::size_t count = 2,
                                                      const std::filesystem::path& cache_dir = {});

  SigningKey Signer() const;
  // Publishes a new key and makes it the signer; the previous signer stays published.
  Result<std::string> Rotate();
  // Makes an already published key the signer.
  bool Promote(const std::string& kid);
  // Removes a key from the JWKS (never the signer). Tokens it signed stop validating.
  bool Retire(const std::string& kid);
  // {"keys":[...]} with kty, use, kid, x5t, n, e, x5c and `issuer` on each key.
  nlohmann::ordered_json Jwks(const std::string& issuer) const;
  std::vector<std::string> Kids() const;

 private:
  mutable std::mutex mu_;
  std::vector<SigningKey> keys_;
  // Each published key's JWK without "issuer", by kid: deriving n, e and x5c from the
  // certificate on every Jwks() call was most of an in-process token validation.
  mutable std::map<std::string, nlohmann::ordered_json> jwks_by_kid_;
  std::size_t signer_ = 0;
  std::size_t pool_next_ = 0;
};

}  // namespace exo::aad
