#include "exo/common/crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <chrono>
#include <string>
#include <vector>

#include "exo/common/base64.hpp"

namespace exo::crypto {
namespace {

using namespace std::chrono;

// RSA generation takes a noticeable fraction of a second, so the suite shares two keys.
const PrivateKey& RsaKey() {
  static const PrivateKey key = *PrivateKey::GenerateRsa(2048);
  return key;
}
const PrivateKey& OtherRsaKey() {
  static const PrivateKey key = *PrivateKey::GenerateRsa(2048);
  return key;
}
const PrivateKey& EcKey() {
  static const PrivateKey key = *PrivateKey::GenerateEcP256();
  return key;
}

SystemTime Day(year_month_day ymd) { return sys_days{ymd}; }

Certificate SelfSignedOrDie(const PrivateKey& key, const std::string& cn) {
  auto cert =
      Certificate::SelfSigned(key, cn, Day(2026y / November / 2), Day(2027y / November / 2));
  EXPECT_TRUE(cert.has_value()) << (cert ? "" : cert.error().Describe());
  return *cert;
}

std::string Flip(std::string s, std::size_t at) {
  s[at] = static_cast<char>(s[at] ^ 0x01);
  return s;
}

template <class T>
void ExpectCryptoError(const Result<T>& r) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(r.error().code, "crypto");
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left behind";
}

// ---- digests ----

// Verifies SHA-1 against the FIPS 180 vectors for "abc" and the empty string.
TEST(CryptoTest, Sha1KnownVectors) {
  EXPECT_EQ(HexEncode(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1("abc").size(), 20u);
}

// Verifies SHA-256 against the FIPS 180 vectors for "abc", the empty string and the 448-bit one.
TEST(CryptoTest, Sha256KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256(std::string("\0", 1)).size(), 32u);
}

// Verifies that TakeOpenSslError names an empty queue instead of returning nothing.
TEST(CryptoTest, TakeOpenSslErrorOnEmptyQueue) {
  ERR_clear_error();
  EXPECT_EQ(TakeOpenSslError(), "unknown OpenSSL error");
}

// ---- RSA keys and signatures ----

// Verifies a generated RSA key: 2048 bits, exponent 65537, 256-byte modulus with its top bit set.
TEST(PrivateKeyTest, GenerateRsa2048) {
  const PublicKey pub = RsaKey().Public();
  EXPECT_TRUE(pub.IsRsa());
  EXPECT_EQ(pub.Bits(), 2048);
  EXPECT_EQ(pub.RsaExponent(), std::string("\x01\x00\x01", 3));
  const std::string n = pub.RsaModulus();
  ASSERT_EQ(n.size(), 256u);
  EXPECT_NE(static_cast<unsigned char>(n[0]) & 0x80, 0);
  EXPECT_NE(RsaKey().Public().RsaModulus(), OtherRsaKey().Public().RsaModulus());
}

// Verifies RS256: a 256-byte deterministic signature that the public key accepts.
TEST(PrivateKeyTest, SignsAndVerifiesRs256) {
  const std::string data = "header.payload";
  auto sig = RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data);
  ASSERT_TRUE(sig.has_value()) << sig.error().Describe();
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_EQ(*RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data), *sig)
      << "PKCS#1 v1.5 signatures are deterministic";
  EXPECT_TRUE(RsaKey().Public().Verify(SignatureScheme::kRsaPkcs1Sha256, data, *sig));
}

// Verifies that RS256 verification fails on tampered data, a tampered or truncated signature, an
// empty signature, the wrong key and the PSS scheme.
TEST(PrivateKeyTest, Rs256VerifyRejectsTampering) {
  const std::string data = "header.payload";
  const std::string sig = *RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data);
  const PublicKey pub = RsaKey().Public();
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, "header.payloae", sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, "", sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data, Flip(sig, 0)));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data, Flip(sig, 255)));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data, sig.substr(0, 255)));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data, ""));
  EXPECT_FALSE(OtherRsaKey().Public().Verify(SignatureScheme::kRsaPkcs1Sha256, data, sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPssSha256, data, sig));
  EXPECT_EQ(ERR_peek_error(), 0u) << "Verify must leave the OpenSSL error queue clean";
}

