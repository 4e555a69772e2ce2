// Protection of the client secret at rest: AES-256-GCM under a 32-byte key kept in a file of mode
// 0600 or in the environment, so the .config holds only ciphertext and the plaintext lives in
// memory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "exo/common/result.hpp"

namespace exo::client {

// A secret in memory: wiped when destroyed, never printed (operator<< and Describe show
// "<secret>").
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  ~SecretString();
  SecretString(const SecretString&) = default;
  SecretString& operator=(const SecretString&) = default;
  SecretString(SecretString&&) noexcept = default;
  SecretString& operator=(SecretString&&) noexcept = default;

  // The plaintext, for the one place that sends it (the token request body).
  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

// The 256-bit key. Its id (first 8 hex digits of SHA-256 of the key) is stored with every
// ciphertext, so a rotated key is recognised instead of failing authentication opaquely.
class SecretKey {
 public:
  // Reads a key file (64 hex digits or 32 raw bytes). Error (kConfiguration): missing file, a mode
  // that lets group or others read it ("chmod 600"), wrong length.
  static Result<SecretKey> LoadFile(const std::filesystem::path& file);
  // Reads EXO_SECRET_KEY (64 hex digits). Error (kConfiguration) when unset or malformed.
  static Result<SecretKey> FromEnvironment(const char* variable = "EXO_SECRET_KEY");
  // A new random key written to `file` with mode 0600 (refuses to overwrite).
  static Result<SecretKey> Generate(const std::filesystem::path& file);

  std::string id() const;
  ~SecretKey();

 private:
  friend Result<std::string> ProtectSecret(std::string_view, const SecretKey&);
  friend Result<SecretString> UnprotectSecret(std::string_view, const SecretKey&);
  std::string bytes_;
};

// "exo1:<key id>:<base64 nonce>:<base64 ciphertext+tag>" for EmailIntegrationClientSecret.
Result<std::string> ProtectSecret(std::string_view plaintext, const SecretKey& key);
// The plaintext. Errors (kConfiguration): not "exo1:" text; made under another key (names both ids:
// "re-run exo-mailbox protect-secret with the current key"); tampered (authentication tag).
Result<SecretString> UnprotectSecret(std::string_view protected_text, const SecretKey& key);
// Decrypts under `old_key` and encrypts under `new_key` (key rotation).
Result<std::string> RewrapSecret(std::string_view protected_text, const SecretKey& old_key,
                                 const SecretKey& new_key);

}  // namespace exo::client
