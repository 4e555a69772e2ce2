#include "exo/common/tls.hpp"

#include "exo/common/file.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace exo::tls {
namespace {

std::unexpected<Error> TlsError(std::string what) {
  return Fail(ErrorCategory::kConfiguration, "tls", what + ": " + crypto::TakeOpenSslError());
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

void RandomSerial(X509* cert) {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
}

bool IsIpLiteral(const std::string& s) {
  return s.find(':') != std::string::npos ||
         s.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::Generate(const std::string& common_name) {
  auto key = crypto::PrivateKey::GenerateEcP256();
  if (!key) return std::unexpected(key.error());
  std::shared_ptr<X509> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  RandomSerial(cert.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key->get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("ExoHarness"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (!AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash")) {
    return TlsError("CA extensions");
  }
  if (X509_sign(cert.get(), key->get(), EVP_sha256()) == 0) return TlsError("CA signature");
  return CertificateAuthority(crypto::Certificate(cert), *key);
}

Result<CertificateAuthority> CertificateAuthority::LoadOrCreate(const std::filesystem::path& dir) {
  const auto cert_path = dir / kCertFile;
  const auto key_path = dir / kKeyFile;
  std::error_code ec;
  const bool have_cert = std::filesystem::exists(cert_path, ec);
  const bool have_key = std::filesystem::exists(key_path, ec);
  // Half a CA is a mistake to report, not a gap to fill: regenerating would overwrite the half
  // that is left and silently invalidate every client that already trusts the old CA.
  if (have_cert != have_key) {
    const auto& missing = have_cert ? key_path : cert_path;
    const auto& present = have_cert ? cert_path : key_path;
    return Fail(ErrorCategory::kConfiguration, "tls",
                "CA file " + missing.string() + " is missing but " + present.string() + " exists",
                "restore " + missing.string() + ", or delete " + present.string() +
                    " to generate a new CA");
  }
  if (have_cert && have_key) {
    auto cert_pem = ReadFile(cert_path);
    if (!cert_pem) return std::unexpected(cert_pem.error());
    auto key_pem = ReadFile(key_path);
    if (!key_pem) return std::unexpected(key_pem.error());
    auto cert = crypto::Certificate::FromPem(*cert_pem);
    if (!cert) return std::unexpected(cert.error());
    auto key = crypto::PrivateKey::FromPem(*key_pem);
    if (!key) return std::unexpected(key.error());
    if (X509_check_private_key(cert->get(), key->get()) != 1) {
      return TlsError("CA key in " + key_path.string() + " does not match " + cert_path.string());
    }
    return CertificateAuthority(*cert, *key);
  }
  auto ca = Generate();
  if (!ca) return ca;
  if (auto saved = ca->Save(dir); !saved) return std::unexpected(saved.error());
  return ca;
}

Result<std::filesystem::path> CertificateAuthority::Save(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(ErrorCategory::kConfiguration, "tls",
                "cannot create CA directory " + dir.string() + ": " + ec.message());
  }
  if (auto r = exo::WriteFileAtomically(dir / kKeyFile, key_.ToPem(), 0600); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = exo::WriteFileAtomically(dir / kCertFile, cert_.ToPem(), 0644); !r) {
    return std::unexpected(r.error());
  }
  return dir / kCertFile;
}

Result<ServerIdentity> CertificateAuthority::IssueServer(
    const std::vector<std::string>& extra_names) const {
  auto key = crypto::PrivateKey::GenerateEcP256();
  if (!key) return std::unexpected(key.error());
  std::shared_ptr<X509> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  RandomSerial(cert.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  // Under 825 days, the longest validity that current TLS clients accept for a server cert.
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 800L * 24 * 3600);
  X509_set_pubkey(cert.get(), key->get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = extra_names.empty() ? "localhost" : extra_names.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& n : extra_names) {
    if (n == "localhost" || n == "127.0.0.1" || n == "::1") continue;
    san += (IsIpLiteral(n) ? ",IP:" : ",DNS:") + n;
  }
  if (!AddExtension(cert.get(), cert_.get(), NID_subject_alt_name, san) ||
      !AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(cert.get(), cert_.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always")) {
    return TlsError("server certificate extensions (" + san + ")");
  }
  if (X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0) return TlsError("server signature");
  return ServerIdentity{crypto::Certificate(cert), *key};
}

}  // namespace exo::tls
