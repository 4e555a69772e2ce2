// The admin API (POST /adminapi/beta/{tenant}/InvokeCommand) end to end: mock-aad tokens (the
// Exchange Online PowerShell client's password grant, client credentials) over HTTPS against
// mock-ews on one simulated clock; every cmdlet, the seed's lines, the wire shapes of answers and
// errors, authentication and bad input. Then EWS honouring an RBAC grant made through it.
#include <gtest/gtest.h>

#include "ews_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using ojson = nlohmann::ordered_json;
using std::chrono::minutes;

constexpr const char* kExoPowerShell = "fb78d390-0c51-40cd-8e17-fdbfab77341b";
constexpr const char* kHelpdeskUpn = "helpdesk@contoso.com";  // no directory role
constexpr const char* kExchangeAdminUpn = "exadmin@contoso.com";
constexpr const char* kUserPassword = "Harness-User-Pa55!";
constexpr const char* kOutside = "outside@contoso.com";
constexpr const char* kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>";

class AdminApiTest : public EwsTest {
 protected:
  void SetUp() override {
    EwsTest::SetUp();
    if (HasFatalFailure()) return;
    aad::Directory& dir = aad_->directory();
    ASSERT_TRUE(
        dir.AddUser(kTenantId, {{"userPrincipalName", kHelpdeskUpn}, {"password", kUserPassword}})
            .has_value());
    ASSERT_TRUE(dir.AddUser(kTenantId, {{"userPrincipalName", kExchangeAdminUpn},
                                        {"password", kUserPassword},
                                        {"roles", {"Exchange Administrator"}}})
                    .has_value());
    // The reporter app becomes the automation app: Exchange.ManageAsApp only.
    ASSERT_TRUE(dir.GrantAppRole(kTenantId, aad::test::kReporterAppId, aad::test::kExoResource,
                                 "Exchange.ManageAsApp")
                    .has_value());
    MailboxSpec outside;
    outside.organization_id = kTenantId;
    outside.primary_smtp_address = kOutside;
    ASSERT_TRUE(ews_->store().CreateMailbox(outside).has_value());
    admin_token_ = UserToken(aad::test::kAdminUpn, aad::test::kAdminPassword);
    ASSERT_FALSE(admin_token_.empty());
  }

  // Connect-ExchangeOnline -Credential: the password grant of the module's public client.
  std::string UserToken(const std::string& upn, const std::string& password) {
    const HttpReply r =
        Send(*aad_client_, "POST", std::string("/") + kTenantId + "/oauth2/v2.0/token",
             aad::test::EncodeParams({{"client_id", kExoPowerShell},
                                      {"grant_type", "password"},
                                      {"username", upn},
                                      {"password", password},
                                      {"scope", aad::test::kExoScope}}),
             aad::test::kFormType);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("access_token", std::string());
  }

  HttpReply InvokeRaw(const std::string& body, const std::string& token,
                      const std::string& path = {}, httplib::Headers headers = {}) {
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    headers.emplace("X-ResponseFormat", "json");
    return Send(*ews_client_, "POST",
                path.empty() ? std::string("/adminapi/beta/") + kTenantId + "/InvokeCommand" : path,
                body, "application/json", headers);
  }

  static std::string Body(const std::string& cmdlet, const json& parameters) {
    return json{{"CmdletInput", {{"CmdletName", cmdlet}, {"Parameters", parameters}}}}.dump();
  }

  // One cmdlet as the Global Administrator.
  HttpReply Invoke(const std::string& cmdlet, const json& parameters = json::object(),
                   const std::string& token = {}) {
    return InvokeRaw(Body(cmdlet, parameters), token.empty() ? admin_token_ : token);
  }

  // The cmdlet's output objects; fails the test unless it answered 200.
  json Run(const std::string& cmdlet, const json& parameters = json::object()) {
    const HttpReply r = Invoke(cmdlet, parameters);
    EXPECT_EQ(r.status, 200) << cmdlet << ": " << r.body;
    return r.Json().value("value", json::array());
  }

  // details[0].message of an OData cmdlet error: "<ErrorId>|<exception type>|<text>".
  static std::string Detail(const HttpReply& r) {
    const json j = r.Json();
    if (j.is_discarded() || !j.contains("error") || !j["error"].contains("details")) return {};
    return j["error"]["details"][0].value("message", "");
  }

  std::size_t MailboxCount() { return ews_->store().ListMailboxes(kTenantId).size(); }

  std::string admin_token_;
};

