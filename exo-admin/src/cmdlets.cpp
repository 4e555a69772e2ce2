#include "exo/exo_admin/cmdlets.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace exo::admin {
namespace {

// Parameter lists are written compactly: "Name[:type][@position][!]" separated by spaces, type
// one of s (default), s[], sw, b, i, cred, ht, obj; '!' marks a mandatory parameter.
std::vector<ParamSpec> P(std::string_view text) {
  std::vector<ParamSpec> out;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) {
    ParamSpec p;
    if (!word.empty() && word.back() == '!') {
      p.mandatory = true;
      word.pop_back();
    }
    if (const auto at = word.find('@'); at != std::string::npos) {
      p.position = std::stoi(word.substr(at + 1));
      word.erase(at);
    }
    std::string type = "s";
    if (const auto colon = word.find(':'); colon != std::string::npos) {
      type = word.substr(colon + 1);
      word.erase(colon);
    }
    static const std::map<std::string, ParamType> kTypes = {
        {"s", ParamType::kString},   {"s[]", ParamType::kStringArray},
        {"sw", ParamType::kSwitch},  {"b", ParamType::kBool},
        {"i", ParamType::kInt},      {"cred", ParamType::kCredential},
        {"ht", ParamType::kHashtable}, {"obj", ParamType::kObject}};
    p.type = kTypes.at(type);
    p.name = word;
    out.push_back(std::move(p));
  }
  return out;
}

CmdletSpec C(std::string name, Module module, std::string_view params, bool should_process = false,
             bool open = false) {
  return CmdletSpec{std::move(name), module, P(params), should_process, open};
}

