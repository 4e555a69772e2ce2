// The pieces of a MIME entity the parser works with: the header block split from the body,
// structured header values (Content-Type and Content-Disposition with their parameters), and the
// walk over a multipart tree that finds body parts and attachments. Views point into the input.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/mock_ews/mime.hpp"

namespace exo::mock_ews::internal {

// The lexical zones of a structured header value (RFC 5322 §3.2): top-level text, the quote
// marks, quoted-string content, and comments with their outermost parentheses.
enum class Lex { kText, kQuoteMark, kQuoted, kCommentOpen, kComment, kCommentClose };

// Calls visit(index, zone, character) for each character of `s`. Inside quotes and comments a
// backslash escape is reported as the escaped character alone; nested parentheses are comment
// text; an unterminated quote or comment runs to the end.
template <class Visit>
void ScanStructured(std::string_view s, Visit&& visit) {
  bool quoted = false;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool escape = c == '\\' && i + 1 < s.size();
    if (quoted) {
      if (escape) {
        ++i;
        visit(i, Lex::kQuoted, s[i]);
      } else if (c == '"') {
        quoted = false;
        visit(i, Lex::kQuoteMark, c);
      } else {
        visit(i, Lex::kQuoted, c);
      }
    } else if (depth > 0) {
      if (escape) {
        ++i;
        visit(i, Lex::kComment, s[i]);
      } else if (c == ')' && --depth == 0) {
        visit(i, Lex::kCommentClose, c);
      } else {
        if (c == '(') ++depth;
        visit(i, Lex::kComment, c);
      }
    } else if (c == '"') {
      quoted = true;
      visit(i, Lex::kQuoteMark, c);
    } else if (c == '(') {
      depth = 1;
      visit(i, Lex::kCommentOpen, c);
    } else {
      visit(i, Lex::kText, c);
    }
  }
}

struct HeaderField {
  std::string_view name;
  std::string value;  // unfolded (line breaks removed, the folding whitespace kept), raw bytes
};

struct HeaderBlock {
  std::vector<HeaderField> fields;
  std::string_view body;

  // The first field named `name` (case-insensitive), or nullptr.
  const HeaderField* Find(std::string_view name) const;
};

// Splits an entity into its header fields and body. Header lines end at LF (a preceding CR is
// dropped); a line starting with space or tab continues the previous field; the first empty
// line, or the first line that is not a field, starts the body. At most `max_fields` fields are
// kept. With skip_mbox_from, a leading "From " line (mbox separator) is ignored.
HeaderBlock SplitHeaders(std::string_view entity, bool skip_mbox_from, std::size_t max_fields);

// A structured header value "value *(; name=value)" (RFC 2045), parameters with RFC 2231
// continuations and charset-extended values decoded to UTF-8, names lower-case.
struct StructuredValue {
  std::string value;  // lower-case, e.g. "multipart/mixed" or "attachment"
  std::map<std::string, std::string> params;

  std::string Param(const std::string& name) const;
};
StructuredValue ParseStructuredValue(std::string_view raw);

// A leaf body part: where it is and how to decode it.
struct BodyPart {
  std::string_view content;
  std::string transfer_encoding;  // lower-case
  std::string charset;
};

// What a walk over an entity tree finds.
struct EntityStructure {
  std::string content_type;  // top level, lower-case "type/subtype"
  std::optional<BodyPart> text;
  std::optional<BodyPart> html;
  std::vector<AttachmentInfo> attachments;
};

// Walks `top` (the already split top-level entity) and its multipart children within `limits`.
EntityStructure WalkEntity(const HeaderBlock& top, const MimeLimits& limits);

// Decodes a body part's transfer encoding and charset to UTF-8.
std::string DecodeBodyPart(const BodyPart& part);

}  // namespace exo::mock_ews::internal
