#include "internal/admin_cmdlets.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "internal/text_codec.hpp"

namespace exo::mock_ews {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;
using internal::AsciiIEquals;
using internal::AsciiLower;

constexpr const char* kBinding = "ParameterBindingException";
// Get-Mailbox, Get-Recipient and the like stop at 1000 objects unless -ResultSize says otherwise.
constexpr std::size_t kDefaultResultSize = 1000;
// Exchange's warning when the default ResultSize cut the answer.
constexpr const char* kMoreResults =
    "There are more results available than are currently displayed. To view them, increase the "
    "value for the ResultSize parameter.";
// What every Exchange object of the Exchange Online forest reports [obs: the Burp capture].
constexpr const char* kExchangeVersion = "0.20 (15.0.0.0)";

std::unexpected<Error> BindingError(std::string message) {
  return Fail(ErrorCategory::kConfiguration, kBinding, std::move(message));
}

// ---- Parameters ----

enum class Kind {
  kString,          // one value; numbers and booleans become their text, as PowerShell does
  kStrings,         // multi-valued: one value or a JSON array
  kBool,            // $true/$false or a number
  kNullableBool,    // the same, or $null (Set-OrganizationConfig -EwsEnabled $null)
  kNullableString,  // one value or $null (-EwsAllowedAppIDs $null, -CustomAttribute1 $null)
  kSwitch,          // true/false (-Shared, -Confirm:$false)
};

struct ParamSpec {
  const char* name;
  Kind kind;
  // The .NET type the cmdlet declares, named in conversion errors [infer: the Exchange
  // *IdParameter types as the cmdlet help pages list them].
  const char* type;
  bool mandatory = false;
};

constexpr const char* kStringType = "System.String";
constexpr const char* kBoolType = "System.Boolean";
constexpr const char* kSwitchType = "System.Management.Automation.SwitchParameter";

// The name PowerShell gives a JSON value's .NET type in conversion messages.
const char* DotNetTypeOf(const json& v) {
  if (v.is_array()) return "System.Object[]";
  if (v.is_object()) return "System.Collections.Hashtable";
  if (v.is_string()) return "System.String";
  if (v.is_boolean()) return "System.Boolean";
  if (v.is_number_integer()) return "System.Int32";
  if (v.is_number()) return "System.Double";
  return "System.Object";
}

std::optional<std::string> ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "True" : "False");
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

// The arguments a cmdlet was bound with, by the parameter's canonical name.
class Arguments {
 public:
  void Set(const char* name, json value) { values_[name] = std::move(value); }
  bool Has(std::string_view name) const { return values_.contains(std::string(name)); }
  // "" when absent or $null.
  std::string String(std::string_view name) const {
    auto it = values_.find(std::string(name));
    return it == values_.end() || !it->second.is_string() ? std::string()
                                                          : it->second.get<std::string>();
  }
  std::vector<std::string> Strings(std::string_view name) const {
    std::vector<std::string> out;
    auto it = values_.find(std::string(name));
    if (it == values_.end() || !it->second.is_array()) return out;
    for (const json& v : it->second) out.push_back(v.get<std::string>());
    return out;
  }
  bool Switch(std::string_view name) const {
    auto it = values_.find(std::string(name));
    return it != values_.end() && it->second.is_boolean() && it->second.get<bool>();
  }
  // Absent: nullopt; $null: a contained nullopt.
  std::optional<std::optional<bool>> NullableBool(std::string_view name) const {
    auto it = values_.find(std::string(name));
    if (it == values_.end()) return std::nullopt;
    // Built in place: g++ 12 warns (maybe-uninitialized) on a converted empty inner optional.
    if (it->second.is_null())
      return std::optional<std::optional<bool>>(std::in_place, std::nullopt);
    return std::optional<std::optional<bool>>(std::in_place, it->second.get<bool>());
  }
  std::optional<std::optional<std::string>> NullableString(std::string_view name) const {
    auto it = values_.find(std::string(name));
    if (it == values_.end()) return std::nullopt;
    if (it->second.is_null()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.get<std::string>());
  }

 private:
  std::map<std::string, json> values_;
};

Result<json> Convert(const ParamSpec& spec, const json& v) {
  auto cannot_convert = [&spec](const json& value) {
    return BindingError(std::string("Cannot convert '") + DotNetTypeOf(value) + "' to the type '" +
                        spec.type + "' required by parameter '" + spec.name +
                        "'. Specified method is not supported.");
  };
  switch (spec.kind) {
    case Kind::kString:
    case Kind::kNullableString: {
      if (v.is_null()) return json();  // kString: Bind treats it as not given
      auto text = ScalarText(v);
      if (!text) return cannot_convert(v);
      return json(*text);
    }
    case Kind::kStrings: {
      json out = json::array();
      if (v.is_null()) return out;
      if (!v.is_array()) {
        auto text = ScalarText(v);
        if (!text) return cannot_convert(v);
        out.push_back(*text);
        return out;
      }
      for (const json& e : v) {
        auto text = ScalarText(e);
        if (!text) return cannot_convert(e);
        out.push_back(*text);
      }
      return out;
    }
    case Kind::kBool:
    case Kind::kNullableBool:
    case Kind::kSwitch: {
      if (v.is_boolean()) return v;
      if (v.is_number()) return json(v.get<double>() != 0);
      if (v.is_null()) {
        if (spec.kind == Kind::kNullableBool) return json();
        if (spec.kind == Kind::kSwitch) return json(false);
      }
      // PowerShell's own text for a Boolean or switch parameter given anything else.
      return BindingError(std::string("Cannot process argument transformation on parameter '") +
                          spec.name + "'. Cannot convert value \"" + DotNetTypeOf(v) +
                          "\" to type \"" + (spec.kind == Kind::kSwitch ? kSwitchType : kBoolType) +
                          "\". Boolean parameters accept only Boolean values and numbers, such as "
                          "$True, $False, 1 or 0.");
    }
  }
  return cannot_convert(v);
}

// Binds Parameters as the cmdlet's parameter binder does: names in any letter case, each once;
// annotation keys ("X@odata.type") are the module's type hints, not parameters.
Result<Arguments> Bind(const std::vector<ParamSpec>& specs, const json& parameters) {
  Arguments args;
  if (!parameters.is_null() && !parameters.is_object()) {
    // [infer] the binder's text when Parameters is not a hash table.
    return BindingError("Cannot bind parameters: CmdletInput.Parameters must be a hash table.");
  }
  std::set<std::string> seen;
  std::map<std::string, bool> was_null;
  if (parameters.is_object()) {
    for (const auto& [key, value] : parameters.items()) {
      if (key.find('@') != std::string::npos) continue;
      const ParamSpec* spec = nullptr;
      for (const ParamSpec& s : specs) {
        if (AsciiIEquals(s.name, key)) spec = &s;
      }
      if (!spec) {
        // PowerShell's text; the service answers 400 naming the parameter (LiveTests 2026-09-25).
        return BindingError("A parameter cannot be found that matches parameter name '" + key +
                            "'.");
      }
      if (!seen.insert(spec->name).second) {
        return BindingError(std::string("Cannot bind parameter because parameter '") + spec->name +
                            "' is specified more than once. To provide multiple values to "
                            "parameters that can accept multiple values, use the array syntax. "
                            "For example, \"-parameter value1,value2,value3\".");
      }
      auto converted = Convert(*spec, value);
      if (!converted) return std::unexpected(converted.error());
      was_null[spec->name] = value.is_null();
      if (spec->kind == Kind::kString && value.is_null()) continue;
      args.Set(spec->name, std::move(*converted));
    }
  }
  std::string missing;
  for (const ParamSpec& s : specs) {
    if (!s.mandatory) continue;
    if (!seen.contains(s.name)) {
      missing += (missing.empty() ? "" : " ") + std::string(s.name);
      continue;
    }
    // PowerShell's validation of mandatory arguments.
    if (was_null[s.name]) {
      return BindingError(std::string("Cannot bind argument to parameter '") + s.name +
                          "' because it is null.");
    }
    if (s.kind == Kind::kStrings && args.Strings(s.name).empty()) {
      return BindingError(std::string("Cannot bind argument to parameter '") + s.name +
                          "' because it is an empty array.");
    }
    if (s.kind == Kind::kString && args.String(s.name).empty()) {
      return BindingError(std::string("Cannot bind argument to parameter '") + s.name +
                          "' because it is an empty string.");
    }
  }
  if (!missing.empty()) {
    return BindingError(
        "Cannot process command because of one or more missing mandatory parameters: " + missing +
        ".");
  }
  return args;
}