std::vector<CmdletSpec> BuildCatalog() {
  const Module L = Module::kLocal, X = Module::kExchange, G = Module::kGraph;
  // Parameters from the cmdlets' reference pages (MicrosoftDocs/office-docs-powershell,
  // microsoftgraph-docs-powershell, PowerShell); exo-admin lists the ones an app-only mailbox
  // setup uses, and Set-* cmdlets are open (unknown parameters pass through to the server).
  const std::string filterable = " ResultSize Filter Anr SortBy ";
  return {
      // PowerShell and PowerShellGet.
      C("Set-ExecutionPolicy", L, "ExecutionPolicy@0! Scope@1 Force:sw", true),
      C("Install-Module", L,
        "Name:s[]@0! Scope Repository:s[] RequiredVersion MinimumVersion MaximumVersion Force:sw "
        "AllowClobber:sw AllowPrerelease:sw AcceptLicense:sw SkipPublisherCheck:sw PassThru:sw",
        true),
      C("Import-Module", L,
        "Name:s[]@0! Prefix Force:sw Global:sw PassThru:sw RequiredVersion MinimumVersion "
        "DisableNameChecking:sw Function:s[] Cmdlet:s[] Scope"),
      C("Get-Credential", L, "Credential@0 UserName Message Title"),
      C("Write-Host", L, "Object:obj@0 NoNewline:sw Separator ForegroundColor BackgroundColor"),
      C("Write-Output", L, "InputObject:obj@0 NoEnumerate:sw"),
      // ExchangeOnlineManagement, run locally.
      C("Connect-ExchangeOnline", X,
        "ConnectionUri@0 AzureADAuthorizationEndpointUri@1 ExchangeEnvironmentName@2 "
        "PSSessionOption:obj@3 BypassMailboxAnchoring:sw@4 DelegatedOrganization@5 Prefix@6 "
        "CommandName:s[] FormatTypeName:s[] UserPrincipalName Credential:cred AppId Organization "
        "CertificateFilePath CertificatePassword:obj CertificateThumbprint Certificate:obj "
        "AccessToken Device:sw InlineCredential:sw ManagedIdentity:sw ManagedIdentityAccountId "
        "ShowBanner:sw ShowProgress:b PageSize:i UseRPSSession:sw SkipLoadingFormatData:sw "
        "SkipLoadingCmdletHelp:sw LoadCmdletHelp:sw DisableWAM:sw TrackPerformance:b "
        "UseMultithreading:b ConnectionId:s[] EnableErrorReporting:sw LogDirectoryPath LogLevel "
        "SigningCertificate:obj"),
      C("Disconnect-ExchangeOnline", X, "ConnectionId:s[] ModulePrefix:s[]", true),
      // ExchangeOnlineManagement, sent as InvokeCommand.
      C("Get-Mailbox", X,
        "Identity@0" + filterable +
            "RecipientTypeDetails:s[] Archive:sw InactiveMailboxOnly:sw IncludeInactiveMailbox:sw "
            "SoftDeletedMailbox:sw PublicFolder:sw GroupMailbox:sw OrganizationalUnit "
            "IncludeAcceptMessagesOnlyFromDLMembersWithDisplayNames:sw Properties:s[]"),
      C("New-Mailbox", X,
        "Name@0! Alias DisplayName FirstName LastName Initials MicrosoftOnlineServicesID "
        "PrimarySmtpAddress Password:obj ResetPasswordOnNextLogon:b Shared:sw Room:sw Equipment:sw "
        "Discovery:sw Archive:sw ActiveSyncMailboxPolicy AddressBookPolicy RoleAssignmentPolicy "
        "RetentionPolicy ModeratedBy:s[] ModerationEnabled:b SendModerationNotifications "
        "OrganizationalUnit Force:sw",
        true),
      C("Set-Mailbox", X, "Identity@0! DisplayName Name Type EmailAddresses:obj", true, true),
      C("Remove-Mailbox", X, "Identity@0! Permanent:b Force:sw", true),
      C("New-MailUser", X,
        "Name@0! ExternalEmailAddress MicrosoftOnlineServicesID PrimarySmtpAddress Password:obj "
        "Alias DisplayName FirstName LastName Initials OrganizationalUnit "
        "ResetPasswordOnNextLogon:b",
        true),
      C("Get-MailUser", X, "Identity@0" + filterable + "RecipientTypeDetails:s[]"),
      C("Set-MailUser", X, "Identity@0! DisplayName ExternalEmailAddress", true, true),
      C("Remove-MailUser", X, "Identity@0!", true),
      C("Get-Recipient", X,
        "Identity@0" + filterable + "RecipientType:s[] RecipientTypeDetails:s[] Properties:s[]"),
      C("Get-User", X, "Identity@0" + filterable + "RecipientTypeDetails:s[]"),
      C("New-DistributionGroup", X,
        "Name@0! Alias DisplayName PrimarySmtpAddress Type Members:s[] ManagedBy:s[] Notes "
        "Description:s[] MemberJoinRestriction MemberDepartRestriction "
        "RequireSenderAuthenticationEnabled:b CopyOwnerToMember:sw IgnoreNamingPolicy:sw "
        "BypassNestedModerationEnabled:b ModeratedBy:s[] ModerationEnabled:b "
        "OrganizationalUnit RoomList:sw HiddenGroupMembershipEnabled:sw",
        true),
      C("Get-DistributionGroup", X,
        "Identity@0" + filterable + "RecipientTypeDetails:s[] ManagedBy"),
      C("Set-DistributionGroup", X,
        "Identity@0! DisplayName PrimarySmtpAddress ManagedBy:s[] "
        "BypassSecurityGroupManagerCheck:sw",
        true, true),
      C("Remove-DistributionGroup", X, "Identity@0! BypassSecurityGroupManagerCheck:sw", true),
      C("Add-DistributionGroupMember", X,
        "Identity@0! Member! BypassSecurityGroupManagerCheck:sw", true),
      C("Remove-DistributionGroupMember", X,
        "Identity@0! Member! BypassSecurityGroupManagerCheck:sw", true),
      C("Get-DistributionGroupMember", X, "Identity@0! ResultSize IncludeSoftDeletedObjects:sw"),
      C("New-ServicePrincipal", X, "AppId! ObjectId ServiceId DisplayName Organization", true),
      C("Get-ServicePrincipal", X, "Identity@0 Organization"),
      C("Set-ServicePrincipal", X,
        "Identity@0! DisplayName OverrideEnforceExoAppRbacPermissions:b", true),
      C("Remove-ServicePrincipal", X, "Identity@0!", true),
      C("New-ApplicationAccessPolicy", X,
        "AccessRight! AppId:s[]! PolicyScopeGroupId! Description", true),
      C("Get-ApplicationAccessPolicy", X, "Identity@0 Organization"),
      C("Set-ApplicationAccessPolicy", X, "Identity@0! Description", true),
      C("Remove-ApplicationAccessPolicy", X, "Identity@0!", true),
      C("Test-ApplicationAccessPolicy", X, "Identity@0! AppId!"),
      C("New-ManagementScope", X,
        "Name@0! RecipientRestrictionFilter RecipientRoot DatabaseRestrictionFilter "
        "ServerRestrictionFilter Exclusive:sw Force:sw",
        true),
      C("Get-ManagementScope", X, "Identity@0 Exclusive:b Orphan:sw"),
      C("Set-ManagementScope", X, "Identity@0! Name RecipientRestrictionFilter RecipientRoot",
        true),
      C("Remove-ManagementScope", X, "Identity@0! Force:sw", true),
      C("New-ManagementRoleAssignment", X,
        "Name@0 Role App User SecurityGroup Policy Computer CustomResourceScope "
        "RecipientGroupScope RecipientAdministrativeUnitScope RecipientOrganizationalUnitScope "
        "RecipientRelativeWriteScope CustomRecipientWriteScope ExclusiveRecipientWriteScope "
        "Delegating:sw Force:sw",
        true),
      C("Get-ManagementRoleAssignment", X,
        "Identity@0 Role RoleAssignee AssignmentMethod:s[] Enabled:b Delegating:b "
        "GetEffectiveUsers:sw RecipientWriteScope CustomRecipientWriteScope"),
      C("Remove-ManagementRoleAssignment", X, "Identity@0! Force:sw", true),
      C("Get-ManagementRole", X, "Identity@0 RoleType Cmdlet CmdletParameters:s[] Recurse:sw"),
      C("Test-ServicePrincipalAuthorization", X, "Identity@0! Resource"),
      C("Get-OrganizationConfig", X, "Identity@0 RetrieveEwsOperationAccessPolicy:sw"),
      C("Set-OrganizationConfig", X, "EwsEnabled:b EwsAllowedAppIDs:obj", true, true),
      C("Get-CASMailbox", X, "Identity@0" + filterable + "ProtocolSettings:sw"),
      C("Set-CASMailbox", X, "Identity@0! EwsEnabled:b", true, true),
      C("Get-AcceptedDomain", X, "Identity@0"),
      // Microsoft Graph PowerShell SDK.
      C("Connect-MgGraph", G,
        "Scopes:s[]@0 TenantId@1 ClientId ContextScope Environment UseDeviceCode:sw "
        "ClientTimeout:i NoWelcome:sw AccessToken:obj"),
      C("Disconnect-MgGraph", G, ""),
      C("New-MgApplication", G,
        "DisplayName SignInAudience IdentifierUris:s[] RequiredResourceAccess:obj "
        "IsFallbackPublicClient:sw Description Notes Tags:s[] BodyParameter:ht "
        "AdditionalProperties:ht",
        true),
      C("Get-MgApplication", G,
        "ApplicationId Filter Search All:sw Top:i Property:s[] ConsistencyLevel CountVariable"),
      C("Update-MgApplication", G,
        "ApplicationId! DisplayName SignInAudience IdentifierUris:s[] RequiredResourceAccess:obj "
        "IsFallbackPublicClient:sw Description Notes BodyParameter:ht",
        true),
      C("Remove-MgApplication", G, "ApplicationId!", true),
      C("Add-MgApplicationPassword", G,
        "ApplicationId! PasswordCredential:ht BodyParameter:ht", true),
      C("Remove-MgApplicationPassword", G, "ApplicationId! KeyId BodyParameter:ht", true),
      C("New-MgServicePrincipal", G, "AppId AccountEnabled:b BodyParameter:ht", true),
      C("Get-MgServicePrincipal", G,
        "ServicePrincipalId Filter Search All:sw Top:i Property:s[] ConsistencyLevel"),
      C("Update-MgServicePrincipal", G,
        "ServicePrincipalId! AccountEnabled:b BodyParameter:ht", true),
      C("New-MgServicePrincipalAppRoleAssignment", G,
        "ServicePrincipalId! PrincipalId ResourceId AppRoleId BodyParameter:ht", true),
      C("Get-MgServicePrincipalAppRoleAssignment", G,
        "ServicePrincipalId! AppRoleAssignmentId All:sw"),
      C("Remove-MgServicePrincipalAppRoleAssignment", G,
        "ServicePrincipalId! AppRoleAssignmentId!", true),
  };
}

