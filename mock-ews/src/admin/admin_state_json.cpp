// ExchangeAdmin::StateJson: the newest configuration of every organization with, for each setting
// EWS enforces, when its newest version will have reached every front end.
#include "exo/common/time_format.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "internal/admin_control.hpp"
#include "internal/admin_directory.hpp"
#include "internal/exchange_admin_state.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

using admin_internal::Directory;
using admin_internal::Versioned;
using nlohmann::json;

namespace {

json Minutes(Duration d) { return std::chrono::duration<double, std::ratio<60>>(d).count(); }

json WindowJson(const PropagationWindow& w) {
  return {{"earliestMinutes", Minutes(w.earliest)}, {"latestMinutes", Minutes(w.latest)}};
}

json Tristate(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }

// When a setting's newest version reaches every front end, as system time; null when it has.
template <class T>
json PendingUntil(const Versioned<T>& v, MonoTime mono_now, SystemTime now) {
  if (v.empty()) return nullptr;
  const MonoTime all = v.versions().back().AllVisible();
  if (all <= mono_now) return nullptr;
  return FormatIso8601(now + std::chrono::duration_cast<SystemTime::duration>(all - mono_now));
}

json RecipientJson(const Recipient& r) {
  json j = {{"name", r.name},
            {"displayName", r.display_name},
            {"alias", r.alias},
            {"primarySmtpAddress", r.primary_smtp_address},
            {"recipientTypeDetails", ToString(r.kind)},
            {"guid", r.guid},
            {"sid", r.sid},
            {"distinguishedName", r.distinguished_name},
            {"isValidSecurityPrincipal", r.is_valid_security_principal}};
  if (!r.external_email_address.empty()) j["externalEmailAddress"] = r.external_email_address;
  if (!r.custom_attributes.empty()) j["customAttributes"] = r.custom_attributes;
  return j;
}

Result<PropagationWindow> WindowFrom(const json& j, PropagationWindow w, const char* key) {
  if (!j.is_object()) {
    return Fail(ErrorCategory::kConfiguration, "InvalidPropagation",
                std::string(key) + " must be {\"earliestMinutes\": n, \"latestMinutes\": n}");
  }
  for (const char* k : {"earliestMinutes", "latestMinutes"}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_number() || j[k].get<double>() < 0) {
      return Fail(ErrorCategory::kConfiguration, "InvalidPropagation",
                  std::string(key) + "." + k + " must be a number of minutes >= 0");
    }
    const auto d = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::ratio<60>>(j[k].get<double>()));
    (std::string_view(k) == "earliestMinutes" ? w.earliest : w.latest) = d;
  }
  if (w.earliest > w.latest) w.earliest = w.latest;
  return w;
}

}  // namespace

Result<PropagationSettings> ParsePropagation(const json& body, PropagationSettings p) {
  const std::pair<const char*, PropagationWindow*> windows[] = {
      {"accessPolicy", &p.access_policy},
      {"accessPolicyRemoval", &p.access_policy_removal},
      {"groupMembership", &p.group_membership},
      {"ewsAllowedAppIds", &p.ews_allowed_app_ids},
      {"ewsEnabled", &p.ews_enabled},
      {"mailboxEwsEnabled", &p.mailbox_ews_enabled},
      {"licence", &p.licence}};
  for (const auto& [key, window] : windows) {
    if (!body.contains(key)) continue;
    auto w = WindowFrom(body[key], *window, key);
    if (!w) return std::unexpected(w.error());
    *window = *w;
  }
  const std::pair<const char*, Duration*> durations[] = {
      {"rbacIdleResetMinutes", &p.rbac_idle_reset},
      {"rbacMaxLifetimeMinutes", &p.rbac_max_lifetime}};
  for (const auto& [key, d] : durations) {
    if (!body.contains(key)) continue;
    if (!body[key].is_number() || body[key].get<double>() < 0) {
      return Fail(ErrorCategory::kConfiguration, "InvalidPropagation",
                  std::string(key) + " must be a number of minutes >= 0");
    }
    *d = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::ratio<60>>(body[key].get<double>()));
  }
  if (body.contains("frontEnds")) {
    if (!body["frontEnds"].is_number_unsigned() || body["frontEnds"].get<std::size_t>() == 0) {
      return Fail(ErrorCategory::kConfiguration, "InvalidPropagation",
                  "frontEnds must be a whole number >= 1");
    }
    p.front_ends = body["frontEnds"].get<std::size_t>();
  }
  if (body.contains("pinnedFrontEnd")) {
    if (body["pinnedFrontEnd"].is_null()) {
      p.pinned_front_end.reset();
    } else if (body["pinnedFrontEnd"].is_number_unsigned()) {
      p.pinned_front_end = body["pinnedFrontEnd"].get<std::size_t>();
    } else {
      return Fail(ErrorCategory::kConfiguration, "InvalidPropagation",
                  "pinnedFrontEnd must be a whole number or null");
    }
  }
  return p;
}

json PropagationJson(const PropagationSettings& p) {
  json j = {{"accessPolicy", WindowJson(p.access_policy)},
            {"accessPolicyRemoval", WindowJson(p.access_policy_removal)},
            {"groupMembership", WindowJson(p.group_membership)},
            {"rbacIdleResetMinutes", Minutes(p.rbac_idle_reset)},
            {"rbacMaxLifetimeMinutes", Minutes(p.rbac_max_lifetime)},
            {"ewsAllowedAppIds", WindowJson(p.ews_allowed_app_ids)},
            {"ewsEnabled", WindowJson(p.ews_enabled)},
            {"mailboxEwsEnabled", WindowJson(p.mailbox_ews_enabled)},
            {"licence", WindowJson(p.licence)},
            {"frontEnds", p.front_ends},
            {"pinnedFrontEnd", nullptr}};
  if (p.pinned_front_end) j["pinnedFrontEnd"] = *p.pinned_front_end;
  return j;
}