// "Unable to match the identifier name …": PowerShell's enum conversion failure.
std::unexpected<Error> NotAnEnumValue(const char* parameter, const std::string& value,
                                      const char* type, const char* names) {
  return BindingError(std::string("Cannot bind parameter '") + parameter +
                      "'. Cannot convert value \"" + value + "\" to type \"" + type +
                      "\". Error: \"Unable to match the identifier name " + value +
                      " to a valid enumerator name. Specify one of the following enumerator "
                      "names and try again:\r\n" +
                      names + "\"");
}

// -ResultSize: "Unlimited" or a positive number; absent: the default 1000.
Result<std::optional<std::size_t>> ResultSize(const Arguments& args) {
  if (!args.Has("ResultSize")) return std::optional<std::size_t>(kDefaultResultSize);
  const std::string text = args.String("ResultSize");
  if (AsciiIEquals(text, "Unlimited")) return std::optional<std::size_t>();
  std::size_t n = 0;
  bool digits = !text.empty() && text.size() < 10;
  for (char c : text) {
    digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!digits || n == 0) {
    // The module's own check (tmpEXO-C#); the server's wording is the same [infer].
    return BindingError("Cannot bind parameter 'ResultSize'. Cannot convert value \"" + text +
                        "\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\". "
                        "Error: \"ResultSize must be greater than 0\"");
  }
  return std::optional<std::size_t>(n);
}

void ApplyResultSize(CmdletOutput& out, std::optional<std::size_t> limit, bool explicit_limit) {
  if (!limit || out.objects.size() <= *limit) return;
  out.objects.resize(*limit);
  if (!explicit_limit) out.warnings.push_back(kMoreResults);
}

// ---- Output objects ----

// Builds one output object in the REST transport's JSON: annotations precede their value.
class ObjectBuilder {
 public:
  ObjectBuilder& Str(const std::string& key, const std::string& value) {
    o_[key] = value;
    return *this;
  }
  ObjectBuilder& OptStr(const std::string& key, const std::string& value) {
    if (value.empty()) {
      o_[key] = nullptr;
    } else {
      o_[key] = value;
    }
    return *this;
  }
  ObjectBuilder& Guid(const std::string& key, const std::string& value) {
    o_[key + "@data.type"] = "System.Guid";
    o_[key + "@odata.type"] = "#Guid";
    o_[key] = value;
    return *this;
  }
  ObjectBuilder& Strings(const std::string& key, const std::vector<std::string>& values) {
    o_[key + "@odata.type"] = "#Collection(String)";
    o_[key] = values;
    return *this;
  }
  ObjectBuilder& Bool(const std::string& key, bool value) {
    o_[key] = value;
    return *this;
  }
  ObjectBuilder& NullableBool(const std::string& key, std::optional<bool> value) {
    if (value) {
      o_[key] = *value;
    } else {
      o_[key] = nullptr;
    }
    return *this;
  }
  ObjectBuilder& Null(const std::string& key) {
    o_[key] = nullptr;
    return *this;
  }
  // The properties every configuration object ends with (the Burp capture's order).
  ObjectBuilder& Trailer(const std::string& identity, const std::string& guid = {},
                         const std::string& dn = {}) {
    Str("Identity", identity);
    Str("Id", identity);
    Bool("IsValid", true);
    Str("ExchangeVersion", kExchangeVersion);
    if (!dn.empty()) Str("DistinguishedName", dn);
    if (!guid.empty()) Guid("Guid", guid);
    Str("ObjectState", "Unchanged");
    return *this;
  }
  ojson Take() { return std::move(o_); }

 private:
  ojson o_ = ojson::object();
};

const char* RecipientTypeOf(RecipientKind kind) {
  return kind == RecipientKind::kSharedMailbox ? "UserMailbox" : ToString(kind);
}

void CustomAttributes(ObjectBuilder& b, const Recipient& r) {
  for (int i = 1; i <= 15; ++i) {
    const std::string key = "CustomAttribute" + std::to_string(i);
    auto it = r.custom_attributes.find(key);
    b.Str(key, it == r.custom_attributes.end() ? std::string() : it->second);
  }
}

std::vector<std::string> EmailAddresses(const Recipient& r, const std::optional<Mailbox>& m) {
  if (m) return m->proxy_addresses;
  return {"SMTP:" + r.primary_smtp_address};
}

ojson MailboxObject(const Recipient& r, const Mailbox& m) {
  ObjectBuilder b;
  const bool shared = r.kind == RecipientKind::kSharedMailbox;
  b.Str("Name", r.name)
      .Str("Alias", r.alias)
      .Str("DisplayName", r.display_name)
      .Str("UserPrincipalName", m.user_principal_name)
      .Str("MicrosoftOnlineServicesID", shared ? std::string() : m.user_principal_name)
      .Str("PrimarySmtpAddress", r.primary_smtp_address)
      .Strings("EmailAddresses", m.proxy_addresses)
      .Str("RecipientType", RecipientTypeOf(r.kind))
      .Str("RecipientTypeDetails", ToString(r.kind))
      .Bool("IsShared", shared)
      .Guid("ExchangeGuid", m.object_guid)
      // [infer] a database name of the EXO shape; the value is immaterial.
      .Str("Database", "EURPR01DG001-db001")
      .Str("ProhibitSendQuota", "99 GB (106,300,440,576 bytes)")  // [obs] the Burp capture
      .Str("ExternalDirectoryObjectId", m.directory_object_id);
  CustomAttributes(b, r);
  b.Trailer(r.name, r.guid, r.distinguished_name);
  return b.Take();
}

ojson RecipientObject(const Recipient& r, const std::optional<Mailbox>& m) {
  ObjectBuilder b;
  b.Str("Name", r.name)
      .Str("Alias", r.alias)
      .Str("DisplayName", r.display_name)
      .Str("PrimarySmtpAddress", r.primary_smtp_address)
      .Strings("EmailAddresses", EmailAddresses(r, m))
      .OptStr("ExternalEmailAddress", r.external_email_address)
      .Str("RecipientType", RecipientTypeOf(r.kind))
      .Str("RecipientTypeDetails", ToString(r.kind))
      .Bool("IsValidSecurityPrincipal", r.is_valid_security_principal)
      .Str("ExternalDirectoryObjectId", m ? m->directory_object_id : std::string());
  CustomAttributes(b, r);
  b.Trailer(r.name, r.guid, r.distinguished_name);
  return b.Take();
}

