#include "exo/mock_ews/mime.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/mime_entity.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {
namespace {

using internal::AsciiIEquals;
using internal::AsciiLower;
using internal::SanitizeUtf8;
using internal::StripControls;
using internal::TrimWhitespace;

// Bounds that keep a hostile header from turning into millions of small allocations.
constexpr std::size_t kMaxTopLevelFields = 10000;
constexpr std::size_t kMaxAddressesPerList = 10000;
constexpr std::size_t kMaxReferences = 1000;
constexpr std::size_t kMaxEncodedWordText = 8192;
constexpr std::size_t kMaxCharsetName = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Finds the next occurrence of a pattern at or after a position, remembering the last answer so
// that a forward-moving caller scans the input once in total, however many times it asks.
class ForwardFinder {
 public:
  ForwardFinder(std::string_view text, bool (*match)(std::string_view, std::size_t))
      : text_(text), match_(match) {}
  std::size_t NextFrom(std::size_t pos) {
    // No match lies in [from_, next_), so the answer for any pos in [from_, next_] is next_.
    if (valid_ && pos >= from_ && (next_ == std::string_view::npos || pos <= next_)) return next_;
    std::size_t i = pos;
    while (i < text_.size() && !match_(text_, i)) ++i;
    from_ = pos;
    next_ = i < text_.size() ? i : std::string_view::npos;
    valid_ = true;
    return next_;
  }

 private:
  std::string_view text_;
  bool (*match_)(std::string_view, std::size_t);
  bool valid_ = false;
  std::size_t from_ = 0;
  std::size_t next_ = std::string_view::npos;
};

bool IsCloseMarker(std::string_view s, std::size_t i) {
  return s[i] == '?' && i + 1 < s.size() && s[i + 1] == '=';
}
bool IsSpaceAt(std::string_view s, std::size_t i) { return IsSpace(s[i]); }

struct EncodedWord {
  std::string charset;
  std::string bytes;
  std::size_t end;  // index just after "?="
};

// Parses "=?charset[*lang]?B|Q?text?=" at raw[i] (which is "=?").
std::optional<EncodedWord> ParseEncodedWord(std::string_view raw, std::size_t i,
                                            ForwardFinder& closes, ForwardFinder& spaces) {
  std::size_t p = i + 2;
  std::size_t q1 = p;
  while (q1 < raw.size() && q1 - p <= kMaxCharsetName && raw[q1] != '?' && !IsSpace(raw[q1])) ++q1;
  if (q1 >= raw.size() || raw[q1] != '?' || q1 == p || q1 - p > kMaxCharsetName) return {};
  if (q1 + 2 >= raw.size() || raw[q1 + 2] != '?') return {};
  const char enc = raw[q1 + 1];
  if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return {};
  const std::size_t text_start = q1 + 3;
  const std::size_t close = closes.NextFrom(text_start);
  if (close == std::string_view::npos || close - text_start > kMaxEncodedWordText) return {};
  const std::size_t space = spaces.NextFrom(text_start);
  if (space != std::string_view::npos && space < close) return {};
  std::string_view charset = raw.substr(p, q1 - p);
  charset = charset.substr(0, charset.find('*'));  // RFC 2231 language suffix
  std::string_view text = raw.substr(text_start, close - text_start);
  EncodedWord word;
  word.charset = std::string(charset);
  word.bytes = (enc == 'B' || enc == 'b') ? internal::DecodeBase64Lenient(text)
                                          : internal::DecodeQuotedPrintable(text, true);
  word.end = close + 2;
  return word;
}

std::string CollapseSpaces(std::string_view s) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      pending = !out.empty();
    } else {
      if (pending) out.push_back(' ');
      pending = false;
      out.push_back(c);
    }
  }
  return out;
}