const std::vector<ParamSpec>& CommonParams() {
  static const std::vector<ParamSpec> common = P(
      "Verbose:sw Debug:sw ErrorAction WarningAction InformationAction ErrorVariable "
      "WarningVariable InformationVariable OutVariable OutBuffer:i PipelineVariable "
      "ProgressAction");
  return common;
}
const std::vector<ParamSpec>& ShouldProcessParams() {
  static const std::vector<ParamSpec> sp = P("WhatIf:sw Confirm:sw");
  return sp;
}

// The common parameters' aliases, as PowerShell defines them.
const std::map<std::string, std::string>& CommonAliases() {
  static const std::map<std::string, std::string> aliases = {
      {"vb", "Verbose"},          {"db", "Debug"},          {"ea", "ErrorAction"},
      {"wa", "WarningAction"},    {"infa", "InformationAction"}, {"ev", "ErrorVariable"},
      {"wv", "WarningVariable"},  {"iv", "InformationVariable"}, {"ov", "OutVariable"},
      {"ob", "OutBuffer"},        {"pv", "PipelineVariable"}, {"proga", "ProgressAction"},
      {"wi", "WhatIf"},           {"cf", "Confirm"}};
  return aliases;
}

std::size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const char* TypeName(ParamType t) {
  switch (t) {
    case ParamType::kString: return "System.String";
    case ParamType::kStringArray: return "System.String[]";
    case ParamType::kSwitch: return "System.Management.Automation.SwitchParameter";
    case ParamType::kBool: return "System.Boolean";
    case ParamType::kInt: return "System.Int32";
    case ParamType::kCredential: return "System.Management.Automation.PSCredential";
    case ParamType::kHashtable: return "System.Collections.Hashtable";
    case ParamType::kObject: return "System.Object";
  }
  return "System.Object";
}

