// ExchangeAdmin on a simulated clock: the directory, access policies (the five documented rules,
// nested groups), RBAC for Applications, the EWS retirement gates and licences, and the delays
// with which each change reaches EWS front ends, with one front end and with several (flapping).
// Facts: shared/reference/exchange-admin.md.
#include "exo/mock_ews/exchange_admin.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "exo/common/time_format.hpp"

namespace exo::mock_ews {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kOrg = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";
constexpr const char* kApp = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
constexpr const char* kOtherApp = "7b2c3d4e-5f60-4b8c-9d0e-1f2a3b4c5d6e";
constexpr const char* kSpObjectId = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

class ExchangeAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.CreateOrganization(kOrg, "contoso.com").has_value());
    alice_ = AddMailbox("alice@contoso.com", "Alice Smith");
    bob_ = AddMailbox("bob@contoso.com", "Bob Jones");
    carol_ = AddMailbox("carol@contoso.com", "Carol White");
    MailboxSpec shared;
    shared.organization_id = kOrg;
    shared.primary_smtp_address = "support@contoso.com";
    shared.kind = MailboxKind::kShared;
    ASSERT_TRUE(store_.CreateMailbox(shared).has_value());
  }

  std::string AddMailbox(const std::string& smtp, const std::string& name) {
    MailboxSpec spec;
    spec.organization_id = kOrg;
    spec.primary_smtp_address = smtp;
    spec.display_name = name;
    auto m = store_.CreateMailbox(spec);
    EXPECT_TRUE(m.has_value());
    return m ? m->object_guid : std::string();
  }

  // A mail-enabled security group with the given members.
  Recipient Group(const std::string& name, std::vector<std::string> members,
                  GroupType type = GroupType::kSecurity) {
    NewDistributionGroupParams p;
    p.name = name;
    p.type = type;
    p.members = std::move(members);
    auto g = admin_.NewDistributionGroup(kOrg, p);
    EXPECT_TRUE(g.has_value()) << g.error().Describe();
    return g ? *g : Recipient{};
  }

  ApplicationAccessPolicy Policy(const std::string& scope, AccessRight right,
                                 const std::string& app = kApp) {
    NewApplicationAccessPolicyParams p;
    p.app_ids = {app};
    p.policy_scope_group_id = scope;
    p.access_right = right;
    p.description = "Restrict this app to members of " + scope;
    auto created = admin_.NewApplicationAccessPolicy(kOrg, p);
    EXPECT_TRUE(created.has_value()) << created.error().Describe();
    return created && !created->empty() ? created->front() : ApplicationAccessPolicy{};
  }

  std::string TestPolicy(const std::string& mailbox, const std::string& app = kApp) {
    auto r = admin_.TestApplicationAccessPolicy(kOrg, {mailbox, app});
    EXPECT_TRUE(r.has_value()) << r.error().Describe();
    return r ? r->access_check_result : std::string();
  }

  EwsAccessDecision Ews(const std::string& mailbox,
                        std::vector<std::string> roles = {"full_access_as_app"},
                        std::optional<std::size_t> front_end = std::nullopt,
                        const std::string& app = kApp) {
    EwsAccessRequest r;
    r.organization_id = kOrg;
    r.app_id = app;
    r.mailbox = mailbox;
    r.roles = std::move(roles);
    r.front_end = front_end;
    return admin_.AuthorizeEws(r);
  }

  void AddServicePrincipal() {
    NewServicePrincipalParams p;
    p.app_id = kApp;
    p.object_id = kSpObjectId;
    p.display_name = "Contoso Mail Daemon";
    ASSERT_TRUE(admin_.NewServicePrincipal(kOrg, p).has_value());
  }

  void Assign(const std::string& role, const std::string& scope = {}) {
    NewManagementRoleAssignmentParams p;
    p.role = role;
    p.app = kSpObjectId;
    p.custom_resource_scope = scope;
    auto a = admin_.NewManagementRoleAssignment(kOrg, p);
    ASSERT_TRUE(a.has_value()) << a.error().Describe();
  }

  void Scope(const std::string& name, const std::string& filter) {
    auto s = admin_.NewManagementScope(kOrg, {name, filter});
    ASSERT_TRUE(s.has_value()) << s.error().Describe();
  }

  void SetNow(const char* iso) { clock_.SetNow(*ParseIso8601(iso)); }

  SimulatedClock clock_;
  SeededRandom store_random_{1};
  SeededRandom admin_random_{2};
  MailboxStore store_{clock_, store_random_};
  ExchangeAdmin admin_{clock_, admin_random_, store_};
  std::string alice_, bob_, carol_;
};

// ---- Directory ----