// Verifies the seed's lines run as the real module sends them and answer as the service does:
// New-ServicePrincipal with the deprecated -ServiceId, a RestrictAccess policy with a Description,
// and Test-ApplicationAccessPolicy Granted for a member of the group and Denied for others.
TEST_F(AdminApiTest, SeedLinesRestrictTheAppToTheGroup) {
  const json sp = Run("New-ServicePrincipal", {{"AppId", aad::test::kDaemonAppId},
                                               {"ServiceId", aad::test::kDaemonSpId},
                                               {"DisplayName", aad::test::kDaemonName}});
  ASSERT_EQ(sp.size(), 1u);
  EXPECT_EQ(sp[0]["AppId"], aad::test::kDaemonAppId);
  EXPECT_EQ(sp[0]["ObjectId"], aad::test::kDaemonSpId);
  EXPECT_EQ(sp[0]["DisplayName"], aad::test::kDaemonName);

  const json group =
      Run("New-DistributionGroup",
          {{"Name", "EWS Monitored"}, {"Type", "Security"}, {"Members", {kMonitor}}});
  ASSERT_EQ(group.size(), 1u);
  EXPECT_EQ(group[0]["GroupType"], "Universal, SecurityEnabled");
  EXPECT_EQ(group[0]["RecipientTypeDetails"], "MailUniversalSecurityGroup");

  const HttpReply created = Invoke(
      "New-ApplicationAccessPolicy",
      {{"AppId", aad::test::kDaemonAppId},
       {"PolicyScopeGroupId", "EWS Monitored"},
       {"AccessRight", "RestrictAccess"},
       {"Description", "Restrict this app to members of distribution group EWS Monitored."}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("Content-Type"), kODataJson);
  EXPECT_EQ(created.Header("OData-Version"), "4.0");
  EXPECT_FALSE(created.Header("request-id").empty());
  EXPECT_FALSE(created.Header("X-CalculatedBETarget").empty());
  // The captured key order of the envelope and of the policy object.
  const ojson answer = ojson::parse(created.body);
  std::vector<std::string> keys;
  for (auto it = answer.begin(); it != answer.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"@odata.context", "adminapi.warnings@odata.type",
                                            "@adminapi.warnings", "value"}));
  EXPECT_TRUE(answer["@odata.context"].get<std::string>().ends_with(
      std::string("/adminapi/beta/") + kTenantId +
      "/$metadata#Collection(Exchange.GenericHashTable)"));
  const ojson& policy = answer["value"][0];
  std::vector<std::string> fields;
  for (auto it = policy.begin(); it != policy.end(); ++it) fields.push_back(it.key());
  EXPECT_EQ(fields, (std::vector<std::string>{"ScopeName", "ScopeIdentity", "Identity", "AppId",
                                              "ScopeIdentityRaw", "Description", "AccessRight",
                                              "ShardType", "IsValid", "ObjectState"}));
  EXPECT_EQ(policy["AccessRight"], "RestrictAccess");
  EXPECT_EQ(policy["ScopeName"], "EWS Monitored");
  EXPECT_TRUE(policy["Identity"].get<std::string>().starts_with(
      std::string(kTenantId) + "\\" + aad::test::kDaemonAppId + ":S-1-5-21-"));

  const json granted = Run("Test-ApplicationAccessPolicy",
                           {{"Identity", kMonitor}, {"AppId", aad::test::kDaemonAppId}});
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_EQ(granted[0]["AccessCheckResult"], "Granted");
  EXPECT_EQ(granted[0]["Mailbox"], "monitor");
  const json denied = Run("Test-ApplicationAccessPolicy",
                          {{"Identity", kOutside}, {"AppId", aad::test::kDaemonAppId}});
  EXPECT_EQ(denied[0]["AccessCheckResult"], "Denied");
}

