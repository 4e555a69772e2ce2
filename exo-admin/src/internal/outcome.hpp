// What running one cmdlet produced: output objects, warnings, text written to the host
// (banners), or the error record it failed with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exo/exo_admin/cmdlets.hpp"

namespace exo::admin {

struct Outcome {
  std::vector<Value> output;
  std::vector<std::string> warnings;  // printed as "WARNING: ..."
  std::string host;                   // Write-Host text, banners
  std::optional<ErrorRecord> error;

  static Outcome Failed(ErrorRecord e) {
    Outcome o;
    o.error = std::move(e);
    return o;
  }
};

// o[key] when it is a string, else "".
inline std::string StringField(const Value& o, const std::string& key) {
  if (!o.is_object()) return {};
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A record for a failure that is exo-admin's own (no PowerShell equivalent): the text says
// what to do.
inline ErrorRecord ToolError(const std::string& command, const std::string& message,
                             const std::string& id = "ExoAdminError") {
  ErrorRecord e;
  e.command = command;
  e.message = message;
  e.category = "NotSpecified";
  e.reason = "Exception";
  e.fqid = id + "," + command;
  return e;
}

// PowerShell's CommandNotFoundException: the cmdlet does not exist in the session (unknown, not
// connected yet, or not exported to the caller's role).
inline ErrorRecord CommandNotFound(const std::string& name) {
  ErrorRecord e;
  e.command = name;
  e.message = "The term '" + name +
              "' is not recognized as the name of a cmdlet, function, script file, or operable "
              "program. Check the spelling of the name, or if a path was included, verify that "
              "the path is correct and try again.";
  e.category = "ObjectNotFound";
  e.target_name = name;
  e.target_type = "String";
  e.activity = "";
  e.reason = "CommandNotFoundException";
  e.fqid = "CommandNotFoundException";
  return e;
}

}  // namespace exo::admin