// Verifies recipients resolve by any unique identifier: Name, alias, SMTP, GUID, SID and DN.
TEST_F(ExchangeAdminTest, RecipientsResolveByAnyUniqueIdentifier) {
  auto by_smtp = admin_.GetRecipient(kOrg, "ALICE@contoso.com");
  ASSERT_TRUE(by_smtp.has_value());
  EXPECT_EQ(by_smtp->kind, RecipientKind::kUserMailbox);
  EXPECT_EQ(by_smtp->name, "alice");
  for (const std::string& id : {std::string("alice"), std::string("Alice Smith"), by_smtp->guid,
                                by_smtp->sid, by_smtp->distinguished_name}) {
    auto r = admin_.GetRecipient(kOrg, id);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->guid, alice_) << id;
  }
  EXPECT_EQ(by_smtp->distinguished_name.rfind("CN=alice,OU=contoso.com,OU=Microsoft Exchange "
                                              "Hosted Organizations,",
                                              0),
            0u);
}

// Verifies an identifier that names two recipients is refused with the module's text.
TEST_F(ExchangeAdminTest, AmbiguousIdentityIsRefused) {
  NewMailUserParams p;
  p.name = "alice-onprem";
  p.display_name = "Alice Smith";
  p.primary_smtp_address = "alice.smith@contoso.com";
  p.external_email_address = "alice.smith@contoso.mail.onmicrosoft.com";
  ASSERT_TRUE(admin_.NewMailUser(kOrg, p).has_value());
  auto r = admin_.GetRecipient(kOrg, "Alice Smith");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, admin_codes::kAmbiguous);
  EXPECT_EQ(r.error().message,
            "The operation couldn't be performed because 'Alice Smith' matches multiple entries.");
}

// Verifies an unknown identity is ManagementObjectNotFoundException with the DC in the text.
TEST_F(ExchangeAdminTest, UnknownIdentityIsObjectNotFound) {
  auto r = admin_.GetRecipient(kOrg, "nobody@contoso.com");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, admin_codes::kObjectNotFound);
  EXPECT_EQ(r.error().message.rfind("The operation couldn't be performed because object "
                                    "'nobody@contoso.com' couldn't be found on '",
                                    0),
            0u);
}

// Verifies a hybrid mail user carries its ExternalEmailAddress, is a security principal, and may
// not take an address a mailbox already has.
TEST_F(ExchangeAdminTest, MailUserIsASecurityPrincipalWithItsOwnAddress) {
  NewMailUserParams p;
  p.name = "dave";
  p.primary_smtp_address = "dave@contoso.com";
  p.external_email_address = "dave@contoso.mail.onmicrosoft.com";
  auto u = admin_.NewMailUser(kOrg, p);
  ASSERT_TRUE(u.has_value()) << u.error().Describe();
  EXPECT_EQ(u->kind, RecipientKind::kMailUser);
  EXPECT_EQ(u->external_email_address, "SMTP:dave@contoso.mail.onmicrosoft.com");
  EXPECT_TRUE(u->is_valid_security_principal);
  p.name = "dave2";
  p.primary_smtp_address = "bob@contoso.com";
  auto dup = admin_.NewMailUser(kOrg, p);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, admin_codes::kProxyAddressExists);
}

// Verifies shared mailboxes and distribution groups cannot scope a policy (not security
// principals), with the text Exchange prints.
TEST_F(ExchangeAdminTest, SharedMailboxAndDistributionGroupAreNotPolicyScopes) {
  Group("All Staff", {"alice"}, GroupType::kDistribution);
  for (const char* scope : {"support@contoso.com", "All Staff"}) {
    NewApplicationAccessPolicyParams p;
    p.app_ids = {kApp};
    p.policy_scope_group_id = scope;
    auto r = admin_.NewApplicationAccessPolicy(kOrg, p);
    ASSERT_FALSE(r.has_value()) << scope;
    EXPECT_EQ(r.error().message, "The identity of the policy scope is not a security principal.");
  }
  auto all = admin_.GetApplicationAccessPolicy(kOrg);
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
}

// Verifies group membership commands refuse duplicates and non-members with the module's text.
TEST_F(ExchangeAdminTest, GroupMembershipCommandsRefuseDuplicatesAndNonMembers) {
  Group("EWS Apps", {"alice"});
  auto again = admin_.AddDistributionGroupMember(kOrg, {"EWS Apps", "alice@contoso.com"});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().message,
            "The recipient \"alice\" is already a member of the group \"EWS Apps\".");
  auto missing = admin_.RemoveDistributionGroupMember(kOrg, {"EWS Apps", "bob"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "MemberNotFoundException");
  ASSERT_TRUE(admin_.AddDistributionGroupMember(kOrg, {"EWS Apps", "bob"}).has_value());
  auto members = admin_.GetDistributionGroupMember(kOrg, "EWS Apps");
  ASSERT_TRUE(members.has_value());
  EXPECT_EQ(members->size(), 2u);
}

