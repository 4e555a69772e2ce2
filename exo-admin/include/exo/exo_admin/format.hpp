// How exo-admin prints what cmdlets return and how they fail, as Windows PowerShell 5.1 with the
// ExchangeOnlineManagement and Microsoft Graph modules prints them: each cmdlet's default view
// (Format-Table or Format-List), PowerShell's value rendering, error records, and the banner.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "exo/exo_admin/cmdlets.hpp"
#include "exo/exo_admin/powershell.hpp"

namespace exo::admin {

enum class ViewKind {
  kAuto,   // PowerShell's rule for types without format data: up to 4 properties a table
  kTable,
  kList,
};

struct View {
  ViewKind kind = ViewKind::kAuto;
  std::vector<std::string> columns;  // empty: every property
};

// The default view of a cmdlet's output (case-insensitive name); kAuto for unknown cmdlets.
View DefaultView(std::string_view cmdlet);

// An object without wire annotations ("@odata.context", "X@odata.type", "X@data.type") and
// exo-admin's private keys ("@exo.*"); other values unchanged.
Value StripAnnotations(const Value& v);

// A property value as PowerShell displays it in a table cell or list: True/False, empty for
// $null, "{a, b, c, d...}" for collections (four items, $FormatEnumerationLimit), en-US dates for
// ISO 8601 timestamps, "@{K=v; ...}" for nested objects.
std::string RenderValue(const Value& v);

// Format-Table: a header, a ruler of hyphens, one row per object. Columns are as wide as their
// widest value; when the table exceeds `width`, the widest cells are cut with "...".
std::string FormatTable(const std::vector<Value>& objects, const std::vector<std::string>& columns,
                        std::size_t width = 120);
// Format-List: "Name : value" per property, names padded to the longest.
std::string FormatList(const std::vector<Value>& objects,
                       const std::vector<std::string>& properties = {});
// Output of one statement in `view`: scalars one per line, objects through the view (columns
// absent from every object are dropped, so a partial object does not print empty columns).
std::string FormatOutput(const std::vector<Value>& objects, const View& view,
                         std::size_t width = 120);

// Where the statements came from, for "At ..." lines.
struct SourceContext {
  std::string chunk;        // the parsed text (one or more physical lines)
  std::string script_path;  // empty: interactive ("At line:N char:M")
  int first_line = 1;       // line number of the chunk's first line
};

// An error record as PowerShell 5.1 prints it (a ParseException puts the position first).
std::string FormatErrorRecord(const ErrorRecord& e, const SourceContext& source);

// The banner Connect-ExchangeOnline prints after signing in (module 3.7 and later).
std::string ExchangeBanner();

}  // namespace exo::admin
