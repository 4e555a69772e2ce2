// The standalone mock-ews binary's key cache (RemoteJwks) on a SimulatedClock with a counting fake
// fetch, OIDC discovery against an in-process mock-aad over HTTPS, and its world-file mailboxes.
#include "internal/remote_jwks.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "../common/temp_dir.hpp"
#include "../mock-aad/aad_fixture.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/world_mailboxes.hpp"

namespace exo::mock_ews {
namespace {

using nlohmann::json;

json KeySet(std::vector<std::string> kids) {
  json keys = json::array();
  for (const auto& k : kids) keys.push_back({{"kid", k}, {"kty", "RSA"}});
  return {{"keys", keys}};
}

std::vector<std::string> Kids(const json& jwks) {
  std::vector<std::string> out;
  for (const auto& k : jwks["keys"]) out.push_back(k["kid"]);
  return out;
}

// A fetch whose answer the test sets; it counts how often it is asked.
struct FakeIssuer {
  Result<json> answer = KeySet({"k1"});
  int fetches = 0;
  JwksFetch Fetch() {
    return [this]() -> Result<json> {
      ++fetches;
      return answer;
    };
  }
};

class RemoteJwksTest : public ::testing::Test {
 protected:
  RemoteJwksPolicy Policy() {
    RemoteJwksPolicy p;
    p.min_refresh_interval = std::chrono::minutes(5);
    p.max_age = std::chrono::hours(12);
    return p;
  }
  SimulatedClock clock_;
  FakeIssuer issuer_;
  RemoteJwks keys_{issuer_.Fetch(), clock_, Policy()};
};

// Verifies that lookups of known keys are served from the cache, without fetching again.
TEST_F(RemoteJwksTest, ServesKnownKeysFromTheCache) {
  ASSERT_TRUE(keys_.Refresh().has_value());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Kids(keys_.Keys()), std::vector<std::string>{"k1"});
    EXPECT_EQ(Kids(keys_.KeysFor("k1")), std::vector<std::string>{"k1"});
  }
  EXPECT_EQ(issuer_.fetches, 1);
}

// Verifies that a token naming a kid the cache does not have (the issuer rotated) fetches again.
TEST_F(RemoteJwksTest, FetchesAgainWhenATokenNamesAnUnknownKid) {
  ASSERT_TRUE(keys_.Refresh().has_value());
  issuer_.answer = KeySet({"k1", "k2"});
  EXPECT_EQ(Kids(keys_.KeysFor("k2")), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(issuer_.fetches, 2);
}

// Verifies that made-up kids cause at most one fetch per refresh interval of the clock.
TEST_F(RemoteJwksTest, FetchesForUnknownKidsAtMostOncePerInterval) {
  ASSERT_TRUE(keys_.Refresh().has_value());
  for (int i = 0; i < 50; ++i) keys_.KeysFor("made-up-" + std::to_string(i));
  EXPECT_EQ(issuer_.fetches, 2);
  clock_.Advance(std::chrono::minutes(4));
  keys_.KeysFor("made-up");
  EXPECT_EQ(issuer_.fetches, 2);
  clock_.Advance(std::chrono::minutes(1));
  keys_.KeysFor("made-up");
  EXPECT_EQ(issuer_.fetches, 3);
}

// Verifies that an issuer outage keeps the cached keys in service.
TEST_F(RemoteJwksTest, KeepsServingCachedKeysWhenAFetchFails) {
  ASSERT_TRUE(keys_.Refresh().has_value());
  issuer_.answer = Fail(ErrorCategory::kTransient, "JwksFetchFailed", "down");
  EXPECT_FALSE(keys_.Refresh().has_value());
  EXPECT_EQ(Kids(keys_.KeysFor("k2")), std::vector<std::string>{"k1"});
  ASSERT_TRUE(keys_.last_error().has_value());
  EXPECT_EQ(keys_.last_error()->code, "JwksFetchFailed");
}

// Verifies that when the start-up fetch failed, the first token's lookup fetches at once.
TEST_F(RemoteJwksTest, FetchesOnTheFirstLookupAfterAFailedStartUp) {
  issuer_.answer = Fail(ErrorCategory::kTransient, "JwksFetchFailed", "down");
  EXPECT_FALSE(keys_.Refresh().has_value());
  EXPECT_TRUE(keys_.Keys()["keys"].empty());
  EXPECT_EQ(issuer_.fetches, 2);
  issuer_.answer = KeySet({"k1"});
  EXPECT_TRUE(keys_.Keys()["keys"].empty()) << "within the interval: no new fetch";
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(Kids(keys_.Keys()), std::vector<std::string>{"k1"});
  EXPECT_EQ(issuer_.fetches, 3);
}

// Verifies that keys older than max_age are refreshed on the next lookup.
TEST_F(RemoteJwksTest, RefreshesKeysOlderThanTheMaximumAge) {
  ASSERT_TRUE(keys_.Refresh().has_value());
  issuer_.answer = KeySet({"k2"});
  clock_.Advance(std::chrono::hours(11));
  EXPECT_EQ(Kids(keys_.Keys()), std::vector<std::string>{"k1"});
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(Kids(keys_.Keys()), std::vector<std::string>{"k2"});
  EXPECT_EQ(issuer_.fetches, 2);
}

class OidcFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    aad::MockAadOptions options;
    options.ca_dir = ca_dir_.path();
    options.world = aad::test::TestWorld();
    options.threads = 2;
    auto aad = aad::MockAad::Start(options, clock_, &clock_);
    ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
    aad_ = std::move(*aad);
    source_.authority = "https://127.0.0.1:" + std::to_string(aad_->port());
    source_.tenant_id = aad::test::kTenantId;
    source_.ca_file = aad_->ca_file();
  }
  SimulatedClock clock_;
  exo::testing::TempDir ca_dir_;
  std::unique_ptr<aad::MockAad> aad_;
  OidcSource source_;
};

