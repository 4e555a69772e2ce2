#include "exo/exo_admin/powershell.hpp"

#include <cctype>
#include <charconv>
#include <string_view>

namespace exo::admin {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWithContinuation(const std::string& line) {
  std::string_view v = line;
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  return !v.empty() && v.back() == '`';
}

namespace {

bool IsLetter(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Parses a number the way argument mode reads one: the whole word must be numeric.
std::optional<Value> AsNumber(const std::string& word) {
  if (word.empty()) return std::nullopt;
  long long i = 0;
  auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), i);
  if (ec == std::errc() && p == word.data() + word.size()) return Value(i);
  double d = 0;
  auto [q, ec2] = std::from_chars(word.data(), word.data() + word.size(), d);
  if (ec2 == std::errc() && q == word.data() + word.size() && std::isdigit(static_cast<unsigned char>(word.back()))) {
    return Value(d);
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(const std::string& src) : s_(src) {}

  ParseResult Run() {
    ParseResult out;
    while (true) {
      SkipSpace(/*newlines=*/true);
      while (Peek() == ';') {
        ++pos_;
        SkipSpace(true);
      }
      if (AtEnd()) break;
      auto st = ParseStatement();
      if (error_) break;
      out.statements.push_back(std::move(*st));
      SkipSpace(false);
      if (AtEnd() || Peek() == ';' || Peek() == '\n') continue;
      if (Peek() == '|') {
        Fail("exo-admin runs one command per statement; pipelines ('|') are not supported.",
             "PipelineNotSupported", pos_);
      } else {
        Fail("Unexpected token '" + WordAt(pos_) + "' in expression or statement.",
             "UnexpectedToken", pos_);
      }
      break;
    }
    out.error = error_;
    if (error_) out.statements.clear();
    return out;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }

  // Length of a dash at `at`: '-', or the en/em dashes text copied from web pages carries, which
  // PowerShell accepts as parameter dashes too.
  std::size_t DashAt(std::size_t at) const {
    if (at < s_.size() && s_[at] == '-') return 1;
    if (at + 2 < s_.size() && static_cast<unsigned char>(s_[at]) == 0xE2 &&
        static_cast<unsigned char>(s_[at + 1]) == 0x80 &&
        (static_cast<unsigned char>(s_[at + 2]) == 0x93 ||
         static_cast<unsigned char>(s_[at + 2]) == 0x94)) {
      return 3;
    }
    return 0;
  }
  // Typographic quotes count as their ASCII forms, as in PowerShell: returns '"', '\'' or 0 and
  // the byte length.
  std::pair<char, std::size_t> QuoteAt(std::size_t at) const {
    if (at >= s_.size()) return {0, 0};
    if (s_[at] == '"' || s_[at] == '\'') return {s_[at], 1};
    if (at + 2 < s_.size() && static_cast<unsigned char>(s_[at]) == 0xE2 &&
        static_cast<unsigned char>(s_[at + 1]) == 0x80) {
      const auto c = static_cast<unsigned char>(s_[at + 2]);
      if (c == 0x9C || c == 0x9D || c == 0x9E) return {'"', 3};
      if (c == 0x98 || c == 0x99 || c == 0x9A) return {'\'', 3};
    }
    return {0, 0};
  }

  void Fail(std::string message, std::string id, std::size_t at, bool incomplete = false) {
    if (error_) return;
    error_ = ParseError{std::move(message), std::move(id), at, incomplete};
  }

  std::string WordAt(std::size_t at) const {
    std::size_t end = at + 1;
    while (end < s_.size() && !std::isspace(static_cast<unsigned char>(s_[end]))) ++end;
    return s_.substr(at, end - at);
  }

  // Skips blanks, backtick continuations and comments; line breaks too when `newlines`.
  void SkipSpace(bool newlines) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '`' && (Peek(1) == '\n' || (Peek(1) == '\r' && Peek(2) == '\n'))) {
        pos_ += Peek(1) == '\n' ? 2 : 3;
      } else if (c == '`' && pos_ + 1 == s_.size()) {
        ++pos_;  // a continuation with the next line not yet read
      } else if (c == '\n' && newlines) {
        ++pos_;
      } else if (c == '<' && Peek(1) == '#') {
        const auto end = s_.find("#>", pos_ + 2);
        if (end == std::string::npos) {
          Fail("Missing closing '#>' of a block comment.", "MissingEndOfBlockComment", pos_,
               true);
          pos_ = s_.size();
          return;
        }
        pos_ = end + 2;
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  bool EndsElement(char c) const {
    return c == '\0' || c == ';' || c == '\n' || c == '|' || c == ')' || c == '}';
  }

  // A statement that starts with a bare word is a command in PowerShell, even `$x = true`.
  bool CommandStartsHere() const { return IsLetter(Peek()); }

  std::optional<Statement> ParseStatement() {
    Statement st;
    st.offset = pos_;
    if (Peek() == '$' && (IsLetter(Peek(1)) || Peek(1) == '{')) {
      const std::size_t save = pos_;
      ++pos_;
      std::string name = ReadVariableName();
      SkipSpace(false);
      if (Peek() == '=' && Peek(1) != '=') {
        ++pos_;
        st.assign_to = name;
        SkipSpace(false);
        if (AtEnd() || Peek() == '\n' || Peek() == ';') {
          Fail("You must provide a value expression following the '=' operator.",
               "ExpectedValueExpression", pos_, AtEnd());
          return std::nullopt;
        }
      } else {
        pos_ = save;
      }
    }
    if (CommandStartsHere()) {
      auto cmd = ParseCommand();
      if (!cmd) return std::nullopt;
      st.command = std::move(*cmd);
    } else {
      auto e = ParseArgument();
      if (!e) return std::nullopt;
      st.expression = std::move(*e);
    }
    st.length = pos_ - st.offset;
    return st;
  }

  std::optional<Command> ParseCommand() {
    Command cmd;
    cmd.offset = pos_;
    while (!AtEnd() && !std::isspace(static_cast<unsigned char>(Peek())) &&
           !EndsElement(Peek()) && Peek() != '(' && Peek() != '{' && Peek() != ',') {
      cmd.name += Peek();
      ++pos_;
    }
    while (true) {
      SkipSpace(false);
      if (error_) return std::nullopt;
      if (EndsElement(Peek())) break;
      CommandElement el;
      el.offset = pos_;
      const std::size_t dash = DashAt(pos_);
      if (dash > 0 && (IsLetter(Peek(dash)) || Peek(dash) == '?')) {
        el.is_parameter = true;
        pos_ += dash;
        while (!AtEnd()) {
          const char c = Peek();
          if (std::isspace(static_cast<unsigned char>(c)) || c == ':' || EndsElement(c) ||
              c == '(' || c == '{' || c == ',' || QuoteAt(pos_).first != 0) {
            break;
          }
          el.name += c;
          ++pos_;
        }
        if (Peek() == ':') {
          ++pos_;
          SkipSpace(false);
          if (EndsElement(Peek())) {
            Fail("Missing an argument after '-" + el.name + ":'.", "ParameterRequiresArgument",
                 pos_);
            return std::nullopt;
          }
          auto v = ParseArgument();
          if (!v) return std::nullopt;
          el.colon_value = std::move(*v);
        }
      } else {
        auto v = ParseArgument();
        if (!v) return std::nullopt;
        el.argument = std::move(*v);
      }
      el.length = pos_ - el.offset;
      cmd.elements.push_back(std::move(el));
    }
    cmd.length = pos_ - cmd.offset;
    return cmd;
  }

  // A primary, or several joined by commas into an array.
  std::optional<Expr> ParseArgument() {
    const std::size_t start = pos_;
    auto first = ParsePrimary();
    if (!first) return std::nullopt;
    std::vector<Expr> items;
    items.push_back(std::move(*first));
    while (true) {
      const std::size_t save = pos_;
      SkipSpace(false);
      if (Peek() != ',') {
        pos_ = save;
        break;
      }
      ++pos_;
      SkipSpace(true);
      if (AtEnd()) {
        Fail("Missing expression after ','.", "MissingExpressionAfterToken", pos_, true);
        return std::nullopt;
      }
      auto next = ParsePrimary();
      if (!next) return std::nullopt;
      items.push_back(std::move(*next));
    }
    if (items.size() == 1) return std::move(items.front());
    Expr arr;
    arr.kind = Expr::Kind::kArray;
    arr.items = std::move(items);
    arr.offset = start;
    arr.length = pos_ - start;
    return arr;
  }

  std::string ReadVariableName() {
    std::string name;
    if (Peek() == '{') {
      ++pos_;
      while (!AtEnd() && Peek() != '}') name += s_[pos_++];
      if (Peek() == '}') ++pos_;
      return name;
    }
    while (!AtEnd() && (IsNameChar(Peek()) || Peek() == '?')) name += s_[pos_++];
    // Scope and drive qualifiers ($env:NAME, $global:x).
    if (Peek() == ':' && IsLetter(Peek(1)) &&
        (IEquals(name, "env") || IEquals(name, "global") || IEquals(name, "script") ||
         IEquals(name, "local"))) {
      name += s_[pos_++];
      while (!AtEnd() && IsNameChar(Peek())) name += s_[pos_++];
    }
    return name;
  }

  bool ParseMembers(Expr& e) {
    while (Peek() == '.' && IsLetter(Peek(1))) {
      ++pos_;
      std::string m;
      while (!AtEnd() && IsNameChar(Peek())) m += s_[pos_++];
      if (Peek() == '(') {
        Fail("exo-admin does not call .NET methods ('." + m + "(...)').", "MethodNotSupported",
             pos_);
        return false;
      }
      e.members.push_back(std::move(m));
    }
    return true;
  }

  std::optional<Expr> ParsePrimary() {
    Expr e;
    e.offset = pos_;
    const auto [quote, qlen] = QuoteAt(pos_);
    if (quote == '"') {
      if (!ParseExpandable(e, qlen)) return std::nullopt;
    } else if (quote == '\'') {
      if (!ParseVerbatim(e, qlen)) return std::nullopt;
    } else if (Peek() == '$' && Peek(1) == '(') {
      pos_ += 2;
      if (!ParseParenthesised(e)) return std::nullopt;
    } else if (Peek() == '$' && (IsLetter(Peek(1)) || Peek(1) == '{' || Peek(1) == '?')) {
      ++pos_;
      const std::string name = ReadVariableName();
      if (IEquals(name, "true") || IEquals(name, "false")) {
        e.literal = IEquals(name, "true");
      } else if (IEquals(name, "null")) {
        e.literal = nullptr;
      } else {
        e.kind = Expr::Kind::kVariable;
        e.variable = name;
      }
      if (!ParseMembers(e)) return std::nullopt;
      if (e.kind == Expr::Kind::kLiteral && !e.members.empty()) e.members.clear();
    } else if (Peek() == '@' && Peek(1) == '{') {
      pos_ += 2;
      if (!ParseHashtable(e)) return std::nullopt;
    } else if (Peek() == '@' && Peek(1) == '(') {
      pos_ += 2;
      if (!ParseArraySubexpression(e)) return std::nullopt;
    } else if (Peek() == '@' && (Peek(1) == '"' || Peek(1) == '\'')) {
      Fail("exo-admin does not read here-strings (@\" \"@); use a quoted string.",
           "HereStringNotSupported", pos_);
      return std::nullopt;
    } else if (Peek() == '(') {
      ++pos_;
      if (!ParseParenthesised(e)) return std::nullopt;
    } else if (Peek() == '<' && Peek(1) != '#') {
      // Placeholders copied from instructions ("-AppId <APPLICATION_ID>") are redirections to
      // PowerShell, which refuses them before running anything.
      Fail("The '<' operator is reserved for future use.", "RedirectionNotSupported", pos_);
      return std::nullopt;
    } else if (EndsElement(Peek()) || Peek() == ',') {
      Fail("Missing expression after '" + std::string(pos_ > 0 ? s_.substr(pos_ - 1, 1) : "") +
               "'.",
           "ExpectedExpression", pos_, AtEnd());
      return std::nullopt;
    } else {
      std::string word;
      while (!AtEnd()) {
        const char c = Peek();
        if (std::isspace(static_cast<unsigned char>(c)) || EndsElement(c) || c == ',' ||
            c == '(' || c == '{' || QuoteAt(pos_).first != 0) {
          break;
        }
        word += c;
        ++pos_;
      }
      if (auto n = AsNumber(word)) {
        e.literal = *n;
      } else {
        e.literal = word;
        e.bare_word = true;
      }
    }
    e.length = pos_ - e.offset;
    return e;
  }

  // After "(" or "$(": one command or expression, then ")".
  bool ParseParenthesised(Expr& e) {
    SkipSpace(true);
    if (AtEnd()) {
      Fail("Missing closing ')' in expression.", "MissingEndParenthesisInExpression", pos_, true);
      return false;
    }
    auto st = ParseStatement();
    if (!st) return false;
    SkipSpace(true);
    if (Peek() != ')') {
      Fail("Missing closing ')' in expression.", "MissingEndParenthesisInExpression", pos_,
           AtEnd());
      return false;
    }
    ++pos_;
    if (st->assign_to) {
      Fail("exo-admin does not assign inside parentheses.", "AssignmentNotSupported", e.offset);
      return false;
    }
    if (st->command) {
      e.kind = Expr::Kind::kCommand;
      e.command.push_back(std::move(*st->command));
    } else {
      const std::size_t offset = e.offset;
      e = std::move(*st->expression);
      e.offset = offset;
    }
    return ParseMembers(e);
  }

  bool ParseArraySubexpression(Expr& e) {
    e.kind = Expr::Kind::kArray;
    while (true) {
      SkipSpace(true);
      while (Peek() == ';') {
        ++pos_;
        SkipSpace(true);
      }
      if (AtEnd()) {
        Fail("Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression",
             pos_, true);
        return false;
      }
      if (Peek() == ')') {
        ++pos_;
        return true;
      }
      auto item = ParseArgument();
      if (!item) return false;
      if (item->kind == Expr::Kind::kArray && item->members.empty()) {
        for (auto& i : item->items) e.items.push_back(std::move(i));
      } else {
        e.items.push_back(std::move(*item));
      }
    }
  }

  bool ParseHashtable(Expr& e) {
    e.kind = Expr::Kind::kHashtable;
    while (true) {
      SkipSpace(true);
      while (Peek() == ';') {
        ++pos_;
        SkipSpace(true);
      }
      if (AtEnd()) {
        Fail("Missing closing '}' in statement block or type definition.",
             "MissingEndCurlyBrace", pos_, true);
        return false;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      std::string key;
      const auto [quote, qlen] = QuoteAt(pos_);
      if (quote != 0) {
        Expr k;
        if (!(quote == '"' ? ParseExpandable(k, qlen) : ParseVerbatim(k, qlen))) return false;
        if (k.kind != Expr::Kind::kLiteral) {
          Fail("exo-admin reads only constant hashtable keys.", "InvalidHashKey", k.offset);
          return false;
        }
        key = k.literal.get<std::string>();
      } else {
        while (!AtEnd() && (IsNameChar(Peek()) || Peek() == '-' || Peek() == '.')) {
          key += s_[pos_++];
        }
      }
      if (key.empty()) {
        Fail("Missing key before '=' in hash literal.", "MissingHashKey", pos_);
        return false;
      }
      SkipSpace(false);
      if (Peek() != '=') {
        Fail("Missing '=' operator after key in hash literal.", "MissingEqualsInHashLiteral",
             pos_, AtEnd());
        return false;
      }
      ++pos_;
      SkipSpace(true);
      if (AtEnd()) {
        Fail("Missing statement after '=' in hash literal.", "MissingStatementInHashLiteral", pos_,
             true);
        return false;
      }
      auto v = ParseArgument();
      if (!v) return false;
      e.entries.push_back(HashtableEntry{std::move(key), std::move(*v)});
      SkipSpace(false);
      if (Peek() == ';' || Peek() == '\n' || Peek() == '}') continue;
      if (AtEnd()) continue;  // reports the missing '}' above
      Fail("The hash literal was incomplete.", "IncompleteHashLiteral", pos_);
      return false;
    }
  }

  bool ParseVerbatim(Expr& e, std::size_t qlen) {
    pos_ += qlen;
    std::string text;
    while (true) {
      if (AtEnd()) {
        Fail("The string is missing the terminator: '.", "TerminatorExpectedAtEndOfString",
             e.offset, true);
        return false;
      }
      const auto [q, len] = QuoteAt(pos_);
      if (q == '\'') {
        if (QuoteAt(pos_ + len).first == '\'') {
          text += '\'';
          pos_ += len + QuoteAt(pos_ + len).second;
          continue;
        }
        pos_ += len;
        break;
      }
      text += s_[pos_++];
    }
    e.kind = Expr::Kind::kLiteral;
    e.literal = text;
    return true;
  }

  bool ParseExpandable(Expr& e, std::size_t qlen) {
    pos_ += qlen;
    std::vector<Expr> parts;
    std::string text;
    bool expands = false;
    auto flush = [&] {
      if (text.empty()) return;
      Expr lit;
      lit.literal = text;
      parts.push_back(std::move(lit));
      text.clear();
    };
    while (true) {
      if (AtEnd()) {
        Fail("The string is missing the terminator: \".", "TerminatorExpectedAtEndOfString",
             e.offset, true);
        return false;
      }
      const char c = Peek();
      const auto [q, len] = QuoteAt(pos_);
      if (q == '"') {
        if (QuoteAt(pos_ + len).first == '"') {
          text += '"';
          pos_ += len + QuoteAt(pos_ + len).second;
          continue;
        }
        pos_ += len;
        break;
      }
      if (c == '`' && pos_ + 1 < s_.size()) {
        const char n = s_[pos_ + 1];
        pos_ += 2;
        switch (n) {
          case 'n': text += '\n'; break;
          case 't': text += '\t'; break;
          case 'r': text += '\r'; break;
          case '0': text += '\0'; break;
          case 'a': text += '\a'; break;
          case 'b': text += '\b'; break;
          case 'f': text += '\f'; break;
          case 'v': text += '\v'; break;
          default: text += n; break;
        }
        continue;
      }
      if (c == '$' && Peek(1) == '(') {
        flush();
        Expr sub;
        sub.offset = pos_;
        pos_ += 2;
        if (!ParseParenthesised(sub)) return false;
        sub.length = pos_ - sub.offset;
        parts.push_back(std::move(sub));
        expands = true;
        continue;
      }
      if (c == '$' && (IsLetter(Peek(1)) || Peek(1) == '{')) {
        flush();
        Expr var;
        var.offset = pos_;
        ++pos_;
        const std::string name = ReadVariableName();
        if (IEquals(name, "true") || IEquals(name, "false")) {
          var.literal = IEquals(name, "true") ? "True" : "False";
        } else if (IEquals(name, "null")) {
          var.literal = "";
        } else {
          var.kind = Expr::Kind::kVariable;
          var.variable = name;
        }
        var.length = pos_ - var.offset;
        parts.push_back(std::move(var));
        expands = true;
        continue;
      }
      text += c;
      ++pos_;
    }
    if (!expands) {
      e.kind = Expr::Kind::kLiteral;
      e.literal = text;
      return true;
    }
    flush();
    e.kind = Expr::Kind::kExpandable;
    e.items = std::move(parts);
    return true;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  std::optional<ParseError> error_;
};

}  // namespace

ParseResult Parse(const std::string& chunk) { return Parser(chunk).Run(); }

}  // namespace exo::admin
