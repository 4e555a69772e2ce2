// Exchange Online's administration model for mock-ews: the directory objects, access policies,
// RBAC for Applications and EWS retirement settings an admin configures with PowerShell, the
// delays with which EWS front ends learn of each change, and the authorization EWS derives from
// them. Facts: shared/reference/exchange-admin.md §1-5; docs/mock-ews.md "Exchange administration".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

// The codes admin errors carry (Error::code): the .NET exception type Exchange's cmdlets report in
// CategoryInfo/FullyQualifiedErrorId, so the cmdlet layer can print them as PowerShell does.
// Error::message is the module's own text.
namespace admin_codes {
inline constexpr const char* kObjectNotFound = "ManagementObjectNotFoundException";
inline constexpr const char* kAmbiguous = "ManagementObjectAmbiguousException";
inline constexpr const char* kAlreadyExists = "ManagementObjectAlreadyExistsException";
inline constexpr const char* kProxyAddressExists = "ProxyAddressExistsException";
inline constexpr const char* kInvalidArgument = "ArgumentException";
inline constexpr const char* kParameterBinding = "ParameterBindingException";
inline constexpr const char* kInvalidOperation = "InvalidOperationException";
inline constexpr const char* kNotSecurityPrincipal = "NotSecurityPrincipalException";  // [infer]
inline constexpr const char* kPolicySizeExceeded = "ApplicationAccessPolicySizeExceededException";
inline constexpr const char* kFilterInvalid = "InvalidFilterException";  // [infer]
}  // namespace admin_codes

// What Get-Recipient calls RecipientTypeDetails, for the kinds the mock holds.
enum class RecipientKind {
  kUserMailbox,
  kSharedMailbox,
  kMailUser,                        // hybrid: the mailbox is on-premises (ExternalEmailAddress)
  kMailUniversalSecurityGroup,      // MESG: a security principal, may nest
  kMailUniversalDistributionGroup,  // DL: not a security principal
};
const char* ToString(RecipientKind kind);

// A recipient as Get-Recipient shows it (a copy). Mailboxes come from the MailboxStore.
struct Recipient {
  std::string organization_id;
  RecipientKind kind = RecipientKind::kUserMailbox;
  std::string name;  // mailboxes: the alias unless New-Mailbox named it (SetMailboxName)
  std::string display_name;
  std::string alias;
  std::string primary_smtp_address;
  std::string external_email_address;  // mail users: "SMTP:user@contoso.mail.onmicrosoft.com"
  std::string guid;
  std::string sid;  // S-1-5-21-…, the same domain part as the store's mailboxes of the org
  std::string distinguished_name;
  bool is_valid_security_principal = true;
  std::map<std::string, std::string> custom_attributes;  // "CustomAttribute1".."15"
};

// ---- Cmdlet parameters and output objects (field names as PowerShell shows them) ----

struct NewMailUserParams {  // New-MailUser
  std::string name;
  std::string display_name;          // empty: Name
  std::string alias;                 // empty: derived from the address
  std::string primary_smtp_address;  // -PrimarySmtpAddress / -MicrosoftOnlineServicesID
  std::string external_email_address;
};

enum class GroupType { kDistribution, kSecurity };
struct NewDistributionGroupParams {  // New-DistributionGroup [-Type Security]
  std::string name;
  std::string display_name;
  std::string alias;
  std::string primary_smtp_address;  // empty: alias@ the org's first mailbox domain
  GroupType type = GroupType::kDistribution;
  std::vector<std::string> members;  // any recipient identity
};
struct DistributionGroupMemberParams {  // Add-/Remove-DistributionGroupMember
  std::string identity;
  std::string member;
};

struct NewServicePrincipalParams {  // New-ServicePrincipal
  std::string app_id;
  std::string object_id;   // the Enterprise application's object id
  std::string service_id;  // deprecated alias of object_id, as the seed still writes it
  std::string display_name;
};
struct ServicePrincipal {  // Get-ServicePrincipal
  std::string display_name;
  std::string object_id;
  std::string app_id;
  std::string identity;  // = object_id
  std::string name;      // = object_id [infer]
};

enum class AccessRight { kRestrictAccess, kDenyAccess };
const char* ToString(AccessRight right);
std::optional<AccessRight> ParseAccessRight(std::string_view text);

