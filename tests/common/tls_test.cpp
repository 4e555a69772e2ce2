#include "exo/common/tls.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/file.hpp"
#include "temp_dir.hpp"

namespace exo::tls {
namespace {

using exo::testing::TempDir;
using std::chrono::hours;
using std::chrono::seconds;

const CertificateAuthority& SharedCa() {
  static const CertificateAuthority ca = *CertificateAuthority::Generate();
  return ca;
}

// The subjectAltName entries as "DNS:name" and "IP:address" strings.
std::vector<std::string> SubjectAltNames(const crypto::Certificate& cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                         static_cast<std::size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int len = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {0};
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof text);
      out.push_back(std::string("IP:") + text);
    } else {
      out.push_back("other");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Runs OpenSSL's full chain verification of `leaf` against `ca` as the only trust anchor, for
// the TLS server purpose, at the current real time. Returns the X509_V_* result.
int VerifyChain(const crypto::Certificate& leaf, const crypto::Certificate& ca) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_verify_cert(ctx.get());
  return X509_STORE_CTX_get_error(ctx.get());
}

unsigned FileMode(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Verifies a generated CA: named as asked, self-signed, a CA by basicConstraints, EC P-256,
// valid from a day ago for ten years of real time.
TEST(CertificateAuthorityTest, GenerateMakesSelfSignedCa) {
  auto ca = CertificateAuthority::Generate("Test CA");
  ASSERT_TRUE(ca.has_value()) << ca.error().Describe();
  const crypto::Certificate& cert = ca->certificate();
  EXPECT_EQ(cert.SubjectCommonName(), "Test CA");
  EXPECT_EQ(X509_verify(cert.get(), cert.Public().get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_FALSE(cert.Public().IsRsa());
  EXPECT_EQ(cert.Public().Bits(), 256);
  EXPECT_EQ(ca->CertificatePem(), cert.ToPem());

  // Certificates are judged against real time, so their validity follows the real clock.
  const SystemTime now = RealClock::Instance().Now();
  EXPECT_LE(cert.NotBefore(), now - hours(24) + seconds(60));
  EXPECT_GE(cert.NotBefore(), now - hours(24) - seconds(60));
  EXPECT_NEAR(std::chrono::duration_cast<seconds>(cert.NotAfter() - cert.NotBefore()).count(),
              (10 * 365 + 1) * 24 * 3600, 2);
}

// Verifies the default CA name.
TEST(CertificateAuthorityTest, GenerateDefaultName) {
  EXPECT_EQ(SharedCa().certificate().SubjectCommonName(), "ExoHarness CA");
}

// Verifies that two generated CAs are distinct (own keys and serials).
TEST(CertificateAuthorityTest, GenerateIsFreshEachTime) {
  auto other = CertificateAuthority::Generate();
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->certificate().ToDer(), SharedCa().certificate().ToDer());
  EXPECT_NE(other->certificate().Public().ToPem(), SharedCa().certificate().Public().ToPem());
}

// Verifies that an issued server certificate is signed by the CA's key (raw X509_verify), names
// the CA as issuer, and matches the returned private key.
TEST(CertificateAuthorityTest, IssueServerSignedByCa) {
  auto server = SharedCa().IssueServer({"login.microsoftonline.com"});
  ASSERT_TRUE(server.has_value()) << server.error().Describe();
  const crypto::Certificate& cert = server->certificate;
  EXPECT_EQ(X509_verify(cert.get(), SharedCa().certificate().Public().get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()),
                          X509_get_subject_name(SharedCa().certificate().get())),
            0);
  EXPECT_EQ(X509_check_private_key(cert.get(), server->key.get()), 1);

  auto stranger = CertificateAuthority::Generate();
  ASSERT_TRUE(stranger.has_value());
  EXPECT_NE(X509_verify(cert.get(), stranger->certificate().Public().get()), 1);
}

// Verifies that the issued certificate passes OpenSSL's full chain check for a TLS server with
// the CA as the only trust anchor, and fails against another CA.
TEST(CertificateAuthorityTest, IssueServerChainVerifiesForServerAuth) {
  auto server = SharedCa().IssueServer({"outlook.office365.com"});
  ASSERT_TRUE(server.has_value()) << server.error().Describe();
  EXPECT_EQ(VerifyChain(server->certificate, SharedCa().certificate()), X509_V_OK);
  EXPECT_EQ(X509_check_ca(server->certificate.get()), 0);
  EXPECT_NE(X509_get_extended_key_usage(server->certificate.get()) & XKU_SSL_SERVER, 0u);

  auto stranger = CertificateAuthority::Generate();
  ASSERT_TRUE(stranger.has_value());
  EXPECT_NE(VerifyChain(server->certificate, stranger->certificate()), X509_V_OK);
}

// Verifies the subjectAltName list: loopback names always, plus extra DNS names and IP literals.
TEST(CertificateAuthorityTest, IssueServerSubjectAltNames) {
  auto server = SharedCa().IssueServer({"login.microsoftonline.com", "10.1.2.3", "fe80::1"});
  ASSERT_TRUE(server.has_value()) << server.error().Describe();
  const std::vector<std::string> san = SubjectAltNames(server->certificate);
  EXPECT_TRUE(Contains(san, "DNS:localhost"));
  EXPECT_TRUE(Contains(san, "IP:127.0.0.1"));
  EXPECT_TRUE(Contains(san, "IP:::1"));
  EXPECT_TRUE(Contains(san, "DNS:login.microsoftonline.com"));
  EXPECT_TRUE(Contains(san, "IP:10.1.2.3"));
  EXPECT_TRUE(Contains(san, "IP:fe80::1"));
  EXPECT_EQ(san.size(), 6u);

  const crypto::Certificate& cert = server->certificate;
  EXPECT_EQ(X509_check_host(cert.get(), "login.microsoftonline.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "example.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.1.2.3", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.1.2.4", 0), 0);
}

// Verifies that without extra names the certificate is for localhost and the loopback addresses
// only, and that extra names repeating them are not listed twice.
TEST(CertificateAuthorityTest, IssueServerLoopbackOnly) {
  auto plain = SharedCa().IssueServer();
  ASSERT_TRUE(plain.has_value()) << plain.error().Describe();
  EXPECT_EQ(plain->certificate.SubjectCommonName(), "localhost");
  std::vector<std::string> san = SubjectAltNames(plain->certificate);
  std::sort(san.begin(), san.end());
  EXPECT_EQ(san, (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"}));

  auto repeated = SharedCa().IssueServer({"localhost", "127.0.0.1", "::1"});
  ASSERT_TRUE(repeated.has_value()) << repeated.error().Describe();
  EXPECT_EQ(SubjectAltNames(repeated->certificate).size(), 3u);
}

// Verifies that the common name is the first extra name.
TEST(CertificateAuthorityTest, IssueServerCommonNameIsFirstExtraName) {
  auto server = SharedCa().IssueServer({"login.microsoftonline.com", "graph.microsoft.com"});
  ASSERT_TRUE(server.has_value()) << server.error().Describe();
  EXPECT_EQ(server->certificate.SubjectCommonName(), "login.microsoftonline.com");
}

// Verifies the server certificate's real-time validity: from a day ago, for at least two years
// and under the 825 days TLS clients accept; each issue gets its own key and serial.
TEST(CertificateAuthorityTest, IssueServerValidityAndFreshKeys) {
  auto a = SharedCa().IssueServer();
  auto b = SharedCa().IssueServer();
  ASSERT_TRUE(a.has_value() && b.has_value());
  const SystemTime now = RealClock::Instance().Now();
  const crypto::Certificate& cert = a->certificate;
  EXPECT_LE(cert.NotBefore(), now - hours(24) + seconds(60));
  EXPECT_GE(cert.NotBefore(), now - hours(24) - seconds(60));
  EXPECT_GE(cert.NotAfter(), now + hours(24 * 730));
  EXPECT_LT(cert.NotAfter() - cert.NotBefore(), hours(24 * 825));

  EXPECT_NE(a->key.ToPem(), b->key.ToPem());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a->certificate.get()),
                             X509_get0_serialNumber(b->certificate.get())),
            0);
}

// Verifies that LoadOrCreate in a fresh (not yet existing) directory creates it with ca.pem
// (0644) and ca-key.pem (0600), and that the files hold the returned CA.
TEST(CertificateAuthorityTest, LoadOrCreateWritesFilesWithModes) {
  TempDir tmp;
  const std::filesystem::path dir = tmp.path() / "nested" / "ca";
  auto ca = CertificateAuthority::LoadOrCreate(dir);
  ASSERT_TRUE(ca.has_value()) << ca.error().Describe();
  const auto cert_path = dir / CertificateAuthority::kCertFile;
  const auto key_path = dir / CertificateAuthority::kKeyFile;
  ASSERT_TRUE(std::filesystem::exists(cert_path));
  ASSERT_TRUE(std::filesystem::exists(key_path));
  EXPECT_EQ(FileMode(key_path), 0600u);
  EXPECT_EQ(FileMode(cert_path), 0644u);
  EXPECT_EQ(ReadFile(cert_path).value_or(""), ca->CertificatePem());
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    entries.push_back(e.path().filename().string());
  }
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"ca-key.pem", "ca.pem"}));
}