// Verifies that discovery then jwks_uri over verified HTTPS yields the issuer's published keys.
TEST_F(OidcFetchTest, FetchesTheIssuersKeysThroughDiscovery) {
  auto jwks = FetchOidcJwks(source_);
  ASSERT_TRUE(jwks.has_value()) << jwks.error().Describe();
  EXPECT_EQ(Kids(*jwks), Kids(aad_->Jwks()));
}

// Verifies that the harness CA can be trusted beside the system store.
TEST_F(OidcFetchTest, TrustsTheHarnessCaBesideTheSystemStore) {
  source_.also_system_store = true;
  auto jwks = FetchOidcJwks(source_);
  ASSERT_TRUE(jwks.has_value()) << jwks.error().Describe();
}

// Verifies that a server whose CA is not trusted is refused, naming the verification error.
TEST_F(OidcFetchTest, RefusesAnUntrustedCertificate) {
  source_.ca_file.clear();  // the system store does not know the harness CA
  auto jwks = FetchOidcJwks(source_);
  ASSERT_FALSE(jwks.has_value());
  EXPECT_EQ(jwks.error().category, ErrorCategory::kTransient);
  EXPECT_NE(jwks.error().message.find("not trusted"), std::string::npos) << jwks.error().message;
}

// Verifies that an unknown tenant is a configuration error carrying Entra's description.
TEST_F(OidcFetchTest, ReportsAnUnknownTenantAsAConfigurationError) {
  source_.tenant_id = "00000000-0000-4000-8000-000000000000";
  auto jwks = FetchOidcJwks(source_);
  ASSERT_FALSE(jwks.has_value());
  EXPECT_EQ(jwks.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(jwks.error().http_status, 400);
}

// Verifies that every world user gets a mailbox and "mailboxes" entries add shared ones.
TEST(WorldMailboxesTest, CreatesAMailboxPerUserAndPerMailboxesEntry) {
  SimulatedClock clock;
  SeededRandom random(1);
  MailboxStore store(clock, random);
  json world = aad::test::TestWorld();
  world["mailboxes"] = {{{"organization", aad::test::kTenantId},
                         {"smtp", "support@contoso.com"},
                         {"displayName", "Support"},
                         {"shared", true}}};
  auto seeded = SeedFromWorld(world, store);
  ASSERT_TRUE(seeded.has_value()) << seeded.error().Describe();
  EXPECT_EQ(seeded->tenant_ids, std::vector<std::string>{aad::test::kTenantId});
  EXPECT_EQ(seeded->smtp.back(), "support@contoso.com");
  auto support = store.ResolveMailbox("support@contoso.com", MailboxKey::kSmtpAddress);
  ASSERT_TRUE(support.has_value());
  EXPECT_EQ(support->kind, MailboxKind::kShared);
  EXPECT_EQ(store.ListMailboxes(aad::test::kTenantId).size(), seeded->smtp.size());
}

// Verifies that a malformed entry is refused with its position in the file.
TEST(WorldMailboxesTest, NamesTheOffendingEntry) {
  SimulatedClock clock;
  SeededRandom random(1);
  MailboxStore store(clock, random);
  auto seeded =
      SeedFromWorld(json{{"mailboxes", {{{"organization", aad::test::kTenantId}}}}}, store);
  ASSERT_FALSE(seeded.has_value());
  EXPECT_EQ(seeded.error().code, "InvalidWorld");
  EXPECT_EQ(seeded.error().message, "mailboxes[0]: no \"smtp\"");
}

// Verifies that a member the world format does not have, or one of another type, is refused
// naming it, and creates no mailbox: mock-ews reads the file mock-aad reads, with the same shape.
TEST(WorldMailboxesTest, RefusesUnknownMembersAndWrongTypes) {
  struct Case {
    json world;
    std::string message;
  };
  json shared_as_text = aad::test::TestWorld();
  shared_as_text["mailboxes"] = {{{"organization", aad::test::kTenantId},
                                  {"smtp", "support@contoso.com"},
                                  {"shared", "yes"}}};
  json typo = aad::test::TestWorld();
  typo["mailbox"] = json::array();
  json user_typo = aad::test::TestWorld();
  user_typo["tenants"][0]["users"][0]["mail"] = "admin@contoso.com";
  json display_name_number = aad::test::TestWorld();
  display_name_number["tenants"][0]["users"][0]["displayName"] = 7;
  const Case cases[] = {
      {typo, "the world: unknown key 'mailbox' (known: tenants, settings, mailboxes)"},
      {shared_as_text, "mailboxes[0]: shared is true or false"},
      {user_typo, "tenants[0].users[0]: unknown key 'mail'"},
      {display_name_number, "tenants[0].users[0]: displayName is a string, not a number"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    SimulatedClock clock;
    SeededRandom random(1);
    MailboxStore store(clock, random);
    auto seeded = SeedFromWorld(c.world, store);
    ASSERT_FALSE(seeded.has_value());
    EXPECT_EQ(seeded.error().code, "InvalidWorld");
    EXPECT_EQ(seeded.error().message.rfind(c.message, 0), 0u) << seeded.error().message;
    EXPECT_TRUE(store.ListOrganizations().empty());
  }
}

}  // namespace
}  // namespace exo::mock_ews