ojson MailUserObject(const Recipient& r) {
  ObjectBuilder b;
  b.Str("Name", r.name)
      .Str("Alias", r.alias)
      .Str("DisplayName", r.display_name)
      .Str("PrimarySmtpAddress", r.primary_smtp_address)
      .Str("MicrosoftOnlineServicesID", r.primary_smtp_address)
      .Str("ExternalEmailAddress", r.external_email_address)
      .Strings("EmailAddresses", EmailAddresses(r, std::nullopt))
      .Str("RecipientType", "MailUser")
      .Str("RecipientTypeDetails", "MailUser");
  CustomAttributes(b, r);
  b.Trailer(r.name, r.guid, r.distinguished_name);
  return b.Take();
}

ojson GroupObject(const Recipient& r) {
  const bool security = r.kind == RecipientKind::kMailUniversalSecurityGroup;
  ObjectBuilder b;
  b.Str("Name", r.name)
      .Str("DisplayName", r.display_name)
      .Str("Alias", r.alias)
      // [infer] EXO shows the on-premises view's GroupType (research §5).
      .Str("GroupType", security ? "Universal, SecurityEnabled" : "Universal")
      .Str("PrimarySmtpAddress", r.primary_smtp_address)
      .Strings("EmailAddresses", EmailAddresses(r, std::nullopt))
      .Str("RecipientType", ToString(r.kind))
      .Str("RecipientTypeDetails", ToString(r.kind))
      .Strings("ManagedBy", {})
      .Bool("IsValidSecurityPrincipal", r.is_valid_security_principal);
  b.Trailer(r.name, r.guid, r.distinguished_name);
  return b.Take();
}

ojson ServicePrincipalObject(const ServicePrincipal& sp) {
  ObjectBuilder b;
  b.Str("DisplayName", sp.display_name)
      .Str("ObjectId", sp.object_id)
      .Str("AppId", sp.app_id)
      .Str("Name", sp.name);
  b.Trailer(sp.identity);
  return b.Take();
}

ojson PolicyObject(const ApplicationAccessPolicy& p) {
  // The order of the real object's list view (shared notes §1.5).
  ObjectBuilder b;
  b.Str("ScopeName", p.scope_name)
      .Str("ScopeIdentity", p.scope_identity)
      .Str("Identity", p.identity)
      .Str("AppId", p.app_id)
      .Str("ScopeIdentityRaw", p.scope_identity_raw)
      .Str("Description", p.description)
      .Str("AccessRight", ToString(p.access_right))
      .Str("ShardType", p.shard_type)
      .Bool("IsValid", p.is_valid)
      .Str("ObjectState", p.object_state);
  return b.Take();
}

ojson AccessCheckObject(const ApplicationAccessCheck& c) {
  ObjectBuilder b;
  b.Str("AppId", c.app_id)
      .Str("Mailbox", c.mailbox)
      .Str("MailboxId", c.mailbox_id)
      .Str("MailboxSid", c.mailbox_sid)
      .Str("AccessCheckResult", c.access_check_result);
  return b.Take();
}

ojson ScopeObject(const ManagementScope& s) {
  ObjectBuilder b;
  b.Str("Name", s.name)
      .Str("ScopeRestrictionType", s.scope_restriction_type)
      .Bool("Exclusive", s.exclusive)
      .OptStr("RecipientRoot", s.recipient_root)
      .Str("RecipientFilter", s.recipient_filter)
      .Str("ServerFilter", "");  // the sixth column of the real table (research §7)
  b.Trailer(s.name);
  return b.Take();
}

ojson AssignmentObject(const ManagementRoleAssignment& a) {
  ObjectBuilder b;
  b.Str("Name", a.name)
      .Str("Role", a.role)
      .Str("RoleAssigneeName", a.role_assignee_name)
      .Str("RoleAssigneeType", a.role_assignee_type)
      .Str("AssignmentMethod", a.assignment_method)
      .OptStr("CustomResourceScope", a.custom_resource_scope)
      .Str("RecipientWriteScope", a.recipient_write_scope)
      .Bool("Enabled", true);
  b.Trailer(a.name);
  return b.Take();
}

ojson AuthorizationRowObject(const ServicePrincipalAuthorizationRow& r) {
  ObjectBuilder b;
  b.Str("RoleName", r.role_name)
      .Str("GrantedPermissions", r.granted_permissions)
      .Str("AllowedResourceScope", r.allowed_resource_scope)
      .Str("ScopeType", r.scope_type)
      .Str("InScope", r.in_scope);
  return b.Take();
}

ojson CasMailboxObject(const CasMailbox& c, const Recipient& r) {
  ObjectBuilder b;
  b.Str("Name", c.name)
      .Str("DisplayName", r.display_name)
      .Str("PrimarySmtpAddress", c.primary_smtp_address)
      .NullableBool("EwsEnabled", c.ews_enabled);
  b.Trailer(c.name, r.guid, r.distinguished_name);
  return b.Take();
}

// ---- Helpers over the model ----

std::string OrgDomain(const CmdletContext& ctx) {
  for (const Organization& o : ctx.store.ListOrganizations()) {
    if (AsciiIEquals(o.id, ctx.organization_id) && o.name.find('.') != std::string::npos) {
      return AsciiLower(o.name);
    }
  }
  for (const Mailbox& m : ctx.store.ListMailboxes(ctx.organization_id)) {
    return AsciiLower(m.primary_smtp_address.substr(m.primary_smtp_address.find('@') + 1));
  }
  return ctx.caller_domain.empty() ? ctx.organization_id : ctx.caller_domain;
}

std::string OrgName(const CmdletContext& ctx) {
  for (const Organization& o : ctx.store.ListOrganizations()) {
    if (AsciiIEquals(o.id, ctx.organization_id)) return o.name;
  }
  return ctx.organization_id;
}

std::optional<Mailbox> StoreMailbox(const CmdletContext& ctx, const Recipient& r) {
  if (r.kind != RecipientKind::kUserMailbox && r.kind != RecipientKind::kSharedMailbox) {
    return std::nullopt;
  }
  auto m = ctx.store.ResolveMailbox(r.guid, MailboxKey::kObjectGuid);
  if (!m) return std::nullopt;
  return *m;
}

// A mailbox by any identity; other recipients are "not found" as Get-Mailbox says.
Result<std::pair<Recipient, Mailbox>> ResolveMailbox(const CmdletContext& ctx,
                                                     std::string_view identity) {
  // GetCasMailbox resolves mailboxes only, with the model's not-found text for anything else.
  if (auto cas = ctx.admin.GetCasMailbox(ctx.organization_id, identity); !cas) {
    return std::unexpected(cas.error());
  }
  auto r = ctx.admin.GetRecipient(ctx.organization_id, identity);
  if (!r) return std::unexpected(r.error());
  auto m = StoreMailbox(ctx, *r);
  if (!m) {  // removed from the store between the two reads
    return Fail(ErrorCategory::kNotFound, admin_codes::kObjectNotFound,
                "The operation couldn't be performed because object '" + std::string(identity) +
                    "' couldn't be found.");
  }
  return std::make_pair(*r, *m);
}

std::vector<Recipient> MailboxRecipients(const CmdletContext& ctx) {
  std::vector<Recipient> out;
  for (const Recipient& r : ctx.admin.ListRecipients(ctx.organization_id)) {
    if (r.kind == RecipientKind::kUserMailbox || r.kind == RecipientKind::kSharedMailbox) {
      out.push_back(r);
    }
  }
  return out;
}

