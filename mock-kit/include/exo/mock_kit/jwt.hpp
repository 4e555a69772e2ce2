// JSON Web Tokens as the mocks mint and inspect them (compact JWS, RS256 and PS256): Entra's
// access tokens and client assertions. Mock-side only; the client has its own.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "exo/common/crypto.hpp"
#include "exo/common/result.hpp"

namespace exo::mock {

// Longest token the mocks accept at all: real Entra tokens are under 4 KiB, assertions with an
// x5c chain under 8 KiB. Anything longer is refused before base64 or JSON parsing.
inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;

struct Jwt {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWS. Checks only structure: three base64url parts, JSON objects,
// a string "alg". Signature and claims are the caller's to judge.
Result<Jwt> ParseJwt(std::string_view token);

// Signs `header` (key order kept, as Entra orders its claims) (alg must be RS256 or PS256) and `payload` with `key`.
std::string SignJwt(const nlohmann::ordered_json& header, const nlohmann::ordered_json& payload,
                    const crypto::PrivateKey& key);

// Verifies the signature with `key` for the header's alg; false for any other alg (none, HS*).
bool VerifyJwtSignature(const Jwt& jwt, const crypto::PublicKey& key);

// The RSA public key with `kid` in a JWKS document ({"keys":[{"kid","n","e",...}]}), if any.
std::optional<crypto::PublicKey> FindJwk(const nlohmann::json& jwks, const std::string& kid);

// A NumericDate claim as seconds, accepting integers and floats (MSAL Python sends floats),
// clamped to the years SystemTime holds (1678 to 2262): a date beyond stays beyond every real
// time, and converting it cannot overflow.
std::optional<double> NumericDate(const nlohmann::json& payload, const char* claim);

// A claim (or header parameter) that is a string; empty when absent or of another type, where
// json::value would throw.
std::string StringClaim(const nlohmann::json& object, const char* name);

}  // namespace exo::mock