const char* ValueTypeName(const Value& v) {
  if (v.is_string()) return "System.String";
  if (v.is_boolean()) return "System.Boolean";
  if (v.is_number_integer()) return "System.Int32";
  if (v.is_number()) return "System.Double";
  if (v.is_array()) return "System.Object[]";
  if (v.is_object()) return "System.Management.Automation.PSCustomObject";
  return "System.Object";
}

struct Binder {
  const CmdletSpec& spec;
  const std::string& command;

  ErrorRecord Record(std::string message, std::string id, const EvaluatedElement& at,
                     std::string category = "InvalidArgument",
                     std::string reason = "ParameterBindingException") const {
    ErrorRecord e;
    e.command = command;
    e.message = std::move(message);
    e.category = std::move(category);
    e.reason = std::move(reason);
    e.fqid = std::move(id) + "," + spec.name;
    e.has_position = true;
    e.offset = at.offset;
    e.length = at.length;
    return e;
  }

  std::vector<const ParamSpec*> All() const {
    std::vector<const ParamSpec*> all;
    for (const auto& p : spec.params) all.push_back(&p);
    for (const auto& p : CommonParams()) all.push_back(&p);
    if (spec.should_process) {
      for (const auto& p : ShouldProcessParams()) all.push_back(&p);
    }
    return all;
  }

