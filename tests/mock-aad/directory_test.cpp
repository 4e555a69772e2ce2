// The directory (directory.cpp) on its own: world loading and validation, relative times,
// lookups, administration and secret generation, on a SimulatedClock without a server.
#include "exo/mock_aad/directory.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

using std::chrono::hours;

class DirectoryTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  SeededRandom random_{42};
  Directory directory_{clock_, random_};
};

json Tenant(json fields) {
  json t = {{"id", kTenantId}, {"displayName", kTenantName}, {"domains", {"contoso.com"}}};
  for (const auto& [k, v] : fields.items()) t[k] = v;
  return t;
}

json App(json fields) {
  json a = {{"appId", kDaemonAppId}, {"displayName", kDaemonName}};
  for (const auto& [k, v] : fields.items()) a[k] = v;
  return a;
}

json WorldWith(json tenant) { return {{"tenants", json::array({std::move(tenant)})}}; }

// Verifies the test world loads and every lookup (GUID or domain, any case) finds it.
TEST_F(DirectoryTest, LoadsWorldAndFindsByGuidOrDomain) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  for (const char* name : {kTenantId, "3F6C2A8E-91B4-4D7A-8E15-2B9C7D4E6F01", "contoso.com",
                           "CONTOSO.onmicrosoft.com"}) {
    SCOPED_TRACE(name);
    auto t = directory_.FindTenant(name);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->id, kTenantId);
    EXPECT_EQ(t->domains.front(), "contoso.onmicrosoft.com");
  }
  EXPECT_FALSE(directory_.FindTenant("fabrikam.com").has_value());
  auto app = directory_.FindApplication("contoso.com", "6A1B2C3D-4E5F-4A7B-8C9D-0E1F2A3B4C5D");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->sp_object_id, kDaemonSpId);
  EXPECT_EQ(app->passwords.size(), 1u);
  EXPECT_EQ(app->keys.size(), 1u);
  ASSERT_EQ(app->grants.size(), 1u);
  EXPECT_EQ(app->grants[0].resource_app_id, kExchangeOnlineAppId);
  EXPECT_EQ(app->grants[0].app_role_id, kFullAccessAsAppRoleId);
  auto user = directory_.FindUser(kTenantId, "ADMIN@contoso.onmicrosoft.com");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->password_hash, Directory::HashSecret(kAdminPassword));
  auto disabled = directory_.FindApplication(kTenantId, kDisabledAppId);
  ASSERT_TRUE(disabled.has_value());
  EXPECT_FALSE(disabled->enabled);
}

