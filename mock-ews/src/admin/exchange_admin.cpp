#include "exo/mock_ews/exchange_admin.hpp"

#include <algorithm>
#include <cctype>

#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "internal/admin_directory.hpp"
#include "internal/exchange_admin_state.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

using admin_internal::AssignmentRecord;
using admin_internal::Directory;
using admin_internal::OrgState;
using admin_internal::PolicyRecord;
using admin_internal::RecipientRecord;
using admin_internal::ScopeRecord;
using admin_internal::SpRecord;
using admin_internal::View;
using internal::AsciiIEquals;
using internal::AsciiLower;

namespace {

// One policy's share of the fixed space App Access Policies get: ~300 fit with a one-character
// Description (New-ApplicationAccessPolicy.md) [infer: the per-policy cost].
constexpr std::size_t kPolicyOverheadBytes = 236;
constexpr std::size_t kPolicySpaceBytes = 300 * (kPolicyOverheadBytes + 1) + 50;

std::string Trim(std::string_view s) { return std::string(internal::TrimWhitespace(s)); }

std::unexpected<Error> EmptyArgument(const char* parameter) {
  // PowerShell's own validation text.
  return Fail(ErrorCategory::kConfiguration, admin_codes::kParameterBinding,
              std::string("Cannot validate argument on parameter '") + parameter +
                  "'. The argument is null or empty. Provide an argument that is not null or "
                  "empty, and then try the command again.");
}

std::unexpected<Error> NotAGuid(const char* parameter, std::string_view value) {
  // [infer] the binder's text for a string that must be a GUID.
  return Fail(ErrorCategory::kConfiguration, admin_codes::kParameterBinding,
              std::string("Cannot bind parameter '") + parameter + "'. '" + std::string(value) +
                  "' is not a valid application ID: use the application (client) ID GUID.",
              "copy the Application (client) ID from the app registration");
}

bool IsMailbox(RecipientKind k) {
  return k == RecipientKind::kUserMailbox || k == RecipientKind::kSharedMailbox;
}

std::size_t PolicyCost(const ApplicationAccessPolicy& p) {
  return kPolicyOverheadBytes + p.description.size();
}

}  // namespace

const char* ToString(RecipientKind kind) {
  switch (kind) {
    case RecipientKind::kUserMailbox:
      return "UserMailbox";
    case RecipientKind::kSharedMailbox:
      return "SharedMailbox";
    case RecipientKind::kMailUser:
      return "MailUser";
    case RecipientKind::kMailUniversalSecurityGroup:
      return "MailUniversalSecurityGroup";
    case RecipientKind::kMailUniversalDistributionGroup:
      return "MailUniversalDistributionGroup";
  }
  return "";
}

const char* ToString(AccessRight right) {
  return right == AccessRight::kDenyAccess ? "DenyAccess" : "RestrictAccess";
}

std::optional<AccessRight> ParseAccessRight(std::string_view text) {
  if (AsciiIEquals(text, "RestrictAccess")) return AccessRight::kRestrictAccess;
  if (AsciiIEquals(text, "DenyAccess")) return AccessRight::kDenyAccess;
  return std::nullopt;
}

const char* ToString(EwsDenial denial) {
  switch (denial) {
    case EwsDenial::kNone:
      return "none";
    case EwsDenial::kEwsRetired:
      return "EwsRetired";
    case EwsDenial::kOrganizationDisabled:
      return "OrganizationEwsDisabled";
    case EwsDenial::kAppNotAllowed:
      return "EwsAllowedAppIDs";
    case EwsDenial::kMailboxDisabled:
      return "MailboxEwsDisabled";
    case EwsDenial::kFrontlineLicence:
      return "FrontlineLicence";
    case EwsDenial::kAccessPolicy:
      return "ApplicationAccessPolicy";
    case EwsDenial::kNoPermission:
      return "NoPermission";
  }
  return "";
}

RetirementSchedule RetirementSchedule::Default() {
  RetirementSchedule s;
  s.allow_list_required_from = *ParseIso8601("2026-10-10T00:00:00Z");
  s.frontline_block_from = *ParseIso8601("2026-10-01T00:00:00Z");
  s.final_cutoff = *ParseIso8601("2027-04-01T00:00:00Z");
  return s;
}

ExchangeAdmin::ExchangeAdmin(Clock& clock, Random& random, MailboxStore& store,
                             ExchangeAdminOptions options)
    : clock_(clock), random_(random), store_(store), state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}

ExchangeAdmin::~ExchangeAdmin() = default;

