#include "internal/token_codec.hpp"

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"

namespace exo::mock_ews::internal {
namespace {

constexpr char kPrefix = 'x';
constexpr std::size_t kMacBytes = 10;

void PutBig(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint64_t GetBig(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

void PutLittle32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

bool HasSecondNumber(TokenKind kind) { return kind == TokenKind::kSyncState; }

bool IsKnownKind(char c) {
  switch (static_cast<TokenKind>(c)) {
    case TokenKind::kItem:
    case TokenKind::kFolder:
    case TokenKind::kSyncState:
    case TokenKind::kWatermark:
    case TokenKind::kSubscription:
      return true;
  }
  return false;
}

// Constant-time comparison; the MAC is what keeps states from being forged.
bool SameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  constexpr std::size_t kBlock = 64;
  std::string k(key);
  if (k.size() > kBlock) k = crypto::Sha256(k);
  k.resize(kBlock, '\0');
  std::string inner(kBlock, '\0');
  std::string outer(kBlock, '\0');
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  inner.append(data);
  outer += crypto::Sha256(inner);
  return crypto::Sha256(outer);
}

std::string TokenCodec::Mac(std::string_view payload) const {
  return HmacSha256(key_, payload).substr(0, kMacBytes);
}

std::string TokenCodec::Encode(const Token& token) const {
  std::string payload;
  payload.push_back(kPrefix);
  payload.push_back(static_cast<char>(token.kind));
  PutBig(payload, token.mailbox, 4);
  PutBig(payload, token.a, 8);
  if (HasSecondNumber(token.kind)) PutBig(payload, token.b, 8);
  payload += Mac(payload);
  return Base64Encode(payload);
}

std::optional<Token> TokenCodec::Decode(std::string_view text) const {
  if (text.empty() || text.size() > 128) return std::nullopt;
  const std::optional<std::string> raw = Base64Decode(text);
  if (!raw || raw->size() < 2 || (*raw)[0] != kPrefix || !IsKnownKind((*raw)[1])) {
    return std::nullopt;
  }
  Token token;
  token.kind = static_cast<TokenKind>((*raw)[1]);
  const std::size_t numbers = HasSecondNumber(token.kind) ? 16 : 8;
  const std::size_t payload_size = 2 + 4 + numbers;
  if (raw->size() != payload_size + kMacBytes) return std::nullopt;
  const std::string_view bytes(*raw);
  if (!SameBytes(Mac(bytes.substr(0, payload_size)), bytes.substr(payload_size))) {
    return std::nullopt;
  }
  token.mailbox = static_cast<std::uint32_t>(GetBig(bytes, 2, 4));
  token.a = GetBig(bytes, 6, 8);
  if (HasSecondNumber(token.kind)) token.b = GetBig(bytes, 14, 8);
  return token;
}

std::string EncodeChangeKey(bool folder, std::string_view guid_bytes, std::uint64_t change_number) {
  std::string raw;
  PutLittle32(raw, folder ? 0x01 : 0x09);
  PutLittle32(raw, 22);
  std::string guid(guid_bytes.substr(0, 16));
  guid.resize(16, '\0');
  raw += guid;
  PutBig(raw, change_number & 0xFFFFFFFFFFFFULL, 6);
  return Base64Encode(raw);
}

bool IsChangeKeyShaped(std::string_view text) {
  if (text.size() != 40) return false;
  const std::optional<std::string> raw = Base64Decode(text);
  if (!raw || raw->size() != 30) return false;
  const auto cls = static_cast<unsigned char>((*raw)[0]);
  return (cls == 0x09 || cls == 0x01) && (*raw)[1] == 0 && (*raw)[2] == 0 && (*raw)[3] == 0 &&
         static_cast<unsigned char>((*raw)[4]) == 22 && (*raw)[5] == 0 && (*raw)[6] == 0 &&
         (*raw)[7] == 0;
}

std::optional<std::string> GuidBytes(std::string_view guid) {
  if (guid.size() != 36) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < guid.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (guid[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexValue(guid[i]);
    const int lo = i + 1 < guid.size() ? HexValue(guid[i + 1]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.size() != 16) return std::nullopt;
  return out;
}

}  // namespace exo::mock_ews::internal
