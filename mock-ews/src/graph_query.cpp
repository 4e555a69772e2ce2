// The Graph facade's ids, error values and OData query options ($select, $filter, $orderby).
#include <algorithm>
#include <cctype>
#include <memory>

#include "exo/common/time_format.hpp"
#include "internal/graph_ops.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews::graph {

using internal::AsciiIEquals;
using internal::AsciiLower;

// ---- Ids ----

std::string ToGraphId(std::string_view store_id) {
  std::string out(store_id);
  for (char& c : out) {
    if (c == '+') c = '_';
    if (c == '/') c = '-';
  }
  return out;
}

std::optional<std::string> FromGraphId(std::string_view graph_id) {
  std::string out(graph_id);
  for (char& c : out) {
    if (c == '+' || c == '/') return std::nullopt;
    if (c == '_') c = '+';
    if (c == '-') c = '/';
  }
  return out;
}

// ---- Answers ----

GraphError BadRequest(std::string message) {
  return GraphError{400, "BadRequest", std::move(message), {}};
}

GraphError FromStoreError(const Error& e) {
  return GraphError{e.category == ErrorCategory::kNotFound ? 404 : 400, e.code, e.message, {}};
}

GraphReply GraphReply::Json(ojson body, int status) {
  GraphReply r;
  r.status = status;
  r.json = std::move(body);
  return r;
}

GraphReply GraphReply::Empty(int status) {
  GraphReply r;
  r.status = status;
  return r;
}

GraphReply GraphReply::Fail(GraphError e) {
  GraphReply r;
  r.status = e.status;
  r.error = std::move(e);
  return r;
}

// ---- Query strings ----

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Query ParseQuery(std::string_view raw) {
  Query q;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    std::size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    const std::string_view pair = raw.substr(pos, amp - pos);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      const std::string_view name = pair.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      q.params.emplace_back(PercentDecode(name, true), PercentDecode(value, true));
    }
    pos = amp + 1;
  }
  return q;
}

std::optional<std::string> Query::Get(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (AsciiIEquals(k, name)) return v;
  }
  return std::nullopt;
}

// ---- Properties ----

namespace {

// The message properties in the order Graph writes them (message-get.md's example), which is
// also the order of a $select answer.
const std::vector<std::string>& MessageProperties() {
  static const std::vector<std::string> kProperties = {
      "createdDateTime",
      "lastModifiedDateTime",
      "changeKey",
      "categories",
      "receivedDateTime",
      "sentDateTime",
      "hasAttachments",
      "internetMessageId",
      "subject",
      "bodyPreview",
      "importance",
      "parentFolderId",
      "conversationId",
      "isDeliveryReceiptRequested",
      "isReadReceiptRequested",
      "isRead",
      "isDraft",
      "webLink",
      "inferenceClassification",
      "body",
      "sender",
      "from",
      "toRecipients",
      "ccRecipients",
      "bccRecipients",
      "replyTo",
      "flag",
  };
  return kProperties;
}

std::optional<std::string> CanonicalProperty(std::string_view name) {
  if (AsciiIEquals(name, "id")) return std::string("id");
  for (const std::string& p : MessageProperties()) {
    if (AsciiIEquals(p, name)) return p;
  }
  return std::nullopt;
}

std::string Trim(std::string_view s) { return std::string(internal::TrimWhitespace(s)); }

GraphError UnknownProperty(std::string_view name) {
  return GraphError{400,
                    "RequestBroker--ParseUri",
                    "Could not find a property named '" + std::string(name) +
                        "' on type 'microsoft.graph.message'.",
                    {}};
}

}  // namespace