namespace {

// The organization's state, created on first use; nullptr when the store has no such tenant.
OrgState* FindOrg(ExchangeAdmin::State& st, const MailboxStore& store, std::string_view org) {
  const std::string key = AsciiLower(org);
  if (auto it = st.orgs.find(key); it != st.orgs.end()) return &it->second;
  for (const Organization& o : store.ListOrganizations()) {
    if (o.id == key) return &st.orgs[key];
  }
  return nullptr;
}

std::unexpected<Error> NoOrganization(std::string_view org) {
  return Fail(ErrorCategory::kNotFound, admin_codes::kObjectNotFound,
              "The organization '" + std::string(org) + "' couldn't be found.",
              "create the organization (a tenant of the mailbox store) first");
}

// The objects of a table that exist now, oldest first (as Get-* lists them).
template <class R>
std::vector<const R*> InCreationOrder(
    const std::map<std::string, admin_internal::Versioned<std::optional<R>>>& table) {
  std::vector<const R*> all;
  for (const auto& [key, versions] : table) {
    const auto* r = versions.Current();
    if (r && *r) all.push_back(&**r);
  }
  std::sort(all.begin(), all.end(),
            [](const R* a, const R* b) { return a->created_seq < b->created_seq; });
  return all;
}

// An operation on one organization: the admin's lock held for its duration, and its directory.
struct OrgSession {
  std::unique_lock<std::mutex> lock;
  OrgState* os = nullptr;
  Directory dir;
};

Result<OrgSession> Open(ExchangeAdmin::State& st, const MailboxStore& store, std::string_view org) {
  std::unique_lock lock(st.mu);
  OrgState* os = FindOrg(st, store, org);
  if (!os) return NoOrganization(org);
  return OrgSession{std::move(lock), os,
                    Directory(store, *os, AsciiLower(org), st.options.domain_controller)};
}

// Whether any recipient of the organization already carries `address` or `name`.
std::optional<Error> Conflict(const Directory& dir, const MailboxStore& store,
                              std::string_view name, std::string_view address) {
  for (const Recipient& r : dir.All()) {
    if (AsciiIEquals(r.name, name)) {
      return Error{ErrorCategory::kConfiguration,
                   "ADObjectAlreadyExistsException",
                   "The name \"" + std::string(name) +
                       "\" is already being used. Please try "
                       "another name.",
                   "choose another -Name",
                   std::nullopt,
                   0};
    }
    if (!address.empty() && AsciiIEquals(r.primary_smtp_address, address)) {
      return Error{ErrorCategory::kConfiguration,
                   admin_codes::kProxyAddressExists,
                   "The proxy address \"SMTP:" + std::string(address) +
                       "\" is already being used by the proxy addresses or LegacyExchangeDN of \"" +
                       r.name + "\". Please choose another proxy address.",
                   "choose another address",
                   std::nullopt,
                   0};
    }
  }
  if (!address.empty()) {
    if (auto m = store.ResolveMailbox(address, MailboxKey::kSmtpAddress)) {
      return Error{ErrorCategory::kConfiguration,
                   admin_codes::kProxyAddressExists,
                   "The proxy address \"SMTP:" + std::string(address) +
                       "\" is already being used by the proxy addresses or LegacyExchangeDN of \"" +
                       m->alias + "\". Please choose another proxy address.",
                   "choose another address",
                   std::nullopt,
                   0};
    }
  }
  return std::nullopt;
}

std::string AliasFrom(std::string_view name) {
  std::string alias;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') {
      alias += c;
    }
  }
  return alias;
}

}  // namespace

// ---- Recipients ----

Result<Recipient> ExchangeAdmin::GetRecipient(std::string_view org,
                                              std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  return session->dir.Resolve(identity);
}

std::vector<Recipient> ExchangeAdmin::ListRecipients(std::string_view org) const {
  auto session = Open(*state_, store_, org);
  return session ? session->dir.All() : std::vector<Recipient>();
}

Result<Recipient> ExchangeAdmin::SetMailboxName(std::string_view org, std::string_view identity,
                                                std::string_view name) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (Trim(name).empty()) return EmptyArgument("Name");
  const Directory& dir = session->dir;
  auto r = dir.Resolve(identity);
  if (!r) return r;
  if (!IsMailbox(r->kind)) return dir.NotFound(identity);
  for (const Recipient& other : dir.All()) {
    if (other.guid != r->guid && AsciiIEquals(other.name, name)) {
      return Fail(
          ErrorCategory::kConfiguration, "ADObjectAlreadyExistsException",
          "The name \"" + std::string(name) + "\" is already being used. Please try another name.");
    }
  }
  os->settings[r->guid].name = Trim(name);
  return dir.Resolve(r->guid);
}

Result<Recipient> ExchangeAdmin::NewMailUser(std::string_view org, const NewMailUserParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (Trim(p.name).empty()) return EmptyArgument("Name");
  if (Trim(p.external_email_address).empty()) return EmptyArgument("ExternalEmailAddress");
  if (Trim(p.primary_smtp_address).empty()) return EmptyArgument("PrimarySmtpAddress");
  const Directory& dir = session->dir;
  const std::string smtp = Trim(p.primary_smtp_address);
  if (smtp.find('@') == std::string::npos) {
    return Fail(
        ErrorCategory::kConfiguration, admin_codes::kParameterBinding,
        "Cannot bind parameter 'PrimarySmtpAddress'. \"" + smtp + "\" isn't a valid SMTP address.");
  }
  if (auto conflict = Conflict(dir, store_, Trim(p.name), smtp)) {
    return std::unexpected(*conflict);
  }
  RecipientRecord rec;
  Recipient& r = rec.recipient;
  r.organization_id = AsciiLower(org);
  r.kind = RecipientKind::kMailUser;
  r.name = Trim(p.name);
  r.display_name = p.display_name.empty() ? r.name : p.display_name;
  r.alias = p.alias.empty() ? smtp.substr(0, smtp.find('@')) : p.alias;
  r.primary_smtp_address = smtp;
  std::string external = Trim(p.external_email_address);
  if (external.find(':') == std::string::npos) external = "SMTP:" + external;
  r.external_email_address = external;
  r.guid = random_.Uuid();
  r.sid = admin_internal::SidFor(org, r.guid);
  r.is_valid_security_principal = true;
  rec.created_seq = state_->next_seq++;
  os->recipient_order.push_back(r.guid);
  const std::string guid = r.guid;
  os->recipients.emplace(guid, std::move(rec));
  return dir.Resolve(guid);
}