// Verifies New-Mailbox (user and -Shared), Get-/Set-/Remove-Mailbox, New-MailUser and
// Get-Recipient with their output objects, annotations included.
TEST_F(AdminApiTest, MailboxesAndRecipients) {
  const json shared = Run(
      "New-Mailbox",
      {{"Name", "Support Desk"}, {"Shared", true}, {"PrimarySmtpAddress", "support@contoso.com"}});
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0]["Name"], "Support Desk");
  EXPECT_EQ(shared[0]["RecipientTypeDetails"], "SharedMailbox");
  EXPECT_EQ(shared[0]["IsShared"], true);
  EXPECT_EQ(shared[0]["ExchangeGuid@data.type"], "System.Guid");
  EXPECT_EQ(shared[0]["ExchangeGuid@odata.type"], "#Guid");
  EXPECT_EQ(shared[0]["EmailAddresses@odata.type"], "#Collection(String)");
  EXPECT_EQ(shared[0]["EmailAddresses"], json({"SMTP:support@contoso.com"}));
  ASSERT_TRUE(ews_->store().ResolveMailbox("support@contoso.com").has_value());

  const json user = Run("New-Mailbox", {{"Name", "Ada Lovelace"},
                                        {"MicrosoftOnlineServicesID", "ada@contoso.com"},
                                        {"Password", "RSA-blob-as-the-module-sends-it"}});
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0]["UserPrincipalName"], "ada@contoso.com");
  EXPECT_EQ(user[0]["RecipientTypeDetails"], "UserMailbox");

  const json by_name = Run("get-mailbox", {{"identity", "Ada Lovelace"}});
  ASSERT_EQ(by_name.size(), 1u);
  EXPECT_EQ(by_name[0]["PrimarySmtpAddress"], "ada@contoso.com");
  EXPECT_EQ(Run("Get-Mailbox").size(), 4u);  // monitor, outside, support, ada
  EXPECT_EQ(Run("Get-Mailbox", {{"RecipientTypeDetails", "SharedMailbox"}}).size(), 1u);

  const HttpReply set = Invoke(
      "Set-Mailbox",
      {{"Identity", "ada@contoso.com"}, {"CustomAttribute1", "finance"}, {"Confirm", false}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["value"], json::array());
  EXPECT_EQ(Run("Get-Mailbox", {{"Identity", "ada@contoso.com"}})[0]["CustomAttribute1"],
            "finance");
  // The same value again changes nothing and says so.
  const HttpReply again =
      Invoke("Set-Mailbox", {{"Identity", "ada@contoso.com"}, {"CustomAttribute1", "finance"}});
  ASSERT_EQ(again.status, 200);
  ASSERT_EQ(again.Json()["@adminapi.warnings"].size(), 1u);
  EXPECT_NE(again.Json()["@adminapi.warnings"][0].get<std::string>().find("modified"),
            std::string::npos);

  const json mail_user =
      Run("New-MailUser", {{"Name", "Onprem User"},
                           {"ExternalEmailAddress", "onprem@contoso.mail.onmicrosoft.com"},
                           {"PrimarySmtpAddress", "onprem@contoso.com"}});
  ASSERT_EQ(mail_user.size(), 1u);
  EXPECT_EQ(mail_user[0]["RecipientTypeDetails"], "MailUser");
  EXPECT_EQ(mail_user[0]["ExternalEmailAddress"], "SMTP:onprem@contoso.mail.onmicrosoft.com");

  const json users =
      Run("Get-Recipient", {{"RecipientTypeDetails", {"MailUser", "SharedMailbox"}}});
  EXPECT_EQ(users.size(), 2u);
  const json one = Run("Get-Recipient", {{"Identity", "onprem@contoso.com"}});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["IsValidSecurityPrincipal"], true);

  const HttpReply removed =
      Invoke("Remove-Mailbox", {{"Identity", "support@contoso.com"}, {"Confirm", false}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE(ews_->store().ResolveMailbox("support@contoso.com").has_value());
}

// Verifies New-DistributionGroup, Add-/Remove-/Get-DistributionGroupMember and their errors.
TEST_F(AdminApiTest, GroupsAndMembers) {
  Run("New-DistributionGroup", {{"Name", "Finance"}, {"Type", "Security"}});
  EXPECT_EQ(
      Invoke("Add-DistributionGroupMember", {{"Identity", "Finance"}, {"Member", kMonitor}}).status,
      200);
  const HttpReply twice =
      Invoke("Add-DistributionGroupMember", {{"Identity", "Finance"}, {"Member", kMonitor}});
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(Detail(twice).find("MemberAlreadyExistsException|"), std::string::npos);
  const json members = Run("Get-DistributionGroupMember", {{"Identity", "Finance"}});
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0]["PrimarySmtpAddress"], kMonitor);
  EXPECT_EQ(Invoke("Remove-DistributionGroupMember",
                   {{"Identity", "Finance"}, {"Member", kMonitor}, {"Confirm", false}})
                .status,
            200);
  EXPECT_TRUE(Run("Get-DistributionGroupMember", {{"Identity", "Finance"}}).empty());
  const json plain = Run("New-DistributionGroup", {{"Name", "Newsletter"}});
  EXPECT_EQ(plain[0]["GroupType"], "Universal");
}

