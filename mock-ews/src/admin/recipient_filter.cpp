#include "internal/recipient_filter.hpp"

#include <array>
#include <cctype>
#include <optional>

#include "exo/mock_ews/exchange_admin.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews::admin_internal {

namespace {

using internal::AsciiIEquals;
using internal::AsciiLower;

struct Token {
  enum class Kind { kOpen, kClose, kOperator, kWord, kString, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;          // operators: lower-case without '-'
  std::size_t position = 0;  // 1-based, as Exchange reports it
};

bool IsKnownProperty(const std::string& lower) {
  static const std::array<const char*, 6> kNames = {
      "memberofgroup",       "name", "alias", "displayname", "primarysmtpaddress",
      "recipienttypedetails"};
  for (const char* n : kNames) {
    if (lower == n) return true;
  }
  if (lower.starts_with("customattribute")) {
    const std::string digits = lower.substr(15);
    if (digits.empty() || digits.size() > 2) return false;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    const int n = std::stoi(digits);
    return n >= 1 && n <= 15 && digits[0] != '0';
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::shared_ptr<const RecipientFilter>> Parse() {
    if (!Tokenize()) return SyntaxError(error_at_);
    if (tokens_.size() == 1) return SyntaxError(1);
    auto expr = Expression();
    if (!expr) return std::unexpected(expr.error());
    if (Peek().kind != Token::Kind::kEnd) return SyntaxError(Peek().position);
    return expr;
  }

 private:
  std::unexpected<Error> SyntaxError(std::size_t position) const {
    // Exchange's text for a filter it cannot parse [infer: the position it counts].
    return Fail(ErrorCategory::kConfiguration, admin_codes::kFilterInvalid,
                "Invalid filter syntax. For a description of the filter parameter syntax see the "
                "command help.\n\"" +
                    std::string(text_) + "\" at position " + std::to_string(position) + ".",
                "write the filter as <Property> -eq '<value>', joined with -and / -or");
  }

  bool Tokenize() {
    std::size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.position = i + 1;
      if (c == '(' || c == ')') {
        t.kind = c == '(' ? Token::Kind::kOpen : Token::Kind::kClose;
        ++i;
      } else if (c == '\'' || c == '"') {
        // PowerShell doubles the quote to escape it.
        t.kind = Token::Kind::kString;
        ++i;
        bool closed = false;
        while (i < text_.size()) {
          if (text_[i] == c) {
            if (i + 1 < text_.size() && text_[i + 1] == c) {
              t.text += c;
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          t.text += text_[i++];
        }
        if (!closed) {
          error_at_ = t.position;
          return false;
        }
      } else {
        const std::size_t start = i;
        while (i < text_.size() && !std::isspace(static_cast<unsigned char>(text_[i])) &&
               text_[i] != '(' && text_[i] != ')') {
          ++i;
        }
        t.text = std::string(text_.substr(start, i - start));
        t.kind = t.text[0] == '-' ? Token::Kind::kOperator : Token::Kind::kWord;
        if (t.kind == Token::Kind::kOperator) t.text = AsciiLower(t.text.substr(1));
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.position = text_.size() + 1;
    tokens_.push_back(end);
    return true;
  }

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  Result<std::shared_ptr<const RecipientFilter>> Expression() {
    auto left = Term();
    if (!left) return left;
    // PowerShell gives -and and -or the same precedence, left to right.
    while (Peek().kind == Token::Kind::kOperator && (Peek().text == "and" || Peek().text == "or")) {
      auto node = std::make_shared<RecipientFilter>();
      node->op = Next().text == "and" ? RecipientFilter::Op::kAnd : RecipientFilter::Op::kOr;
      auto right = Term();
      if (!right) return right;
      node->children = {*left, *right};
      left = node;
    }
    return left;
  }

  Result<std::shared_ptr<const RecipientFilter>> Term() {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kOperator && t.text == "not") {
      Next();
      auto inner = Term();
      if (!inner) return inner;
      auto node = std::make_shared<RecipientFilter>();
      node->op = RecipientFilter::Op::kNot;
      node->children = {*inner};
      return node;
    }
    if (t.kind == Token::Kind::kOpen) {
      Next();
      auto inner = Expression();
      if (!inner) return inner;
      if (Peek().kind != Token::Kind::kClose) return SyntaxError(Peek().position);
      Next();
      return inner;
    }
    if (t.kind != Token::Kind::kWord) return SyntaxError(t.position);
    const Token property = Next();
    const std::string lower = AsciiLower(property.text);
    if (!IsKnownProperty(lower)) {
      // [infer] Exchange names the property it does not know.
      return Fail(ErrorCategory::kConfiguration, admin_codes::kFilterInvalid,
                  "\"" + property.text + "\" is not a recognized filterable property.",
                  "filter on MemberOfGroup, CustomAttribute1-15, Name, Alias, DisplayName, "
                  "PrimarySmtpAddress or RecipientTypeDetails");
    }
    const Token& op = Next();
    std::optional<RecipientFilter::Op> which;
    if (op.kind == Token::Kind::kOperator) {
      if (op.text == "eq") which = RecipientFilter::Op::kEq;
      if (op.text == "ne") which = RecipientFilter::Op::kNe;
      if (op.text == "like") which = RecipientFilter::Op::kLike;
      if (op.text == "notlike") which = RecipientFilter::Op::kNotLike;
    }
    if (!which) return SyntaxError(op.position);
    const Token& value = Next();
    if (value.kind != Token::Kind::kString && value.kind != Token::Kind::kWord) {
      return SyntaxError(value.position);
    }
    auto node = std::make_shared<RecipientFilter>();
    node->op = *which;
    node->property = lower;
    node->value = value.text;
    return node;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::size_t error_at_ = 1;
};

bool WildcardMatch(std::string_view pattern, std::string_view s) {
  // Iterative '*' matching with one backtrack point, case-insensitive.
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] != '*' && eq(pattern[p], s[i])) {
      ++p;
      ++i;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

Result<std::shared_ptr<const RecipientFilter>> ParseRecipientFilter(std::string_view text) {
  return Parser(text).Parse();
}

bool Matches(const RecipientFilter& filter, const PropertyValues& values) {
  using Op = RecipientFilter::Op;
  switch (filter.op) {
    case Op::kAnd:
      return Matches(*filter.children[0], values) && Matches(*filter.children[1], values);
    case Op::kOr:
      return Matches(*filter.children[0], values) || Matches(*filter.children[1], values);
    case Op::kNot:
      return !Matches(*filter.children[0], values);
    default:
      break;
  }
  const std::vector<std::string> have = values(filter.property);
  bool any = false;
  for (const std::string& v : have) {
    const bool like = filter.op == Op::kLike || filter.op == Op::kNotLike;
    if (like ? WildcardMatch(filter.value, v) : AsciiIEquals(filter.value, v)) any = true;
  }
  // An absent single value compares as empty, so "CustomAttribute1 -eq ''" matches it.
  if (have.empty() && filter.value.empty()) any = true;
  return filter.op == Op::kEq || filter.op == Op::kLike ? any : !any;
}

}  // namespace exo::mock_ews::admin_internal
