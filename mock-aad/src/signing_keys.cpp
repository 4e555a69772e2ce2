#include "internal/signing_keys.hpp"

#include <cstdlib>

#include "exo/common/base64.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/file.hpp"

namespace exo::aad {
namespace {

Result<SigningKey> MakeKey() {
  auto key = crypto::PrivateKey::GenerateRsa(2048);
  if (!key) return std::unexpected(key.error());
  // Certificate dates are cosmetic here (clients read only n, e and x5t); real time is fine.
  const SystemTime now = RealClock::Instance().Now();
  auto cert = crypto::Certificate::SelfSigned(*key, "accounts.accesscontrol.windows.net",
                                              now - std::chrono::hours(24 * 30),
                                              now + std::chrono::hours(24 * 365 * 5));
  if (!cert) return std::unexpected(cert.error());
  return SigningKey{Base64UrlEncode(cert->Sha1Thumbprint()), *key, *cert};
}

Result<SigningKey> ReadKey(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text) return std::unexpected(text.error());
  auto key = crypto::PrivateKey::FromPem(*text);
  if (!key) return std::unexpected(key.error());
  auto cert = crypto::Certificate::FromPem(*text);
  if (!cert) return std::unexpected(cert.error());
  return SigningKey{Base64UrlEncode(cert->Sha1Thumbprint()), *key, *cert};
}

// The index-th key of EXO_SIGNING_KEY_POOL (a directory) when the environment names one, made and
// stored there when missing. A 2048-bit RSA key costs up to a second of CPU, and a test suite
// starts mock-aad in hundreds of processes; the pool makes that once per index. Files are
// written atomically, so a process reads a complete key or makes its own.
Result<SigningKey> MakeOrShareKey(std::size_t index) {
  const char* pool_dir = std::getenv("EXO_SIGNING_KEY_POOL");
  if (pool_dir == nullptr || *pool_dir == '\0') return MakeKey();
  const std::filesystem::path path =
      std::filesystem::path(pool_dir) / ("signing-key-" + std::to_string(index + 1) + ".pem");
  if (auto shared = ReadKey(path)) return shared;
  auto k = MakeKey();
  if (!k) return k;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  (void)WriteFileAtomically(path, k->key.ToPem() + k->certificate.ToPem(), 0600);
  return k;
}

// Generated keys are shared by every key set of the process, in order.
Result<SigningKey> PooledKey(std::size_t index) {
  static std::mutex mu;
  static std::vector<SigningKey> pool;
  std::lock_guard lock(mu);
  while (pool.size() <= index) {
    auto k = MakeOrShareKey(pool.size());
    if (!k) return k;
    pool.push_back(*k);
  }
  return pool[index];
}

// The index-th key from `dir` if it holds one, else from the pool (then written to `dir`).
Result<SigningKey> CachedKey(std::size_t index, const std::filesystem::path& dir) {
  if (dir.empty()) return PooledKey(index);
  const auto path = dir / ("signing-key-" + std::to_string(index + 1) + ".pem");
  if (auto cached = ReadKey(path)) return cached;
  auto k = PooledKey(index);
  if (!k) return k;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (auto w = WriteFileAtomically(path, k->key.ToPem() + k->certificate.ToPem(), 0600); !w) {
    return std::unexpected(w.error());
  }
  return k;
}

}  // namespace

Result<std::unique_ptr<SigningKeySet>> SigningKeySet::Create(
    std::size_t count, const std::filesystem::path& cache_dir) {
  auto set = std::make_unique<SigningKeySet>();
  for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i) {
    auto k = CachedKey(i, cache_dir);
    if (!k) return std::unexpected(k.error());
    set->keys_.push_back(*k);
  }
  set->pool_next_ = set->keys_.size();
  return set;
}

SigningKey SigningKeySet::Signer() const {
  std::lock_guard lock(mu_);
  return keys_[signer_];
}

Result<std::string> SigningKeySet::Rotate() {
  std::size_t index;
  {
    std::lock_guard lock(mu_);
    index = pool_next_++;
  }
  auto k = PooledKey(index);
  if (!k) return std::unexpected(k.error());
  std::lock_guard lock(mu_);
  keys_.push_back(*k);
  signer_ = keys_.size() - 1;
  return k->kid;
}

bool SigningKeySet::Promote(const std::string& kid) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].kid == kid) {
      signer_ = i;
      return true;
    }
  }
  return false;
}

bool SigningKeySet::Retire(const std::string& kid) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].kid == kid && i != signer_) {
      keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
      if (signer_ > i) --signer_;
      return true;
    }
  }
  return false;
}

nlohmann::ordered_json SigningKeySet::Jwks(const std::string& issuer) const {
  std::lock_guard lock(mu_);
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const auto& k : keys_) {
    auto cached = jwks_by_kid_.find(k.kid);
    if (cached == jwks_by_kid_.end()) {
      const auto pub = k.certificate.Public();
      cached = jwks_by_kid_
                   .emplace(k.kid, nlohmann::ordered_json{
                                       {"kty", "RSA"},
                                       {"use", "sig"},
                                       {"kid", k.kid},
                                       {"x5t", k.kid},
                                       {"n", Base64UrlEncode(pub.RsaModulus())},
                                       {"e", Base64UrlEncode(pub.RsaExponent())},
                                       {"x5c", {Base64Encode(k.certificate.ToDer())}}})
                   .first;
    }
    keys.push_back(cached->second);
    keys.back()["issuer"] = issuer;
  }
  return {{"keys", keys}};
}

std::vector<std::string> SigningKeySet::Kids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& k : keys_) out.push_back(k.kid);
  return out;
}

}  // namespace exo::aad