  // Converts `v` for parameter `p`; an error record on failure.
  std::optional<ErrorRecord> Convert(const ParamSpec& p, Value& v,
                                     const EvaluatedElement& at) const {
    if (v.is_null()) return std::nullopt;
    auto cannot = [&](const std::string& detail) {
      return Record("Cannot process argument transformation on parameter '" + p.name + "'. " +
                        detail,
                    "ParameterArgumentTransformationError", at, "InvalidData",
                    "ParameterBindingArgumentTransformationException");
    };
    switch (p.type) {
      case ParamType::kString:
        if (v.is_array()) {
          if (v.size() == 1) {
            v = Value(ToPsString(v[0]));
            return std::nullopt;
          }
          return Record("Cannot convert '" + std::string(ValueTypeName(v)) + "' to the type '" +
                            TypeName(p.type) + "' required by parameter '" + p.name +
                            "'. Specified method is not supported.",
                        "CannotConvertArgument", at);
        }
        v = Value(ToPsString(v));
        return std::nullopt;
      case ParamType::kStringArray: {
        Value arr = Value::array();
        if (v.is_array()) {
          for (const auto& i : v) arr.push_back(ToPsString(i));
        } else {
          arr.push_back(ToPsString(v));
        }
        v = std::move(arr);
        return std::nullopt;
      }
      case ParamType::kSwitch:
      case ParamType::kBool:
        if (v.is_boolean()) return std::nullopt;
        if (v.is_number()) {
          v = Value(v.get<double>() != 0);
          return std::nullopt;
        }
        return cannot("Cannot convert value \"" + std::string(ValueTypeName(v)) +
                      "\" to type \"System.Boolean\". Boolean parameters accept only Boolean "
                      "values and numbers, such as $True, $False, 1 or 0.");
      case ParamType::kInt:
        if (v.is_number_integer()) return std::nullopt;
        if (v.is_number_float()) {
          v = Value(static_cast<long long>(std::llround(v.get<double>())));
          return std::nullopt;
        }
        if (v.is_string()) {
          try {
            std::size_t used = 0;
            const long long n = std::stoll(v.get<std::string>(), &used);
            if (used == v.get<std::string>().size()) {
              v = Value(n);
              return std::nullopt;
            }
          } catch (const std::exception&) {
          }
        }
        return cannot("Cannot convert value \"" + ToPsString(v) +
                      "\" to type \"System.Int32\". Error: \"Input string was not in a correct "
                      "format.\"");
      case ParamType::kCredential:
        if (v.is_object() && v.contains("UserName")) return std::nullopt;
        if (v.is_string()) {
          // PowerShell turns a user name into a credential by prompting for its password.
          v = Value{{"UserName", v.get<std::string>()},
                    {"Password", "System.Security.SecureString"},
                    {"@exo.prompt", true}};
          return std::nullopt;
        }
        return cannot("Cannot convert the \"" + ToPsString(v) + "\" value of type \"" +
                      ValueTypeName(v) +
                      "\" to type \"System.Management.Automation.PSCredential\".");
      case ParamType::kHashtable:
        if (v.is_object()) return std::nullopt;
        return Record("Cannot convert the \"" + ToPsString(v) + "\" value of type \"" +
                          ValueTypeName(v) + "\" to type \"System.Collections.Hashtable\".",
                      "CannotConvertArgument", at);
      case ParamType::kObject:
        return std::nullopt;
    }
    return std::nullopt;
  }