// Verifies each malformed world is refused with a message naming the problem, and the
// directory keeps the world it had.
TEST_F(DirectoryTest, RejectsBadWorldAndKeepsTheCurrentOne) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  const json before = directory_.Dump();

  struct Case {
    json world;
    std::string message;
  };
  const std::vector<Case> cases = {
      {json::array(), "the world is a JSON object"},
      {json{{"tenants", "contoso"}}, "tenants must be an array"},
      {WorldWith(Tenant({{"id", "contoso"}})), "tenant id 'contoso' is not a GUID"},
      {WorldWith(Tenant({{"domains", {"contoso"}}})), "each domain is a DNS name"},
      {WorldWith(Tenant({{"users", {{{"userPrincipalName", "admin"}, {"password", "x"}}}}})),
       "userPrincipalName must be user@domain"},
      {WorldWith(Tenant({{"users", {{{"userPrincipalName", "a@contoso.com"}}}}})),
       "user a@contoso.com needs a password"},
      {WorldWith(Tenant({{"applications", {App({{"appId", "daemon"}})}}})),
       "appId 'daemon' is not a GUID"},
      {WorldWith(Tenant({{"applications", {App({{"displayName", ""}})}}})),
       "displayName is required"},
      {WorldWith(Tenant({{"applications", {App({}), App({})}}})),
       std::string("an application with appId ") + kDaemonAppId + " exists"},
      {WorldWith(Tenant(
           {{"applications",
             {App({{"passwordCredentials", {{{"secretText", "s"}, {"endDateTime", "soon"}}}}})}}})),
       "endDateTime 'soon' is neither ISO 8601 nor like +90d"},
      {WorldWith(Tenant({{"applications",
                          {App({{"passwordCredentials",
                                 {{{"secretText", "s"},
                                   {"startDateTime", "+2d"},
                                   {"endDateTime", "+1d"}}}}})}}})),
       "endDateTime must be after startDateTime"},
      {WorldWith(Tenant(
           {{"applications", {App({{"keyCredentials", {{{"certificatePem", "garbage"}}}}})}}})),
       "certificatePem is not a PEM certificate"},
      {WorldWith(
           Tenant({{"applications",
                    {App({{"appRoleAssignments",
                           {{{"resource", kExoResource}, {"appRole", "Sites.Read.All"}}}}})}}})),
       "has no application permission 'Sites.Read.All'"},
      {json{{"settings", {{"tokenLifetimeSeconds", 10}}}},
       "settings.tokenLifetimeSeconds must be at least 60"},
      {json{{"settings", {{"tokenLifetime", 3600}}}}, "unknown setting 'tokenLifetime'"},
      // A member the format does not have is a typo, not something to skip: the world would
      // load without what the file meant to declare.
      {json{{"tenant", json::array()}},
       "the world: unknown key 'tenant' (known: tenants, settings, mailboxes)"},
      {WorldWith(Tenant({{"apps", json::array()}})), "tenants[0]: unknown key 'apps'"},
      {WorldWith(Tenant({{"users",
                          {{{"userPrincipalName", "a@contoso.com"},
                            {"password", "x"},
                            {"role", "Global Administrator"}}}}})),
       "tenants[0].users[0]: unknown key 'role'"},
      {WorldWith(Tenant({{"applications", {App({{"secrets", json::array()}})}}})),
       "tenants[0].applications[0]: unknown key 'secrets'"},
      {WorldWith(Tenant(
           {{"applications",
             {App({{"passwordCredentials", {{{"secretText", "s"}, {"expires", "+1d"}}}}})}}})),
       "tenants[0].applications[0].passwordCredentials[0]: unknown key 'expires'"},
      {WorldWith(Tenant(
           {{"applications",
             {App({{"appRoleAssignments", {{{"resource", kExoResource}, {"role", "x"}}}}})}}})),
       "tenants[0].applications[0].appRoleAssignments[0]: unknown key 'role'"},
      // A member of another type than the format's is an error, never the member's default.
      {WorldWith(Tenant({{"applications", {App({{"appId", json::array({1})}})}}})),
       "tenants[0].applications[0]: appId is a string, not an array"},
      {WorldWith(Tenant({{"displayName", 5}})),
       "tenants[0]: displayName is a string, not a number"},
      {WorldWith(Tenant({{"users", "admin"}})), "tenants[0].users must be an array"},
      {WorldWith(Tenant({{"users",
                          {{{"userPrincipalName", "a@contoso.com"},
                            {"password", "x"},
                            {"accountEnabled", "no"}}}}})),
       "tenants[0].users[0]: accountEnabled is true or false"},
      {WorldWith(Tenant({{"applications", {App({{"servicePrincipal", "yes"}})}}})),
       "tenants[0].applications[0]: servicePrincipal is true or false"},
      {WorldWith(Tenant({{"applications",
                          {App({{"passwordCredentials", {{{"secretText", 42}}}}})}}})),
       "tenants[0].applications[0].passwordCredentials[0]: secretText is a string, not a number"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.world.dump());
    auto r = directory_.Load(c.world);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_TRUE(r.error().code == "InvalidWorld" || r.error().code == "NotFound") << r.error().code;
    EXPECT_EQ(directory_.Dump(), before);
  }
  EXPECT_TRUE(directory_.FindApplication(kTenantId, kDaemonAppId).has_value());
}

// Verifies a failing Merge also changes nothing, even when its error comes after valid parts.
TEST_F(DirectoryTest, FailedMergeChangesNothing) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  const json before = directory_.Dump();
  const json world = {
      {"tenants",
       {{{"id", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"},
         {"applications",
          {{{"appId", "7f8e9d0c-1b2a-4394-8576-a6b5c4d3e2f1"}, {"displayName", "Fine"}},
           {{"appId", "bad"}, {"displayName", "Broken"}}}}}}}};
  ASSERT_FALSE(directory_.Merge(world).has_value());
  EXPECT_EQ(directory_.Dump(), before);
  EXPECT_FALSE(directory_.FindTenant("0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b").has_value());
}

