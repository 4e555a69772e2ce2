#include "internal/mime_entity.hpp"

#include <algorithm>
#include <cstdlib>

#include "internal/text_codec.hpp"

namespace exo::mock_ews::internal {
namespace {

bool IsFieldNameChar(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b >= 33 && b <= 126 && c != ':';
}

// The line starting at `pos`: its content without CR/LF, and where the next line starts.
struct Line {
  std::string_view text;
  std::size_t next;
};
Line LineAt(std::string_view s, std::size_t pos) {
  const std::size_t eol = s.find('\n', pos);
  const std::size_t end = eol == std::string_view::npos ? s.size() : eol;
  std::string_view text = s.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {text, eol == std::string_view::npos ? s.size() : eol + 1};
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// One raw parameter segment: "name", optional RFC 2231 section number, whether it is extended
// ("*" suffix), and its value (unquoted).
struct ParamSegment {
  std::string name;
  int section = -1;
  bool extended = false;
  std::string value;
};

// Splits `s` at ';' outside quoted strings.
std::vector<std::string_view> SplitParams(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  ScanStructured(s, [&](std::size_t i, Lex lex, char c) {
    if (lex == Lex::kText && c == ';') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  });
  out.push_back(s.substr(start));
  return out;
}

std::string Unquote(std::string_view v) {
  v = TrimWhitespace(v);
  if (v.size() < 2 || v.front() != '"') return std::string(v);
  std::string out;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.push_back(v[++i]);
    } else if (v[i] == '"') {
      break;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// Removes RFC 822 comments "(...)" outside quoted strings, as Content-Type allows them.
std::string StripComments(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  ScanStructured(s, [&](std::size_t, Lex lex, char c) {
    if (lex == Lex::kText || lex == Lex::kQuoteMark) {
      out.push_back(c);
    } else if (lex == Lex::kQuoted) {
      if (c == '"' || c == '\\') out.push_back('\\');  // keep it quotable for Unquote
      out.push_back(c);
    }
  });
  return out;
}

bool IsWhitespaceOnly(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// Splits a multipart body into its parts' raw entities (RFC 2046 §5.1.1): a delimiter line is
// "--boundary" followed only by whitespace; "--boundary--" closes. The line break before a
// delimiter belongs to it. Parts after a missing close delimiter run to the end.
std::vector<std::string_view> SplitMultipart(std::string_view body, std::string_view boundary,
                                             std::size_t max_parts) {
  std::vector<std::string_view> parts;
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t part_start = std::string_view::npos;  // npos: still in the preamble
  std::size_t pos = 0;
  while (pos < body.size()) {
    const Line line = LineAt(body, pos);
    bool is_delimiter = false;
    bool is_close = false;
    if (line.text.size() >= delimiter.size() &&
        line.text.substr(0, delimiter.size()) == delimiter) {
      std::string_view rest = line.text.substr(delimiter.size());
      if (rest.size() >= 2 && rest.substr(0, 2) == "--") {
        is_delimiter = is_close = true;
      } else if (IsWhitespaceOnly(rest)) {
        is_delimiter = true;
      }
    }
    if (is_delimiter) {
      if (part_start != std::string_view::npos) {
        // The part ends before the line break that precedes this delimiter line.
        std::size_t end = pos;
        if (end > part_start && body[end - 1] == '\n') --end;
        if (end > part_start && body[end - 1] == '\r') --end;
        parts.push_back(body.substr(part_start, end - part_start));
        if (parts.size() >= max_parts) return parts;
      }
      if (is_close) return parts;
      part_start = line.next;
    }
    pos = line.next;
  }
  if (part_start != std::string_view::npos && part_start <= body.size()) {
    parts.push_back(body.substr(part_start));
  }
  return parts;
}

std::size_t DecodedSize(std::string_view content, const std::string& encoding) {
  if (encoding == "base64") return Base64DecodedSize(content);
  if (encoding == "quoted-printable") return DecodeQuotedPrintable(content, false).size();
  return content.size();
}

std::string StripAngles(std::string_view id) {
  id = TrimWhitespace(id);
  if (!id.empty() && id.front() == '<') id.remove_prefix(1);
  if (!id.empty() && id.back() == '>') id.remove_suffix(1);
  return SanitizeUtf8(StripControls(id, false));
}

struct Walker {
  const MimeLimits& limits;
  EntityStructure result;
  std::size_t parts_seen = 0;

  void Visit(const HeaderBlock& block, std::size_t depth, std::string_view parent_subtype) {
    const HeaderField* ct_field = block.Find("Content-Type");
    StructuredValue ct = ParseStructuredValue(ct_field ? std::string_view(ct_field->value) : "");
    if (ct.value.empty() || ct.value.find('/') == std::string::npos) ct.value = "text/plain";
    if (depth == 0) result.content_type = ct.value;
    const std::string type = ct.value.substr(0, ct.value.find('/'));

    const std::string boundary = ct.Param("boundary");
    if (type == "multipart" && !boundary.empty() && depth < limits.max_depth) {
      const std::string subtype = ct.value.substr(ct.value.find('/') + 1);
      const std::size_t budget = limits.max_parts > parts_seen ? limits.max_parts - parts_seen : 0;
      for (std::string_view part : SplitMultipart(block.body, boundary, budget)) {
        if (parts_seen >= limits.max_parts) return;
        ++parts_seen;
        const HeaderBlock child = SplitHeaders(part, /*skip_mbox_from=*/false, 1000);
        Visit(child, depth + 1, subtype);
      }
      return;
    }
    VisitLeaf(block, ct, type, parent_subtype);
  }

  void VisitLeaf(const HeaderBlock& block, const StructuredValue& ct, const std::string& type,
                 std::string_view parent_subtype) {
    const HeaderField* cd_field = block.Find("Content-Disposition");
    const StructuredValue cd =
        ParseStructuredValue(cd_field ? std::string_view(cd_field->value) : "");
    const HeaderField* cte_field = block.Find("Content-Transfer-Encoding");
    std::string encoding =
        cte_field ? AsciiLower(TrimWhitespace(StripComments(cte_field->value))) : "7bit";
    std::string name = cd.Param("filename");
    if (name.empty()) name = ct.Param("name");
    name = DecodeHeaderText(name);
    const bool disposition_attachment = cd.value == "attachment";
    const bool disposition_inline = cd.value == "inline";

    BodyPart part{block.body, encoding, ct.Param("charset")};
    const bool is_text_body = (ct.value == "text/plain" || ct.value == "text/html") &&
                              !disposition_attachment && name.empty();
    if (is_text_body) {
      // The first plain and the first HTML part are the bodies; later ones (footers that some
      // list servers append) belong to neither body nor attachments.
      auto& slot = ct.value == "text/plain" ? result.text : result.html;
      if (!slot) slot = part;
      return;
    }
    // A leaf that is not a body is an attachment: explicit disposition, a file name, an
    // encapsulated message or any non-text content.
    const bool is_attachment = disposition_attachment || !name.empty() || type != "text";
    if (!is_attachment) return;
    AttachmentInfo info;
    info.name = name;
    info.content_type = ct.value;
    const HeaderField* cid = block.Find("Content-ID");
    if (cid) info.content_id = StripAngles(cid->value);
    info.size = DecodedSize(block.body, encoding);
    // Inline: said so, or (without a disposition) referenced by Content-ID or inside
    // multipart/related, as an HTML body's images are.
    info.is_inline =
        disposition_inline || (!disposition_attachment && cd.value.empty() &&
                               (parent_subtype == "related" || !info.content_id.empty()));
    result.attachments.push_back(std::move(info));
  }
};

}  // namespace

const HeaderField* HeaderBlock::Find(std::string_view name) const {
  for (const auto& f : fields) {
    if (AsciiIEquals(f.name, name)) return &f;
  }
  return nullptr;
}

HeaderBlock SplitHeaders(std::string_view entity, bool skip_mbox_from, std::size_t max_fields) {
  HeaderBlock block;
  std::size_t pos = 0;
  if (skip_mbox_from && entity.substr(0, 5) == "From ") pos = LineAt(entity, 0).next;
  const std::size_t header_start = pos;
  bool in_field = false;  // the last line was a field we kept (continuations append to it)
  std::size_t field_count = 0;
  while (pos < entity.size()) {
    const Line line = LineAt(entity, pos);
    if (line.text.empty()) {
      block.body = entity.substr(line.next);
      return block;
    }
    const char first = line.text.front();
    if (first == ' ' || first == '\t') {
      if (field_count == 0) break;  // a continuation without a field: not a header block
      if (in_field) block.fields.back().value.append(line.text);
      pos = line.next;
      continue;
    }
    const std::size_t colon = line.text.find(':');
    std::string_view name =
        colon == std::string_view::npos ? std::string_view() : line.text.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), IsFieldNameChar);
    if (!valid) break;
    ++field_count;
    in_field = block.fields.size() < max_fields;
    if (in_field) {
      std::string_view value = line.text.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      block.fields.push_back({name, std::string(value)});
    }
    pos = line.next;
  }
  // No blank line: what follows the fields (or everything, when no field came first) is body.
  block.body = entity.substr(field_count == 0 ? header_start : pos);
  return block;
}

std::string StructuredValue::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

StructuredValue ParseStructuredValue(std::string_view raw) {
  StructuredValue out;
  const std::string cleaned = StripComments(raw);
  std::vector<std::string_view> pieces = SplitParams(cleaned);
  out.value = SanitizeUtf8(StripControls(AsciiLower(TrimWhitespace(pieces.front())), false));
  // Strip whitespace inside "type / subtype" written with spaces.
  out.value.erase(std::remove_if(out.value.begin(), out.value.end(),
                                 [](char c) { return c == ' ' || c == '\t'; }),
                  out.value.end());

  std::vector<ParamSegment> segments;
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    std::string_view piece = TrimWhitespace(pieces[i]);
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key = AsciiLower(TrimWhitespace(piece.substr(0, eq)));
    ParamSegment seg;
    seg.value = Unquote(piece.substr(eq + 1));
    if (!key.empty() && key.back() == '*') {
      seg.extended = true;
      key.pop_back();
    }
    const std::size_t star = key.find('*');
    if (star != std::string::npos) {
      const std::string digits = key.substr(star + 1);
      key.resize(star);
      if (digits.empty() || digits.size() > 3 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        continue;
      }
      seg.section = std::atoi(digits.c_str());
    }
    if (key.empty()) continue;
    seg.name = std::move(key);
    segments.push_back(std::move(seg));
  }

