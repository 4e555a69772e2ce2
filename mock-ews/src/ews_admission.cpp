#include "internal/ews_admission.hpp"

#include "exo/mock_kit/journal.hpp"

namespace exo::mock_ews {

std::optional<SoapReply> AdmitToMailbox(ExchangeAdmin& admin, const EwsCaller& caller,
                                        const Mailbox& mailbox) {
  EwsAccessRequest request;
  request.organization_id = caller.tenant_id;
  request.app_id = caller.app_id;
  request.mailbox = mailbox.object_guid;
  // TokenValidator lets only tokens with full_access_as_app this far, so the Entra grant is
  // present; an RBAC-only app (no roles) would need the validator to defer to RBAC first.
  request.roles = {"full_access_as_app"};
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

}  // namespace exo::mock_ews
