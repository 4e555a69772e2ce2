// Byte-level text helpers for the MIME code: ASCII case folding, transfer decodings and charset
// conversion to UTF-8. Every function is total: any input gives an output, never an error.
#pragma once

#include <string>
#include <string_view>

namespace exo::mock_ews::internal {

std::string AsciiLower(std::string_view s);
bool AsciiIEquals(std::string_view a, std::string_view b);
bool AsciiIStartsWith(std::string_view s, std::string_view prefix);
std::string_view TrimWhitespace(std::string_view s);

bool IsValidUtf8(std::string_view s);
// Valid UTF-8 stays as it is; anything else is read as Windows-1252 (a superset of ISO-8859-1's
// printable range), which is what raw 8-bit headers in the wild mostly are.
std::string SanitizeUtf8(std::string_view s);
// Converts `bytes` in `charset` to UTF-8: UTF-8, US-ASCII, ISO-8859-1 and Windows-1252 natively,
// other charsets through iconv; an unknown charset or undecodable bytes fall back to
// SanitizeUtf8 / U+FFFD.
std::string ToUtf8(std::string_view bytes, std::string_view charset);
// Drops C0 controls and DEL; a tab becomes a space. With keep_line_breaks, CR and LF stay.
std::string StripControls(std::string_view s, bool keep_line_breaks);

// Base64 as MIME bodies use it: whitespace and other non-alphabet characters are skipped,
// decoding stops at '='.
std::string DecodeBase64Lenient(std::string_view s);
// The number of bytes DecodeBase64Lenient would produce, without producing them.
std::size_t Base64DecodedSize(std::string_view s);
// Quoted-printable (RFC 2045); with header_q (RFC 2047 "Q"), '_' is a space. Broken escapes are
// kept literally; soft line breaks are removed.
std::string DecodeQuotedPrintable(std::string_view s, bool header_q);

}  // namespace exo::mock_ews::internal