// A display-name phrase: quoted strings unquoted, comments dropped, whitespace collapsed, then
// encoded-words decoded (also inside quotes, as many mailers put them there).
std::string DecodePhrase(std::string_view phrase) {
  std::string plain;
  internal::ScanStructured(phrase, [&](std::size_t, internal::Lex lex, char c) {
    if (lex == internal::Lex::kText || lex == internal::Lex::kQuoted) plain.push_back(c);
  });
  return std::string(TrimWhitespace(CollapseSpaces(DecodeHeaderText(plain))));
}

// An addr-spec with comments removed and whitespace outside quotes dropped; the first non-empty
// comment is returned through `comment`.
std::string CleanAddrSpec(std::string_view s, std::string* comment) {
  std::string out;
  std::string current_comment;
  internal::ScanStructured(s, [&](std::size_t, internal::Lex lex, char c) {
    switch (lex) {
      case internal::Lex::kText:
        if (!IsSpace(c) && c != '<' && c != '>') out.push_back(c);
        break;
      case internal::Lex::kQuoteMark:
        out.push_back(c);
        break;
      case internal::Lex::kQuoted:
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
        break;
      case internal::Lex::kCommentOpen:
        current_comment.clear();
        break;
      case internal::Lex::kComment:
        current_comment.push_back(c);
        break;
      case internal::Lex::kCommentClose:
        if (comment && comment->empty()) *comment = current_comment;
        break;
    }
  });
  return SanitizeUtf8(StripControls(out, false));
}

std::optional<MailAddress> ParseMailbox(std::string_view unit) {
  // The top-level '<' (outside quotes and comments) separates the phrase from the address.
  std::size_t open = std::string_view::npos;
  internal::ScanStructured(unit, [&](std::size_t i, internal::Lex lex, char c) {
    if (open == std::string_view::npos && lex == internal::Lex::kText && c == '<') open = i;
  });
  MailAddress out;
  if (open != std::string_view::npos) {
    std::size_t close = unit.find('>', open + 1);
    if (close == std::string_view::npos) close = unit.size();
    std::string_view addr = unit.substr(open + 1, close - open - 1);
    // An obsolete source route "@a,@b:local@domain".
    if (!addr.empty() && TrimWhitespace(addr).substr(0, 1) == "@") {
      const std::size_t colon = addr.find(':');
      if (colon != std::string_view::npos) addr = addr.substr(colon + 1);
    }
    out.address = CleanAddrSpec(addr, nullptr);
    out.name = DecodePhrase(unit.substr(0, open));
  } else {
    std::string comment;
    out.address = CleanAddrSpec(unit, &comment);
    out.name = DecodePhrase(comment);
  }
  if (out.name.size() >= 2 && out.name.front() == '\'' && out.name.back() == '\'') {
    out.name = out.name.substr(1, out.name.size() - 2);  // 'Name' as some mailers write it
  }
  if (out.name.empty() && out.address.empty()) return std::nullopt;
  return out;
}

std::string FirstMessageId(std::string_view raw) {
  const std::size_t open = raw.find('<');
  if (open != std::string_view::npos) {
    const std::size_t close = raw.find('>', open);
    if (close != std::string_view::npos) {
      return SanitizeUtf8(StripControls(raw.substr(open, close - open + 1), false));
    }
  }
  return SanitizeUtf8(StripControls(TrimWhitespace(raw), false));
}

std::vector<std::string> AllMessageIds(std::string_view raw) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (out.size() < kMaxReferences) {
    const std::size_t open = raw.find('<', pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = raw.find('>', open);
    if (close == std::string_view::npos) break;
    out.push_back(SanitizeUtf8(StripControls(raw.substr(open, close - open + 1), false)));
    pos = close + 1;
  }
  if (!out.empty()) return out;
  std::size_t i = 0;
  while (i < raw.size() && out.size() < kMaxReferences) {
    while (i < raw.size() && IsSpace(raw[i])) ++i;
    const std::size_t start = i;
    while (i < raw.size() && !IsSpace(raw[i])) ++i;
    if (i > start) out.push_back(SanitizeUtf8(StripControls(raw.substr(start, i - start), false)));
  }
  return out;
}