// Verifies PS256: randomised 256-byte signatures that verify only under PSS and only unmodified.
TEST(PrivateKeyTest, SignsAndVerifiesPs256) {
  const std::string data = "header.payload";
  auto sig = RsaKey().Sign(SignatureScheme::kRsaPssSha256, data);
  ASSERT_TRUE(sig.has_value()) << sig.error().Describe();
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_NE(*RsaKey().Sign(SignatureScheme::kRsaPssSha256, data), *sig)
      << "PSS signatures carry a random salt";
  const PublicKey pub = RsaKey().Public();
  EXPECT_TRUE(pub.Verify(SignatureScheme::kRsaPssSha256, data, *sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data, *sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPssSha256, "header.payloae", *sig));
  EXPECT_FALSE(pub.Verify(SignatureScheme::kRsaPssSha256, data, Flip(*sig, 100)));
  EXPECT_FALSE(OtherRsaKey().Public().Verify(SignatureScheme::kRsaPssSha256, data, *sig));
}

// Verifies that the RSA schemes refuse an EC key: Sign is a configuration error instead of a
// silent ECDSA signature, and Verify accepts nothing.
TEST(PrivateKeyTest, RsaSchemesRejectEcKey) {
  const std::string data = "header.payload";
  ExpectCryptoError(EcKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data));
  ExpectCryptoError(EcKey().Sign(SignatureScheme::kRsaPssSha256, data));
  const std::string rsa_sig = *RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data);
  EXPECT_FALSE(EcKey().Public().Verify(SignatureScheme::kRsaPkcs1Sha256, data, rsa_sig));
  EXPECT_FALSE(EcKey().Public().Verify(SignatureScheme::kRsaPssSha256, data, rsa_sig));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// Verifies that a public key rebuilt from its JWK components (n, e) verifies the same signature
// and is the same key.
TEST(PublicKeyTest, FromRsaComponentsRebuildsKey) {
  const PublicKey original = RsaKey().Public();
  auto rebuilt = PublicKey::FromRsaComponents(original.RsaModulus(), original.RsaExponent());
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error().Describe();
  EXPECT_TRUE(rebuilt->IsRsa());
  EXPECT_EQ(rebuilt->Bits(), 2048);
  EXPECT_EQ(rebuilt->RsaModulus(), original.RsaModulus());
  EXPECT_EQ(rebuilt->RsaExponent(), original.RsaExponent());
  EXPECT_EQ(rebuilt->ToPem(), original.ToPem());

  const std::string data = "header.payload";
  EXPECT_TRUE(rebuilt->Verify(SignatureScheme::kRsaPkcs1Sha256, data,
                              *RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data)));
  EXPECT_TRUE(rebuilt->Verify(SignatureScheme::kRsaPssSha256, data,
                              *RsaKey().Sign(SignatureScheme::kRsaPssSha256, data)));
}

// Verifies that components decoded from base64url (as in a JWK) with a leading zero byte on the
// modulus still give the same key.
TEST(PublicKeyTest, FromRsaComponentsAcceptsJwkEncodedValues) {
  const PublicKey original = RsaKey().Public();
  const std::string n_b64 = Base64UrlEncode(std::string(1, '\0') + original.RsaModulus());
  const std::string e_b64 = Base64UrlEncode(original.RsaExponent());
  EXPECT_EQ(e_b64, "AQAB");
  auto rebuilt = PublicKey::FromRsaComponents(*Base64Decode(n_b64), *Base64Decode(e_b64));
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error().Describe();
  EXPECT_EQ(rebuilt->RsaModulus(), original.RsaModulus());
}

// Verifies that a public key survives a PEM round trip ("PUBLIC KEY", SubjectPublicKeyInfo).
TEST(PublicKeyTest, PemRoundTrip) {
  const PublicKey pub = RsaKey().Public();
  const std::string pem = pub.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  auto back = PublicKey::FromPem(pem);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->ToPem(), pem);
  EXPECT_EQ(back->RsaModulus(), pub.RsaModulus());
  const std::string data = "payload";
  EXPECT_TRUE(back->Verify(SignatureScheme::kRsaPkcs1Sha256, data,
                           *RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data)));
}

