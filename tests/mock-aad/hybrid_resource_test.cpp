// Hybrid modern authentication in the directory and the token endpoint (directory.cpp,
// token_service.cpp): on-premises Exchange URLs registered as extra servicePrincipalNames of the
// tenant's Exchange Online service principal, and tokens whose audience is such a URL.
#include <gtest/gtest.h>

#include <string>

#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

constexpr const char* kOnPremUrl = "https://mail.contoso.com";
constexpr const char* kOnPremScope = "https://mail.contoso.com/.default";

class HybridDirectoryTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  SeededRandom random_{42};
  Directory directory_{clock_, random_};
};

json HybridTenant(json spns) {
  return {{"tenants",
           {{{"id", kTenantId},
             {"displayName", kTenantName},
             {"domains", {"contoso.com"}},
             {"exchangeServicePrincipalNames", std::move(spns)}}}}};
}

// Verifies the world key loads, resolves to Exchange Online in that tenant only (any case,
// trailing slash ignored), and shows in the state dump.
TEST_F(HybridDirectoryTest, WorldSpnsNameExchangeOnlineInTheirTenant) {
  ASSERT_TRUE(directory_.Load(HybridTenant({kOnPremUrl})).has_value());
  auto tenant = directory_.FindTenant(kTenantId);
  ASSERT_TRUE(tenant.has_value());
  const Resource* r = Directory::FindResource(*tenant, "HTTPS://Mail.Contoso.com/");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->app_id, kExchangeOnlineAppId);
  EXPECT_EQ(Directory::FindResource(kOnPremUrl), nullptr);  // not a global name
  Tenant other;
  EXPECT_EQ(Directory::FindResource(other, kOnPremUrl), nullptr);
  EXPECT_EQ(directory_.Dump()["tenants"][0]["exchangeServicePrincipalNames"],
            json::array({kOnPremUrl}));
}

// Verifies an entry that is not an absolute http(s) URL is refused and the world is unchanged.
TEST_F(HybridDirectoryTest, RejectsSpnThatIsNotAUrl) {
  ASSERT_TRUE(directory_.Load(HybridTenant({kOnPremUrl})).has_value());
  for (const json& bad : {json::array({"mail.contoso.com"}), json::array({42}), json("x")}) {
    auto r = directory_.Load(HybridTenant(bad));
    ASSERT_FALSE(r.has_value()) << bad.dump();
    EXPECT_EQ(r.error().code, "InvalidWorld");
  }
  EXPECT_EQ(directory_.FindTenant(kTenantId)->exchange_spns, std::vector<std::string>{kOnPremUrl});
}

// Verifies the in-process setter replaces the list, Merge adds without duplicates, and an unknown
// tenant is kNotFound.
TEST_F(HybridDirectoryTest, SetReplacesAndMergeAdds) {
  ASSERT_TRUE(directory_.Load(HybridTenant(json::array())).has_value());
  ASSERT_TRUE(directory_.SetExchangeServicePrincipalNames(kTenantId, {kOnPremUrl}).has_value());
  ASSERT_TRUE(
      directory_.Merge(HybridTenant({"https://MAIL.contoso.com/", "https://owa.contoso.com"}))
          .has_value());
  EXPECT_EQ(directory_.FindTenant(kTenantId)->exchange_spns,
            (std::vector<std::string>{kOnPremUrl, "https://owa.contoso.com"}));
  auto bad = directory_.SetExchangeServicePrincipalNames(kTenantId, {"not a url"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().category, ErrorCategory::kConfiguration);
  auto unknown = directory_.SetExchangeServicePrincipalNames("contoso.org", {kOnPremUrl});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().category, ErrorCategory::kNotFound);
  ASSERT_TRUE(directory_.SetExchangeServicePrincipalNames(kTenantId, {}).has_value());
  EXPECT_TRUE(directory_.FindTenant(kTenantId)->exchange_spns.empty());
}

class HybridTokenTest : public AadTest {};

// Verifies that without the SPN a request for the on-premises URL is AADSTS500011 invalid_resource
// naming the URL, as Entra answers before hybrid modern authentication is configured.
TEST_F(HybridTokenTest, OnPremisesScopeWithoutSpnIsResourceNotFound) {
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret, kOnPremScope)), 400,
                 "invalid_resource", 500011,
                 std::string("The resource principal named ") + kOnPremUrl +
                     " was not found in the tenant named " + kTenantName + ".");
}

// Verifies that with the SPN the token is a v1 Exchange token whose aud is the on-premises URL
// and whose roles are the app's Exchange Online consent.
TEST_F(HybridTokenTest, OnPremisesScopeWithSpnGetsExchangeToken) {
  ASSERT_TRUE(aad_->directory().SetExchangeServicePrincipalNames(kTenantId, {kOnPremUrl}));
  const json c = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret, kOnPremScope)));
  EXPECT_EQ(c["aud"], kOnPremUrl);
  EXPECT_EQ(c["ver"], "1.0");
  EXPECT_EQ(c["iss"], std::string("https://sts.windows.net/") + kTenantId + "/");
  EXPECT_EQ(c["appid"], kDaemonAppId);
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
  // The Exchange Online audience is unchanged.
  const json exo = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(exo["aud"], kExoResource);
}

// Verifies the v1 endpoint's resource parameter and the world file reach the same resource, and
// that an app without Exchange consent gets no roles for it.
TEST_F(HybridTokenTest, V1ResourceAndWorldFileSpn) {
  json world = TestWorld();
  world["tenants"][0]["exchangeServicePrincipalNames"] = {kOnPremUrl};
  StartServer(world);
  const json v1 = ExpectToken(Token({{"grant_type", "client_credentials"},
                                     {"client_id", kDaemonAppId},
                                     {"client_secret", kDaemonSecret},
                                     {"resource", kOnPremUrl}},
                                    {}, kTenantId, /*v2=*/false));
  EXPECT_EQ(v1["aud"], kOnPremUrl);
  EXPECT_EQ(v1["roles"], json::array({"full_access_as_app"}));
  const json reporter =
      ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret, kOnPremScope)));
  EXPECT_EQ(reporter["aud"], kOnPremUrl);
  EXPECT_FALSE(reporter.contains("roles"));
}

}  // namespace
}  // namespace exo::aad::test