Importance ImportanceOf(const internal::HeaderBlock& block) {
  if (const auto* f = block.Find("Importance")) {
    const std::string v = AsciiLower(TrimWhitespace(f->value));
    if (v == "high") return Importance::kHigh;
    if (v == "low") return Importance::kLow;
    if (v == "normal") return Importance::kNormal;
  }
  if (const auto* f = block.Find("X-Priority")) {
    const std::string_view v = TrimWhitespace(f->value);
    if (!v.empty() && (v[0] == '1' || v[0] == '2')) return Importance::kHigh;
    if (!v.empty() && (v[0] == '4' || v[0] == '5')) return Importance::kLow;
    if (!v.empty() && v[0] == '3') return Importance::kNormal;
  }
  if (const auto* f = block.Find("X-MSMail-Priority")) {
    const std::string v = AsciiLower(TrimWhitespace(f->value));
    if (v == "high") return Importance::kHigh;
    if (v == "low") return Importance::kLow;
  }
  if (const auto* f = block.Find("Priority")) {
    const std::string v = AsciiLower(TrimWhitespace(f->value));
    if (v == "urgent") return Importance::kHigh;
    if (v == "non-urgent") return Importance::kLow;
  }
  return Importance::kNormal;
}

std::vector<MailAddress> AllAddresses(const internal::HeaderBlock& block, std::string_view name) {
  std::vector<MailAddress> out;
  for (const auto& f : block.fields) {
    if (!AsciiIEquals(f.name, name)) continue;
    for (auto& a : ParseAddressList(f.value)) {
      if (out.size() >= kMaxAddressesPerList) return out;
      out.push_back(std::move(a));
    }
  }
  return out;
}

std::optional<MailAddress> FirstAddress(const internal::HeaderBlock& block, std::string_view name) {
  const auto* f = block.Find(name);
  if (!f) return std::nullopt;
  auto list = ParseAddressList(f->value);
  if (list.empty()) return std::nullopt;
  return list.front();
}

Result<internal::HeaderBlock> CheckedTopLevel(std::string_view mime, const MimeLimits& limits) {
  if (mime.size() > limits.max_bytes) {
    return Fail(ErrorCategory::kProtocol, codes::kMessageSizeExceeded,
                "The message is " + std::to_string(mime.size()) + " bytes; the limit is " +
                    std::to_string(limits.max_bytes) + ".",
                "send a smaller message or raise the store's max_mime_bytes");
  }
  if (TrimWhitespace(mime).empty()) {
    return Fail(ErrorCategory::kProtocol, codes::kMimeContentInvalid, "The MIME content is empty.");
  }
  return internal::SplitHeaders(mime, /*skip_mbox_from=*/true, kMaxTopLevelFields);
}

// ---- Dates ----

constexpr std::array<const char*, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<int> ZoneNameOffsetMinutes(std::string_view name) {
  const std::string n = AsciiLower(name);
  if (n == "ut" || n == "utc" || n == "gmt" || n == "z") return 0;
  if (n == "est") return -5 * 60;
  if (n == "edt") return -4 * 60;
  if (n == "cst") return -6 * 60;
  if (n == "cdt") return -5 * 60;
  if (n == "mst") return -7 * 60;
  if (n == "mdt") return -6 * 60;
  if (n == "pst") return -8 * 60;
  if (n == "pdt") return -7 * 60;
  if (n.size() == 1 && n[0] >= 'a' && n[0] <= 'z') return 0;  // military zones: RFC 5322 says -0000
  return std::nullopt;
}

}  // namespace

const char* ToString(Importance importance) {
  switch (importance) {
    case Importance::kLow:
      return "Low";
    case Importance::kNormal:
      return "Normal";
    case Importance::kHigh:
      return "High";
  }
  return "Normal";
}