Result<Recipient> ExchangeAdmin::NewDistributionGroup(std::string_view org,
                                                      const NewDistributionGroupParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (Trim(p.name).empty()) return EmptyArgument("Name");
  const Directory& dir = session->dir;
  const std::string alias = p.alias.empty() ? AliasFrom(Trim(p.name)) : p.alias;
  const std::string smtp =
      p.primary_smtp_address.empty() ? alias + "@" + dir.Domain() : Trim(p.primary_smtp_address);
  if (auto conflict = Conflict(dir, store_, Trim(p.name), smtp)) {
    return std::unexpected(*conflict);
  }
  std::vector<std::string> members;
  for (const std::string& m : p.members) {
    auto member = dir.Resolve(m);
    if (!member) return std::unexpected(member.error());
    if (std::find(members.begin(), members.end(), member->guid) == members.end()) {
      members.push_back(member->guid);
    }
  }
  RecipientRecord rec;
  Recipient& r = rec.recipient;
  r.organization_id = AsciiLower(org);
  r.kind = p.type == GroupType::kSecurity ? RecipientKind::kMailUniversalSecurityGroup
                                          : RecipientKind::kMailUniversalDistributionGroup;
  r.name = Trim(p.name);
  r.display_name = p.display_name.empty() ? r.name : p.display_name;
  r.alias = alias;
  r.primary_smtp_address = smtp;
  r.guid = random_.Uuid();
  r.sid = admin_internal::SidFor(org, r.guid);
  // Distribution groups are not security principals (§1.3).
  r.is_valid_security_principal = p.type == GroupType::kSecurity;
  rec.created_seq = state_->next_seq++;
  const auto& prop = state_->options.propagation;
  rec.members.Put(members, state_->next_seq++, clock_.Monotonic(), prop.group_membership,
                  prop.front_ends, random_);
  os->recipient_order.push_back(r.guid);
  const std::string guid = r.guid;
  os->recipients.emplace(guid, std::move(rec));
  return dir.Resolve(guid);
}

namespace {

Result<std::pair<Recipient, Recipient>> GroupAndMember(const Directory& dir,
                                                       const DistributionGroupMemberParams& p) {
  auto group = dir.ResolveGroup(p.identity);
  if (!group) return std::unexpected(group.error());
  auto member = dir.Resolve(p.member);
  if (!member) return std::unexpected(member.error());
  return std::make_pair(*group, *member);
}

}  // namespace

Result<void> ExchangeAdmin::AddDistributionGroupMember(std::string_view org,
                                                       const DistributionGroupMemberParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto pair = GroupAndMember(dir, p);
  if (!pair) return std::unexpected(pair.error());
  const auto& [group, member] = *pair;
  RecipientRecord& rec = os->recipients.at(group.guid);
  std::vector<std::string> members;
  if (const auto* current = rec.members.Current()) members = *current;
  if (std::find(members.begin(), members.end(), member.guid) != members.end()) {
    return Fail(ErrorCategory::kConfiguration, "MemberAlreadyExistsException",
                "The recipient \"" + member.name + "\" is already a member of the group \"" +
                    group.name + "\".");
  }
  members.push_back(member.guid);
  const auto& prop = state_->options.propagation;
  rec.members.Put(std::move(members), state_->next_seq++, clock_.Monotonic(), prop.group_membership,
                  prop.front_ends, random_);
  return {};
}

Result<void> ExchangeAdmin::RemoveDistributionGroupMember(std::string_view org,
                                                          const DistributionGroupMemberParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto pair = GroupAndMember(dir, p);
  if (!pair) return std::unexpected(pair.error());
  const auto& [group, member] = *pair;
  RecipientRecord& rec = os->recipients.at(group.guid);
  std::vector<std::string> members;
  if (const auto* current = rec.members.Current()) members = *current;
  auto it = std::find(members.begin(), members.end(), member.guid);
  if (it == members.end()) {
    return Fail(ErrorCategory::kConfiguration, "MemberNotFoundException",
                "The recipient \"" + member.name + "\" isn't a member of the group \"" +
                    group.name + "\".");
  }
  members.erase(it);
  const auto& prop = state_->options.propagation;
  rec.members.Put(std::move(members), state_->next_seq++, clock_.Monotonic(), prop.group_membership,
                  prop.front_ends, random_);
  return {};
}