bool TypeSelected(const std::vector<std::string>& types, RecipientKind kind) {
  if (types.empty()) return true;
  for (const std::string& t : types) {
    if (AsciiIEquals(t, ToString(kind))) return true;
  }
  return false;
}

std::string NoChangeWarning(const std::string& identity) {
  // [infer] the classic text LiveTests saw a "modified" warning for (research §3.1).
  return "The command completed successfully but no settings of '" + identity +
         "' have been modified.";
}

bool IsSmtpAddress(std::string_view s) {
  const std::size_t at = s.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
         s.find('@', at + 1) == std::string_view::npos && s.find(' ') == std::string_view::npos;
}

std::string AliasOf(std::string_view name) {
  std::string alias;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') {
      alias += c;
    }
  }
  return alias;
}

// New-Mailbox's refusal of an address in use: the real text and exception (research §4.3,
// idx:51881898983).
std::unexpected<Error> ProxyAddressInUse(const std::string& smtp) {
  return Fail(ErrorCategory::kConfiguration, "WLCDManagedMemberExistsException",
              "The proxy address \"SMTP:" + smtp +
                  "\" is already being used by the proxy addresses or LegacyExchangeDN. Please "
                  "choose another proxy address.");
}

// ---- The cmdlets ----

using Handler = std::function<Result<CmdletOutput>(const Arguments&, const CmdletContext&)>;

// Recipients and mailboxes.

Result<CmdletOutput> NewMailbox(const Arguments& a, const CmdletContext& ctx) {
  const bool shared = a.Switch("Shared");
  const std::string mosid = a.String("MicrosoftOnlineServicesID");
  if (!shared) {
    // The default (user) parameter set: the new user's sign-in name and password.
    std::string missing;
    if (mosid.empty()) missing = "MicrosoftOnlineServicesID";
    if (a.String("Password").empty()) {
      missing += std::string(missing.empty() ? "" : " ") + "Password";
    }
    if (!missing.empty()) {
      return BindingError(
          "Cannot process command because of one or more missing mandatory parameters: " + missing +
          ".");
    }
  }
  const std::string name = a.String("Name");
  std::string smtp = a.String("PrimarySmtpAddress");
  if (smtp.empty()) {
    smtp = shared ? (a.Has("Alias") ? a.String("Alias") : AliasOf(name)) + "@" + OrgDomain(ctx)
                  : mosid;
  }
  for (const auto& [parameter, value] :
       {std::pair<const char*, std::string>{"PrimarySmtpAddress", smtp},
        std::pair<const char*, std::string>{"MicrosoftOnlineServicesID", mosid}}) {
    if (!value.empty() && !IsSmtpAddress(value)) {
      return BindingError(std::string("Cannot bind parameter '") + parameter + "'. \"" + value +
                          "\" isn't a valid SMTP address.");
    }
  }
  // Both conflicts are checked before the store is touched, so a refused New-Mailbox leaves
  // nothing behind.
  for (const Recipient& r : ctx.admin.ListRecipients(ctx.organization_id)) {
    if (AsciiIEquals(r.name, name)) {
      return Fail(ErrorCategory::kConfiguration, "ADObjectAlreadyExistsException",
                  "The name \"" + name + "\" is already being used. Please try another name.");
    }
  }
  bool address_taken = ctx.store.ResolveMailbox(smtp, MailboxKey::kSmtpAddress).has_value() ||
                       (!mosid.empty() && ctx.store.ResolveMailbox(mosid).has_value());
  for (const Recipient& r : ctx.admin.ListRecipients(ctx.organization_id)) {
    address_taken = address_taken || AsciiIEquals(r.primary_smtp_address, smtp);
  }
  if (address_taken) return ProxyAddressInUse(smtp);
  MailboxSpec spec;
  spec.organization_id = ctx.organization_id;
  spec.primary_smtp_address = smtp;
  spec.user_principal_name = shared ? smtp : mosid;
  spec.display_name = a.Has("DisplayName") ? a.String("DisplayName") : name;
  spec.kind = shared ? MailboxKind::kShared : MailboxKind::kUser;
  auto created = ctx.store.CreateMailbox(spec);
  if (!created) {
    if (created.error().code != codes::kProxyAddressExists) {
      return std::unexpected(created.error());
    }
    return ProxyAddressInUse(smtp);
  }
  if (created->alias != name) {
    if (auto named = ctx.admin.SetMailboxName(ctx.organization_id, created->object_guid, name);
        !named) {
      (void)ctx.store.RemoveMailbox(created->primary_smtp_address);
      return std::unexpected(named.error());
    }
  }
  auto r = ctx.admin.GetRecipient(ctx.organization_id, created->object_guid);
  if (!r) return std::unexpected(r.error());
  CmdletOutput out;
  out.objects.push_back(MailboxObject(*r, *created));
  return out;
}

Result<CmdletOutput> GetMailbox(const Arguments& a, const CmdletContext& ctx) {
  auto limit = ResultSize(a);
  if (!limit) return std::unexpected(limit.error());
  CmdletOutput out;
  const std::vector<std::string> types = a.Strings("RecipientTypeDetails");
  if (a.Has("Identity")) {
    auto found = ResolveMailbox(ctx, a.String("Identity"));
    if (!found) return std::unexpected(found.error());
    if (TypeSelected(types, found->first.kind)) {
      out.objects.push_back(MailboxObject(found->first, found->second));
    }
    return out;
  }
  for (const Recipient& r : MailboxRecipients(ctx)) {
    if (!TypeSelected(types, r.kind)) continue;
    if (auto m = StoreMailbox(ctx, r)) out.objects.push_back(MailboxObject(r, *m));
  }
  ApplyResultSize(out, *limit, a.Has("ResultSize"));
  return out;
}

Result<CmdletOutput> SetMailbox(const Arguments& a, const CmdletContext& ctx) {
  auto found = ResolveMailbox(ctx, a.String("Identity"));
  if (!found) return std::unexpected(found.error());
  const Recipient& r = found->first;
  bool changed = false;
  // The one step that can fail goes first: a refused rename changes nothing.
  if (a.Has("Name") && a.String("Name") != r.name) {
    auto named = ctx.admin.SetMailboxName(ctx.organization_id, r.guid, a.String("Name"));
    if (!named) return std::unexpected(named.error());
    changed = true;
  }
  for (int i = 1; i <= 15; ++i) {
    const std::string key = "CustomAttribute" + std::to_string(i);
    auto value = a.NullableString(key);
    if (!value) continue;
    const std::string wanted = value->value_or("");
    auto it = r.custom_attributes.find(key);
    const std::string current = it == r.custom_attributes.end() ? std::string() : it->second;
    if (wanted == current) continue;
    if (auto set = ctx.admin.SetCustomAttribute(ctx.organization_id, r.guid, i, wanted); !set) {
      return std::unexpected(set.error());
    }
    changed = true;
  }
  CmdletOutput out;
  if (!changed) out.warnings.push_back(NoChangeWarning(r.name));
  return out;
}

Result<CmdletOutput> RemoveMailbox(const Arguments& a, const CmdletContext& ctx) {
  auto found = ResolveMailbox(ctx, a.String("Identity"));
  if (!found) return std::unexpected(found.error());
  if (auto removed = ctx.store.RemoveMailbox(found->second.primary_smtp_address); !removed) {
    return std::unexpected(removed.error());
  }
  return CmdletOutput{};
}

