#include "internal/admin_directory.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <set>

#include "exo/common/crypto.hpp"
#include "exo/common/text.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews::admin_internal {

namespace {

using internal::AsciiIEquals;
using internal::AsciiLower;

std::uint32_t Little32(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return v;
}

bool IsGroup(RecipientKind k) {
  return k == RecipientKind::kMailUniversalSecurityGroup ||
         k == RecipientKind::kMailUniversalDistributionGroup;
}

struct RoleDef {
  const char* name;
  std::vector<std::string> permissions;
};

// Application roles of RBAC for Applications (exchange-admin.md §3.4).
const std::vector<RoleDef>& Roles() {
  static const std::vector<RoleDef> roles = {
      {"Application Mail.Read", {"Mail.Read"}},
      {"Application Mail.ReadBasic", {"Mail.ReadBasic"}},
      {"Application Mail.ReadWrite", {"Mail.ReadWrite"}},
      {"Application Mail.Send", {"Mail.Send"}},
      {"Application MailboxSettings.Read", {"MailboxSettings.Read"}},
      {"Application MailboxSettings.ReadWrite", {"MailboxSettings.ReadWrite"}},
      {"Application Calendars.Read", {"Calendars.Read"}},
      {"Application Calendars.ReadWrite", {"Calendars.ReadWrite"}},
      {"Application Contacts.Read", {"Contacts.Read"}},
      {"Application Contacts.ReadWrite", {"Contacts.ReadWrite"}},
      {"Application MailboxFolder.Read", {"MailboxFolder.Read"}},
      {"Application MailboxFolder.ReadWrite", {"MailboxFolder.ReadWrite"}},
      {"Application MailboxItem.Read", {"MailboxItem.Read"}},
      {"Application MailboxItem.ReadWrite", {"MailboxItem.ReadWrite"}},
      {"Application MailboxItem.Export", {"MailboxItem.Export"}},
      {"Application MailboxItem.ImportExport", {"MailboxItem.ImportExport"}},
      {"Application Mail Full Access", {"Mail.ReadWrite", "Mail.Send"}},
      {"Application Exchange Full Access",
       {"Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite", "Calendars.ReadWrite",
        "Contacts.ReadWrite"}},
      {"Application SMTP.SendAsApp", {"SMTP.SendAsApp"}},
      {"Application MailboxConfigItem.Read", {"MailboxConfigItem.Read"}},
      {"Application MailboxConfigItem.ReadWrite", {"MailboxConfigItem.ReadWrite"}},
      {"Application MailTips.ReadBasic.All", {"MailTips.ReadBasic.All"}},
      {"Application Mail-Advanced.ReadWrite.All", {"Mail-Advanced.ReadWrite.All"}},
      {"Application EWS.AccessAsApp", {"EWS.AccessAsApp"}},
  };
  return roles;
}

}  // namespace


std::string SidFor(std::string_view org_id, std::string_view guid) {
  // The store's derivation (mailbox_store.cpp), so groups and mail users share the mailboxes'
  // domain SID.
  const std::string domain = crypto::Sha256("exo-mock-ews-domain-sid:" + AsciiLower(org_id));
  const std::string rid_hash = crypto::Sha256("exo-mock-ews-rid:" + AsciiLower(guid));
  const std::uint32_t rid = 1000 + Little32(rid_hash, 0) % 0x3FFFFFFFu;
  char sid[96];
  std::snprintf(sid, sizeof sid, "S-1-5-21-%u-%u-%u-%u", Little32(domain, 0), Little32(domain, 4),
                Little32(domain, 8), rid);
  return sid;
}

std::string Directory::Domain() const {
  if (domain_) return *domain_;
  domain_ = org_id_;
  for (const Organization& o : store_.ListOrganizations()) {
    if (AsciiIEquals(o.id, org_id_) && o.name.find('.') != std::string::npos) {
      domain_ = AsciiLower(o.name);
      return *domain_;
    }
  }
  const auto mailboxes = store_.ListMailboxes(org_id_);
  if (!mailboxes.empty()) {
    const std::string& a = mailboxes.front().primary_smtp_address;
    domain_ = AsciiLower(a.substr(a.find('@') + 1));
  }
  return *domain_;
}

std::string Directory::DistinguishedName(std::string_view name) const {
  // EXO's shape; the forest name is one of the real ones [infer: which one is immaterial].
  return "CN=" + std::string(name) + ",OU=" + Domain() +
         ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM";
}

