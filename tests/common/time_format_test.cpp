#include "exo/common/time_format.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string_view>

namespace exo {
namespace {

using namespace std::chrono;

// 2025-05-14T09:12:44Z, the instant the Microsoft samples use; Unix 1747213964.
SystemTime SampleInstant() {
  return sys_days{year{2025} / May / 14} + hours(9) + minutes(12) + seconds(44);
}

// Verifies FormatIso8601 for the sample instant and the Unix epoch.
TEST(TimeFormatTest, FormatIso8601WholeSeconds) {
  EXPECT_EQ(FormatIso8601(SampleInstant()), "2025-05-14T09:12:44Z");
  EXPECT_EQ(FormatIso8601(SystemTime{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(
      FormatIso8601(sys_days{year{2026} / December / 31} + hours(23) + minutes(59) + seconds(59)),
      "2026-12-31T23:59:59Z");
}

// Verifies that FormatIso8601 drops (truncates) the fraction instead of rounding it up.
TEST(TimeFormatTest, FormatIso8601TruncatesFraction) {
  EXPECT_EQ(FormatIso8601(SampleInstant() + milliseconds(999)), "2025-05-14T09:12:44Z");
  EXPECT_EQ(FormatIso8601(SampleInstant() + nanoseconds(999999999)), "2025-05-14T09:12:44Z");
}

// Verifies that FormatIso8601Ticks always prints seven fractional digits (100 ns ticks).
TEST(TimeFormatTest, FormatIso8601TicksPrintsSevenDigits) {
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant()), "2025-05-14T09:12:44.0000000Z");
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant() + nanoseconds(123456789)),
            "2025-05-14T09:12:44.1234567Z");
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant() + nanoseconds(100)), "2025-05-14T09:12:44.0000001Z");
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant() + nanoseconds(99)), "2025-05-14T09:12:44.0000000Z");
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant() + milliseconds(500)),
            "2025-05-14T09:12:44.5000000Z");
  EXPECT_EQ(FormatIso8601Ticks(SampleInstant() + nanoseconds(999999999)),
            "2025-05-14T09:12:44.9999999Z");
}

// Verifies the AADSTS error timestamp layout: a space instead of 'T', whole seconds, 'Z'.
TEST(TimeFormatTest, FormatAadTimestampUsesSpaceSeparator) {
  EXPECT_EQ(FormatAadTimestamp(SampleInstant()), "2025-05-14 09:12:44Z");
  EXPECT_EQ(FormatAadTimestamp(SampleInstant() + milliseconds(750)), "2025-05-14 09:12:44Z");
}

// Verifies the JWT NumericDate conversions in both directions.
TEST(TimeFormatTest, UnixSecondsConvertBothWays) {
  EXPECT_EQ(ToUnixSeconds(SampleInstant()), 1747213964);
  EXPECT_EQ(ToUnixSeconds(SystemTime{}), 0);
  EXPECT_EQ(ToUnixSeconds(SampleInstant() + milliseconds(999)), 1747213964);
  EXPECT_EQ(FromUnixSeconds(1747213964), SampleInstant());
  EXPECT_EQ(FromUnixSeconds(0), SystemTime{});
  EXPECT_EQ(FromUnixSeconds(-86400), SystemTime{} - hours(24));
  EXPECT_EQ(ToUnixSeconds(FromUnixSeconds(4102444800)), 4102444800);  // 2100-01-01
}

// Verifies parsing of a UTC timestamp with 'Z' (and lower-case 'z').
TEST(TimeFormatTest, ParsesZuluTime) {
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44Z"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44z"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14t09:12:44Z"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14 09:12:44Z"), SampleInstant());  // the AAD layout
}

// Verifies that numeric offsets are subtracted to give UTC.
TEST(TimeFormatTest, ParsesNumericOffsets) {
  EXPECT_EQ(ParseIso8601("2025-05-14T11:12:44+02:00"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14T03:42:44-05:30"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44+00:00"), SampleInstant());
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44-00:00"), SampleInstant());
  // Offsets that cross midnight move the date.
  EXPECT_EQ(ParseIso8601("2025-05-15T01:12:44+16:00"), SampleInstant());
}

// Verifies fractional seconds of any length up to nanoseconds, with a zone after them.
TEST(TimeFormatTest, ParsesFractionalSeconds) {
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44.5Z"), SampleInstant() + milliseconds(500));
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44.123Z"), SampleInstant() + milliseconds(123));
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44.1234567Z"), SampleInstant() + nanoseconds(123456700));
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44.123456789Z"),
            SampleInstant() + nanoseconds(123456789));
  EXPECT_EQ(ParseIso8601("2025-05-14T11:12:44.25+02:00"), SampleInstant() + milliseconds(250));
}

