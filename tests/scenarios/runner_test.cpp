// The runner end to end on small scenarios: mail handed on simulated time, a failed expectation
// reported with its place, a step that must fail, and determinism under one seed.
#include "exo/scenarios/runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace exo::scenarios {
namespace {

using ::testing::HasSubstr;

Scenario Parse(const std::string& text) {
  auto s = ParseScenario(text, "inline.jsonc");
  EXPECT_TRUE(s.has_value()) << s.error().Describe();
  return s ? *s : Scenario{};
}

const std::string kWorld = R"("world": {"apps": [{"name": "daemon"}],
                                        "mailboxes": ["monitor@contoso.com"]})";

// Verifies mail delivered along the timeline is handed once each, in order, on simulated time.
TEST(ScenarioRunnerTest, HandsMailOnSimulatedTime) {
  const Scenario s = Parse(R"({"name": "happy", "seed": 3, )" + kWorld + R"(,
    "timeline": [
      {"at": "+1m", "deliver": "A"},
      {"at": "+90m", "deliver": {"subject": "B", "count": 2}},
      {"at": "+3h", "expect": {"phase": "healthy", "error": null, "handed": ["A", "B 1", "B 2"],
                               "unread": {"monitor@contoso.com": 0}}}
    ]})");
  const ScenarioResult r = RunScenario(s);
  EXPECT_TRUE(r.passed) << r.failures.front() << "\n" << r.transcript;
  EXPECT_EQ(r.simulated, std::chrono::hours(3));
  EXPECT_THAT(r.transcript, HasSubstr("scenario happy seed 3"));
  EXPECT_THAT(r.transcript, HasSubstr("+00:02:00 handed \"A\""));
}

// Verifies a wrong expectation fails the scenario with the step's place and what differed.
TEST(ScenarioRunnerTest, FailedExpectationNamesThePlace) {
  const Scenario s = Parse(R"({"name": "wrong", )" + kWorld + R"(,
    "timeline": [{"at": "+1m", "deliver": "A"},
                 {"at": "+5m", "expect": {"handed": ["B"], "tokenRequests": 9}}]})");
  const ScenarioResult r = RunScenario(s);
  ASSERT_FALSE(r.passed);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_THAT(r.failures[0], HasSubstr("at +00:05:00 timeline[1].expect: handed [\"A\"], want [\"B\"]"));
  EXPECT_THAT(r.failures[1], HasSubstr("token requests, want 9"));
}

// Verifies mustFail: a step that must fail passes when it fails as said, and fails otherwise.
TEST(ScenarioRunnerTest, MustFail) {
  const Scenario ok = Parse(R"({"name": "lease", )" + kWorld + R"(,
    "timeline": [{"at": "+1m", "secondProject": {"owner": "b:2:ProjectB"},
                  "mustFail": {"code": "LeaseHeld", "messageContains": "ProjectA"}}]})");
  const ScenarioResult r = RunScenario(ok);
  EXPECT_TRUE(r.passed) << r.failures.front();
  const Scenario wrong = Parse(R"({"name": "nofail", )" + kWorld + R"(,
    "timeline": [{"at": "+1m", "deliver": "A", "mustFail": true}]})");
  const ScenarioResult w = RunScenario(wrong);
  ASSERT_FALSE(w.passed);
  EXPECT_THAT(w.failures.front(), HasSubstr("succeeded, but the scenario says it must fail"));
}

// Verifies a value captured from a control answer feeds a later step, and an unknown {{name}}
// fails its step instead of being sent as text.
TEST(ScenarioRunnerTest, CapturedVariablesAndUnknownOnes) {
  const Scenario s = Parse(R"({"name": "vars", )" + kWorld + R"(,
    "timeline": [
      {"at": "+1m", "control": {"server": "aad", "method": "POST", "path": "/_exo/keys/rotate"},
       "capture": {"kid": "signer"}},
      {"at": "+2m", "control": {"server": "aad", "method": "GET", "path": "/_exo/state"},
       "output": {"signer": "{{kid}}"}},
      {"at": "+3m", "powershell": "Get-Mailbox -Identity {{nobody}}"}
    ]})");
  const ScenarioResult r = RunScenario(s);
  ASSERT_EQ(r.failures.size(), 1u) << r.transcript;
  EXPECT_THAT(r.failures[0], HasSubstr("timeline[2].powershell"));
  EXPECT_THAT(r.failures[0], HasSubstr("{{nobody}}"));
  EXPECT_THAT(r.transcript, HasSubstr("captured {{kid}}"));
}

// Verifies two runs of one scenario under one seed give byte-identical transcripts, including
// back-off, a PowerShell policy change and its propagation.
TEST(ScenarioRunnerTest, TranscriptIsDeterministic) {
  const Scenario s = Parse(R"({"name": "twice", "seed": 42,
    "world": {"apps": [{"name": "daemon", "secrets": [{"name": "s", "expires": "+30m"}]}],
              "mailboxes": ["monitor@contoso.com"],
              "groups": [{"name": "Allowed", "smtp": "allowed@contoso.com", "members": []}]},
    "admin": ["New-ApplicationAccessPolicy -AppId {{daemon.appId}} -PolicyScopeGroupId allowed@contoso.com -AccessRight RestrictAccess -Description x"],
    "timeline": [{"at": "+1m", "deliver": "A"}, {"at": "+20m", "deliver": "B"},
                 {"at": "+90m", "rotateSecret": "daemon"}, {"at": "+2h", "deliver": "C"}],
    "end": "+3h"})");
  const ScenarioResult a = RunScenario(s);
  const ScenarioResult b = RunScenario(s);
  EXPECT_EQ(a.transcript, b.transcript);
  EXPECT_THAT(a.transcript, HasSubstr("backing-off"));
}

}  // namespace
}  // namespace exo::scenarios
