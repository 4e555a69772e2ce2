#include "internal/ews_admission.hpp"

#include "exo/mock_kit/journal.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

std::optional<SoapReply> AdmitToMailbox(ExchangeAdmin& admin, const EwsCaller& caller,
                                        const Mailbox& mailbox) {
  EwsAccessRequest request;
  request.organization_id = caller.tenant_id;
  request.app_id = caller.app_id;
  request.mailbox = mailbox.object_guid;
  // The token's own roles: without full_access_as_app only an RBAC grant lets the validator pass
  // it this far, and the model then serves the mailboxes that grant covers.
  request.roles = caller.roles;
  const EwsAccessDecision decision = admin.AuthorizeEws(request);
  mock::Annotate("front_end", std::to_string(decision.front_end));
  if (decision.allowed()) {
    if (decision.granted_by == "RBAC") mock::Annotate("granted_by", "RBAC");
    return std::nullopt;
  }
  mock::Annotate("denied", ToString(decision.denial));
  mock::Annotate("denied.detail", decision.detail);
  // Every admin-side refusal of EWS is a 403 with no body and no x-ms-diagnostics: observed for
  // access policies (exchangelib#1199/#1234, "403 is policy block"), announced without a body for
  // Kiosk/F1/F3 licences (MC1191578 "HTTP 403 response") and reported as 403 Forbidden for EWS
  // disabled by Microsoft's scream tests; EwsEnabled, EwsAllowedAppIDs and the cut-off answer
  // the same [infer: no capture of their bodies or headers].
  SoapReply reply;
  reply.status = 403;
  return reply;
}

bool HoldsEwsRbacGrant(const ExchangeAdmin& admin, const std::string& tenant_id,
                       const std::string& app_id) {
  if (app_id.empty()) return false;
  auto sps = admin.GetServicePrincipal(tenant_id, app_id);
  if (!sps) return false;
  auto assignments = admin.GetManagementRoleAssignment(tenant_id);
  if (!assignments) return false;
  for (const ServicePrincipal& sp : *sps) {
    if (!internal::AsciiIEquals(sp.app_id, app_id)) continue;  // the lookup also matches names
    for (const ManagementRoleAssignment& a : *assignments) {
      if (internal::AsciiIEquals(a.role, "Application EWS.AccessAsApp") &&
          internal::AsciiIEquals(a.role_assignee_name, sp.object_id)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace exo::mock_ews
