#include "exo/common/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exo {
namespace {

// RFC 4648 section 10: (input, standard encoding with padding).
const std::vector<std::pair<std::string, std::string>>& Rfc4648Vectors() {
  static const std::vector<std::pair<std::string, std::string>> kVectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  return kVectors;
}

std::string StripPadding(std::string s) {
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// Every byte value, repeated in a pattern that does not line up with 3-byte groups.
std::string BinaryPattern(std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  return out;
}

// Verifies Base64Encode against the RFC 4648 test vectors, padding included.
TEST(Base64Test, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : Rfc4648Vectors()) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(Base64Encode(plain), encoded);
  }
}

// Verifies Base64UrlEncode against the RFC 4648 vectors with the padding dropped.
TEST(Base64Test, UrlEncodesRfc4648VectorsWithoutPadding) {
  for (const auto& [plain, encoded] : Rfc4648Vectors()) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(Base64UrlEncode(plain), StripPadding(encoded));
  }
}

// Verifies that the two alphabets differ exactly in characters 62 and 63 ('+' '/' vs '-' '_').
TEST(Base64Test, UrlAlphabetReplacesPlusAndSlash) {
  const std::string bytes("\xfb\xff\xbf", 3);  // 111110 111111 111110 111111
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  const std::string two("\xfb\xff", 2);
  EXPECT_EQ(Base64Encode(two), "+/8=");
  EXPECT_EQ(Base64UrlEncode(two), "-_8");
}

// Verifies that Base64Decode reads the padded RFC 4648 vectors back.
TEST(Base64Test, DecodesPaddedRfc4648Vectors) {
  for (const auto& [plain, encoded] : Rfc4648Vectors()) {
    SCOPED_TRACE(encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
}

// Verifies that Base64Decode reads the RFC 4648 vectors without their padding.
TEST(Base64Test, DecodesUnpaddedRfc4648Vectors) {
  for (const auto& [plain, encoded] : Rfc4648Vectors()) {
    SCOPED_TRACE(encoded);
    EXPECT_EQ(Base64Decode(StripPadding(encoded)), plain);
  }
}

// Verifies that Base64Decode accepts the URL-safe alphabet, padded or not, and both alphabets
// decode to the same bytes.
TEST(Base64Test, DecodesUrlAlphabet) {
  const std::string two("\xfb\xff", 2);
  EXPECT_EQ(Base64Decode("-_8"), two);
  EXPECT_EQ(Base64Decode("-_8="), two);
  EXPECT_EQ(Base64Decode("+/8="), two);
  EXPECT_EQ(Base64Decode("+/8"), two);
  EXPECT_EQ(Base64Decode("-_-_"), std::string("\xfb\xff\xbf", 3));
}

// Verifies that decoding keeps embedded NUL bytes and high bytes.
TEST(Base64Test, DecodesEmbeddedNulBytes) {
  EXPECT_EQ(Base64Decode("AAEA/w=="), std::string("\x00\x01\x00\xff", 4));
  EXPECT_EQ(Base64Decode("AAAA"), std::string(3, '\0'));
}

// Verifies that characters outside both alphabets are rejected, whitespace included.
TEST(Base64Test, RejectsInvalidCharacters) {
  for (std::string_view bad :
       {"Zm9v!", "Zm 9v", "Zm9v\n", "Zm9v\r\n", "Zm.9", "Zm9v*A==", "\tZm9v", "Zm9\xc3\xa9"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Base64Decode(bad), std::nullopt);
  }
  EXPECT_EQ(Base64Decode(std::string_view("Zm\0v", 4)), std::nullopt);
}

// Verifies that lengths no encoding can produce are rejected: a lone sextet, data after padding,
// and more than two padding characters.
TEST(Base64Test, RejectsImpossibleLengthsAndMisplacedPadding) {
  for (std::string_view bad :
       {"A", "Zm9vY", "Zm9vYmFyZ", "abc=d", "Zg=a", "=Zg", "Z=g=", "Zg===", "Zm9vY==="}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Base64Decode(bad), std::nullopt);
  }
}

// Verifies that padding is refused where no encoder puts it: after a complete quantum or on its
// own ("Zm9v==" is not base64 of anything).
TEST(Base64Test, RejectsPaddingWhereNoneBelongs) {
  for (std::string_view bad : {"=", "==", "Zm9v=", "Zm9v==", "Zm8==", "Zg=", "Zm9vYg="}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Base64Decode(bad), std::nullopt);
  }
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zg"), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm8"), "fo");
}

// Verifies that arbitrary binary data of every length up to 64 bytes survives both encoders.
TEST(Base64Test, BinaryRoundTripsThroughBothAlphabets) {
  for (std::size_t n = 0; n <= 64; ++n) {
    SCOPED_TRACE(n);
    const std::string bytes = BinaryPattern(n);
    const std::string standard = Base64Encode(bytes);
    const std::string url = Base64UrlEncode(bytes);
    EXPECT_EQ(standard.size(), 4 * ((n + 2) / 3));
    EXPECT_EQ(url.size(), (4 * n + 2) / 3);
    EXPECT_EQ(url.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(Base64Decode(standard), bytes);
    EXPECT_EQ(Base64Decode(url), bytes);
  }
}

// Verifies that all 256 byte values round-trip in one buffer.
TEST(Base64Test, AllByteValuesRoundTrip) {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Decode(Base64UrlEncode(bytes)), bytes);
}

// Verifies HexEncode's lower-case output, including leading zeros and high bytes.
TEST(Base64Test, HexEncodeIsLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("abc"), "616263");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\x0f\x10\xab\xff", 6)), "00010f10abff");
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  const std::string hex = HexEncode(bytes);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace exo
