#include "exo/exo_admin/format.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace exo::admin {
namespace {

std::string Repeat(char c, std::size_t n) { return std::string(n, c); }

const Value* FindProperty(const Value& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (IEquals(it.key(), name)) return &it.value();
  }
  return nullptr;
}

bool IsDigits(std::string_view s, std::size_t from, std::size_t n) {
  if (from + n > s.size()) return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// "2026-11-02T09:05:07.1234567Z" -> "11/2/2026 9:05:07 AM" (en-US, as the console shows a
// DateTime); anything else unchanged.
std::optional<std::string> AsUsDate(const std::string& s) {
  if (s.size() < 19 || !IsDigits(s, 0, 4) || s[4] != '-' || !IsDigits(s, 5, 2) || s[7] != '-' ||
      !IsDigits(s, 8, 2) || s[10] != 'T' || !IsDigits(s, 11, 2) || s[13] != ':' ||
      !IsDigits(s, 14, 2) || s[16] != ':' || !IsDigits(s, 17, 2)) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  const std::string zone = s.substr(i);
  if (!(zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-')))) {
    return std::nullopt;
  }
  const int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  int hour = std::stoi(s.substr(11, 2));
  const char* ampm = hour < 12 ? "AM" : "PM";
  hour %= 12;
  if (hour == 0) hour = 12;
  return std::to_string(month) + "/" + std::to_string(day) + "/" + s.substr(0, 4) + " " +
         std::to_string(hour) + ":" + s.substr(14, 2) + ":" + s.substr(17, 2) + " " + ampm;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto nl = s.find('\n', start);
    std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::vector<std::string> PropertyNames(const std::vector<Value>& objects) {
  std::vector<std::string> names;
  for (const auto& o : objects) {
    if (!o.is_object()) continue;
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (std::none_of(names.begin(), names.end(),
                       [&](const std::string& n) { return IEquals(n, it.key()); })) {
        names.push_back(it.key());
      }
    }
    break;  // PowerShell takes the columns of the first object
  }
  return names;
}

std::string TrimRight(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

View DefaultView(std::string_view cmdlet) {
  // From the modules' format data as observed (docs/research/exo-admin-api.md §5, shared notes
  // exchange-admin.md §1.5, §3); Graph SDK views are [infer] from its generated format files.
  static const std::map<std::string, View> kViews = [] {
    std::map<std::string, View> v;
    const View mailbox{ViewKind::kTable,
                       {"Name", "Alias", "Database", "ProhibitSendQuota", "ExternalDirectoryObjectId"}};
    const View group{ViewKind::kTable, {"Name", "DisplayName", "GroupType", "PrimarySmtpAddress"}};
    const View recipient{ViewKind::kTable, {"Name", "RecipientType"}};
    const View sp{ViewKind::kTable, {"DisplayName", "ObjectId", "AppId"}};
    const View list{ViewKind::kList, {}};
    const View scope{ViewKind::kTable,
                     {"Name", "ScopeRestrictionType", "Exclusive", "RecipientRoot",
                      "RecipientFilter", "ServerFilter"}};
    const View assignment{ViewKind::kTable,
                          {"Name", "Role", "RoleAssigneeName", "RoleAssigneeType",
                           "AssignmentMethod"}};
    for (const char* c : {"get-mailbox", "new-mailbox"}) v[c] = mailbox;
    for (const char* c : {"new-distributiongroup", "get-distributiongroup"}) v[c] = group;
    for (const char* c : {"get-distributiongroupmember", "new-mailuser", "get-mailuser",
                          "get-recipient", "get-user"}) {
      v[c] = recipient;
    }
    for (const char* c : {"new-serviceprincipal", "get-serviceprincipal"}) v[c] = sp;
    for (const char* c : {"new-applicationaccesspolicy", "get-applicationaccesspolicy",
                          "set-applicationaccesspolicy", "test-applicationaccesspolicy",
                          "get-organizationconfig"}) {
      v[c] = list;
    }
    for (const char* c : {"new-managementscope", "get-managementscope"}) v[c] = scope;
    for (const char* c : {"new-managementroleassignment", "get-managementroleassignment"}) {
      v[c] = assignment;
    }
    v["get-managementrole"] = View{ViewKind::kTable, {"Name", "RoleType"}};
    v["test-serviceprincipalauthorization"] =
        View{ViewKind::kTable,
             {"RoleName", "GrantedPermissions", "AllowedResourceScope", "ScopeType", "InScope"}};
    v["get-casmailbox"] = View{ViewKind::kTable,
                               {"Name", "ActiveSyncEnabled", "OWAEnabled", "PopEnabled",
                                "ImapEnabled", "MapiEnabled", "EwsEnabled"}};
    v["get-accepteddomain"] = View{ViewKind::kTable, {"Name", "DomainName", "DomainType", "Default"}};
    v["get-credential"] = View{ViewKind::kTable, {"UserName", "Password"}};
    const View app{ViewKind::kTable, {"DisplayName", "Id", "AppId", "SignInAudience", "PublisherDomain"}};
    for (const char* c : {"new-mgapplication", "get-mgapplication"}) v[c] = app;
    const View msp{ViewKind::kTable,
                   {"DisplayName", "Id", "AppId", "SignInAudience", "ServicePrincipalType"}};
    for (const char* c : {"new-mgserviceprincipal", "get-mgserviceprincipal"}) v[c] = msp;
    v["add-mgapplicationpassword"] =
        View{ViewKind::kTable, {"CustomKeyIdentifier", "DisplayName", "EndDateTime", "Hint",
                                "KeyId", "SecretText", "StartDateTime"}};
    const View grant{ViewKind::kTable,
                     {"Id", "AppRoleId", "CreatedDateTime", "PrincipalDisplayName", "PrincipalId",
                      "PrincipalType", "ResourceDisplayName"}};
    for (const char* c : {"new-mgserviceprincipalapproleassignment",
                          "get-mgserviceprincipalapproleassignment"}) {
      v[c] = grant;
    }
    return v;
  }();
  const auto it = kViews.find(Lower(cmdlet));
  return it == kViews.end() ? View{} : it->second;
}

Value StripAnnotations(const Value& v) {
  if (v.is_array()) {
    Value out = Value::array();
    for (const auto& i : v) out.push_back(StripAnnotations(i));
    return out;
  }
  if (!v.is_object()) return v;
  Value out = Value::object();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;
    out[it.key()] = StripAnnotations(it.value());
  }
  return out;
}

std::string RenderValue(const Value& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (auto d = AsUsDate(s)) return *d;
    return s;
  }
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    std::string out = "{";
    std::size_t n = 0;
    for (const auto& i : v) {
      if (n == 4) {
        out += "...";
        break;
      }
      out += (n ? ", " : "") + RenderValue(i);
      ++n;
    }
    return out + "}";
  }
  std::string out = "@{";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;
    out += (first ? "" : "; ") + it.key() + "=" + RenderValue(it.value());
    first = false;
  }
  return out + "}";
}