// Verifies merging users into an existing tenant adds them without inventing a domain for it.
TEST_F(DirectoryTest, MergeIntoExistingTenantKeepsItsDomains) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  const json world = {
      {"tenants",
       {{{"id", kTenantId},
         {"users", {{{"userPrincipalName", "meg@contoso.com"}, {"password", "Pw-1"}}}}}}}};
  ASSERT_TRUE(directory_.Merge(world).has_value());
  auto t = directory_.FindTenant(kTenantId);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->domains, (std::vector<std::string>{"contoso.onmicrosoft.com", "contoso.com"}));
  EXPECT_EQ(t->users.size(), 2u);
  EXPECT_TRUE(directory_.FindUser(kTenantId, "meg@contoso.com").has_value());
}

// Verifies a new tenant without domains gets a default initial domain.
TEST_F(DirectoryTest, NewTenantWithoutDomainsGetsDefaultDomain) {
  ASSERT_TRUE(directory_.Load(json{{"tenants", {{{"id", kTenantId}}}}}).has_value());
  auto t = directory_.FindTenant("tenant3f6c2a8e.onmicrosoft.com");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->domains, std::vector<std::string>{"tenant3f6c2a8e.onmicrosoft.com"});
  EXPECT_EQ(t->display_name, "Tenant 3f6c2a8e");
}

// Verifies a domain already verified in one tenant cannot be claimed by another.
TEST_F(DirectoryTest, RejectsDomainClaimedByAnotherTenant) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  const json before = directory_.Dump();
  const json world = {{"tenants",
                       {{{"id", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"},
                         {"domains", {"fabrikam.com", "Contoso.com"}}}}}};
  auto r = directory_.Merge(world);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("domain contoso.com already belongs to tenant " +
                                   std::string(kTenantId)),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(directory_.Dump(), before);
  EXPECT_EQ(directory_.FindTenant("contoso.com")->id, kTenantId);
}

// Verifies relative times ("-1d", "+90d", "+30m") resolve against the clock at load time and
// absolute ISO 8601 times are kept as given.
TEST_F(DirectoryTest, ResolvesRelativeTimesAtLoad) {
  clock_.Advance(hours(5));
  const SystemTime now = clock_.Now();
  const json world = WorldWith(
      Tenant({{"applications",
               {App({{"passwordCredentials",
                      {{{"secretText", "a"}, {"startDateTime", "-1d"}, {"endDateTime", "+90d"}},
                       {{"secretText", "b"},
                        {"startDateTime", "2026-01-01T00:00:00Z"},
                        {"endDateTime", "+30m"}}}}})}}}));
  ASSERT_TRUE(directory_.Load(world).has_value());
  clock_.Advance(hours(1));  // later reads must not move them
  auto app = directory_.FindApplication(kTenantId, kDaemonAppId);
  ASSERT_TRUE(app.has_value());
  ASSERT_EQ(app->passwords.size(), 2u);
  EXPECT_EQ(app->passwords[0].start, now - hours(24));
  EXPECT_EQ(app->passwords[0].end, now + hours(24 * 90));
  EXPECT_EQ(app->passwords[1].start, *ParseIso8601("2026-01-01T00:00:00Z"));
  EXPECT_EQ(app->passwords[1].end, now + std::chrono::minutes(30));
  const json dump = directory_.Dump();
  const json& pw = dump["tenants"][0]["applications"][0]["passwordCredentials"][0];
  EXPECT_EQ(pw["startDateTime"], FormatIso8601(now - hours(24)));
  EXPECT_EQ(pw["endDateTime"], FormatIso8601(now + hours(24 * 90)));
}

// Verifies a secret added without an end date lasts two years, as Graph's addPassword does.
TEST_F(DirectoryTest, AddPasswordDefaultsToTwoYears) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  auto s = directory_.AddPassword(kTenantId, kReporterAppId, json::object());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->start, clock_.Now());
  EXPECT_EQ(s->end, clock_.Now() + hours(24 * 730));
  EXPECT_EQ(s->hint, s->secret_text.substr(0, 3));
  auto app = directory_.FindApplication(kTenantId, kReporterAppId);
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->passwords.back().secret_hash, Directory::HashSecret(s->secret_text));
  EXPECT_EQ(app->passwords.back().created, clock_.Now());
}

