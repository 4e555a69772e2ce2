#include "internal/text_codec.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>

namespace exo::mock_ews::internal {
namespace {

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr std::uint32_t kReplacement = 0xFFFD;

// Windows-1252's 0x80..0x9F; 0 where the code page leaves a hole (mapped to U+FFFD).
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

std::string FromSingleByte(std::string_view s, bool cp1252) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      out.push_back(ch);
    } else if (b < 0xA0 && cp1252) {
      const std::uint16_t cp = kCp1252High[b - 0x80];
      AppendUtf8(out, cp ? cp : kReplacement);
    } else {
      AppendUtf8(out, b);
    }
  }
  return out;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len;
  std::uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values beyond Unicode are invalid.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// UTF-8 with each invalid byte replaced by U+FFFD: for text whose charset said UTF-8.
std::string RepairUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      AppendUtf8(out, kReplacement);
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool IsPlausibleCharsetName(std::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> ConvertWithIconv(std::string_view bytes, const std::string& charset) {
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string input(bytes);
  std::string out;
  out.reserve(bytes.size() * 2 + 16);
  char* in_ptr = input.data();
  std::size_t in_left = input.size();
  std::array<char, 4096> buffer;
  while (in_left > 0) {
    char* out_ptr = buffer.data();
    std::size_t out_left = buffer.size();
    const std::size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    out.append(buffer.data(), buffer.size() - out_left);
    if (rc == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ (an invalid byte) or EINVAL (a truncated sequence at the end): mark and go on.
      AppendUtf8(out, kReplacement);
      ++in_ptr;
      --in_left;
    }
  }
  iconv_close(cd);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool AsciiIEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

bool AsciiIStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && AsciiIEquals(s.substr(0, prefix.size()), prefix);
}

std::string_view TrimWhitespace(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  return FromSingleByte(s, /*cp1252=*/true);
}

std::string ToUtf8(std::string_view bytes, std::string_view charset) {
  std::string name = AsciiLower(TrimWhitespace(charset));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "ansi_x3.4-1968") {
    return SanitizeUtf8(bytes);
  }
  if (name == "utf-8" || name == "utf8") return RepairUtf8(bytes);
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "latin1" || name == "latin-1" ||
      name == "l1" || name == "iso_8859-1") {
    return FromSingleByte(bytes, /*cp1252=*/false);
  }
  if (name == "windows-1252" || name == "cp1252") return FromSingleByte(bytes, /*cp1252=*/true);
  if (IsPlausibleCharsetName(name)) {
    if (auto converted = ConvertWithIconv(bytes, name)) return RepairUtf8(*converted);
  }
  return SanitizeUtf8(bytes);
}

std::string StripControls(std::string_view s, bool keep_line_breaks) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\t') {
      out.push_back(keep_line_breaks ? '\t' : ' ');
    } else if (keep_line_breaks && (c == '\r' || c == '\n')) {
      out.push_back(c);
    } else if (b >= 0x20 && b != 0x7F) {
      out.push_back(c);
    }
  }
  return out;
}

std::string DecodeBase64Lenient(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const int v = Base64Value(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::size_t Base64DecodedSize(std::string_view s) {
  std::size_t sextets = 0;
  for (char c : s) {
    if (c == '=') break;
    if (Base64Value(c) >= 0) ++sextets;
  }
  return sextets * 6 / 8;
}

std::string DecodeQuotedPrintable(std::string_view s, bool header_q) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_' && header_q) {
      out.push_back(' ');
    } else if (c == '=') {
      // Soft line break: '=' then optional trailing whitespace then CRLF or LF.
      std::size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j < s.size() && (s[j] == '\n' || s[j] == '\r')) {
        if (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ++j;
        i = j;
        continue;
      }
      if (j == s.size() && !header_q) {
        i = j;
        continue;
      }
      if (i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
        out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
        i += 2;
      } else {
        out.push_back('=');
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace exo::mock_ews::internal
