// The inside of ExchangeAdmin: every setting EWS enforces is a history of versions, each stamped
// with when it was made and when each front end learns of it, so one structure answers both "what
// is configured now" (the cmdlets) and "what does front end f believe at time t" (enforcement).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "internal/recipient_filter.hpp"

namespace exo::mock_ews::admin_internal {

template <class T>
struct Version {
  std::uint64_t seq = 0;
  MonoTime made_at{};
  std::vector<MonoTime> visible_at;  // per front end; never empty
  T value{};

  MonoTime VisibleOn(std::size_t front_end) const {
    return front_end < visible_at.size() ? visible_at[front_end] : AllVisible();
  }
  MonoTime AllVisible() const { return *std::max_element(visible_at.begin(), visible_at.end()); }
};

// One setting's history. A later version never becomes visible on a front end before an earlier
// one (a cache cannot forget what it has not learnt yet), so what a front end sees is always a
// prefix of the history and "the newest visible version" is well defined.
template <class T>
class Versioned {
 public:
  // The newest value, or nullptr when never set.
  const T* Current() const { return versions_.empty() ? nullptr : &versions_.back().value; }
  // The newest value front end `fe` has learnt by `t`.
  const T* VisibleAt(std::size_t fe, MonoTime t) const {
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
      if (it->VisibleOn(fe) <= t) return &it->value;
    }
    return nullptr;
  }
  // The newest value made at or before `s` (a cache loaded at `s`).
  const T* AsOf(MonoTime s) const {
    for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
      if (it->made_at <= s) return &it->value;
    }
    return nullptr;
  }
  // Appends `value`, made at `now`, reaching front end f at now + its draw from `window`.
  void Put(T value, std::uint64_t seq, MonoTime now, const PropagationWindow& window,
           std::size_t front_ends, Random& random) {
    Version<T> v;
    v.seq = seq;
    v.made_at = now;
    v.value = std::move(value);
    const std::size_t n = std::max<std::size_t>(front_ends, 1);
    for (std::size_t f = 0; f < n; ++f) {
      MonoTime at = now + window.latest;
      if (n > 1 && window.latest > window.earliest) {
        const auto span =
            std::chrono::duration_cast<std::chrono::milliseconds>(window.latest - window.earliest);
        at = now + window.earliest +
             std::chrono::milliseconds(random.Below(static_cast<std::uint64_t>(span.count()) + 1));
      }
      if (!versions_.empty()) at = std::max(at, versions_.back().VisibleOn(f));
      v.visible_at.push_back(at);
    }
    versions_.push_back(std::move(v));
  }
  // Put with no delay: the value is known everywhere at once.
  void PutNow(T value, std::uint64_t seq, MonoTime now) {
    Version<T> v;
    v.seq = seq;
    v.made_at = now;
    v.value = std::move(value);
    v.visible_at.push_back(versions_.empty() ? now : std::max(now, versions_.back().AllVisible()));
    versions_.push_back(std::move(v));
  }
  const std::vector<Version<T>>& versions() const { return versions_; }
  bool empty() const { return versions_.empty(); }

 private:
  std::vector<Version<T>> versions_;
};

// A recipient that is not a store mailbox (mail user, group), or the admin side of a mailbox.
struct RecipientRecord {
  Recipient recipient;  // for mailboxes: only name overrides are kept
  std::uint64_t created_seq = 0;
  Versioned<std::vector<std::string>> members;  // groups: direct member GUIDs
};

// What the admin model adds to any recipient (mailbox or not), keyed by GUID.
struct RecipientSettings {
  std::optional<std::string> name;                                  // mailboxes: New-Mailbox -Name
  std::map<std::string, Versioned<std::string>> custom_attributes;  // "customattribute1" -> …
  Versioned<std::optional<bool>> ews_enabled;                       // Set-CASMailbox
  Versioned<std::vector<std::string>> licences;                     // SKU part numbers
};

struct PolicyRecord {
  ApplicationAccessPolicy policy;
  std::string scope_guid;
  std::uint64_t created_seq = 0;
};

struct ScopeRecord {
  ManagementScope scope;
  std::shared_ptr<const RecipientFilter> filter;
  std::uint64_t created_seq = 0;
};

struct AssignmentRecord {
  ManagementRoleAssignment assignment;
  std::string sp_object_id;
  std::string scope_key;   // lower-case scope name; empty: organization or group
  std::string group_guid;  // RecipientGroupScope
  std::uint64_t created_seq = 0;
};

struct SpRecord {
  ServicePrincipal sp;
  std::uint64_t created_seq = 0;
};

// The per front end, per app cache of RBAC for Applications.
struct RbacCacheEntry {
  bool loaded = false;
  MonoTime loaded_at{};
  MonoTime last_used{};
};

struct OrgState {
  std::vector<std::string> recipient_order;           // non-mailbox GUIDs, creation order
  std::map<std::string, RecipientRecord> recipients;  // GUID -> mail user / group
  std::map<std::string, RecipientSettings> settings;  // GUID -> settings (any recipient)
  std::map<std::string, Versioned<std::optional<SpRecord>>> service_principals;   // object id
  std::map<std::string, Versioned<std::optional<PolicyRecord>>> policies;         // lower identity
  std::map<std::string, Versioned<std::optional<ScopeRecord>>> scopes;            // lower name
  std::map<std::string, Versioned<std::optional<AssignmentRecord>>> assignments;  // lower name
  Versioned<std::optional<bool>> ews_enabled;
  Versioned<std::optional<std::vector<std::string>>> ews_allowed_app_ids;
  std::map<std::pair<std::size_t, std::string>, RbacCacheEntry> rbac_cache;  // (fe, lower app)
};

// The front end serving a request: the one it names, else the pinned one, else the load
// balancer's pick (seeded) among settings.front_ends. EWS and Graph route alike.
std::size_t PickFrontEnd(const PropagationSettings& settings, std::optional<std::size_t> requested,
                         Random& random);
// A call by `app_id` at `t` on front end `fe`: reloads the app's RBAC cache there when it went
// idle (rbac_idle_reset) or grew old (rbac_max_lifetime), keeps it warm, and returns when it was
// loaded: RBAC is judged as of that instant. `org` null: an organization without admin state.
MonoTime TouchRbacCache(OrgState* org, std::size_t fe, const std::string& app_id, MonoTime t,
                        const PropagationSettings& settings);

}  // namespace exo::mock_ews::admin_internal

namespace exo::mock_ews {

struct ExchangeAdmin::State {
  mutable std::mutex mu;
  ExchangeAdminOptions options;
  std::uint64_t next_seq = 1;
  std::map<std::string, admin_internal::OrgState> orgs;  // lower-case organization id
};

}  // namespace exo::mock_ews