// Verifies generated secrets have the current Entra shape: 40 URL-unreserved characters, a
// version digit, then "Q~" at index 4.
TEST_F(DirectoryTest, GeneratesSecretsInEntraFormat) {
  const std::regex shape("^[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{34}$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string s = directory_.GenerateSecretText();
    ASSERT_EQ(s.size(), 40u) << s;
    EXPECT_EQ(s.substr(4, 2), "Q~") << s;
    EXPECT_TRUE(std::regex_match(s, shape)) << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 200u);
}

// Verifies secrets are kept as the hex SHA-256 of their text.
TEST_F(DirectoryTest, HashesSecretsWithSha256) {
  EXPECT_EQ(Directory::HashSecret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Verifies the built-in resources are found by app id, identifier URI (any case, trailing slash)
// or display name, and nothing else.
TEST_F(DirectoryTest, FindsBuiltInResources) {
  for (const char* name :
       {kExchangeOnlineAppId, "https://outlook.office365.com", "HTTPS://OUTLOOK.OFFICE365.COM/",
        "Office 365 Exchange Online", "https://outlook.office.com"}) {
    SCOPED_TRACE(name);
    const Resource* r = Directory::FindResource(name);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->app_id, kExchangeOnlineAppId);
    EXPECT_EQ(r->token_version, 1);
  }
  const Resource* graph = Directory::FindResource("https://graph.microsoft.com/");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(graph->app_id, kGraphAppId);
  EXPECT_EQ(Directory::FindResource("https://outlook.office365.com.evil.example"), nullptr);
  EXPECT_EQ(Directory::FindResource(""), nullptr);
  EXPECT_TRUE(Directory::IsFirstPartyPublicClient("FB78D390-0C51-40CD-8E17-FDBFAB77341B"));
  EXPECT_FALSE(Directory::IsFirstPartyPublicClient(kDaemonAppId));
}

// Verifies consent by role value or role id, idempotently, and revocation.
TEST_F(DirectoryTest, GrantsAndRevokesAppRoles) {
  ASSERT_TRUE(directory_.Load(TestWorld()).has_value());
  auto g1 = directory_.GrantAppRole(kTenantId, kReporterAppId, "Office 365 Exchange Online",
                                    "full_access_as_app");
  ASSERT_TRUE(g1.has_value());
  auto g2 = directory_.GrantAppRole(kTenantId, kReporterAppId, kExchangeOnlineAppId,
                                    kFullAccessAsAppRoleId);
  ASSERT_TRUE(g2.has_value());
  EXPECT_EQ(g1->id, g2->id);
  EXPECT_EQ(directory_.FindApplication(kTenantId, kReporterAppId)->grants.size(), 1u);
  ASSERT_TRUE(
      directory_.RevokeAppRole(kTenantId, kReporterAppId, kExoResource, "full_access_as_app")
          .has_value());
  EXPECT_TRUE(directory_.FindApplication(kTenantId, kReporterAppId)->grants.empty());
  auto again =
      directory_.RevokeAppRole(kTenantId, kReporterAppId, kExoResource, "full_access_as_app");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().category, ErrorCategory::kNotFound);
}

// Verifies settings parse from JSON on top of a base and round-trip through ToJson.
TEST_F(DirectoryTest, ParsesSettings) {
  auto s = Settings::FromJson(
      json{{"secretPropagationSeconds", 300}, {"throttleLimit", 5}, {"throttlePlainBody", true}},
      Settings{});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->secret_propagation, std::chrono::seconds(300));
  EXPECT_EQ(s->throttle_limit, 5u);
  EXPECT_TRUE(s->throttle_plain_body);
  EXPECT_EQ(s->token_lifetime, std::chrono::seconds(3600));
  auto back = Settings::FromJson(s->ToJson(), Settings{});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ToJson(), s->ToJson());
  EXPECT_FALSE(Settings::FromJson(json{{"secretPropagationSeconds", -1}}, Settings{}).has_value());
}

// Verifies the default world has one Global Administrator with the given password.
TEST_F(DirectoryTest, DefaultWorldHasOneAdmin) {
  ASSERT_TRUE(directory_.Load(Directory::DefaultWorld("Pw-123")).has_value());
  auto user = directory_.FindUser(kDefaultTenantId, std::string("admin@") + kDefaultTenantDomain);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->password_hash, Directory::HashSecret("Pw-123"));
  EXPECT_EQ(user->roles, std::vector<std::string>{"Global Administrator"});
}

}  // namespace
}  // namespace exo::aad::test
