// The scenario format: what parses, what is refused and how the error names the place.
#include "exo/scenarios/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exo/common/time_format.hpp"

namespace exo::scenarios {
namespace {

using ::testing::HasSubstr;

constexpr const char* kMinimal = R"({
  // a comment, as scenario files have
  "name": "minimal",
  "tags": ["smoke"],
  "seed": 7,
  "world": {"apps": [{"name": "daemon"}], "mailboxes": ["monitor@contoso.com"]},
  "timeline": [
    {"at": "+65m", "expect": {"phase": "healthy"}},
    {"at": "+5m", "deliver": "Order 1"}
  ]
})";

// Verifies a minimal scenario parses, defaults are filled in and the timeline is sorted by time.
TEST(ScenarioFormatTest, MinimalScenarioParsesWithDefaults) {
  auto s = ParseScenario(kMinimal, "minimal.jsonc");
  ASSERT_TRUE(s.has_value()) << s.error().Describe();
  EXPECT_EQ(s->name, "minimal");
  EXPECT_EQ(s->seed, 7u);
  EXPECT_EQ(s->client.app, "daemon");
  EXPECT_EQ(s->client.secret, "secret1");
  EXPECT_EQ(s->client.mailbox, "monitor@contoso.com");
  ASSERT_EQ(s->timeline.size(), 2u);
  EXPECT_EQ(s->timeline[0].kind, Step::Kind::kDeliver);
  EXPECT_EQ(s->timeline[0].at, std::chrono::minutes(5));
  EXPECT_EQ(s->timeline[1].kind, Step::Kind::kExpect);
  EXPECT_EQ(s->end, std::chrono::minutes(65));
}

// Verifies a syntax error names the line and column.
TEST(ScenarioFormatTest, SyntaxErrorHasLineAndColumn) {
  auto s = ParseScenario("{\n  \"name\": \"x\",\n  \"world\": {,}\n}", "bad.jsonc");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, "ScenarioSyntax");
  EXPECT_THAT(s.error().message, HasSubstr("bad.jsonc:3:"));
}

// Verifies a typo in a key is an error naming the step and the known keys, not a silent no-op.
TEST(ScenarioFormatTest, UnknownKeyIsAnErrorWithItsPath) {
  auto s = ParseScenario(R"({"name": "x", "world": {"apps": [{"name": "a"}], "mailboxes": ["m@contoso.com"]},
    "timeline": [{"at": "+1m", "expect": {"phse": "healthy"}}]})",
                         "typo.jsonc");
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message, HasSubstr("typo.jsonc: timeline[0].expect: unknown key 'phse'"));
  EXPECT_THAT(s.error().message, HasSubstr("phase"));
}

// Verifies content errors: a bad offset, two actions in one step, a client naming no app.
TEST(ScenarioFormatTest, ContentErrorsAreNamed) {
  const std::string world = R"("world": {"apps": [{"name": "a"}], "mailboxes": ["m@contoso.com"]})";
  auto bad_at = ParseScenario(R"({"name": "x", )" + world + R"(, "timeline": [{"at": "soon", "restart": {}}]})", "f");
  ASSERT_FALSE(bad_at.has_value());
  EXPECT_THAT(bad_at.error().message, HasSubstr("timeline[0].at"));
  auto two = ParseScenario(R"({"name": "x", )" + world +
                               R"(, "timeline": [{"at": "+1m", "restart": {}, "crash": {}}]})", "f");
  ASSERT_FALSE(two.has_value());
  EXPECT_THAT(two.error().message, HasSubstr("one action per step"));
  auto app = ParseScenario(R"({"name": "x", )" + world + R"(, "client": {"app": "b"}})", "f");
  ASSERT_FALSE(app.has_value());
  EXPECT_THAT(app.error().message, HasSubstr("client.app"));
  auto fail = ParseScenario(R"({"name": "x", )" + world +
                                R"(, "timeline": [{"at": "+1m", "expect": {}, "mustFail": true}]})", "f");
  ASSERT_FALSE(fail.has_value());
  EXPECT_THAT(fail.error().message, HasSubstr("only an action can fail"));
}

