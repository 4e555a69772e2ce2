// Forging JWTs for the attack catalog (issue 8), shared by the mock-ews and client tests: a real
// token taken apart, its header or claims tampered with, and put back together with whatever
// signature the attack calls for (none, an HMAC keyed by a public key, another RSA key). Test-only.
#pragma once

#include <openssl/hmac.h>
#include <openssl/x509.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::testing {

// "<header>.<payload>.<signature>", each base64url, the signature given as raw bytes.
inline std::string CompactJws(const nlohmann::json& header, const nlohmann::json& payload,
                              std::string_view signature) {
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump()) + "." +
         Base64UrlEncode(signature);
}

inline std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

// The key's SubjectPublicKeyInfo as DER: with its PEM, the bytes an HS256 confusion attack keys
// its HMAC with.
inline std::string PublicKeyDer(const crypto::PublicKey& key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key.get(), &der);
  if (size <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return out;
}

using JsonEdit = std::function<void(nlohmann::json&)>;
// Signs a signing input ("<header>.<payload>"), returning the raw signature.
using JwsSigner = std::function<std::string(const std::string& signing_input)>;

// `token` with `header_edit` and `claims_edit` applied (either may be empty), signed by `sign`;
// without a signer the original signature is kept, as a tamperer without any key would.
inline std::string Retoken(const std::string& token, const JsonEdit& header_edit,
                           const JsonEdit& claims_edit, const JwsSigner& sign = {}) {
  auto jwt = mock::ParseJwt(token);
  if (!jwt) return {};
  if (header_edit) header_edit(jwt->header);
  if (claims_edit) claims_edit(jwt->payload);
  const std::string input =
      Base64UrlEncode(jwt->header.dump()) + "." + Base64UrlEncode(jwt->payload.dump());
  return input + "." + Base64UrlEncode(sign ? sign(input) : jwt->signature);
}

// An RS256 signer with `key` (the issuer's own, or an attacker's).
inline JwsSigner Rs256(const crypto::PrivateKey& key) {
  return [key](const std::string& input) {
    auto signature = key.Sign(crypto::SignatureScheme::kRsaPkcs1Sha256, input);
    return signature ? *signature : std::string();
  };
}

// `token` with a padding claim, signed by `sign` (or keeping its signature): the longest such token
// of at most `size` characters (base64url cannot make every length: it is within 3 of `size`).
inline std::string PaddedToken(const std::string& token, std::size_t size,
                               const JwsSigner& sign = {}) {
  auto jwt = mock::ParseJwt(token);
  if (!jwt) return {};
  const std::size_t signature = Base64UrlEncode(sign ? sign("") : jwt->signature).size();
  const auto length = [&](std::size_t pad) {
    nlohmann::json claims = jwt->payload;
    claims["xms_pad"] = std::string(pad, 'p');
    return Base64UrlEncode(jwt->header.dump()).size() + 1 + Base64UrlEncode(claims.dump()).size() +
           1 + signature;
  };
  std::size_t pad = size > length(0) ? (size - length(0)) * 3 / 4 : 0;
  while (pad > 0 && length(pad) > size) --pad;
  while (length(pad + 1) <= size) ++pad;
  return Retoken(
      token, {}, [&](nlohmann::json& c) { c["xms_pad"] = std::string(pad, 'p'); }, sign);
}

}  // namespace exo::testing
