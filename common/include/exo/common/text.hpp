// ASCII text helpers for protocol identifiers (header names, SMTP addresses, GUIDs), where case
// rules are ASCII-only by definition and locale-dependent std::tolower would be wrong.
#pragma once

#include <string>
#include <string_view>

namespace exo {

std::string AsciiLower(std::string_view s);
bool AsciiIEquals(std::string_view a, std::string_view b);
// The canonical form 8-4-4-4-12 of hexadecimal digits, either case, no braces (Entra's ids).
bool IsGuid(std::string_view s);

}  // namespace exo