// Verifies offsets in every unit and their transcript form.
TEST(ScenarioFormatTest, Offsets) {
  EXPECT_EQ(*ParseOffset("+65m"), std::chrono::minutes(65));
  EXPECT_EQ(*ParseOffset("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseOffset("+2d"), std::chrono::hours(48));
  EXPECT_EQ(*ParseOffset("1500ms"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseOffset("0"), Duration::zero());
  EXPECT_FALSE(ParseOffset("+").has_value());
  EXPECT_FALSE(ParseOffset("-5m").has_value());
  EXPECT_FALSE(ParseOffset("5 minutes").has_value());
  EXPECT_EQ(FormatOffset(std::chrono::minutes(65)), "+01:05:00");
  EXPECT_EQ(FormatOffset(std::chrono::hours(25) + std::chrono::milliseconds(5)), "+1d01:00:00.005");
}

// Verifies the world's start, mock-aad settings, mock-ews propagation and certificates, and a
// client on a certificate with its sync page size.
TEST(ScenarioFormatTest, WorldSettingsAndCertificates) {
  auto s = ParseScenario(R"({"name": "x",
    "world": {"apps": [{"name": "a", "certificates": [{"name": "c", "expires": "+30d"}]}],
              "mailboxes": ["m@contoso.com"], "start": "2027-03-31T23:00:00Z",
              "settings": {"secretPropagation": "10m", "consentPropagation": "90s"},
              "propagation": {"frontEnds": 4}},
    "client": {"certificate": "c", "syncBatch": 10}})", "f");
  ASSERT_TRUE(s.has_value()) << s.error().Describe();
  EXPECT_EQ(s->world.start, ParseIso8601("2027-03-31T23:00:00Z"));
  EXPECT_EQ(s->world.secret_propagation, std::chrono::minutes(10));
  EXPECT_EQ(s->world.consent_propagation, std::chrono::seconds(90));
  EXPECT_EQ((*s->world.exchange_propagation)["frontEnds"], 4);
  ASSERT_EQ(s->world.apps[0].certificates.size(), 1u);
  EXPECT_EQ(s->world.apps[0].certificates[0].expires, "+30d");
  EXPECT_TRUE(s->world.apps[0].secrets.empty()) << "no default secret beside a certificate";
  EXPECT_EQ(s->client.certificate, "c");
  EXPECT_EQ(s->client.sync_batch, 10);
  const std::string apps = R"("apps": [{"name": "a", "certificates": [{"name": "c"}]}], "mailboxes": ["m@contoso.com"])";
  for (const auto& [bad, where] : std::vector<std::pair<std::string, std::string>>{
           {R"({"name": "x", "world": {)" + apps + R"(, "start": "tomorrow"}})", "world.start"},
           {R"({"name": "x", "world": {)" + apps + R"(, "settings": {"secretPropagaton": "1m"}}})", "world.settings"},
           {R"({"name": "x", "world": {)" + apps + R"(, "propagation": {"frontends": 2}}})", "world.propagation"},
           {R"({"name": "x", "world": {)" + apps + R"(}, "client": {"certificate": "d"}})", "client.certificate"},
           {R"({"name": "x", "world": {)" + apps + R"(}})", "no secrets"},
           {R"({"name": "x", "world": {)" + apps + R"(}, "client": {"certificate": "c", "syncBatch": 0}})", "client.syncBatch"}}) {
    auto r = ParseScenario(bad, "f");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_THAT(r.error().message, HasSubstr(where)) << bad;
  }
}

// Verifies a client on an app the scenario makes itself: appId and secretValue together, and a
// world without apps only then.
TEST(ScenarioFormatTest, ClientOfAnAppOutsideTheWorld) {
  const std::string world = R"("world": {"apps": [], "mailboxes": ["m@contoso.com"]})";
  auto ok = ParseScenario(R"({"name": "x", )" + world +
                              R"(, "client": {"appId": "{{appId}}", "secretValue": "{{s}}"},
                                 "timeline": [{"at": "+1m", "openClient": {}}]})", "f");
  ASSERT_TRUE(ok.has_value()) << ok.error().Describe();
  EXPECT_EQ(ok->client.app_id, "{{appId}}");
  EXPECT_TRUE(ok->client.app.empty());
  auto none = ParseScenario(R"({"name": "x", )" + world + "}", "f");
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none.error().message, HasSubstr("appId and secretValue"));
  auto half = ParseScenario(R"({"name": "x", )" + world + R"(, "client": {"appId": "{{a}}"}})", "f");
  ASSERT_FALSE(half.has_value());
  EXPECT_THAT(half.error().message, HasSubstr("go together"));
  auto twice = ParseScenario(R"({"name": "x", )" + world +
                                 R"(, "client": {"appId": "a", "secretValue": "s"},
                                    "timeline": [{"at": "+1m", "openClient": {}}, {"at": "+2m", "openClient": {}}]})",
                             "f");
  ASSERT_FALSE(twice.has_value());
  EXPECT_THAT(twice.error().message, HasSubstr("one openClient step at most"));
}

