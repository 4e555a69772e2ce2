// The harness certificate authority: one CA per run (or loaded from a directory so it can be
// trusted once), issuing server certificates for loopback and any configured host names.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "exo/common/crypto.hpp"
#include "exo/common/result.hpp"

namespace exo::tls {

// A server's TLS identity: its certificate (issued by the harness CA) and private key.
struct ServerIdentity {
  crypto::Certificate certificate;
  crypto::PrivateKey key;
};

// Certificates here are judged by real clients against the real wall clock, so their validity
// is set from real time (OpenSSL's), never from the harness's simulated clock.
class CertificateAuthority {
 public:
  static constexpr const char* kCertFile = "ca.pem";
  static constexpr const char* kKeyFile = "ca-key.pem";

  // A new CA (EC P-256, valid ten years).
  static Result<CertificateAuthority> Generate(const std::string& common_name = "ExoHarness CA");
  // Loads ca.pem and ca-key.pem from `dir`; when both are absent, generates a CA and writes them
  // there (key file mode 0600). The directory is created if needed. Only one of the two present
  // is a configuration error naming the missing file; nothing is overwritten.
  static Result<CertificateAuthority> LoadOrCreate(const std::filesystem::path& dir);

  // Writes ca.pem and ca-key.pem (0600) into `dir`.
  Result<std::filesystem::path> Save(const std::filesystem::path& dir) const;

  // A server certificate valid for 127.0.0.1, ::1, localhost and `extra_names` (DNS names or
  // IP literals), with serverAuth usage, valid from 1 day before now for about 800 days, under
  // the 825-day limit clients enforce.
  Result<ServerIdentity> IssueServer(const std::vector<std::string>& extra_names = {}) const;

  const crypto::Certificate& certificate() const { return cert_; }
  std::string CertificatePem() const { return cert_.ToPem(); }

 private:
  CertificateAuthority(crypto::Certificate cert, crypto::PrivateKey key)
      : cert_(std::move(cert)), key_(std::move(key)) {}
  crypto::Certificate cert_;
  crypto::PrivateKey key_;
};

}  // namespace exo::tls
