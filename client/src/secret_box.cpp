#include "exo/client/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "exo/common/base64.hpp"
#include "exo/common/file.hpp"

namespace exo::client {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr const char* kPrefix = "exo1:";
// Binds the ciphertext to its purpose: a blob protected for something else does not decrypt here.
constexpr const char* kAad = "ExoHarness EmailIntegrationClientSecret v1";

Error KeyError(const std::string& message, const std::string& remedy) {
  return Error{ErrorCategory::kConfiguration, "InvalidSecretKey", message, remedy, std::nullopt, 0};
}
Error SecretError(const std::string& message, const std::string& remedy) {
  return Error{
      ErrorCategory::kConfiguration, "InvalidProtectedSecret", message, remedy, std::nullopt, 0};
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string Octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%03o", mode);
  return text;
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

// The key from a file's text: 64 hex digits (a trailing newline allowed) or 32 raw bytes.
std::optional<std::string> ParseKey(std::string text) {
  if (text.size() == kKeyBytes) return text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() == 2 * kKeyBytes) return FromHex(text);
  return std::nullopt;
}

}  // namespace

SecretString::~SecretString() { Wipe(value_); }
SecretKey::~SecretKey() { Wipe(bytes_); }

Result<SecretKey> SecretKey::LoadFile(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return std::unexpected(KeyError("the key file " + file.string() + " does not exist",
                                    "create one with `exo-mailbox protect-secret --new-key " +
                                        file.string() +
                                        "` or point EmailIntegrationKeyFile at it"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return std::unexpected(KeyError("the key file " + file.string() +
                                        " is open to other users (mode " +
                                        Octal(st.st_mode & 0777) + ")",
                                    "run: chmod 600 " + file.string()));
  }
  auto text = ReadFile(file);
  if (!text) return std::unexpected(KeyError(text.error().message, "check the key file"));
  auto key = ParseKey(std::move(*text));
  if (!key) {
    return std::unexpected(
        KeyError("the key file " + file.string() + " holds neither 64 hex digits nor 32 bytes",
                 "restore the key file the secret was protected with"));
  }
  SecretKey k;
  k.bytes_ = std::move(*key);
  return k;
}

Result<SecretKey> SecretKey::FromEnvironment(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    return std::unexpected(KeyError(std::string(variable) + " is not set",
                                    "set it to the 64 hex digits of the key, or use a key file"));
  }
  auto key = ParseKey(value);
  if (!key || key->size() != kKeyBytes) {
    return std::unexpected(
        KeyError(std::string(variable) + " is not 64 hex digits", "set the key in hex"));
  }
  SecretKey k;
  k.bytes_ = std::move(*key);
  return k;
}

Result<SecretKey> SecretKey::Generate(const std::filesystem::path& file) {
  if (std::filesystem::exists(file)) {
    return std::unexpected(KeyError("the key file " + file.string() + " already exists",
                                    "refusing to overwrite a key that may protect secrets; "
                                    "choose another path or remove it yourself"));
  }
  SecretKey k;
  k.bytes_.resize(kKeyBytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.bytes_.data()), kKeyBytes) != 1) {
    return std::unexpected(Error{ErrorCategory::kInternal, "RandFailed",
                                 "the system random generator failed", "", std::nullopt, 0});
  }
  std::string hex = HexEncode(k.bytes_) + "\n";
  auto written = WriteFileAtomically(file, hex, 0600);
  Wipe(hex);
  if (!written) return std::unexpected(written.error());
  return k;
}

std::string SecretKey::id() const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes_.data()), bytes_.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 4));
}