// Verifies that a date alone means midnight UTC.
TEST(TimeFormatTest, ParsesDateOnlyAsMidnightUtc) {
  EXPECT_EQ(ParseIso8601("2025-05-14"), SystemTime{sys_days{year{2025} / May / 14}});
  EXPECT_EQ(ParseIso8601("1970-01-01"), SystemTime{});
  EXPECT_EQ(ParseIso8601("2024-02-29"), SystemTime{sys_days{year{2024} / February / 29}});
}

// Verifies that each formatter's output parses back to the instant it printed.
TEST(TimeFormatTest, FormattedTimestampsParseBack) {
  const SystemTime t = SampleInstant() + nanoseconds(987654300);
  EXPECT_EQ(ParseIso8601(FormatIso8601Ticks(t)), t);
  EXPECT_EQ(ParseIso8601(FormatIso8601(t)), SampleInstant());
  EXPECT_EQ(ParseIso8601(FormatAadTimestamp(t)), SampleInstant());
}

// Verifies that text that is not a timestamp at all is rejected.
TEST(TimeFormatTest, RejectsGarbage) {
  for (std::string_view bad : {"",
                               "garbage",
                               "2025",
                               "2025-05",
                               "2025/05/14",
                               "14-05-2025",
                               "2025-5-14",
                               "2025-05-1",
                               "20250514T091244Z",
                               "2025-05-14X",
                               "2025-05-14T",
                               "2025-05-14T09:12Z",
                               "2025-05-14T9:12:44Z",
                               "2025-05-14T09:12:44ZZ",
                               "2025-05-14T09:12:44Z ",
                               " 2025-05-14T09:12:44Z",
                               "2025-05-14T09:12:44.5X",
                               "2025-05-14T09:12:44+0200",
                               "2025-05-14T09:12:44+02",
                               "2025-05-14T09:12:44+02:00:00",
                               "2025-05-14Z"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
}

// Verifies that a time without a zone is rejected instead of guessed.
TEST(TimeFormatTest, RejectsTimeWithoutZone) {
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44"), std::nullopt);
  EXPECT_EQ(ParseIso8601("2025-05-14T09:12:44.1234567"), std::nullopt);
  EXPECT_EQ(ParseIso8601("2025-05-14 09:12:44"), std::nullopt);
}

// Verifies that impossible calendar dates and clock times are rejected.
TEST(TimeFormatTest, RejectsInvalidDatesAndTimes) {
  for (std::string_view bad :
       {"2025-02-30", "2025-02-29", "2025-04-31", "2025-13-01", "2025-00-10", "2025-05-00",
        "2025-05-32", "2025-05-14T24:00:00Z", "2025-05-14T09:60:00Z", "2025-05-14T09:12:61Z",
        "2025-02-30T09:12:44Z"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
}

// Verifies that signed or space-padded numbers are not accepted as clock fields: "T-1:00:00Z"
// is not an hour of -1.
TEST(TimeFormatTest, RejectsNegativeTimeFields) {
  for (std::string_view bad :
       {"2025-05-14T-1:00:00Z", "2025-05-14T09:-1:00Z", "2025-05-14T09:12:-1Z",
        "2025-05-14T+9:12:44Z", "2025-05-14T 9:12:44Z"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
}

// Verifies that offsets must be two unsigned digits each, with hours up to 23 and minutes up to 59.
TEST(TimeFormatTest, RejectsMalformedOffsets) {
  for (std::string_view bad :
       {"2025-05-14T09:12:44+-1:00", "2025-05-14T09:12:44+01:-5", "2025-05-14T09:12:44+99:00",
        "2025-05-14T09:12:44+01:99", "2025-05-14T09:12:44+ 1:00", "2025-05-14T09:12:44+24:00",
        "2025-05-14T09:12:44-01:60", "2025-05-14T09:12:44+1:00"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
  EXPECT_EQ(ParseIso8601("2025-05-15T09:11:44+23:59"), SampleInstant());
}

// Verifies that a decimal point must be followed by at least one digit.
TEST(TimeFormatTest, RejectsEmptyFraction) {
  for (std::string_view bad :
       {"2025-05-14T09:12:44.Z", "2025-05-14T09:12:44.+02:00", "2025-05-14T09:12:44."}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
}

// Verifies that date fields must be plain digits: no signs, no padding spaces.
TEST(TimeFormatTest, RejectsSignedOrSpacedDateFields) {
  for (std::string_view bad :
       {"+025-05-14", "-025-05-14", "2025-+5-14", "2025- 5-14", "2025-05- 4", "2025-05-+4"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseIso8601(bad), std::nullopt);
  }
}

}  // namespace
}  // namespace exo
