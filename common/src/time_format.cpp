#include "exo/common/time_format.hpp"

#include <cstdio>
#include <ctime>

namespace exo {
namespace {
std::tm ToTm(SystemTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
bool IsDigit(std::string_view s, std::size_t pos) {
  return pos < s.size() && s[pos] >= '0' && s[pos] <= '9';
}
bool At(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }
// Exactly `count` ASCII digits at `pos`: unlike sscanf's %d, no sign, no spaces, no short field.
bool ReadDigits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(s, i)) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
std::string Format(SystemTime t, const char* fmt) {
  const std::tm tm = ToTm(t);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}
}  // namespace

std::string FormatIso8601(SystemTime t) { return Format(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string FormatIso8601Ticks(SystemTime t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto ticks =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count() / 100;
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%07lld", static_cast<long long>(ticks));
  return Format(secs, "%Y-%m-%dT%H:%M:%S") + frac + "Z";
}

std::string FormatAadTimestamp(SystemTime t) { return Format(t, "%Y-%m-%d %H:%M:%SZ"); }

std::int64_t ToUnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixSeconds(std::int64_t s) { return SystemTime(std::chrono::seconds(s)); }

std::optional<SystemTime> ParseIso8601(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ReadDigits(s, 0, 4, y) || !At(s, 4, '-') || !ReadDigits(s, 5, 2, mo) || !At(s, 7, '-') ||
      !ReadDigits(s, 8, 2, d)) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  long long nanos = 0;
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    if (!ReadDigits(s, pos + 1, 2, h) || !At(s, pos + 3, ':') || !ReadDigits(s, pos + 4, 2, mi) ||
        !At(s, pos + 6, ':') || !ReadDigits(s, pos + 7, 2, sec)) {
      return std::nullopt;
    }
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      if (!IsDigit(s, pos)) return std::nullopt;  // "44.Z": a fraction needs a digit
      long long scale = 100000000;
      while (IsDigit(s, pos)) {
        nanos += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos == s.size()) return std::nullopt;  // a time needs a zone
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!ReadDigits(s, pos + 1, 2, oh) || !At(s, pos + 3, ':') ||
          !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
      pos += 6;
    }
    if (pos != s.size()) return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // Past these the sum below overflows SystemTime's 64-bit nanoseconds (undefined behaviour).
  if (y < 1678 || y > 2261) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} - minutes{offset_minutes} +
         duration_cast<SystemTime::duration>(nanoseconds{nanos});
}

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '+' || text.front() == '-') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  std::size_t i = 0;
  double value = 0;
  bool digits = false, dot = false;
  double scale = 0.1;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
      if (dot) {
        value += (c - '0') * scale;
        scale /= 10;
      } else {
        value = value * 10 + (c - '0');
      }
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits || value > 1e12) return std::nullopt;
  const std::string_view unit = text.substr(i);
  double seconds;
  if (unit.empty() || unit == "s") seconds = value;
  else if (unit == "ms") seconds = value / 1000;
  else if (unit == "m" || unit == "min") seconds = value * 60;
  else if (unit == "h") seconds = value * 3600;
  else if (unit == "d") seconds = value * 86400;
  else if (unit == "w") seconds = value * 7 * 86400;
  else if (unit == "y") seconds = value * 365 * 86400;
  else return std::nullopt;
  const auto d = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  return negative ? -d : d;
}

}  // namespace exo