Recipient Directory::FromMailbox(const Mailbox& m) const {
  Recipient r;
  r.organization_id = m.organization_id;
  r.kind =
      m.kind == MailboxKind::kShared ? RecipientKind::kSharedMailbox : RecipientKind::kUserMailbox;
  r.guid = m.object_guid;
  r.sid = m.sid;
  r.alias = m.alias;
  r.display_name = m.display_name;
  r.primary_smtp_address = m.primary_smtp_address;
  r.name = m.alias;
  // A shared mailbox's account is disabled: not a security principal (§1.3).
  r.is_valid_security_principal = r.kind == RecipientKind::kUserMailbox;
  if (auto s = org_.settings.find(m.object_guid); s != org_.settings.end()) {
    if (s->second.name) r.name = *s->second.name;
    for (const auto& [attr, values] : s->second.custom_attributes) {
      const std::string* v = values.Current();
      if (v && !v->empty()) r.custom_attributes["CustomAttribute" + attr.substr(15)] = *v;
    }
  }
  r.distinguished_name = DistinguishedName(r.name);
  return r;
}

std::vector<Recipient> Directory::All() const {
  std::vector<Recipient> all;
  for (const Mailbox& m : store_.ListMailboxes(org_id_)) all.push_back(FromMailbox(m));
  for (const std::string& guid : org_.recipient_order) {
    auto it = org_.recipients.find(guid);
    if (it == org_.recipients.end()) continue;
    Recipient r = it->second.recipient;
    r.distinguished_name = DistinguishedName(r.name);
    if (auto s = org_.settings.find(guid); s != org_.settings.end()) {
      for (const auto& [attr, values] : s->second.custom_attributes) {
        const std::string* v = values.Current();
        if (v && !v->empty()) r.custom_attributes["CustomAttribute" + attr.substr(15)] = *v;
      }
    }
    all.push_back(std::move(r));
  }
  return all;
}

std::unexpected<Error> Directory::NotFound(std::string_view identity) const {
  return Fail(ErrorCategory::kNotFound, admin_codes::kObjectNotFound,
              "The operation couldn't be performed because object '" + std::string(identity) +
                  "' couldn't be found on '" + dc_ + "'.",
              "check the identity with Get-Recipient");
}

Result<Recipient> Directory::Resolve(std::string_view identity) const {
  std::vector<Recipient> found;
  // Proxy addresses and UPNs of mailboxes are the store's to resolve.
  const auto by_store = store_.ResolveMailbox(identity);
  for (Recipient& r : All()) {
    bool hit = AsciiIEquals(r.name, identity) || AsciiIEquals(r.alias, identity) ||
               AsciiIEquals(r.display_name, identity) ||
               AsciiIEquals(r.primary_smtp_address, identity) || AsciiIEquals(r.guid, identity) ||
               AsciiIEquals(r.sid, identity) || AsciiIEquals(r.distinguished_name, identity);
    if (!hit && by_store && by_store->object_guid == r.guid) hit = true;
    if (hit) found.push_back(std::move(r));
  }
  if (found.empty()) return NotFound(identity);
  if (found.size() > 1) {
    return Fail(ErrorCategory::kConfiguration, admin_codes::kAmbiguous,
                "The operation couldn't be performed because '" + std::string(identity) +
                    "' matches multiple entries.",
                "use a unique identifier: the GUID, the primary SMTP address or the DN");
  }
  return std::move(found.front());
}

Result<Recipient> Directory::ResolveGroup(std::string_view identity) const {
  auto r = Resolve(identity);
  if (!r) return r;
  if (!IsGroup(r->kind)) return NotFound(identity);
  return r;
}

bool InPolicyScope(const OrgState& org, const std::string& scope_guid,
                   const std::string& target_guid, const View& view) {
  if (AsciiIEquals(scope_guid, target_guid)) return true;
  std::set<std::string> seen = {scope_guid};
  std::vector<std::string> todo = {scope_guid};
  while (!todo.empty()) {
    const std::string g = todo.back();
    todo.pop_back();
    auto it = org.recipients.find(g);
    if (it == org.recipients.end() || !IsGroup(it->second.recipient.kind)) continue;
    const std::vector<std::string>* members = view.Of(it->second.members);
    if (!members) continue;
    for (const std::string& m : *members) {
      if (AsciiIEquals(m, target_guid)) return true;
      if (seen.insert(m).second) todo.push_back(m);  // nested groups; cycles end here
    }
  }
  return false;
}

