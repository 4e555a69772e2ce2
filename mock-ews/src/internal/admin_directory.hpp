// How ExchangeAdmin's cmdlets and its EWS enforcement read one organization: recipients by any
// identifier (store mailboxes and the admin's own), group expansion, and the access-policy and
// RBAC rules, each under a View: the newest configuration, what one front end has learnt by a
// time, or a cache loaded at a time. Called with ExchangeAdmin::State::mu held.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/exchange_admin_state.hpp"

namespace exo::mock_ews::admin_internal {

struct View {
  enum class Mode { kCurrent, kFrontEnd, kAsOf };
  Mode mode = Mode::kCurrent;
  std::size_t front_end = 0;
  MonoTime at{};

  static View Current() { return {}; }
  static View FrontEnd(std::size_t fe, MonoTime t) { return {Mode::kFrontEnd, fe, t}; }
  static View AsOf(MonoTime s) { return {Mode::kAsOf, 0, s}; }

  template <class T>
  const T* Of(const Versioned<T>& v) const {
    switch (mode) {
      case Mode::kCurrent:
        return v.Current();
      case Mode::kFrontEnd:
        return v.VisibleAt(front_end, at);
      case Mode::kAsOf:
        return v.AsOf(at);
    }
    return nullptr;
  }
};

// One organization as the cmdlets see it.
class Directory {
 public:
  Directory(const MailboxStore& store, const OrgState& org, std::string org_id,
            const std::string& domain_controller)
      : store_(store), org_(org), org_id_(std::move(org_id)), dc_(domain_controller) {}

  // The organization's initial domain for DNs: its name when it is a domain, else the domain of
  // its first mailbox [infer: EXO uses <tenant>.onmicrosoft.com].
  std::string Domain() const;
  std::string DistinguishedName(std::string_view name) const;
  // Every recipient: the store's mailboxes first (creation order), then mail users and groups.
  std::vector<Recipient> All() const;
  Result<Recipient> Resolve(std::string_view identity) const;
  Result<Recipient> ResolveGroup(std::string_view identity) const;
  // "The operation couldn't be performed because object 'x' couldn't be found on '<DC>'."
  std::unexpected<Error> NotFound(std::string_view identity) const;
  Recipient FromMailbox(const Mailbox& m) const;
  const OrgState& org() const { return org_; }
  const std::string& org_id() const { return org_id_; }

 private:
  const MailboxStore& store_;
  const OrgState& org_;
  std::string org_id_;
  const std::string& dc_;
  mutable std::optional<std::string> domain_;  // Domain(), computed once per Directory
};

// S-1-5-21-…: the domain part as the store derives it for the organization, the RID from `guid`.
std::string SidFor(std::string_view org_id, std::string_view guid);

// Whether `target_guid` is `scope_guid` or a member of it, nested groups expanded.
bool InPolicyScope(const OrgState& org, const std::string& scope_guid,
                   const std::string& target_guid, const View& view);
// The five documented rules (exchange-admin.md §1.4) for an app and a mailbox.
bool AccessPolicyGrants(const OrgState& org, std::string_view app_id,
                        const std::string& mailbox_guid, const View& view);

// The permissions an application role grants ("Application Mail Full Access" -> Mail.ReadWrite,
// Mail.Send); empty for a name that is not an application role. `canonical` gets its spelling.
std::vector<std::string> RolePermissions(std::string_view role, std::string* canonical = nullptr);
// Whether an assignment's scope holds `target` under `view` (MemberOfGroup: direct members only).
bool AssignmentCovers(const Directory& dir, const AssignmentRecord& a, const Recipient& target,
                      const View& view);
// Whether the app's service principal holds a role granting `permission` whose scope covers
// `target` under `view`.
bool RbacGrants(const Directory& dir, std::string_view app_id, const Recipient& target,
                std::string_view permission, const View& view);


}  // namespace exo::mock_ews::admin_internal