// Verifies New-ServicePrincipal takes the deprecated -ServiceId as the ObjectId, and Get finds
// the pointer by AppId, ObjectId or DisplayName.
TEST_F(ExchangeAdminTest, ServicePrincipalAcceptsTheDeprecatedServiceId) {
  NewServicePrincipalParams p;
  p.app_id = kApp;
  p.service_id = kSpObjectId;
  p.display_name = "Contoso Mail Daemon";
  auto sp = admin_.NewServicePrincipal(kOrg, p);
  ASSERT_TRUE(sp.has_value()) << sp.error().Describe();
  EXPECT_EQ(sp->object_id, kSpObjectId);
  for (const char* id : {kApp, kSpObjectId, "Contoso Mail Daemon"}) {
    auto got = admin_.GetServicePrincipal(kOrg, id);
    ASSERT_TRUE(got.has_value()) << id;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().app_id, kApp);
  }
  auto twice = admin_.NewServicePrincipal(kOrg, p);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, admin_codes::kAlreadyExists);
}

// Verifies removing a service principal removes its role assignments, and keeps the scopes.
TEST_F(ExchangeAdminTest, RemovingServicePrincipalRemovesItsAssignmentsNotScopes) {
  AddServicePrincipal();
  Scope("Staff", "CustomAttribute1 -eq 'staff'");
  Assign("Application EWS.AccessAsApp", "Staff");
  ASSERT_TRUE(admin_.RemoveServicePrincipal(kOrg, kApp).has_value());
  auto assignments = admin_.GetManagementRoleAssignment(kOrg);
  ASSERT_TRUE(assignments.has_value());
  EXPECT_TRUE(assignments->empty());
  auto scopes = admin_.GetManagementScope(kOrg);
  ASSERT_TRUE(scopes.has_value());
  EXPECT_EQ(scopes->size(), 1u);
}

// ---- Application access policies: shape and limits ----

// Verifies the policy's Identity is "<org>\<AppId>:<SID>;<GUID>" and its fields as PowerShell
// shows them (ScopeName the display name, ScopeIdentity the Name).
TEST_F(ExchangeAdminTest, AccessPolicyHasTheRealIdentityAndFields) {
  const Recipient g = Group("EWS Allowed", {"alice"});
  const ApplicationAccessPolicy p = Policy("EWS Allowed", AccessRight::kRestrictAccess);
  EXPECT_EQ(p.identity, std::string(kOrg) + "\\" + kApp + ":" + g.sid + ";" + g.guid);
  EXPECT_EQ(p.scope_identity_raw, g.sid + ";" + g.guid);
  EXPECT_EQ(p.scope_name, "EWS Allowed");
  EXPECT_EQ(p.app_id, kApp);
  EXPECT_EQ(p.shard_type, "All");
  EXPECT_TRUE(p.is_valid);
  EXPECT_EQ(p.object_state, "Unchanged");
  EXPECT_EQ(g.sid.rfind("S-1-5-21-", 0), 0u);
}

// Verifies one New-ApplicationAccessPolicy with two AppIds makes one policy per app.
TEST_F(ExchangeAdminTest, OnePolicyPerAppId) {
  Group("EWS Allowed", {"alice"});
  NewApplicationAccessPolicyParams p;
  p.app_ids = {kApp, kOtherApp};
  p.policy_scope_group_id = "EWS Allowed";
  auto created = admin_.NewApplicationAccessPolicy(kOrg, p);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->size(), 2u);
  EXPECT_EQ((*created)[1].app_id, kOtherApp);
}

// Verifies Set-ApplicationAccessPolicy changes the Description and nothing else.
TEST_F(ExchangeAdminTest, SetChangesOnlyTheDescription) {
  Group("EWS Allowed", {"alice"});
  const ApplicationAccessPolicy before = Policy("EWS Allowed", AccessRight::kRestrictAccess);
  auto after = admin_.SetApplicationAccessPolicy(kOrg, {before.identity, "new text"});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->description, "new text");
  EXPECT_EQ(after->identity, before.identity);
  EXPECT_EQ(after->access_right, before.access_right);
  EXPECT_EQ(TestPolicy("bob"), "Denied");
}

// Verifies about 300 policies with a one-character Description fit, the next one gets "The total
// size of App Access Policies exceeded the limit." and nothing is created.
TEST_F(ExchangeAdminTest, PolicySpaceHoldsAboutThreeHundredPolicies) {
  Group("EWS Allowed", {"alice"});
  int created = 0;
  std::optional<Error> refusal;
  for (int i = 0; i < 400 && !refusal; ++i) {
    char app[40];
    std::snprintf(app, sizeof app, "00000000-0000-4000-8000-%012d", i);
    NewApplicationAccessPolicyParams p;
    p.app_ids = {app};
    p.policy_scope_group_id = "EWS Allowed";
    p.description = " ";
    auto r = admin_.NewApplicationAccessPolicy(kOrg, p);
    if (r) {
      ++created;
    } else {
      refusal = r.error();
    }
  }
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->message, "The total size of App Access Policies exceeded the limit.");
  EXPECT_EQ(refusal->code, admin_codes::kPolicySizeExceeded);
  EXPECT_EQ(created, 300);
  auto all = admin_.GetApplicationAccessPolicy(kOrg);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 300u);
}