// Verifies the service principal and access policy cmdlets: Get/Set/Remove, the generated
// Description, and removal of a service principal.
TEST_F(AdminApiTest, ServicePrincipalsAndAccessPolicies) {
  Run("New-ServicePrincipal",
      {{"AppId", aad::test::kDaemonAppId}, {"ObjectId", aad::test::kDaemonSpId}});
  EXPECT_EQ(Run("Get-ServicePrincipal").size(), 1u);
  EXPECT_EQ(Run("Get-ServicePrincipal", {{"Identity", aad::test::kDaemonAppId}}).size(), 1u);

  const json policy = Run("New-ApplicationAccessPolicy", {{"AppId", {aad::test::kDaemonAppId}},
                                                          {"PolicyScopeGroupId", kMonitor},
                                                          {"AccessRight", "DenyAccess"}});
  ASSERT_EQ(policy.size(), 1u);
  const std::string description = policy[0]["Description"];
  EXPECT_TRUE(description.starts_with(std::string("AppId: ") + aad::test::kDaemonAppId +
                                      ";\n ScopeIdentitySid: S-1-5-21-"))
      << description;
  EXPECT_TRUE(description.ends_with(";\n AccessRight: DenyAccess; ShardType: All")) << description;
  const std::string identity = policy[0]["Identity"];
  EXPECT_EQ(Run("Get-ApplicationAccessPolicy").size(), 1u);
  EXPECT_EQ(Invoke("Set-ApplicationAccessPolicy",
                   {{"Identity", identity}, {"Description", "Keep the daemon out of monitor."}})
                .status,
            200);
  EXPECT_EQ(Run("Get-ApplicationAccessPolicy", {{"Identity", identity}})[0]["Description"],
            "Keep the daemon out of monitor.");
  EXPECT_EQ(
      Run("Test-ApplicationAccessPolicy",
          {{"Identity", kMonitor}, {"AppId", aad::test::kDaemonAppId}})[0]["AccessCheckResult"],
      "Denied");
  EXPECT_EQ(Invoke("Remove-ApplicationAccessPolicy", {{"Identity", identity}}).status, 200);
  EXPECT_TRUE(Run("Get-ApplicationAccessPolicy").empty());

  EXPECT_EQ(Invoke("Remove-ServicePrincipal", {{"Identity", aad::test::kDaemonSpId}}).status, 200);
  EXPECT_TRUE(Run("Get-ServicePrincipal").empty());
}