Result<CmdletOutput> NewMailUser(const Arguments& a, const CmdletContext& ctx) {
  NewMailUserParams p;
  p.name = a.String("Name");
  p.display_name = a.String("DisplayName");
  p.alias = a.String("Alias");
  p.primary_smtp_address = a.String("PrimarySmtpAddress");
  if (p.primary_smtp_address.empty())
    p.primary_smtp_address = a.String("MicrosoftOnlineServicesID");
  p.external_email_address = a.String("ExternalEmailAddress");
  auto r = ctx.admin.NewMailUser(ctx.organization_id, p);
  if (!r) return std::unexpected(r.error());
  CmdletOutput out;
  out.objects.push_back(MailUserObject(*r));
  return out;
}

Result<CmdletOutput> NewDistributionGroup(const Arguments& a, const CmdletContext& ctx) {
  NewDistributionGroupParams p;
  p.name = a.String("Name");
  p.display_name = a.String("DisplayName");
  p.alias = a.String("Alias");
  p.primary_smtp_address = a.String("PrimarySmtpAddress");
  if (a.Has("Type")) {
    const std::string type = a.String("Type");
    if (AsciiIEquals(type, "Security")) {
      p.type = GroupType::kSecurity;
    } else if (!AsciiIEquals(type, "Distribution")) {
      return NotAnEnumValue("Type", type, "Microsoft.Exchange.Management.RecipientTasks.GroupType",
                            "Distribution, Security");
    }
  }
  p.members = a.Strings("Members");
  auto r = ctx.admin.NewDistributionGroup(ctx.organization_id, p);
  if (!r) return std::unexpected(r.error());
  CmdletOutput out;
  out.objects.push_back(GroupObject(*r));
  return out;
}

Result<CmdletOutput> AddDistributionGroupMember(const Arguments& a, const CmdletContext& ctx) {
  auto added = ctx.admin.AddDistributionGroupMember(ctx.organization_id,
                                                    {a.String("Identity"), a.String("Member")});
  if (!added) return std::unexpected(added.error());
  return CmdletOutput{};
}

Result<CmdletOutput> RemoveDistributionGroupMember(const Arguments& a, const CmdletContext& ctx) {
  auto removed = ctx.admin.RemoveDistributionGroupMember(
      ctx.organization_id, {a.String("Identity"), a.String("Member")});
  if (!removed) return std::unexpected(removed.error());
  return CmdletOutput{};
}

Result<CmdletOutput> GetDistributionGroupMember(const Arguments& a, const CmdletContext& ctx) {
  auto limit = ResultSize(a);
  if (!limit) return std::unexpected(limit.error());
  auto members = ctx.admin.GetDistributionGroupMember(ctx.organization_id, a.String("Identity"));
  if (!members) return std::unexpected(members.error());
  CmdletOutput out;
  for (const Recipient& r : *members)
    out.objects.push_back(RecipientObject(r, StoreMailbox(ctx, r)));
  ApplyResultSize(out, *limit, a.Has("ResultSize"));
  return out;
}

Result<CmdletOutput> GetRecipient(const Arguments& a, const CmdletContext& ctx) {
  auto limit = ResultSize(a);
  if (!limit) return std::unexpected(limit.error());
  const std::vector<std::string> types = a.Strings("RecipientTypeDetails");
  CmdletOutput out;
  if (a.Has("Identity")) {
    auto r = ctx.admin.GetRecipient(ctx.organization_id, a.String("Identity"));
    if (!r) return std::unexpected(r.error());
    if (TypeSelected(types, r->kind))
      out.objects.push_back(RecipientObject(*r, StoreMailbox(ctx, *r)));
    return out;
  }
  for (const Recipient& r : ctx.admin.ListRecipients(ctx.organization_id)) {
    if (TypeSelected(types, r.kind))
      out.objects.push_back(RecipientObject(r, StoreMailbox(ctx, r)));
  }
  ApplyResultSize(out, *limit, a.Has("ResultSize"));
  return out;
}

// Service principals.

Result<CmdletOutput> NewServicePrincipal(const Arguments& a, const CmdletContext& ctx) {
  NewServicePrincipalParams p;
  p.app_id = a.String("AppId");
  p.object_id = a.String("ObjectId");
  p.service_id = a.String("ServiceId");  // the deprecated spelling the seed uses
  p.display_name = a.String("DisplayName");
  auto sp = ctx.admin.NewServicePrincipal(ctx.organization_id, p);
  if (!sp) return std::unexpected(sp.error());
  CmdletOutput out;
  out.objects.push_back(ServicePrincipalObject(*sp));
  return out;
}

Result<CmdletOutput> GetServicePrincipal(const Arguments& a, const CmdletContext& ctx) {
  auto sps = ctx.admin.GetServicePrincipal(ctx.organization_id, a.String("Identity"));
  if (!sps) return std::unexpected(sps.error());
  CmdletOutput out;
  for (const ServicePrincipal& sp : *sps) out.objects.push_back(ServicePrincipalObject(sp));
  return out;
}

Result<CmdletOutput> RemoveServicePrincipal(const Arguments& a, const CmdletContext& ctx) {
  if (auto removed = ctx.admin.RemoveServicePrincipal(ctx.organization_id, a.String("Identity"));
      !removed) {
    return std::unexpected(removed.error());
  }
  return CmdletOutput{};
}

// Application access policies.

// The Description the service writes when -Description is omitted (idx:10048617243); the line
// breaks are in the value [infer from the list layout].
std::string DefaultPolicyDescription(const std::string& app_id, const Recipient& scope,
                                     const std::optional<Mailbox>& mailbox, AccessRight right) {
  const std::string oid = mailbox && !mailbox->directory_object_id.empty()
                              ? mailbox->directory_object_id
                              : scope.guid;  // [infer] the Entra object id where the mock has one
  return "AppId: " + app_id + ";\n ScopeIdentitySid: " + scope.sid +
         ";\n ScopeIdentityOid: " + oid + ";\n AccessRight: " + ToString(right) +
         "; ShardType: All";
}

Result<CmdletOutput> NewApplicationAccessPolicy(const Arguments& a, const CmdletContext& ctx) {
  NewApplicationAccessPolicyParams p;
  const std::string right = a.String("AccessRight");
  auto parsed = ParseAccessRight(right);
  if (!parsed) {
    return NotAnEnumValue("AccessRight", right,
                          "Microsoft.Exchange.Data.Directory.ApplicationAccessPolicyRight",
                          "RestrictAccess, DenyAccess");
  }
  p.access_right = *parsed;
  p.app_ids = a.Strings("AppId");
  p.policy_scope_group_id = a.String("PolicyScopeGroupId");
  CmdletOutput out;
  if (a.Has("Description")) {
    p.description = a.String("Description");
    auto made = ctx.admin.NewApplicationAccessPolicy(ctx.organization_id, p);
    if (!made) return std::unexpected(made.error());
    for (const ApplicationAccessPolicy& policy : *made) out.objects.push_back(PolicyObject(policy));
    return out;
  }
  // Without a Description each policy gets its own generated one, so they are made one by one,
  // and undone if a later one is refused.
  auto scope = ctx.admin.GetRecipient(ctx.organization_id, p.policy_scope_group_id);
  std::vector<ApplicationAccessPolicy> made_so_far;
  for (const std::string& app : p.app_ids) {
    NewApplicationAccessPolicyParams one = p;
    one.app_ids = {app};
    if (scope) {
      one.description = DefaultPolicyDescription(AsciiLower(internal::TrimWhitespace(app)), *scope,
                                                 StoreMailbox(ctx, *scope), p.access_right);
    }
    auto made = ctx.admin.NewApplicationAccessPolicy(ctx.organization_id, one);
    if (!made) {
      for (const ApplicationAccessPolicy& undo : made_so_far) {
        (void)ctx.admin.RemoveApplicationAccessPolicy(ctx.organization_id, undo.identity);
      }
      return std::unexpected(made.error());
    }
    for (const ApplicationAccessPolicy& policy : *made) made_so_far.push_back(policy);
  }
  if (p.app_ids.empty()) {
    auto made = ctx.admin.NewApplicationAccessPolicy(ctx.organization_id, p);  // its own error
    if (!made) return std::unexpected(made.error());
  }
  for (const ApplicationAccessPolicy& policy : made_so_far)
    out.objects.push_back(PolicyObject(policy));
  return out;
}