Result<std::vector<Recipient>> ExchangeAdmin::GetDistributionGroupMember(
    std::string_view org, std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto group = dir.ResolveGroup(identity);
  if (!group) return std::unexpected(group.error());
  std::vector<Recipient> out;
  const auto* members = os->recipients.at(group->guid).members.Current();
  if (!members) return out;
  for (const std::string& m : *members) {
    if (auto r = dir.Resolve(m)) out.push_back(*r);
  }
  return out;
}

Result<void> ExchangeAdmin::RemoveRecipient(std::string_view org, std::string_view identity) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto r = dir.Resolve(identity);
  if (!r) return std::unexpected(r.error());
  if (IsMailbox(r->kind)) return dir.NotFound(identity);  // mailboxes are the store's
  const auto& prop = state_->options.propagation;
  // The directory drops the removed object from every group's member list (back-links).
  for (auto& [guid, rec] : os->recipients) {
    const auto* members = rec.members.Current();
    if (!members) continue;
    std::vector<std::string> kept;
    for (const std::string& m : *members) {
      if (m != r->guid) kept.push_back(m);
    }
    if (kept.size() != members->size()) {
      rec.members.Put(std::move(kept), state_->next_seq++, clock_.Monotonic(),
                      prop.group_membership, prop.front_ends, random_);
    }
  }
  os->recipients.erase(r->guid);
  os->recipient_order.erase(
      std::remove(os->recipient_order.begin(), os->recipient_order.end(), r->guid),
      os->recipient_order.end());
  return {};
}

Result<void> ExchangeAdmin::SetCustomAttribute(std::string_view org, std::string_view identity,
                                               int number, std::string_view value) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (number < 1 || number > 15) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kParameterBinding,
                "A parameter cannot be found that matches parameter name 'CustomAttribute" +
                    std::to_string(number) + "'.");
  }
  const Directory& dir = session->dir;
  auto r = dir.Resolve(identity);
  if (!r) return std::unexpected(r.error());
  // Attributes feed RBAC scopes, which the per-app cache delays; no delay of their own.
  os->settings[r->guid].custom_attributes["customattribute" + std::to_string(number)].PutNow(
      std::string(value), state_->next_seq++, clock_.Monotonic());
  return {};
}

Result<void> ExchangeAdmin::SetLicenses(std::string_view org, std::string_view identity,
                                        std::vector<std::string> skus) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto r = dir.Resolve(identity);
  if (!r) return std::unexpected(r.error());
  if (!IsMailbox(r->kind)) return dir.NotFound(identity);
  const auto& prop = state_->options.propagation;
  os->settings[r->guid].licences.Put(std::move(skus), state_->next_seq++, clock_.Monotonic(),
                                     prop.licence, prop.front_ends, random_);
  return {};
}

// ---- Service principals ----

namespace {

// The SP an identity names (ObjectId, AppId, DisplayName, Name) in the newest configuration.
const SpRecord* FindSp(const OrgState& os, std::string_view identity) {
  for (const auto& [object_id, versions] : os.service_principals) {
    const auto* sp = versions.Current();
    if (!sp || !*sp) continue;
    const ServicePrincipal& s = (*sp)->sp;
    if (AsciiIEquals(s.object_id, identity) || AsciiIEquals(s.app_id, identity) ||
        (!s.display_name.empty() && AsciiIEquals(s.display_name, identity))) {
      return &**sp;
    }
  }
  return nullptr;
}

}  // namespace

Result<ServicePrincipal> ExchangeAdmin::NewServicePrincipal(std::string_view org,
                                                            const NewServicePrincipalParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const std::string app_id = AsciiLower(Trim(p.app_id));
  // -ServiceId is the deprecated spelling of -ObjectId; the seed still uses it.
  const std::string object_id = AsciiLower(Trim(p.object_id.empty() ? p.service_id : p.object_id));
  if (app_id.empty()) return EmptyArgument("AppId");
  if (object_id.empty()) return EmptyArgument("ObjectId");
  if (!IsGuid(app_id)) return NotAGuid("AppId", p.app_id);
  if (!IsGuid(object_id)) return NotAGuid("ObjectId", object_id);
  if (FindSp(*os, app_id) || FindSp(*os, object_id)) {
    // [infer] Exchange refuses a second pointer to the same app.
    return Fail(ErrorCategory::kConfiguration, admin_codes::kAlreadyExists,
                "A service principal with AppId '" + app_id + "' or ObjectId '" + object_id +
                    "' already exists.",
                "use Get-ServicePrincipal to see the existing one");
  }
  SpRecord rec;
  rec.sp.app_id = app_id;
  rec.sp.object_id = object_id;
  rec.sp.identity = object_id;
  rec.sp.name = object_id;
  rec.sp.display_name = p.display_name;
  rec.created_seq = state_->next_seq++;
  ServicePrincipal out = rec.sp;
  os->service_principals[object_id].PutNow(std::move(rec), state_->next_seq++, clock_.Monotonic());
  return out;
}