// Verifies AppIds must be GUIDs or '*'.
TEST_F(ExchangeAdminTest, PolicyAppIdMustBeAGuidOrWildcard) {
  Group("EWS Allowed", {"alice"});
  NewApplicationAccessPolicyParams p;
  p.app_ids = {"my-app"};
  p.policy_scope_group_id = "EWS Allowed";
  auto r = admin_.NewApplicationAccessPolicy(kOrg, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, admin_codes::kParameterBinding);
  p.app_ids = {"*"};
  EXPECT_TRUE(admin_.NewApplicationAccessPolicy(kOrg, p).has_value());
}

// ---- Application access policies: the five rules (Test answers from the newest config) ----

// Verifies rule 5: an app with no policy reaches every mailbox.
TEST_F(ExchangeAdminTest, AppWithoutPoliciesIsGranted) {
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_TRUE(Ews(alice_).allowed());
}

// Verifies rules 3 and 4: RestrictAccess grants the group's members and denies everyone else.
TEST_F(ExchangeAdminTest, RestrictAccessGrantsMembersOnly) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_EQ(TestPolicy("bob"), "Denied");
  auto check = admin_.TestApplicationAccessPolicy(kOrg, {"bob@contoso.com", kApp});
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->mailbox, "bob");
  EXPECT_EQ(check->mailbox_id, bob_);
  EXPECT_EQ(check->app_id, kApp);
}

// Verifies rules 1 and 2: a matching DenyAccess wins over a matching RestrictAccess.
TEST_F(ExchangeAdminTest, DenyAccessWinsOverRestrictAccess) {
  Group("EWS Allowed", {"alice", "bob"});
  Group("EWS Blocked", {"bob"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  Policy("EWS Blocked", AccessRight::kDenyAccess);
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_EQ(TestPolicy("bob"), "Denied");
  EXPECT_EQ(TestPolicy("carol"), "Denied");
}

// Verifies DenyAccess alone denies only its scope.
TEST_F(ExchangeAdminTest, DenyAccessDeniesOnlyItsScope) {
  Group("EWS Blocked", {"bob"});
  Policy("EWS Blocked", AccessRight::kDenyAccess);
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_EQ(TestPolicy("bob"), "Denied");
}

// Verifies several RestrictAccess policies for one app form a union.
TEST_F(ExchangeAdminTest, RestrictPoliciesFormAUnion) {
  Group("Team A", {"alice"});
  Group("Team B", {"bob"});
  Policy("Team A", AccessRight::kRestrictAccess);
  Policy("Team B", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_EQ(TestPolicy("bob"), "Granted");
  EXPECT_EQ(TestPolicy("carol"), "Denied");
}

// Verifies a policy binds only the apps it lists, and '*' binds every app.
TEST_F(ExchangeAdminTest, PoliciesBindOnlyTheirAppsAndWildcardBindsAll) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess, kApp);
  EXPECT_EQ(TestPolicy("bob", kOtherApp), "Granted");
  Policy("EWS Allowed", AccessRight::kRestrictAccess, "*");
  EXPECT_EQ(TestPolicy("bob", kOtherApp), "Denied");
}

// Verifies nested security groups expand for access policies (PR 12367).
TEST_F(ExchangeAdminTest, NestedGroupMembersAreInPolicyScope) {
  Group("Inner", {"bob"});
  Group("Outer", {"alice", "Inner"});
  Policy("Outer", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("bob"), "Granted");
  EXPECT_EQ(TestPolicy("carol"), "Denied");
}

// Verifies a user mailbox can be the scope itself, and shared mailboxes reach a policy through a
// security group.
TEST_F(ExchangeAdminTest, UserMailboxScopeAndSharedMailboxThroughAGroup) {
  Policy("alice@contoso.com", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("alice"), "Granted");
  EXPECT_EQ(TestPolicy("bob"), "Denied");
  Group("Shared", {"support@contoso.com"});
  Policy("Shared", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("support@contoso.com"), "Granted");
}

// ---- Propagation: one front end ----

// Verifies a RestrictAccess policy reaches EWS after 65 minutes while Test already says Denied.
TEST_F(ExchangeAdminTest, RestrictAccessReachesEwsOnlyAfterItsDelay) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  EXPECT_EQ(TestPolicy("bob"), "Denied");
  EXPECT_TRUE(Ews(bob_).allowed());
  clock_.Advance(minutes(64));
  EXPECT_TRUE(Ews(bob_).allowed());
  clock_.Advance(minutes(1));
  const EwsAccessDecision d = Ews(bob_);
  EXPECT_EQ(d.denial, EwsDenial::kAccessPolicy);
  EXPECT_TRUE(Ews(alice_).allowed());
}

// Verifies a removed policy stops applying after 30 minutes.
TEST_F(ExchangeAdminTest, RemovedPolicyStopsApplyingAfterThirtyMinutes) {
  Group("EWS Allowed", {"alice"});
  const auto p = Policy("EWS Allowed", AccessRight::kRestrictAccess);
  clock_.Advance(hours(2));
  ASSERT_FALSE(Ews(bob_).allowed());
  ASSERT_TRUE(admin_.RemoveApplicationAccessPolicy(kOrg, p.identity).has_value());
  EXPECT_EQ(TestPolicy("bob"), "Granted");
  clock_.Advance(minutes(29));
  EXPECT_FALSE(Ews(bob_).allowed());
  clock_.Advance(minutes(1));
  EXPECT_TRUE(Ews(bob_).allowed());
}