Result<CmdletOutput> GetApplicationAccessPolicy(const Arguments& a, const CmdletContext& ctx) {
  auto policies = ctx.admin.GetApplicationAccessPolicy(ctx.organization_id, a.String("Identity"));
  if (!policies) return std::unexpected(policies.error());
  CmdletOutput out;
  for (const ApplicationAccessPolicy& p : *policies) out.objects.push_back(PolicyObject(p));
  return out;
}

Result<CmdletOutput> SetApplicationAccessPolicy(const Arguments& a, const CmdletContext& ctx) {
  CmdletOutput out;
  if (!a.Has("Description")) {
    auto current = ctx.admin.GetApplicationAccessPolicy(ctx.organization_id, a.String("Identity"));
    if (!current) return std::unexpected(current.error());
    out.warnings.push_back(NoChangeWarning(a.String("Identity")));
    return out;
  }
  auto set = ctx.admin.SetApplicationAccessPolicy(ctx.organization_id,
                                                  {a.String("Identity"), a.String("Description")});
  if (!set) return std::unexpected(set.error());
  return out;
}

Result<CmdletOutput> RemoveApplicationAccessPolicy(const Arguments& a, const CmdletContext& ctx) {
  if (auto removed =
          ctx.admin.RemoveApplicationAccessPolicy(ctx.organization_id, a.String("Identity"));
      !removed) {
    return std::unexpected(removed.error());
  }
  return CmdletOutput{};
}

Result<CmdletOutput> TestApplicationAccessPolicy(const Arguments& a, const CmdletContext& ctx) {
  auto check = ctx.admin.TestApplicationAccessPolicy(ctx.organization_id,
                                                     {a.String("Identity"), a.String("AppId")});
  if (!check) return std::unexpected(check.error());
  CmdletOutput out;
  out.objects.push_back(AccessCheckObject(*check));
  return out;
}

// RBAC for Applications.

Result<CmdletOutput> NewManagementScope(const Arguments& a, const CmdletContext& ctx) {
  auto scope = ctx.admin.NewManagementScope(
      ctx.organization_id, {a.String("Name"), a.String("RecipientRestrictionFilter")});
  if (!scope) return std::unexpected(scope.error());
  CmdletOutput out;
  out.objects.push_back(ScopeObject(*scope));
  return out;
}

Result<CmdletOutput> GetManagementScope(const Arguments& a, const CmdletContext& ctx) {
  auto scopes = ctx.admin.GetManagementScope(ctx.organization_id, a.String("Identity"));
  if (!scopes) return std::unexpected(scopes.error());
  CmdletOutput out;
  for (const ManagementScope& s : *scopes) out.objects.push_back(ScopeObject(s));
  return out;
}

Result<CmdletOutput> RemoveManagementScope(const Arguments& a, const CmdletContext& ctx) {
  if (auto removed = ctx.admin.RemoveManagementScope(ctx.organization_id, a.String("Identity"));
      !removed) {
    return std::unexpected(removed.error());
  }
  return CmdletOutput{};
}

Result<CmdletOutput> NewManagementRoleAssignment(const Arguments& a, const CmdletContext& ctx) {
  NewManagementRoleAssignmentParams p;
  p.name = a.String("Name");
  p.role = a.String("Role");
  p.app = a.String("App");
  p.custom_resource_scope = a.String("CustomResourceScope");
  p.recipient_group_scope = a.String("RecipientGroupScope");
  auto assignment = ctx.admin.NewManagementRoleAssignment(ctx.organization_id, p);
  if (!assignment) return std::unexpected(assignment.error());
  CmdletOutput out;
  out.objects.push_back(AssignmentObject(*assignment));
  return out;
}

Result<CmdletOutput> GetManagementRoleAssignment(const Arguments& a, const CmdletContext& ctx) {
  auto all = ctx.admin.GetManagementRoleAssignment(ctx.organization_id, a.String("Identity"));
  if (!all) return std::unexpected(all.error());
  std::string assignee;
  if (a.Has("RoleAssignee")) {
    auto sps = ctx.admin.GetServicePrincipal(ctx.organization_id, a.String("RoleAssignee"));
    if (!sps) return std::unexpected(sps.error());
    if (!sps->empty()) assignee = sps->front().object_id;
  }
  CmdletOutput out;
  for (const ManagementRoleAssignment& m : *all) {
    if (a.Has("Role") && !AsciiIEquals(m.role, a.String("Role"))) continue;
    if (!assignee.empty() && !AsciiIEquals(m.role_assignee_name, assignee)) continue;
    out.objects.push_back(AssignmentObject(m));
  }
  return out;
}

Result<CmdletOutput> RemoveManagementRoleAssignment(const Arguments& a, const CmdletContext& ctx) {
  if (auto removed =
          ctx.admin.RemoveManagementRoleAssignment(ctx.organization_id, a.String("Identity"));
      !removed) {
    return std::unexpected(removed.error());
  }
  return CmdletOutput{};
}

Result<CmdletOutput> TestServicePrincipalAuthorization(const Arguments& a,
                                                       const CmdletContext& ctx) {
  auto rows = ctx.admin.TestServicePrincipalAuthorization(
      ctx.organization_id, {a.String("Identity"), a.String("Resource")});
  if (!rows) return std::unexpected(rows.error());
  CmdletOutput out;
  for (const ServicePrincipalAuthorizationRow& r : *rows) {
    out.objects.push_back(AuthorizationRowObject(r));
  }
  return out;
}

// EWS settings.

Result<CmdletOutput> SetOrganizationConfig(const Arguments& a, const CmdletContext& ctx) {
  SetOrganizationConfigParams p;
  p.ews_enabled = a.NullableBool("EwsEnabled");
  p.ews_allowed_app_ids = a.NullableString("EwsAllowedAppIDs");
  CmdletOutput out;
  auto current = ctx.admin.GetOrganizationConfig(ctx.organization_id);
  if (!current) return std::unexpected(current.error());
  if (!p.ews_allowed_app_ids && (!p.ews_enabled || *p.ews_enabled == current->ews_enabled)) {
    out.warnings.push_back(NoChangeWarning(OrgName(ctx)));
    return out;
  }
  auto set = ctx.admin.SetOrganizationConfig(ctx.organization_id, p);
  if (!set) return std::unexpected(set.error());
  return out;
}