Result<std::vector<ServicePrincipal>> ExchangeAdmin::GetServicePrincipal(
    std::string_view org, std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  std::vector<ServicePrincipal> out;
  for (const SpRecord* sp : InCreationOrder(os->service_principals)) {
    if (identity.empty() || AsciiIEquals(sp->sp.object_id, identity) ||
        AsciiIEquals(sp->sp.app_id, identity) || AsciiIEquals(sp->sp.display_name, identity)) {
      out.push_back(sp->sp);
    }
  }
  if (!identity.empty() && out.empty()) {
    return session->dir.NotFound(identity);
  }
  return out;
}

Result<void> ExchangeAdmin::RemoveServicePrincipal(std::string_view org,
                                                   std::string_view identity) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const SpRecord* sp = FindSp(*os, identity);
  if (!sp) {
    return session->dir.NotFound(identity);
  }
  const std::string object_id = sp->sp.object_id;
  const MonoTime now = clock_.Monotonic();
  // Its role assignments go with it; management scopes stay (application-rbac FAQ).
  for (auto& [name, versions] : os->assignments) {
    const auto* a = versions.Current();
    if (a && *a && (*a)->sp_object_id == object_id) {
      versions.PutNow(std::nullopt, state_->next_seq++, now);
    }
  }
  os->service_principals[object_id].PutNow(std::nullopt, state_->next_seq++, now);
  return {};
}

// ---- Application access policies ----

namespace {

std::vector<const PolicyRecord*> CurrentPolicies(const OrgState& os) {
  return InCreationOrder(os.policies);
}

}  // namespace

Result<std::vector<ApplicationAccessPolicy>> ExchangeAdmin::NewApplicationAccessPolicy(
    std::string_view org, const NewApplicationAccessPolicyParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (p.app_ids.empty()) return EmptyArgument("AppId");
  if (Trim(p.policy_scope_group_id).empty()) return EmptyArgument("PolicyScopeGroupId");
  std::vector<std::string> apps;
  for (const std::string& raw : p.app_ids) {
    const std::string app = AsciiLower(Trim(raw));
    if (app != "*" && !IsGuid(app)) return NotAGuid("AppId", raw);
    if (std::find(apps.begin(), apps.end(), app) == apps.end()) apps.push_back(app);
  }
  const Directory& dir = session->dir;
  auto scope = dir.Resolve(p.policy_scope_group_id);
  if (!scope) return std::unexpected(scope.error());
  if (!scope->is_valid_security_principal) {
    // domainaware/parsedmarc#322 quotes Exchange's text for a shared mailbox as the scope.
    return Fail(ErrorCategory::kConfiguration, admin_codes::kNotSecurityPrincipal,
                "The identity of the policy scope is not a security principal.",
                "put the mailboxes in a mail-enabled security group and scope the policy to it");
  }
  std::size_t used = 0;
  for (const PolicyRecord* existing : CurrentPolicies(*os)) used += PolicyCost(existing->policy);
  std::vector<PolicyRecord> created;
  for (const std::string& app : apps) {
    PolicyRecord rec;
    ApplicationAccessPolicy& a = rec.policy;
    a.scope_name = scope->display_name;
    a.scope_identity = scope->name;
    a.scope_identity_raw = scope->sid + ";" + scope->guid;
    a.identity = AsciiLower(org) + "\\" + app + ":" + a.scope_identity_raw;
    a.app_id = app;
    a.description = p.description;
    a.access_right = p.access_right;
    rec.scope_guid = scope->guid;
    if (auto it = os->policies.find(AsciiLower(a.identity));
        it != os->policies.end() && it->second.Current() && *it->second.Current()) {
      // [infer] the text for a second policy with the same app and scope.
      return Fail(ErrorCategory::kConfiguration, admin_codes::kAlreadyExists,
                  "An application access policy with identity '" + a.identity + "' already exists.",
                  "change it with Set-ApplicationAccessPolicy, or remove it first");
    }
    used += PolicyCost(a);
    created.push_back(std::move(rec));
  }
  if (used > kPolicySpaceBytes) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kPolicySizeExceeded,
                "The total size of App Access Policies exceeded the limit.",
                "shorten Descriptions or consolidate policies (one group per app), or move to "
                "RBAC for Applications");
  }
  std::vector<ApplicationAccessPolicy> out;
  const auto& prop = state_->options.propagation;
  const MonoTime now = clock_.Monotonic();
  for (PolicyRecord& rec : created) {
    rec.created_seq = state_->next_seq++;
    out.push_back(rec.policy);
    os->policies[AsciiLower(rec.policy.identity)].Put(std::move(rec), state_->next_seq++, now,
                                                      prop.access_policy, prop.front_ends, random_);
  }
  return out;
}

Result<std::vector<ApplicationAccessPolicy>> ExchangeAdmin::GetApplicationAccessPolicy(
    std::string_view org, std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  std::vector<ApplicationAccessPolicy> out;
  for (const PolicyRecord* rec : CurrentPolicies(*os)) {
    if (identity.empty() || AsciiIEquals(rec->policy.identity, identity)) {
      out.push_back(rec->policy);
    }
  }
  if (!identity.empty() && out.empty()) {
    return session->dir.NotFound(identity);
  }
  return out;
}