// Verifies the new steps' values are checked when the file is read: control, capture, output,
// updateConfig, certificates and holdConnections.
TEST(ScenarioFormatTest, NewStepsAreValidated) {
  const std::string head =
      R"({"name": "x", "world": {"apps": [{"name": "a"}], "mailboxes": ["m@contoso.com"]}, "timeline": [)";
  auto step = [&](const std::string& s) { return ParseScenario(head + s + "]}", "f"); };
  auto good = step(R"({"at": "+1m", "control": {"server": "aad", "method": "POST", "path": "/_exo/keys/rotate"},
                       "capture": {"kid": "signer"}, "output": {"signer": "{{kid}}"}},
                      {"at": "+2m", "powershell": "$x = Get-Mailbox", "capture": {"v": "$x.Name"}},
                      {"at": "+3m", "updateConfig": {"set": {"EmailIntegrationFolder": "Orders", "EmailIntegrationEwsUrl": null}}},
                      {"at": "+4m", "addCertificate": {"app": "a", "name": "new", "expires": "+1d"}},
                      {"at": "+5m", "holdConnections": 27})");
  ASSERT_TRUE(good.has_value()) << good.error().Describe();
  EXPECT_EQ(good->timeline[0].kind, Step::Kind::kControl);
  EXPECT_EQ(good->timeline[0].capture.at("kid"), "signer");
  EXPECT_EQ(good->timeline[1].capture.at("v"), "$x.Name");
  for (const auto& [bad, where] : std::vector<std::pair<std::string, std::string>>{
           {R"({"at": "+1m", "control": {"server": "graph", "method": "GET", "path": "/"}})", "control.server"},
           {R"({"at": "+1m", "control": {"server": "aad", "method": "GOT", "path": "/"}})", "control.method"},
           {R"({"at": "+1m", "control": {"server": "aad", "method": "GET", "path": "x"}})", "control.path"},
           {R"({"at": "+1m", "control": {"server": "aad", "method": "POST", "path": "/", "body": {}, "form": {}}})", "not both"},
           {R"({"at": "+1m", "deliver": "A", "capture": {"v": "X"}})", "capture: only for"},
           {R"({"at": "+1m", "powershell": "Get-Mailbox", "capture": {"a-b": "X"}})", "capture.a-b"},
           {R"({"at": "+1m", "deliver": "A", "output": {}})", "output: only for"},
           {R"({"at": "+1m", "updateConfig": {"set": {"Folder": "x"}}})", "not an EmailIntegration"},
           {R"({"at": "+1m", "updateConfig": {"secret": "s", "certificate": "c"}})", "not both"},
           {R"({"at": "+1m", "removeCertificate": {"app": "a"}})", "needs an app and a certificate name"},
           {R"({"at": "+1m", "addCertificate": {"app": "a", "name": "c", "expire": "+1d"}})", "unknown key 'expire'"},
           {R"({"at": "+1m", "holdConnections": -1})", "holdConnections"},
           {R"({"at": "+1m", "openClient": {"now": true}})", "openClient"}}) {
    auto r = step(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_THAT(r.error().message, HasSubstr(where)) << bad;
  }
}

// Verifies the transports a scenario holds for: ews by default, a list of ews and graph (the
// first its main one), anything else or a repeat an error naming the key; client.transport is
// ews, graph or auto.
TEST(ScenarioFormatTest, TransportsAreEwsOrGraph) {
  const std::string world = R"("world": {"apps": [{"name": "a"}], "mailboxes": ["m@contoso.com"]})";
  auto parse = [&](const std::string& extra) {
    return ParseScenario("{\"name\": \"x\", " + extra + world + "}", "f");
  };
  auto plain = parse("");
  ASSERT_TRUE(plain.has_value()) << plain.error().Describe();
  EXPECT_EQ(plain->transports, std::vector<std::string>{"ews"});
  auto both = parse(R"("transports": ["graph", "ews"], "client": {"transport": "auto"}, )");
  ASSERT_TRUE(both.has_value()) << both.error().Describe();
  EXPECT_EQ(both->transports, (std::vector<std::string>{"graph", "ews"}));
  EXPECT_EQ(both->client.transport, "auto");
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {R"("transports": [], )", "name at least one"},
           {R"("transports": ["rest"], )", "'rest' is no transport"},
           {R"("transports": ["ews", "ews"], )", "named twice"},
           {R"("client": {"transport": "imap"}, )", "client.transport"}}) {
    auto r = parse(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_THAT(r.error().message, HasSubstr(why)) << bad;
  }
}

}  // namespace
}  // namespace exo::scenarios