Result<CmdletOutput> GetOrganizationConfig(const Arguments& a, const CmdletContext& ctx) {
  const bool with_list = a.Switch("RetrieveEwsOperationAccessPolicy");
  auto config = ctx.admin.GetOrganizationConfig(ctx.organization_id, with_list);
  if (!config) return std::unexpected(config.error());
  const std::string domain = OrgDomain(ctx);
  ObjectBuilder b;
  b.Str("Name", domain)
      .Str("DisplayName", OrgName(ctx))
      .NullableBool("EwsEnabled", config->ews_enabled);
  if (with_list) {
    // A String parameter, so a String property [infer]: the list as it was written, or $null.
    if (config->ews_allowed_app_ids) {
      std::string joined;
      for (const std::string& id : *config->ews_allowed_app_ids) {
        joined += (joined.empty() ? "" : ",") + id;
      }
      b.Str("EwsAllowedAppIDs", joined);
    } else {
      b.Null("EwsAllowedAppIDs");
    }
  }
  b.Trailer(domain, ctx.organization_id);
  CmdletOutput out;
  out.objects.push_back(b.Take());
  return out;
}

Result<CmdletOutput> SetCasMailbox(const Arguments& a, const CmdletContext& ctx) {
  auto current = ctx.admin.GetCasMailbox(ctx.organization_id, a.String("Identity"));
  if (!current) return std::unexpected(current.error());
  CmdletOutput out;
  const auto wanted = a.NullableBool("EwsEnabled");
  if (!wanted || *wanted == current->ews_enabled) {
    out.warnings.push_back(NoChangeWarning(current->name));
    return out;
  }
  SetCasMailboxParams p;
  p.identity = a.String("Identity");
  p.ews_enabled = wanted;
  auto set = ctx.admin.SetCasMailbox(ctx.organization_id, p);
  if (!set) return std::unexpected(set.error());
  return out;
}

Result<CmdletOutput> GetCasMailbox(const Arguments& a, const CmdletContext& ctx) {
  auto limit = ResultSize(a);
  if (!limit) return std::unexpected(limit.error());
  std::vector<Recipient> mailboxes;
  if (a.Has("Identity")) {
    auto found = ResolveMailbox(ctx, a.String("Identity"));
    if (!found) return std::unexpected(found.error());
    mailboxes.push_back(found->first);
  } else {
    mailboxes = MailboxRecipients(ctx);
  }
  CmdletOutput out;
  for (const Recipient& r : mailboxes) {
    auto cas = ctx.admin.GetCasMailbox(ctx.organization_id, r.guid);
    if (!cas) return std::unexpected(cas.error());
    out.objects.push_back(CasMailboxObject(*cas, r));
  }
  ApplyResultSize(out, *limit, a.Has("ResultSize"));
  return out;
}

}  // namespace

struct Cmdlet {
  const char* name;
  std::vector<ParamSpec> params;
  Handler run;
  bool changes = false;  // takes -Confirm/-WhatIf and changes the organization
};

namespace {

// Parameter types the cmdlet help pages declare.
constexpr const char* kMailboxId = "Microsoft.Exchange.Configuration.Tasks.MailboxIdParameter";
constexpr const char* kRecipientId = "Microsoft.Exchange.Configuration.Tasks.RecipientIdParameter";
constexpr const char* kGroupId =
    "Microsoft.Exchange.Configuration.Tasks.DistributionGroupIdParameter";
constexpr const char* kMemberId =
    "Microsoft.Exchange.Configuration.Tasks.RecipientWithAdUserGroupIdParameter";
constexpr const char* kSpId = "Microsoft.Exchange.Configuration.Tasks.ServicePrincipalIdParameter";
constexpr const char* kPolicyId =
    "Microsoft.Exchange.Configuration.Tasks.ApplicationAccessPolicyIdParameter";
constexpr const char* kScopeId =
    "Microsoft.Exchange.Configuration.Tasks.ManagementScopeIdParameter";
constexpr const char* kAssignmentId =
    "Microsoft.Exchange.Configuration.Tasks.RoleAssignmentIdParameter";
constexpr const char* kRoleId = "Microsoft.Exchange.Configuration.Tasks.RoleIdParameter";
constexpr const char* kSmtp = "Microsoft.Exchange.Data.SmtpAddress";
constexpr const char* kProxy = "Microsoft.Exchange.Data.ProxyAddress";
constexpr const char* kLiveId = "Microsoft.Exchange.Data.WindowsLiveId";
constexpr const char* kSecure = "System.Security.SecureString";
constexpr const char* kUnlimited = "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]";
constexpr const char* kMultiRecipient =
    "Microsoft.Exchange.Data.MultiValuedProperty`1[Microsoft.Exchange.Data.Directory.Recipient."
    "RecipientTypeDetails]";

std::vector<ParamSpec> WithCustomAttributes(std::vector<ParamSpec> specs) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (int i = 1; i <= 15; ++i) n.push_back("CustomAttribute" + std::to_string(i));
    return n;
  }();
  for (const std::string& n : names)
    specs.push_back({n.c_str(), Kind::kNullableString, kStringType});
  return specs;
}