// Verifies that a private key survives an unencrypted PKCS#8 PEM round trip and still signs for
// the original public key.
TEST(PrivateKeyTest, PemRoundTrip) {
  const std::string pem = RsaKey().ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  auto back = PrivateKey::FromPem(pem);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->ToPem(), pem);
  const std::string data = "payload";
  EXPECT_TRUE(RsaKey().Public().Verify(SignatureScheme::kRsaPkcs1Sha256, data,
                                       *back->Sign(SignatureScheme::kRsaPkcs1Sha256, data)));
}

// Verifies that garbage, empty, truncated and wrong-type PEM inputs give a configuration error
// (not a crash) and leave the OpenSSL error queue empty.
TEST(CryptoTest, FromPemRejectsGarbage) {
  const std::string truncated = RsaKey().ToPem().substr(0, 100);
  const std::string bad_body = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  ExpectCryptoError(PublicKey::FromPem("garbage"));
  ExpectCryptoError(PublicKey::FromPem(""));
  ExpectCryptoError(PublicKey::FromPem(bad_body));
  ExpectCryptoError(PublicKey::FromPem(RsaKey().ToPem()));  // a private key is not a PUBLIC KEY
  ExpectCryptoError(PrivateKey::FromPem("garbage"));
  ExpectCryptoError(PrivateKey::FromPem(""));
  ExpectCryptoError(PrivateKey::FromPem(truncated));
  ExpectCryptoError(PrivateKey::FromPem(RsaKey().Public().ToPem()));
  ExpectCryptoError(Certificate::FromPem("garbage"));
  ExpectCryptoError(
      Certificate::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  ExpectCryptoError(Certificate::FromDer(""));
  ExpectCryptoError(Certificate::FromDer("\x30\x03\x02\x01"));
  ExpectCryptoError(Certificate::AllFromPem(""));
  ExpectCryptoError(Certificate::AllFromPem(RsaKey().ToPem()));
}

// Verifies that an empty modulus or exponent is refused rather than producing an unusable key.
TEST(PublicKeyTest, FromRsaComponentsRejectsEmptyComponents) {
  const PublicKey pub = RsaKey().Public();
  ExpectCryptoError(PublicKey::FromRsaComponents("", ""));
  ExpectCryptoError(PublicKey::FromRsaComponents("", pub.RsaExponent()));
  ExpectCryptoError(PublicKey::FromRsaComponents(pub.RsaModulus(), ""));
  ExpectCryptoError(PublicKey::FromRsaComponents(std::string(256, '\0'), pub.RsaExponent()));
}

// Verifies that a modulus under 1024 bits and an exponent that is even or below 3 are refused,
// while 1024 bits and e = 3 are the smallest accepted.
TEST(PublicKeyTest, FromRsaComponentsRejectsWeakOrInvalidComponents) {
  const PublicKey pub = RsaKey().Public();
  const std::string n = pub.RsaModulus();
  const std::string n_1023_bits = "\x7f" + std::string(127, '\xff');
  const std::string n_1024_bits = "\x80" + std::string(126, '\0') + "\x01";
  ExpectCryptoError(PublicKey::FromRsaComponents(n_1023_bits, pub.RsaExponent()));
  ExpectCryptoError(PublicKey::FromRsaComponents(n.substr(0, 64), pub.RsaExponent()));
  ExpectCryptoError(PublicKey::FromRsaComponents(n, std::string(1, '\x01')));
  ExpectCryptoError(PublicKey::FromRsaComponents(n, std::string(1, '\x02')));
  ExpectCryptoError(PublicKey::FromRsaComponents(n, std::string("\x01\x00\x00", 3)));
  ExpectCryptoError(PublicKey::FromRsaComponents(n, std::string(1, '\0')));

  auto smallest = PublicKey::FromRsaComponents(n_1024_bits, std::string(1, '\x03'));
  ASSERT_TRUE(smallest.has_value()) << smallest.error().Describe();
  EXPECT_EQ(smallest->Bits(), 1024);
}

// ---- EC keys ----

// Verifies a generated P-256 key: not RSA, 256 bits, no RSA components, PEM round trip.
TEST(PrivateKeyTest, GenerateEcP256) {
  const PublicKey pub = EcKey().Public();
  EXPECT_FALSE(pub.IsRsa());
  EXPECT_EQ(pub.Bits(), 256);
  EXPECT_EQ(pub.RsaModulus(), "");
  EXPECT_EQ(pub.RsaExponent(), "");
  auto back = PrivateKey::FromPem(EcKey().ToPem());
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->ToPem(), EcKey().ToPem());
  auto pub_back = PublicKey::FromPem(pub.ToPem());
  ASSERT_TRUE(pub_back.has_value()) << pub_back.error().Describe();
  EXPECT_FALSE(pub_back->IsRsa());
}