// Verifies a removal never overtakes the creation it undoes: a policy removed a minute after it
// was made is never enforced.
TEST_F(ExchangeAdminTest, RemovalNeverOvertakesItsCreation) {
  Group("EWS Allowed", {"alice"});
  const auto p = Policy("EWS Allowed", AccessRight::kRestrictAccess);
  clock_.Advance(minutes(1));
  ASSERT_TRUE(admin_.RemoveApplicationAccessPolicy(kOrg, p.identity).has_value());
  for (int m = 0; m < 120; ++m) {
    EXPECT_TRUE(Ews(bob_).allowed()) << "minute " << m;
    clock_.Advance(minutes(1));
  }
}

// Verifies group membership changes reach EWS with the policies' delay, Test at once.
TEST_F(ExchangeAdminTest, MembershipChangesReachEwsWithTheirDelay) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  clock_.Advance(hours(2));
  ASSERT_FALSE(Ews(bob_).allowed());
  ASSERT_TRUE(admin_.AddDistributionGroupMember(kOrg, {"EWS Allowed", "bob"}).has_value());
  EXPECT_EQ(TestPolicy("bob"), "Granted");
  clock_.Advance(minutes(64));
  EXPECT_FALSE(Ews(bob_).allowed());
  clock_.Advance(minutes(1));
  EXPECT_TRUE(Ews(bob_).allowed());
}

// Verifies the delays are configurable: with zero delay a policy applies at once.
TEST_F(ExchangeAdminTest, DelaysAreConfigurable) {
  PropagationSettings s = admin_.propagation();
  s.access_policy = {};
  s.group_membership = {};
  admin_.SetPropagation(s);
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  EXPECT_FALSE(Ews(bob_).allowed());
}

// ---- Propagation: several front ends (flapping) ----

// Verifies with four front ends each learns a policy at its own instant inside [30, 65] min:
// all allow before 30 min, answers alternate inside the window, all deny after 65 min.
TEST_F(ExchangeAdminTest, FrontEndsDisagreeInsideTheWindowAndAgreeAfterIt) {
  PropagationSettings s = admin_.propagation();
  s.front_ends = 4;
  admin_.SetPropagation(s);
  Group("EWS Allowed", {"alice"});
  clock_.Advance(hours(2));  // the membership is known everywhere
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  auto allowed_on = [&](std::size_t fe) { return Ews(bob_, {"full_access_as_app"}, fe).allowed(); };
  clock_.Advance(minutes(29));
  for (std::size_t fe = 0; fe < 4; ++fe) EXPECT_TRUE(allowed_on(fe)) << fe;
  std::optional<int> split_minute;
  for (int m = 30; m <= 65; ++m) {
    clock_.Advance(minutes(1));
    std::set<bool> answers;
    for (std::size_t fe = 0; fe < 4; ++fe) answers.insert(allowed_on(fe));
    if (answers.size() == 2 && !split_minute) {
      split_minute = m;
      // Unpinned requests go to front ends drawn from the seeded Random: both answers show.
      std::set<bool> routed;
      for (int i = 0; i < 40; ++i) routed.insert(Ews(bob_).allowed());
      EXPECT_EQ(routed.size(), 2u);
    }
  }
  EXPECT_TRUE(split_minute.has_value());
  for (std::size_t fe = 0; fe < 4; ++fe) EXPECT_FALSE(allowed_on(fe)) << fe;
}

// Verifies a front end that has learnt a change never forgets it (answers per front end are
// monotonic), and pinning a front end makes a run deterministic.
TEST_F(ExchangeAdminTest, EachFrontEndChangesItsAnswerOnce) {
  PropagationSettings s = admin_.propagation();
  s.front_ends = 3;
  s.pinned_front_end = 2;
  admin_.SetPropagation(s);
  Group("EWS Allowed", {"alice"});
  clock_.Advance(hours(2));
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  int flips = 0;
  bool last = true;
  for (int m = 0; m <= 70; ++m) {
    const EwsAccessDecision d = Ews(bob_);
    EXPECT_EQ(d.front_end, 2u);
    if (d.allowed() != last) ++flips;
    last = d.allowed();
    clock_.Advance(minutes(1));
  }
  EXPECT_EQ(flips, 1);
  EXPECT_FALSE(last);
}

// ---- RBAC for Applications ----

// Verifies an app with no Entra role but Application EWS.AccessAsApp in scope is served.
TEST_F(ExchangeAdminTest, RbacEwsAccessAsAppGrantsWithoutFullAccessAsApp) {
  EXPECT_EQ(Ews(alice_, {}).denial, EwsDenial::kNoPermission);
  AddServicePrincipal();
  Assign("Application EWS.AccessAsApp");
  clock_.Advance(hours(3));
  const EwsAccessDecision d = Ews(alice_, {});
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.granted_by, "RBAC");
}

