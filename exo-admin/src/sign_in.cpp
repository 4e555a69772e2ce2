#include "internal/sign_in.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "exo/common/base64.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"

namespace exo::admin {
namespace {

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + PercentEncode(v);
  return out;
}

Result<Token> RequestToken(HttpsClient& http, const std::string& authority,
                           const std::string& tenant,
                           const std::vector<std::pair<std::string, std::string>>& fields) {
  const std::string url = authority + "/" + tenant + "/oauth2/v2.0/token";
  auto reply = http.Send("POST", url,
                         {{"Accept", "application/json"},
                          {"client-request-id", SecureRandom::Instance().Uuid()},
                          {"x-client-SKU", "MSAL.NetCore"},
                          {"x-client-Ver", "4.61.3.0"}},
                         Form(fields), "application/x-www-form-urlencoded");
  if (!reply) return std::unexpected(reply.error());
  const auto body = Value::parse(reply->body, nullptr, false);
  if (reply->status == 200 && body.is_object() && body.contains("access_token")) {
    return TokenFromJwt(body["access_token"].get<std::string>());
  }
  Error e;
  e.category = ErrorCategory::kAuthentication;
  e.http_status = reply->status;
  if (body.is_object() && body.contains("error_description")) {
    e.message = body.value("error_description", "");
    if (body.contains("error_codes") && body["error_codes"].is_array() &&
        !body["error_codes"].empty()) {
      e.code = "AADSTS" + body["error_codes"][0].dump();
    } else {
      e.code = body.value("error", "");
    }
    e.remedy = body.value("error", "");
  } else {
    e.code = "HTTP " + std::to_string(reply->status);
    e.message = "the token endpoint " + url + " answered HTTP " + std::to_string(reply->status);
  }
  return std::unexpected(e);
}

std::string PemOf(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string PemOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

}  // namespace

Result<Token> TokenFromJwt(const std::string& jwt) {
  const auto a = jwt.find('.');
  const auto b = a == std::string::npos ? a : jwt.find('.', a + 1);
  if (b == std::string::npos) {
    return Fail(ErrorCategory::kProtocol, "MalformedToken", "the access token is not a JWT");
  }
  auto payload = Base64Decode(jwt.substr(a + 1, b - a - 1));
  if (!payload) {
    return Fail(ErrorCategory::kProtocol, "MalformedToken", "the token payload is not base64url");
  }
  Token t;
  t.access_token = jwt;
  t.claims = Value::parse(*payload, nullptr, false);
  if (!t.claims.is_object()) {
    return Fail(ErrorCategory::kProtocol, "MalformedToken", "the token payload is not JSON");
  }
  return t;
}

Result<Token> PasswordGrant(HttpsClient& http, const std::string& authority,
                            const std::string& tenant, const std::string& client_id,
                            const std::string& scope, const std::string& user,
                            const std::string& password) {
  // MSAL adds the OIDC scopes to every interactive or password request.
  return RequestToken(http, authority, tenant,
                      {{"client_id", client_id},
                       {"grant_type", "password"},
                       {"username", user},
                       {"password", password},
                       {"scope", scope + " openid profile offline_access"},
                       {"client_info", "1"}});
}

Result<Token> CertificateGrant(HttpsClient& http, const std::string& authority,
                               const std::string& tenant, const std::string& client_id,
                               const std::string& scope, const crypto::Certificate& cert,
                               const crypto::PrivateKey& key, Clock& clock) {
  const std::string aud = authority + "/" + tenant + "/oauth2/v2.0/token";
  const auto now = ToUnixSeconds(clock.Now());
  const Value header = {{"alg", "RS256"}, {"typ", "JWT"},
                        {"x5t", Base64UrlEncode(cert.Sha1Thumbprint())}};
  const Value payload = {{"aud", aud},          {"iss", client_id},
                         {"sub", client_id},    {"jti", SecureRandom::Instance().Uuid()},
                         {"nbf", now},          {"iat", now},
                         {"exp", now + 600}};
  const std::string input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  auto sig = key.Sign(crypto::SignatureScheme::kRsaPkcs1Sha256, input);
  if (!sig) return std::unexpected(sig.error());
  return RequestToken(
      http, authority, tenant,
      {{"client_id", client_id},
       {"grant_type", "client_credentials"},
       {"scope", scope},
       {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
       {"client_assertion", input + "." + Base64UrlEncode(*sig)}});
}

Result<std::pair<crypto::Certificate, crypto::PrivateKey>> LoadCertificateFile(
    const std::string& path, const std::string& password) {
  auto bytes = ReadFile(path);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->find("-----BEGIN") != std::string::npos) {
    auto cert = crypto::Certificate::FromPem(*bytes);
    if (!cert) return std::unexpected(cert.error());
    auto key = crypto::PrivateKey::FromPem(*bytes);
    if (!key) return std::unexpected(key.error());
    return std::make_pair(std::move(*cert), std::move(*key));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes->data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(bytes->size()));
  if (!p12) {
    return Fail(ErrorCategory::kConfiguration, "BadCertificateFile",
                path + " is neither PEM nor PKCS#12");
  }
  EVP_PKEY* pkey = nullptr;
  X509* x509 = nullptr;
  const int ok = PKCS12_parse(p12, password.c_str(), &pkey, &x509, nullptr);
  PKCS12_free(p12);
  if (!ok || !pkey || !x509) {
    EVP_PKEY_free(pkey);
    X509_free(x509);
    return Fail(ErrorCategory::kConfiguration, "BadCertificateFile",
                "cannot open " + path + " (wrong -CertificatePassword?)");
  }
  const std::string key_pem = PemOf(pkey), cert_pem = PemOf(x509);
  EVP_PKEY_free(pkey);
  X509_free(x509);
  auto cert = crypto::Certificate::FromPem(cert_pem);
  if (!cert) return std::unexpected(cert.error());
  auto key = crypto::PrivateKey::FromPem(key_pem);
  if (!key) return std::unexpected(key.error());
  return std::make_pair(std::move(*cert), std::move(*key));
}

}  // namespace exo::admin