std::string FormatTable(const std::vector<Value>& objects, const std::vector<std::string>& columns,
                        std::size_t width) {
  const std::size_t n = columns.size();
  if (n == 0) return "";
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths(n);
  std::vector<bool> numeric(n, true);
  for (std::size_t c = 0; c < n; ++c) widths[c] = columns[c].size();
  for (const auto& o : objects) {
    std::vector<std::string> row(n);
    for (std::size_t c = 0; c < n; ++c) {
      const Value* v = FindProperty(o, columns[c]);
      if (v && !v->is_null() && !v->is_number()) numeric[c] = false;
      // A cell shows the first line of a multi-line value.
      row[c] = v ? SplitLines(RenderValue(*v)).front() : "";
      widths[c] = std::max(widths[c], row[c].size());
    }
    cells.push_back(std::move(row));
  }
  // Too wide for the console: narrow the widest column until it fits (not below its header).
  auto total = [&] {
    std::size_t t = n - 1;
    for (auto w : widths) t += w;
    return t;
  };
  while (total() > width) {
    auto widest = std::max_element(widths.begin(), widths.end());
    const std::size_t c = static_cast<std::size_t>(widest - widths.begin());
    if (*widest <= std::max<std::size_t>(columns[c].size(), 4)) break;
    --*widest;
  }
  auto cell = [&](const std::string& text, std::size_t c, bool last) {
    std::string t = text;
    if (t.size() > widths[c]) t = t.substr(0, widths[c] - 3) + "...";
    if (numeric[c]) return Repeat(' ', widths[c] - t.size()) + t;
    return last ? t : t + Repeat(' ', widths[c] - t.size());
  };
  std::string header, ruler;
  for (std::size_t c = 0; c < n; ++c) {
    const bool last = c + 1 == n;
    header += cell(columns[c], c, last) + (last ? "" : " ");
    ruler += cell(Repeat('-', columns[c].size()), c, last) + (last ? "" : " ");
  }
  std::string out = "\n" + TrimRight(header) + "\n" + TrimRight(ruler) + "\n";
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t c = 0; c < n; ++c) {
      const bool last = c + 1 == n;
      line += cell(row[c], c, last) + (last ? "" : " ");
    }
    out += TrimRight(line) + "\n";
  }
  return out + "\n";
}

std::string FormatList(const std::vector<Value>& objects,
                       const std::vector<std::string>& properties) {
  std::string out = "\n";
  for (const auto& o : objects) {
    std::vector<std::string> names = properties.empty() ? PropertyNames({o}) : properties;
    std::size_t pad = 0;
    for (const auto& n : names) pad = std::max(pad, n.size());
    for (const auto& n : names) {
      const Value* v = FindProperty(o, n);
      const auto lines = SplitLines(v ? RenderValue(*v) : "");
      std::string line = n + Repeat(' ', pad - n.size()) + " : " + lines.front();
      out += TrimRight(line) + "\n";
      for (std::size_t i = 1; i < lines.size(); ++i) {
        out += TrimRight(Repeat(' ', pad + 3) + lines[i]) + "\n";
      }
    }
    out += "\n";
  }
  return out + "\n";
}