std::optional<GraphError> ParseSelect(std::string_view text, Selection& out) {
  out.clear();
  std::vector<std::string> wanted;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string name = Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (name.empty()) continue;
    auto canonical = CanonicalProperty(name);
    if (!canonical) return UnknownProperty(name);
    if (*canonical != "id") wanted.push_back(*canonical);
  }
  for (const std::string& p : MessageProperties()) {
    if (std::find(wanted.begin(), wanted.end(), p) != wanted.end()) out.push_back(p);
  }
  // $select=id alone: only the id (and the etag) come back.
  if (out.empty() && !internal::TrimWhitespace(text).empty()) out.push_back("id");
  return std::nullopt;
}

// ---- $filter ----

namespace {

enum class Cmp { kEq, kNe, kGt, kGe, kLt, kLe };

// A literal of the filter: a boolean, a string, a date-time, null.
struct Literal {
  enum class Kind { kBool, kString, kDateTime, kNull } kind = Kind::kNull;
  bool b = false;
  std::string s;
  SystemTime t{};
};

// The value of a filterable property on an item, in the literal's terms.
struct Value {
  enum class Kind { kBool, kString, kDateTime, kNull } kind = Kind::kNull;
  bool b = false;
  std::string s;
  SystemTime t{};
};

const char* ImportanceText(Importance i) {
  switch (i) {
    case Importance::kLow:
      return "low";
    case Importance::kHigh:
      return "high";
    default:
      return "normal";
  }
}

// Filterable properties: canonical name -> value getter.
std::optional<std::pair<std::string, std::function<Value(const Item&)>>> FilterProperty(
    std::string_view name) {
  auto boolean = [](bool v) { return Value{Value::Kind::kBool, v, {}, {}}; };
  auto text = [](std::string v) { return Value{Value::Kind::kString, false, std::move(v), {}}; };
  auto time = [](SystemTime v) { return Value{Value::Kind::kDateTime, false, {}, v}; };
  const std::string n = AsciiLower(name);
  if (n == "isread") return {{"isRead", [=](const Item& i) { return boolean(i.is_read); }}};
  if (n == "isdraft") return {{"isDraft", [=](const Item& i) { return boolean(i.is_draft); }}};
  if (n == "hasattachments") {
    return {{"hasAttachments", [=](const Item& i) { return boolean(i.fields.has_attachments); }}};
  }
  if (n == "receiveddatetime") {
    return {{"receivedDateTime", [=](const Item& i) { return time(i.date_time_received); }}};
  }
  if (n == "createddatetime") {
    return {{"createdDateTime", [=](const Item& i) { return time(i.date_time_created); }}};
  }
  if (n == "lastmodifieddatetime") {
    return {{"lastModifiedDateTime", [=](const Item& i) {
               return time(std::max(i.date_time_created, i.date_time_received));
             }}};
  }
  if (n == "sentdatetime") {
    return {{"sentDateTime",
             [=](const Item& i) { return time(i.fields.date.value_or(i.date_time_received)); }}};
  }
  if (n == "subject") return {{"subject", [=](const Item& i) { return text(i.fields.subject); }}};
  if (n == "importance") {
    return {{"importance", [=](const Item& i) { return text(ImportanceText(i.importance)); }}};
  }
  if (n == "from/emailaddress/address") {
    return {{"from", [=](const Item& i) {
               return i.fields.from ? text(i.fields.from->address) : Value{};
             }}};
  }
  if (n == "sender/emailaddress/address") {
    return {{"sender", [=](const Item& i) {
               const auto& s = i.fields.sender ? i.fields.sender : i.fields.from;
               return s ? text(s->address) : Value{};
             }}};
  }
  return std::nullopt;
}

bool Compare(const Value& v, Cmp op, const Literal& lit) {
  int order = 0;
  if (lit.kind == Literal::Kind::kNull) {
    const bool is_null = v.kind == Value::Kind::kNull;
    return op == Cmp::kEq ? is_null : op == Cmp::kNe ? !is_null : false;
  }
  if (v.kind == Value::Kind::kNull) return op == Cmp::kNe;
  switch (lit.kind) {
    case Literal::Kind::kBool:
      order = static_cast<int>(v.b) - static_cast<int>(lit.b);
      break;
    case Literal::Kind::kString: {
      // Exchange compares strings without regard to case.
      const std::string a = AsciiLower(v.s), b = AsciiLower(lit.s);
      order = a < b ? -1 : (a > b ? 1 : 0);
      break;
    }
    case Literal::Kind::kDateTime:
      order = v.t < lit.t ? -1 : (v.t > lit.t ? 1 : 0);
      break;
    case Literal::Kind::kNull:
      break;
  }
  switch (op) {
    case Cmp::kEq:
      return order == 0;
    case Cmp::kNe:
      return order != 0;
    case Cmp::kGt:
      return order > 0;
    case Cmp::kGe:
      return order >= 0;
    case Cmp::kLt:
      return order < 0;
    case Cmp::kLe:
      return order <= 0;
  }
  return false;
}

using Predicate = std::function<bool(const Item&)>;

// A recursive-descent parser of the filter grammar; errors carry the position (1-based, as the
// service reports it) of the token that failed.
class FilterParser {
 public:
  explicit FilterParser(std::string_view text) : text_(text) {}

