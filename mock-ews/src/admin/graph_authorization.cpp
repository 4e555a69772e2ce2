// ExchangeAdmin::AuthorizeGraph: what the Microsoft Graph front end serving a request believes
// about an app and a mailbox. The same rules and the same propagation as EWS's access check
// (exchange-admin.md §1.4, §2, §3.5), without the EWS-only gates: EwsEnabled and EwsAllowedAppIDs
// apply "only to direct EWS (SOAP) connections. It doesn't affect requests from the Microsoft
// Graph API or the REST endpoint" (Set-OrganizationConfig.md, §5.2), and retirement and the
// frontline-licence block are EWS's.
#include <algorithm>

#include "exo/mock_ews/exchange_admin.hpp"
#include "internal/admin_directory.hpp"
#include "internal/exchange_admin_state.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

using admin_internal::Directory;
using admin_internal::OrgState;
using admin_internal::View;
using internal::AsciiIEquals;
using internal::AsciiLower;

const char* ToString(GraphDenial denial) {
  switch (denial) {
    case GraphDenial::kNone:
      return "None";
    case GraphDenial::kAccessPolicy:
      return "ApplicationAccessPolicy";
    case GraphDenial::kNoPermission:
      return "NoPermission";
  }
  return "None";
}

GraphAccessDecision ExchangeAdmin::AuthorizeGraph(const GraphAccessRequest& request) {
  std::lock_guard lock(state_->mu);
  const PropagationSettings& prop = state_->options.propagation;
  GraphAccessDecision d;
  d.front_end = admin_internal::PickFrontEnd(prop, request.front_end, random_);
  const MonoTime t = clock_.Monotonic();
  const View seen = View::FrontEnd(d.front_end, t);

  const std::string org_id = AsciiLower(request.organization_id);
  static const OrgState kEmpty;
  OrgState* org = nullptr;
  if (auto it = state_->orgs.find(org_id); it != state_->orgs.end()) org = &it->second;
  const OrgState& os = org ? *org : kEmpty;

  auto mailbox = store_.ResolveMailbox(request.mailbox);
  if (!mailbox) {
    d.detail = "no such mailbox: the facade answers first";
    return d;
  }
  auto accepted = [&](const std::string& permission) {
    return std::any_of(request.permissions.begin(), request.permissions.end(),
                       [&](const std::string& p) { return AsciiIEquals(p, permission); });
  };

  // The Entra grant (the token's roles), constrained by the access policies this front end knows.
  bool entra = false;
  for (const std::string& role : request.roles) entra = entra || accepted(role);
  if (entra && admin_internal::AccessPolicyGrants(os, request.app_id, mailbox->object_guid, seen)) {
    d.granted_by = "Entra";
    d.detail = "application permission";
    admin_internal::TouchRbacCache(org, d.front_end, request.app_id, t, prop);
    return d;
  }

  // RBAC for Applications, from this front end's per-app cache; grants add to Entra's (§3.5).
  const MonoTime loaded_at =
      admin_internal::TouchRbacCache(org, d.front_end, request.app_id, t, prop);
  const View rbac_view = View::AsOf(loaded_at);
  Directory dir(store_, os, org_id, state_->options.domain_controller);
  const Recipient target = dir.FromMailbox(*mailbox);
  bool rbac_holds = false;
  for (const std::string& permission : request.permissions) {
    if (admin_internal::RbacGrants(dir, request.app_id, target, permission, rbac_view)) {
      d.granted_by = "RBAC";
      d.detail = "Application " + permission;
      return d;
    }
  }
  // Does the app hold a suitable RBAC role at all (for another scope)? Then the mailbox is out of
  // its scope, which Graph answers like an access policy [infer].
  for (const auto& [key, versions] : os.assignments) {
    const std::optional<admin_internal::AssignmentRecord>* a = rbac_view.Of(versions);
    if (!a || !*a) continue;
    bool sp_is_app = false;
    if (auto sp = os.service_principals.find((*a)->sp_object_id);
        sp != os.service_principals.end()) {
      const std::optional<admin_internal::SpRecord>* rec = rbac_view.Of(sp->second);
      sp_is_app = rec && *rec && AsciiIEquals((*rec)->sp.app_id, request.app_id);
    }
    if (!sp_is_app) continue;
    for (const std::string& p : admin_internal::RolePermissions((*a)->assignment.role)) {
      rbac_holds = rbac_holds || accepted(p);
    }
  }
  if (entra || rbac_holds) {
    d.denial = GraphDenial::kAccessPolicy;
    d.detail = entra ? "an ApplicationAccessPolicy excludes the mailbox and no RBAC role covers it"
                     : "the mailbox is outside the scope of the app's RBAC role";
    return d;
  }
  d.denial = GraphDenial::kNoPermission;
  d.detail = "no suitable application permission or RBAC role";
  return d;
}

}  // namespace exo::mock_ews
