// ASCII text helpers for protocol identifiers (header names, SMTP addresses, GUIDs), where case
// rules are ASCII-only by definition and locale-dependent std::tolower would be wrong.
#pragma once

#include <string>
#include <string_view>

namespace exo {

std::string AsciiLower(std::string_view s);
bool AsciiIEquals(std::string_view a, std::string_view b);

}  // namespace exo