// Verifies Application Mail.Read is not an EWS permission.
TEST_F(ExchangeAdminTest, MailReadRoleDoesNotGrantEws) {
  AddServicePrincipal();
  Assign("Application Mail.Read");
  clock_.Advance(hours(3));
  EXPECT_EQ(Ews(alice_, {}).denial, EwsDenial::kNoPermission);
}

// Verifies RBAC and Entra grants are a union: an access policy does not constrain an RBAC grant
// ("A and Not A means everything").
TEST_F(ExchangeAdminTest, RbacGrantIsAUnionWithEntraConsent) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  AddServicePrincipal();
  Scope("Not Alice", "Name -ne 'alice'");
  Assign("Application EWS.AccessAsApp", "Not Alice");
  clock_.Advance(hours(3));
  EXPECT_EQ(Ews(alice_).granted_by, "Entra");
  EXPECT_EQ(Ews(bob_).granted_by, "RBAC");
  EXPECT_TRUE(Ews(carol_).allowed());
}

// Verifies a MemberOfGroup scope counts direct members only (application-rbac FAQ), by DN.
TEST_F(ExchangeAdminTest, MemberOfGroupScopeCountsDirectMembersOnly) {
  Group("Inner", {"bob"});
  const Recipient outer = Group("Outer", {"alice", "Inner"});
  AddServicePrincipal();
  Scope("Outer members", "MemberOfGroup -eq '" + outer.distinguished_name + "'");
  Assign("Application EWS.AccessAsApp", "Outer members");
  clock_.Advance(hours(3));
  EXPECT_TRUE(Ews(alice_, {}).allowed());
  EXPECT_FALSE(Ews(bob_, {}).allowed());
  auto rows = admin_.TestServicePrincipalAuthorization(kOrg, {kApp, "bob"});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().in_scope, "False");
}

// Verifies a CustomAttribute scope, and Test-ServicePrincipalAuthorization's rows.
TEST_F(ExchangeAdminTest, CustomAttributeScopeAndTestRows) {
  ASSERT_TRUE(admin_.SetCustomAttribute(kOrg, "alice", 1, "012332").has_value());
  AddServicePrincipal();
  Scope("Canadian users", "CustomAttribute1 -eq '012332'");
  Assign("Application EWS.AccessAsApp", "Canadian users");
  Assign("Application Contacts.Read");
  auto rows = admin_.TestServicePrincipalAuthorization(kOrg, {kSpObjectId, "alice@contoso.com"});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].role_name, "Application EWS.AccessAsApp");
  EXPECT_EQ((*rows)[0].granted_permissions, "EWS.AccessAsApp");
  EXPECT_EQ((*rows)[0].allowed_resource_scope, "Canadian users");
  EXPECT_EQ((*rows)[0].scope_type, "CustomRecipientScope");
  EXPECT_EQ((*rows)[0].in_scope, "True");
  EXPECT_EQ((*rows)[1].scope_type, "Organization");
  auto not_run = admin_.TestServicePrincipalAuthorization(kOrg, {kSpObjectId, ""});
  ASSERT_TRUE(not_run.has_value());
  EXPECT_EQ(not_run->front().in_scope, "Not Run");
  clock_.Advance(hours(3));
  EXPECT_TRUE(Ews(alice_, {}).allowed());
  EXPECT_FALSE(Ews(bob_, {}).allowed());
}

// Verifies an RBAC change reaches an idle app once its cache resets 30 minutes after its last
// call, while Test-ServicePrincipalAuthorization sees it at once.
TEST_F(ExchangeAdminTest, RbacReachesAnIdleAppWhenItsCacheResets) {
  AddServicePrincipal();
  EXPECT_FALSE(Ews(alice_, {}).allowed());  // loads the app's cache
  clock_.Advance(minutes(1));
  Assign("Application EWS.AccessAsApp");
  auto rows = admin_.TestServicePrincipalAuthorization(kOrg, {kApp, "alice"});
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->front().in_scope, "True");
  clock_.Advance(minutes(28));
  EXPECT_FALSE(Ews(alice_, {}).allowed());  // 29 min after the last call: still cached
  clock_.Advance(minutes(30));
  EXPECT_TRUE(Ews(alice_, {}).allowed());  // 30 min idle: reloaded
}

// Verifies an active app keeps its cache up to 2 hours, so an RBAC change waits that long.
TEST_F(ExchangeAdminTest, RbacReachesAnActiveAppOnlyAfterTwoHours) {
  AddServicePrincipal();
  EXPECT_FALSE(Ews(alice_, {}).allowed());
  clock_.Advance(minutes(1));
  Assign("Application EWS.AccessAsApp");
  for (int m = 1; m < 120; m += 10) {
    EXPECT_FALSE(Ews(alice_, {}).allowed()) << "minute " << m;
    clock_.Advance(minutes(10));
  }
  EXPECT_TRUE(Ews(alice_, {}).allowed());  // minute 121: the cache is 2 h old
}

