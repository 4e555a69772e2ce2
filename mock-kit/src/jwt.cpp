#include "exo/mock_kit/jwt.hpp"

#include "exo/common/base64.hpp"

namespace exo::mock {
namespace {
std::unexpected<Error> Malformed(const std::string& why) {
  return Fail(ErrorCategory::kAuthentication, "MalformedJwt", why);
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
  const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  const auto scheme = header.value("alg", "RS256") == "PS256"
                          ? crypto::SignatureScheme::kRsaPssSha256
                          : crypto::SignatureScheme::kRsaPkcs1Sha256;
  auto sig = key.Sign(scheme, input);
  return input + "." + Base64UrlEncode(sig ? *sig : std::string());
}

bool VerifyJwtSignature(const Jwt& jwt, const crypto::PublicKey& key) {
  const std::string alg = jwt.header.value("alg", "");
  if (alg == "RS256") {
    return key.Verify(crypto::SignatureScheme::kRsaPkcs1Sha256, jwt.signing_input, jwt.signature);
  }
  if (alg == "PS256") {
    return key.Verify(crypto::SignatureScheme::kRsaPssSha256, jwt.signing_input, jwt.signature);
  }
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
    auto n = Base64Decode(k["n"].get<std::string>());
    auto e = Base64Decode(k["e"].get<std::string>());
    if (!n || !e) continue;
    if (auto key = crypto::PublicKey::FromRsaComponents(*n, *e)) return *key;
  }
  return std::nullopt;
}

std::optional<double> NumericDate(const nlohmann::json& payload, const char* claim) {
  auto it = payload.find(claim);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace exo::mock