  std::vector<std::string> Hints(const std::string& written) const {
    const std::string lw = Lower(written);
    const ParamSpec* prefix = nullptr;
    for (const auto& p : spec.params) {
      const std::string lp = Lower(p.name);
      if (lw.size() > lp.size() && lw.compare(0, lp.size(), lp) == 0 &&
          (!prefix || p.name.size() > prefix->name.size())) {
        prefix = &p;
      }
    }
    if (prefix) {
      return {"did you mean -" + prefix->name + " " + written.substr(prefix->name.size()) + "?"};
    }
    const ParamSpec* close = nullptr;
    std::size_t best = 3;
    for (const auto& p : spec.params) {
      const std::size_t d = EditDistance(lw, Lower(p.name));
      if (d < best) {
        best = d;
        close = &p;
      }
    }
    if (close) return {"did you mean -" + close->name + "?"};
    return {};
  }
};

}  // namespace

const std::vector<CmdletSpec>& AllCmdlets() {
  static const std::vector<CmdletSpec> catalog = BuildCatalog();
  return catalog;
}

const CmdletSpec* FindCmdlet(std::string_view name) {
  for (const auto& c : AllCmdlets()) {
    if (IEquals(c.name, name)) return &c;
  }
  return nullptr;
}

std::string ToPsString(const Value& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    std::string out;
    for (const auto& i : v) out += (out.empty() ? "" : " ") + ToPsString(i);
    return out;
  }
  for (const char* key : {"Identity", "Id", "Name", "UserName"}) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (IEquals(it.key(), key) && !it.value().is_null()) return ToPsString(it.value());
    }
  }
  return "System.Collections.Hashtable";
}

const BoundParameter* BoundCommand::Find(std::string_view name) const {
  for (const auto& p : params) {
    if (IEquals(p.name, name)) return &p;
  }
  return nullptr;
}

std::string BoundCommand::String(std::string_view name, std::string fallback) const {
  const BoundParameter* p = Find(name);
  if (!p || p->value.is_null()) return fallback;
  return ToPsString(p->value);
}