// Verifies RBAC for Applications through the API: scope, assignment -App, Test-ServicePrincipal-
// Authorization with and without -Resource, and removal.
TEST_F(AdminApiTest, RbacForApplications) {
  Run("New-ServicePrincipal", {{"AppId", kReaderAppId},
                               {"ObjectId", "11111111-2222-4333-8444-555555555555"},
                               {"DisplayName", "Contoso Mail Reader"}});
  const json scope = Run("New-ManagementScope",
                         {{"Name", "Finance mailboxes"},
                          {"RecipientRestrictionFilter", "CustomAttribute1 -eq 'finance'"}});
  ASSERT_EQ(scope.size(), 1u);
  EXPECT_EQ(scope[0]["ScopeRestrictionType"], "RecipientScope");
  EXPECT_EQ(scope[0]["Exclusive"], false);
  EXPECT_EQ(scope[0]["ServerFilter"], "");
  EXPECT_EQ(Run("Get-ManagementScope").size(), 1u);

  const json assignment =
      Run("New-ManagementRoleAssignment", {{"App", kReaderAppId},
                                           {"Role", "Application Mail.Read"},
                                           {"CustomResourceScope", "Finance mailboxes"}});
  ASSERT_EQ(assignment.size(), 1u);
  EXPECT_EQ(assignment[0]["RoleAssigneeType"], "ServicePrincipal");
  EXPECT_EQ(assignment[0]["RoleAssigneeName"], "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(assignment[0]["AssignmentMethod"], "Direct");
  EXPECT_EQ(Run("Get-ManagementRoleAssignment", {{"RoleAssignee", kReaderAppId}}).size(), 1u);

  const json not_run = Run("Test-ServicePrincipalAuthorization", {{"Identity", kReaderAppId}});
  ASSERT_EQ(not_run.size(), 1u);
  EXPECT_EQ(not_run[0]["RoleName"], "Application Mail.Read");
  EXPECT_EQ(not_run[0]["GrantedPermissions"], "Mail.Read");
  EXPECT_EQ(not_run[0]["ScopeType"], "CustomRecipientScope");
  EXPECT_EQ(not_run[0]["InScope"], "Not Run");
  EXPECT_EQ(Run("Test-ServicePrincipalAuthorization",
                {{"Identity", kReaderAppId}, {"Resource", kMonitor}})[0]["InScope"],
            "False");

  // A scope in use cannot go; the assignment first.
  EXPECT_EQ(Invoke("Remove-ManagementScope", {{"Identity", "Finance mailboxes"}}).status, 400);
  const std::string name = assignment[0]["Name"];
  EXPECT_EQ(Invoke("Remove-ManagementRoleAssignment", {{"Identity", name}}).status, 200);
  EXPECT_EQ(Invoke("Remove-ManagementScope", {{"Identity", "Finance mailboxes"}}).status, 200);
  EXPECT_TRUE(Run("Get-ManagementRoleAssignment").empty());
}

// Verifies Set-/Get-OrganizationConfig (EwsEnabled, EwsAllowedAppIDs only with
// -RetrieveEwsOperationAccessPolicy, $null) and Set-/Get-CASMailbox -EwsEnabled.
TEST_F(AdminApiTest, EwsSettings) {
  json config = Run("Get-OrganizationConfig");
  ASSERT_EQ(config.size(), 1u);
  EXPECT_TRUE(config[0]["EwsEnabled"].is_null());
  EXPECT_FALSE(config[0].contains("EwsAllowedAppIDs"));
  EXPECT_EQ(Invoke("Set-OrganizationConfig",
                   {{"EwsEnabled", true}, {"EwsAllowedAppIDs", aad::test::kDaemonAppId}})
                .status,
            200);
  config = Run("Get-OrganizationConfig", {{"RetrieveEwsOperationAccessPolicy", true}});
  EXPECT_EQ(config[0]["EwsEnabled"], true);
  EXPECT_EQ(config[0]["EwsAllowedAppIDs"], aad::test::kDaemonAppId);
  EXPECT_EQ(Invoke("Set-OrganizationConfig", {{"EwsAllowedAppIDs", nullptr}}).status, 200);
  config = Run("Get-OrganizationConfig", {{"RetrieveEwsOperationAccessPolicy", true}});
  EXPECT_TRUE(config[0]["EwsAllowedAppIDs"].is_null());

  EXPECT_EQ(Run("Get-CASMailbox", {{"Identity", kMonitor}})[0]["EwsEnabled"], true);
  EXPECT_EQ(Invoke("Set-CASMailbox", {{"Identity", kMonitor}, {"EwsEnabled", false}}).status, 200);
  EXPECT_EQ(Run("Get-CASMailbox", {{"Identity", kMonitor}})[0]["EwsEnabled"], false);
  EXPECT_EQ(Run("Get-CASMailbox").size(), 2u);
}

// Verifies an unknown identity is the real 404: NotFound, "Error executing cmdlet", the
// Ex6F9304|ManagementObjectNotFoundException detail, and x-ExceptionType for the module.
TEST_F(AdminApiTest, UnknownIdentityIsNotFound) {
  const HttpReply r = Invoke("Get-Mailbox", {{"Identity", "nobody@contoso.com"}});
  ASSERT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), kODataJson);
  EXPECT_EQ(r.Header("x-ExceptionType"), "ManagementObjectNotFoundException");
  EXPECT_FALSE(r.Header("request-id").empty());
  EXPECT_FALSE(r.Header("Date").empty());
  const json error = r.Json()["error"];
  EXPECT_EQ(error["code"], "NotFound");
  EXPECT_EQ(error["message"], "Error executing cmdlet");
  EXPECT_EQ(error["details"][0]["code"], "Client");
  EXPECT_EQ(error["details"][0]["target"], "");
  EXPECT_TRUE(Detail(r).starts_with(
      "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The "
      "operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on '"))
      << Detail(r);
  EXPECT_EQ(error["innererror"]["type"],
            "Microsoft.Exchange.Admin.OData.Core.ODataServiceException");
  // A mail user is no mailbox.
  Run("New-MailUser", {{"Name", "Hybrid"},
                       {"ExternalEmailAddress", "hybrid@contoso.mail.onmicrosoft.com"},
                       {"PrimarySmtpAddress", "hybrid@contoso.com"}});
  EXPECT_EQ(Invoke("Get-Mailbox", {{"Identity", "hybrid@contoso.com"}}).status, 404);
  EXPECT_EQ(Invoke("Remove-ServicePrincipal", {{"Identity", kReaderAppId}}).status, 404);
}