  std::optional<GraphError> Parse(ItemFilter& out) {
    Predicate p;
    if (auto e = Or(p)) return e;
    SkipSpace();
    if (pos_ != text_.size()) return SyntaxError();
    out.matches = std::move(p);
    out.properties = std::move(properties_);
    return std::nullopt;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  // The next word (letters, digits, '/', '.', ':', '-', '+'), without consuming it.
  std::string_view PeekWord() {
    SkipSpace();
    std::size_t end = pos_;
    while (end < text_.size()) {
      const char c = text_[end];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == ':' ||
          c == '-' || c == '+' || c == '_') {
        ++end;
      } else {
        break;
      }
    }
    return text_.substr(pos_, end - pos_);
  }
  bool Keyword(std::string_view word) {
    const std::string_view w = PeekWord();
    if (!AsciiIEquals(w, word)) return false;
    pos_ += w.size();
    return true;
  }
  GraphError SyntaxError() {
    return BadRequest("Invalid filter clause: Syntax error at position " +
                      std::to_string(std::min(pos_, text_.size()) + 1) + " in '" +
                      std::string(text_) + "'.");
  }

  std::optional<GraphError> Or(Predicate& out) {
    Predicate left;
    if (auto e = And(left)) return e;
    while (Keyword("or")) {
      Predicate right;
      if (auto e = And(right)) return e;
      left = [l = std::move(left), r = std::move(right)](const Item& i) { return l(i) || r(i); };
    }
    out = std::move(left);
    return std::nullopt;
  }
  std::optional<GraphError> And(Predicate& out) {
    Predicate left;
    if (auto e = Unary(left)) return e;
    while (Keyword("and")) {
      Predicate right;
      if (auto e = Unary(right)) return e;
      left = [l = std::move(left), r = std::move(right)](const Item& i) { return l(i) && r(i); };
    }
    out = std::move(left);
    return std::nullopt;
  }
  std::optional<GraphError> Unary(Predicate& out) {
    if (Keyword("not")) {
      Predicate inner;
      if (auto e = Unary(inner)) return e;
      out = [in = std::move(inner)](const Item& i) { return !in(i); };
      return std::nullopt;
    }
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      if (auto e = Or(out)) return e;
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return SyntaxError();
      ++pos_;
      return std::nullopt;
    }
    return Comparison(out);
  }
  std::optional<GraphError> Comparison(Predicate& out) {
    const std::string_view name = PeekWord();
    if (name.empty()) return SyntaxError();
    auto property = FilterProperty(name);
    if (!property) {
      return BadRequest("Invalid filter clause: Could not find a property named '" +
                        std::string(name) + "' on type 'microsoft.graph.message'.");
    }
    pos_ += name.size();
    properties_.push_back(property->first);
    const std::string_view op_word = PeekWord();
    static const std::pair<const char*, Cmp> kOps[] = {{"eq", Cmp::kEq}, {"ne", Cmp::kNe},
                                                       {"gt", Cmp::kGt}, {"ge", Cmp::kGe},
                                                       {"lt", Cmp::kLt}, {"le", Cmp::kLe}};
    std::optional<Cmp> op;
    for (const auto& [word, cmp] : kOps) {
      if (AsciiIEquals(op_word, word)) op = cmp;
    }
    if (!op) return SyntaxError();
    pos_ += op_word.size();
    Literal lit;
    if (auto e = ParseLiteral(lit)) return e;
    out = [get = property->second, cmp = *op, lit](const Item& i) {
      return Compare(get(i), cmp, lit);
    };
    return std::nullopt;
  }
  std::optional<GraphError> ParseLiteral(Literal& lit) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      std::string s;
      for (++pos_; pos_ < text_.size(); ++pos_) {
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {  // '' is a quote
            s.push_back('\'');
            ++pos_;
            continue;
          }
          ++pos_;
          lit.kind = Literal::Kind::kString;
          lit.s = std::move(s);
          return std::nullopt;
        }
        s.push_back(text_[pos_]);
      }
      return SyntaxError();
    }
    const std::string_view word = PeekWord();
    if (word.empty()) return SyntaxError();
    if (AsciiIEquals(word, "true") || AsciiIEquals(word, "false")) {
      lit.kind = Literal::Kind::kBool;
      lit.b = AsciiIEquals(word, "true");
    } else if (AsciiIEquals(word, "null")) {
      lit.kind = Literal::Kind::kNull;
    } else if (auto t = ParseIso8601(word); t && word.find('T') != std::string_view::npos) {
      lit.kind = Literal::Kind::kDateTime;
      lit.t = *t;
    } else {
      return SyntaxError();
    }
    pos_ += word.size();
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<std::string> properties_;
};

}  // namespace