struct NewApplicationAccessPolicyParams {  // New-ApplicationAccessPolicy
  std::vector<std::string> app_ids;        // GUIDs, or "*" for every app
  std::string policy_scope_group_id;       // any recipient identity of a security principal
  AccessRight access_right = AccessRight::kRestrictAccess;
  std::string description;
};
struct ApplicationAccessPolicy {  // New-/Get-ApplicationAccessPolicy
  std::string scope_name;
  std::string scope_identity;
  std::string identity;  // "<org>\<AppId>:<scope SID>;<scope GUID>"
  std::string app_id;
  std::string scope_identity_raw;  // "<SID>;<GUID>"
  std::string description;
  AccessRight access_right = AccessRight::kRestrictAccess;
  std::string shard_type = "All";
  bool is_valid = true;
  std::string object_state = "Unchanged";
};
struct SetApplicationAccessPolicyParams {  // Set-ApplicationAccessPolicy: Description only
  std::string identity;
  std::string description;
};
struct TestApplicationAccessPolicyParams {
  std::string identity;  // the mailbox
  std::string app_id;
};
struct ApplicationAccessCheck {  // Test-ApplicationAccessPolicy
  std::string app_id;
  std::string mailbox;  // the recipient's Name
  std::string mailbox_id;
  std::string mailbox_sid;
  std::string access_check_result;  // "Granted" | "Denied"
};

struct NewManagementScopeParams {  // New-ManagementScope
  std::string name;
  std::string recipient_restriction_filter;
};
struct ManagementScope {
  std::string name;
  std::string scope_restriction_type = "RecipientScope";
  bool exclusive = false;
  std::string recipient_root;
  std::string recipient_filter;
};

struct NewManagementRoleAssignmentParams {  // New-ManagementRoleAssignment -App
  std::string name;                         // empty: "<Role>-<App>"
  std::string role;                   // "Application EWS.AccessAsApp", "Application Mail.Read", …
  std::string app;                    // the service principal: ObjectId, AppId or DisplayName
  std::string custom_resource_scope;  // a management scope's name
  std::string recipient_group_scope;  // a group: its direct members [infer direct]
};
struct ManagementRoleAssignment {
  std::string name;
  std::string role;
  std::string role_assignee_name;  // the SP's ObjectId, as the doc example prints
  std::string role_assignee_type = "ServicePrincipal";
  std::string assignment_method = "Direct";
  std::string custom_resource_scope;
  std::string recipient_write_scope;  // "Organization" | "CustomRecipientScope" | "Group"
};
struct TestServicePrincipalAuthorizationParams {
  std::string identity;  // the SP
  std::string resource;  // a mailbox; empty: InScope "Not Run"
};
struct ServicePrincipalAuthorizationRow {  // Test-ServicePrincipalAuthorization
  std::string role_name;
  std::string granted_permissions;
  std::string allowed_resource_scope;
  std::string scope_type;  // "Organization" | "CustomRecipientScope" | "Group"
  std::string in_scope;    // "True" | "False" | "Not Run"
};

// Set-OrganizationConfig: an absent optional is "not given"; a given nullopt is $null.
struct SetOrganizationConfigParams {
  std::optional<std::optional<bool>> ews_enabled;
  // Comma-separated application ids; every write replaces the whole list; $null removes it.
  std::optional<std::optional<std::string>> ews_allowed_app_ids;
};
struct OrganizationConfig {         // Get-OrganizationConfig
  std::optional<bool> ews_enabled;  // nullopt prints empty (Null)
  // Only with -RetrieveEwsOperationAccessPolicy (the plain Get leaves it out); nullopt: $null.
  std::optional<std::vector<std::string>> ews_allowed_app_ids;
};
struct SetCasMailboxParams {  // Set-CASMailbox
  std::string identity;
  std::optional<std::optional<bool>> ews_enabled;
};
struct CasMailbox {  // Get-CASMailbox
  std::string name;
  std::string primary_smtp_address;
  std::optional<bool> ews_enabled;
};

// ---- Propagation ----

// When a change reaches an EWS front end, counted from the moment it was made. With one front end
// it arrives at `latest` exactly; with several, each front end picks its own instant in
// [earliest, latest] (seeded), so answers alternate until `latest`.
struct PropagationWindow {
  Duration earliest{};
  Duration latest{};
};