// Verifies a filter Exchange cannot parse is refused and creates nothing.
TEST_F(ExchangeAdminTest, BadRecipientFilterIsRefused) {
  auto bad = admin_.NewManagementScope(kOrg, {"Bad", "CustomAttribute1 -eq"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, admin_codes::kFilterInvalid);
  EXPECT_NE(bad.error().message.find("Invalid filter syntax."), std::string::npos);
  auto unknown = admin_.NewManagementScope(kOrg, {"Bad", "Colour -eq 'blue'"});
  ASSERT_FALSE(unknown.has_value());
  auto scopes = admin_.GetManagementScope(kOrg);
  ASSERT_TRUE(scopes.has_value());
  EXPECT_TRUE(scopes->empty());
}

// Verifies -App takes only application roles, and an unknown SP is not found.
TEST_F(ExchangeAdminTest, RoleAssignmentNeedsAnApplicationRoleAndAKnownApp) {
  NewManagementRoleAssignmentParams p;
  p.role = "Application EWS.AccessAsApp";
  p.app = kApp;
  auto no_sp = admin_.NewManagementRoleAssignment(kOrg, p);
  ASSERT_FALSE(no_sp.has_value());
  EXPECT_EQ(no_sp.error().code, admin_codes::kObjectNotFound);
  AddServicePrincipal();
  p.role = "Mail Recipients";
  auto user_role = admin_.NewManagementRoleAssignment(kOrg, p);
  ASSERT_FALSE(user_role.has_value());
  p.role = "application ews.accessasapp";
  auto ok = admin_.NewManagementRoleAssignment(kOrg, p);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->role, "Application EWS.AccessAsApp");
  EXPECT_EQ(ok->role_assignee_type, "ServicePrincipal");
  EXPECT_EQ(ok->assignment_method, "Direct");
  EXPECT_EQ(ok->recipient_write_scope, "Organization");
}

// ---- EWS retirement gates and licences ----

// Verifies organization EwsEnabled=False reaches EWS after an hour, and $null restores it.
TEST_F(ExchangeAdminTest, OrganizationEwsDisabledAfterOneHour) {
  SetOrganizationConfigParams off;
  off.ews_enabled = std::optional<bool>(false);
  ASSERT_TRUE(admin_.SetOrganizationConfig(kOrg, off).has_value());
  clock_.Advance(minutes(59));
  EXPECT_TRUE(Ews(alice_).allowed());
  clock_.Advance(minutes(1));
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kOrganizationDisabled);
  SetOrganizationConfigParams null;
  null.ews_enabled = std::optional<bool>();
  auto config = admin_.SetOrganizationConfig(kOrg, null);
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(config->ews_enabled.has_value());
  clock_.Advance(hours(1));
  EXPECT_TRUE(Ews(alice_).allowed());
}

// Verifies a mailbox's EwsEnabled=False blocks only that mailbox, and the organization's False
// wins over a mailbox's True.
TEST_F(ExchangeAdminTest, MailboxAndOrganizationEwsEnabledMustBothAllow) {
  SetCasMailboxParams cas;
  cas.identity = "bob";
  cas.ews_enabled = std::optional<bool>(false);
  auto got = admin_.SetCasMailbox(kOrg, cas);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->ews_enabled, std::optional<bool>(false));
  clock_.Advance(hours(1));
  EXPECT_EQ(Ews(bob_).denial, EwsDenial::kMailboxDisabled);
  EXPECT_TRUE(Ews(alice_).allowed());
  auto alice_cas = admin_.GetCasMailbox(kOrg, "alice");
  ASSERT_TRUE(alice_cas.has_value());
  EXPECT_EQ(alice_cas->ews_enabled, std::optional<bool>(true));
  SetOrganizationConfigParams off;
  off.ews_enabled = std::optional<bool>(false);
  ASSERT_TRUE(admin_.SetOrganizationConfig(kOrg, off).has_value());
  clock_.Advance(hours(1));
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kOrganizationDisabled);
}

// Verifies EwsAllowedAppIDs admits only listed apps once the list has propagated (24 h), and
// that every write replaces the whole list; the plain Get does not return it.
TEST_F(ExchangeAdminTest, AllowListAdmitsOnlyListedAppsAfterTwentyFourHours) {
  SetOrganizationConfigParams p;
  p.ews_enabled = std::optional<bool>(true);
  p.ews_allowed_app_ids = std::optional<std::string>(std::string(kApp) + ", " + kOtherApp);
  ASSERT_TRUE(admin_.SetOrganizationConfig(kOrg, p).has_value());
  clock_.Advance(hours(24));
  EXPECT_TRUE(Ews(alice_).allowed());
  EXPECT_TRUE(Ews(alice_, {"full_access_as_app"}, std::nullopt, kOtherApp).allowed());
  SetOrganizationConfigParams replace;
  replace.ews_allowed_app_ids = std::optional<std::string>(kOtherApp);
  auto config = admin_.SetOrganizationConfig(kOrg, replace);
  ASSERT_TRUE(config.has_value());
  ASSERT_TRUE(config->ews_allowed_app_ids.has_value());
  EXPECT_EQ(*config->ews_allowed_app_ids, std::vector<std::string>{kOtherApp});
  auto plain = admin_.GetOrganizationConfig(kOrg);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->ews_allowed_app_ids.has_value());
  EXPECT_EQ(plain->ews_enabled, std::optional<bool>(true));
  clock_.Advance(hours(23));
  EXPECT_TRUE(Ews(alice_).allowed());
  clock_.Advance(hours(1));
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kAppNotAllowed);
}