// ---- certificates ----

// Verifies a self-signed certificate's subject, validity (to the second, sub-second part dropped)
// and self-signature.
TEST(CertificateTest, SelfSignedFields) {
  const SystemTime not_before = Day(2026y / November / 2) + hours(9) + milliseconds(750);
  const SystemTime not_after = Day(2028y / November / 2) + hours(9) + seconds(1);
  auto cert = Certificate::SelfSigned(RsaKey(), "ExoHarness Token Signing", not_before, not_after);
  ASSERT_TRUE(cert.has_value()) << cert.error().Describe();
  EXPECT_EQ(cert->SubjectCommonName(), "ExoHarness Token Signing");
  EXPECT_EQ(cert->NotBefore(), Day(2026y / November / 2) + hours(9));
  EXPECT_EQ(cert->NotAfter(), not_after);
  EXPECT_EQ(X509_verify(cert->get(), RsaKey().get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert->get()), X509_get_issuer_name(cert->get())),
            0);
  EXPECT_EQ(X509_get_version(cert->get()), 2);  // v3
}

// Verifies validity dates after 2049, which X.509 encodes as GeneralizedTime.
TEST(CertificateTest, SelfSignedValidityAfter2049) {
  const SystemTime not_after = Day(2060y / January / 1) + hours(12);
  auto cert = Certificate::SelfSigned(RsaKey(), "long lived", Day(2026y / November / 2), not_after);
  ASSERT_TRUE(cert.has_value()) << cert.error().Describe();
  EXPECT_EQ(cert->NotAfter(), not_after);
}

// Verifies that thumbprints are the raw SHA-1 (20 bytes) and SHA-256 (32 bytes) of the DER.
TEST(CertificateTest, ThumbprintsHashTheDer) {
  const Certificate cert = SelfSignedOrDie(RsaKey(), "thumbprints");
  const std::string der = cert.ToDer();
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(static_cast<unsigned char>(der[0]), 0x30);  // SEQUENCE
  EXPECT_EQ(cert.Sha1Thumbprint().size(), 20u);
  EXPECT_EQ(cert.Sha256Thumbprint().size(), 32u);
  EXPECT_EQ(cert.Sha1Thumbprint(), Sha1(der));
  EXPECT_EQ(cert.Sha256Thumbprint(), Sha256(der));
}

// Verifies that the certificate's public key is the signing key's: it verifies the key's
// signatures and has the same modulus.
TEST(CertificateTest, PublicKeyMatchesSigningKey) {
  const Certificate cert = SelfSignedOrDie(RsaKey(), "public");
  const PublicKey pub = cert.Public();
  EXPECT_TRUE(pub.IsRsa());
  EXPECT_EQ(pub.RsaModulus(), RsaKey().Public().RsaModulus());
  const std::string data = "payload";
  EXPECT_TRUE(pub.Verify(SignatureScheme::kRsaPkcs1Sha256, data,
                         *RsaKey().Sign(SignatureScheme::kRsaPkcs1Sha256, data)));
}