std::string DecodeHeaderText(std::string_view raw) {
  std::string out;
  std::string raw_run;  // undecoded text since the last encoded-word
  std::string gap;      // whitespace since the last token
  std::string pending_charset;
  std::string pending_bytes;  // adjacent encoded-words of one charset, converted together
  bool have_pending = false;
  bool last_encoded = false;
  ForwardFinder closes(raw, IsCloseMarker);
  ForwardFinder spaces(raw, IsSpaceAt);

  auto flush_pending = [&] {
    if (have_pending) out += internal::ToUtf8(pending_bytes, pending_charset);
    pending_bytes.clear();
    pending_charset.clear();
    have_pending = false;
  };
  auto flush_raw = [&] {
    out += SanitizeUtf8(raw_run);
    raw_run.clear();
  };

  for (std::size_t i = 0; i < raw.size();) {
    const char c = raw[i];
    if (IsSpace(c)) {
      gap.push_back(c);
      ++i;
      continue;
    }
    if (c == '=' && i + 1 < raw.size() && raw[i + 1] == '?') {
      if (auto word = ParseEncodedWord(raw, i, closes, spaces)) {
        if (!last_encoded) {
          raw_run += gap;
          flush_raw();
        }
        gap.clear();  // whitespace between two encoded-words is not text (RFC 2047 §6.2)
        // A multi-byte character split across two words only decodes when they are joined.
        if (have_pending && !AsciiIEquals(pending_charset, word->charset)) flush_pending();
        pending_charset = word->charset;
        pending_bytes += word->bytes;
        have_pending = true;
        last_encoded = true;
        i = word->end;
        continue;
      }
    }
    if (last_encoded) flush_pending();
    raw_run += gap;
    gap.clear();
    raw_run.push_back(c);
    last_encoded = false;
    ++i;
  }
  flush_pending();
  raw_run += gap;
  flush_raw();
  return std::string(TrimWhitespace(StripControls(out, /*keep_line_breaks=*/false)));
}

std::vector<MailAddress> ParseAddressList(std::string_view raw) {
  std::vector<MailAddress> out;
  auto emit = [&](std::string_view unit) {
    if (out.size() >= kMaxAddressesPerList) return;
    if (TrimWhitespace(unit).empty()) return;
    if (auto mailbox = ParseMailbox(unit)) out.push_back(std::move(*mailbox));
  };
  bool in_angle = false;
  std::size_t start = 0;
  internal::ScanStructured(raw, [&](std::size_t i, internal::Lex lex, char c) {
    if (lex != internal::Lex::kText) return;
    if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (!in_angle && (c == ',' || c == ';')) {
      emit(raw.substr(start, i - start));
      start = i + 1;
    } else if (!in_angle && c == ':') {
      start = i + 1;  // "group name:" — the members follow, the name is not an address
    }
  });
  if (start < raw.size()) emit(raw.substr(start));
  return out;
}