const std::vector<Cmdlet>& Cmdlets() {
  static const std::vector<Cmdlet> cmdlets = {
      {"New-Mailbox",
       {{"Name", Kind::kString, kStringType, true},
        {"DisplayName", Kind::kString, kStringType},
        {"Alias", Kind::kString, kStringType},
        {"PrimarySmtpAddress", Kind::kString, kSmtp},
        {"MicrosoftOnlineServicesID", Kind::kString, kLiveId},
        {"Password", Kind::kString, kSecure},  // the module's RSA blob; accepted as it comes
        {"Shared", Kind::kSwitch, kSwitchType},
        {"FirstName", Kind::kString, kStringType},
        {"LastName", Kind::kString, kStringType},
        {"ResetPasswordOnNextLogon", Kind::kBool, kBoolType}},
       NewMailbox,
       true},
      {"Get-Mailbox",
       {{"Identity", Kind::kString, kMailboxId},
        {"RecipientTypeDetails", Kind::kStrings, kMultiRecipient},
        {"ResultSize", Kind::kString, kUnlimited}},
       GetMailbox},
      {"Set-Mailbox",
       WithCustomAttributes(
           {{"Identity", Kind::kString, kMailboxId, true}, {"Name", Kind::kString, kStringType}}),
       SetMailbox, true},
      {"Remove-Mailbox",
       {{"Identity", Kind::kString, kMailboxId, true}, {"Permanent", Kind::kBool, kBoolType}},
       RemoveMailbox,
       true},
      {"New-MailUser",
       {{"Name", Kind::kString, kStringType, true},
        {"ExternalEmailAddress", Kind::kString, kProxy, true},
        {"PrimarySmtpAddress", Kind::kString, kSmtp},
        {"MicrosoftOnlineServicesID", Kind::kString, kLiveId},
        {"DisplayName", Kind::kString, kStringType},
        {"Alias", Kind::kString, kStringType},
        {"Password", Kind::kString, kSecure},
        {"FirstName", Kind::kString, kStringType},
        {"LastName", Kind::kString, kStringType}},
       NewMailUser,
       true},
      {"New-DistributionGroup",
       {{"Name", Kind::kString, kStringType, true},
        {"DisplayName", Kind::kString, kStringType},
        {"Alias", Kind::kString, kStringType},
        {"PrimarySmtpAddress", Kind::kString, kSmtp},
        {"Type", Kind::kString, "Microsoft.Exchange.Management.RecipientTasks.GroupType"},
        {"Members", Kind::kStrings, kMemberId}},
       NewDistributionGroup,
       true},
      {"Add-DistributionGroupMember",
       {{"Identity", Kind::kString, kGroupId, true},
        {"Member", Kind::kString, kMemberId, true},
        {"BypassSecurityGroupManagerCheck", Kind::kSwitch, kSwitchType}},
       AddDistributionGroupMember,
       true},
      {"Remove-DistributionGroupMember",
       {{"Identity", Kind::kString, kGroupId, true},
        {"Member", Kind::kString, kMemberId, true},
        {"BypassSecurityGroupManagerCheck", Kind::kSwitch, kSwitchType}},
       RemoveDistributionGroupMember,
       true},
      {"Get-DistributionGroupMember",
       {{"Identity", Kind::kString, kGroupId, true}, {"ResultSize", Kind::kString, kUnlimited}},
       GetDistributionGroupMember},
      {"Get-Recipient",
       {{"Identity", Kind::kString, kRecipientId},
        {"RecipientTypeDetails", Kind::kStrings, kMultiRecipient},
        {"ResultSize", Kind::kString, kUnlimited},
        {"IncludeSoftDeletedRecipients", Kind::kSwitch, kSwitchType}},
       GetRecipient},
      {"New-ServicePrincipal",
       {{"AppId", Kind::kString, kStringType, true},
        {"ObjectId", Kind::kString, kStringType},
        {"ServiceId", Kind::kString, kStringType},
        {"DisplayName", Kind::kString, kStringType},
        {"Organization", Kind::kString,
         "Microsoft.Exchange.Configuration.Tasks.OrganizationIdParameter"}},
       NewServicePrincipal,
       true},
      {"Get-ServicePrincipal",
       {{"Identity", Kind::kString, kSpId},
        {"Organization", Kind::kString,
         "Microsoft.Exchange.Configuration.Tasks.OrganizationIdParameter"}},
       GetServicePrincipal},
      {"Remove-ServicePrincipal",
       {{"Identity", Kind::kString, kSpId, true}},
       RemoveServicePrincipal,
       true},
      {"New-ApplicationAccessPolicy",
       {{"AccessRight", Kind::kString,
         "Microsoft.Exchange.Data.Directory.ApplicationAccessPolicyRight", true},
        {"AppId", Kind::kStrings, "System.String[]", true},
        {"PolicyScopeGroupId", Kind::kString, kRecipientId, true},
        {"Description", Kind::kString, kStringType}},
       NewApplicationAccessPolicy,
       true},
      {"Get-ApplicationAccessPolicy",
       {{"Identity", Kind::kString, kPolicyId}},
       GetApplicationAccessPolicy},
      {"Set-ApplicationAccessPolicy",
       {{"Identity", Kind::kString, kPolicyId, true}, {"Description", Kind::kString, kStringType}},
       SetApplicationAccessPolicy,
       true},
      {"Remove-ApplicationAccessPolicy",
       {{"Identity", Kind::kString, kPolicyId, true}},
       RemoveApplicationAccessPolicy,
       true},
      {"Test-ApplicationAccessPolicy",
       {{"Identity", Kind::kString, kRecipientId, true},
        {"AppId", Kind::kString, kStringType, true}},
       TestApplicationAccessPolicy},
      {"New-ManagementScope",
       {{"Name", Kind::kString, kStringType, true},
        {"RecipientRestrictionFilter", Kind::kString, kStringType, true},
        {"Force", Kind::kSwitch, kSwitchType}},
       NewManagementScope,
       true},
      {"Get-ManagementScope", {{"Identity", Kind::kString, kScopeId}}, GetManagementScope},
      {"Remove-ManagementScope",
       {{"Identity", Kind::kString, kScopeId, true}},
       RemoveManagementScope,
       true},
      {"New-ManagementRoleAssignment",
       {{"Name", Kind::kString, kStringType},
        {"Role", Kind::kString, kRoleId, true},
        {"App", Kind::kString, kSpId, true},
        {"CustomResourceScope", Kind::kString, kScopeId},
        {"RecipientGroupScope", Kind::kString, kGroupId},
        {"Force", Kind::kSwitch, kSwitchType}},
       NewManagementRoleAssignment,
       true},
      {"Get-ManagementRoleAssignment",
       {{"Identity", Kind::kString, kAssignmentId},
        {"Role", Kind::kString, kRoleId},
        {"RoleAssignee", Kind::kString,
         "Microsoft.Exchange.Configuration.Tasks.RoleAssigneeIdParameter"}},
       GetManagementRoleAssignment},
      {"Remove-ManagementRoleAssignment",
       {{"Identity", Kind::kString, kAssignmentId, true}},
       RemoveManagementRoleAssignment,
       true},
      {"Test-ServicePrincipalAuthorization",
       {{"Identity", Kind::kString, kSpId, true},
        {"Resource", Kind::kString, "Microsoft.Exchange.Configuration.Tasks.UserIdParameter"}},
       TestServicePrincipalAuthorization},
      {"Set-OrganizationConfig",
       {{"EwsEnabled", Kind::kNullableBool, "System.Nullable`1[System.Boolean]"},
        {"EwsAllowedAppIDs", Kind::kNullableString, kStringType}},
       SetOrganizationConfig,
       true},
      {"Get-OrganizationConfig",
       {{"RetrieveEwsOperationAccessPolicy", Kind::kSwitch, kSwitchType}},
       GetOrganizationConfig},
      {"Set-CASMailbox",
       {{"Identity", Kind::kString, kMailboxId, true},
        {"EwsEnabled", Kind::kNullableBool, "System.Nullable`1[System.Boolean]"}},
       SetCasMailbox,
       true},
      {"Get-CASMailbox",
       {{"Identity", Kind::kString, kMailboxId}, {"ResultSize", Kind::kString, kUnlimited}},
       GetCasMailbox},
  };
  return cmdlets;
}

}  // namespace

const Cmdlet* FindCmdlet(std::string_view name) {
  for (const Cmdlet& c : Cmdlets()) {
    if (AsciiIEquals(c.name, name)) return &c;
  }
  return nullptr;
}

const char* CmdletName(const Cmdlet& cmdlet) { return cmdlet.name; }

bool IsReadOnly(const Cmdlet& cmdlet) { return !cmdlet.changes; }

Result<CmdletOutput> RunCmdlet(const Cmdlet& cmdlet, const json& parameters,
                               const CmdletContext& context) {
  std::vector<ParamSpec> specs = cmdlet.params;
  if (cmdlet.changes) {
    // The common risk-mitigation parameters of every cmdlet that changes something.
    specs.push_back({"Confirm", Kind::kSwitch, kSwitchType});
    specs.push_back({"WhatIf", Kind::kSwitch, kSwitchType});
  }
  auto args = Bind(specs, parameters);
  if (!args) return std::unexpected(args.error());
  if (args->Switch("Confirm") || args->Switch("WhatIf")) {
    // The module sends -Confirm:$true first and asks the user with the message the service
    // returns, then sends the call again with -Confirm:$false (tmpEXO); the text is PowerShell's
    // ShouldProcess default [infer].
    std::string target = args->String("Identity");
    if (target.empty()) target = args->String("Name");
    if (target.empty()) target = context.organization_id;
    CmdletOutput out;
    out.confirmation = std::string("Performing the operation \"") + cmdlet.name +
                       "\" on target \"" + target + "\".";
    return out;
  }
  return cmdlet.run(*args, context);
}

}  // namespace exo::mock_ews