// Verifies EwsEnabled=True with an empty list allows all EWS before October 10, 2026 and blocks
// all of it from then on; with EwsEnabled Null the list is ignored.
TEST_F(ExchangeAdminTest, EnabledWithEmptyListBlocksEverythingFromOctober2026) {
  SetNow("2026-09-01T00:00:00Z");
  SetOrganizationConfigParams p;
  p.ews_enabled = std::optional<bool>(true);
  ASSERT_TRUE(admin_.SetOrganizationConfig(kOrg, p).has_value());
  clock_.Advance(hours(2));
  EXPECT_TRUE(Ews(alice_).allowed());
  SetNow("2026-10-10T00:00:00Z");
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kAppNotAllowed);
  SetOrganizationConfigParams null;
  null.ews_enabled = std::optional<bool>();
  null.ews_allowed_app_ids = std::optional<std::string>(kOtherApp);
  ASSERT_TRUE(admin_.SetOrganizationConfig(kOrg, null).has_value());
  clock_.Advance(hours(24));
  EXPECT_TRUE(Ews(alice_).allowed());
}

// Verifies allow-list entries must be application GUIDs and a bad one changes nothing.
TEST_F(ExchangeAdminTest, AllowListEntriesMustBeGuids) {
  SetOrganizationConfigParams p;
  p.ews_enabled = std::optional<bool>(true);
  p.ews_allowed_app_ids = std::optional<std::string>(std::string(kApp) + ",Outlook");
  auto r = admin_.SetOrganizationConfig(kOrg, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, admin_codes::kParameterBinding);
  auto config = admin_.GetOrganizationConfig(kOrg, true);
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(config->ews_enabled.has_value());
}

// Verifies a mailbox with only a Kiosk licence gets refused from 2026-10-01, one with a full plan
// besides it does not.
TEST_F(ExchangeAdminTest, KioskOnlyMailboxIsRefusedFromOctober2026) {
  SetNow("2026-09-30T00:00:00Z");
  ASSERT_TRUE(admin_.SetLicenses(kOrg, "alice", {"EXCHANGEDESKLESS"}).has_value());
  ASSERT_TRUE(admin_.SetLicenses(kOrg, "bob", {"SPE_F1", "EXCHANGEENTERPRISE"}).has_value());
  clock_.Advance(hours(1));
  EXPECT_TRUE(Ews(alice_).allowed());
  SetNow("2026-10-01T00:00:00Z");
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kFrontlineLicence);
  EXPECT_TRUE(Ews(bob_).allowed());
}

// Verifies EWS in Exchange Online is off for everyone from 2027-04-01, whatever the settings.
TEST_F(ExchangeAdminTest, EwsIsRetiredForEveryoneAfterTheFinalCutoff) {
  EXPECT_EQ(FormatIso8601(admin_.retirement().final_cutoff), "2027-04-01T00:00:00Z");
  SetNow("2027-03-31T23:59:59Z");
  EXPECT_TRUE(Ews(alice_).allowed());
  SetNow("2027-04-01T00:00:00Z");
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kEwsRetired);
}

// Verifies the optional phase-2 flip: a tenant left at Null is treated as False from that date.
TEST_F(ExchangeAdminTest, TenantLeftAtNullIsFlippedWhenScheduled) {
  RetirementSchedule s = admin_.retirement();
  s.null_flips_to_false_at = *ParseIso8601("2026-12-01T00:00:00Z");
  admin_.SetRetirement(s);
  EXPECT_TRUE(Ews(alice_).allowed());
  SetNow("2026-12-01T00:00:00Z");
  EXPECT_EQ(Ews(alice_).denial, EwsDenial::kOrganizationDisabled);
}

// Verifies the state dump names what is still propagating.
TEST_F(ExchangeAdminTest, StateShowsPendingPropagation) {
  Group("EWS Allowed", {"alice"});
  Policy("EWS Allowed", AccessRight::kRestrictAccess);
  const nlohmann::json state = admin_.StateJson();
  const auto& org = state["organizations"][0];
  ASSERT_EQ(org["applicationAccessPolicies"].size(), 1u);
  EXPECT_TRUE(org["applicationAccessPolicies"][0]["propagatesUntil"].is_string());
  clock_.Advance(hours(2));
  EXPECT_TRUE(
      admin_.StateJson()["organizations"][0]["applicationAccessPolicies"][0]["propagatesUntil"]
          .is_null());
}

}  // namespace
}  // namespace exo::mock_ews