std::optional<GraphError> ParseFilter(std::string_view text, ItemFilter& out) {
  out = {};
  if (internal::TrimWhitespace(text).empty()) return std::nullopt;
  return FilterParser(text).Parse(out);
}

// ---- $orderby ----

std::optional<GraphError> ParseOrderBy(std::string_view text, std::vector<SortKey>& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string clause = Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (clause.empty()) continue;
    const std::size_t space = clause.find(' ');
    const std::string name = clause.substr(0, space);
    const std::string direction =
        space == std::string::npos ? std::string() : AsciiLower(Trim(clause.substr(space)));
    if (!direction.empty() && direction != "asc" && direction != "desc") {
      return BadRequest("Syntax error at position " + std::to_string(space + 2) + " in '" +
                        std::string(text) + "'.");
    }
    auto property = FilterProperty(name);
    if (!property) return UnknownProperty(name);
    out.push_back({property->first, direction == "desc"});
  }
  return std::nullopt;
}

bool SortsBefore(const Item& a, const Item& b, const std::vector<SortKey>& keys) {
  for (const SortKey& k : keys) {
    auto property = FilterProperty(k.property == "from"     ? "from/emailAddress/address"
                                   : k.property == "sender" ? "sender/emailAddress/address"
                                                            : k.property);
    if (!property) continue;
    const Value va = property->second(a), vb = property->second(b);
    int order = 0;
    if (va.kind == Value::Kind::kDateTime) {
      order = va.t < vb.t ? -1 : (va.t > vb.t ? 1 : 0);
    } else if (va.kind == Value::Kind::kBool) {
      order = static_cast<int>(va.b) - static_cast<int>(vb.b);
    } else {
      const std::string x = AsciiLower(va.s), y = AsciiLower(vb.s);
      order = x < y ? -1 : (x > y ? 1 : 0);
    }
    if (order != 0) return k.descending ? order > 0 : order < 0;
  }
  if (a.date_time_received != b.date_time_received) {
    return a.date_time_received > b.date_time_received;
  }
  return a.date_time_created > b.date_time_created;
}

}  // namespace exo::mock_ews::graph