json ExchangeAdmin::StateJson() const {
  std::lock_guard lock(state_->mu);
  const MonoTime mono_now = clock_.Monotonic();
  const SystemTime now = clock_.Now();
  const RetirementSchedule& r = state_->options.retirement;
  json out = {{"now", FormatIso8601(now)},
              {"propagation", PropagationJson(state_->options.propagation)},
              {"retirement",
               {{"allowListRequiredFrom", FormatIso8601(r.allow_list_required_from)},
                {"frontlineBlockFrom", FormatIso8601(r.frontline_block_from)},
                {"finalCutoff", FormatIso8601(r.final_cutoff)},
                {"nullFlipsToFalseAt", r.null_flips_to_false_at
                                           ? json(FormatIso8601(*r.null_flips_to_false_at))
                                           : json(nullptr)}}}};
  json orgs = json::array();
  for (const auto& [org_id, os] : state_->orgs) {
    Directory dir(store_, os, org_id, state_->options.domain_controller);
    json o = {{"id", org_id}};
    json config = {
        {"ewsEnabled", nullptr},
        {"ewsEnabledPropagatesUntil", PendingUntil(os.ews_enabled, mono_now, now)},
        {"ewsAllowedAppIds", nullptr},
        {"ewsAllowedAppIdsPropagatesUntil", PendingUntil(os.ews_allowed_app_ids, mono_now, now)}};
    if (const auto* e = os.ews_enabled.Current()) config["ewsEnabled"] = Tristate(*e);
    if (const auto* l = os.ews_allowed_app_ids.Current(); l && *l) {
      config["ewsAllowedAppIds"] = **l;
    }
    o["organizationConfig"] = config;
    json recipients = json::array();
    for (const Recipient& rc : dir.All()) {
      json j = RecipientJson(rc);
      if (auto g = os.recipients.find(rc.guid); g != os.recipients.end()) {
        if (const auto* m = g->second.members.Current()) {
          j["members"] = *m;
          j["membersPropagateUntil"] = PendingUntil(g->second.members, mono_now, now);
        }
      }
      if (auto s = os.settings.find(rc.guid); s != os.settings.end()) {
        if (const auto* e = s->second.ews_enabled.Current()) {
          j["ewsEnabled"] = Tristate(*e);
          j["ewsEnabledPropagatesUntil"] = PendingUntil(s->second.ews_enabled, mono_now, now);
        }
        if (const auto* l = s->second.licences.Current()) {
          j["licences"] = *l;
          j["licencesPropagateUntil"] = PendingUntil(s->second.licences, mono_now, now);
        }
      }
      recipients.push_back(std::move(j));
    }
    o["recipients"] = recipients;
    json sps = json::array();
    for (const auto& [id, v] : os.service_principals) {
      if (const auto* sp = v.Current(); sp && *sp) {
        sps.push_back({{"displayName", (*sp)->sp.display_name},
                       {"objectId", (*sp)->sp.object_id},
                       {"appId", (*sp)->sp.app_id}});
      }
    }
    o["servicePrincipals"] = sps;
    json policies = json::array();
    for (const auto& [id, v] : os.policies) {
      const auto* p = v.Current();
      json pending = PendingUntil(v, mono_now, now);
      if ((!p || !*p) && pending.is_null()) continue;
      json j = {{"identity",
                 v.versions().back().value ? (*v.versions().back().value).policy.identity : id},
                {"removed", !p || !*p},
                {"propagatesUntil", pending}};
      if (p && *p) {
        j["appId"] = (*p)->policy.app_id;
        j["accessRight"] = ToString((*p)->policy.access_right);
        j["scopeName"] = (*p)->policy.scope_name;
        j["description"] = (*p)->policy.description;
      }
      policies.push_back(std::move(j));
    }
    o["applicationAccessPolicies"] = policies;
    json scopes = json::array();
    for (const auto& [id, v] : os.scopes) {
      if (const auto* s = v.Current(); s && *s) {
        scopes.push_back(
            {{"name", (*s)->scope.name}, {"recipientFilter", (*s)->scope.recipient_filter}});
      }
    }
    o["managementScopes"] = scopes;
    json assignments = json::array();
    for (const auto& [id, v] : os.assignments) {
      if (const auto* a = v.Current(); a && *a) {
        assignments.push_back({{"name", (*a)->assignment.name},
                               {"role", (*a)->assignment.role},
                               {"roleAssigneeName", (*a)->assignment.role_assignee_name},
                               {"customResourceScope", (*a)->assignment.custom_resource_scope},
                               {"recipientWriteScope", (*a)->assignment.recipient_write_scope}});
      }
    }
    o["roleAssignments"] = assignments;
    json caches = json::array();
    for (const auto& [key, entry] : os.rbac_cache) {
      caches.push_back(
          {{"frontEnd", key.first},
           {"appId", key.second},
           {"loadedAt", FormatIso8601(now - std::chrono::duration_cast<SystemTime::duration>(
                                                mono_now - entry.loaded_at))},
           {"lastUsed", FormatIso8601(now - std::chrono::duration_cast<SystemTime::duration>(
                                                mono_now - entry.last_used))}});
    }
    o["rbacCache"] = caches;
    orgs.push_back(std::move(o));
  }
  out["organizations"] = orgs;
  return out;
}

}  // namespace exo::mock_ews