std::optional<ErrorRecord> Bind(const CmdletSpec& spec, const std::string& command_name,
                                const std::vector<EvaluatedElement>& elements,
                                BoundCommand& out) {
  Binder b{spec, command_name};
  out.spec = &spec;
  out.params.clear();
  const auto all = b.All();
  std::vector<const EvaluatedElement*> positional;

  for (std::size_t i = 0; i < elements.size(); ++i) {
    const EvaluatedElement& el = elements[i];
    if (!el.is_parameter) {
      positional.push_back(&el);
      continue;
    }
    // Exact name, then the common parameters' aliases, then an unambiguous prefix.
    const ParamSpec* match = nullptr;
    for (const ParamSpec* p : all) {
      if (IEquals(p->name, el.name)) match = p;
    }
    if (!match) {
      if (auto a = CommonAliases().find(Lower(el.name)); a != CommonAliases().end()) {
        for (const ParamSpec* p : all) {
          if (p->name == a->second) match = p;
        }
      }
    }
    if (!match) {
      std::vector<const ParamSpec*> prefixed;
      const std::string lw = Lower(el.name);
      for (const ParamSpec* p : all) {
        if (Lower(p->name).compare(0, lw.size(), lw) == 0) prefixed.push_back(p);
      }
      if (prefixed.size() > 1) {
        std::string names;
        for (const ParamSpec* p : prefixed) names += " -" + p->name;
        return b.Record("Parameter cannot be processed because the parameter name '" + el.name +
                            "' is ambiguous. Possible matches include:" + names + ".",
                        "AmbiguousParameter", el);
      }
      if (prefixed.size() == 1) match = prefixed.front();
    }

    BoundParameter bp;
    if (!match) {
      if (!spec.open) {
        ErrorRecord e = b.Record("A parameter cannot be found that matches parameter name '" +
                                     el.name + "'.",
                                 "NamedParameterNotFound", el);
        e.hints = b.Hints(el.name);
        return e;
      }
      bp.name = el.name;
      if (el.has_colon_value) {
        bp.value = el.value;
      } else if (i + 1 < elements.size() && !elements[i + 1].is_parameter) {
        bp.value = elements[++i].value;
      } else {
        bp.value = true;
        bp.is_switch = true;
      }
    } else {
      bp.name = match->name;
      bp.spec = match;
      bp.common = std::find_if(CommonParams().begin(), CommonParams().end(), [&](const auto& c) {
                    return &c == match;
                  }) != CommonParams().end();
      if (out.Find(match->name)) {
        return b.Record("Cannot bind parameter because parameter '" + match->name +
                            "' is specified more than once. To provide multiple values to "
                            "parameters that can accept multiple values, use the array syntax. "
                            "For example, \"-parameter value1,value2,value3\".",
                        "ParameterAlreadyBound", el);
      }
      if (match->type == ParamType::kSwitch) {
        bp.is_switch = true;
        bp.value = el.has_colon_value ? el.value : Value(true);
      } else if (el.has_colon_value) {
        bp.value = el.value;
      } else if (i + 1 < elements.size() && !elements[i + 1].is_parameter) {
        bp.value = elements[++i].value;
      } else {
        return b.Record("Missing an argument for parameter '" + match->name +
                            "'. Specify a parameter of type '" + TypeName(match->type) +
                            "' and try again.",
                        "MissingArgument", el);
      }
      const EvaluatedElement& at =
          el.has_colon_value || match->type == ParamType::kSwitch ? el : elements[i];
      if (auto err = b.Convert(*match, bp.value, at)) return err;
    }
    out.params.push_back(std::move(bp));
  }

  // Positional arguments fill the unbound positional parameters in position order.
  std::vector<const ParamSpec*> slots;
  for (const auto& p : spec.params) {
    if (p.position >= 0 && !out.Find(p.name)) slots.push_back(&p);
  }
  std::sort(slots.begin(), slots.end(),
            [](const ParamSpec* a, const ParamSpec* c) { return a->position < c->position; });
  std::size_t next = 0;
  for (const EvaluatedElement* el : positional) {
    // Write-Host and Write-Output take every remaining argument (ValueFromRemainingArguments).
    if (next >= slots.size() && !spec.params.empty() &&
        spec.params[0].type == ParamType::kObject && spec.params[0].position == 0) {
      auto rest = std::find_if(out.params.begin(), out.params.end(),
                               [&](const BoundParameter& p) { return p.spec == &spec.params[0]; });
      if (rest != out.params.end()) {
        if (!rest->value.is_array()) rest->value = Value::array({rest->value});
        rest->value.push_back(el->value);
        continue;
      }
    }
    if (next >= slots.size()) {
      return b.Record("A positional parameter cannot be found that accepts argument '" +
                          ToPsString(el->value) + "'.",
                      "PositionalParameterNotFound", *el);
    }
    BoundParameter bp;
    bp.spec = slots[next++];
    bp.name = bp.spec->name;
    bp.value = el->value;
    if (auto err = b.Convert(*bp.spec, bp.value, *el)) return err;
    out.params.push_back(std::move(bp));
  }

  std::string missing;
  for (const auto& p : spec.params) {
    if (p.mandatory && !out.Find(p.name)) missing += (missing.empty() ? "" : " ") + p.name;
  }
  if (!missing.empty()) {
    ErrorRecord e;
    e.command = command_name;
    e.message = "Cannot process command because of one or more missing mandatory parameters: " +
                missing + ".";
    e.category = "InvalidArgument";
    e.reason = "ParameterBindingException";
    e.fqid = "MissingMandatoryParameter," + spec.name;
    return e;
  }
  return std::nullopt;
}

}  // namespace exo::admin
