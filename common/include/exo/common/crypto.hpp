// Keys, certificates, digests and signatures over OpenSSL 3, as value types that own their
// OpenSSL objects. Generic primitives only: JWT and protocol formats live in each component.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace exo::crypto {

std::string Sha1(std::string_view data);
std::string Sha256(std::string_view data);

// RSASSA-PKCS1-v1_5 or RSASSA-PSS (salt = digest length), both with SHA-256. Both need an RSA
// key: Sign with any other key is an error and Verify with one returns false.
enum class SignatureScheme { kRsaPkcs1Sha256, kRsaPssSha256 };

class PublicKey {
 public:
  static Result<PublicKey> FromPem(std::string_view pem);
  // An RSA key from its big-endian modulus and exponent (a JWK's n and e, decoded). A modulus
  // under 1024 bits or an exponent that is empty, even or below 3 is a configuration error.
  static Result<PublicKey> FromRsaComponents(std::string_view n, std::string_view e);

  bool Verify(SignatureScheme scheme, std::string_view data, std::string_view signature) const;
  bool IsRsa() const;
  int Bits() const;
  std::string ToPem() const;
  // Big-endian modulus and public exponent; empty for non-RSA keys.
  std::string RsaModulus() const;
  std::string RsaExponent() const;
  EVP_PKEY* get() const { return key_.get(); }

  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> GenerateRsa(int bits = 2048);
  static Result<PrivateKey> GenerateEcP256();
  static Result<PrivateKey> FromPem(std::string_view pem);

  Result<std::string> Sign(SignatureScheme scheme, std::string_view data) const;
  PublicKey Public() const;
  // PKCS#8 PEM, unencrypted: only ever written to files the harness itself creates.
  std::string ToPem() const;
  EVP_PKEY* get() const { return key_.get(); }

  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

// An X.509 certificate.
class Certificate {
 public:
  static Result<Certificate> FromPem(std::string_view pem);
  static Result<Certificate> FromDer(std::string_view der);
  // Every certificate in a PEM bundle, in order.
  static Result<std::vector<Certificate>> AllFromPem(std::string_view pem);
  // A self-signed certificate for `key` (the kind Entra ID publishes for its signing keys and
  // applications register as key credentials).
  static Result<Certificate> SelfSigned(const PrivateKey& key, const std::string& common_name,
                                        SystemTime not_before, SystemTime not_after);

  std::string ToPem() const;
  std::string ToDer() const;
  PublicKey Public() const;
  std::string Sha1Thumbprint() const;    // raw 20 bytes of SHA-1 over the DER
  std::string Sha256Thumbprint() const;  // raw 32 bytes of SHA-256 over the DER
  SystemTime NotBefore() const;
  SystemTime NotAfter() const;
  std::string SubjectCommonName() const;
  X509* get() const { return cert_.get(); }

  explicit Certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}

 private:
  std::shared_ptr<X509> cert_;
};

// The OpenSSL error queue as one line, cleared; for messages.
std::string TakeOpenSslError();

}  // namespace exo::crypto
