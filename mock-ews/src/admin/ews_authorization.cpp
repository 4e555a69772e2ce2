// ExchangeAdmin::AuthorizeEws: what the EWS front end serving a request believes, in EWS's order
// after authentication (exchange-admin.md §1.4, §2, §3.5, §5).
#include <array>

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

namespace {

// Licences whose service description grants no EWS: Exchange Online Kiosk, Microsoft/Office 365
// F1 and F3 (MC1191578), by SKU part number, plus the plain names for hand-written scenarios.
constexpr std::array<const char*, 9> kFrontlineSkus = {"EXCHANGEDESKLESS",
                                                       "DESKLESSPACK",
                                                       "M365_F1",
                                                       "M365_F1_COMM",
                                                       "SPE_F1",
                                                       "SPE_F3",
                                                       "Kiosk",
                                                       "F1",
                                                       "F3"};

bool FrontlineOnly(const std::vector<std::string>& skus) {
  if (skus.empty()) return false;
  for (const std::string& sku : skus) {
    bool frontline = false;
    for (const char* f : kFrontlineSkus) frontline = frontline || AsciiIEquals(sku, f);
    if (!frontline) return false;
  }
  return true;
}

}  // namespace

namespace admin_internal {

std::size_t PickFrontEnd(const PropagationSettings& settings, std::optional<std::size_t> requested,
                         Random& random) {
  const std::size_t n = std::max<std::size_t>(settings.front_ends, 1);
  if (requested) return *requested % n;
  if (settings.pinned_front_end) return *settings.pinned_front_end % n;
  if (n > 1) return static_cast<std::size_t>(random.Below(n));  // the load balancer's pick
  return 0;
}

MonoTime TouchRbacCache(OrgState* org, std::size_t fe, const std::string& app_id, MonoTime t,
                        const PropagationSettings& settings) {
  if (!org) return t;
  auto& entry = org->rbac_cache[{fe, AsciiLower(app_id)}];
  if (!entry.loaded || t - entry.last_used >= settings.rbac_idle_reset ||
      t - entry.loaded_at >= settings.rbac_max_lifetime) {
    entry.loaded = true;
    entry.loaded_at = t;
  }
  entry.last_used = t;
  return entry.loaded_at;
}

}  // namespace admin_internal

EwsAccessDecision ExchangeAdmin::AuthorizeEws(const EwsAccessRequest& request) {
  std::lock_guard lock(state_->mu);
  const PropagationSettings& prop = state_->options.propagation;
  const RetirementSchedule& schedule = state_->options.retirement;
  EwsAccessDecision d;
  d.front_end = admin_internal::PickFrontEnd(prop, request.front_end, random_);
  const MonoTime t = clock_.Monotonic();
  const SystemTime now = clock_.Now();
  const View seen = View::FrontEnd(d.front_end, t);
  auto deny = [&](EwsDenial why, std::string detail) {
    d.denial = why;
    d.detail = std::move(detail);
    return d;
  };

  // "No exceptions past April 2027": EWS in Exchange Online is off for everyone.
  if (now >= schedule.final_cutoff) return deny(EwsDenial::kEwsRetired, "EWS is retired");

  const std::string org_id = AsciiLower(request.organization_id);
  static const OrgState kEmpty;
  const OrgState* os = &kEmpty;
  if (auto it = state_->orgs.find(org_id); it != state_->orgs.end()) os = &it->second;

  std::optional<bool> org_ews;
  if (const auto* e = seen.Of(os->ews_enabled)) org_ews = *e;
  if (!org_ews && schedule.null_flips_to_false_at && now >= *schedule.null_flips_to_false_at) {
    org_ews = false;  // Microsoft's phase-2 flip of tenants left at Null
  }
  if (org_ews == false) {
    return deny(EwsDenial::kOrganizationDisabled, "organization EwsEnabled is False");
  }
  if (org_ews == true) {
    // The allow list counts only while EwsEnabled is True (§5.2 table).
    std::vector<std::string> allowed;
    if (const auto* l = seen.Of(os->ews_allowed_app_ids); l && *l) allowed = **l;
    if (allowed.empty()) {
      if (now >= schedule.allow_list_required_from) {
        return deny(EwsDenial::kAppNotAllowed, "EwsEnabled is True and EwsAllowedAppIDs is empty");
      }
    } else {
      bool listed = false;
      for (const std::string& a : allowed) listed = listed || AsciiIEquals(a, request.app_id);
      if (!listed) {
        return deny(EwsDenial::kAppNotAllowed,
                    "app " + request.app_id + " is not in EwsAllowedAppIDs");
      }
    }
  }

  auto mailbox = store_.ResolveMailbox(request.mailbox);
  if (!mailbox) {
    d.detail = "no such mailbox: impersonation answers first";
    return d;
  }
  const admin_internal::RecipientSettings* settings = nullptr;
  if (auto s = os->settings.find(mailbox->object_guid); s != os->settings.end()) {
    settings = &s->second;
  }
  if (settings) {
    // Both levels must be True or Null; the organization's False wins (MC1015893).
    if (const auto* e = seen.Of(settings->ews_enabled); e && *e == false) {
      return deny(EwsDenial::kMailboxDisabled, "mailbox EwsEnabled is False");
    }
    if (now >= schedule.frontline_block_from) {
      if (const auto* l = seen.Of(settings->licences); l && FrontlineOnly(*l)) {
        return deny(EwsDenial::kFrontlineLicence, "the mailbox has only Kiosk/F1/F3 licences");
      }
    }
  }

  // Entra consent, constrained by access policies; RBAC grants add to it (§3.5).
  bool entra = false;
  for (const std::string& role : request.roles) entra = entra || role == "full_access_as_app";
  const bool policy_allows =
      entra && admin_internal::AccessPolicyGrants(*os, request.app_id, mailbox->object_guid, seen);
  if (policy_allows) {
    d.granted_by = "Entra";
    d.detail = "full_access_as_app";
  }

  // RBAC for Applications answers from this front end's per-app cache: reloaded after 30 minutes
  // without calls or 2 hours since it was loaded; every call keeps it warm.
  OrgState* mutable_os = nullptr;
  if (auto it = state_->orgs.find(org_id); it != state_->orgs.end()) mutable_os = &it->second;
  const MonoTime loaded_at =
      admin_internal::TouchRbacCache(mutable_os, d.front_end, request.app_id, t, prop);
  if (policy_allows) return d;
  Directory dir(store_, *os, org_id, state_->options.domain_controller);
  if (admin_internal::RbacGrants(dir, request.app_id, dir.FromMailbox(*mailbox), "EWS.AccessAsApp",
                                 View::AsOf(loaded_at))) {
    d.granted_by = "RBAC";
    d.detail = "Application EWS.AccessAsApp";
    return d;
  }
  if (entra) {
    return deny(EwsDenial::kAccessPolicy,
                "an ApplicationAccessPolicy excludes the mailbox and no RBAC role covers it");
  }
  return deny(EwsDenial::kNoPermission,
              "neither full_access_as_app nor Application EWS.AccessAsApp in scope");
}

}  // namespace exo::mock_ews