Result<ApplicationAccessPolicy> ExchangeAdmin::SetApplicationAccessPolicy(
    std::string_view org, const SetApplicationAccessPolicyParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  auto it = os->policies.find(AsciiLower(Trim(p.identity)));
  if (it == os->policies.end() || !it->second.Current() || !*it->second.Current()) {
    return session->dir.NotFound(p.identity);
  }
  PolicyRecord rec = **it->second.Current();
  std::size_t used = 0;
  for (const PolicyRecord* existing : CurrentPolicies(*os)) used += PolicyCost(existing->policy);
  used = used - PolicyCost(rec.policy) + kPolicyOverheadBytes + p.description.size();
  if (used > kPolicySpaceBytes) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kPolicySizeExceeded,
                "The total size of App Access Policies exceeded the limit.",
                "shorten the Description");
  }
  rec.policy.description = p.description;
  const auto& prop = state_->options.propagation;
  ApplicationAccessPolicy out = rec.policy;
  it->second.Put(std::move(rec), state_->next_seq++, clock_.Monotonic(), prop.access_policy,
                 prop.front_ends, random_);
  return out;
}

Result<void> ExchangeAdmin::RemoveApplicationAccessPolicy(std::string_view org,
                                                          std::string_view identity) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  auto it = os->policies.find(AsciiLower(Trim(identity)));
  if (it == os->policies.end() || !it->second.Current() || !*it->second.Current()) {
    return session->dir.NotFound(identity);
  }
  const auto& prop = state_->options.propagation;
  // "These changes might take up to 30 minutes to go live" (Remove-ApplicationAccessPolicy.md).
  it->second.Put(std::nullopt, state_->next_seq++, clock_.Monotonic(), prop.access_policy_removal,
                 prop.front_ends, random_);
  return {};
}

Result<ApplicationAccessCheck> ExchangeAdmin::TestApplicationAccessPolicy(
    std::string_view org, const TestApplicationAccessPolicyParams& p) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  if (Trim(p.app_id).empty()) return EmptyArgument("AppId");
  if (!IsGuid(Trim(p.app_id))) return NotAGuid("AppId", p.app_id);
  const Directory& dir = session->dir;
  auto r = dir.Resolve(p.identity);
  if (!r) return std::unexpected(r.error());
  ApplicationAccessCheck out;
  out.app_id = AsciiLower(Trim(p.app_id));
  out.mailbox = r->name;
  out.mailbox_id = r->guid;
  out.mailbox_sid = r->sid;
  // The newest configuration: Test says Granted/Denied long before EWS agrees (§2).
  out.access_check_result =
      admin_internal::AccessPolicyGrants(*os, out.app_id, r->guid, View::Current()) ? "Granted"
                                                                                    : "Denied";
  return out;
}

// ---- RBAC for Applications ----

Result<ManagementScope> ExchangeAdmin::NewManagementScope(std::string_view org,
                                                          const NewManagementScopeParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const std::string name = Trim(p.name);
  if (name.empty()) return EmptyArgument("Name");
  if (Trim(p.recipient_restriction_filter).empty()) {
    return EmptyArgument("RecipientRestrictionFilter");
  }
  auto existing = os->scopes.find(AsciiLower(name));
  if (existing != os->scopes.end() && existing->second.Current() && *existing->second.Current()) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kAlreadyExists,
                "The management scope \"" + name + "\" already exists.");  // [infer]
  }
  auto filter = admin_internal::ParseRecipientFilter(p.recipient_restriction_filter);
  if (!filter) return std::unexpected(filter.error());
  ScopeRecord rec;
  rec.scope.name = name;
  rec.scope.recipient_filter = Trim(p.recipient_restriction_filter);
  rec.filter = *filter;
  rec.created_seq = state_->next_seq++;
  ManagementScope out = rec.scope;
  os->scopes[AsciiLower(name)].PutNow(std::move(rec), state_->next_seq++, clock_.Monotonic());
  return out;
}

Result<std::vector<ManagementScope>> ExchangeAdmin::GetManagementScope(
    std::string_view org, std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  std::vector<ManagementScope> out;
  for (const ScopeRecord* s : InCreationOrder(os->scopes)) {
    if (identity.empty() || AsciiIEquals(s->scope.name, identity)) out.push_back(s->scope);
  }
  if (!identity.empty() && out.empty()) return session->dir.NotFound(identity);
  return out;
}

Result<void> ExchangeAdmin::RemoveManagementScope(std::string_view org, std::string_view identity) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const std::string key = AsciiLower(Trim(identity));
  auto it = os->scopes.find(key);
  if (it == os->scopes.end() || !it->second.Current() || !*it->second.Current()) {
    return session->dir.NotFound(identity);
  }
  for (const auto& [name, versions] : os->assignments) {
    const auto* a = versions.Current();
    if (a && *a && (*a)->scope_key == key) {
      // [infer] Exchange keeps a scope that assignments still use.
      return Fail(ErrorCategory::kConfiguration, admin_codes::kInvalidOperation,
                  "The management scope \"" + std::string(identity) +
                      "\" can't be removed because it's used by the role assignment \"" +
                      (*a)->assignment.name + "\".",
                  "remove the role assignments that use it first");
    }
  }
  it->second.PutNow(std::nullopt, state_->next_seq++, clock_.Monotonic());
  return {};
}

