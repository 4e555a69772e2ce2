// The opaque strings the store hands out — item and folder ids, sync states, watermarks and
// subscription ids — as base64 of (kind, mailbox ordinal, numbers) with a truncated HMAC-SHA256
// under a per-store key, and change keys in Exchange's shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace exo::mock_ews::internal {

enum class TokenKind : char {
  kItem = 'I',
  kFolder = 'F',
  kSyncState = 'S',
  kWatermark = 'W',
  kSubscription = 'U',
};

struct Token {
  TokenKind kind = TokenKind::kItem;
  std::uint32_t mailbox = 0;  // the store's mailbox ordinal (never reused)
  std::uint64_t a = 0;        // item/folder/subscription number; sync state: folder number
  std::uint64_t b = 0;        // sync state: sequence number; otherwise 0
};

// Immutable after construction, so safe to share between threads.
class TokenCodec {
 public:
  explicit TokenCodec(std::string key) : key_(std::move(key)) {}

  std::string Encode(const Token& token) const;
  // nullopt for anything Encode did not produce with this key: bad base64, wrong length or
  // prefix, a MAC that does not verify.
  std::optional<Token> Decode(std::string_view text) const;

 private:
  std::string Mac(std::string_view payload) const;
  std::string key_;
};

// HMAC-SHA256 (RFC 2104).
std::string HmacSha256(std::string_view key, std::string_view data);

// Exchange's change key shape: base64 of a 4-byte little-endian class (0x09 message, 0x01
// folder), a 4-byte little-endian length 22, the 16-byte mailbox GUID and a 6-byte big-endian
// change number: 40 characters starting "CQAAABYAAAB" for messages.
std::string EncodeChangeKey(bool folder, std::string_view guid_bytes, std::uint64_t change_number);
// True when `text` has that shape (any GUID, any number).
bool IsChangeKeyShaped(std::string_view text);

// The 16 raw bytes of a textual GUID (8-4-4-4-12 hex), or nullopt.
std::optional<std::string> GuidBytes(std::string_view guid);

}  // namespace exo::mock_ews::internal