  // Plain parameters first; RFC 2231 forms (name*=, name*0=, name*1*=...) override them.
  std::map<std::string, std::vector<const ParamSegment*>> continued;
  for (const auto& seg : segments) {
    if (seg.section < 0 && !seg.extended) {
      out.params.emplace(seg.name, seg.value);
    } else {
      continued[seg.name].push_back(&seg);
    }
  }
  for (auto& [name, segs] : continued) {
    std::stable_sort(segs.begin(), segs.end(), [](const ParamSegment* a, const ParamSegment* b) {
      return a->section < b->section;
    });
    std::string charset;
    std::string bytes;
    for (std::size_t k = 0; k < segs.size(); ++k) {
      std::string_view v = segs[k]->value;
      if (segs[k]->extended) {
        if (k == 0) {
          // charset'language'encoded-text
          const std::size_t q1 = v.find('\'');
          const std::size_t q2 =
              q1 == std::string_view::npos ? std::string_view::npos : v.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = std::string(v.substr(0, q1));
            v = v.substr(q2 + 1);
          }
        }
        bytes += PercentDecode(v);
      } else {
        bytes += v;
      }
    }
    out.params[name] = charset.empty() ? SanitizeUtf8(bytes) : ToUtf8(bytes, charset);
  }
  return out;
}

EntityStructure WalkEntity(const HeaderBlock& top, const MimeLimits& limits) {
  Walker walker{limits, {}, 0};
  walker.Visit(top, 0, "");
  return std::move(walker.result);
}

std::string DecodeBodyPart(const BodyPart& part) {
  std::string bytes;
  if (part.transfer_encoding == "base64") {
    bytes = DecodeBase64Lenient(part.content);
  } else if (part.transfer_encoding == "quoted-printable") {
    bytes = DecodeQuotedPrintable(part.content, false);
  } else {
    bytes = std::string(part.content);
  }
  return StripControls(ToUtf8(bytes, part.charset), /*keep_line_breaks=*/true);
}

}  // namespace exo::mock_ews::internal
