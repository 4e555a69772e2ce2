#include "exo/mock_kit/jwt.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

#include "exo/common/base64.hpp"

namespace exo::mock {
namespace {
std::unexpected<Error> Malformed(const std::string& why) {
  return Fail(ErrorCategory::kAuthentication, "MalformedJwt", why);
}

// A server sees the same few keys and, within a token's lifetime, the same tokens on every
// request: rebuilding the RSA key from n and e and checking the same RS256 signature again were
// most of mock-ews's per-request CPU. Both are pure functions of their bytes, so caching them
// changes no answer: a key removed from a JWKS is still not found (the caller looks the kid up
// in its current JWKS first), and a signature is only taken as verified for the same input,
// signature and key. Bounded: each cache is emptied when it fills.
constexpr std::size_t kMaxCachedKeys = 64;
constexpr std::size_t kMaxVerifiedSignatures = 4096;

std::mutex cache_mu;
std::map<std::string, crypto::PublicKey, std::less<>>& KeyCache() {
  static auto* cache = new std::map<std::string, crypto::PublicKey, std::less<>>();
  return *cache;
}
// Verified signatures by VerificationId; each entry holds its key, so the key's address (part
// of the id) cannot be reused by another key while the entry lives.
std::unordered_map<std::string, crypto::PublicKey>& VerifiedCache() {
  static auto* cache = new std::unordered_map<std::string, crypto::PublicKey>();
  return *cache;
}

// SHA-256 over what decides a verification (scheme, signing input, signature), plus the key's
// identity: FindJwk hands out one PublicKey per published key, so its address is stable.
std::string VerificationId(char scheme, const Jwt& jwt, const crypto::PublicKey& key) {
  std::string material;
  material.reserve(jwt.signing_input.size() + jwt.signature.size() + 16);
  material += scheme;
  material += std::to_string(jwt.signing_input.size());
  material += ':';
  material += jwt.signing_input;
  material += jwt.signature;
  std::string id = crypto::Sha256(material);
  const auto address = reinterpret_cast<std::uintptr_t>(key.get());
  id.append(reinterpret_cast<const char*>(&address), sizeof address);
  return id;
}

bool VerifyCached(crypto::SignatureScheme scheme, char tag, const Jwt& jwt,
                  const crypto::PublicKey& key) {
  const std::string id = VerificationId(tag, jwt, key);
  {
    std::lock_guard lock(cache_mu);
    if (VerifiedCache().contains(id)) return true;
  }
  if (!key.Verify(scheme, jwt.signing_input, jwt.signature)) return false;
  std::lock_guard lock(cache_mu);
  if (VerifiedCache().size() >= kMaxVerifiedSignatures) VerifiedCache().clear();
  VerifiedCache().emplace(id, key);
  return true;
}
}  // namespace

Result<Jwt> ParseJwt(std::string_view token) {
  if (token.size() > kMaxJwtBytes) return Malformed("token too long");
  const auto d1 = token.find('.');
  if (d1 == std::string_view::npos) return Malformed("not a compact JWS");
  const auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Malformed("a compact JWS has three parts");
  }
  auto header = Base64Decode(token.substr(0, d1));
  auto payload = Base64Decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = Base64Decode(token.substr(d2 + 1));
  if (!header || !payload || !signature) return Malformed("a part is not base64url");
  Jwt jwt;
  jwt.header = nlohmann::json::parse(*header, nullptr, false);
  jwt.payload = nlohmann::json::parse(*payload, nullptr, false);
  if (!jwt.header.is_object() || !jwt.payload.is_object()) {
    return Malformed("header and payload must be JSON objects");
  }
  if (!jwt.header.contains("alg") || !jwt.header["alg"].is_string()) {
    return Malformed("the header has no alg");
  }
  jwt.signing_input = std::string(token.substr(0, d2));
  jwt.signature = std::move(*signature);
  return jwt;
}

std::string SignJwt(const nlohmann::ordered_json& header, const nlohmann::ordered_json& payload,
                    const crypto::PrivateKey& key) {
  // Claims can echo a request (a v1 resource as asked): bytes that are not UTF-8 are replaced,
  // where a strict dump would throw.
  constexpr auto kReplace = nlohmann::ordered_json::error_handler_t::replace;
  const std::string input = Base64UrlEncode(header.dump(-1, ' ', false, kReplace)) + "." +
                            Base64UrlEncode(payload.dump(-1, ' ', false, kReplace));
  const auto scheme = header.value("alg", "RS256") == "PS256"
                          ? crypto::SignatureScheme::kRsaPssSha256
                          : crypto::SignatureScheme::kRsaPkcs1Sha256;
  auto sig = key.Sign(scheme, input);
  return input + "." + Base64UrlEncode(sig ? *sig : std::string());
}

bool VerifyJwtSignature(const Jwt& jwt, const crypto::PublicKey& key) {
  const std::string alg = jwt.header.value("alg", "");
  if (alg == "RS256") return VerifyCached(crypto::SignatureScheme::kRsaPkcs1Sha256, 'R', jwt, key);
  if (alg == "PS256") return VerifyCached(crypto::SignatureScheme::kRsaPssSha256, 'P', jwt, key);
  return false;
}

std::optional<crypto::PublicKey> FindJwk(const nlohmann::json& jwks, const std::string& kid) {
  if (kid.empty() || !jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return std::nullopt;
  }
  for (const auto& k : jwks["keys"]) {
    if (!k.is_object() || k.value("kid", "") != kid) continue;
    if (!k.contains("n") || !k["n"].is_string() || !k.contains("e") || !k["e"].is_string())
      continue;
    const std::string id = k["n"].get<std::string>() + "." + k["e"].get<std::string>();
    {
      std::lock_guard lock(cache_mu);
      if (auto it = KeyCache().find(id); it != KeyCache().end()) return it->second;
    }
    auto n = Base64Decode(k["n"].get<std::string>());
    auto e = Base64Decode(k["e"].get<std::string>());
    if (!n || !e) continue;
    if (auto key = crypto::PublicKey::FromRsaComponents(*n, *e)) {
      std::lock_guard lock(cache_mu);
      if (KeyCache().size() >= kMaxCachedKeys) KeyCache().clear();
      KeyCache().emplace(id, *key);
      return *key;
    }
  }
  return std::nullopt;
}

std::optional<double> NumericDate(const nlohmann::json& payload, const char* claim) {
  auto it = payload.find(claim);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  // 9.2e9 s is about as far as int64 nanoseconds reach; a margin for the callers' skew.
  constexpr double kLimit = 9.0e9;
  return std::clamp(it->get<double>(), -kLimit, kLimit);
}

std::string StringClaim(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace exo::mock