bool AccessPolicyGrants(const OrgState& org, std::string_view app_id,
                        const std::string& mailbox_guid, const View& view) {
  bool any_restrict = false;
  bool restrict_match = false;
  for (const auto& [key, versions] : org.policies) {
    const std::optional<PolicyRecord>* p = view.Of(versions);
    if (!p || !*p) continue;
    const ApplicationAccessPolicy& policy = (*p)->policy;
    if (policy.app_id != "*" && !AsciiIEquals(policy.app_id, app_id)) continue;
    const bool match = InPolicyScope(org, (*p)->scope_guid, mailbox_guid, view);
    // Rules 1 and 2: a matching DenyAccess wins over everything.
    if (policy.access_right == AccessRight::kDenyAccess) {
      if (match) return false;
      continue;
    }
    any_restrict = true;
    restrict_match = restrict_match || match;
  }
  if (restrict_match) return true;  // rule 3
  return !any_restrict;             // rules 4 and 5
}

std::vector<std::string> RolePermissions(std::string_view role, std::string* canonical) {
  for (const RoleDef& r : Roles()) {
    if (AsciiIEquals(r.name, role)) {
      if (canonical) *canonical = r.name;
      return r.permissions;
    }
  }
  return {};
}

namespace {

std::vector<std::string> PropertyOf(const Directory& dir, const Recipient& target,
                                    const std::string& property, const View& view) {
  if (property == "name") return {target.name};
  if (property == "alias") return {target.alias};
  if (property == "displayname") return {target.display_name};
  if (property == "primarysmtpaddress") return {target.primary_smtp_address};
  if (property == "recipienttypedetails") return {ToString(target.kind)};
  if (property.starts_with("customattribute")) {
    auto s = dir.org().settings.find(target.guid);
    if (s == dir.org().settings.end()) return {};
    auto a = s->second.custom_attributes.find(property);
    if (a == s->second.custom_attributes.end()) return {};
    const std::string* v = view.Of(a->second);
    if (!v || v->empty()) return {};
    return {*v};
  }
  if (property == "memberofgroup") {
    // Direct membership only: "Nested group members are out of scope" (application-rbac FAQ).
    std::vector<std::string> groups;
    for (const auto& [guid, record] : dir.org().recipients) {
      if (!IsGroup(record.recipient.kind)) continue;
      const std::vector<std::string>* members = view.Of(record.members);
      if (!members) continue;
      for (const std::string& m : *members) {
        if (!AsciiIEquals(m, target.guid)) continue;
        groups.push_back(dir.DistinguishedName(record.recipient.name));
        groups.push_back(record.recipient.name);
        groups.push_back(record.recipient.primary_smtp_address);
        groups.push_back(guid);
      }
    }
    return groups;
  }
  return {};
}

}  // namespace

bool AssignmentCovers(const Directory& dir, const AssignmentRecord& a, const Recipient& target,
                      const View& view) {
  if (!a.group_guid.empty()) {
    auto g = dir.org().recipients.find(a.group_guid);
    if (g == dir.org().recipients.end()) return false;
    const std::vector<std::string>* members = view.Of(g->second.members);
    if (!members) return false;
    for (const std::string& m : *members) {
      if (AsciiIEquals(m, target.guid)) return true;
    }
    return false;
  }
  if (a.scope_key.empty()) return true;  // organization-wide
  auto s = dir.org().scopes.find(a.scope_key);
  if (s == dir.org().scopes.end()) return false;
  const std::optional<ScopeRecord>* scope = view.Of(s->second);
  if (!scope || !*scope || !(*scope)->filter) return false;
  return Matches(*(*scope)->filter, [&](const std::string& property) {
    return PropertyOf(dir, target, property, view);
  });
}

bool RbacGrants(const Directory& dir, std::string_view app_id, const Recipient& target,
                std::string_view permission, const View& view) {
  std::string sp_object_id;
  for (const auto& [object_id, versions] : dir.org().service_principals) {
    const std::optional<SpRecord>* sp = view.Of(versions);
    if (sp && *sp && AsciiIEquals((*sp)->sp.app_id, app_id)) sp_object_id = object_id;
  }
  if (sp_object_id.empty()) return false;
  for (const auto& [key, versions] : dir.org().assignments) {
    const std::optional<AssignmentRecord>* a = view.Of(versions);
    if (!a || !*a || !AsciiIEquals((*a)->sp_object_id, sp_object_id)) continue;
    bool grants = false;
    for (const std::string& p : RolePermissions((*a)->assignment.role)) {
      if (AsciiIEquals(p, permission)) grants = true;
    }
    if (grants && AssignmentCovers(dir, **a, target, view)) return true;
  }
  return false;
}

}  // namespace exo::mock_ews::admin_internal