struct PropagationSettings {
  // New-/Set-ApplicationAccessPolicy: "can take longer than 1 hour" (earliest: the 2019 text's 30
  // minutes [infer]). Group membership feeds the same cache [infer].
  PropagationWindow access_policy{std::chrono::minutes(30), std::chrono::minutes(65)};
  PropagationWindow access_policy_removal{std::chrono::minutes(0), std::chrono::minutes(30)};
  PropagationWindow group_membership{std::chrono::minutes(30), std::chrono::minutes(65)};
  // RBAC for Applications: a per-app cache on each front end, dropped after 30 minutes without
  // calls and kept at most 2 hours while the app is active.
  Duration rbac_idle_reset = std::chrono::minutes(30);
  Duration rbac_max_lifetime = std::chrono::hours(2);
  // EwsAllowedAppIDs: "the server only refreshes its in-memory cache every 24 hours".
  PropagationWindow ews_allowed_app_ids{std::chrono::hours(0), std::chrono::hours(24)};
  // Organization EwsEnabled "about 1 h"; the mailbox's and licences alike [infer].
  PropagationWindow ews_enabled{std::chrono::minutes(0), std::chrono::hours(1)};
  PropagationWindow mailbox_ews_enabled{std::chrono::minutes(0), std::chrono::hours(1)};
  PropagationWindow licence{std::chrono::minutes(0), std::chrono::hours(1)};
  // 1: a clean delay. More: the flapping model, each request routed to a front end drawn from
  // the seeded Random unless `pinned_front_end` names one.
  std::size_t front_ends = 1;
  std::optional<std::size_t> pinned_front_end;
};

// The EWS retirement calendar on the simulated clock's system time (exchange-admin.md §5).
struct RetirementSchedule {
  // From here EwsEnabled=True with an empty allow list blocks all EWS ("Oct 10 onward", EWS
  // Deprecation Is Here v7.0).
  SystemTime allow_list_required_from;
  // From here a mailbox with only Kiosk/F1/F3 licences gets 403 (moved to 2026-10-01).
  SystemTime frontline_block_from;
  // Permanent disable: "no exceptions past April 2027".
  SystemTime final_cutoff;
  // Microsoft's phase-2 flip of tenants still at Null; unset: never (no fixed date published).
  std::optional<SystemTime> null_flips_to_false_at;
  static RetirementSchedule Default();
};

// ---- EWS authorization ----

struct EwsAccessRequest {
  std::string organization_id;
  std::string app_id;
  std::string mailbox;                   // the impersonated mailbox: GUID or SMTP address
  std::vector<std::string> roles;        // the token's roles claim (Entra-granted permissions)
  std::optional<std::size_t> front_end;  // pin this request to a front end
};

// Which check refused, in the order EWS applies them.
enum class EwsDenial {
  kNone,
  kEwsRetired,            // after the final cut-off
  kOrganizationDisabled,  // org EwsEnabled False (or flipped by Microsoft)
  kAppNotAllowed,         // EwsEnabled True and the app not on EwsAllowedAppIDs (or it is empty)
  kMailboxDisabled,       // Set-CASMailbox -EwsEnabled $false
  kFrontlineLicence,      // only Kiosk/F1/F3 licences
  kAccessPolicy,          // ApplicationAccessPolicy (and no RBAC grant)
  kNoPermission,          // neither full_access_as_app nor an RBAC EWS.AccessAsApp in scope
};
const char* ToString(EwsDenial denial);

struct EwsAccessDecision {
  EwsDenial denial = EwsDenial::kNone;
  bool allowed() const { return denial == EwsDenial::kNone; }
  std::string granted_by;  // "Entra" | "RBAC" when allowed
  std::string detail;      // why, for the journal
  std::size_t front_end = 0;
};

// ---- Microsoft Graph authorization ----

// One Graph request for one mailbox: the token's Entra-granted application permissions (roles)
// and the permissions any one of which the operation accepts (reading mail: Mail.Read or
// Mail.ReadWrite; changing it: Mail.ReadWrite; sending: Mail.Send).
struct GraphAccessRequest {
  std::string organization_id;
  std::string app_id;
  std::string mailbox;  // GUID or SMTP address
  std::vector<std::string> roles;
  std::vector<std::string> permissions;
  std::optional<std::size_t> front_end;
};