// Verifies that a second LoadOrCreate loads the same CA (identical DER) with a working key: what
// it issues verifies against the first instance's certificate.
TEST(CertificateAuthorityTest, LoadOrCreateReloadsSameCa) {
  TempDir tmp;
  auto first = CertificateAuthority::LoadOrCreate(tmp.path());
  ASSERT_TRUE(first.has_value()) << first.error().Describe();
  auto second = CertificateAuthority::LoadOrCreate(tmp.path());
  ASSERT_TRUE(second.has_value()) << second.error().Describe();
  EXPECT_EQ(second->certificate().ToDer(), first->certificate().ToDer());

  auto server = second->IssueServer();
  ASSERT_TRUE(server.has_value()) << server.error().Describe();
  EXPECT_EQ(X509_verify(server->certificate.get(), first->certificate().Public().get()), 1);
  EXPECT_EQ(VerifyChain(server->certificate, first->certificate()), X509_V_OK);
}

// Verifies that Save writes both files and returns the certificate path, and LoadOrCreate then
// loads that CA instead of generating one.
TEST(CertificateAuthorityTest, SaveThenLoad) {
  TempDir tmp;
  auto saved = SharedCa().Save(tmp.path());
  ASSERT_TRUE(saved.has_value()) << saved.error().Describe();
  EXPECT_EQ(*saved, tmp.path() / "ca.pem");
  EXPECT_EQ(FileMode(tmp.path() / "ca-key.pem"), 0600u);
  auto loaded = CertificateAuthority::LoadOrCreate(tmp.path());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().Describe();
  EXPECT_EQ(loaded->certificate().ToDer(), SharedCa().certificate().ToDer());
}

