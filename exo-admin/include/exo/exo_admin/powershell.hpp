// The PowerShell subset exo-admin reads: enough of the language to run an administrator's setup
// lines verbatim (comments, variables and member access, quoted and expandable strings, `-Name
// value`, `-Name:value`, switches, comma lists, hashtables, parenthesised commands, backtick
// continuation). Parsing only: binding parameters and running commands happen elsewhere.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exo::admin {

// Every PowerShell value exo-admin handles: strings, numbers, booleans, $null, arrays, and
// objects (hashtables and the objects cmdlets return, properties in their order).
using Value = nlohmann::ordered_json;

struct Command;

// An expression in argument mode. `offset` and `length` locate its source text in the chunk
// that was parsed, for error positions.
struct HashtableEntry;

struct Expr {
  enum class Kind {
    kLiteral,     // a number, $true/$false/$null, a quoted string or a bare word
    kVariable,    // $name, then `members`
    kExpandable,  // "text $var $(expr)": `items` are the literal and substituted parts
    kArray,       // a,b,c or @(a, b): `items`
    kHashtable,   // @{Key=value; ...}: `entries`
    kCommand,     // (Get-Credential) or $(...) around a command, then `members`
  };
  Kind kind = Kind::kLiteral;
  Value literal;
  bool bare_word = false;  // kLiteral written without quotes (argument mode)
  std::string variable;
  std::vector<std::string> members;  // .Prop.Prop after a variable or a parenthesised command
  std::vector<Expr> items;
  // A named struct, not std::pair<std::string, Expr>: clang instantiates the pair while Expr is
  // still incomplete here (libstdc++ 12's vector), which a forward-declared struct avoids.
  std::vector<HashtableEntry> entries;
  std::vector<Command> command;  // kCommand: exactly one (a vector so Expr stays complete)
  std::size_t offset = 0;
  std::size_t length = 0;
};

struct HashtableEntry {
  std::string key;
  Expr value;
};

// A command's element: a parameter token (`-Name`, `-Name:value`) or an argument.
struct CommandElement {
  bool is_parameter = false;
  std::string name;                   // the parameter name as written, without '-'
  std::optional<Expr> colon_value;    // -Name:value
  Expr argument;                      // when !is_parameter
  std::size_t offset = 0;
  std::size_t length = 0;
};

struct Command {
  std::string name;
  std::vector<CommandElement> elements;
  std::size_t offset = 0;
  std::size_t length = 0;
};

// One statement: `[$var =] command` or `[$var =] expression`.
struct Statement {
  std::optional<std::string> assign_to;
  std::optional<Command> command;
  std::optional<Expr> expression;
  std::size_t offset = 0;
  std::size_t length = 0;
};

// A parse error as PowerShell's ParseException reports it. `incomplete` means more input could
// complete the statement (an open string, hashtable or parenthesis): read the next line and retry.
struct ParseError {
  std::string message;   // "The string is missing the terminator: \"."
  std::string error_id;  // "TerminatorExpectedAtEndOfString"
  std::size_t offset = 0;
  bool incomplete = false;
};

struct ParseResult {
  std::vector<Statement> statements;
  std::optional<ParseError> error;
};

// Parses one chunk of source: one or more physical lines joined by the caller when a line ended
// with a backtick or the parser answered `incomplete`. Statements end at ';' or a line break.
ParseResult Parse(const std::string& chunk);

// True when `line` ends with a backtick continuation (ignoring a trailing '\r').
bool EndsWithContinuation(const std::string& line);

// PowerShell's case-insensitive comparison of identifiers (ASCII).
bool IEquals(std::string_view a, std::string_view b);
std::string Lower(std::string_view s);

}  // namespace exo::admin
