// BuildMime: RFC 5322 from a MessageDraft, written so that ParseMessage reads back the same fields.
#include <algorithm>
#include <string>

#include "exo/common/base64.hpp"
#include "exo/mock_ews/mime.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {
namespace {

constexpr std::size_t kFoldColumn = 76;
constexpr std::size_t kMaxLineOctets = 998;

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Field text as a draft may carry it: valid UTF-8, no line breaks (they would start a new
// header), no other controls.
std::string CleanField(std::string_view s) {
  std::string out = internal::SanitizeUtf8(s);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return internal::StripControls(out, /*keep_line_breaks=*/false);
}

// RFC 2047 "B" encoded-words of UTF-8 text, each at most 75 characters, never splitting a
// character, separated by folding whitespace.
std::string EncodeWords(std::string_view utf8) {
  constexpr std::size_t kMaxChunk = 45;  // 45 bytes -> 60 base64 chars -> a 72-char word
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = std::min(utf8.size(), i + kMaxChunk);
    // Back off to a character boundary (never in the middle of a continuation byte run).
    while (end < utf8.size() && end > i && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (end == i) end = std::min(utf8.size(), i + kMaxChunk);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

bool NeedsEncoding(std::string_view text) {
  return !IsAscii(text) || text.find("=?") != std::string_view::npos;
}

// Folds ASCII text at existing spaces so lines stay near kFoldColumn; unfolding (removing the
// inserted CRLFs) gives the text back exactly.
std::string FoldAscii(std::string_view text, std::size_t first_line_used) {
  std::string out;
  std::size_t line = first_line_used;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t next = text.find(' ', i + 1);
    if (next == std::string_view::npos) next = text.size();
    const std::string_view token = text.substr(i, next - i);  // starts with a space except first
    if (line + token.size() > kFoldColumn && line > first_line_used && token.front() == ' ') {
      out += "\r\n";
      line = 0;
    }
    out += token;
    line += token.size();
    i = next;
  }
  return out;
}

std::string EncodeUnstructured(std::string_view text, std::size_t first_line_used) {
  const std::string clean = CleanField(text);
  if (NeedsEncoding(clean)) return EncodeWords(clean);
  return FoldAscii(clean, first_line_used);
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string FormatDisplayName(std::string_view name) {
  const std::string clean = CleanField(name);
  if (NeedsEncoding(clean)) return EncodeWords(clean);
  if (std::all_of(clean.begin(), clean.end(), [](char c) { return IsAtext(c) || c == ' '; })) {
    return clean;
  }
  std::string quoted = "\"";
  for (char c : clean) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

std::string CleanAddress(std::string_view address) {
  std::string out;
  for (char c : CleanField(address)) {
    if (c != ' ' && c != '<' && c != '>' && c != ',' && c != ';') out.push_back(c);
  }
  return out;
}

std::string FormatMailbox(const MailAddress& a) {
  const std::string address = CleanAddress(a.address);
  const std::string name = std::string(internal::TrimWhitespace(CleanField(a.name)));
  if (name.empty()) return address;
  return FormatDisplayName(name) + " <" + address + ">";
}

void AppendAddressHeader(std::string& out, std::string_view field,
                         const std::vector<MailAddress>& list) {
  if (list.empty()) return;
  std::string line = std::string(field) + ": ";
  std::size_t used = line.size();
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string mailbox = FormatMailbox(list[k]);
    if (k > 0) {
      line += ",";
      ++used;
      if (used + 1 + mailbox.size() > kFoldColumn) {
        line += "\r\n";
        used = 0;
      }
      line += " ";
      ++used;
    }
    line += mailbox;
    const std::size_t last_break = mailbox.rfind('\n');
    used =
        last_break == std::string::npos ? used + mailbox.size() : mailbox.size() - last_break - 1;
  }
  out += line + "\r\n";
}

std::string CleanMessageId(std::string_view id) {
  std::string out;
  for (char c : CleanField(id)) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

// Bare LF and bare CR become CRLF, as RFC 5322 requires.
std::string ToCrlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += "\r\n";
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (s[i] == '\n') {
      out += "\r\n";
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool FitsSevenBit(std::string_view crlf_body) {
  if (!IsAscii(crlf_body)) return false;
  if (crlf_body.find('\0') != std::string_view::npos) return false;
  std::size_t line = 0;
  for (char c : crlf_body) {
    if (c == '\n') {
      line = 0;
    } else if (++line > kMaxLineOctets) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string BuildMime(const MessageDraft& draft, SystemTime date, std::string_view message_id) {
  std::string out;
  out += "From: " + FormatMailbox(draft.from) + "\r\n";
  if (draft.sender) out += "Sender: " + FormatMailbox(*draft.sender) + "\r\n";
  AppendAddressHeader(out, "To", draft.to);
  AppendAddressHeader(out, "Cc", draft.cc);
  AppendAddressHeader(out, "Bcc", draft.bcc);
  AppendAddressHeader(out, "Reply-To", draft.reply_to);
  out += "Subject: " + EncodeUnstructured(draft.subject, 9) + "\r\n";
  out += "Date: " + FormatRfc5322Date(date) + "\r\n";
  out += "Message-ID: " + CleanMessageId(message_id) + "\r\n";
  if (!draft.in_reply_to.empty())
    out += "In-Reply-To: " + CleanMessageId(draft.in_reply_to) + "\r\n";
  if (!draft.references.empty()) {
    out += "References:";
    for (const auto& id : draft.references) out += "\r\n " + CleanMessageId(id);
    out += "\r\n";
  }
  if (draft.importance == Importance::kHigh) out += "Importance: high\r\nX-Priority: 1\r\n";
  if (draft.importance == Importance::kLow) out += "Importance: low\r\nX-Priority: 5\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += draft.body_type == BodyType::kHtml ? "Content-Type: text/html; charset=\"utf-8\"\r\n"
                                            : "Content-Type: text/plain; charset=\"utf-8\"\r\n";
  std::string body = ToCrlf(internal::SanitizeUtf8(draft.body));
  if (FitsSevenBit(body)) {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    out += body;
    if (!body.empty() && body.back() != '\n') out += "\r\n";
  } else {
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    const std::string encoded = Base64Encode(body);
    for (std::size_t i = 0; i < encoded.size(); i += 76) {
      out += encoded.substr(i, 76);
      out += "\r\n";
    }
  }
  return out;
}

}  // namespace exo::mock_ews