enum class GraphDenial {
  kNone,
  // The app holds a suitable permission, but an ApplicationAccessPolicy excludes the mailbox
  // (Entra consent) or its RBAC role's scope does not cover it: "Access to OData is disabled."
  kAccessPolicy,
  // Neither the token nor an RBAC assignment grants a suitable permission: "Access is denied."
  kNoPermission,
};
const char* ToString(GraphDenial denial);

struct GraphAccessDecision {
  GraphDenial denial = GraphDenial::kNone;
  bool allowed() const { return denial == GraphDenial::kNone; }
  std::string granted_by;  // "Entra" | "RBAC" when allowed
  std::string detail;
  std::size_t front_end = 0;
};

struct ExchangeAdminOptions {
  PropagationSettings propagation;
  RetirementSchedule retirement = RetirementSchedule::Default();
  // The "… couldn't be found on '<DC>'" host name in not-found errors [infer: any EXO DC name].
  std::string domain_controller = "AM8PR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM";
};

// ExchangeAdmin is the administration model of one mock Exchange Online over its MailboxStore:
// per organization (the store's tenant id) the recipients besides mailboxes, service principals,
// access policies, RBAC scopes and assignments, EWS settings and licences. Each operation takes a
// cmdlet's parameters and returns its output object or the module's error, changing nothing on
// error. Every change is kept as a version stamped with the clock's monotonic time; EWS enforcement
// (AuthorizeEws) sees a version only once it has propagated to the front end serving the request,
// while Get-*/Test-* answer from the newest version at once, as the real cmdlets do.
//
// Ownership: references `clock`, `random` and `store`, which must outlive it. Thread-safety:
// every method may be called from any thread (one internal mutex; the store is only read, under
// its own lock). Determinism: the same seed, clock readings and calls give the same answers.
class ExchangeAdmin {
 public:
  ExchangeAdmin(Clock& clock, Random& random, MailboxStore& store,
                ExchangeAdminOptions options = {});
  ~ExchangeAdmin();
  ExchangeAdmin(const ExchangeAdmin&) = delete;
  ExchangeAdmin& operator=(const ExchangeAdmin&) = delete;

  // ---- Recipients ----
  // By any unique identifier: Name, alias, SMTP address (any proxy), GUID, SID, DN, display name.
  // Errors: kObjectNotFound, kAmbiguous.
  Result<Recipient> GetRecipient(std::string_view org, std::string_view identity) const;
  std::vector<Recipient> ListRecipients(std::string_view org) const;
  // New-Mailbox -Name: the store mailbox's Name (default its alias).
  Result<Recipient> SetMailboxName(std::string_view org, std::string_view identity,
                                   std::string_view name);
  Result<Recipient> NewMailUser(std::string_view org, const NewMailUserParams& p);
  Result<Recipient> NewDistributionGroup(std::string_view org, const NewDistributionGroupParams& p);
  Result<void> AddDistributionGroupMember(std::string_view org,
                                          const DistributionGroupMemberParams& p);
  Result<void> RemoveDistributionGroupMember(std::string_view org,
                                             const DistributionGroupMemberParams& p);
  // Direct members (Get-DistributionGroupMember).
  Result<std::vector<Recipient>> GetDistributionGroupMember(std::string_view org,
                                                            std::string_view identity) const;
  // Removes a mail user or group (Remove-MailUser / Remove-DistributionGroup).
  Result<void> RemoveRecipient(std::string_view org, std::string_view identity);
  // CustomAttribute1..15 (Set-Mailbox / Set-MailUser -CustomAttributeN); empty value clears.
  Result<void> SetCustomAttribute(std::string_view org, std::string_view identity, int number,
                                  std::string_view value);
  // Licence SKU part numbers (EXCHANGEDESKLESS, SPE_F1, ENTERPRISEPACK, …) of a mailbox's user, as
  // Entra assigns them; replaces the set.
  Result<void> SetLicenses(std::string_view org, std::string_view identity,
                           std::vector<std::string> skus);

