// Base64 and base64url (RFC 4648) for JWTs, JWKs, thumbprints and HTTP Basic credentials,
// on top of OpenSSL's codec; hex and percent-encoding beside them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace exo {

// Standard alphabet with '=' padding.
std::string Base64Encode(std::string_view bytes);
// URL-safe alphabet without padding, as JWTs use.
std::string Base64UrlEncode(std::string_view bytes);
// Decodes either alphabet, with or without padding; ignores no other characters. Returns
// nullopt on any character outside the alphabets, an impossible length, or padding that does
// not bring the length to a multiple of 4 ("Zg==" and "Zg" decode, "Zg=" and "Zm9v=" do not).
std::optional<std::string> Base64Decode(std::string_view text);

// Lower-case hexadecimal.
std::string HexEncode(std::string_view bytes);

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~),
// upper-case hex: query values and application/x-www-form-urlencoded fields.
std::string PercentEncode(std::string_view bytes);

}  // namespace exo
