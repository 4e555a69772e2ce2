#include "exo/common/crypto.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace exo::crypto {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

std::shared_ptr<EVP_PKEY> WrapKey(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }
std::shared_ptr<X509> WrapCert(X509* c) { return {c, X509_free}; }

std::unexpected<Error> CryptoError(std::string what) {
  return Fail(ErrorCategory::kConfiguration, "crypto", what + ": " + TakeOpenSslError());
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// OpenSSL 3 resolves EVP_sha256() to a provider's implementation by name on every use (a fetch:
// a global lock and hash-table lookups; 5 % of a mock-ews request in a profile, which digests for
// every item id it mints). Fetched once, an implementation serves the whole process, as OpenSSL's
// crypto(7) advises under "Performance".
const EVP_MD* Fetched(const char* name, const EVP_MD* implicit) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : implicit;
}
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = Fetched("SHA2-256", EVP_sha256());
  return md;
}
const EVP_MD* Sha1Md() {
  static const EVP_MD* const md = Fetched("SHA1", EVP_sha1());
  return md;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  // A context per thread, initialized anew for each digest: no allocation per call.
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    ERR_clear_error();
    EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  std::unique_ptr<BIGNUM, BnFree> owned(bn);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

SystemTime FromAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

bool ConfigurePss(EVP_PKEY_CTX* pctx) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

}  // namespace

std::string TakeOpenSslError() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string Sha1(std::string_view data) { return Digest(Sha1Md(), data); }
std::string Sha256(std::string_view data) { return Digest(Sha256Md(), data); }

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  auto bio = MemBio(pem);
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!k) return CryptoError("not a PEM public key");
  return PublicKey(WrapKey(k));
}

Result<PublicKey> PublicKey::FromRsaComponents(std::string_view n, std::string_view e) {
  std::unique_ptr<BIGNUM, BnFree> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                nullptr));
  if (!bn_n || !bn_e) return CryptoError("bad RSA components");
  // OpenSSL builds a key from any numbers, even empty ones (a 0-bit key that verifies nothing),
  // so refuse what no real RSA key can have before it reaches a verifier.
  if (BN_num_bits(bn_n.get()) < 1024) {
    return Fail(ErrorCategory::kConfiguration, "crypto",
                "RSA modulus of " + std::to_string(BN_num_bits(bn_n.get())) +
                    " bits; at least 1024 required");
  }
  if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2) {
    return Fail(ErrorCategory::kConfiguration, "crypto",
                "RSA public exponent must be odd and at least 3");
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* k = nullptr;
  const bool ok = ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
                  EVP_PKEY_fromdata(ctx.get(), &k, EVP_PKEY_PUBLIC_KEY, params) == 1;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (!ok) return CryptoError("cannot build RSA key");
  return PublicKey(WrapKey(k));
}

bool PublicKey::Verify(SignatureScheme scheme, std::string_view data,
                       std::string_view signature) const {
  if (!IsRsa()) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(md.get(), &pctx, Sha256Md(), nullptr, key_.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (scheme == SignatureScheme::kRsaPssSha256 && !ConfigurePss(pctx)) {
    ERR_clear_error();
    return false;
  }
  const int rc = EVP_DigestVerify(
      md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return rc == 1;
}

bool PublicKey::IsRsa() const { return EVP_PKEY_is_a(key_.get(), "RSA") == 1; }
int PublicKey::Bits() const { return EVP_PKEY_get_bits(key_.get()); }

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return BioContents(bio.get());
}

std::string PublicKey::RsaModulus() const {
  return IsRsa() ? BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_N) : std::string();
}
std::string PublicKey::RsaExponent() const {
  return IsRsa() ? BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_E) : std::string();
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::GenerateRsa(int bits) {
  EVP_PKEY* k = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (!k) return CryptoError("RSA key generation failed");
  return PrivateKey(WrapKey(k));
}

Result<PrivateKey> PrivateKey::GenerateEcP256() {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  if (!k) return CryptoError("EC key generation failed");
  return PrivateKey(WrapKey(k));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  auto bio = MemBio(pem);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!k) return CryptoError("not a PEM private key");
  return PrivateKey(WrapKey(k));
}

Result<std::string> PrivateKey::Sign(SignatureScheme scheme, std::string_view data) const {
  // Every scheme is an RSA one; another key type would silently sign with its own algorithm.
  if (EVP_PKEY_is_a(key_.get(), "RSA") != 1) {
    return Fail(ErrorCategory::kConfiguration, "crypto", "RSA signature scheme needs an RSA key");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(md.get(), &pctx, Sha256Md(), nullptr, key_.get()) != 1) {
    return CryptoError("sign init");
  }
  if (scheme == SignatureScheme::kRsaPssSha256 && !ConfigurePss(pctx)) {
    return CryptoError("PSS padding");
  }
  std::size_t len = 0;
  if (EVP_DigestSign(md.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return CryptoError("sign size");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return CryptoError("sign");
  }
  sig.resize(len);
  return sig;
}

PublicKey PrivateKey::Public() const {
  // The EVP_PKEY holds both halves; verification only reads the public one.
  return PublicKey(key_);
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioContents(bio.get());
}

// ---- Certificate ----

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  auto bio = MemBio(pem);
  X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!c) return CryptoError("not a PEM certificate");
  return Certificate(WrapCert(c));
}

Result<std::vector<Certificate>> Certificate::AllFromPem(std::string_view pem) {
  auto bio = MemBio(pem);
  std::vector<Certificate> out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(WrapCert(c));
  }
  // Only "no start line" means the bundle is used up; any other error is a block that failed to
  // decode, and stopping there would silently drop it and every certificate after it.
  const unsigned long last = ERR_peek_last_error();
  if (last != 0 &&
      !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
    return CryptoError("corrupt certificate after " + std::to_string(out.size()) +
                       " in PEM bundle");
  }
  ERR_clear_error();
  if (out.empty()) return Fail(ErrorCategory::kConfiguration, "crypto", "no PEM certificate");
  return out;
}

Result<Certificate> Certificate::FromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!c) return CryptoError("not a DER certificate");
  return Certificate(WrapCert(c));
}

Result<Certificate> Certificate::SelfSigned(const PrivateKey& key, const std::string& common_name,
                                            SystemTime not_before, SystemTime not_after) {
  std::shared_ptr<X509> cert = WrapCert(X509_new());
  X509_set_version(cert.get(), 2);
  // A serial from the key and name keeps reissued certificates distinct without randomness.
  const std::string serial = Sha1(key.Public().ToPem() + common_name).substr(0, 16);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  BN_clear_bit(bn, 127);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(not_after));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return CryptoError("self-sign");
  return Certificate(cert);
}

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert_.get());
  return BioContents(bio.get());
}

std::string Certificate::ToDer() const {
  unsigned char* buf = nullptr;
  const int n = i2d_X509(cert_.get(), &buf);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return out;
}

PublicKey Certificate::Public() const { return PublicKey(WrapKey(X509_get_pubkey(cert_.get()))); }
std::string Certificate::Sha1Thumbprint() const { return Sha1(ToDer()); }
std::string Certificate::Sha256Thumbprint() const { return Sha256(ToDer()); }
SystemTime Certificate::NotBefore() const { return FromAsn1Time(X509_get0_notBefore(cert_.get())); }
SystemTime Certificate::NotAfter() const { return FromAsn1Time(X509_get0_notAfter(cert_.get())); }

std::string Certificate::SubjectCommonName() const {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert_.get()), NID_commonName, buf, sizeof buf);
  return buf;
}

}  // namespace exo::crypto
