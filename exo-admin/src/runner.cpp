#include "exo/exo_admin/runner.hpp"

#include <cstdlib>
#include <map>

#include "exo/common/random.hpp"
#include "exo/exo_admin/cmdlets.hpp"
#include "exo/exo_admin/format.hpp"
#include "exo/exo_admin/powershell.hpp"
#include "internal/exchange_session.hpp"
#include "internal/graph_session.hpp"
#include "internal/https_client.hpp"

namespace exo::admin {
namespace {

Value Collapse(std::vector<Value> output) {
  if (output.empty()) return nullptr;
  if (output.size() == 1) return std::move(output.front());
  Value arr = Value::array();
  for (auto& v : output) arr.push_back(std::move(v));
  return arr;
}

// $x.Name: case-insensitive; on a collection, the member of each element (member enumeration).
Value Member(const Value& v, const std::string& name) {
  if (v.is_array()) {
    if (IEquals(name, "Count") || IEquals(name, "Length")) return Value(v.size());
    Value out = Value::array();
    for (const auto& i : v) {
      Value m = Member(i, name);
      if (!m.is_null()) out.push_back(std::move(m));
    }
    if (out.empty()) return nullptr;
    if (out.size() == 1) return out[0];
    return out;
  }
  if (v.is_string() && IEquals(name, "Length")) return Value(v.get<std::string>().size());
  if (!v.is_object()) return nullptr;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (IEquals(it.key(), name)) return it.value();
  }
  return nullptr;
}

bool LooksLikeCmdlet(const std::string& name) {
  const auto dash = name.find('-');
  return dash != std::string::npos && dash > 0 && dash + 1 < name.size();
}

}  // namespace

struct Runner::Impl {
  Impl(RunnerOptions o, Prompter& p, std::ostream& out_stream, std::ostream& err_stream,
       Clock& clock)
      : opt(std::move(o)),
        prompter(p),
        out(out_stream),
        err(err_stream),
        http(opt.endpoints.ca_file),
        exchange(http, clock, opt.endpoints.exchange, opt.endpoints.authority),
        graph(http, opt.endpoints.authority) {}

  RunnerOptions opt;
  Prompter& prompter;
  std::ostream& out;
  std::ostream& err;
  HttpsClient http;
  ExchangeSession exchange;
  GraphSession graph;
  std::map<std::string, Value> vars;           // lower-case names
  std::map<std::string, std::string> secrets;  // credential id -> password
  SourceContext source;

  std::ostream& host() { return opt.json ? err : out; }

  // ---- Credentials ----

  std::optional<std::string> User(const std::string& prompt) {
    if (opt.user) return opt.user;
    if (!opt.endpoints.admin_upn.empty()) return opt.endpoints.admin_upn;
    return prompter.ReadLine(prompt);
  }

  std::optional<std::string> Password(const std::string& user) {
    if (opt.password) return opt.password;
    if (!opt.endpoints.admin_upn.empty() && IEquals(user, opt.endpoints.admin_upn)) {
      return opt.endpoints.admin_password;
    }
    return prompter.ReadSecret("Password for user " + user + ": ");
  }

  static ErrorRecord NoPassword(const std::string& command, const std::string& user) {
    return ToolError(command,
                     "no password for " + user +
                         ": give --password or EXO_ADMIN_PASSWORD, or run exo-admin on a "
                         "terminal to be prompted",
                     "PasswordRequired");
  }

  Value NewCredential(const std::string& user, const std::string& password) {
    const std::string id = SecureRandom::Instance().Uuid();
    secrets[id] = password;
    return Value{{"UserName", user},
                 {"Password", "System.Security.SecureString"},
                 {"@exo.secret", id}};
  }