Result<std::string> ProtectSecret(std::string_view plaintext, const SecretKey& key) {
  if (plaintext.empty()) {
    return std::unexpected(SecretError("the secret is empty", "pass the client secret's value"));
  }
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes) != 1) {
    return std::unexpected(Error{ErrorCategory::kInternal, "RandFailed",
                                 "the system random generator failed", "", std::nullopt, 0});
  }
  CipherCtx c;
  std::string out(plaintext.size() + kTagBytes, '\0');
  int len = 0, total = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const auto* aad = reinterpret_cast<const unsigned char*>(kAad);
  if (!c.ctx ||
      EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.bytes_.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(c.ctx, nullptr, &len, aad, static_cast<int>(std::strlen(kAad))) != 1 ||
      EVP_EncryptUpdate(c.ctx, o, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1) {
    return std::unexpected(Error{ErrorCategory::kInternal, "EncryptFailed",
                                 "AES-256-GCM encryption failed", "", std::nullopt, 0});
  }
  total = len;
  if (EVP_EncryptFinal_ex(c.ctx, o + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, o + total + len) != 1) {
    return std::unexpected(Error{ErrorCategory::kInternal, "EncryptFailed",
                                 "AES-256-GCM encryption failed", "", std::nullopt, 0});
  }
  total += len;
  out.resize(static_cast<std::size_t>(total) + kTagBytes);
  return std::string(kPrefix) + key.id() + ":" + Base64Encode(nonce) + ":" + Base64Encode(out);
}

Result<SecretString> UnprotectSecret(std::string_view text, const SecretKey& key) {
  if (!text.starts_with(kPrefix)) {
    return std::unexpected(
        SecretError("EmailIntegrationClientSecret is not a protected secret "
                    "(it must start with \"exo1:\")",
                    "run `exo-mailbox protect-secret` and store its output"));
  }
  text.remove_prefix(std::strlen(kPrefix));
  const auto c1 = text.find(':');
  const auto c2 = c1 == std::string_view::npos ? c1 : text.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    return std::unexpected(SecretError("EmailIntegrationClientSecret is truncated or malformed",
                                       "copy the whole output of `exo-mailbox protect-secret`"));
  }
  const std::string key_id(text.substr(0, c1));
  auto nonce = Base64Decode(text.substr(c1 + 1, c2 - c1 - 1));
  auto sealed = Base64Decode(text.substr(c2 + 1));
  if (!nonce || nonce->size() != kNonceBytes || !sealed || sealed->size() <= kTagBytes) {
    return std::unexpected(SecretError("EmailIntegrationClientSecret is truncated or malformed",
                                       "copy the whole output of `exo-mailbox protect-secret`"));
  }
  if (key_id != key.id()) {
    return std::unexpected(SecretError(
        "EmailIntegrationClientSecret was protected with key " + key_id +
            ", but the configured key is " + key.id(),
        "use the key file it was protected with, or protect the secret again with the current "
        "key (exo-mailbox protect-secret)"));
  }
  const std::size_t n = sealed->size() - kTagBytes;
  std::string plain(n, '\0');
  CipherCtx c;
  int len = 0;
  const auto* aad = reinterpret_cast<const unsigned char*>(kAad);
  auto* s = reinterpret_cast<unsigned char*>(sealed->data());
  bool ok =
      c.ctx &&
      EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.bytes_.data()),
                         reinterpret_cast<const unsigned char*>(nonce->data())) == 1 &&
      EVP_DecryptUpdate(c.ctx, nullptr, &len, aad, static_cast<int>(std::strlen(kAad))) == 1 &&
      EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plain.data()), &len, s,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, s + n) == 1;
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plain.data()) + len,
                                 &final_len) == 1;
  if (!ok) {
    Wipe(plain);
    return std::unexpected(SecretError(
        "EmailIntegrationClientSecret does not decrypt: it was altered or copied incompletely",
        "protect the secret again with `exo-mailbox protect-secret`"));
  }
  return SecretString(std::move(plain));
}

Result<std::string> RewrapSecret(std::string_view protected_text, const SecretKey& old_key,
                                 const SecretKey& new_key) {
  auto plain = UnprotectSecret(protected_text, old_key);
  if (!plain) return std::unexpected(plain.error());
  return ProtectSecret(plain->Reveal(), new_key);
}

}  // namespace exo::client
