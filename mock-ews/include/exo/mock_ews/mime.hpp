// RFC 5322 / MIME as the mailbox store needs it: the fields Exchange extracts from a message's raw
// bytes, its text and HTML bodies on demand, and the composition of a message from fields.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::mock_ews {

// Exchange Online's default maximum message size (35 MB), the store's default MIME limit.
inline constexpr std::size_t kDefaultMaxMimeBytes = 35u * 1024u * 1024u;

// One mailbox of an address header: the display name (decoded to UTF-8, may be empty) and the
// addr-spec as written ("local@domain"; empty only for broken input).
struct MailAddress {
  std::string name;
  std::string address;

  bool operator==(const MailAddress&) const = default;
};

// A message's importance, from the Importance / X-Priority / X-MSMail-Priority / Priority headers
// or set by the store's caller.
enum class Importance { kLow, kNormal, kHigh };

// "Low", "Normal" or "High" (the EWS spelling; Graph's lower-case form is the facade's business).
const char* ToString(Importance importance);

// What the store knows of one attachment part without keeping its bytes apart from the MIME.
struct AttachmentInfo {
  std::string name;          // file name (Content-Disposition filename, else Content-Type name)
  std::string content_type;  // lower-case "type/subtype"
  std::string content_id;    // without angle brackets; empty when absent
  std::size_t size = 0;      // decoded size in bytes
  bool is_inline = false;    // inline parts do not make HasAttachments true
};

// The fields extracted from a message's headers and MIME structure. All text is valid UTF-8:
// RFC 2047 encoded-words are decoded, raw 8-bit text that is not UTF-8 is read as Windows-1252,
// and control characters are dropped. Absent headers leave their field empty.
struct MessageFields {
  std::string subject;
  std::optional<MailAddress> from;    // the first address of From
  std::optional<MailAddress> sender;  // the first address of Sender
  std::vector<MailAddress> to, cc, bcc, reply_to;
  std::string internet_message_id;      // "<...>" as in Message-ID
  std::optional<SystemTime> date;       // the Date header (EWS DateTimeSent), when it parses
  std::string in_reply_to;              // the first message id of In-Reply-To
  std::vector<std::string> references;  // the message ids of References, in order
  Importance importance = Importance::kNormal;
  // True when some attachment part is not inline: a Content-Disposition: attachment part, or a
  // part with a file name (or a non-text leaf) that is not marked inline or related by
  // Content-ID.
  bool has_attachments = false;
  std::vector<AttachmentInfo> attachments;  // inline ones included, in document order
  std::string content_type;                 // top-level, lower-case "type/subtype"
};

// Bounds that keep hostile input cheap. Parsing never fails for structure: anything beyond a
// bound is treated as opaque content; only max_bytes (and empty input) produce errors.
struct MimeLimits {
  std::size_t max_bytes = kDefaultMaxMimeBytes;
  std::size_t max_depth = 16;    // deeper multiparts are treated as opaque leaves
  std::size_t max_parts = 1000;  // further parts are ignored
};

// Extracts the fields of `mime` (RFC 5322 with MIME; CRLF or bare LF line ends; folded headers;
// an mbox "From " line is skipped). Errors: "ErrorMessageSizeExceeded" (kProtocol) when the input
// exceeds limits.max_bytes, "ErrorMimeContentInvalid" (kProtocol) when it is empty. Any other
// input, however malformed, yields fields (possibly all empty). Pure and thread-safe.
Result<MessageFields> ParseMessage(std::string_view mime, const MimeLimits& limits = {});

// The first text/plain and first text/html body parts (not attachments), transfer-decoded
// (base64, quoted-printable) and converted from their charset to UTF-8. Line ends are kept as
// they are in the MIME. Same errors as ParseMessage. Pure and thread-safe.
struct MessageBodies {
  std::optional<std::string> text;
  std::optional<std::string> html;
};
Result<MessageBodies> ExtractBodies(std::string_view mime, const MimeLimits& limits = {});

// Decodes an unstructured header value: RFC 2047 encoded-words ("=?UTF-8?B?...?=", "Q" too, any
// charset iconv knows; adjacent encoded-words joined), then makes the result valid UTF-8 as
// MessageFields describes. Pure and thread-safe.
std::string DecodeHeaderText(std::string_view raw);

// Parses an address-list header value (RFC 5322: "Name <a@b>", quoted names, comments, groups,
// the old "a@b (Name)" form). Entries with neither a name nor an address are dropped.
std::vector<MailAddress> ParseAddressList(std::string_view raw);

// Parses an RFC 5322 date ("Mon, 2 Nov 2026 09:00:00 +0100", obsolete zones and two-digit years
// included); nullopt when it does not parse. FormatRfc5322Date writes the form Exchange writes
// ("Mon, 2 Nov 2026 09:00:00 +0000"), always in UTC.
std::optional<SystemTime> ParseRfc5322Date(std::string_view text);
std::string FormatRfc5322Date(SystemTime t);

enum class BodyType { kText, kHtml };

// The fields a message is composed from when a caller creates it without MIME (EWS CreateItem with
// properties, Graph POST /messages, the harness injecting mail).
struct MessageDraft {
  MailAddress from;
  std::optional<MailAddress> sender;
  std::vector<MailAddress> to, cc, bcc, reply_to;
  std::string subject;
  std::string body;
  BodyType body_type = BodyType::kText;
  std::string in_reply_to;              // a message id "<...>"; empty: no In-Reply-To
  std::vector<std::string> references;  // message ids; empty: no References
  Importance importance = Importance::kNormal;
};

// Composes RFC 5322 MIME from `draft` with the given Date and Message-ID (written verbatim; pass
// "<...>"). Non-ASCII names and subjects become UTF-8 encoded-words; a body that is ASCII with
// short lines is sent 7bit, any other as base64; line ends are CRLF. CR and LF inside fields are
// replaced by spaces so a field cannot inject a header. Deterministic: same input, same bytes.
std::string BuildMime(const MessageDraft& draft, SystemTime date, std::string_view message_id);

}  // namespace exo::mock_ews