Result<ManagementRoleAssignment> ExchangeAdmin::NewManagementRoleAssignment(
    std::string_view org, const NewManagementRoleAssignmentParams& p) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  if (Trim(p.role).empty()) return EmptyArgument("Role");
  if (Trim(p.app).empty()) return EmptyArgument("App");
  if (!p.custom_resource_scope.empty() && !p.recipient_group_scope.empty()) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kParameterBinding,
                "Parameter set cannot be resolved using the specified named parameters.");
  }
  std::string role;
  if (admin_internal::RolePermissions(Trim(p.role), &role).empty()) {
    // User roles are not assignable to apps, and unknown roles are not found either way.
    return dir.NotFound(Trim(p.role));
  }
  const SpRecord* sp = FindSp(*os, Trim(p.app));
  if (!sp) return dir.NotFound(Trim(p.app));
  AssignmentRecord rec;
  ManagementRoleAssignment& a = rec.assignment;
  a.role = role;
  a.role_assignee_name = sp->sp.object_id;
  rec.sp_object_id = sp->sp.object_id;
  a.recipient_write_scope = "Organization";
  if (!p.custom_resource_scope.empty()) {
    auto s = os->scopes.find(AsciiLower(Trim(p.custom_resource_scope)));
    if (s == os->scopes.end() || !s->second.Current() || !*s->second.Current()) {
      return dir.NotFound(p.custom_resource_scope);
    }
    a.custom_resource_scope = (*s->second.Current())->scope.name;
    a.recipient_write_scope = "CustomRecipientScope";
    rec.scope_key = s->first;
  } else if (!p.recipient_group_scope.empty()) {
    auto g = dir.ResolveGroup(p.recipient_group_scope);
    if (!g) return std::unexpected(g.error());
    a.custom_resource_scope = g->name;
    a.recipient_write_scope = "Group";  // [infer] the write scope's name for a group scope
    rec.group_guid = g->guid;
  }
  a.name = Trim(p.name).empty() ? role + "-" + sp->sp.object_id : Trim(p.name);
  auto existing = os->assignments.find(AsciiLower(a.name));
  if (existing != os->assignments.end() && existing->second.Current() &&
      *existing->second.Current()) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kAlreadyExists,
                "The role assignment \"" + a.name + "\" already exists.");  // [infer]
  }
  rec.created_seq = state_->next_seq++;
  ManagementRoleAssignment out = a;
  os->assignments[AsciiLower(out.name)].PutNow(std::move(rec), state_->next_seq++,
                                               clock_.Monotonic());
  return out;
}

namespace {

std::vector<const AssignmentRecord*> CurrentAssignments(const OrgState& os) {
  return InCreationOrder(os.assignments);
}

}  // namespace

Result<std::vector<ManagementRoleAssignment>> ExchangeAdmin::GetManagementRoleAssignment(
    std::string_view org, std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  std::vector<ManagementRoleAssignment> out;
  for (const AssignmentRecord* a : CurrentAssignments(*os)) {
    if (identity.empty() || AsciiIEquals(a->assignment.name, identity)) {
      out.push_back(a->assignment);
    }
  }
  if (!identity.empty() && out.empty()) {
    return session->dir.NotFound(identity);
  }
  return out;
}

Result<void> ExchangeAdmin::RemoveManagementRoleAssignment(std::string_view org,
                                                           std::string_view identity) {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  auto it = os->assignments.find(AsciiLower(Trim(identity)));
  if (it == os->assignments.end() || !it->second.Current() || !*it->second.Current()) {
    return session->dir.NotFound(identity);
  }
  it->second.PutNow(std::nullopt, state_->next_seq++, clock_.Monotonic());
  return {};
}

