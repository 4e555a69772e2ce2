// Formatting and parsing of the UTC timestamps the Microsoft services put on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exo/common/clock.hpp"

namespace exo {

// "2025-05-14T09:12:44Z" (ISO 8601 / RFC 3339, whole seconds).
std::string FormatIso8601(SystemTime t);
// "2025-05-14T09:12:44.1234567Z" (seven fractional digits, as .NET services print).
std::string FormatIso8601Ticks(SystemTime t);
// "2025-05-14 09:12:44Z" (the AADSTS error timestamp).
std::string FormatAadTimestamp(SystemTime t);
// Seconds since the Unix epoch (JWT NumericDate).
std::int64_t ToUnixSeconds(SystemTime t);
SystemTime FromUnixSeconds(std::int64_t s);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)"; a date alone means midnight UTC.
// Years SystemTime cannot hold (before 1678, after 2261: nanoseconds in 64 bits) are nullopt.
std::optional<SystemTime> ParseIso8601(std::string_view text);

// Parses a duration such as "65m", "+2h", "-1d", "1500ms", "45s", "90d" or "1y" (365 days);
// a bare number is seconds. Returns nullopt for anything else.
std::optional<Duration> ParseDuration(std::string_view text);

}  // namespace exo