// Verifies PEM and DER round trips give back the identical certificate.
TEST(CertificateTest, PemAndDerRoundTrip) {
  const Certificate cert = SelfSignedOrDie(RsaKey(), "round trip");
  const std::string pem = cert.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  auto from_pem = Certificate::FromPem(pem);
  ASSERT_TRUE(from_pem.has_value()) << from_pem.error().Describe();
  EXPECT_EQ(from_pem->ToDer(), cert.ToDer());
  EXPECT_EQ(from_pem->SubjectCommonName(), "round trip");
  auto from_der = Certificate::FromDer(cert.ToDer());
  ASSERT_TRUE(from_der.has_value()) << from_der.error().Describe();
  EXPECT_EQ(from_der->ToPem(), pem);
}

// Verifies that the PEM body is the base64 of the DER (what x5c in a JWK carries).
TEST(CertificateTest, PemBodyIsBase64OfDer) {
  const Certificate cert = SelfSignedOrDie(RsaKey(), "x5c");
  std::string body;
  for (const char c : cert.ToPem()) {
    if (c != '\n') body.push_back(c);
  }
  const std::string begin = "-----BEGIN CERTIFICATE-----";
  const std::string end = "-----END CERTIFICATE-----";
  ASSERT_EQ(body.rfind(begin, 0), 0u);
  body = body.substr(begin.size(), body.size() - begin.size() - end.size());
  EXPECT_EQ(body, Base64Encode(cert.ToDer()));
}

// Verifies that an EC key can self-sign too and its certificate carries the EC public key.
TEST(CertificateTest, SelfSignedWithEcKey) {
  const Certificate cert = SelfSignedOrDie(EcKey(), "ec");
  EXPECT_FALSE(cert.Public().IsRsa());
  EXPECT_EQ(cert.Public().ToPem(), EcKey().Public().ToPem());
  EXPECT_EQ(X509_verify(cert.get(), EcKey().get()), 1);
}

// Verifies that AllFromPem returns every certificate of a bundle in order, skipping the text
// between them, while FromPem takes the first.
TEST(CertificateTest, AllFromPemReadsBundleInOrder) {
  const Certificate first = SelfSignedOrDie(RsaKey(), "first");
  const Certificate second = SelfSignedOrDie(OtherRsaKey(), "second");
  const std::string bundle =
      "subject=first\n" + first.ToPem() + "\nsubject=second\n" + second.ToPem();
  auto all = Certificate::AllFromPem(bundle);
  ASSERT_TRUE(all.has_value()) << all.error().Describe();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].SubjectCommonName(), "first");
  EXPECT_EQ((*all)[1].SubjectCommonName(), "second");
  EXPECT_EQ((*all)[0].ToDer(), first.ToDer());
  EXPECT_EQ((*all)[1].ToDer(), second.ToDer());
  EXPECT_EQ(ERR_peek_error(), 0u);

  auto head = Certificate::FromPem(bundle);
  ASSERT_TRUE(head.has_value()) << head.error().Describe();
  EXPECT_EQ(head->SubjectCommonName(), "first");

  auto single = Certificate::AllFromPem(first.ToPem());
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(single->size(), 1u);
}

// Verifies that a corrupt certificate inside a bundle (bad DER, bad base64, a missing END line) is
// a configuration error instead of a silently shortened list.
TEST(CertificateTest, AllFromPemRejectsCorruptCertificateInBundle) {
  const std::string first = SelfSignedOrDie(RsaKey(), "first").ToPem();
  const std::string second = SelfSignedOrDie(OtherRsaKey(), "second").ToPem();
  const std::string bad_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  const std::string bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
  const std::string no_end = "-----BEGIN CERTIFICATE-----\nAAAA\n";
  ExpectCryptoError(Certificate::AllFromPem(first + bad_der + second));
  ExpectCryptoError(Certificate::AllFromPem(first + bad_base64 + second));
  ExpectCryptoError(Certificate::AllFromPem(first + second + no_end));
  ExpectCryptoError(Certificate::AllFromPem(bad_der + first));

  auto all = Certificate::AllFromPem(first + second + "trailing text\n");
  ASSERT_TRUE(all.has_value()) << all.error().Describe();
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace exo::crypto
