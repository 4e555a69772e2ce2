// The cmdlets exo-admin knows, with their parameters as the real modules declare them, and
// PowerShell's parameter binding over them: unambiguous prefixes, switches, positional
// arguments, type conversion, and the binder's own errors (NamedParameterNotFound, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/exo_admin/powershell.hpp"

namespace exo::admin {

enum class ParamType {
  kString,       // System.String (an object becomes its Identity/Id/Name)
  kStringArray,  // System.String[]: a scalar becomes a one-element array
  kSwitch,       // SwitchParameter: present = true, -Name:$false = false
  kBool,         // System.Boolean: only $true/$false or numbers, as PowerShell insists
  kInt,          // System.Int32
  kCredential,   // PSCredential
  kHashtable,    // System.Collections.Hashtable
  kObject,       // anything, passed through as written
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  int position = -1;  // -1: named only
  bool mandatory = false;
};

// Which module a cmdlet belongs to decides how it runs.
enum class Module {
  kLocal,     // PowerShell itself or PowerShellGet (Set-ExecutionPolicy, Install-Module, ...)
  kExchange,  // ExchangeOnlineManagement: Connect/Disconnect locally, the rest via InvokeCommand
  kGraph,     // Microsoft Graph PowerShell SDK, mapped onto mock-aad's Graph subset
};

struct CmdletSpec {
  std::string name;
  Module module = Module::kLocal;
  std::vector<ParamSpec> params;  // without the common parameters, which every cmdlet has
  bool should_process = false;    // has -WhatIf and -Confirm
  // Unknown parameters pass through with a type inferred from the value instead of failing:
  // for Set-* cmdlets with hundreds of parameters exo-admin does not list.
  bool open = false;
};

// The spec of a known cmdlet (case-insensitive), or nullptr.
const CmdletSpec* FindCmdlet(std::string_view name);
// All known cmdlets, for the documentation and `--list-cmdlets`.
const std::vector<CmdletSpec>& AllCmdlets();

// A PowerShell error record, as the console prints it (see format.hpp).
struct ErrorRecord {
  std::string command;       // the invocation name ("Test-ApplicationAccessPolicy")
  std::string message;
  std::string category;      // "InvalidArgument"
  std::string target_name;   // CategoryInfo (target:type)
  std::string target_type;
  std::optional<std::string> activity;  // CategoryInfo [activity]; nullopt: `command`
  std::string reason;        // "ParameterBindingException"
  std::string fqid;          // "NamedParameterNotFound,Test-ApplicationAccessPolicy"
  // Where the error points in the chunk; `has_position` false for errors with no source span.
  bool has_position = false;
  std::size_t offset = 0;
  std::size_t length = 0;
  // Overrides the "At ..." location and the "+ ..." lines: errors the module raises from its
  // generated psm1 (Write-ErrorMessage) point there, not into the script.
  std::string invocation_location;  // "/tmp/tmpEXO_x/tmpEXO_x.psm1:1121 char:13"
  std::string invocation_line;      // "            Write-ErrorMessage $ErrorObject"
  std::size_t invocation_column = 0;  // 1-based column of the squiggle in invocation_line
  std::size_t invocation_length = 0;
  bool parse_error = false;  // a ParseException: position first, then the message
  std::vector<std::string> hints;   // "exo-admin: ..." lines after the record
};

// One parameter after binding.
struct BoundParameter {
  std::string name;  // canonical spelling from the spec, or as written for open specs
  const ParamSpec* spec = nullptr;  // nullptr: unknown parameter of an open spec
  Value value;
  bool is_switch = false;
  bool common = false;  // a common parameter (-ErrorAction, -Verbose, ...)
};

struct BoundCommand {
  const CmdletSpec* spec = nullptr;
  std::vector<BoundParameter> params;  // in the order written

  const BoundParameter* Find(std::string_view name) const;
  // The string value of a parameter, or `fallback` when absent or $null.
  std::string String(std::string_view name, std::string fallback = {}) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
};

// An element of the command after evaluation: parameters keep their names, arguments their
// values. `offset`/`length` locate the element in the source for error positions.
struct EvaluatedElement {
  bool is_parameter = false;
  std::string name;
  bool has_colon_value = false;
  Value value;  // the argument, or the colon value
  std::size_t offset = 0;
  std::size_t length = 0;
};

// Binds evaluated elements to `spec` as PowerShell's binder would. `command_name` is the name
// as the user wrote it (errors print it). Errors are ParameterBindingException records.
std::optional<ErrorRecord> Bind(const CmdletSpec& spec, const std::string& command_name,
                                const std::vector<EvaluatedElement>& elements,
                                BoundCommand& out);

// A value as a string, as PowerShell converts it for a [string] parameter: objects give their
// Identity, Id or Name; booleans "True"/"False".
std::string ToPsString(const Value& v);

}  // namespace exo::admin
