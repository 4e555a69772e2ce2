// The scenario format: what parses, what is refused and how the error names the place.
#include "exo/scenarios/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace exo::scenarios