// Verifies bad input is the binder's error as a 400 value: unknown parameter (named), a string
// for a Boolean, an array for a single value, a missing mandatory parameter, a bad enum value,
// a null mandatory argument; an unknown cmdlet is a bare 403; a body that is not JSON or has no
// CmdletName is "Invalid Operation".
TEST_F(AdminApiTest, BadInputIsRefusedAsAValue) {
  HttpReply r = Invoke("Get-Mailbox", {{"NoSuchParameter", 1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"]["code"], "BadRequest");
  EXPECT_EQ(r.Header("x-ExceptionType"), "ParameterBindingException");
  EXPECT_NE(Detail(r).find("|System.Management.Automation.ParameterBindingException|A parameter "
                           "cannot be found that matches parameter name 'NoSuchParameter'."),
            std::string::npos)
      << Detail(r);

  r = Invoke("Set-OrganizationConfig", {{"EwsEnabled", "yes"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Detail(r).find("Cannot process argument transformation on parameter 'EwsEnabled'. "
                           "Cannot convert value \"System.String\" to type \"System.Boolean\"."),
            std::string::npos)
      << Detail(r);

  r = Invoke("Get-Mailbox", {{"Identity", {kMonitor, kOutside}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Detail(r).find("Cannot convert 'System.Object[]' to the type "
                           "'Microsoft.Exchange.Configuration.Tasks.MailboxIdParameter' required "
                           "by parameter 'Identity'."),
            std::string::npos)
      << Detail(r);

  r = Invoke("New-ManagementScope", {{"RecipientRestrictionFilter", "Name -eq 'x'"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(
      Detail(r).find(
          "Cannot process command because of one or more missing mandatory parameters: Name."),
      std::string::npos)
      << Detail(r);

  r = Invoke("New-ApplicationAccessPolicy", {{"AppId", aad::test::kDaemonAppId},
                                             {"PolicyScopeGroupId", kMonitor},
                                             {"AccessRight", "AllowAccess"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Detail(r).find("Unable to match the identifier name AllowAccess"), std::string::npos);

  r = Invoke("Test-ApplicationAccessPolicy", {{"Identity", nullptr}, {"AppId", kReaderAppId}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Detail(r).find("Cannot bind argument to parameter 'Identity' because it is null."),
            std::string::npos);

  r = Invoke("Shared-Shared", {});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());

  r = InvokeRaw("{\"CmdletInput\": {\"CmdletName\": \"Get-Mailbox\"", admin_token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"]["message"], "Invalid Operation");
  r = InvokeRaw(R"({"CmdletInput": {"Parameters": {}}})", admin_token_);
  EXPECT_EQ(r.status, 400);
  r = Invoke("Get-Mailbox", json::array({"Identity"}));
  EXPECT_EQ(r.status, 400);
}

// Verifies a body over the server's limit is refused with 413 before anything runs.
TEST_F(AdminApiTest, HugeBodyIs413) {
  const std::string huge = Body(
      "Set-Mailbox", {{"Identity", kMonitor}, {"CustomAttribute1", std::string(5 << 20, 'x')}});
  EXPECT_EQ(InvokeRaw(huge, admin_token_).status, 413);
  EXPECT_EQ(Run("Get-Mailbox", {{"Identity", kMonitor}})[0]["CustomAttribute1"], "");
}

// Verifies a failed cmdlet changes nothing: a taken name or address for New-Mailbox, a policy for
// two apps of which one is malformed, a group with an unknown member, Set-Mailbox whose rename
// fails.
TEST_F(AdminApiTest, FailedCmdletChangesNothing) {
  const std::size_t mailboxes = MailboxCount();
  HttpReply r =
      Invoke("New-Mailbox",
             {{"Name", "monitor"}, {"Shared", true}, {"PrimarySmtpAddress", "other@contoso.com"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("x-ExceptionType"), "ADObjectAlreadyExistsException");
  r = Invoke("New-Mailbox",
             {{"Name", "Second Monitor"}, {"Shared", true}, {"PrimarySmtpAddress", kMonitor}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(Detail(r).starts_with(
      "ExB10BE9|Microsoft.Exchange.Management.Tasks.WLCDManagedMemberExistsException|The proxy "
      "address \"SMTP:monitor@contoso.com\" is already being used"))
      << Detail(r);
  EXPECT_EQ(MailboxCount(), mailboxes);

  r = Invoke("New-ApplicationAccessPolicy", {{"AppId", {aad::test::kDaemonAppId, "not-a-guid"}},
                                             {"PolicyScopeGroupId", kMonitor},
                                             {"AccessRight", "RestrictAccess"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(Run("Get-ApplicationAccessPolicy").empty());

  const std::size_t recipients = Run("Get-Recipient").size();
  r = Invoke(
      "New-DistributionGroup",
      {{"Name", "Broken"}, {"Type", "Security"}, {"Members", {kMonitor, "ghost@contoso.com"}}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Run("Get-Recipient").size(), recipients);

  r = Invoke("Set-Mailbox",
             {{"Identity", kOutside}, {"Name", "monitor"}, {"CustomAttribute2", "changed"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Run("Get-Mailbox", {{"Identity", kOutside}})[0]["CustomAttribute2"], "");
}

// Verifies -Confirm:$true returns the confirmation message without running the cmdlet, as the
// module's two-step confirmation expects.
TEST_F(AdminApiTest, ConfirmTrueAsksFirst) {
  const HttpReply r = Invoke("Remove-Mailbox", {{"Identity", kOutside}, {"Confirm", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["@adminapi.confirmationmessage"],
            "Performing the operation \"Remove-Mailbox\" on target \"outside@contoso.com\".");
  EXPECT_TRUE(ews_->store().ResolveMailbox(kOutside).has_value());
}

// Verifies authentication and authorization: no token (bare challenge), a token for another
// audience, an app without Exchange.ManageAsApp (401) and with it (200), a user without an
// Exchange role ("User is not allowed to call"), an Exchange Administrator (200), and the tenant
// path checked against the token.
TEST_F(AdminApiTest, AuthenticationAndRoles) {
  HttpReply r = InvokeRaw(Body("Get-Mailbox", json::object()), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.Header("WWW-Authenticate").starts_with("Bearer client_id="));
  EXPECT_TRUE(r.body.empty());

  const std::string graph = Token(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
                                  "https://graph.microsoft.com/.default");
  r = Invoke("Get-Mailbox", json::object(), graph);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.Header("x-ms-diagnostics").starts_with("2000003;")) << r.Header("x-ms-diagnostics");

  r = Invoke("Get-Mailbox", json::object(), token_);  // full_access_as_app only
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.Header("x-ms-diagnostics").starts_with("2000008;"));
  EXPECT_TRUE(r.body.empty());

  const std::string automation = Token(aad::test::kReporterAppId, aad::test::kReporterSecret);
  r = Invoke("Get-Mailbox", json::object(), automation);
  EXPECT_EQ(r.status, 200) << r.body;
  // The app-only anchor convention, and a domain as the tenant.
  r = InvokeRaw(
      Body("Get-Mailbox", {{"Identity", kMonitor}}), automation,
      "/adminapi/beta/contoso.com/InvokeCommand",
      {{"X-AnchorMailbox",
        std::string("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@") + kTenantId}});
  EXPECT_EQ(r.status, 200) << r.body;

  const std::string helpdesk = UserToken(kHelpdeskUpn, kUserPassword);
  r = Invoke("New-ServicePrincipal", {{"AppId", kReaderAppId}, {"ObjectId", kReaderAppId}},
             helpdesk);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Json()["error"]["code"], "Unauthorized");
  EXPECT_EQ(r.Json()["error"]["message"], "User is not allowed to call New-ServicePrincipal");
  EXPECT_TRUE(Run("Get-ServicePrincipal").empty());

  const std::string exadmin = UserToken(kExchangeAdminUpn, kUserPassword);
  EXPECT_EQ(Invoke("Get-Recipient", json::object(), exadmin).status, 200);

  // The tenant in the path: the user's own domain works, another tenant does not.
  r = InvokeRaw(Body("Get-OrganizationConfig", json::object()), admin_token_,
                "/AdminApi/Beta/contoso.onmicrosoft.com/invokecommand");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Json()["@odata.context"].get<std::string>().find("/contoso.onmicrosoft.com/"),
            std::string::npos);
  r = InvokeRaw(Body("Get-OrganizationConfig", json::object()), admin_token_,
                "/adminapi/beta/00000000-0000-4000-8000-000000000000/InvokeCommand");
  EXPECT_EQ(r.status, 401);
  r = InvokeRaw(Body("Get-OrganizationConfig", json::object()), admin_token_,
                "/adminapi/beta/fabrikam.com/InvokeCommand");
  EXPECT_EQ(r.status, 401);
}

// Verifies X-AnchorMailbox picks the back end: one anchor, one X-CalculatedBETarget; a malformed
// anchor is ignored, not refused.
TEST_F(AdminApiTest, AnchorMailboxRoutesConsistently) {
  const httplib::Headers anchor = {{"X-AnchorMailbox", std::string("UPN:") + aad::test::kAdminUpn}};
  const HttpReply a = InvokeRaw(Body("Get-Mailbox", json::object()), admin_token_, {}, anchor);
  const HttpReply b = InvokeRaw(Body("Get-Recipient", json::object()), admin_token_, {}, anchor);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(a.Header("X-CalculatedBETarget"), b.Header("X-CalculatedBETarget"));
  EXPECT_TRUE(a.Header("X-CalculatedBETarget").ends_with(".prod.outlook.com"));
  const HttpReply bad = InvokeRaw(Body("Get-Mailbox", json::object()), admin_token_, {},
                                  {{"X-AnchorMailbox", "not an anchor"}});
  EXPECT_EQ(bad.status, 200);
}

// Verifies paging: Prefer odata.maxpagesize gives @odata.nextLink, which answers the same body
// with the rest; a next link older than 30 minutes is the real "Expired or Invalid pagination
// request" 400.
TEST_F(AdminApiTest, PagesWithNextLinks) {
  for (const char* name : {"Group A", "Group B", "Group C"})
    Run("New-DistributionGroup", {{"Name", name}});
  const std::string body = Body("Get-Recipient", json::object());  // 2 mailboxes + 3 groups
  const httplib::Headers prefer = {{"Prefer", "odata.maxpagesize=2"}};
  HttpReply r = InvokeRaw(body, admin_token_, {}, prefer);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> names;
  std::size_t pages = 0;
  std::string first_link;
  while (true) {
    ++pages;
    const json j = r.Json();
    ASSERT_LE(j["value"].size(), 2u);
    for (const json& v : j["value"]) names.push_back(v["Name"]);
    if (!j.contains("@odata.nextLink")) break;
    const std::string link = j["@odata.nextLink"];
    const std::string path = link.substr(link.find("/adminapi/"));
    if (first_link.empty()) first_link = path;
    r = InvokeRaw(body, admin_token_, path, prefer);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(names.size(), 5u);
  clock_.Advance(minutes(31));
  const std::string fresh = UserToken(aad::test::kAdminUpn, aad::test::kAdminPassword);
  r = InvokeRaw(body, fresh, first_link, prefer);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"]["innererror"]["internalexception"]["message"],
            "Expired or Invalid pagination request. Default Expiry time is 00:30:00");
}

// Verifies $select keeps the named properties (and their annotations) only.
TEST_F(AdminApiTest, SelectNarrowsTheObjects) {
  const HttpReply r = InvokeRaw(
      Body("Get-Mailbox", {{"Identity", kMonitor}}), admin_token_,
      std::string("/adminapi/beta/") + kTenantId + "/InvokeCommand?$select=Name,ExchangeGuid");
  ASSERT_EQ(r.status, 200) << r.body;
  const json o = r.Json()["value"][0];
  EXPECT_EQ(o.size(), 4u) << o.dump();  // Name, ExchangeGuid and its two annotations
  EXPECT_EQ(o["Name"], "monitor");
}

// Verifies EWS serves an app that has no full_access_as_app but an RBAC `Application
// EWS.AccessAsApp` assignment, once its front end's RBAC cache has reloaded (30 minutes idle)
// with the mailbox in scope, and refuses a mailbox outside the scope with a bare 403.
TEST_F(AdminApiTest, EwsHonoursRbacGrantAfterPropagationAndOnlyInScope) {
  std::string reader = Token(kReaderAppId, kReaderSecret);  // roles: Mail.Read
  const std::string outside_header =
      std::string("<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>") +
      "<t:ConnectingSID><t:PrimarySmtpAddress>" + kOutside +
      "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>";
  HttpReply r = Ews(Envelope(kGetInbox), reader);
  EXPECT_EQ(r.status, 403);  // the token check: not enough scope
  EXPECT_TRUE(r.Header("x-ms-diagnostics").starts_with("2000008;"));

  Run("New-ServicePrincipal",
      {{"AppId", kReaderAppId}, {"ObjectId", "11111111-2222-4333-8444-555555555555"}});
  Run("New-ManagementScope",
      {{"Name", "EWS mailboxes"}, {"RecipientRestrictionFilter", "CustomAttribute1 -eq 'ews'"}});
  Run("New-ManagementRoleAssignment", {{"App", kReaderAppId},
                                       {"Role", "Application EWS.AccessAsApp"},
                                       {"CustomResourceScope", "EWS mailboxes"}});
  // Now the model decides: the monitor is not in scope yet (and this call loads the cache).
  r = Ews(Envelope(kGetInbox), reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.HasHeader("x-ms-diagnostics"));

  clock_.Advance(minutes(1));
  Run("Set-Mailbox", {{"Identity", kMonitor}, {"CustomAttribute1", "ews"}});
  EXPECT_EQ(Run("Test-ServicePrincipalAuthorization",
                {{"Identity", kReaderAppId}, {"Resource", kMonitor}})[0]["InScope"],
            "True");
  EXPECT_EQ(Ews(Envelope(kGetInbox), reader).status, 403);  // the front end's cache is warm
  clock_.Advance(minutes(31));
  reader = Token(kReaderAppId, kReaderSecret);
  r = Ews(Envelope(kGetInbox), reader);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Ews(Envelope(kGetInbox, outside_header), reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
}

}  // namespace
}  // namespace exo::mock_ews::test
