// The runner on statements that need no server: the script semantics (stop at the first
// failure, --continue-on-error, -ErrorAction), variables, credentials and output streams.
#include "exo/exo_admin/runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace exo::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class NoTerminal final : public Prompter {
 public:
  std::optional<std::string> ReadLine(const std::string&) override { return std::nullopt; }
  std::optional<std::string> ReadSecret(const std::string&) override { return std::nullopt; }
};

struct ScriptRun {
  int failures = 0;
  std::string out, err;
};

ScriptRun RunScript(const std::string& script, RunnerOptions options = {}) {
  NoTerminal prompter;
  std::ostringstream out, err;
  std::istringstream in(script);
  Runner runner(options, prompter, out, err, RealClock::Instance());
  ScriptRun r;
  r.failures = runner.Run(in);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Verifies a typo glued to its value fails the line with PowerShell's error and the hint, and
// stops the script. (The seed's own typo, on an Exchange cmdlet, needs a connection: the e2e test
// and BindTest cover it.)
TEST(RunnerTest, TypoFailsAndStops) {
  const ScriptRun r = RunScript(
      "Install-Module -NameExchangeOnlineManagement\n"
      "Write-Output after\n");
  EXPECT_EQ(r.failures, 1);
  EXPECT_THAT(r.err, HasSubstr("Install-Module : A parameter cannot be found that matches "
                               "parameter name 'NameExchangeOnlineManagement'.\n"
                               "At line:1 char:16\n"));
  EXPECT_THAT(r.err, HasSubstr("exo-admin: did you mean -Name ExchangeOnlineManagement?"));
  EXPECT_THAT(r.out, Not(HasSubstr("after")));
}

// Verifies --continue-on-error runs the rest and still counts every failure.
TEST(RunnerTest, ContinueOnErrorCountsFailures) {
  RunnerOptions o;
  o.continue_on_error = true;
  const ScriptRun r = RunScript("Get-Nothing\nSet-ExecutionPolicy Sometimes\nWrite-Output after\n", o);
  EXPECT_EQ(r.failures, 2);
  EXPECT_THAT(r.err, HasSubstr("The term 'Get-Nothing' is not recognized"));
  EXPECT_THAT(r.err, HasSubstr("At line:2 char:1"));
  EXPECT_EQ(r.out, "after\n");
}

// Verifies the seed's module lines are quiet no-ops and Set-ExecutionPolicy shows its prompt.
TEST(RunnerTest, ModuleLinesAreNoOps) {
  const ScriptRun r = RunScript(
      "Set-ExecutionPolicy RemoteSigned\n"
      "Install-Module -Name ExchangeOnlineManagement\n"
      "Import-Module ExchangeOnlineManagement\n");
  EXPECT_EQ(r.failures, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("Execution Policy Change"));
  EXPECT_EQ(RunScript("Set-ExecutionPolicy RemoteSigned -Force\n").err, "");
  EXPECT_EQ(RunScript("Install-Module NoSuchModule\n").failures, 1);
}

// Verifies variables, member access, expansion and hashtables.
TEST(RunnerTest, VariablesAndExpansion) {
  const ScriptRun r = RunScript(
      "$g = @{Name='EvenUsers'; Members=@('a','b')}\n"
      "$n = $g.Name\n"
      "\"group $n has $($g.Members.Count) members\"\n"
      "'no $n here'\n"
      "$g.Missing\n");
  EXPECT_EQ(r.failures, 0) << r.err;
  EXPECT_EQ(r.out, "group EvenUsers has 2 members\nno $n here\n");
}

// Verifies Get-Credential takes the user and password from the options and never prints the
// password; a credential prints as PowerShell's PSCredential table.
TEST(RunnerTest, CredentialFromOptions) {
  RunnerOptions o;
  o.user = "admin@contoso.onmicrosoft.com";
  o.password = "S3cret-pw";
  const ScriptRun r = RunScript("$lc = Get-Credential\n$lc.UserName\n$lc\n", o);
  EXPECT_EQ(r.failures, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("admin@contoso.onmicrosoft.com\n"));
  EXPECT_THAT(r.out, HasSubstr("UserName"));
  EXPECT_THAT(r.out, HasSubstr("System.Security.SecureString"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("S3cret-pw")));
}

// Verifies a credential with no password and no terminal fails with what to do.
TEST(RunnerTest, NoPasswordNoTerminal) {
  RunnerOptions o;
  o.user = "admin@contoso.onmicrosoft.com";
  const ScriptRun r = RunScript("$lc = Get-Credential\n", o);
  EXPECT_EQ(r.failures, 1);
  EXPECT_THAT(r.err, HasSubstr("EXO_ADMIN_PASSWORD"));
}

// Verifies -ErrorAction governs cmdlet errors but not binding errors.
TEST(RunnerTest, ErrorAction) {
  EXPECT_EQ(RunScript("Install-Module Nope -ErrorAction SilentlyContinue\n").failures, 0);
  EXPECT_EQ(RunScript("Install-Module Nope -ErrorAction SilentlyContinue\n").err, "");
  const ScriptRun cont = RunScript("Install-Module Nope -ErrorAction Continue\nWrite-Output next\n");
  EXPECT_EQ(cont.failures, 0);
  EXPECT_THAT(cont.err, HasSubstr("NoMatchFoundForCriteria"));
  EXPECT_EQ(cont.out, "next\n");
  EXPECT_EQ(RunScript("Install-Module -Bogus x -ErrorAction SilentlyContinue\n").failures, 1);
}

// Verifies Exchange cmdlets do not exist before Connect-ExchangeOnline, as in PowerShell.
TEST(RunnerTest, ExchangeCmdletsNeedAConnection) {
  const ScriptRun r = RunScript("New-ServicePrincipal -AppId a -ServiceId b\n");
  EXPECT_EQ(r.failures, 1);
  EXPECT_THAT(r.err, HasSubstr("The term 'New-ServicePrincipal' is not recognized"));
  EXPECT_THAT(r.err, HasSubstr("exo-admin: Exchange Online cmdlets exist only after Connect-ExchangeOnline"));
  const ScriptRun g = RunScript("New-MgApplication -DisplayName x\n");
  EXPECT_THAT(g.err, HasSubstr("Authentication needed. Please call Connect-MgGraph."));
  const ScriptRun c = RunScript("Connect-ExchangeOnline -UserPrincipalName a@b -ShowBanner:$false\n");
  EXPECT_EQ(c.failures, 1);
}

// Verifies continuation lines and multi-line hashtables run as one statement, and errors name
// the physical line.
TEST(RunnerTest, MultiLineStatements) {
  const ScriptRun r = RunScript(
      "Write-Output `\n"
      "  one\n"
      "$h = @{\n"
      "  A = 1\n"
      "  B = 'two'\n"
      "}\n"
      "$h.B\n"
      "Write-Output x `\n"
      "  -Bogus\n");
  EXPECT_EQ(r.out, "one\ntwo\n");
  EXPECT_EQ(r.failures, 1);
  EXPECT_THAT(r.err, HasSubstr("At line:9 char:3\n+   -Bogus\n"));
}

// Verifies --json prints each object as one JSON line and keeps host text off standard output.
TEST(RunnerTest, JsonOutput) {
  RunnerOptions o;
  o.json = true;
  const ScriptRun r = RunScript("Write-Output @{A=1; B='x'}\nWrite-Host hello\n", o);
  EXPECT_EQ(r.out, "{\"A\":1,\"B\":\"x\"}\n");
  EXPECT_EQ(r.err, "hello\n");
}

}  // namespace
}  // namespace exo::admin