  // ---- Service principals ----
  Result<ServicePrincipal> NewServicePrincipal(std::string_view org,
                                               const NewServicePrincipalParams& p);
  // Empty identity: all.
  Result<std::vector<ServicePrincipal>> GetServicePrincipal(std::string_view org,
                                                            std::string_view identity = {}) const;
  // Also removes its role assignments (scopes stay), as deleting the SP in Entra does.
  Result<void> RemoveServicePrincipal(std::string_view org, std::string_view identity);

  // ---- Application access policies ----
  // One policy per AppId. Errors: kInvalidArgument (AppId not a GUID or '*'), kObjectNotFound,
  // kNotSecurityPrincipal, kAlreadyExists, kPolicySizeExceeded.
  Result<std::vector<ApplicationAccessPolicy>> NewApplicationAccessPolicy(
      std::string_view org, const NewApplicationAccessPolicyParams& p);
  // Empty identity: all of the organization.
  Result<std::vector<ApplicationAccessPolicy>> GetApplicationAccessPolicy(
      std::string_view org, std::string_view identity = {}) const;
  Result<ApplicationAccessPolicy> SetApplicationAccessPolicy(
      std::string_view org, const SetApplicationAccessPolicyParams& p);
  Result<void> RemoveApplicationAccessPolicy(std::string_view org, std::string_view identity);
  // From the newest configuration, not what EWS enforces yet.
  Result<ApplicationAccessCheck> TestApplicationAccessPolicy(
      std::string_view org, const TestApplicationAccessPolicyParams& p) const;

  // ---- RBAC for Applications ----
  Result<ManagementScope> NewManagementScope(std::string_view org,
                                             const NewManagementScopeParams& p);
  Result<std::vector<ManagementScope>> GetManagementScope(std::string_view org,
                                                          std::string_view identity = {}) const;
  Result<void> RemoveManagementScope(std::string_view org, std::string_view identity);
  Result<ManagementRoleAssignment> NewManagementRoleAssignment(
      std::string_view org, const NewManagementRoleAssignmentParams& p);
  Result<std::vector<ManagementRoleAssignment>> GetManagementRoleAssignment(
      std::string_view org, std::string_view identity = {}) const;
  Result<void> RemoveManagementRoleAssignment(std::string_view org, std::string_view identity);
  // Bypasses the front ends' RBAC cache, as the real one does; excludes Entra grants.
  Result<std::vector<ServicePrincipalAuthorizationRow>> TestServicePrincipalAuthorization(
      std::string_view org, const TestServicePrincipalAuthorizationParams& p) const;

  // ---- EWS settings ----
  Result<OrganizationConfig> SetOrganizationConfig(std::string_view org,
                                                   const SetOrganizationConfigParams& p);
  Result<OrganizationConfig> GetOrganizationConfig(
      std::string_view org, bool retrieve_ews_operation_access_policy = false) const;
  Result<CasMailbox> SetCasMailbox(std::string_view org, const SetCasMailboxParams& p);
  Result<CasMailbox> GetCasMailbox(std::string_view org, std::string_view identity) const;

  // ---- Enforcement ----
  // What the EWS front end serving this request believes now: retirement gates, licence,
  // access policy, RBAC. Advances the front end's RBAC cache (an EWS call keeps the app active).
  EwsAccessDecision AuthorizeEws(const EwsAccessRequest& request);
  // What the Microsoft Graph front end serving this request believes now: the Entra grant
  // constrained by access policies, united with RBAC for Applications (exchange-admin.md §1.4,
  // §3.5), with the same propagation as EWS. None of the EWS gates (EwsEnabled,
  // EwsAllowedAppIDs, retirement, frontline licences) apply to Graph.
  GraphAccessDecision AuthorizeGraph(const GraphAccessRequest& request);

  PropagationSettings propagation() const;
  // Applies to changes made afterwards (front-end instants are drawn when a change is made).
  void SetPropagation(const PropagationSettings& settings);
  RetirementSchedule retirement() const;
  void SetRetirement(const RetirementSchedule& schedule);

  // Everything, newest versions and pending propagation, for GET /_exo/admin/state.
  nlohmann::json StateJson() const;

  struct State;

 private:
  Clock& clock_;
  Random& random_;
  MailboxStore& store_;
  std::unique_ptr<State> state_;
};

}  // namespace exo::mock_ews