std::optional<SystemTime> ParseRfc5322Date(std::string_view text) {
  const std::size_t paren = text.find('(');
  if (paren != std::string_view::npos) text = text.substr(0, paren);
  if (text.size() > 200) return std::nullopt;
  int day = -1, month = -1, year = -1, hour = -1, minute = -1, second = 0;
  std::optional<int> zone;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (IsSpace(text[i]) || text[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < text.size() && !IsSpace(text[i]) && text[i] != ',') ++i;
    const std::string_view tok = text.substr(start, i - start);
    if (tok.empty()) continue;
    if (tok.find(':') != std::string_view::npos) {
      if (hour >= 0) return std::nullopt;
      const std::size_t c1 = tok.find(':');
      const std::size_t c2 = tok.find(':', c1 + 1);
      const std::string_view h = tok.substr(0, c1);
      const std::string_view m =
          tok.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1);
      const std::string_view s =
          c2 == std::string_view::npos ? std::string_view("0") : tok.substr(c2 + 1);
      if (!AllDigits(h) || !AllDigits(m) || !AllDigits(s) || h.size() > 2 || m.size() > 2 ||
          s.size() > 2) {
        return std::nullopt;
      }
      hour = ToInt(h);
      minute = ToInt(m);
      second = ToInt(s);
    } else if ((tok[0] == '+' || tok[0] == '-') && tok.size() == 5 && AllDigits(tok.substr(1))) {
      const int hh = ToInt(tok.substr(1, 2));
      const int mm = ToInt(tok.substr(3, 2));
      if (hh > 23 || mm > 59) return std::nullopt;
      zone = (tok[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    } else if (AllDigits(tok)) {
      if (tok.size() > 4) return std::nullopt;
      if (tok.size() >= 3 && year < 0) {
        year = ToInt(tok);
        if (tok.size() == 3) year += 1900;
      } else if (day < 0 && tok.size() <= 2) {
        day = ToInt(tok);
      } else if (year < 0 && tok.size() <= 2) {
        year = ToInt(tok);
        year += year < 50 ? 2000 : 1900;
      } else {
        return std::nullopt;
      }
    } else {
      const std::string lower = AsciiLower(tok);
      bool known = false;
      for (std::size_t m = 0; m < kMonths.size(); ++m) {
        if (lower.size() >= 3 && lower.compare(0, 3, kMonths[m]) == 0) {
          month = static_cast<int>(m) + 1;
          known = true;
        }
      }
      for (const char* d : kDays) {
        if (lower.size() >= 3 && lower.compare(0, 3, d) == 0) known = true;
      }
      if (!known && hour >= 0) {
        if (auto z = ZoneNameOffsetMinutes(tok)) {
          zone = *z;
          known = true;
        }
      }
      if (!known) return std::nullopt;
    }
  }
  if (day < 1 || month < 1 || year < 1900 || year > 2200 || hour < 0 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  if (second == 60) second = 59;  // a leap second: the nearest representable instant
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const sys_seconds t =
      sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) - minutes(zone.value_or(0));
  return SystemTime(duration_cast<SystemTime::duration>(t.time_since_epoch()));
}

std::string FormatRfc5322Date(SystemTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss<seconds> tod{secs - days};
  static constexpr std::array<const char*, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                           "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonthNames = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const weekday wd{days};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %u %s %d %02d:%02d:%02d +0000", kDayNames[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()),
                kMonthNames[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  return buf;
}

Result<MessageFields> ParseMessage(std::string_view mime, const MimeLimits& limits) {
  auto top = CheckedTopLevel(mime, limits);
  if (!top) return std::unexpected(top.error());
  const internal::HeaderBlock& block = *top;
  MessageFields f;
  if (const auto* h = block.Find("Subject")) f.subject = DecodeHeaderText(h->value);
  f.from = FirstAddress(block, "From");
  f.sender = FirstAddress(block, "Sender");
  f.to = AllAddresses(block, "To");
  f.cc = AllAddresses(block, "Cc");
  f.bcc = AllAddresses(block, "Bcc");
  f.reply_to = AllAddresses(block, "Reply-To");
  if (const auto* h = block.Find("Message-ID")) f.internet_message_id = FirstMessageId(h->value);
  if (const auto* h = block.Find("Date")) f.date = ParseRfc5322Date(h->value);
  if (const auto* h = block.Find("In-Reply-To")) f.in_reply_to = FirstMessageId(h->value);
  if (const auto* h = block.Find("References")) f.references = AllMessageIds(h->value);
  f.importance = ImportanceOf(block);
  internal::EntityStructure structure = internal::WalkEntity(block, limits);
  f.content_type = std::move(structure.content_type);
  f.attachments = std::move(structure.attachments);
  f.has_attachments = std::any_of(f.attachments.begin(), f.attachments.end(),
                                  [](const AttachmentInfo& a) { return !a.is_inline; });
  return f;
}

Result<MessageBodies> ExtractBodies(std::string_view mime, const MimeLimits& limits) {
  auto top = CheckedTopLevel(mime, limits);
  if (!top) return std::unexpected(top.error());
  const internal::EntityStructure structure = internal::WalkEntity(*top, limits);
  MessageBodies bodies;
  if (structure.text) bodies.text = internal::DecodeBodyPart(*structure.text);
  if (structure.html) bodies.html = internal::DecodeBodyPart(*structure.html);
  return bodies;
}

}  // namespace exo::mock_ews