// Verifies that a key file that does not belong to the certificate is a configuration error that
// names the mismatch, rather than a CA that issues unverifiable certificates.
TEST(CertificateAuthorityTest, LoadOrCreateRejectsMismatchedKey) {
  TempDir tmp;
  const auto mine = tmp.path() / "mine";
  const auto theirs = tmp.path() / "theirs";
  ASSERT_TRUE(CertificateAuthority::LoadOrCreate(mine).has_value());
  ASSERT_TRUE(CertificateAuthority::LoadOrCreate(theirs).has_value());
  std::filesystem::copy_file(theirs / "ca-key.pem", mine / "ca-key.pem",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string cert_before = ReadFile(mine / "ca.pem").value_or("");

  auto ca = CertificateAuthority::LoadOrCreate(mine);
  ASSERT_FALSE(ca.has_value());
  EXPECT_EQ(ca.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(ca.error().code, "tls");
  EXPECT_NE(ca.error().message.find("does not match"), std::string::npos) << ca.error().message;
  EXPECT_EQ(ReadFile(mine / "ca.pem").value_or(""), cert_before) << "must not overwrite";
}

// Verifies that an unreadable (garbage) certificate file is reported, not replaced.
TEST(CertificateAuthorityTest, LoadOrCreateRejectsCorruptCertificate) {
  TempDir tmp;
  ASSERT_TRUE(CertificateAuthority::LoadOrCreate(tmp.path()).has_value());
  ASSERT_TRUE(WriteFileAtomically(tmp.path() / "ca.pem", "not a certificate\n").has_value());
  auto ca = CertificateAuthority::LoadOrCreate(tmp.path());
  ASSERT_FALSE(ca.has_value());
  EXPECT_EQ(ca.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(ca.error().code, "crypto");
  EXPECT_EQ(ReadFile(tmp.path() / "ca.pem").value_or(""), "not a certificate\n");
}

// Verifies that a CA directory holding only one of ca.pem and ca-key.pem is a configuration error
// naming the missing file, and that the remaining file is neither overwritten nor joined by a
// newly generated partner.
TEST(CertificateAuthorityTest, LoadOrCreateRejectsHalfACa) {
  for (const char* removed : {CertificateAuthority::kKeyFile, CertificateAuthority::kCertFile}) {
    SCOPED_TRACE(removed);
    TempDir tmp;
    ASSERT_TRUE(CertificateAuthority::LoadOrCreate(tmp.path()).has_value());
    const auto missing = tmp.path() / removed;
    const auto kept = tmp.path() / (missing.filename() == CertificateAuthority::kKeyFile
                                        ? CertificateAuthority::kCertFile
                                        : CertificateAuthority::kKeyFile);
    ASSERT_TRUE(std::filesystem::remove(missing));
    const std::string kept_before = ReadFile(kept).value_or("<error>");

    auto ca = CertificateAuthority::LoadOrCreate(tmp.path());
    ASSERT_FALSE(ca.has_value());
    EXPECT_EQ(ca.error().category, ErrorCategory::kConfiguration);
    EXPECT_EQ(ca.error().code, "tls");
    EXPECT_NE(ca.error().message.find(missing.string()), std::string::npos) << ca.error().message;
    EXPECT_FALSE(ca.error().remedy.empty());
    EXPECT_FALSE(std::filesystem::exists(missing)) << "must not generate the missing half";
    EXPECT_EQ(ReadFile(kept).value_or("<error>"), kept_before) << "must not overwrite";
  }
}

// Verifies that a CA directory that cannot be created (a regular file is in the way) is a
// configuration error.
TEST(CertificateAuthorityTest, LoadOrCreateFailsWhenDirectoryIsAFile) {
  TempDir tmp;
  const auto blocker = tmp.path() / "blocker";
  ASSERT_TRUE(WriteFileAtomically(blocker, "x").has_value());
  auto ca = CertificateAuthority::LoadOrCreate(blocker / "ca");
  ASSERT_FALSE(ca.has_value());
  EXPECT_EQ(ca.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(ca.error().code, "tls");
}

}  // namespace
}  // namespace exo::tls