std::string FormatOutput(const std::vector<Value>& raw, const View& view, std::size_t width) {
  std::string out;
  std::vector<Value> run;  // consecutive objects print as one table or list
  auto flush = [&] {
    if (run.empty()) return;
    std::vector<std::string> columns;
    for (const auto& c : view.columns) {
      if (std::any_of(run.begin(), run.end(), [&](const Value& o) { return FindProperty(o, c); })) {
        columns.push_back(c);
      }
    }
    ViewKind kind = view.kind;
    if (columns.empty()) {
      columns = PropertyNames(run);
      if (kind != ViewKind::kList) kind = ViewKind::kAuto;
    }
    if (kind == ViewKind::kAuto) kind = columns.size() <= 4 ? ViewKind::kTable : ViewKind::kList;
    out += kind == ViewKind::kTable ? FormatTable(run, columns, width) : FormatList(run, columns);
    run.clear();
  };
  for (const auto& item : raw) {
    const Value v = StripAnnotations(item);
    if (v.is_object()) {
      run.push_back(v);
      continue;
    }
    flush();
    if (v.is_array()) {
      for (const auto& i : v) out += RenderValue(i) + "\n";
    } else {
      out += RenderValue(v) + "\n";
    }
  }
  flush();
  return out;
}

std::string FormatErrorRecord(const ErrorRecord& e, const SourceContext& src) {
  std::string where, line;
  std::size_t column = 1, length = 1;
  if (!e.invocation_location.empty()) {
    where = e.invocation_location;
    line = e.invocation_line;
    column = e.invocation_column;
    length = e.invocation_length;
  } else {
    // Physical line and column of the offset within the chunk.
    const std::size_t offset = std::min(e.offset, src.chunk.size());
    const std::size_t line_start = src.chunk.rfind('\n', offset == 0 ? 0 : offset - 1);
    const std::size_t begin =
        line_start == std::string::npos || (offset == 0 && src.chunk[0] != '\n') ? 0
                                                                                  : line_start + 1;
    int line_no = src.first_line;
    for (std::size_t i = 0; i < begin; ++i) line_no += src.chunk[i] == '\n' ? 1 : 0;
    const std::size_t end = src.chunk.find('\n', begin);
    line = src.chunk.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    column = offset - begin + 1;
    length = std::max<std::size_t>(1, std::min(e.length, line.size() + 1 - column));
    where = (src.script_path.empty() ? "line:" + std::to_string(line_no)
                                     : src.script_path + ":" + std::to_string(line_no)) +
            " char:" + std::to_string(column);
  }
  const std::string squiggle = "+ " + Repeat(' ', column - 1) + Repeat('~', length) + "\n";
  const std::string activity = e.activity ? *e.activity : e.command;
  const std::string info =
      "    + CategoryInfo          : " + e.category + ": (" + e.target_name + ":" +
      e.target_type + ") [" + activity + "], " + e.reason + "\n" +
      "    + FullyQualifiedErrorId : " + e.fqid + "\n";
  std::string out;
  if (e.parse_error) {
    out = "At " + where + "\n+ " + line + "\n" + squiggle + e.message + "\n" + info;
  } else {
    out = e.command + " : " + e.message + "\nAt " + where + "\n+ " + line + "\n" + squiggle + info;
  }
  out += " \n";
  for (const auto& h : e.hints) out += "exo-admin: " + h + "\n";
  return out;
}

std::string ExchangeBanner() {
  const std::string rule(88, '-');
  return "\n" + rule +
         "\n"
         "This V3 EXO PowerShell module contains new REST API backed Exchange Online cmdlets which "
         "doesn't require WinRM for Client-Server communication. You can now run these cmdlets "
         "after turning off WinRM Basic Auth in your client machine thus making it more secure.\n"
         "\n"
         "Unlike the EXO* prefixed cmdlets, the cmdlets in this module support full functional "
         "parity with the RPS (V1) cmdlets.\n"
         "\n"
         "V3 cmdlets in the downloaded module are resilient to transient failures, handling "
         "retries and throttling errors inherently.\n"
         "\n"
         "REST backed EOP and SCC cmdlets are also available in the V3 module. Similar to EXO, "
         "the cmdlets can be run without WinRM basic auth enabled.\n"
         "\n"
         "For more information check https://aka.ms/exov3-module\n"
         "\n"
         "Starting with EXO V3.7, use the LoadCmdletHelp parameter alongside Connect-ExchangeOnline "
         "to access the Get-Help cmdlet, as it will not be loaded by default\n" +
         rule + "\n\n";
}

}  // namespace exo::admin