  // The user and password a credential value holds (prompting for a bare user name).
  std::optional<ErrorRecord> OpenCredential(const Value& cred, const std::string& command,
                                            std::string& user, std::string& password) {
    user = ToPsString(Member(cred, "UserName"));
    if (cred.contains("@exo.secret")) {
      password = secrets[cred["@exo.secret"].get<std::string>()];
      return std::nullopt;
    }
    auto p = Password(user);
    if (!p) return NoPassword(command, user);
    password = *p;
    return std::nullopt;
  }

  // ---- Evaluation ----

  std::optional<ErrorRecord> Evaluate(const Expr& e, Value& v) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        v = e.literal;
        return std::nullopt;
      case Expr::Kind::kVariable: {
        if (Lower(e.variable).rfind("env:", 0) == 0) {
          const char* env = std::getenv(e.variable.substr(4).c_str());
          v = env ? Value(env) : Value();
        } else {
          auto it = vars.find(Lower(e.variable));
          v = it == vars.end() ? Value() : it->second;
        }
        for (const auto& m : e.members) v = Member(v, m);
        return std::nullopt;
      }
      case Expr::Kind::kExpandable: {
        std::string text;
        for (const auto& part : e.items) {
          Value pv;
          if (auto err_rec = Evaluate(part, pv)) return err_rec;
          text += ToPsString(pv);
        }
        v = text;
        return std::nullopt;
      }
      case Expr::Kind::kArray: {
        v = Value::array();
        for (const auto& item : e.items) {
          Value iv;
          if (auto err_rec = Evaluate(item, iv)) return err_rec;
          v.push_back(std::move(iv));
        }
        return std::nullopt;
      }
      case Expr::Kind::kHashtable: {
        v = Value::object();
        for (const auto& [key, value] : e.entries) {
          Value ev;
          if (auto err_rec = Evaluate(value, ev)) return err_rec;
          v[key] = std::move(ev);
        }
        return std::nullopt;
      }
      case Expr::Kind::kCommand: {
        Outcome o = RunCommand(e.command.front());
        if (o.error) return o.error;
        v = Collapse(std::move(o.output));
        for (const auto& m : e.members) v = Member(v, m);
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // ---- Commands ----

  Outcome RunCommand(const Command& c) {
    Outcome o = Dispatch(c);
    // Objects remember which cmdlet made them, so that `$app` later prints in that cmdlet's view.
    for (auto& v : o.output) {
      if (v.is_object() && !v.contains("@exo.type")) v["@exo.type"] = c.name;
    }
    for (const auto& w : o.warnings) err << "WARNING: " << w << "\n";
    if (!o.host.empty()) host() << o.host << std::flush;
    o.warnings.clear();
    o.host.clear();
    if (o.error && !o.error->has_position && o.error->invocation_location.empty()) {
      o.error->has_position = true;
      o.error->offset = c.offset;
      o.error->length =
          o.error->reason == "CommandNotFoundException" ? c.name.size() : c.length;
    }
    return o;
  }

  Outcome Dispatch(const Command& c) {
    const CmdletSpec* spec = FindCmdlet(c.name);
    CmdletSpec adhoc;
    if (!spec) {
      // Cmdlets exo-admin does not list still reach Exchange once connected, as every cmdlet
      // the module file exports would; the server decides whether it exists.
      if (!exchange.connected() || !LooksLikeCmdlet(c.name) || !exchange.MayRun(c.name)) {
        ErrorRecord e = CommandNotFound(c.name);
        if (LooksLikeCmdlet(c.name) && !exchange.connected()) {
          e.hints.push_back("exo-admin knows no cmdlet '" + c.name +
                            "'; Exchange cmdlets it does not list are sent to Exchange after "
                            "Connect-ExchangeOnline");
        }
        return Outcome::Failed(e);
      }
      adhoc = CmdletSpec{c.name, Module::kExchange, {}, false, true};
      spec = &adhoc;
    }
    const bool exchange_remote = spec->module == Module::kExchange &&
                                 !IEquals(spec->name, "Connect-ExchangeOnline") &&
                                 !IEquals(spec->name, "Disconnect-ExchangeOnline");
    if (exchange_remote && !exchange.connected()) {
      ErrorRecord e = CommandNotFound(c.name);
      e.hints.push_back("Exchange Online cmdlets exist only after Connect-ExchangeOnline");
      return Outcome::Failed(e);
    }
    if (exchange_remote && !exchange.MayRun(spec->name)) {
      ErrorRecord e = CommandNotFound(c.name);
      e.hints.push_back("the module file Exchange sent at Connect-ExchangeOnline does not list " +
                        spec->name + " for this account (a role is missing)");
      return Outcome::Failed(e);
    }

    std::vector<EvaluatedElement> elements;
    for (const auto& el : c.elements) {
      EvaluatedElement ev;
      ev.is_parameter = el.is_parameter;
      ev.name = el.name;
      ev.offset = el.offset;
      ev.length = el.length;
      if (el.is_parameter) {
        if (el.colon_value) {
          ev.has_colon_value = true;
          if (auto e = Evaluate(*el.colon_value, ev.value)) return Outcome::Failed(*e);
        }
      } else {
        if (auto e = Evaluate(el.argument, ev.value)) return Outcome::Failed(*e);
      }
      elements.push_back(std::move(ev));
    }
    BoundCommand bound;
    if (auto e = Bind(*spec, c.name, elements, bound)) return Outcome::Failed(*e);

    switch (spec->module) {
      case Module::kLocal:
        return RunLocal(bound, c.name);
      case Module::kGraph:
        if (IEquals(spec->name, "Connect-MgGraph")) return ConnectGraph(bound);
        if (IEquals(spec->name, "Disconnect-MgGraph")) {
          graph.Disconnect();
          return {};
        }
        if (!graph.connected()) {
          ErrorRecord e = ToolError(c.name, "Authentication needed. Please call Connect-MgGraph.",
                                    "Authentication");
          e.fqid = "Microsoft.Graph.PowerShell.Cmdlets." + spec->name;
          return Outcome::Failed(e);
        }
        return graph.Run(bound, c.name);
      case Module::kExchange:
        if (IEquals(spec->name, "Connect-ExchangeOnline")) return ConnectExchange(bound);
        if (IEquals(spec->name, "Disconnect-ExchangeOnline")) {
          exchange.Disconnect();
          return {};
        }
        return exchange.Invoke(bound, c.name);
    }
    return {};
  }

  Outcome ConnectExchange(const BoundCommand& b) {
    const std::string cmd = "Connect-ExchangeOnline";
    ExchangeSignIn s;
    if (b.Has("Device")) {
      return Outcome::Failed(ToolError(
          cmd, "mock-aad has no device code flow: use -UserPrincipalName or -Credential",
          "DeviceNotSupported"));
    }
    if (b.Has("AccessToken")) {
      s.kind = ExchangeSignIn::Kind::kAccessToken;
      s.access_token = b.String("AccessToken");
    } else if (b.Has("AppId")) {
      s.kind = ExchangeSignIn::Kind::kCertificate;
      s.app_id = b.String("AppId");
      s.organization = b.String("Organization");
      if (s.organization.empty()) {
        return Outcome::Failed(ToolError(cmd, "App-only sign-in needs -Organization (the "
                                              "tenant's onmicrosoft.com domain or id)",
                                         "OrganizationRequired"));
      }
      if (!b.Has("CertificateFilePath")) {
        return Outcome::Failed(ToolError(
            cmd, "exo-admin signs in app-only with -CertificateFilePath (PEM with the key, or "
                 "PFX with -CertificatePassword); there is no Windows certificate store here",
            "CertificateRequired"));
      }
      auto loaded = LoadCertificateFile(b.String("CertificateFilePath"),
                                        b.String("CertificatePassword"));
      if (!loaded) return Outcome::Failed(ToolError(cmd, loaded.error().message, "Certificate"));
      s.certificate = std::move(loaded->first);
      s.key = std::move(loaded->second);
    } else if (b.Has("Credential")) {
      if (auto e = OpenCredential(b.Find("Credential")->value, cmd, s.user, s.password)) {
        return Outcome::Failed(*e);
      }
    } else {
      // -UserPrincipalName: the real module opens a browser sign-in for that account; exo-admin
      // asks for its password instead.
      auto user = b.Has("UserPrincipalName") ? std::optional(b.String("UserPrincipalName"))
                                             : User("User: ");
      if (!user) {
        return Outcome::Failed(
            ToolError(cmd, "no user to sign in: give -UserPrincipalName or --user", "NoUser"));
      }
      auto password = Password(*user);
      if (!password) return Outcome::Failed(NoPassword(cmd, *user));
      s.user = *user;
      s.password = *password;
    }
    const auto* banner = b.Find("ShowBanner");
    return exchange.Connect(std::move(s), !banner || banner->value.get<bool>());
  }

  Outcome ConnectGraph(const BoundCommand& b) {
    const bool welcome = !b.Has("NoWelcome") || !b.Find("NoWelcome")->value.get<bool>();
    if (b.Has("AccessToken")) return graph.ConnectWithToken(b.String("AccessToken"), welcome);
    if (b.Has("UseDeviceCode")) {
      return Outcome::Failed(ToolError("Connect-MgGraph",
                                       "mock-aad has no device code flow; exo-admin signs in with "
                                       "the administrator's password",
                                       "DeviceNotSupported"));
    }
    std::string tenant = b.String("TenantId", opt.endpoints.tenant);
    if (tenant.empty()) tenant = "organizations";
    auto user = User("User: ");
    if (!user) {
      return Outcome::Failed(
          ToolError("Connect-MgGraph", "no user to sign in: give --user", "NoUser"));
    }
    auto password = Password(*user);
    if (!password) return Outcome::Failed(NoPassword("Connect-MgGraph", *user));
    return graph.Connect(tenant, *user, *password, welcome);
  }

  static bool KnownModule(const std::string& name) {
    return IEquals(name, "ExchangeOnlineManagement") || IEquals(name, "Microsoft.Graph") ||
           Lower(name).rfind("microsoft.graph.", 0) == 0;
  }

  Outcome RunLocal(const BoundCommand& b, const std::string& written) {
    const std::string n = Lower(b.spec->name);
    Outcome o;
    if (n == "set-executionpolicy") {
      static const std::vector<std::string> kPolicies = {
          "Unrestricted", "RemoteSigned", "AllSigned", "Restricted", "Default", "Bypass",
          "Undefined"};
      const std::string policy = b.String("ExecutionPolicy");
      if (std::none_of(kPolicies.begin(), kPolicies.end(),
                       [&](const std::string& p) { return IEquals(p, policy); })) {
        ErrorRecord e;
        e.command = written;
        e.message = "Cannot bind parameter 'ExecutionPolicy'. Cannot convert value \"" + policy +
                    "\" to type \"Microsoft.PowerShell.ExecutionPolicy\". Error: \"Unable to "
                    "match the identifier name " +
                    policy +
                    " to a valid enumerator name. Specify one of the following enumerator names "
                    "and try again:\nUnrestricted, RemoteSigned, AllSigned, Restricted, Default, "
                    "Bypass, Undefined\"";
        e.category = "InvalidArgument";
        e.reason = "ParameterBindingException";
        e.fqid = "CannotConvertArgumentNoMessage,Microsoft.PowerShell.Commands."
                 "SetExecutionPolicyCommand";
        return Outcome::Failed(e);
      }
      const auto* confirm = b.Find("Confirm");
      if (!b.Has("Force") && !(confirm && !confirm->value.get<bool>())) {
        // Windows PowerShell asks before changing the policy; exo-admin answers Yes for the
        // script and shows the exchange as a console transcript would.
        err << "\nExecution Policy Change\n"
               "The execution policy helps protect you from scripts that you do not trust. "
               "Changing the execution policy might expose\n"
               "you to the security risks described in the about_Execution_Policies help topic "
               "at\n"
               "https:/go.microsoft.com/fwlink/?LinkID=135170. Do you want to change the "
               "execution policy?\n"
               "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default "
               "is \"N\"): Y\n";
      }
      return o;
    }
    if (n == "install-module" || n == "import-module") {
      for (const auto& name : b.Find("Name")->value) {
        const std::string m = name.get<std::string>();
        if (KnownModule(m)) continue;
        ErrorRecord e;
        e.command = written;
        if (n == "install-module") {
          e.message = "No match was found for the specified search criteria and module name '" +
                      m + "'. Try Get-PSRepository to see all available registered module "
                          "repositories.";
          e.category = "ObjectNotFound";
          e.target_name = "Microsoft.Power....InstallPackage";
          e.target_type = "InstallPackage";
          e.activity = "Install-Package";
          e.reason = "Exception";
          e.fqid = "NoMatchFoundForCriteria,Microsoft.PowerShell.PackageManagement.Cmdlets."
                   "InstallPackage";
        } else {
          e.message = "The specified module '" + m +
                      "' was not loaded because no valid module file was found in any module "
                      "directory.";
          e.category = "ResourceUnavailable";
          e.target_name = m;
          e.target_type = "String";
          e.reason = "FileNotFoundException";
          e.fqid = "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand";
        }
        return Outcome::Failed(e);
      }
      return o;  // already installed and importable: both are silent
    }
    if (n == "get-credential") {
      std::optional<std::string> user;
      if (b.Has("UserName")) user = b.String("UserName");
      if (!user && b.Has("Credential")) user = b.String("Credential");
      if (!user) {
        if (!opt.user && opt.endpoints.admin_upn.empty()) {
          err << "\nPowerShell credential request\n"
              << (b.String("Message").empty() ? "Enter your credentials." : b.String("Message"))
              << "\n";
        }
        user = User("User: ");
      }
      if (!user) {
        return Outcome::Failed(ToolError(written, "no user name: give --user or EXO_ADMIN_USER, "
                                                  "or run exo-admin on a terminal",
                                         "NoUser"));
      }
      auto password = Password(*user);
      if (!password) return Outcome::Failed(NoPassword(written, *user));
      o.output.push_back(NewCredential(*user, *password));
      return o;
    }
    if (n == "write-host") {
      const Value* v = b.Has("Object") ? &b.Find("Object")->value : nullptr;
      std::string text;
      const std::string sep = b.String("Separator", " ");
      if (v && v->is_array()) {
        for (const auto& i : *v) text += (text.empty() ? "" : sep) + ToPsString(i);
      } else if (v) {
        text = ToPsString(*v);
      }
      o.host = text + (b.Has("NoNewline") ? "" : "\n");
      return o;
    }
    if (n == "write-output") {
      if (const auto* v = b.Find("InputObject")) {
        if (v->value.is_array()) {
          for (const auto& i : v->value) o.output.push_back(i);
        } else {
          o.output.push_back(v->value);
        }
      }
      return o;
    }
    return Outcome::Failed(ToolError(written, "exo-admin has no local implementation of " +
                                                  b.spec->name));
  }

  // ---- Statements ----

  void PrintError(const ErrorRecord& e) { err << FormatErrorRecord(e, source) << std::flush; }

  void PrintOutput(const std::vector<Value>& output, const std::string& command) {
    if (output.empty()) return;
    if (opt.json) {
      for (const auto& v : output) out << StripAnnotations(v).dump() << "\n";
    } else {
      std::string view = command;
      if (view.empty() && output.front().is_object() && output.front().contains("@exo.type")) {
        view = output.front()["@exo.type"].get<std::string>();
      }
      out << FormatOutput(output, DefaultView(view));
    }
    out << std::flush;
  }

  // Runs one statement; false when it failed.
  bool RunStatement(const Statement& st) {
    Outcome o;
    std::string command;
    std::string error_action;
    if (st.command) {
      command = st.command->name;
      o = RunCommand(*st.command);
      // -ErrorAction on the failing cmdlet: Continue reports and goes on, SilentlyContinue and
      // Ignore go on quietly; anything else stops the script ($ErrorActionPreference = 'Stop').
      for (const auto& el : st.command->elements) {
        if (el.is_parameter && (IEquals(el.name, "ErrorAction") || IEquals(el.name, "ea"))) {
          const auto at = &el - st.command->elements.data();
          Value v;
          if (el.colon_value) {
            Evaluate(*el.colon_value, v);
          } else if (static_cast<std::size_t>(at + 1) < st.command->elements.size()) {
            Evaluate(st.command->elements[static_cast<std::size_t>(at + 1)].argument, v);
          }
          error_action = Lower(ToPsString(v));
        }
      }
    } else {
      Value v;
      if (auto e = Evaluate(*st.expression, v)) {
        o.error = e;
      } else if (v.is_array()) {
        for (auto& i : v) o.output.push_back(std::move(i));
      } else if (!v.is_null() || !st.assign_to) {
        if (!v.is_null()) o.output.push_back(std::move(v));
      }
    }
    if (o.error) {
      // Binding and lookup failures are terminating in PowerShell: -ErrorAction cannot soften
      // them. It governs what the cmdlet itself reports.
      const std::string& r = o.error->reason;
      if (r == "ParameterBindingException" || r == "CommandNotFoundException" ||
          r == "ParameterBindingArgumentTransformationException") {
        error_action.clear();
      }
      if (error_action == "silentlycontinue" || error_action == "ignore") return true;
      PrintError(*o.error);
      return error_action == "continue";
    }
    if (st.assign_to) {
      vars[Lower(*st.assign_to)] = Collapse(std::move(o.output));
      return true;
    }
    PrintOutput(o.output, command);
    return true;
  }

  ErrorRecord ParseErrorRecord(const ParseError& pe) {
    ErrorRecord e;
    e.parse_error = true;
    e.message = pe.message;
    e.category = "ParserError";
    e.reason = "ParentContainsErrorRecordException";
    e.fqid = pe.error_id;
    e.has_position = true;
    e.offset = pe.offset;
    e.length = 1;
    if (pe.error_id == "RedirectionNotSupported") {
      const auto end = source.chunk.find_first_of(" \t\r\n", pe.offset);
      e.hints.push_back(source.chunk.substr(pe.offset, end == std::string::npos
                                                           ? std::string::npos
                                                           : end - pe.offset) +
                        " is a placeholder from the instructions: put the value in its place");
    }
    return e;
  }

  int Run(std::istream& in) {
    int failures = 0;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      const int first = line_no;
      std::string chunk = line;
      auto extend = [&] {
        if (!std::getline(in, line)) return false;
        ++line_no;
        chunk += "\n" + line;
        return true;
      };
      while (EndsWithContinuation(chunk) && extend()) {
      }
      ParseResult parsed = Parse(chunk);
      while (parsed.error && parsed.error->incomplete && extend()) {
        while (EndsWithContinuation(chunk) && extend()) {
        }
        parsed = Parse(chunk);
      }
      source = SourceContext{chunk, opt.script_path, first};
      if (parsed.error) {
        PrintError(ParseErrorRecord(*parsed.error));
        ++failures;
        if (!opt.continue_on_error) return failures;
        continue;
      }
      for (const auto& st : parsed.statements) {
        if (RunStatement(st)) continue;
        ++failures;
        if (!opt.continue_on_error) return failures;
      }
    }
    return failures;
  }
};

Runner::Runner(RunnerOptions options, Prompter& prompter, std::ostream& out, std::ostream& err,
               Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), prompter, out, err, clock)) {}
Runner::~Runner() = default;

int Runner::Run(std::istream& in) { return impl_->Run(in); }

}  // namespace exo::admin