Result<std::vector<ServicePrincipalAuthorizationRow>>
ExchangeAdmin::TestServicePrincipalAuthorization(
    std::string_view org, const TestServicePrincipalAuthorizationParams& p) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  const SpRecord* sp = FindSp(*os, Trim(p.identity));
  if (!sp) return dir.NotFound(p.identity);
  std::optional<Recipient> resource;
  if (!Trim(p.resource).empty()) {
    auto r = dir.Resolve(Trim(p.resource));
    if (!r) return std::unexpected(r.error());
    resource = *r;
  }
  std::vector<ServicePrincipalAuthorizationRow> rows;
  for (const AssignmentRecord* a : CurrentAssignments(*os)) {
    if (a->sp_object_id != sp->sp.object_id) continue;
    ServicePrincipalAuthorizationRow row;
    row.role_name = a->assignment.role;
    for (const std::string& perm : admin_internal::RolePermissions(a->assignment.role)) {
      if (!row.granted_permissions.empty()) row.granted_permissions += ", ";
      row.granted_permissions += perm;
    }
    if (a->assignment.recipient_write_scope == "Organization") {
      row.allowed_resource_scope = "Organization";
      row.scope_type = "Organization";
    } else {
      row.allowed_resource_scope = a->assignment.custom_resource_scope;
      row.scope_type =
          a->assignment.recipient_write_scope == "Group" ? "Group" : "CustomRecipientScope";
    }
    // It "bypasses this cache": the newest configuration.
    row.in_scope = !resource ? "Not Run"
                   : admin_internal::AssignmentCovers(dir, *a, *resource, View::Current())
                       ? "True"
                       : "False";
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- EWS settings ----

Result<OrganizationConfig> ExchangeAdmin::SetOrganizationConfig(
    std::string_view org, const SetOrganizationConfigParams& p) {
  std::optional<std::optional<std::vector<std::string>>> list;
  if (p.ews_allowed_app_ids) {
    if (!*p.ews_allowed_app_ids) {
      list.emplace(std::nullopt);  // $null removes the restriction
    } else {
      std::vector<std::string> ids;
      std::string_view rest = **p.ews_allowed_app_ids;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string id = AsciiLower(Trim(rest.substr(0, comma)));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (id.empty()) continue;
        if (!IsGuid(id)) return NotAGuid("EwsAllowedAppIDs", id);
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
      list.emplace(std::move(ids));
    }
  }
  {
    auto session = Open(*state_, store_, org);
    if (!session) return std::unexpected(session.error());
    OrgState* os = session->os;
    const auto& prop = state_->options.propagation;
    const MonoTime now = clock_.Monotonic();
    if (p.ews_enabled) {
      os->ews_enabled.Put(*p.ews_enabled, state_->next_seq++, now, prop.ews_enabled,
                          prop.front_ends, random_);
    }
    if (list) {
      // Every write replaces the whole list (Set-OrganizationConfig.md).
      os->ews_allowed_app_ids.Put(std::move(*list), state_->next_seq++, now,
                                  prop.ews_allowed_app_ids, prop.front_ends, random_);
    }
  }
  return GetOrganizationConfig(org, true);
}

Result<OrganizationConfig> ExchangeAdmin::GetOrganizationConfig(
    std::string_view org, bool retrieve_ews_operation_access_policy) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  OrganizationConfig out;
  if (const auto* e = os->ews_enabled.Current()) out.ews_enabled = *e;
  // The plain Get leaves the list out "for performance reasons".
  if (retrieve_ews_operation_access_policy) {
    if (const auto* l = os->ews_allowed_app_ids.Current()) out.ews_allowed_app_ids = *l;
  }
  return out;
}

Result<CasMailbox> ExchangeAdmin::SetCasMailbox(std::string_view org,
                                                const SetCasMailboxParams& p) {
  {
    auto session = Open(*state_, store_, org);
    if (!session) return std::unexpected(session.error());
    OrgState* os = session->os;
    const Directory& dir = session->dir;
    auto r = dir.Resolve(p.identity);
    if (!r) return std::unexpected(r.error());
    if (!IsMailbox(r->kind)) return dir.NotFound(p.identity);
    if (p.ews_enabled) {
      const auto& prop = state_->options.propagation;
      os->settings[r->guid].ews_enabled.Put(*p.ews_enabled, state_->next_seq++, clock_.Monotonic(),
                                            prop.mailbox_ews_enabled, prop.front_ends, random_);
    }
  }
  return GetCasMailbox(org, p.identity);
}

Result<CasMailbox> ExchangeAdmin::GetCasMailbox(std::string_view org,
                                                std::string_view identity) const {
  auto session = Open(*state_, store_, org);
  if (!session) return std::unexpected(session.error());
  OrgState* os = session->os;
  const Directory& dir = session->dir;
  auto r = dir.Resolve(identity);
  if (!r) return std::unexpected(r.error());
  if (!IsMailbox(r->kind)) return dir.NotFound(identity);
  CasMailbox out;
  out.name = r->name;
  out.primary_smtp_address = r->primary_smtp_address;
  out.ews_enabled = true;  // Get-CASMailbox shows True until someone sets it
  if (auto s = os->settings.find(r->guid); s != os->settings.end()) {
    if (const auto* e = s->second.ews_enabled.Current()) out.ews_enabled = *e;
  }
  return out;
}

// ---- Settings ----

PropagationSettings ExchangeAdmin::propagation() const {
  std::lock_guard lock(state_->mu);
  return state_->options.propagation;
}

void ExchangeAdmin::SetPropagation(const PropagationSettings& settings) {
  std::lock_guard lock(state_->mu);
  state_->options.propagation = settings;
  if (state_->options.propagation.front_ends == 0) state_->options.propagation.front_ends = 1;
}

RetirementSchedule ExchangeAdmin::retirement() const {
  std::lock_guard lock(state_->mu);
  return state_->options.retirement;
}

void ExchangeAdmin::SetRetirement(const RetirementSchedule& schedule) {
  std::lock_guard lock(state_->mu);
  state_->options.retirement = schedule;
}

}  // namespace exo::mock_ews
